#!/usr/bin/env bash
# The gateway (the region's HTTP reverse proxy) on this machine: starts a 3-zone Petrel region with
# its gateway instances, and HAProxy in front of the same three zones as the reference proxy, runs
# io.petrel.bench.GatewayBench against the zones directly, HAProxy and gateway g1, and stops and
# removes everything again, also when something fails or the run is interrupted.
#
#   bench/run-gateway-bench.sh [GatewayBench options]      # the full run, about 5 minutes
#   bench/run-gateway-bench.sh --quick                     # a smoke run, about a minute
#
# Everything listens on 127.64.x.x: zones on 127.64.{1,2,3}.1, gateway g1/g2 on 127.64.0.11/12
# (shared 127.64.0.1), HAProxy on 127.64.0.20:3233 (stats on :8404): never a developer's region.
# The tables are printed and written to bench/target/gateway-bench-<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

PREFIX=127.64
HAPROXY_HOST=$PREFIX.0.20
HAPROXY_PORT=3233
HAPROXY_STATS_PORT=8404
# Two threads, as many as the machine's cores: the gateway's JVM is not limited either.
HAPROXY_THREADS=2
STATE=/tmp/petrel-gateway-bench      # what a run started, so that the next run can stop what a killed run left
STOP_WAIT_SECONDS=10
# A bound on the driver on top of its own (every phase is bounded in time and count).
DRIVER_LIMIT_SECONDS=${GATEWAY_BENCH_LIMIT_SECONDS:-900}

log() { printf '[%(%H:%M:%S)T] run-gateway-bench: %s\n' -1 "$*" >&2; }

args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then
    args+=(--initial-warmup-seconds 5 --warmup-seconds 1 --seconds 2 --rate-seconds 3 --dns-seconds 2)
  else
    args+=("$a")
  fi
done

mkdir -p "$STATE"
# The lock is fd 8; nothing this script starts may inherit it (each gets 8>&-), or a killed run's
# leftovers would hold it and block the next run that is to stop them.
exec 8>"$STATE/lock"
if ! flock -n 8; then
  log "another run-gateway-bench.sh is running (lock $STATE/lock)"
  exit 1
fi

# ---------------------------------------------------------------------------------------------
# Stopping: used for leftovers of an earlier run and for this run's own processes.

is_bench_haproxy() { # pid: whether it is an HAProxy this script started (its config is in one of our folders)
  # The braces take the error of a process that is gone between the test and the read.
  [ -r "/proc/$1/cmdline" ] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -q -- "-f /tmp/petrel-gateway-bench\.[A-Za-z0-9]*/haproxy.cfg"
}

stop_haproxy() { # pid file: SIGTERM (HAProxy's hard stop), SIGKILL if it is still there after a while
  local file="$1" pid waited=0
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if [ -n "$pid" ] && is_bench_haproxy "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    while is_bench_haproxy "$pid" && [ "$waited" -lt "$STOP_WAIT_SECONDS" ]; do
      sleep 1
      waited=$((waited + 1))
    done
    is_bench_haproxy "$pid" && { log "haproxy $pid did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
}

stop_petrel() { # data dir of a region this script started
  local data="$1"
  [ -f "$data/region.json" ] || return 0
  PETREL_HOME="$(dirname "$data")/petrel-home" ./petrel down --data "$data" >&2 || log "petrel down failed for $data"
}

remove_tmp() { # only ever a folder this script made
  case "$1" in
    /tmp/petrel-gateway-bench.*) rm -rf -- "$1" ;;
    *) log "not removing $1: not one of this script's folders" ;;
  esac
}

