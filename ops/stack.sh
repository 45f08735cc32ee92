#!/usr/bin/env bash
# The local stack without Docker: Redis, a real Elasticsearch node, the three Celery worker pools.
# State, logs and pid files under .stack/ (override with GLEANER_STACK_DIR).
#   ops/stack.sh up       start whatever is not running (idempotent)
#   ops/stack.sh down     stop everything
#   ops/stack.sh status   what runs, with pids
set -euo pipefail
# The services started here outlive this script: they must not keep the caller's open files (a lock
# taken with `flock`, a pipe), or the caller's lock stays held for as long as the stack runs.
for fd_path in /proc/$$/fd/*; do
  fd="${fd_path##*/}"
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${GLEANER_STACK_DIR:-$ROOT/.stack}"
PIDS="$STACK/pids"
LOGS="$STACK/logs"
VENV="${GLEANER_VENV:-$ROOT/.venv}"
REDIS_PORT="${GLEANER_REDIS_PORT:-6379}"
ES_PORT="${GLEANER_ES_PORT:-9200}"
# Workers and `gleaner setup` talk to this stack's Redis and Elasticsearch: a second stack on other
# ports (GLEANER_STACK_DIR, GLEANER_REDIS_PORT, GLEANER_ES_PORT) never reaches the default one.
export GLEANER_REDIS_URL="${GLEANER_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
export GLEANER_ES_URL="${GLEANER_ES_URL:-http://127.0.0.1:$ES_PORT}"
WORKERS=(parse enrich index)
# Pool per stage. Parse and enrich are CPU-bound (prefork: one process per core for NER, time
# limits enforced; each task is a bundle of pages, run through nlp.pipe at once). Index waits on
# Elasticsearch: threads, whose bundles share one bulk writer per process.
POOL_parse="--pool prefork --concurrency ${GLEANER_PARSE_CONCURRENCY:-1}"
POOL_enrich="--pool prefork --concurrency ${GLEANER_ENRICH_CONCURRENCY:-$(nproc)}"
POOL_index="--pool threads --concurrency ${GLEANER_INDEX_CONCURRENCY:-32}"

mkdir -p "$PIDS" "$LOGS"

# Running, and not a zombie waiting to be reaped (a killed worker must be seen as stopped).
alive() {
  local pid
  [ -f "$PIDS/$1" ] && pid="$(cat "$PIDS/$1")" && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]
}

ensure_redis_installed() {
  command -v redis-server >/dev/null && return
  echo "installing redis-server (Debian package)..."
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
}

start_redis() {
  if alive redis; then return; fi
  ensure_redis_installed
  mkdir -p "$STACK/redis"
  # Not daemonized: we keep its pid ourselves. AOF on, no eviction (a broker must not drop messages).
  # A broker's data is transient and its traffic many times its size: the AOF is rewritten once it
  # has grown by 1 GB, not Redis's default 64 MB, else a rewrite copies the whole queue for every
  # 64 MB enqueued (see ops/COST.md). Pages travel zstd-compressed, so a rewrite does not
  # LZF-compress them again (rdbcompression: it saved no byte on them and took 5x the rewrite's CPU).
  # Same flags as docker-compose.yml.
  nohup redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --dir "$STACK/redis" --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --auto-aof-rewrite-min-size 1gb --rdbcompression no --save "" --daemonize no --logfile "$LOGS/redis.log" </dev/null >/dev/null 2>&1 &
  echo $! > "$PIDS/redis"
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && { echo "redis: up on 127.0.0.1:$REDIS_PORT"; return; }
    sleep 0.1
  done
  echo "redis did not start; see $LOGS/redis.log" >&2; exit 1
}

start_worker() {
  local stage="$1" pool_var="POOL_$1"
  if alive "worker-$stage"; then return; fi
  # shellcheck disable=SC2086
  nohup "$VENV/bin/celery" -A workers.delivery.app worker -Q "$stage" -n "$stage@%h" ${!pool_var} \
    --loglevel INFO --without-gossip --without-mingle </dev/null >>"$LOGS/worker-$stage.log" 2>&1 &
  echo $! > "$PIDS/worker-$stage"
  echo "worker-$stage: started (pid $!)"
}

stop_pid() {
  local name="$1" pid
  [ -f "$PIDS/$name" ] || return 0
  pid="$(cat "$PIDS/$name")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    echo "$name: stopped"
  fi
  rm -f "$PIDS/$name"
}

case "${1:-}" in
  up)
    start_redis
    "$ROOT/ops/es.sh" start
    for w in "${WORKERS[@]}"; do start_worker "$w"; done
    "$VENV/bin/gleaner" setup
    ;;
  down)
    for w in "${WORKERS[@]}"; do stop_pid "worker-$w"; done
    "$ROOT/ops/es.sh" stop
    stop_pid redis
    ;;
  status)
    for name in redis elasticsearch "${WORKERS[@]/#/worker-}"; do
      if alive "$name"; then echo "$name: running (pid $(cat "$PIDS/$name"))"; else echo "$name: stopped"; fi
    done
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
