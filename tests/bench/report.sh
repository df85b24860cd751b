#!/usr/bin/env bash
# report.sh - time `ctxd report` against `ctxd ls` on the same tree: the
# report must cost no more than listing the context (one scan, aggregated).
#
#   tests/bench/report.sh [small|medium|large ...]      (default: large)
#
# Per preset of ../shared/bench/gen_tree.py (seed 1): generate the tree under
# $CTXD_BENCH_DIR (reused when it exists), warm the page cache, then one
# hyperfine invocation of `ctxd ls PATH`, `ctxd report PATH`, `ctxd report
# --json PATH` and `ctxd report --html FILE PATH` (stdout to /dev/null, the
# history kept in a scratch XDG_STATE_HOME). Prints a table of medians
# (and min, mean) relative to ls's median, also written as Markdown to
# $CTXD_BENCH_DIR/report-<preset>.md (hyperfine's JSON beside it).
#
# Knobs (environment):
#   CTXD_BENCH_DIR    trees and results            (default /tmp/ctxbench-ctxd)
#   CTXD              the binary                   (default <repo>/build/ctxd)
#   CTXD_BENCH_SHARED gen_tree.py                  (default <repo>/../shared/bench)
#   RUNS              timed runs                   (default 10, plus 2 warm-ups)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${CTXD_BENCH_DIR:-/tmp/ctxbench-ctxd}
ctxd=${CTXD:-$top/build/ctxd}
shared=${CTXD_BENCH_SHARED:-$top/../shared/bench}
runs=${RUNS:-10}
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(large)
command -v hyperfine >/dev/null || { echo "report.sh: needs hyperfine" >&2; exit 2; }
mkdir -p "$dir"
bin=$dir/ctxd-report-bench
cp "$ctxd" "$bin"   # a private copy: a rebuild during the run does not change it
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

for p in "${presets[@]}"; do
  tree=$dir/$p
  [ -d "$tree" ] || python3 "$shared/gen_tree.py" --preset "$p" "$tree" >/dev/null
  "$bin" ls "$tree" >/dev/null 2>&1   # warm the page cache
  echo "== $p: $(uptime | sed 's/.*load/load/')"
  XDG_STATE_HOME=$state hyperfine -N -w 2 -r "$runs" --export-json "$dir/report-$p.json" \
    -n "ctxd ls" "$bin ls $tree" \
    -n "ctxd report" "$bin report $tree" \
    -n "ctxd report --json" "$bin report --json $tree" \
    -n "ctxd report --html" "$bin report --html $state/r.html $tree" \
    --output=null
  python3 - "$dir/report-$p.json" >"$dir/report-$p.md" <<'EOF'
import json, statistics, sys
rs = json.load(open(sys.argv[1]))["results"]
base = statistics.median(rs[0]["times"])
print("| command | median | min | mean ± σ | median / ls's |")
print("|---|---:|---:|---:|---:|")
for r in rs:
    t = r["times"]
    print(f"| `{r['command']}` | {statistics.median(t) * 1000:.0f} ms | {min(t) * 1000:.0f} ms | "
          f"{r['mean'] * 1000:.0f} ms ± {r['stddev'] * 1000:.0f} | {statistics.median(t) / base:.2f} |")
EOF
  cat "$dir/report-$p.md"
done
