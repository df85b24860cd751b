#!/usr/bin/env bash
# compress.sh - what --compress buys on a slow link: `ctxd build` through a
# rate-limited loopback proxy (rate_proxy.py) to a private dockerd, for each
# of --compress=none, gzip and xz, at each uplink rate.
#
#   tests/bench/compress.sh [small|medium|large]      (default: medium)
#
# Per rate (RATES, default "10MB 1MB": bytes per second, client to daemon):
# a proxy on 127.0.0.1 in front of the daemon's unix socket; per mode, one
# hyperfine invocation (RUNS timed runs, 1 warm-up) of
#   ctxd build --builder-version 1 --compress=MODE -H tcp://127.0.0.1:PORT \
#       -f T/Dockerfile.scratch T
# and the bytes that crossed the proxy (client to daemon) per build. Context
# sets (CONTEXTS, default "pruned full"): "pruned" is ctxd's default minimal
# context for Dockerfile.scratch, "full" adds --prune=off (what docker sends);
# "full" runs only at the rates in FULL_RATES (default "10MB": at 1 MB/s one
# uncompressed build of the medium tree takes minutes). The classic builder's
# cache makes every run after the first a cached rebuild, so the time is the
# upload and the daemon's unpacking of the context.
#
# Results of earlier invocations for other rates stay in the table, so slow
# rates can run with fewer runs: RATES=10MB tests/bench/compress.sh, then
# RATES=1MB RUNS=1 CONTEXTS=pruned tests/bench/compress.sh.
#
# Knobs: CTXD_BENCH_DIR (default /tmp/ctxd-bench-compress), CTXD (binary,
# default <repo>/build/ctxd), CTXD_BENCH_SHARED (gen_tree.py, default
# <repo>/../shared/bench), RUNS (3), RATES, MODES ("none gzip xz"),
# CONTEXTS, FULL_RATES, SEED (1). Needs root (dockerd), dockerd, curl,
# hyperfine, python3. Writes $CTXD_BENCH_DIR/compress-<preset>.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${CTXD_BENCH_SHARED:-$REPO/../shared/bench}"
CTXD="${CTXD:-$REPO/build/ctxd}"
DIR="${CTXD_BENCH_DIR:-/tmp/ctxd-bench-compress}"
RUNS="${RUNS:-3}"
RATES="${RATES:-10MB 1MB}"
MODES="${MODES:-none gzip xz}"
CONTEXTS="${CONTEXTS:-pruned full}"
FULL_RATES=" ${FULL_RATES:-10MB} "
SEED="${SEED:-1}"
PRESET="${1:-medium}"

# shellcheck source=dockerd.sh
. "$HERE/dockerd.sh"
BENCH_NAME=compress.sh
case "$PRESET" in small|medium|large) ;; *) die "unknown preset '$PRESET'";; esac
bench_setup python3 hyperfine dockerd curl

PROXY_PID=
cleanup() {
    [ -z "$PROXY_PID" ] || { kill "$PROXY_PID" 2> /dev/null; wait "$PROXY_PID" 2> /dev/null || true; }
    bench_dockerd_stop
}
trap cleanup EXIT

T="$DIR/$PRESET"
[ -d "$T" ] || python3 "$SHARED/gen_tree.py" --preset "$PRESET" --seed "$SEED" "$T" > "$DIR/gen-$PRESET.log"
find "$T" -type f -print0 | xargs -0 cat > /dev/null  # warm the page cache

bench_dockerd_start "$DIR/dockerd"
RES="$DIR/results-$PRESET"  # kept across invocations: one per rate is fine
mkdir -p "$RES"
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$CTXD" version 2>/dev/null | head -1)" >> "$RES/env"

for rate in $RATES; do
    rm -f "$RES/port" "$RES/$rate"-*
    python3 "$HERE/rate_proxy.py" --upstream "$BENCH_DOCKER_SOCK" --rate "$rate" \
        --stats "$RES/proxy-$rate.json" > "$RES/port" &
    PROXY_PID=$!
    for _ in $(seq 1 50); do [ -s "$RES/port" ] && break; sleep 0.1; done
    port=$(cat "$RES/port")
    [ -n "$port" ] || die "rate_proxy.py did not start"
    for ctx in $CONTEXTS; do
        extra=""
        if [ "$ctx" = full ]; then
            [[ "$FULL_RATES" == *" $rate "* ]] || continue
            extra="--prune=off"
        fi
        for mode in $MODES; do
            cmd="$CTXD build --progress=plain --builder-version 1 --compress=$mode $extra -H tcp://127.0.0.1:$port -t ctxbench-compress -f $T/Dockerfile.scratch $T"
            before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["up"])' "$RES/proxy-$rate.json")
            echo "== $rate/s, $ctx context, --compress=$mode" >&2
            hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$RES/$rate-$ctx-$mode.json" "$cmd" >&2
            sleep 0.5  # the proxy counts a connection when it closes
            after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["up"])' "$RES/proxy-$rate.json")
            echo "$(( (after - before) / (RUNS + 1) ))" > "$RES/$rate-$ctx-$mode.bytes"
        done
    done
    kill "$PROXY_PID"
    wait "$PROXY_PID" 2> /dev/null || true
    PROXY_PID=
done

python3 - "$RES" "$PRESET" <<'PY' | tee "$DIR/compress-$PRESET.md"
import glob, json, os, statistics, sys
res, preset = sys.argv[1], sys.argv[2]
rows = {}
for f in glob.glob(os.path.join(res, "*.json")):
    name = os.path.basename(f)[:-5]
    if name.startswith("proxy-"):
        continue
    rate, ctx, mode = name.split("-")
    times = json.load(open(f))["results"][0]["times"]
    wire = int(open(os.path.join(res, name + ".bytes")).read())
    rows[(rate, ctx, mode)] = (statistics.median(times), wire)
print(open(os.path.join(res, "env")).read().strip())
print(f"\n| preset | context | uplink | --compress | wire bytes | median time | vs none |")
print("|---|---|---|---|---:|---:|---:|")
order = {"none": 0, "gzip": 1, "xz": 2}
for (rate, ctx, mode) in sorted(rows, key=lambda k: (-float(k[0].rstrip("KMB")), k[1] != "pruned", order.get(k[2], 9))):
    t, wire = rows[(rate, ctx, mode)]
    base = rows.get((rate, ctx, "none"))
    vs = f"{base[0] / t:.2f}x" if base else ""
    print(f"| {preset} | {ctx} | {rate}/s | {mode} | {wire / 1e6:,.1f} MB | {t:.2f} s | {vs} |")
PY
