# Shared shell helpers for scripts/: a private redis-server on a free loopback port, stopped by PID.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_redis DIR: starts redis-server with AOF in DIR; sets REDIS_PORT, REDIS_PID, REDIS_URL.
start_redis() {
  local dir="$1"
  mkdir -p "$dir"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
    --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
  REDIS_PID=$!
  REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
  for _ in $(seq 1 200); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || { echo "error: redis-server failed to start; see $dir/redis.log" >&2; return 1; }
    sleep 0.05
  done
  echo "error: redis-server did not answer on port $REDIS_PORT" >&2
  return 1
}

stop_redis() {
  if [ -n "${REDIS_PID:-}" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
}

# Flags of every release build (scripts/release, scripts/bench). The Swift runtime and Foundation are linked into
# each executable (--static-swift-stdlib, as Swift server project templates ship them): a worker then resolves no
# Swift symbols at start and maps only the runtime code it uses. The toolchain's lld packs the relative
# relocations (DT_RELR; glibc >= 2.36, as on Debian 12). README "Memory" has the measured effect.
RELEASE_BUILD_FLAGS=(-c release --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
