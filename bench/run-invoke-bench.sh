#!/usr/bin/env bash
# Invocations on this machine: warm invokes of a trivial nodejs action through the zones' APIs and
# through the gateways, the same code straight through its runtime launcher as the floor (in the
# same driver process), and container starts per kind, prewarmed and cold. Runs
# io.petrel.bench.InvokeBench against two fresh 3-zone regions, one after the other, each started
# with ./petrel up and stopped and removed again, also when something fails or the run is interrupted:
#
#   1. 127.69.{1,2,3}.1 (shared API 127.69.0.1:3233): prewarms one container of every kind per zone
#      (invoker.prewarm=nodejs:default=1,python:default=1,java:default=1); prewarmed starts, the floor
#      and the warm loops;
#   2. 127.70.{1,2,3}.1: prewarms nothing (invoker.prewarm=); cold starts.
#
# Both regions get invoker.memory.mb=$INVOKER_MEMORY_MB (default 6144; `petrel up` gives 2048, eight
# 256 MB containers per zone): every start sample is a new action whose container stays warm for
# invoker.idle.seconds (300 s), and 13 samples of 3 kinds per zone (3 unrecorded rounds first) next to
# the prewarmed reserve and the warm action's containers do not fit in 2048 MB: the reserve could not
# refill and later "prewarmed" samples would be cold starts. The budget is a limit on what containers
# may use, not memory taken: an idle nodejs container holds about 40 MB.
#
#   bench/run-invoke-bench.sh [InvokeBench options]   # the full run, about 6.5 minutes plus the build
#   bench/run-invoke-bench.sh --initial-warmup-seconds 300   # the same on a region that has settled (JIT), about 11 minutes
#   bench/run-invoke-bench.sh --quick                 # a smoke run, about 3 minutes
#
# The tables are printed and written to bench/target/invoke-bench-<time>.md, the start samples to
# invoke-bench-<time>-{prewarmed,cold}.json, the zones' and gateways' logs to invoke-bench-<time>-logs/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

FULL_PREFIX=127.69
COLD_PREFIX=127.70
STATE=/tmp/petrel-invoke-bench
INVOKER_MEMORY_MB="${INVOKER_MEMORY_MB:-6144}"
# A stuck driver never holds the machine (and the lock) for good.
DRIVER_LIMIT_SECONDS="${INVOKE_BENCH_LIMIT_SECONDS:-900}"
# Other people's builds share the two cores: wait (at most this long) until the machine is at rest.
QUIET_WAIT_SECONDS="${INVOKE_BENCH_QUIET_WAIT_SECONDS:-600}"
QUIET_MAX_CORES=0.30

log() { printf '[%(%H:%M:%S)T] run-invoke-bench: %s\n' -1 "$*" >&2; }

args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then
    args+=(--initial-warmup-seconds 3 --seconds 3 --warmup-seconds 1 --diagnose-seconds 3 --samples 3 --floor-samples 2 --warmup-start-rounds 1 --clients 1,8)
  else
    args+=("$a")
  fi
done

mkdir -p "$STATE"
exec 8>"$STATE/lock"
if ! flock -n 8; then
  log "another run-invoke-bench.sh is running (lock $STATE/lock)"
  exit 1
fi

containers_dirs() { # the zones' container folders (node: ZoneInvoker.containersRoot, under java.io.tmpdir)
  local data="$1" z
  for z in a b c; do
    printf '/tmp/petrel-containers/%s-%s\n' "$z" "$(printf '%s' "$data/zone-$z" | sha256sum | cut -c1-12)"
  done
}

stop_region() { # data dir of a region this script started
  local data="$1" d
  [ -f "$data/region.json" ] || return 0
  PETREL_HOME="$(dirname "$data")/petrel-home" ./petrel down --data "$data" >&2 8>&- || log "petrel down failed for $data"
  for d in $(containers_dirs "$data"); do
    case "$d" in /tmp/petrel-containers/?-????????????) rm -rf -- "$d" ;; esac
  done
}

