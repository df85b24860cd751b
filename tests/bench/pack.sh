#!/usr/bin/env bash
# pack.sh - time `ctxd pack --exact` against the docker CLI sending the same
# build context (DOCKER_BUILDKIT=0 docker build -> fake daemon).
#
#   tests/bench/pack.sh [small|medium|large ...]      (default: small medium large)
#
# Per preset of ../shared/bench/gen_tree.py (seed 1):
#  1. generate the tree under $CTXD_BENCH_DIR (reused when it exists), warm the
#     page cache
#  2. check: one docker build to a sink that saves the tar, one
#     `ctxd pack --exact` to a file; compare_tars.py compares every entry
#     (name, type, size, content hash, link target, mode, mtime, uid, gid).
#     If they differ, no numbers are reported for that preset (exit 1 at the end).
#  3. one hyperfine invocation: (a) the whole `docker build` -> sink,
#     (b) ctxd pack to /dev/null, (c) ctxd pack | cat > /dev/null, plus (a0) a
#     docker build of an empty context (the CLI's fixed cost)
#  4. the same commands again in interleaved rounds (alt_time.py), because
#     hyperfine runs each command's runs back to back
#     and references: GNU tar of docker's exact entry list | cat, and the read
#     floor (../shared/bench/readfloor.c over docker's files)
#  5. peak RSS (/usr/bin/time -v) of ctxd pack and of the docker CLI
#  6. cold page cache (root only) for medium and large: docker vs ctxd
#  7. a Markdown table of every preset with results, also in
#     $CTXD_BENCH_DIR/results.md
#
# Knobs (environment):
#   CTXD_BENCH_DIR    trees, sockets, results     (default /tmp/ctxbench-ctxd)
#   CTXD              the binary                  (default <repo>/build/ctxd)
#   CTXD_BENCH_SHARED gen_tree.py, docker_sink.py (default <repo>/../shared/bench)
#   RUNS              timed runs (warm)           (default 5, plus 1 warm-up)
#   ALT=0             skip the interleaved rounds
#   RSS_RUNS          /usr/bin/time -v runs       (default 3, median reported)
#   COLD=0|1          cold-cache rows (default 1 when root can drop caches)
#   COLD_PRESETS      presets with a cold row     (default "medium large")
#   COLD_RUNS         cold runs per command       (default 3, no warm-up)
#   SEED              generator seed              (default 1)
#   REGEN=1           regenerate existing trees
#   KEEP_TARS=1       keep the two tars of the check
#   REF=0             skip the reference rows (GNU tar of docker's entry list
#                     | cat; readfloor of docker's files, needs cc)
#   DOCKER_CLI_VERSION the docker CLI version required (default 28.2.2)
#
# Why (b) is `-o - > /dev/null` and not `-o /dev/null`: ctxd writes -o FILE
# through a temp file that it renames over FILE; as root, `-o /dev/null`
# replaces the /dev/null device with a regular file.  The script never does that.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${CTXD_BENCH_SHARED:-$REPO/../shared/bench}"
CTXD="${CTXD:-$REPO/build/ctxd}"
DIR="${CTXD_BENCH_DIR:-/tmp/ctxbench-ctxd}"
RUNS="${RUNS:-5}"
ALT="${ALT:-1}"
RSS_RUNS="${RSS_RUNS:-3}"
COLD_RUNS="${COLD_RUNS:-3}"
COLD_PRESETS=" ${COLD_PRESETS:-medium large} "
SEED="${SEED:-1}"
WANT_DOCKER="${DOCKER_CLI_VERSION:-28.2.2}"
REF="${REF:-1}"
DROP='sync; echo 3 > /proc/sys/vm/drop_caches'

die() { echo "pack.sh: $*" >&2; exit 1; }
log() { printf '\n=== %s\n' "$*" >&2; }

PRESETS=("$@")
[ ${#PRESETS[@]} -gt 0 ] || PRESETS=(small medium large)
for p in "${PRESETS[@]}"; do
    case "$p" in small|medium|large) ;; *) die "unknown preset '$p' (small, medium, large)";; esac
