#!/usr/bin/env bash
# daemon.sh - `ctxd pack` answered by the daemon (warm) against the same
# command walking the tree (--no-daemon, cold) and the docker CLI sending the
# same context to a fake daemon (docker_sink.py).
#
#   tests/bench/daemon.sh [medium|large ...]        (default: medium large)
#
# Per preset of ../shared/bench/gen_tree.py (seed 1), tree under
# $CTXD_BENCH_DIR (generated when missing), page cache warm, the build lock
# (/tmp/ctxd-build.lock) held while timing:
#   - time to the first byte of the tar on stdout of `ctxd pack --exact -q`
#     and of the default `ctxd pack` (Dockerfile-pruned, with the summary,
#     whose git figures open the tree's repository), warm and cold (median
#     of FB_RUNS rounds that run each command once, measured from the
#     spawn), and of
#     `ctxd help` (the process start the first byte cannot beat; `ctxd
#     version` loads libgit2 to print its version)
#   - total time (hyperfine medians of RUNS) of `ctxd pack --exact` and of
#     the Dockerfile-pruned `ctxd pack`, warm and cold, and of the docker CLI
#     (DOCKER_BUILDKIT=0 docker build, the --exact context) to the sink
#   - the daemon's RSS growth per indexed entry, and `ctxd status`'s own
#     bytes per entry
#   - time from a one-file edit to an answer that holds it (the whole
#     `ctxd ls --json --exact` after the edit; median of RUNS)
# Prints a Markdown table. Knobs: CTXD_BENCH_DIR (default
# /tmp/ctxd-daemon-bench), CTXD (default <repo>/build/ctxd),
# CTXD_BENCH_SHARED, RUNS (default 10), FB_RUNS (default 31).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${CTXD_BENCH_SHARED:-$REPO/../shared/bench}"
CTXD="${CTXD:-$REPO/build/ctxd}"
DIR="${CTXD_BENCH_DIR:-/tmp/ctxd-daemon-bench}"
RUNS="${RUNS:-10}"
FB_RUNS="${FB_RUNS:-31}"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(medium large)
command -v hyperfine >/dev/null || { echo "daemon.sh: hyperfine is needed" >&2; exit 1; }
[ -f "$SHARED/docker_sink.py" ] || { echo "daemon.sh: no $SHARED/docker_sink.py (set CTXD_BENCH_SHARED)" >&2; exit 1; }

mkdir -p "$DIR"
for p in "${presets[@]}"; do
  [ -d "$DIR/$p" ] || python3 "$SHARED/gen_tree.py" --preset "$p" --seed 1 "$DIR/$p" >/dev/null
done

python3 - "$CTXD" "$DIR" "$SHARED" "$RUNS" "$FB_RUNS" "${presets[@]}" <<'PY'
import fcntl, json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

ctxd, top, shared, runs, fb_runs, presets = (sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                                             int(sys.argv[5]), sys.argv[6:])
work = tempfile.mkdtemp(prefix="ctxd-bench-daemon-", dir="/tmp")
os.chmod(work, 0o700)
sock = os.path.join(work, "ctxd.sock")
sink_sock = os.path.join(work, "sink.sock")
env = {**os.environ, "CTXD_SOCKET": sock, "CTXD_DAEMON": "1",
       "DOCKER_HOST": f"unix://{sink_sock}", "DOCKER_BUILDKIT": "0"}


def first_byte(*argv):
    """Seconds from the spawn to the first byte on stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.read(1)
    t = time.perf_counter() - t0
    while p.stdout.read(1 << 20):
        pass
    p.wait()
    assert p.returncode == 0, argv
    return t


def median_first_bytes(*cmds):
    """Median first byte of each command over FB_RUNS rounds, the commands
    interleaved so the machine's noise hits them alike."""
    for argv in cmds:
        first_byte(*argv)
    times = [[] for _ in cmds]
    for _ in range(fb_runs):
        for i, argv in enumerate(cmds):
            times[i].append(first_byte(*argv))
    return [statistics.median(t) for t in times]


def hyperfine(cmds):
    """Median seconds of each command (a shell-free hyperfine run)."""
    out = os.path.join(work, "hf.json")
    subprocess.run(["hyperfine", "-N", "-i", "--warmup", "1", "--runs", str(runs), "--export-json", out,
                    *cmds], env=env, capture_output=True, check=True)
    res = json.load(open(out))["results"]
    for r in res:
        if any(r["exit_codes"]):
            p = subprocess.run(r["command"].split(), env=env, capture_output=True, text=True)
            sys.exit(f"{r['command']}: exit codes {r['exit_codes']}; again: {p.returncode} {p.stderr[-1000:]}")
    return [r["median"] for r in res]


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


