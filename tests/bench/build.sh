#!/usr/bin/env bash
# build.sh - end to end: `ctxd build` against `DOCKER_BUILDKIT=0 docker build`
# on the same tree and Dockerfile, both to one private dockerd (unix socket).
#
#   tests/bench/build.sh [small|medium|large ...]     (default: medium large)
#
# Per preset of ../shared/bench/gen_tree.py (seed 1), Dockerfile.scratch
# (FROM scratch and the tree's COPY steps), page cache warm, one hyperfine
# invocation (RUNS timed runs, 1 warm-up each) of
#   (a) DOCKER_BUILDKIT=0 docker build -f T/Dockerfile.scratch -t ctxbench-docker T
#   (b) ctxd build --builder-version 1 -f ... -t ctxbench-ctxd T   (minimal context)
#   (c) ctxd build --builder-version 1 --exact ...                  (docker's context)
# Every run after the first is a cached rebuild, as an edit-build loop that
# touched nothing the image copies: the time is the client, the upload and
# the daemon unpacking the context. Before timing, one build of each checks
# that (a) and (b) give the same image ID.
#
# Knobs: CTXD_BENCH_DIR (default /tmp/ctxd-bench-build), CTXD (binary),
# CTXD_BENCH_SHARED (gen_tree.py), RUNS (5), SEED (1), DOCKER_CLI_VERSION
# (28.2.2, the docker CLI first on PATH). Needs root, dockerd, curl,
# hyperfine, python3. Writes $CTXD_BENCH_DIR/build.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${CTXD_BENCH_SHARED:-$REPO/../shared/bench}"
CTXD="${CTXD:-$REPO/build/ctxd}"
DIR="${CTXD_BENCH_DIR:-/tmp/ctxd-bench-build}"
RUNS="${RUNS:-5}"
SEED="${SEED:-1}"
WANT_DOCKER="${DOCKER_CLI_VERSION:-28.2.2}"

# shellcheck source=dockerd.sh
. "$HERE/dockerd.sh"
BENCH_NAME=build.sh
PRESETS=("$@")
[ ${#PRESETS[@]} -gt 0 ] || PRESETS=(medium large)
for p in "${PRESETS[@]}"; do
    case "$p" in small|medium|large) ;; *) die "unknown preset '$p'";; esac
done
docker --version | grep -q "version $WANT_DOCKER," ||
    die "the docker CLI first on PATH is not $WANT_DOCKER: $(docker --version)"
bench_setup python3 hyperfine dockerd curl docker

trap bench_dockerd_stop EXIT
bench_dockerd_start "$DIR/dockerd"
mkdir -p "$DIR/config"
export DOCKER_HOST="unix://$BENCH_DOCKER_SOCK" DOCKER_CONFIG="$DIR/config"
unset DOCKER_CONTEXT DOCKER_BUILDKIT

for p in "${PRESETS[@]}"; do
    T="$DIR/$p"
    [ -d "$T" ] || python3 "$SHARED/gen_tree.py" --preset "$p" --seed "$SEED" "$T" > "$DIR/gen-$p.log"
    find "$T" -type f -print0 | xargs -0 cat > /dev/null
    F="$T/Dockerfile.scratch"
    a="DOCKER_BUILDKIT=0 docker build -q -f $F -t ctxbench-docker $T"
    b="$CTXD build --progress=plain --builder-version 1 -f $F -t ctxbench-ctxd $T"
    c="$CTXD build --progress=plain --builder-version 1 --exact -f $F -t ctxbench-ctxd-exact $T"
    echo "== $p: check" >&2
    bash -c "$a" > /dev/null
    bash -c "$b" > "$DIR/ctxd-$p.out" 2>&1 || { cat "$DIR/ctxd-$p.out" >&2; die "ctxd build failed"; }
    grep '^ctxd: sending' "$DIR/ctxd-$p.out" | head -1 > "$DIR/summary-$p.txt" || true
    ida=$(docker image inspect -f '{{.Id}}' ctxbench-docker)
    idb=$(docker image inspect -f '{{.Id}}' ctxbench-ctxd)
    [ "$ida" = "$idb" ] || die "$p: docker built $ida, ctxd built $idb"
    echo "== $p: timing" >&2
    hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$DIR/build-$p.json" \
        -n docker "$a" -n ctxd "$b" -n ctxd-exact "$c" >&2
done

python3 - "$DIR" "${PRESETS[@]}" <<'PY' | tee "$DIR/build.md"
import json, os, statistics, sys
d, presets = sys.argv[1], sys.argv[2:]
print(f"2 cores, load {open('/proc/loadavg').read().split()[0]}; same image ID from docker and ctxd")
print("\n| preset | docker build (classic) | ctxd build | ratio | ctxd build --exact | ratio | ctxd sent |")
print("|---|---:|---:|---:|---:|---:|---|")
for p in presets:
    r = {x["command"]: statistics.median(x["times"]) for x in json.load(open(f"{d}/build-{p}.json"))["results"]}
    s = open(f"{d}/summary-{p}.txt").read().strip().removeprefix("ctxd: sending ")
    s = s.split(" to unix://")[0]
    print(f"| {p} | {r['docker']:.2f} s | {r['ctxd']:.2f} s | {r['docker'] / r['ctxd']:.1f}x "
          f"| {r['ctxd-exact']:.2f} s | {r['docker'] / r['ctxd-exact']:.1f}x | {s} |")
PY
