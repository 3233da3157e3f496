#!/usr/bin/env bash
# Petrel's store against etcd on this machine: starts a 3-zone Petrel region and a 3-member etcd
# cluster on loopback addresses, runs io.petrel.bench.StoreBench against both, and stops and removes
# everything again, also when something fails or the run is interrupted.
#
#   bench/run-store-bench.sh [StoreBench options, e.g. --write-seconds 5]
#
# Petrel zones listen on 127.61.{1,2,3}.1, etcd members on 127.62.{1,2,3}.1: neither meets a
# developer's region (127.0.x.1) or a system etcd (127.0.0.1). The tables are printed and written to
# bench/target/store-bench-<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

PETREL_PREFIX=127.61
ETCD_PREFIX=127.62
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

stop_leftovers() {
  local old
  stop_etcd "$STATE/etcd.pids"
  if [ -f "$STATE/tmpdir" ]; then
    old="$(cat "$STATE/tmpdir")"
    log "stopping what an earlier run left in $old"
    [ -d "$old" ] && stop_petrel "$old/petrel"
    remove_tmp "$old"
    rm -f "$STATE/tmpdir"
  fi
}

tmp=""
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
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    stop_etcd "$STATE/etcd.pids"
    stop_petrel "$tmp/petrel"
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

source "$root/bench/common.sh"

# ---------------------------------------------------------------------------------------------
# The two systems.

stop_leftovers
tmp="$(mktemp -d /tmp/petrel-store-bench.XXXXXX)"
echo "$tmp" >"$STATE/tmpdir"

log "starting the Petrel region on $PETREL_PREFIX.{1,2,3}.1 (data in $tmp/petrel)"
PETREL_HOME="$tmp/petrel-home" ./petrel up --data "$tmp/petrel" --ip-prefix "$PETREL_PREFIX" \
  --raft-port 7100 --http-port 7180 >&2

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
report="$root/bench/target/store-bench-$(date +%Y%m%d-%H%M%S).md"
"$JAVA_BIN" -Xms512m -Xmx1g "${jvm_extra[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.org.apache.ratis.client.impl=off \
  -cp "$root/bench/target/lib/*:$bench_jar" io.petrel.bench.StoreBench 8>&- \
  --petrel-data "$tmp/petrel" --etcd-endpoints "$endpoints" --petrel-pids "$petrel_pids" --etcd-pids "$etcd_pids" \
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
