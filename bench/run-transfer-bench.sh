#!/usr/bin/env bash
# A tenant's export and import of a whole namespace on this machine: starts two 3-zone Petrel regions
# (a source and a target, each with its two gateways), runs io.petrel.bench.TransferBench against them
# (export and import next to the same content written and read through the REST API), and stops and
# removes both regions again, also when something fails or the run is interrupted.
#
#   bench/run-transfer-bench.sh [TransferBench options]     # the full run: 1,000 actions + 100 MB, about 5-8 minutes
#   bench/run-transfer-bench.sh --quick                     # a smoke run: 200 actions + 10 MB, about 2 minutes
#
# Source: zones on 127.65.{1,2,3}.1, gateways 127.65.0.11/12, shared API 127.65.0.1:3233.
# Target: zones on 127.66.{1,2,3}.1, gateways 127.66.0.11/12, shared API 127.66.0.1:3233.
# Never a developer's region. The tables are printed and written to bench/target/transfer-bench-<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SOURCE_PREFIX=127.65
TARGET_PREFIX=127.66
STATE=/tmp/petrel-transfer-bench     # what a run started, so that the next run can stop what a killed run left
# Bounds on top of the driver's own (every phase of it is bounded in time and count).
UP_LIMIT_SECONDS=300
DRIVER_LIMIT_SECONDS=${TRANSFER_BENCH_LIMIT_SECONDS:-1800}

log() { printf '[%(%H:%M:%S)T] run-transfer-bench: %s\n' -1 "$*" >&2; }

args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then
    args+=(--actions 200 --artifacts 2 --artifact-bytes 5000000 --warmup-seconds 5)
  else
    args+=("$a")
  fi
done

mkdir -p "$STATE"
# The lock is fd 8; nothing this script starts may inherit it (each gets 8>&-), or a killed run's
# leftovers would hold it and block the next run that is to stop them.
exec 8>"$STATE/lock"
if ! flock -n 8; then
  log "another run-transfer-bench.sh is running (lock $STATE/lock)"
  exit 1
fi

is_region_process() { # pid data: whether the process is a zone or gateway of the region in data (its --config is in that folder)
  [ -r "/proc/$1/cmdline" ] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "--config $2/"
}

stop_petrel() { # data dir of a region this script started
  local data="$1" f pid waited
  [ -f "$data/region.json" ] || return 0
  PETREL_HOME="$data-home" timeout -k 5 120 ./petrel down --data "$data" >&2 8>&- && return 0
  # `petrel down` may fail, e.g. when the tree is being edited and does not build: stop the region's
  # processes by the ids in its pid files, each only if its command line names this region's folder.
  log "petrel down failed for $data; stopping its processes by their pid files"
  for f in "$data"/zone-*/node.pid "$data"/gateway-*/gateway.pid; do
    [ -f "$f" ] || continue
    pid="$(awk '{print $1; exit}' "$f")"
    [ -n "$pid" ] && is_region_process "$pid" "$data" || continue
    kill -TERM "$pid" 2>/dev/null || true
    waited=0
    while is_region_process "$pid" "$data" && [ "$waited" -lt 20 ]; do sleep 0.5; waited=$((waited + 1)); done
    is_region_process "$pid" "$data" && { log "process $pid did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  done
}

remove_tmp() { # only ever a folder this script made
  case "$1" in
    /tmp/petrel-transfer-bench.*) rm -rf -- "$1" ;;
    *) log "not removing $1: not one of this script's folders" ;;
  esac
}

stop_leftovers() {
  local old
  if [ -f "$STATE/tmpdir" ]; then
    old="$(cat "$STATE/tmpdir")"
    log "stopping what an earlier run left in $old"
    if [ -d "$old" ]; then
      stop_petrel "$old/source"
      stop_petrel "$old/target"
    fi
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
      local keep="$root/bench/target/transfer-bench-failed-$(date +%Y%m%d-%H%M%S)"
      mkdir -p "$keep"
      for side in source target; do
        for f in "$tmp/$side"/zone-*/node.log; do [ -f "$f" ] && cp "$f" "$keep/$side-$(basename "$(dirname "$f")").log"; done
        for f in "$tmp/$side"/gateway-*/gateway.log; do [ -f "$f" ] && cp "$f" "$keep/$side-$(basename "$(dirname "$f")").log"; done
      done
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    stop_petrel "$tmp/source"
    stop_petrel "$tmp/target"
    remove_tmp "$tmp"
    rm -f "$STATE/tmpdir"
  fi
  log "stopped and cleaned up"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$root/bench/common.sh"

stop_leftovers
if ss -ltnuH 2>/dev/null | awk '{print $5}' | grep -q "^127\.6[56]\."; then
  log "something already listens on $SOURCE_PREFIX.x.x or $TARGET_PREFIX.x.x (see ss -ltnu); not starting regions there"
  exit 1
fi
tmp="$(mktemp -d /tmp/petrel-transfer-bench.XXXXXX)"
echo "$tmp" >"$STATE/tmpdir"
mkdir -p "$tmp/work"

# One after the other: on two cores, two regions starting at once would only slow each other down.
for side in source target; do
  if [ "$side" = source ]; then prefix=$SOURCE_PREFIX; else prefix=$TARGET_PREFIX; fi
  log "starting the $side region on $prefix.{1,2,3}.1, gateways on $prefix.0.11/12 (data in $tmp/$side)"
  PETREL_HOME="$tmp/$side-home" timeout -k 10 "$UP_LIMIT_SECONDS" ./petrel up --data "$tmp/$side" --ip-prefix "$prefix" >&2 8>&-
done

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load before the run: $load_before (1, 5, 15 min; $(nproc) cores)"
report="$root/bench/target/transfer-bench-$(date +%Y%m%d-%H%M%S).md"
driver_rc=0
timeout --foreground -k 10 "$DRIVER_LIMIT_SECONDS" \
  "$JAVA_BIN" -Xms256m -Xmx1g "${jvm_extra[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$root/bench/target/lib/*:$bench_jar" io.petrel.bench.TransferBench 8>&- \
  --source-data "$tmp/source" --target-data "$tmp/target" --work "$tmp/work" \
  --report "$report" ${args[@]+"${args[@]}"} || driver_rc=$?
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load after the run: $load_after"

# Where the run happened, next to its numbers.
{
  echo
  echo "Environment: $(nproc) cores, JDK $("$JAVA_BIN" -version 2>&1 | head -n1), load average (1, 5, 15 min) $load_before before and" \
    "$load_after after the driver; region folders after the run: source $(du -sh "$tmp/source" | cut -f1), target $(du -sh "$tmp/target" | cut -f1)."
} >>"$report"
# What the zones themselves logged for each transfer (server-side time, entries, bytes), next to what the driver saw.
{
  echo
  echo "The zones' own log lines for the transfers:"
  echo
  echo '```'
  for side in source target; do
    grep -h -E "namespace xfer-c[0-9]+ exported|imported into namespace xfer-c[0-9]+" "$tmp/$side"/zone-*/node.log 2>/dev/null | sed "s/^/$side: /"
  done | sort -k2,2
  echo '```'
} >>"$report"
log "tables written to $report"
# A failed driver still wrote what it measured (marked as failed); the run as a whole fails, keeping the logs.
[ "$driver_rc" = 0 ] || { log "the driver failed (exit $driver_rc)"; exit "$driver_rc"; }
