#!/usr/bin/env bash
# Installs the real log and alert clients the source tests drive, from the registries only:
#   - the OpenTelemetry Python SDK with its OTLP/HTTP protobuf exporter (PyPI) -> .opsline/venv-otel
#   - util-linux logger and rsyslog with its OpenSSL driver (Debian) -> the syslog senders
#   - Prometheus Alertmanager (Debian prometheus-alertmanager) -> the alert sender
#   - the OpenTelemetry JavaScript SDK with its OTLP/HTTP JSON exporter (npm, versions locked in
#     tests/clients/package-lock.json) -> tests/clients/node_modules
# Idempotent: does nothing when they are already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.opsline/venv-otel"
OTEL_VERSION=1.45.2
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import opentelemetry.exporter.otlp.proto.http" 2>/dev/null; then
  echo "install-sources: OpenTelemetry SDK $OTEL_VERSION (PyPI) -> $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "opentelemetry-sdk==$OTEL_VERSION" "opentelemetry-exporter-otlp-proto-http==$OTEL_VERSION"
fi
clients="$root/tests/clients"
if [[ ! -d "$clients/node_modules/@opentelemetry/exporter-logs-otlp-http" ]]; then
  echo "install-sources: OpenTelemetry JavaScript SDK (npm) -> $clients/node_modules"
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
fi
# util-linux's `logger` (Debian bsdutils) and rsyslog (Debian), the syslog senders, and
# Prometheus Alertmanager (Debian prometheus-alertmanager), the alert sender.
if ! command -v logger >/dev/null 2>&1 || ! { command -v rsyslogd >/dev/null 2>&1 || [[ -x /usr/sbin/rsyslogd ]]; } \
  || ! command -v prometheus-alertmanager >/dev/null 2>&1 || ! dpkg -s rsyslog-openssl >/dev/null 2>&1; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-sources: run as root (or install sudo)" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends bsdutils rsyslog rsyslog-openssl prometheus-alertmanager >/dev/null
  # The packages may start the system's services; the tests run their own.
  "${sudo_cmd[@]}" service rsyslog stop >/dev/null 2>&1 || true
  "${sudo_cmd[@]}" service prometheus-alertmanager stop >/dev/null 2>&1 || true
  echo "install-sources: logger, rsyslogd and prometheus-alertmanager installed"
fi
