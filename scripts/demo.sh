#!/usr/bin/env bash
# The main job: installs what is needed, builds, starts every service in one
# process on an embedded noida-db broker, replays sample data from
# ../shared/data through the gateway and prints what happened.
# Extra arguments go to `opsline up --demo` (see `opsline up --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
OPSLINE_LLM_MODELS=all scripts/setup.sh
cargo run --quiet -p opsline-cli --bin opsline -- up --demo "$@"