stop_leftovers() {
  local old
  stop_haproxy "$STATE/haproxy.pid"
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
      local keep="$root/bench/target/gateway-bench-failed-$(date +%Y%m%d-%H%M%S)"
      mkdir -p "$keep"
      for f in "$tmp"/petrel/zone-*/node.log; do [ -f "$f" ] && cp "$f" "$keep/$(basename "$(dirname "$f")").log"; done
      for f in "$tmp"/petrel/gateway-*/gateway.log; do [ -f "$f" ] && cp "$f" "$keep/$(basename "$(dirname "$f")").log"; done
      cp "$tmp"/haproxy.cfg "$tmp"/haproxy.log "$keep/" 2>/dev/null
      curl -sf --max-time 2 "http://$HAPROXY_HOST:$HAPROXY_STATS_PORT/stats;csv" >"$keep/haproxy-stats.csv" 2>/dev/null
      curl -sf --max-time 2 "http://$PREFIX.0.11:7190/metrics" >"$keep/gateway-g1.metrics" 2>/dev/null
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    stop_haproxy "$STATE/haproxy.pid"
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
# Tools: HAProxy from Debian's packages, a JDK 21+ found the way ./petrel finds it.

if ! command -v haproxy >/dev/null 2>&1; then
  log "installing haproxy (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >&2
fi
haproxy_version="$(haproxy -v 2>/dev/null | head -n1 | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p')"

source "$root/bench/common.sh"

# ---------------------------------------------------------------------------------------------
# The region and HAProxy.

stop_leftovers
if ss -ltnuH 2>/dev/null | awk '{print $5}' | grep -q "127\.64\."; then
  log "something already listens on $PREFIX.x.x (see ss -ltnu); not starting a second region there"
  exit 1
fi
tmp="$(mktemp -d /tmp/petrel-gateway-bench.XXXXXX)"
echo "$tmp" >"$STATE/tmpdir"

log "starting the region on $PREFIX.{1,2,3}.1, gateways on $PREFIX.0.11/12 (data in $tmp/petrel)"
PETREL_HOME="$tmp/petrel-home" ./petrel up --data "$tmp/petrel" --ip-prefix "$PREFIX" >&2 8>&-

# The same three zones as the gateway, the same header the gateway adds (so that both proxies
# rewrite the response and the driver can see where each request went), health checks on the
# zones' readiness as the gateway probes them.
{
  cat <<EOF
global
    nbthread $HAPROXY_THREADS
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    http-reuse always

frontend api
    bind $HAPROXY_HOST:$HAPROXY_PORT
    default_backend zones

backend zones
    balance leastconn
    option httpchk
    http-check send meth GET uri /health/ready
    http-check expect status 200
    http-response set-header X-Petrel-Zone %s
EOF
  i=1
  for zone in a b c; do
    echo "    server $zone $PREFIX.$i.1:3233 check port 7180 inter 250ms"
    i=$((i + 1))
  done
  cat <<EOF

listen stats
    bind $HAPROXY_HOST:$HAPROXY_STATS_PORT
    stats enable
    stats uri /stats
EOF
} >"$tmp/haproxy.cfg"
haproxy -c -q -f "$tmp/haproxy.cfg" >&2

log "starting HAProxy $haproxy_version on $HAPROXY_HOST:$HAPROXY_PORT (nbthread $HAPROXY_THREADS)"
# -db: in the foreground, no master process, so $! is the one process that proxies (and whose CPU counts).
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 </dev/null 8>&- &
echo "$!" >"$STATE/haproxy.pid"
haproxy_pid="$!"
for attempt in $(seq 1 60); do
  up="$(curl -sf --max-time 2 "http://$HAPROXY_HOST:$HAPROXY_STATS_PORT/stats;csv" 2>/dev/null \
    | awk -F, '$1 == "zones" && $2 != "BACKEND" && $18 == "UP"' | wc -l)" || up=0
  [ "$up" = 3 ] && break
  if ! kill -0 "$haproxy_pid" 2>/dev/null || [ "$attempt" = 60 ]; then
    log "HAProxy does not see the three zones up after $attempt tries; its log:"
    tail -n 20 "$tmp/haproxy.log" >&2
    exit 1
  fi
  sleep 0.5
done
log "HAProxy sees zones a, b, c up"

# ---------------------------------------------------------------------------------------------
# The benchmark.

log "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; $(nproc) cores)"
report="$root/bench/target/gateway-bench-$(date +%Y%m%d-%H%M%S).md"
# keepalive.timeout below the proxies' and zones' 30 s idle timeouts: the client, not the server,
# closes an idle pooled connection, so a phase never starts on a connection the server is closing.
timeout --foreground -k 10 "$DRIVER_LIMIT_SECONDS" \
  "$JAVA_BIN" -Xms256m -Xmx1g "${jvm_extra[@]}" \
  -Djdk.httpclient.keepalive.timeout=20 \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$root/bench/target/lib/*:$bench_jar" io.petrel.bench.GatewayBench 8>&- \
  --petrel-data "$tmp/petrel" --haproxy-url "http://$HAPROXY_HOST:$HAPROXY_PORT" --haproxy-pid "$haproxy_pid" \
  --haproxy-threads "$HAPROXY_THREADS" --haproxy-version "${haproxy_version:-unknown}" \
  --report "$report" ${args[@]+"${args[@]}"}

# What both proxies counted themselves (retries, errors, per-zone sessions): evidence for the reading.
curl -sf --max-time 5 "http://$HAPROXY_HOST:$HAPROXY_STATS_PORT/stats;csv" >"${report%.md}-haproxy-stats.csv" 2>/dev/null || true
curl -sf --max-time 5 "http://$PREFIX.0.11:7190/metrics" >"${report%.md}-gateway-g1.metrics" 2>/dev/null || true
cp "$tmp/haproxy.cfg" "${report%.md}-haproxy.cfg"
log "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
log "tables written to $report"
