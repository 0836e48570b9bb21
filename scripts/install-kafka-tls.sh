#!/usr/bin/env bash
# Installs what Kafka over TLS and SASL needs, from the registries only:
#   - Debian's OpenSSL headers (libssl-dev, pkg-config): rdkafka's `ssl` feature builds
#     librdkafka against the system OpenSSL. librdkafka supports no other TLS library, so this
#     is the one exception to the workspace's rustls-only rule. SCRAM needs only OpenSSL (no
#     cyrus-sasl; GSSAPI is not built).
#   - Tansu 0.6.0 with its SQLite engine (crates.io `tansu --features libsql`) ->
#     .opsline/bin/tansu-libsql, for the end-to-end TLS + SCRAM test. The memory-only Tansu
#     of install-brokers.sh cannot hold SCRAM users: `tansu user create` speaks no SASL, a
#     broker started with --authentication refuses every unauthenticated request but
#     ApiVersions and the SASL handshake, and its SASL offers no PLAIN to bootstrap with. With
#     SQLite the test creates the users on an open broker, stops it and restarts the same
#     file with --authentication. The build takes about 28 minutes on 2 cores; set
#     OPSLINE_SKIP_TANSU_LIBSQL=1 to skip it (the TLS + SCRAM test then fails saying so).
# Needs root (CI runs as root) or sudo for the Debian packages. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! dpkg -s libssl-dev >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-kafka-tls: run as root (or install sudo)" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends libssl-dev pkg-config >/dev/null
  echo "install-kafka-tls: libssl-dev and pkg-config installed"
fi
bin="$root/.opsline/bin"
if [[ ! -x "$bin/tansu-libsql" && -z "${OPSLINE_SKIP_TANSU_LIBSQL:-}" ]]; then
  build="$root/.opsline/cache/tansu-libsql"
  echo "install-kafka-tls: building tansu 0.6.0 with libsql (crates.io; about 28 minutes) -> $bin/tansu-libsql"
  mkdir -p "$bin" "$build"
  nice -n 10 cargo install --quiet tansu --version 0.6.0 --features libsql --root "$build"
  cp "$build/bin/tansu" "$bin/tansu-libsql.tmp" && mv "$bin/tansu-libsql.tmp" "$bin/tansu-libsql"
  echo "installed tansu-libsql -> $bin/tansu-libsql"
fi
