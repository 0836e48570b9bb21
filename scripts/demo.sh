#!/usr/bin/env bash
# The main job: installs what is needed, builds, starts every service in one
# process on an embedded broker, replays sample data from ../shared/data
# through the gateway and prints what happened.
# The demo runs on Tansu (memory): it empties its broker at every start anyway, and the
# persistent default, noida-db, keeps both cores busy while idle (see `opsline bench idle`),
# which starved the local model (measured: 0 summaries in 240 s on noida-db, the first after
# 48.6 s on Tansu). `opsline up` without --demo uses Tansu with SQLite (data kept on disk).
# Extra arguments go to `opsline up --demo` (see `opsline up --help`; `--broker noida` to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
OPSLINE_LLM_MODELS=all scripts/setup.sh
cargo run --quiet -p opsline-cli --bin opsline -- up --demo --broker tansu "$@"
