#!/usr/bin/env bash
# Petrel's store against etcd on this machine: starts a 3-zone Petrel region, a PostgreSQL primary with
# a synchronous standby (for Petrel's store on PostgreSQL) and a 3-member etcd cluster on loopback
# addresses, runs io.petrel.bench.StoreBench against all three, and stops and removes everything again,
# also when something fails or the run is interrupted.
#
#   bench/run-store-bench.sh [StoreBench options, e.g. --write-seconds 5]
#
# Petrel zones listen on 127.61.{1,2,3}.1, etcd members on 127.62.{1,2,3}.1, the PostgreSQL primary and
# standby on 127.65.{1,2}.1:5432: none meets a developer's region (127.0.x.1) or a system etcd or
# PostgreSQL (127.0.0.1). The tables are printed and written to
# bench/target/store-bench-<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

PETREL_PREFIX=127.61
ETCD_PREFIX=127.62
PG_PREFIX=127.65
ETCD_TOKEN=petrel-store-bench        # on every member's command line: how a leftover member is recognised
STATE=/tmp/petrel-store-bench        # what a run started, so that the next run can stop what a killed run left
STOP_WAIT_SECONDS=15

log() { printf '[%(%H:%M:%S)T] run-store-bench: %s\n' -1 "$*" >&2; }

mkdir -p "$STATE"
# The lock is fd 8; the processes this script leaves running must not inherit it (each gets 8>&-),
# or a killed run's leftovers would hold it and block the next run that is to stop them.
exec 8>"$STATE/lock"
if ! flock -n 8; then
  log "another run-store-bench.sh is running (lock $STATE/lock)"
  exit 1
fi

# ---------------------------------------------------------------------------------------------
# Stopping: used for leftovers of an earlier run and for this run's own processes.

is_bench_etcd() { # pid: whether it is an etcd member this script started (not any etcd)
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "--initial-cluster-token $ETCD_TOKEN"
}

stop_etcd() { # pid file: SIGTERM to each member listed, SIGKILL to those still there after a while
  local file="$1" pid waited=0 alive
  [ -f "$file" ] || return 0
  for pid in $(cat "$file"); do
    is_bench_etcd "$pid" && kill -TERM "$pid" 2>/dev/null || true
  done
  while [ "$waited" -lt "$STOP_WAIT_SECONDS" ]; do
    alive=0
    for pid in $(cat "$file"); do is_bench_etcd "$pid" && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 1
    waited=$((waited + 1))
  done
  for pid in $(cat "$file"); do
    is_bench_etcd "$pid" && { log "etcd member $pid did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  done
  rm -f "$file"
}

stop_petrel() { # data dir of a region this script started
  local data="$1"
  [ -f "$data/region.json" ] || return 0
  PETREL_HOME="$(dirname "$data")/petrel-home" ./petrel down --data "$data" >&2 || log "petrel down failed for $data"
}

remove_tmp() { # only ever a folder this script made
  case "$1" in
    /tmp/petrel-store-bench.*) rm -rf -- "$1" ;;
    *) log "not removing $1: not one of this script's folders" ;;
  esac
}

