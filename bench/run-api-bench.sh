#!/usr/bin/env bash
# The OpenWhisk API under load on this machine: starts a 3-zone Petrel region on loopback addresses,
# runs io.petrel.bench.ApiBench against it (API requests next to HTTP-only and store-only baselines),
# and stops and removes the region again, also when something fails or the run is interrupted.
#
#   bench/run-api-bench.sh [ApiBench options]      # the full run, about 5 minutes
#   bench/run-api-bench.sh --quick                 # a smoke run, about a minute
#
# Zones listen on 127.63.{1,2,3}.1 (the shared API on 127.63.0.1:3233): never a developer's region.
# The tables are printed and written to bench/target/api-bench-<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

PREFIX=127.63
STATE=/tmp/petrel-api-bench

log() { printf '[%(%H:%M:%S)T] run-api-bench: %s\n' -1 "$*" >&2; }

args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then
    args+=(--initial-warmup-seconds 5 --seconds 2 --warmup-seconds 1 --rate-seconds 3 --actions 200 --clients 1,16)
  else
    args+=("$a")
  fi
done

mkdir -p "$STATE"
exec 8>"$STATE/lock"
if ! flock -n 8; then
  log "another run-api-bench.sh is running (lock $STATE/lock)"
  exit 1
fi

stop_region() {
  local dir="$1"
  [ -f "$dir/petrel/region.json" ] && PETREL_HOME="$dir/petrel-home" ./petrel down --data "$dir/petrel" >&2 || true
  case "$dir" in /tmp/petrel-api-bench.*) rm -rf -- "$dir" ;; esac
}
if [ -f "$STATE/tmpdir" ]; then
  log "stopping what an earlier run left in $(cat "$STATE/tmpdir")"
  stop_region "$(cat "$STATE/tmpdir")"
  rm -f "$STATE/tmpdir"
fi

tmp=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$tmp" ]; then
    if [ "$rc" != 0 ]; then
      keep="$root/bench/target/api-bench-failed-$(date +%Y%m%d-%H%M%S)"
      mkdir -p "$keep"
      for f in "$tmp"/petrel/zone-*/node.log; do [ -f "$f" ] && cp "$f" "$keep/$(basename "$(dirname "$f")").log"; done
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    stop_region "$tmp"
    rm -f "$STATE/tmpdir"
  fi
  log "stopped and cleaned up"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$root/bench/common.sh"

tmp="$(mktemp -d /tmp/petrel-api-bench.XXXXXX)"
echo "$tmp" >"$STATE/tmpdir"
log "starting the region on $PREFIX.{1,2,3}.1 (data in $tmp/petrel)"
PETREL_HOME="$tmp/petrel-home" ./petrel up --data "$tmp/petrel" --ip-prefix "$PREFIX" >&2

log "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; $(nproc) cores)"
pids="$(awk '{print $1}' "$tmp"/petrel/zone-*/node.pid | paste -sd, -)"
report="$root/bench/target/api-bench-$(date +%Y%m%d-%H%M%S).md"
"$JAVA_BIN" -Xms256m -Xmx1g "${jvm_extra[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.org.apache.ratis.client.impl=off \
  -cp "$root/bench/target/lib/*:$bench_jar" io.petrel.bench.ApiBench 8>&- \
  --petrel-data "$tmp/petrel" --petrel-pids "$pids" --report "$report" ${args[@]+"${args[@]}"}
log "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
log "tables written to $report"