log = open(os.path.join(work, "daemon.log"), "w")


def start_daemon():
    """A fresh daemon per preset: its RSS growth is that tree's index alone."""
    p = subprocess.Popen([ctxd, "daemon", "--foreground"], env=env, stdout=log, stderr=log)
    for _ in range(100):
        if subprocess.run([ctxd, "status"], env=env, capture_output=True).returncode == 0:
            return p
        time.sleep(0.05)
    raise SystemExit("the daemon did not start")


def stop_daemon(p):
    p.send_signal(signal.SIGTERM)
    p.wait()


d = None
sink = subprocess.Popen([sys.executable, os.path.join(shared, "docker_sink.py"), "--socket", sink_sock],
                        stderr=subprocess.DEVNULL)
lock = open("/tmp/ctxd-build.lock", "a")
rows = []
try:
    for _ in range(100):
        if os.path.exists(sink_sock):
            break
        time.sleep(0.05)
    assert sink.poll() is None, "the sink did not start"
    for preset in presets:
        root = os.path.join(top, preset)
        d = start_daemon()
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            subprocess.run([ctxd, "pack", "--exact", "-q", "--no-daemon", "-o", "/dev/null", root],
                           env=env, check=True)  # warm the page cache
            before = rss_kib(d.pid)
            subprocess.run([ctxd, "watch", root], env=env, capture_output=True, check=True)
            after = rss_kib(d.pid)
            st = json.loads(subprocess.run([ctxd, "status", "--json"], env=env, capture_output=True,
                                           check=True).stdout)
            proj = [x for x in st["projects"] if x["root"] == os.path.realpath(root)][0]
            fb_start, fb_warm, fb_cold, fb_pack_warm, fb_pack_cold = median_first_bytes(
                (ctxd, "help"), (ctxd, "pack", "--exact", "-q", root),
                (ctxd, "pack", "--exact", "-q", "--no-daemon", root), (ctxd, "pack", root),
                (ctxd, "pack", "--no-daemon", root))
            t = hyperfine([f"{ctxd} pack --exact -q -o /dev/null {root}",
                           f"{ctxd} pack --exact -q --no-daemon -o /dev/null {root}",
                           f"{ctxd} pack -q -o /dev/null {root}",
                           f"{ctxd} pack -q --no-daemon -o /dev/null {root}",
                           f"docker build -q {root}",
                           f"{ctxd} ls --json --exact {root}"])
            edit = []
            victim = os.path.join(root, "package.json")
            for _ in range(runs):
                with open(victim, "a") as f:
                    f.write(" ")
                t0 = time.perf_counter()
                out = subprocess.run([ctxd, "ls", "--json", "--exact", root], env=env,
                                     capture_output=True, check=True).stdout
                edit.append(time.perf_counter() - t0)
                size = [e["size"] for e in json.loads(out)["entries"] if e["path"] == "package.json"][0]
                assert size == os.path.getsize(victim), "the answer missed the edit"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        rows.append(dict(preset=preset, entries=proj["entries"], fb_start=fb_start, fb_warm=fb_warm,
                         fb_cold=fb_cold, fb_pack_warm=fb_pack_warm, fb_pack_cold=fb_pack_cold,
                         exact_warm=t[0], exact_cold=t[1], pruned_warm=t[2],
                         pruned_cold=t[3], docker=t[4], ls_warm=t[5],
                         rss=(after - before) * 1024 / max(proj["entries"], 1),
                         index=proj["bytes_per_entry"], edit=statistics.median(edit)))
        stop_daemon(d)
        d = None
finally:
    if d:
        stop_daemon(d)
    sink.terminate()
    sink.wait()
    shutil.rmtree(work, ignore_errors=True)

ms = lambda s: f"{s * 1000:.1f} ms"
print("| preset | entries | first byte, `pack --exact -q`: warm / cold / `ctxd help` "
      "| first byte, `pack`: warm / cold | `pack --exact`: warm / cold "
      "/ docker CLI | `pack` (pruned): warm / cold | daemon RSS per entry | index bytes per entry "
      "| edit to answer (`ls --json`, unedited) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['preset']} | {r['entries']:,} | {ms(r['fb_warm'])} / {ms(r['fb_cold'])} / "
          f"{ms(r['fb_start'])} | {ms(r['fb_pack_warm'])} / {ms(r['fb_pack_cold'])} "
          f"| {ms(r['exact_warm'])} / {ms(r['exact_cold'])} / {ms(r['docker'])} "
          f"| {ms(r['pruned_warm'])} / {ms(r['pruned_cold'])} | {r['rss']:.0f} B | {r['index']} B "
          f"| {ms(r['edit'])} ({ms(r['ls_warm'])}) |")
PY
