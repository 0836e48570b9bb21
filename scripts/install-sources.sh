#!/usr/bin/env bash
# Installs the real log and alert clients the source tests drive, from the registries only:
#   - the OpenTelemetry Python SDK with its OTLP/HTTP protobuf exporter (PyPI) -> .opsline/venv-otel
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