done
if [ -z "${COLD:-}" ]; then
    if [ -w /proc/sys/vm/drop_caches ]; then COLD=1; else COLD=0; fi
fi

# ---------- tools ----------
for t in python3 hyperfine /usr/bin/time find xargs; do
    command -v "$t" > /dev/null || die "needs $t"
done
[ -x "$CTXD" ] || die "no ctxd binary at $CTXD (build it, or set CTXD)"
CTXD="$(cd "$(dirname "$CTXD")" && pwd)/$(basename "$CTXD")"
[ -r "$SHARED/gen_tree.py" ] && [ -r "$SHARED/docker_sink.py" ] || die "no gen_tree.py/docker_sink.py in $SHARED"
DOCKER="$(command -v docker)" || die "no docker CLI on PATH"
case "$DOCKER" in /*) ;; *) die "docker on PATH is '$DOCKER', not a file";; esac
# the old 20.10 CLI in /usr/bin must never be the one timed
if [ -e /usr/bin/docker ] && [ "$(readlink -f "$DOCKER")" = "$(readlink -f /usr/bin/docker)" ]; then
    die "docker first on PATH is $DOCKER (the old /usr/bin/docker); put /usr/local/bin first"
fi
DOCKER_VER="$("$DOCKER" --version 2>/dev/null | sed -n 's/^Docker version \([^ ,]*\).*/\1/p')"
[ "$DOCKER_VER" = "$WANT_DOCKER" ] || die "docker CLI $DOCKER is version '$DOCKER_VER', want $WANT_DOCKER (DOCKER_CLI_VERSION)"
case "$DIR/" in "$REPO"/*) die "CTXD_BENCH_DIR=$DIR is inside the repository; use a directory under /tmp";; esac
[ "$(stat -c %F /dev/null)" = "character special file" ] || die "/dev/null is not a character device"

mkdir -p "$DIR/results" "$DIR/bin"
DIR="$(cd "$DIR" && pwd)"
# time a private copy: the build directory may be rebuilt while this runs
CTXD_SRC="$CTXD"
CTXD_SHA="$(sha256sum "$CTXD_SRC" | cut -c1-16)"
CTXD="$DIR/bin/ctxd-$CTXD_SHA"
cp "$CTXD_SRC" "$CTXD.tmp" && mv "$CTXD.tmp" "$CTXD"
export DOCKER_BUILDKIT=0
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_HOST
DOCKER_CONFIG="$(mktemp -d "$DIR/docker-config.XXXXXX")"
export DOCKER_CONFIG
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do
        if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
    done
    rm -rf "$DOCKER_CONFIG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_sink() {   # start_sink SOCK LOG [sink args...] -> SINK_PID
    local sock="$1" logf="$2"; shift 2
    rm -f "$sock"
    python3 "$SHARED/docker_sink.py" --socket "$sock" --log "$logf" "$@" 2>> "$logf.stderr" &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
    die "sink did not start (see $logf.stderr)"
}
stop_sink() {    # stop_sink PID
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local q=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || q+=("$p"); done
    PIDS=("${q[@]:-}")
}
warm() { (cd "$1" && find . -type f -print0 | xargs -0 cat > /dev/null); }

{
    echo "date_utc: $(date -u +%FT%TZ)"
    echo "kernel: $(uname -r)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "fs: $(df -T "$DIR" | awk 'NR==2 {print $2" on "$1}')"
    echo "docker_cli: $DOCKER $DOCKER_VER"
    echo "ctxd: $CTXD_SRC ($("$CTXD" --version 2>/dev/null | head -1)), sha256 $CTXD_SHA, built $(date -u -r "$CTXD_SRC" +%FT%TZ), timed as $CTXD"
    echo "repo_head: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "hyperfine: $(hyperfine --version)"
    echo "python: $(python3 --version)"
    echo "runs: $RUNS (+1 warm-up); interleaved: $ALT; rss runs: $RSS_RUNS; cold: $COLD ($COLD_RUNS runs, presets:$COLD_PRESETS)"
} > "$DIR/results/machine.txt"
cat "$DIR/results/machine.txt" >&2

FLOOR="$DIR/bin/readfloor"
if [ "$REF" = 1 ]; then
    command -v cc > /dev/null && command -v tar > /dev/null || die "REF=1 needs cc and GNU tar (or REF=0)"
    cc -O2 -o "$FLOOR" "$SHARED/readfloor.c"
fi

MISMATCH=0

bench_preset() {
    local P="$1" T="$DIR/$1" R="$DIR/results/$1"
    local SOCK="$DIR/sink-$1.sock" DF="$DIR/$1/Dockerfile.scratch"
    mkdir -p "$R"

    # ---------- 1. tree ----------
    local need_mb
    case "$P" in small) need_mb=300;; medium) need_mb=1500;; large) need_mb=4500;; esac
    if [ ! -f "$DF" ] || [ "${REGEN:-0}" = 1 ]; then
        local avail_mb
        avail_mb=$(df -Pm "$DIR" | awk 'NR==2 {print $4}')
        [ "$avail_mb" -ge "$need_mb" ] || die "$P: needs ~$need_mb MB free under $DIR, has $avail_mb MB"
        log "$P: generating the tree in $T"
        python3 "$SHARED/gen_tree.py" --preset "$P" --seed "$SEED" --force --json "$R/composition.json" "$T" \
            > "$R/composition.txt"
        tail -3 "$R/composition.txt" >&2
    else
        echo "$P: reusing $T (REGEN=1 to regenerate)" >&2
    fi
    # everything measured below is from this run only
    rm -f "$R"/check*.json "$R"/check*.jsonl* "$R"/warm*.json* "$R"/alt*.json* "$R"/cold*.json* \
          "$R"/rss_* "$R"/MISMATCH "$R"/run.txt
    echo "$(date -u +%FT%TZ), ctxd $CTXD_SHA, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" > "$R/run.txt"
    (cd "$T" && find . -mindepth 1 -printf '%y %s\n') | awk '
        $1=="f" {f++; b+=$2} $1=="d" {d++} $1=="l" {l++}
        END {printf "{\"files\": %d, \"dirs\": %d, \"symlinks\": %d, \"file_bytes\": %.0f}\n", f, d, l, b}' \
        > "$R/tree.json"
    log "$P: warming the page cache"
    warm "$T"

    # ---------- 2. same entries? ----------
    log "$P: check: docker build -> sink (saving the tar) vs ctxd pack --exact"
    local CHK="$DIR/check-$P"
    rm -rf "$CHK"; mkdir -p "$CHK"
    start_sink "$SOCK" "$R/check_sink.jsonl" --save-dir "$CHK"
    local spid=$SINK_PID
    DOCKER_HOST="unix://$SOCK" "$DOCKER" build -f "$DF" -t ctxbench-check "$T" > "$R/check_docker_build.txt" 2>&1 \
        || { stop_sink "$spid"; cat "$R/check_docker_build.txt" >&2; die "$P: docker build to the sink failed"; }
    stop_sink "$spid"
    "$CTXD" pack --exact -f "$DF" -o "$CHK/ctxd.tar" "$T" 2> "$R/check_ctxd.stderr" \
        || { cat "$R/check_ctxd.stderr" >&2; die "$P: ctxd pack failed"; }
    if ! python3 "$HERE/compare_tars.py" --json "$R/check.json" --entries0 "$R/sent.entries0" \
            --files0 "$R/sent.files0" "$CHK/build-0001.tar" "$CHK/ctxd.tar"; then
        echo "$P: docker and ctxd send DIFFERENT entries: no numbers for $P (tars kept in $CHK)" >&2
        touch "$R/MISMATCH"
        MISMATCH=1
        return 0
    fi
    [ "${KEEP_TARS:-0}" = 1 ] || rm -rf "$CHK"

    # ---------- 3. warm timings, one hyperfine invocation ----------
    mkdir -p "$DIR/empty-context"
    printf 'FROM scratch\n' > "$DIR/empty-context/Dockerfile"
    local A="DOCKER_HOST=unix://$SOCK $DOCKER build -f $DF -t ctxbench-a $T"
    local A0="DOCKER_HOST=unix://$SOCK $DOCKER build -t ctxbench-a0 $DIR/empty-context"
    local B="$CTXD pack --exact -f $DF -o - $T > /dev/null"
    local C="$CTXD pack --exact -f $DF -o - $T | cat > /dev/null"
    # references: GNU tar of docker's exact entry list through the same pipe,
    # and the read floor (open+read+close of docker's files, one buffer)
    local REFS=() COLD_REFS=()
    if [ "$REF" = 1 ]; then
        REFS=(-n tar-list-pipe "set -o pipefail; cd $T && tar --no-recursion --null -T $R/sent.entries0 -cf - | cat > /dev/null"
              -n readfloor "cd $T && $FLOOR < $R/sent.files0")
        COLD_REFS=(-n readfloor "cd $T && $FLOOR < $R/sent.files0")
    fi
    start_sink "$SOCK" "$R/warm_sink.jsonl"
    spid=$SINK_PID
    log "$P: timing (hyperfine): docker build -> sink, ctxd pack > /dev/null, ctxd pack | cat"
    hyperfine --style basic --shell bash --warmup 1 --runs "$RUNS" --export-json "$R/warm.json" \
        -n docker-build "set -o pipefail; $A" \
        -n ctxd-devnull "set -o pipefail; $B" \
        -n ctxd-pipe "set -o pipefail; $C" \
        -n docker-empty "set -o pipefail; $A0" \
        "${REFS[@]}"
    if [ "$ALT" = 1 ]; then
        stop_sink "$spid"
        start_sink "$SOCK" "$R/alt_sink.jsonl"
        spid=$SINK_PID
        log "$P: timing, interleaved rounds (alt_time.py)"
        python3 "$HERE/alt_time.py" --rounds "$RUNS" --warmup 1 --json "$R/alt.json" \
            "docker-build=$A" "ctxd-devnull=$B" "ctxd-pipe=$C"
    fi

    # ---------- 4. peak RSS ----------
    log "$P: peak RSS (/usr/bin/time -v), $RSS_RUNS runs each"
    local i
    for i in $(seq "$RSS_RUNS"); do
        /usr/bin/time -v -o "$R/time_ctxd.tmp" "$CTXD" pack --exact -f "$DF" -o - "$T" > /dev/null
        awk -F': ' '/Maximum resident set size/ {print $2}' "$R/time_ctxd.tmp" >> "$R/rss_ctxd.txt"
        DOCKER_HOST="unix://$SOCK" /usr/bin/time -v -o "$R/time_docker.tmp" \
            "$DOCKER" build -f "$DF" -t ctxbench-rss "$T" > /dev/null 2>> "$R/rss_docker.stderr"
        awk -F': ' '/Maximum resident set size/ {print $2}' "$R/time_docker.tmp" >> "$R/rss_docker.txt"
    done
    rm -f "$R/time_ctxd.tmp" "$R/time_docker.tmp"
    echo "ctxd max RSS KiB: $(tr '\n' ' ' < "$R/rss_ctxd.txt"); docker CLI: $(tr '\n' ' ' < "$R/rss_docker.txt")" >&2

    # ---------- 5. cold page cache ----------
    if [ "$COLD" = 1 ] && [[ "$COLD_PRESETS" == *" $P "* ]]; then
        stop_sink "$spid"
        start_sink "$SOCK" "$R/cold_sink.jsonl"
        spid=$SINK_PID
        log "$P: cold page cache (drop_caches before every run), $COLD_RUNS runs"
        hyperfine --style basic --shell bash --runs "$COLD_RUNS" --prepare "$DROP" --export-json "$R/cold.json" \
            -n docker-build "set -o pipefail; $A" \
            -n ctxd-devnull "set -o pipefail; $B" \
            "${COLD_REFS[@]}"
        warm "$T"
    fi
    stop_sink "$spid"
    rm -f "$SOCK"
    [ "$(stat -c %F /dev/null)" = "character special file" ] || die "/dev/null is no longer a character device!"
}

for P in "${PRESETS[@]}"; do
    bench_preset "$P"
done

log "results"
python3 "$HERE/summarize.py" "$DIR/results" | tee "$DIR/results.md"
echo "(written to $DIR/results.md)" >&2
[ "$MISMATCH" = 0 ] || die "docker and ctxd sent different entries for some preset: see above"
