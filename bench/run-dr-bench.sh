#!/usr/bin/env bash
# Disaster recovery on this machine: two named 3-zone regions (east primary, west its standby, one shared
# witness backup target), the standby's lag under an open-loop writer, then repeated failovers: every process
# of the primary (zones, gateways) killed with SIGKILL, the standby promoting itself, RPO and RTO measured, the old primary
# restarted and failed back as the new standby (io.petrel.bench.DrBench drives it all through `petrel`
# commands). Everything lives in bench/target/dr-bench (its own petrel.home) and is stopped and removed
# again, also when something fails or the run is interrupted.
#
#   bench/run-dr-bench.sh [DrBench options]         the full run: 60 s of lag, 10 failovers, about 30-40 minutes
#   bench/run-dr-bench.sh --quick                   a smoke run: 10 s of lag, 2 failovers, about 5-8 minutes
#
# Options (DrBench --help lists all): --writes api|store (store), --failovers K (10), --lag-seconds S (60),
# --rate R (1000 writes/s), --failover-ms MS (5000), --round-seconds S (10 s of writes before each kill), --warmup-seconds S (10).
# --writes store (the default) puts keys straight into the primary's replicated store through a remote store client, the
# commit every API write ends in: on a 2-core machine running 10 JVMs the API path (--writes api: PUTs of actions on the zone
# APIs) reaches only about 50-300 writes/s, short of the 1,000/s the lag is to be measured at. Both phases use the chosen
# mode; the RTO probes always go through the zone APIs.
# East's zones on 127.67.{1,2,3}.1 (gateways 127.67.0.11/12), west's on 127.68.{1,2,3}.1 (127.68.0.11/12); never a
# developer's region. No write goes through the gateways; they are there because `petrel up` gives a region them.
# The report is printed and written to bench/target/dr-bench-<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

EAST_PREFIX=127.67
WEST_PREFIX=127.68
STATE="$root/bench/target/dr-bench"   # the lock, the run's petrel.home and jars (a killed run's leftovers are found there)
HOME_DIR="$STATE/home"
JARS="$STATE/jars"                    # the run's own copy of the built jars (see below)
DRIVER_LIMIT_SECONDS=${DR_BENCH_LIMIT_SECONDS:-5400}

log() { printf '[%(%H:%M:%S)T] run-dr-bench: %s\n' -1 "$*" >&2; }

args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then
    args+=(--failovers 2 --lag-seconds 10 --warmup-seconds 5)
  else
    args+=("$a")
  fi
done

mkdir -p "$STATE"
# The lock is fd 8; nothing this script starts may inherit it (each gets 8>&-), or a killed run's
# leftover zones would hold it and block the next run that is to stop them.
exec 8>"$STATE/lock"
if ! flock -n 8; then
  log "another run-dr-bench.sh is running (lock $STATE/lock)"
  exit 1
fi

cli_cmd=()   # set once the tree is built: the command line `./petrel` runs, without its build step
is_region_process() { # pid region-dir: whether the process is a zone of that region (its --config is in that folder)
  [ -r "/proc/$1/cmdline" ] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "--config $2/"
}

stop_regions() { # every named region under this run's home
  local dir name f pid waited
  [ -d "$HOME_DIR/regions" ] || return 0
  for dir in "$HOME_DIR"/regions/*/; do
    dir="${dir%/}"
    name="$(basename "$dir")"
    [ -f "$dir/region.json" ] || continue
    if [ "${#cli_cmd[@]}" -gt 0 ] && PETREL_HOME="$HOME_DIR" timeout -k 5 120 "${cli_cmd[@]}" down --region "$name" >&2 8>&-; then
      continue
    fi
    # `petrel down` may fail (e.g. the tree does not build any more): stop the zones by the ids in their pid
    # files, each only if its command line names this region's folder.
    log "petrel down failed for region $name; stopping its processes by their pid files"
    for f in "$dir"/zone-*/node.pid "$dir"/gateway-*/gateway.pid; do
      [ -f "$f" ] || continue
      pid="$(awk '{print $1; exit}' "$f")"
      [ -n "$pid" ] && is_region_process "$pid" "$dir" || continue
      kill -TERM "$pid" 2>/dev/null || true
      waited=0
      while is_region_process "$pid" "$dir" && [ "$waited" -lt 20 ]; do sleep 0.5; waited=$((waited + 1)); done
      is_region_process "$pid" "$dir" && { log "process $pid did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
    done
  done
}

remove_run_folders() { # only ever this script's folders, once nothing runs from them
  local d
  for d in "$HOME_DIR" "$JARS"; do
    case "$d" in
      "$root"/bench/target/dr-bench/home | "$root"/bench/target/dr-bench/jars) rm -rf -- "$d" ;;
      *) log "not removing $d: not one of this script's folders" ;;
    esac
  done
}

