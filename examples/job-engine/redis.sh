# Sourced by .ci/run and examples/job-engine/run.sh: a private Redis on loopback for
# the job-engine example, from Debian's packages.
#
#   start_redis PORT   installs redis-server if missing, starts it (no persistence),
#                      exports ACCESSLINK_REDIS_URL
#   stop_redis         stops it and removes its directory

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1 \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends redis-server >/dev/null; }
}

start_redis() {
  local port="$1"
  install_redis
  ACCESSLINK_REDIS_DIR="$(mktemp -d)"
  export ACCESSLINK_REDIS_DIR
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$ACCESSLINK_REDIS_DIR" --daemonize yes \
    --pidfile "$ACCESSLINK_REDIS_DIR/redis.pid" --logfile "$ACCESSLINK_REDIS_DIR/redis.log"
  local i
  for i in $(seq 1 50); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      export ACCESSLINK_REDIS_URL="redis://127.0.0.1:$port/"
      return 0
    fi
    sleep 0.1
  done
  echo "Redis did not start on port $port; its log:" >&2
  cat "$ACCESSLINK_REDIS_DIR/redis.log" >&2 || true
  return 1
}

stop_redis() {
  [ -n "${ACCESSLINK_REDIS_DIR:-}" ] || return 0
  if [ -f "$ACCESSLINK_REDIS_DIR/redis.pid" ]; then
    kill "$(cat "$ACCESSLINK_REDIS_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$ACCESSLINK_REDIS_DIR"
}
