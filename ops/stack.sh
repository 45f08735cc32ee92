#!/usr/bin/env bash
# The local stack without Docker: Redis, a real Elasticsearch node, the three Celery worker pools.
# State, logs and pid files under .stack/ (override with GLEANER_STACK_DIR).
#   ops/stack.sh up       start whatever is not running (idempotent)
#   ops/stack.sh down     stop everything
#   ops/stack.sh status   what runs, with pids
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${GLEANER_STACK_DIR:-$ROOT/.stack}"
PIDS="$STACK/pids"
LOGS="$STACK/logs"
VENV="${GLEANER_VENV:-$ROOT/.venv}"
REDIS_PORT="${GLEANER_REDIS_PORT:-6379}"
WORKERS=(parse enrich index)
# Pool per stage: parse is CPU-bound per page (prefork, time limits enforced); enrich and index
# gather concurrent messages into nlp.pipe batches and bulk requests (threads).
POOL_parse="--pool prefork --concurrency ${GLEANER_PARSE_CONCURRENCY:-1}"
POOL_enrich="--pool threads --concurrency ${GLEANER_ENRICH_CONCURRENCY:-32}"
POOL_index="--pool threads --concurrency ${GLEANER_INDEX_CONCURRENCY:-200}"

mkdir -p "$PIDS" "$LOGS"

alive() { [ -f "$PIDS/$1" ] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }

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
  nohup redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --dir "$STACK/redis" --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --save "" --daemonize no --logfile "$LOGS/redis.log" </dev/null >/dev/null 2>&1 &
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
  nohup "$VENV/bin/celery" -A workers.celery_app worker -Q "$stage" -n "$stage@%h" ${!pool_var} \
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
    GLEANER_REDIS_URL="${GLEANER_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}" "$VENV/bin/gleaner" setup
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
