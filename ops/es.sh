#!/usr/bin/env bash
# Local Elasticsearch 9.5.3 node for Gleaner (real server jars from Maven Central,
# launched by ops/elasticsearch/GleanerNode; see ops/elasticsearch/README.md).
#
# Usage: ops/es.sh build|start|stop|restart|status
#
# Environment:
#   GLEANER_STACK_DIR        state root (default: <repo>/.stack)
#                            data+home: $GLEANER_STACK_DIR/elasticsearch/
#                            log:       $GLEANER_STACK_DIR/logs/elasticsearch.log
#                            pid:       $GLEANER_STACK_DIR/pids/elasticsearch
#   GLEANER_ES_HOST          bind/publish host (default 127.0.0.1)
#   GLEANER_ES_PORT          HTTP port (default 9200)
#   GLEANER_ES_HEAP          heap: "-Xms512m -Xmx1g" (default), or a size like "1g" (-Xms and -Xmx)
#   GLEANER_ES_JAVA_OPTS     extra JVM options (e.g. -Dgleaner.es.setting.<es setting>=<value>)
#   GLEANER_ES_JAVA_HOME     JDK >= 21 to use (default /usr/lib/jvm/temurin-25-jdk-amd64 if present,
#                            else $JAVA_HOME if it is >= 21)
#   GLEANER_ES_START_TIMEOUT seconds to wait for yellow/green health (default 120)
#   GLEANER_ES_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL (default 30)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
ES_PROJECT="$SCRIPT_DIR/elasticsearch"
STACK_DIR="${GLEANER_STACK_DIR:-$REPO_ROOT/.stack}"
ES_HOME="$STACK_DIR/elasticsearch"
LOG_DIR="$STACK_DIR/logs"
PID_DIR="$STACK_DIR/pids"
LOG_FILE="$LOG_DIR/elasticsearch.log"
PID_FILE="$PID_DIR/elasticsearch"
HOST="${GLEANER_ES_HOST:-127.0.0.1}"
PORT="${GLEANER_ES_PORT:-9200}"
URL="http://$HOST:$PORT"
START_TIMEOUT="${GLEANER_ES_START_TIMEOUT:-120}"
STOP_TIMEOUT="${GLEANER_ES_STOP_TIMEOUT:-30}"
MAIN_CLASS="org.elasticsearch.node.GleanerNode"
STAMP="$ES_PROJECT/target/.gleaner-build-stamp"

log() { printf 'es.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

java_feature_version() { # $1 = java binary
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}

find_java_home() {
  local c v
  for c in "${GLEANER_ES_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 "${JAVA_HOME:-}"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    v="$(java_feature_version "$c/bin/java")"
    if [ -n "$v" ] && [ "${v%%.*}" -ge 21 ] 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}

JAVA_HOME_ES="$(find_java_home)" || die "no JDK >= 21 found (set GLEANER_ES_JAVA_HOME)"
JAVA="$JAVA_HOME_ES/bin/java"

# ---------------------------------------------------------------- build
is_built() {
  [ -f "$STAMP" ] || return 1
  [ -f "$ES_PROJECT/target/classes/org/elasticsearch/node/GleanerNode.class" ] || return 1
  compgen -G "$ES_PROJECT/target/lib/elasticsearch-*.jar" >/dev/null || return 1
  [ -z "$(find "$ES_PROJECT/pom.xml" "$ES_PROJECT/src" -newer "$STAMP" -print -quit)" ] || return 1
}

cmd_build() {
  if is_built; then
    log "build is up to date ($ES_PROJECT/target)"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  log "building $ES_PROJECT (JDK $JAVA_HOME_ES)"
  local t0=$SECONDS
  local mvn_opts="${MAVEN_OPTS:-}"
  local v; v="$(java_feature_version "$JAVA")"
  if [ "${v%%.*}" -ge 24 ] 2>/dev/null; then
    mvn_opts="$mvn_opts --sun-misc-unsafe-memory-access=allow" # quiet Maven's guava on JDK 24+
  fi
  # Jars go to a fresh directory that is swapped in afterwards: no stale jars from an older
  # dependency set, and a node running from target/lib never sees a half-filled directory.
  local libnew="$ES_PROJECT/target/lib.new"
  rm -rf "$libnew" "$ES_PROJECT/target/lib.old" "$STAMP"
  local mvn_args=(-q -B -Dstyle.color=never "-Dgleaner.lib.dir=$libnew" package)
  mkdir -p "$ES_PROJECT/target"
  local mvn_log="$ES_PROJECT/target/mvn-build.log"
  if ! (cd "$ES_PROJECT" && JAVA_HOME="$JAVA_HOME_ES" MAVEN_OPTS="$mvn_opts" mvn -o "${mvn_args[@]}") >"$mvn_log" 2>&1; then
    log "offline build not possible, resolving from Maven Central"
    rm -rf "$libnew"
    if ! (cd "$ES_PROJECT" && JAVA_HOME="$JAVA_HOME_ES" MAVEN_OPTS="$mvn_opts" mvn "${mvn_args[@]}") >"$mvn_log" 2>&1; then
      tail -n 40 "$mvn_log" >&2
      die "maven build failed (full output: $mvn_log)"
    fi
  fi
  if [ -d "$ES_PROJECT/target/lib" ]; then mv "$ES_PROJECT/target/lib" "$ES_PROJECT/target/lib.old"; fi
  mv "$libnew" "$ES_PROJECT/target/lib"
  rm -rf "$ES_PROJECT/target/lib.old"
  touch "$STAMP"
  log "build done in $((SECONDS - t0))s ($(ls "$ES_PROJECT/target/lib" | wc -l) jars in target/lib)"
}

# ---------------------------------------------------------------- helpers
read_pid() { [ -f "$PID_FILE" ] && tr -dc '0-9' <"$PID_FILE" || true; }

# alive AND really our node (guards against a recycled pid)
pid_alive() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$MAIN_CLASS"
}

