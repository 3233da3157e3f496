# Shared by the benchmark scripts: a JDK 21+ found the way ./petrel finds it, and the build.
# Sourced (not run) from the repository's root; sets JAVA_BIN, JAVA_MAJOR, JAVA_HOME, jvm_extra and
# bench_jar. Expects a log function.

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
find_jdk() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(readlink -f "$(command -v java)")")
  while IFS= read -r c; do candidates+=("$c"); done < <(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -V -r)
  for c in "${candidates[@]}"; do
    [ -x "$c" ] && [ -x "$(dirname "$c")/javac" ] || continue
    v="$(java_major "$c")"
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then
      JAVA_BIN="$c"; JAVA_MAJOR="$v"
      export JAVA_HOME="$(dirname "$(dirname "$c")")"
      return 0
    fi
  done
  log "no JDK 21 or newer found (looked at JAVA_HOME, java on PATH and /usr/lib/jvm/*)"
  exit 3
}
find_jdk
jvm_extra=(--enable-native-access=ALL-UNNAMED)
if [ "$JAVA_MAJOR" -ge 23 ]; then
  jvm_extra+=(--sun-misc-unsafe-memory-access=allow)
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi

# ./petrel builds the region's modules if they are stale; then the bench module and what it needs,
# under the launcher's build lock so that the two never build at once.
log "building (JDK $JAVA_MAJOR at $JAVA_HOME)"
./petrel --help >/dev/null
(
  flock 9
  ./mvnw -B -q --no-transfer-progress -pl bench -am package -DskipTests >&2
) 9>"$root/.petrel-build.lock"
bench_jar="$(ls bench/target/petrel-bench-*.jar | head -n1)"
