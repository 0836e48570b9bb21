#!/usr/bin/env bash
# Runs every test of the project: installs what the tests need (scripts/setup.sh),
# runs the whole workspace against noida-db, then the end-to-end suite again
# against Tansu (memory) and against Tansu with SQLite (`opsline up`'s default broker),
# so that Opsline depends on the Kafka protocol, not on one broker.
set -euo pipefail
cd "$(dirname "$0")/.."
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
