#!/usr/bin/env bash
# The README's first command: sets up a Debian machine, builds ctxd, makes
# the example Python service, and builds its image with docker and with
# ctxd (its report, the git filter, why, and the daemon), showing what each
# sends and how long it takes. Uses the Docker daemon that answers
# (DOCKER_HOST or the default socket), or starts a private one.
#   sudo examples/demo.sh          CTXD_DEMO_DIR=/tmp/ctxd-demo by default
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
demo=${CTXD_DEMO_DIR:-/tmp/ctxd-demo}
mkdir -p "$demo"

source packaging/deps.sh
ctxd_install_missing "${ctxd_build_deps[@]}" docker.io busybox-static

echo "== building ctxd"
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
ctxd=$top/build/ctxd

echo "== making the example project in $demo/app"
bash examples/python-service.sh "$demo/app" >/dev/null

started=""
ctxd_daemon=""
cleanup() {
  if [ -n "$ctxd_daemon" ]; then
    kill "$ctxd_daemon" 2>/dev/null || true
    wait "$ctxd_daemon" 2>/dev/null || true
  fi
  if [ -n "$started" ]; then
    kill "$started" 2>/dev/null || true
    wait "$started" 2>/dev/null || true
  fi
}
trap cleanup EXIT
if ! docker info >/dev/null 2>&1; then
  echo "== no Docker daemon answers; starting a private one in $demo/docker"
  d=$demo/docker
  mkdir -p "$d"
  dockerd --host "unix://$d/docker.sock" --data-root "$d/root" --exec-root "$d/exec" \
    --pidfile "$d/pid" --iptables=false --bridge=none --storage-driver=vfs >"$d/log" 2>&1 &
  started=$!
  export DOCKER_HOST=unix://$d/docker.sock
  for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see $d/log"; exit 1; }
fi

if ! docker image inspect python:3.12-slim >/dev/null 2>&1; then
  # No registry here: a busybox image stands in for the base image.
  echo "== tagging a local busybox image as python:3.12-slim (no registry)"
  b=$(mktemp -d)
  cp /bin/busybox "$b/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' > "$b/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t python:3.12-slim "$b" >/dev/null
  rm -rf "$b"
fi

cd "$demo/app"
# the context-size history starts with this run
export XDG_STATE_HOME=$demo/state
rm -rf "$XDG_STATE_HOME"
seconds() { local t0=$EPOCHREALTIME; "$@"; echo "   ($(python3 -c "print(f'{$EPOCHREALTIME - $t0:.2f}')") s)"; }

echo
echo "== docker build (classic builder): docker's whole context"
seconds bash -c 'DOCKER_BUILDKIT=0 docker build -t ctxd-demo:docker . 2>&1 | grep -E "Sending build context|Successfully built"'

echo
echo "== ctxd build: the same context (the Dockerfile says COPY . .), and what the git filter would save"
seconds bash -c '"$0" build -t ctxd-demo:ctxd . 2>&1 | grep -E "^ctxd:|Successfully built"' "$ctxd"

echo
echo "== ctxd report: what is in it, and advice"
"$ctxd" report . | head -30 | sed 's/^/   /'

echo
echo "== ctxd build --git-filter=ignored: .git and what git ignores stay out"
seconds bash -c '"$0" build --git-filter=ignored -t ctxd-demo:slim . 2>&1 | grep -E "^ctxd:|Successfully built"' "$ctxd"
"$ctxd" why --git-filter=ignored . data/raw/events-2024.parquet requirements.txt | sed 's/^/   /'

echo
echo "== with the ctxd daemon running, builds ask its index instead of walking the tree"
mkdir -p -m 700 "$demo/ctxd"
export CTXD_SOCKET=$demo/ctxd/ctxd.sock
"$ctxd" daemon --foreground >"$demo/ctxd/log" 2>&1 &
ctxd_daemon=$!  # stopped by cleanup
for _ in $(seq 1 50); do "$ctxd" status >/dev/null 2>&1 && break; sleep 0.1; done
"$ctxd" status >/dev/null || { cat "$demo/ctxd/log"; exit 1; }
"$ctxd" watch . >/dev/null
seconds bash -c '"$0" build -t ctxd-demo:ctxd . 2>&1 | grep -E "^ctxd:|Successfully built"' "$ctxd"
"$ctxd" status | sed 's/^/   /'
