#!/usr/bin/env bash
# Benchmarks Drain3 (Python) on the same files as `bench_logs`, printing the same JSON fields.
# Usage: bench/drain3/run.sh [--lines N] FILES...   (default 1,000,000 lines: Drain3 mines
# roughly 10-30k lines/s, so 10M lines would take many minutes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet drain3
fi
exec "$venv/bin/python" "$here/bench_drain3.py" "$@"