remove_tmp() { # only ever a folder this script made
  case "$1" in
    /tmp/petrel-invoke-bench.*) rm -rf -- "$1" ;;
    *) log "not removing $1: not one of this script's folders" ;;
  esac
}

if [ -f "$STATE/tmpdir" ]; then
  old="$(cat "$STATE/tmpdir")"
  log "stopping what an earlier run left in $old"
  for r in full cold; do [ -d "$old/$r" ] && stop_region "$old/$r"; done
  remove_tmp "$old"
  rm -f "$STATE/tmpdir"
fi

tmp=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$tmp" ]; then
    if [ "$rc" != 0 ] && [ -d "$tmp" ]; then
      local keep="$root/bench/target/invoke-bench-failed-$(date +%Y%m%d-%H%M%S)"
      mkdir -p "$keep"
      for r in full cold; do
        for f in "$tmp/$r"/zone-*/node.log; do [ -f "$f" ] && cp "$f" "$keep/$r-$(basename "$(dirname "$f")").log"; done
        for f in "$tmp/$r"/gateway-*/gateway.log; do [ -f "$f" ] && cp "$f" "$keep/$r-$(basename "$(dirname "$f")").log"; done
      done
      cp "$tmp"/*.md "$tmp"/*.json "$keep/" 2>/dev/null
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    for r in full cold; do [ -d "$tmp/$r" ] && stop_region "$tmp/$r"; done
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

for p in "$FULL_PREFIX" "$COLD_PREFIX"; do
  if ss -ltnuH 2>/dev/null | awk '{print $5}' | grep -q "^${p//./\\.}\."; then
    log "something already listens on $p.x.x (see ss -ltnu); not starting a region there"
    exit 1
  fi
done
busy_cores() { # cores the whole machine kept busy over $1 seconds (/proc/stat: user nice system irq softirq steal)
  local a b
  read -r -a a </proc/stat
  sleep "$1"
  read -r -a b </proc/stat
  awk -v j=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) )) -v s="$1" 'BEGIN { printf "%.2f", j / 100 / s }'
}
wait_quiet() { # three 5 s samples in a row at rest: a test suite between two of its tests is not at rest
  local deadline=$((SECONDS + QUIET_WAIT_SECONDS)) busy calm=0
  while true; do
    busy="$(busy_cores 5)"
    if awk -v b="$busy" -v m="$QUIET_MAX_CORES" 'BEGIN { exit !(b <= m) }'; then
      calm=$((calm + 1))
      if [ "$calm" -ge 3 ]; then
        log "the machine is at rest (${busy} cores busy over the last 5 s, at most $QUIET_MAX_CORES over 15 s)"
        return 0
      fi
      continue
    fi
    calm=0
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "the machine stayed busy ($busy cores) for $QUIET_WAIT_SECONDS s; measuring anyway (the report's 'other processes' column shows how much)"
      return 0
    fi
    log "other processes keep $busy cores busy; waiting for the machine to be at rest"
    sleep 10
  done
}
wait_quiet

tmp="$(mktemp -d /tmp/petrel-invoke-bench.XXXXXX)"
echo "$tmp" >"$STATE/tmpdir"
classpath="$root/bench/target/lib/*:$bench_jar"

# Starts region $1 (folder $tmp/$1) on prefix $2 with the zone tuning that follows, makes the bench
# namespace through the admin API with limits no benchmark reaches, and writes its key to $tmp/$1.auth.
start_region() {
  local name="$1" prefix="$2" data="$tmp/$1"
  shift 2
  "$JAVA_BIN" "${jvm_extra[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$classpath" \
    io.petrel.bench.InvokeRegionLayout "$data" "$prefix" "invoker.memory.mb=$INVOKER_MEMORY_MB" "$@" >&2 8>&-
  log "starting region '$name' on $prefix.{1,2,3}.1 (data in $data; tuning: invoker.memory.mb=$INVOKER_MEMORY_MB $*)"
  PETREL_HOME="$tmp/petrel-home" ./petrel up --data "$data" --ip-prefix "$prefix" >&2 8>&-
  local api="http://$prefix.0.1:3233" admin
  admin="Authorization: Bearer $(cat "$data/admin.key")"
  curl -sSf --max-time 30 -X POST -H "$admin" -H 'Content-Type: application/json' -d '{"name":"bench"}' \
    "$api/admin/v1/namespaces" >"$tmp/$name-namespace.json"
  sed -n 's/.*"auth" *: *"\([^"]*\)".*/\1/p' "$tmp/$name-namespace.json" >"$tmp/$name.auth"
  chmod 600 "$tmp/$name.auth" "$tmp/$name-namespace.json"
  [ -s "$tmp/$name.auth" ] || { log "no auth in the admin API's answer: $(cat "$tmp/$name-namespace.json")"; return 1; }
  curl -sSf --max-time 30 -X PUT -H "$admin" -H 'Content-Type: application/json' \
    -d '{"invocationsPerMinute":10000000,"concurrentInvocations":100000}' "$api/admin/v1/namespaces/bench/limits" >/dev/null
}

