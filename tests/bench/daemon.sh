#!/usr/bin/env bash
# daemon.sh - `ctxd pack --exact` answered by the daemon (warm) against the
# same command walking the tree (--no-daemon, cold) and the docker CLI
# sending the same context to a fake daemon (docker_sink.py).
#
#   tests/bench/daemon.sh [medium|large ...]        (default: medium large)
#
# Per preset of ../shared/bench/gen_tree.py (seed 1), tree under
# $CTXD_BENCH_DIR (reused when it exists), page cache warm:
#   - time to the first byte of the tar on stdout, and total time, of
#     `ctxd pack --exact` warm and cold (median of RUNS), and the docker
#     CLI's total time to the sink
#   - the daemon's RSS growth per indexed entry, and `ctxd status`'s own
#     bytes per entry
#   - time from a one-file edit to an answer that holds it (median of RUNS)
# Prints a Markdown table. Knobs: CTXD_BENCH_DIR (default /tmp/ctxbench-ctxd),
# CTXD (default <repo>/build/ctxd), CTXD_BENCH_SHARED, RUNS (default 5).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${CTXD_BENCH_SHARED:-$REPO/../shared/bench}"
CTXD="${CTXD:-$REPO/build/ctxd}"
DIR="${CTXD_BENCH_DIR:-/tmp/ctxbench-ctxd}"
RUNS="${RUNS:-5}"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(medium large)

mkdir -p "$DIR"
for p in "${presets[@]}"; do
  [ -d "$DIR/$p" ] || python3 "$SHARED/gen_tree.py" --preset "$p" --seed 1 "$DIR/$p" >/dev/null
done

python3 - "$CTXD" "$DIR" "$SHARED" "$RUNS" "${presets[@]}" <<'PY'
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

ctxd, top, shared, runs, presets = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
work = tempfile.mkdtemp(prefix="ctxd-bench-daemon-", dir="/tmp")
os.chmod(work, 0o700)
sock = os.path.join(work, "ctxd.sock")
env = {**os.environ, "CTXD_SOCKET": sock}
env.pop("DOCKER_BUILDKIT", None)


def pack(root, *opts):
    """(seconds to the first byte, seconds in all) of ctxd pack --exact."""
    t0 = time.perf_counter()
    p = subprocess.Popen([ctxd, "pack", "--exact", "-q", *opts, root], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.read(1)
    t1 = time.perf_counter()
    while p.stdout.read(1 << 20):
        pass
    p.wait()
    assert p.returncode == 0
    return t1 - t0, time.perf_counter() - t0


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def docker_total(root):
    s = os.path.join(work, "sink.sock")
    sink = subprocess.Popen([sys.executable, os.path.join(shared, "docker_sink.py"), "--socket", s],
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(s):
            break
        time.sleep(0.05)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["docker", "build", "-q", root], env={**env, "DOCKER_HOST": f"unix://{s}",
                       "DOCKER_BUILDKIT": "0"}, capture_output=True, check=True)
        ts.append(time.perf_counter() - t0)
    sink.terminate()
    sink.wait()
    return statistics.median(ts)


log = open(os.path.join(work, "daemon.log"), "w")
d = subprocess.Popen([ctxd, "daemon", "--foreground"], env=env, stdout=log, stderr=log)
rows = []
try:
    for _ in range(100):
        if subprocess.run([ctxd, "status"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    for preset in presets:
        root = os.path.join(top, preset)
        subprocess.run([ctxd, "pack", "--exact", "-q", "--no-daemon", root], env=env,
                       stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        before = rss_kib(d.pid)
        subprocess.run([ctxd, "watch", root], env=env, capture_output=True, check=True)
        after = rss_kib(d.pid)
        st = json.loads(subprocess.run([ctxd, "status", "--json"], env=env, capture_output=True,
                                       check=True).stdout)
        proj = [x for x in st["projects"] if x["root"] == os.path.realpath(root)][0]
        warm = [pack(root) for _ in range(runs)]
        cold = [pack(root, "--no-daemon") for _ in range(runs)]
        edit = []
        victim = os.path.join(root, "package.json")
        for i in range(runs):
            with open(victim, "a") as f:
                f.write(" ")
            t0 = time.perf_counter()
            out = subprocess.run([ctxd, "ls", "--json", "--exact", root], env=env,
                                 capture_output=True, check=True).stdout
            edit.append(time.perf_counter() - t0)
            size = [e["size"] for e in json.loads(out)["entries"] if e["path"] == "package.json"][0]
            assert size == os.path.getsize(victim), "the answer missed the edit"
        rows.append((preset, proj["entries"],
                     statistics.median(t for t, _ in warm), statistics.median(t for _, t in warm),
                     statistics.median(t for t, _ in cold), statistics.median(t for _, t in cold),
                     docker_total(root) if shutil.which("docker") else float("nan"),
                     (after - before) * 1024 / max(proj["entries"], 1), proj["bytes_per_entry"],
                     statistics.median(edit)))
        subprocess.run([ctxd, "unwatch", root], env=env, capture_output=True)
finally:
    d.send_signal(signal.SIGTERM)
    d.wait()
    shutil.rmtree(work, ignore_errors=True)

print("| preset | entries | warm first byte | warm total | cold first byte | cold total | docker total "
      "| daemon RSS per entry | index bytes per entry | edit to answer |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r[0]} | {r[1]:,} | {r[2]*1000:.1f} ms | {r[3]:.3f} s | {r[4]*1000:.1f} ms | {r[5]:.3f} s "
          f"| {r[6]:.3f} s | {r[7]:.0f} B | {r[8]} B | {r[9]*1000:.1f} ms |")
PY
