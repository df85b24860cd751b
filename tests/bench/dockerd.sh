# dockerd.sh - sourced by the benchmarks that need a real Docker daemon
# (build.sh, compress.sh): their common checks, and a private dockerd (vfs
# storage, no bridge, no iptables) on a unix socket under a directory of the
# caller's, stopped by its own pid.
#   die MESSAGE                 prints "$BENCH_NAME: MESSAGE", exits 1
#   bench_setup TOOL...         checks root, the tools and $CTXD; makes $DIR
#                               (outside $REPO) absolute
#   bench_dockerd_start DIR     sets BENCH_DOCKER_SOCK, BENCH_DOCKERD_PID
#   bench_dockerd_stop

bench_setup() {
    local t
    for t in "$@"; do
        command -v "$t" > /dev/null || die "needs $t"
    done
    [ "$(id -u)" = 0 ] || die "needs root (a private dockerd)"
    [ -x "$CTXD" ] || die "no ctxd binary at $CTXD (build it, or set CTXD)"
    CTXD="$(cd "$(dirname "$CTXD")" && pwd)/$(basename "$CTXD")"
    mkdir -p "$DIR"
    DIR="$(cd "$DIR" && pwd)"
    case "$DIR/" in "$REPO"/*) die "CTXD_BENCH_DIR must be outside the repository";; esac
}

die() { echo "${BENCH_NAME:-bench}: $*" >&2; exit 1; }

bench_dockerd_start() {
    local dir=$1 i
    mkdir -p "$dir"
    BENCH_DOCKER_SOCK="$dir/docker.sock"
    dockerd --host "unix://$BENCH_DOCKER_SOCK" --data-root "$dir/root" \
        --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
        --iptables=false --bridge=none --storage-driver=vfs \
        > "$dir/dockerd.log" 2>&1 < /dev/null &
    BENCH_DOCKERD_PID=$!
    for i in $(seq 1 300); do
        if curl -sf --unix-socket "$BENCH_DOCKER_SOCK" http://d/_ping > /dev/null 2>&1; then
            return 0
        fi
        kill -0 "$BENCH_DOCKERD_PID" 2> /dev/null || break
        sleep 0.2
    done
    tail -n 20 "$dir/dockerd.log" >&2
    echo "dockerd did not start (log: $dir/dockerd.log)" >&2
    return 1
}

bench_dockerd_stop() {
    [ -n "${BENCH_DOCKERD_PID:-}" ] || return 0
    kill -TERM "$BENCH_DOCKERD_PID" 2> /dev/null || true
    wait "$BENCH_DOCKERD_PID" 2> /dev/null || true
    BENCH_DOCKERD_PID=
}