http_get() { # $1 = path; prints body, fails if no HTTP answer
  if command -v curl >/dev/null; then
    curl -fsS -m 5 "$URL$1" 2>/dev/null
  else
    python3 - "$URL$1" <<'EOF' 2>/dev/null
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
EOF
  fi
}

health_status() { # prints green|yellow|red, or nothing
  http_get "/_cluster/health" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

healthy() { case "$(health_status)" in green|yellow) return 0 ;; *) return 1 ;; esac; }

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

jvm_opts() {
  local heap="${GLEANER_ES_HEAP:--Xms512m -Xmx1g}"
  case "$heap" in -*) ;; *) heap="-Xms$heap -Xmx$heap" ;; esac
  local opts=(
    $heap
    -XX:+UseG1GC -Xss1m -XX:-OmitStackTraceInFastThrow
    -Djava.io.tmpdir="$ES_HOME/tmp"
    -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Djna.nosys=true -Djava.locale.providers=CLDR
    -Des.networkaddress.cache.ttl=60 -Des.networkaddress.cache.negative.ttl=10
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true
    --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED
    -Dgleaner.es.home="$ES_HOME"
    -Dgleaner.es.data="$ES_HOME/data"
    -Dgleaner.es.logs="$ES_HOME/logs"
    -Dgleaner.es.host="$HOST"
    -Dgleaner.es.port="$PORT"
    -Dgleaner.es.pidfile="$PID_FILE"
  )
  local v; v="$(java_feature_version "$JAVA")"
  if [ "${v%%.*}" -ge 24 ] 2>/dev/null; then
    opts+=(--sun-misc-unsafe-memory-access=allow)
  fi
  printf '%s\n' "${opts[@]}"
}

# ---------------------------------------------------------------- start
cmd_start() {
  mkdir -p "$ES_HOME/tmp" "$LOG_DIR" "$PID_DIR"
  exec 9>"$PID_DIR/elasticsearch.lock"
  flock -w 300 9 || die "could not lock $PID_DIR/elasticsearch.lock"

  local t0=$SECONDS pid
  pid="$(read_pid)"
  if pid_alive "$pid"; then
    if healthy; then
      log "already running (pid $pid) at $URL"
      return 0
    fi
    log "pid $pid is running but not healthy yet; waiting"
  else
    [ -n "$pid" ] && rm -f "$PID_FILE"
    if port_in_use; then
      die "$HOST:$PORT is already in use by another process (not ours); set GLEANER_ES_PORT or stop it"
    fi
    cmd_build
    local opts=()
    mapfile -t opts < <(jvm_opts)
    # shellcheck disable=SC2206
    local extra=(${GLEANER_ES_JAVA_OPTS:-})
    {
      echo
      echo "===== $(date -u +%FT%TZ) es.sh start: $JAVA"
    } >>"$LOG_FILE"
    # own session: a Ctrl-C in the calling terminal does not reach the node
    nohup setsid "$JAVA" "${opts[@]}" "${extra[@]}" \
      -cp "$ES_PROJECT/target/classes:$ES_PROJECT/target/lib/*" "$MAIN_CLASS" \
      >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    log "started pid $pid, log $LOG_FILE; waiting for $URL/_cluster/health (timeout ${START_TIMEOUT}s)"
  fi

  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if healthy; then
      local real; real="$(read_pid)"; [ -n "$real" ] && pid="$real"
      log "elasticsearch is up: $URL status=$(health_status) pid=$pid (took $((SECONDS - t0))s)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited during startup; last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "not healthy after ${START_TIMEOUT}s (pid $pid still running); last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- stop
cmd_stop() {
  mkdir -p "$PID_DIR"
  exec 9>"$PID_DIR/elasticsearch.lock"
  flock -w 300 9 || die "could not lock $PID_DIR/elasticsearch.lock"
  local pid; pid="$(read_pid)"
  if ! pid_alive "$pid"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  local t0=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid, took $((SECONDS - t0))s)"
}

# ---------------------------------------------------------------- status
cmd_status() {
  local pid; pid="$(read_pid)"
  if pid_alive "$pid"; then
    local rss; rss="$(awk '/^VmRSS/ {printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)"
    local st; st="$(health_status || true)"
    echo "elasticsearch: running pid=$pid rss=${rss:-?} url=$URL health=${st:-no answer}"
    return 0
  fi
  echo "elasticsearch: stopped"
  return 3
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  *) echo "usage: $0 build|start|stop|restart|status" >&2; exit 2 ;;
esac
