#!/usr/bin/env bash
# Installs Request Tracker 5 (Debian's request-tracker5 with its SQLite driver) for the helpdesk
# end-to-end test (tests/src/rt.rs), from Debian's packages only. The tests start their own RT on a
# free port with a fresh SQLite database (rt-setup-database) and RT's standalone server (rt-server),
# so no Apache, no mail transport and no system service are needed: the packages' own database
# is left unused. Idempotent: does nothing when rt-server and the SQLite driver are there.
set -euo pipefail
if [[ -x /usr/share/request-tracker5/libexec/rt-server ]] && [[ -x /usr/sbin/rt-setup-database ]] && dpkg -s rt5-db-sqlite >/dev/null 2>&1 \
  && dpkg -s libplack-perl >/dev/null 2>&1; then
  exit 0
fi
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-rt: run as root (or install sudo)" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# dbconfig-common must not build a database at install time: the tests make their own.
echo "request-tracker5 request-tracker5/dbconfig-install boolean false" | "${sudo_cmd[@]}" debconf-set-selections
echo "request-tracker5 request-tracker5/database-type select sqlite3" | "${sudo_cmd[@]}" debconf-set-selections
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends request-tracker5 rt5-db-sqlite libplack-perl >/dev/null
echo "install-rt: request-tracker5 (rt-server, rt-setup-database, SQLite) installed"
