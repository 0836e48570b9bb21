#!/usr/bin/env bash
# Installs the real log and alert clients the source tests drive, from the registries only:
#   - the OpenTelemetry Python SDK with its OTLP/HTTP exporter (PyPI) -> .opsline/venv-otel
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