started=0
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ "$started" = 1 ]; then
    if [ "$rc" != 0 ] && [ -d "$HOME_DIR/regions" ]; then
      # Keep the logs of a failed run: they are the only evidence once the folder is gone.
      local keep="$root/bench/target/dr-bench-failed-$(date +%Y%m%d-%H%M%S)" f
      mkdir -p "$keep"
      for f in "$HOME_DIR"/regions/*/zone-*/node.log "$HOME_DIR"/regions/*/lost-writes-*; do
        [ -f "$f" ] && cp "$f" "$keep/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$(dirname "$f")")-$(basename "$f")"
      done
      log "the run failed (exit $rc); logs kept in $keep"
    fi
    stop_regions
    remove_run_folders
  fi
  log "stopped and cleaned up"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$root/bench/common.sh"
cli_jar="$(ls "$root"/cli/target/petrel-cli-*.jar | grep -v -- '-tests.jar' | head -n1)"
set_cli() { # class path: the command line `./petrel` runs, without its build step (DrBench runs the same one)
  cli_cmd=("$JAVA_BIN" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "${jvm_extra[@]}"
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dpetrel.home="$HOME_DIR" -cp "$1" io.petrel.cli.PetrelMain)
}
set_cli "$root/cli/target/lib/*:$cli_jar"

started=1
if [ -d "$HOME_DIR" ] || [ -d "$JARS" ]; then
  log "stopping what an earlier run left in $STATE"
  stop_regions
  remove_run_folders
fi

# The run works on its own copy of the built jars. Not ./petrel, and not cli/target or bench/target themselves:
# on a shared tree a build started by someone else (or by ./petrel, which rebuilds when a source file is newer
# than its build) rewrites those jars, and a zone, a `petrel` command or the driver then dies in the middle of
# a round with a NoClassDefFoundError (a smoke run did).
mkdir -p "$JARS/cli" "$JARS/bench"
cp -p "$root"/cli/target/lib/*.jar "$cli_jar" "$JARS/cli/"
cp -p "$root"/bench/target/lib/*.jar "$bench_jar" "$JARS/bench/"
cli_cp="$JARS/cli/*"
set_cli "$cli_cp"
if ss -ltnuH 2>/dev/null | awk '{print $5}' | grep -q "^127\.6[78]\."; then
  log "something already listens on $EAST_PREFIX.x.x or $WEST_PREFIX.x.x (see ss -ltnu); not starting regions there"
  exit 1
fi
mkdir -p "$HOME_DIR"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load before the run: $load_before (1, 5, 15 min; $(nproc) cores); petrel.home $HOME_DIR"
report="$root/bench/target/dr-bench-$(date +%Y%m%d-%H%M%S).md"
driver_rc=0
timeout --foreground -k 10 "$DRIVER_LIMIT_SECONDS" \
  "$JAVA_BIN" -Xms128m -Xmx512m -XX:+UseSerialGC "${jvm_extra[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$JARS/bench/*" io.petrel.bench.DrBench 8>&- \
  --home "$HOME_DIR" --java "$JAVA_BIN" --cli-classpath "$cli_cp" --east-prefix "$EAST_PREFIX" --west-prefix "$WEST_PREFIX" \
  --command "bench/run-dr-bench.sh${*:+ $*}" --report "$report" ${args[@]+"${args[@]}"} || driver_rc=$?
log "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$report" ] && log "report written to $report"
# A failed driver still wrote what it measured (marked as failed); the run as a whole fails, keeping the logs.
[ "$driver_rc" = 0 ] || { log "the driver failed (exit $driver_rc)"; exit "$driver_rc"; }
