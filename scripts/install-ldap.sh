#!/usr/bin/env bash
# Installs OpenLDAP's slapd and the ldap-utils client tools from Debian's packages,
# non-interactively (no debconf questions; the packaged default directory is not used:
# scripts/start-ldap.sh runs a private slapd with its own configuration and data).
# Needs root (CI runs as root) or sudo. Idempotent: does nothing when slapd is installed.
set -euo pipefail
if command -v slapd >/dev/null 2>&1 || [[ -x /usr/sbin/slapd ]]; then
  exit 0
fi
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-ldap: run as root (or install sudo)" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Skip the package's own directory setup: we never use the system slapd.
echo "slapd slapd/no_configuration boolean true" | "${sudo_cmd[@]}" debconf-set-selections 2>/dev/null || true
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null
# The package may start a system slapd; Opsline does not use it.
"${sudo_cmd[@]}" service slapd stop >/dev/null 2>&1 || true
echo "installed slapd -> $(command -v slapd || echo /usr/sbin/slapd)"
