#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries are installed (the PostgreSQL store's tests start their own
# primary and synchronous standby from them, in temporary folders, as the `postgres` OS user), and that the
# Debian cluster the package may have started is stopped and will not start again: the tests never use it.
# Prints the folder of pg_ctl, initdb, postgres ... as its last line. Needs root to install.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do [ -x "$d/pg_ctl" ] && echo "$d"; done | tail -n1; }

bin="$(find_bin)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-postgres: PostgreSQL is not installed and only root can install it (apt-get install postgresql)" >&2
    exit 2
  fi
  echo "ensure-postgres: installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin="$(find_bin)"
  [ -n "$bin" ] || { echo "ensure-postgres: postgresql installed but no pg_ctl under /usr/lib/postgresql/*/bin" >&2; exit 3; }
fi

if [ "$(id -u)" -eq 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
  # The package's own cluster (if it created and started one) is not ours: stop it, keep it from starting.
  pg_lsclusters -h 2>/dev/null | while read -r ver name port status rest; do
    if [ "$status" = "online" ]; then
      echo "ensure-postgres: stopping Debian's cluster $ver/$name (the tests run their own)" >&2
      pg_ctlcluster "$ver" "$name" stop >&2 || true
    fi
    conf="/etc/postgresql/$ver/$name/start.conf"
    if [ -f "$conf" ] && ! grep -qx manual "$conf"; then echo manual > "$conf"; fi
  done
fi
id postgres >/dev/null 2>&1 || { echo "ensure-postgres: the postgres OS user is missing" >&2; exit 3; }
echo "$bin"