as_postgres() { # PostgreSQL refuses to run as root: its servers run as the postgres user
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_postgres() { # folder holding primary/ and standby/: stops each server of this script's that still runs
  local dir="$1" d
  for d in "$dir/primary" "$dir/standby"; do
    [ -f "$d/postmaster.pid" ] || continue
    as_postgres "$pgbin/pg_ctl" -D "$d" -m immediate -w -t "$STOP_WAIT_SECONDS" stop >&2 || log "could not stop PostgreSQL in $d"
  done
}

stop_leftovers() {
  local old
  stop_etcd "$STATE/etcd.pids"
  if [ -f "$STATE/tmpdir" ]; then
    old="$(cat "$STATE/tmpdir")"
    log "stopping what an earlier run left in $old"
    [ -d "$old" ] && stop_petrel "$old/petrel"
    [ -d "$old" ] && stop_postgres "$old/pg"
    remove_tmp "$old"
    rm -f "$STATE/tmpdir"
  fi
}

tmp=""
pgbin=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$tmp" ]; then
    if [ "$rc" != 0 ] && [ -d "$tmp" ]; then
      # Keep the logs of a failed run: they are the only evidence once the folder is gone.
      local keep="$root/bench/target/store-bench-failed-$(date +%Y%m%d-%H%M%S)"
      mkdir -p "$keep"
      for f in "$tmp"/petrel/zone-*/node.log; do [ -f "$f" ] && cp "$f" "$keep/$(basename "$(dirname "$f")").log"; done
      cp "$tmp"/etcd/*.log "$keep/" 2>/dev/null
      cp "$tmp"/pg/*.log "$keep/" 2>/dev/null
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    stop_etcd "$STATE/etcd.pids"
    stop_petrel "$tmp/petrel"
    stop_postgres "$tmp/pg"
    remove_tmp "$tmp"
    rm -f "$STATE/tmpdir"
  fi
  log "stopped and cleaned up"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools: etcd from Debian's packages, a JDK 21+ found the way ./petrel finds it.

if ! command -v etcd >/dev/null 2>&1; then
  log "installing etcd-server (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2
fi

# PostgreSQL from Debian's packages, the way the tests get it.
pgbin="$("$root/testing/postgres/ensure-postgres.sh")"

source "$root/bench/common.sh"

# ---------------------------------------------------------------------------------------------
# The two systems.

stop_leftovers
tmp="$(mktemp -d /tmp/petrel-store-bench.XXXXXX)"
echo "$tmp" >"$STATE/tmpdir"

log "starting the Petrel region on $PETREL_PREFIX.{1,2,3}.1 (data in $tmp/petrel)"
PETREL_HOME="$tmp/petrel-home" ./petrel up --data "$tmp/petrel" --ip-prefix "$PETREL_PREFIX" \
  --raft-port 7100 --http-port 7180 >&2

log "starting PostgreSQL $("$pgbin/postgres" --version | sed 's/.* //'): primary on $PG_PREFIX.1.1, synchronous standby on $PG_PREFIX.2.1"
chmod 755 "$tmp"
mkdir -p "$tmp/pg"
pg_password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$pg_password" >"$tmp/pg/password"
chmod 600 "$tmp/pg/password"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$tmp/pg"
cp "$tmp/pg/password" "$tmp/pg/pwfile"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$tmp/pg/pwfile"
as_postgres "$pgbin/initdb" -D "$tmp/pg/primary" -U petrel --pwfile="$tmp/pg/pwfile" --auth-host=scram-sha-256 --auth-local=trust \
  -E UTF8 --locale=C >"$tmp/pg/initdb.log" 2>&1
# Defaults but for what a replicated setup needs; fsync and synchronous_commit stay on (every commit is
# flushed on the primary and on the synchronous standby before it is acknowledged).
cat >>"$tmp/pg/primary/postgresql.conf" <<CONF
listen_addresses = '$PG_PREFIX.1.1'
unix_socket_directories = '$tmp/pg'
max_connections = 100
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
CONF
cat >>"$tmp/pg/primary/pg_hba.conf" <<CONF
host all all 127.0.0.0/8 scram-sha-256
host replication all 127.0.0.0/8 scram-sha-256
CONF
as_postgres "$pgbin/pg_ctl" -D "$tmp/pg/primary" -l "$tmp/pg/primary.log" -w -t 60 \
  -o "-p 5432 -c cluster_name=primary -c synchronous_standby_names=standby" start >&2 8>&-
as_postgres mkdir -p "$tmp/pg/standby-socket"   # the standby's own socket folder: both listen on port 5432
as_postgres env PGPASSWORD="$pg_password" "$pgbin/pg_basebackup" -D "$tmp/pg/standby" -R -X stream -c fast \
  -h "$PG_PREFIX.1.1" -p 5432 -U petrel >&2
as_postgres "$pgbin/pg_ctl" -D "$tmp/pg/standby" -l "$tmp/pg/standby.log" -w -t 60 \
  -o "-p 5432 -c listen_addresses=$PG_PREFIX.2.1 -c unix_socket_directories=$tmp/pg/standby-socket -c cluster_name=standby" start >&2 8>&-
for attempt in $(seq 1 60); do
  state="$(as_postgres "$pgbin/psql" -h "$tmp/pg" -p 5432 -U petrel -d postgres -Atc \
    "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'" 2>/dev/null || true)"
  [ "$state" = sync ] && break
  if [ "$attempt" = 60 ]; then
    log "the PostgreSQL standby is not synchronous after 60 s; its log:"
    tail -n 20 "$tmp/pg/standby.log" >&2
    exit 1
  fi
  sleep 1
done
log "PostgreSQL primary and synchronous standby are up"
pg_url="jdbc:postgresql://$PG_PREFIX.1.1:5432,$PG_PREFIX.2.1:5432/postgres?targetServerType=primary"

log "starting etcd $(etcd --version | head -n1 | sed 's/.*: //') on $ETCD_PREFIX.{1,2,3}.1"
mkdir -p "$tmp/etcd"
cluster=""
endpoints=""
for i in 1 2 3; do
  cluster+="${cluster:+,}m$i=http://$ETCD_PREFIX.$i.1:2380"
  endpoints+="${endpoints:+,}http://$ETCD_PREFIX.$i.1:2379"
done
: >"$STATE/etcd.pids"
for i in 1 2 3; do
  host="$ETCD_PREFIX.$i.1"
  etcd --name "m$i" --data-dir "$tmp/etcd/m$i" \
    --listen-client-urls "http://$host:2379" --advertise-client-urls "http://$host:2379" \
    --listen-peer-urls "http://$host:2380" --initial-advertise-peer-urls "http://$host:2380" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$ETCD_TOKEN" \
    >"$tmp/etcd/m$i.log" 2>&1 </dev/null 8>&- &
  echo "$!" >>"$STATE/etcd.pids"
done
for i in 1 2 3; do
  for attempt in $(seq 1 60); do
    curl -sf "http://$ETCD_PREFIX.$i.1:2379/health" 2>/dev/null | grep -q '"health":"true"' && break
    if [ "$attempt" = 60 ]; then
      log "etcd member m$i is not healthy after 60 s; its log:"
      tail -n 20 "$tmp/etcd/m$i.log" >&2
      exit 1
    fi
    sleep 1
  done
done
log "etcd is healthy"

# ---------------------------------------------------------------------------------------------
# The benchmark.

log "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; $(nproc) cores)"
# The servers' process ids let StoreBench measure the CPU each system uses.
petrel_pids="$(awk '{print $1}' "$tmp"/petrel/zone-*/node.pid | paste -sd, -)"   # node.pid: pid and start time
etcd_pids="$(paste -sd, "$STATE/etcd.pids")"
pg_pids="$(head -n1 "$tmp/pg/primary/postmaster.pid"),$(head -n1 "$tmp/pg/standby/postmaster.pid")"   # their backends count too
report="$root/bench/target/store-bench-$(date +%Y%m%d-%H%M%S).md"
"$JAVA_BIN" -Xms512m -Xmx1g "${jvm_extra[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.org.apache.ratis.client.impl=off \
  -cp "$root/bench/target/lib/*:$bench_jar" io.petrel.bench.StoreBench 8>&- \
  --petrel-data "$tmp/petrel" --etcd-endpoints "$endpoints" --petrel-pids "$petrel_pids" --etcd-pids "$etcd_pids" \
  --postgres-url "$pg_url" --postgres-user petrel --postgres-password-file "$tmp/pg/password" --postgres-pids "$pg_pids" \
  --report "$report" "$@"

# What the zones themselves measured (commit and read latency, leader): evidence for the reading.
for i in 1 2 3; do
  curl -sf "http://$PETREL_PREFIX.$i.1:7180/metrics" >"${report%.md}-zone-$i.metrics" 2>/dev/null || true
done
PETREL_HOME="$tmp/petrel-home" ./petrel status --data "$tmp/petrel" >"${report%.md}-status.txt" 2>&1 || true
# Snapshots stall or slow a system while they are taken: list them with the report, to be matched
# against the phases' measured windows.
{
  echo
  echo "Snapshots the servers logged during the run (zone and member logs; times are the machine's, $(date +%Z)):"
  echo
  echo '```'
  grep -H "snapshot taken" "$tmp"/petrel/zone-*/node.log 2>/dev/null | sed "s|^$tmp/petrel/||" | head -n 30 || true
  grep -H -i "snapshot" "$tmp"/etcd/m*.log 2>/dev/null | sed "s|^$tmp/etcd/||" | head -n 30 || true
  echo '```'
} | tee -a "$report"
log "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
log "tables written to $report"
