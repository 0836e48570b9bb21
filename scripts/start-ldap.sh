#!/usr/bin/env bash
# Starts a private OpenLDAP slapd for Opsline's tests and demo (not the system one):
#   scripts/start-ldap.sh DIR PORT [LDAPS_PORT]
# DIR holds the configuration (slapd.conf from deploy/ldap/slapd.conf.in), the mdb data
# and slapd.pid; on first use it is seeded from deploy/ldap/seed.ldif (suffix
# dc=example,dc=org, ppolicy overlay, a self-service account and a handful of users).
# slapd listens on ldap://127.0.0.1:PORT/ and runs in the background; stop it with
#   kill "$(cat DIR/slapd.pid)"
# A second start on the same DIR keeps the data (a restart after an outage).
# TLS: when DIR/tls/{ca.pem,server.pem,server.key} exist (tests generate them with rcgen),
# slapd also offers StartTLS on ldap://127.0.0.1:PORT/ and, with LDAPS_PORT, listens on
# ldaps://127.0.0.1:LDAPS_PORT/; every simple bind then needs TLS (security simple_bind=64).
set -euo pipefail
dir=${1:?usage: start-ldap.sh DIR PORT}
port=${2:?usage: start-ldap.sh DIR PORT [LDAPS_PORT]}
ldaps_port=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
slapd=$(command -v slapd || echo /usr/sbin/slapd)
[[ -x "$slapd" ]] || { echo "start-ldap: slapd not installed (run scripts/install-ldap.sh)" >&2; exit 1; }
modules=/usr/lib/ldap
[[ -d "$modules" ]] || modules=$(dirname "$(find /usr/lib -name 'back_mdb.la' -print -quit 2>/dev/null)")
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)
sed -e "s#@DIR@#$dir#g" -e "s#@MODULES@#$modules#g" "$root/deploy/ldap/slapd.conf.in" > "$dir/slapd.conf"
listeners="ldap://127.0.0.1:$port/"
: > "$dir/tls.conf"
if [[ -e "$dir/tls/server.pem" ]]; then
  cat > "$dir/tls.conf" <<TLS
TLSCACertificateFile $dir/tls/ca.pem
TLSCertificateFile $dir/tls/server.pem
TLSCertificateKeyFile $dir/tls/server.key
TLSVerifyClient never
security simple_bind=64
TLS
  [[ -n "$ldaps_port" ]] && listeners="$listeners ldaps://127.0.0.1:$ldaps_port/"
fi
if [[ ! -e "$dir/data/data.mdb" ]]; then
  "${slapd%slapd}slapadd" -f "$dir/slapd.conf" -l "$root/deploy/ldap/seed.ldif" 2>"$dir/slapadd.log" \
    || { cat "$dir/slapadd.log" >&2; exit 1; }
fi
"$slapd" -f "$dir/slapd.conf" -h "$listeners" 2>"$dir/slapd.log" \
  || { cat "$dir/slapd.log" >&2; exit 1; }
for _ in $(seq 1 100); do
  if ldapsearch -x -H "ldap://127.0.0.1:$port/" -b "" -s base namingContexts >/dev/null 2>&1; then
    echo "slapd $listeners (pid $(cat "$dir/slapd.pid"), data in $dir)"
    exit 0
  fi
  sleep 0.1
done
echo "start-ldap: slapd did not answer on port $port" >&2
cat "$dir/slapd.log" >&2
exit 1