# Runs the driver against region $1 with the options that follow.
drive() {
  local name="$1" data="$tmp/$1" zones gateways
  shift
  # A pid file holds the pid and the process's start time.
  zones="$(awk '{print $1}' "$data"/zone-*/node.pid | paste -sd, -)"
  gateways="$(awk '{print $1}' "$data"/gateway-*/gateway.pid | paste -sd, -)"
  log "load before the driver: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; $(nproc) cores)"
  timeout -k 10 "$DRIVER_LIMIT_SECONDS" "$JAVA_BIN" -Xms256m -Xmx1g "${jvm_extra[@]}" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.org.apache.ratis.client.impl=off \
    -cp "$classpath" io.petrel.bench.InvokeBench 8>&- \
    --petrel-data "$data" --auth-file "$tmp/$name.auth" --zone-pids "$zones" --gateway-pids "$gateways" \
    --work-dir "$tmp/$name-driver" "$@"
  log "load after the driver: $(cut -d' ' -f1-3 /proc/loadavg)"
}

stamp="$(date +%Y%m%d-%H%M%S)"
report="$root/bench/target/invoke-bench-$stamp.md"
mkdir -p "$root/bench/target"

keep_logs() { # region $1's zone and gateway logs next to the report: the report's windows point into them
  local name="$1" f dir="$root/bench/target/invoke-bench-$stamp-logs"
  mkdir -p "$dir"
  for f in "$tmp/$name"/zone-*/node.log; do [ -f "$f" ] && cp "$f" "$dir/$name-$(basename "$(dirname "$f")").log"; done
  for f in "$tmp/$name"/gateway-*/gateway.log; do [ -f "$f" ] && cp "$f" "$dir/$name-$(basename "$(dirname "$f")").log"; done
}

start_region full "$FULL_PREFIX" "invoker.prewarm=nodejs:default=1,python:default=1,java:default=1"
drive full --mode full --results "$tmp/prewarmed.json" --report "$tmp/full.md" ${args[@]+"${args[@]}"}
keep_logs full

# The first region stops (zones drain one after the other, mostly waiting) while the second starts;
# nothing is measured until both are done.
stop_region "$tmp/full" &
stopping=$!
start_region cold "$COLD_PREFIX" "invoker.prewarm="
wait "$stopping" || log "stopping region 'full' failed"
drive cold --mode cold --compare-with "$tmp/prewarmed.json" --results "$tmp/cold.json" --report "$tmp/cold.md" ${args[@]+"${args[@]}"}
keep_logs cold
stop_region "$tmp/cold"

{
  cat "$tmp/full.md"
  echo
  cat "$tmp/cold.md"
} >"$report"
cp "$tmp/prewarmed.json" "$root/bench/target/invoke-bench-$stamp-prewarmed.json"
cp "$tmp/cold.json" "$root/bench/target/invoke-bench-$stamp-cold.json"
log "tables written to $report (zone and gateway logs in bench/target/invoke-bench-$stamp-logs)"
