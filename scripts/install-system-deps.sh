#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (Chromium for the console tests,
# nginx / HAProxy / PgBouncer / Prometheus where they are the subject, wrk for benchmarks) and
# starts the local PostgreSQL if it is installed but stopped. Safe to run again.
set -euo pipefail

packages=(chromium nginx prometheus pgbouncer haproxy wrk postgresql)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's packages may start their services; the tests start their own nginx/Prometheus/
# PgBouncer on loopback ports, so the packaged daemons are not needed.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
