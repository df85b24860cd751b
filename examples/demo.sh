#!/usr/bin/env bash
# The README's first command: sets up a Debian machine, builds ctxd, makes
# the example Python service, and builds its image with docker and with
# ctxd's context, showing what each sends. Uses the Docker daemon that
# answers (DOCKER_HOST or the default socket), or starts a private one.
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
cleanup() {
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
echo
echo "== what docker build would send (ctxd ls --exact), largest first"
"$ctxd" ls --exact --long . | sort -k2 -n -r | head -8
echo "   ..."
echo
echo "== docker build (classic builder), the whole context"
DOCKER_BUILDKIT=0 docker build -t ctxd-demo:docker . 2>&1 | grep -E "Sending build context|Successfully built" || true
echo
echo "== the same image from ctxd's tar stream"
"$ctxd" pack --exact . | DOCKER_BUILDKIT=0 docker build -t ctxd-demo:ctxd - 2>&1 \
  | grep -E "Sending build context|Successfully built" || true
echo
echo "== not sent: the lines of .dockerignore that decided it"
"$ctxd" ls --excluded --long . | sed 's/^/   /'
