#!/usr/bin/env bash
# Runs every test of the project: installs what the tests need (scripts/setup.sh),
# runs the whole workspace against noida-db, then the end-to-end suite again
# against Tansu (memory) and against Tansu with SQLite (`opsline up`'s default broker),
# so that Opsline depends on the Kafka protocol, not on one broker.
set -euo pipefail
cd "$(dirname "$0")/.."
# A cold debug build of the workspace and its tests writes about 5 GB to target/ (4.9 GB
# measured with incremental compilation off, as in CI); a full disk shows up as a linker
# "Bus error" (signal 7), so say so first.
free_kb=$(df -Pk . | awk 'NR == 2 {print $4}')
if [ "${free_kb:-0}" -lt $((10 * 1024 * 1024)) ]; then
  echo "test.sh: warning: only $((free_kb / 1024 / 1024)) GB free on $(df -P . | awk 'NR == 2 {print $6}'); the build writes about 5 GB and the tests need room too (a linker 'Bus error' means the disk filled)" >&2
fi
# Incremental compilation only pays off on rebuilds; a CI run builds once.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
scripts/setup.sh
export OPSLINE_SHARED_DATA="${OPSLINE_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
status=0
echo "== cargo test --workspace (broker: noida-db)"
OPSLINE_TEST_BROKER=noida cargo test --workspace --no-fail-fast || status=1
echo "== end-to-end tests again (broker: tansu)"
OPSLINE_TEST_BROKER=tansu cargo test -p opsline-e2e --no-fail-fast || status=1
echo "== end-to-end tests again (broker: tansu-sqlite, the default of opsline up)"
OPSLINE_TEST_BROKER=tansu-sqlite cargo test -p opsline-e2e --no-fail-fast || status=1
exit $status
