#!/usr/bin/env bash
# The backup benchmark: a full snapshot and a restore of a store of at least 1 GiB against a plain copy
# of the same files on the same disk, and the archive lag at 1,000 writes/s. Everything runs in one
# JVM on loopback; the data lives in a temporary folder under bench/target that is removed afterwards,
# also on failure or Ctrl-C.
#
#   bench/run-backup-bench.sh                              the full run (about 3 minutes)
#   bench/run-backup-bench.sh --size-mb 200 --rate-seconds 10    a quick look
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '[%(%H:%M:%S)T] run-backup-bench: %s\n' -1 "$*" >&2; }
source bench/common.sh

tmp="$root/bench/target/backup-bench-data"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
report="$root/bench/target/backup-bench-$(date +%Y%m%d-%H%M%S).md"
log "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; $(nproc) cores); data in $tmp ($(df -h --output=source,fstype "$tmp" | tail -1))"
timeout 1800 "$JAVA_BIN" -Xms512m -Xmx1g -XX:+UseSerialGC "${jvm_extra[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.io.petrel.backup=info \
  -Dorg.slf4j.simpleLogger.log.org.apache.ratis.client.impl=off \
  -cp "$root/bench/target/lib/*:$bench_jar" io.petrel.bench.BackupBench --data "$tmp" "$@" | tee "$report"
log "report written to $report"
