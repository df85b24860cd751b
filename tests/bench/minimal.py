#!/usr/bin/env python3
"""minimal.py - how small and how fast ctxd's minimal context is (issue 5, item 9).

    tests/bench/minimal.py [--runs 5] [--no-image] [small medium large]

On the trees of ../shared/bench/gen_tree.py (seed 1), with their
Dockerfile.scratch (FROM scratch + the COPY steps of the real Dockerfile, so
a daemon without network can build it), per preset:

  bytes   one `DOCKER_BUILDKIT=0 docker build` and one `ctxd build` (the
          default --prune=dockerfile) to a fake daemon
          (../shared/bench/docker_sink.py) that records every tar entry: the
          entries, tar bytes and file content each one sends. ctxd's entries
          must be a subset of docker's.
  needed  what the image's COPY steps hold: the image is built on a private
          dockerd (root; --no-image skips it) from docker's context and from
          ctxd's, the two exported file sets must be identical, and the
          regular-file bytes are summed (hard links once; FROM scratch, so
          every file came from a COPY). Also computed from the Dockerfile's
          sources over docker's entry list (../shared/bench/needed_bytes.py).
          Target: content sent <= 1.02x needed.
  time    interleaved rounds (alt_time.py: A B C, B C A, ...) of the whole
          `docker build` -> sink, the whole `ctxd build` -> sink, and
          `ctxd pack | cat`; medians of --runs rounds after one warm-up,
          warm page cache. The sinks' first-to-last body byte times too.

Results: <dir>/results/<preset>/minimal.json; a Markdown table on stdout
(and in <dir>/minimal.md). Needs python3, the docker CLI 28.x first on PATH,
a built ctxd; for the image, root and dockerd (Debian's docker.io).
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import test_build as tb  # noqa: E402  (private dockerd, image export)

PRESETS = ("small", "medium", "large")
TARGET = 1.02
DOCKERFILE = "Dockerfile.scratch"


def die(msg):
    sys.exit(f"minimal.py: {msg}")


def log(msg):
    print(f"=== {msg}", file=sys.stderr, flush=True)


def find_docker():
    d = shutil.which("docker")
    if not d or os.path.realpath(d) == os.path.realpath("/usr/bin/docker"):
        die("the docker CLI first on PATH must be the 28.x one, not /usr/bin/docker")
    v = subprocess.run([d, "--version"], capture_output=True, text=True).stdout
    if not v.startswith("Docker version 28."):
        die(f"{d} is {v.strip()!r}, want 28.x")
    return d


def private_copy(ctxd, bindir):
    """Time a copy: the build directory may be rebuilt while this runs."""
    os.makedirs(bindir, exist_ok=True)
    dst = os.path.join(bindir, "ctxd-%d" % os.getpid())
    shutil.copy2(ctxd, dst)
    return dst


def tree(shared, root, preset, seed, regen, results):
    t = os.path.join(root, preset)
    done = os.path.join(root, f".{preset}.done")
    if regen or not os.path.exists(done):
        log(f"{preset}: generating the tree in {t}")
        subprocess.run([sys.executable, os.path.join(shared, "gen_tree.py"), "--preset", preset,
                        "--seed", str(seed), "--force", "--json",
                        os.path.join(results, "composition.json"), t],
                       check=True, stdout=subprocess.DEVNULL)
        open(done, "w").close()
    buf = bytearray(1 << 20)
    for d, _, files in os.walk(t):        # warm the page cache
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb", buffering=0) as fh:
                    while fh.readinto(buf):
                        pass
    return t


class Sink:
    """A docker_sink.py on its own socket; its log has one line per build."""

    def __init__(self, shared, d, name, names=False):
        self.sock = os.path.join(d, name + ".sock")
        self.log = os.path.join(d, name + ".jsonl")
        for p in (self.sock, self.log):
            if os.path.exists(p):
                os.unlink(p)
        argv = [sys.executable, os.path.join(shared, "docker_sink.py"), "--socket", self.sock,
                "--log", self.log]
        if names:
            argv += ["--names-dir", os.path.join(d, name + "-names")]
        self.err = open(self.log + ".stderr", "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(200):
            if os.path.exists(self.sock):
                return
            time.sleep(0.05)
        self.stop()
        die(f"docker_sink.py did not start ({self.log}.stderr)")

    def lines(self):
        try:
            with open(self.log) as f:
                return [json.loads(x) for x in f if x.strip()]
        except OSError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def read_names(path):
    """{name: (type, size)} from a sink's names file."""
    out = {}
    with open(path) as f:
        for line in f:
            kind, size, name = line.rstrip("\n").split("\t", 2)
            out[name] = (kind, int(size))
    return out


def run(argv, env, what):
    p = subprocess.run(argv, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        die(f"{what} failed ({p.returncode}): {p.stderr[-1500:]}")
    return p


def check_bytes(ctx, docker, ctxd, shared, d, env):
    """One build of each to a sink that records the entries."""
    sink = Sink(shared, d, "check", names=True)
    try:
        e = dict(env, DOCKER_HOST="unix://" + sink.sock)
        df = os.path.join(ctx, DOCKERFILE)
        run([docker, "build", "-f", df, "-t", "ctxbench-minimal", ctx], e, "docker build -> sink")
        p = run([ctxd, "build", "-f", df, "-t", "ctxbench-minimal", ctx], e, "ctxd build -> sink")
        summary = [x for x in p.stderr.splitlines() if x.startswith("ctxd:")]
    finally:
        sink.stop()
    lines = sink.lines()
    if len(lines) != 2:
        die(f"the check sink logged {len(lines)} builds, want 2 ({sink.log})")
    dl, cl = lines
    dn, cn = read_names(dl["names_file"]), read_names(cl["names_file"])
    extra = sorted(set(cn) - set(dn))
    if extra:
        die(f"ctxd sent entries docker does not: {extra[:10]}")
    differ = [n for n in cn if cn[n] != dn[n]]
    if differ:
        die(f"ctxd sent entries that differ from docker's (type, size): {differ[:10]}")
    needed_json = os.path.join(d, "needed.json")
    subprocess.run([sys.executable, os.path.join(shared, "needed_bytes.py"), "--names", dl["names_file"],
                    "--dockerfile", df, "--json", needed_json, "--list", os.path.join(d, "needed.list")],
                   check=True, stdout=subprocess.DEVNULL)
    with open(needed_json) as f:
        needed = json.load(f)["needed"]
    keys = ("body_bytes", "tar_bytes", "entries", "files", "dirs", "symlinks", "hardlinks", "content_bytes")
    return {"docker": {k: dl[k] for k in keys}, "ctxd": {k: cl[k] for k in keys},
            "needed_model": needed, "ctxd_summary": summary}


def image_bytes(files_links):
    """Regular-file content bytes of an image_fs() result, a hard-link group once."""
    files, links = files_links
    total = sum(r["size"] for r in files.values() if r["type"] == "file")
    for g in links:
        total -= (len(g) - 1) * files[next(iter(g))]["size"]
    return total, sum(r["type"] == "file" for r in files.values())


def check_image(ctx, ctxd):
    """Build Dockerfile.scratch with docker's context and ctxd's on a private
    dockerd; the file sets must agree; what the COPY steps hold."""
    df = os.path.join(ctx, DOCKERFILE)
    tb.docker_build(["-q", "-t", "ctxbench-min:docker", "-f", df, ctx], cwd=ctx)
    rc, out, err = tb.ctxd("build", "-q", "--builder-version", "1", "-t", "ctxbench-min:ctxd",
                           "-f", df, ctx, cwd=ctx, timeout=900)
    if rc != 0:
        die(f"ctxd build on the private dockerd failed ({rc}): {err[-1500:]}")
    ref, got = tb.image_fs("ctxbench-min:docker"), tb.image_fs("ctxbench-min:ctxd")
    diff = tb.fs_diff(ref, got)
    nbytes, nfiles = image_bytes(ref)
    for t in ("ctxbench-min:docker", "ctxbench-min:ctxd"):
        tb.docker("rmi", "-f", t, check=False)
    return {"identical": not diff, "differences": diff[:20], "content_bytes": nbytes, "files": nfiles}


def timings(ctx, docker, ctxd, shared, d, env, runs):
    sinks = {"docker": Sink(shared, d, "t-docker"), "ctxd": Sink(shared, d, "t-ctxd")}
    df = os.path.join(ctx, DOCKERFILE)
    q = lambda s: "'" + s.replace("'", "'\\''") + "'"  # noqa: E731
    cmds = [
        f"docker-build=DOCKER_HOST=unix://{q(sinks['docker'].sock)} {q(docker)} build -f {q(df)} -t ctxbench-a {q(ctx)} 2>/dev/null",
        f"ctxd-build=DOCKER_HOST=unix://{q(sinks['ctxd'].sock)} {q(ctxd)} build -f {q(df)} -t ctxbench-b {q(ctx)} 2>/dev/null",
        f"ctxd-pack={q(ctxd)} pack -f {q(df)} -o - {q(ctx)} 2>/dev/null | cat > /dev/null",
    ]
    out = os.path.join(d, "alt.json")
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "alt_time.py"), "--rounds", str(runs),
                        "--warmup", "1", "--json", out] + cmds, env=env, check=True, stdout=sys.stderr)
    finally:
        for s in sinks.values():
            s.stop()
    with open(out) as f:
        res = {r["command"]: r for r in json.load(f)["results"]}
    for name, s in sinks.items():
        xs = [x["first_to_last_s"] for x in s.lines()[1:]]   # the first is the warm-up
        res[name + "-build"]["sink_first_to_last_median"] = statistics.median(xs) if xs else None
    return res


def start_daemon(docker, ctxd):
    """A private dockerd under /tmp/ctxd-minimal-bench-dockerd-* (the e2e
    suite's helpers; tb.cleanup() stops it)."""
    tb.DOCKER, tb.CTXD = docker, ctxd
    tb.T = tempfile.mkdtemp(prefix="ctxd-minimal-bench-dockerd-", dir="/tmp")
    os.chmod(tb.T, 0o755)
    for sub in ("tmp", "config"):
        os.makedirs(os.path.join(tb.T, sub))
    why = tb.start_daemon()
    if why:
        die(why)


def mb(b):
    return f"{b / 1e6:,.1f} MB"


def table(results):
    rows = ["| preset | docker sends | ctxd sends | image's COPY steps hold | ctxd sent / needed | "
            "docker build -> sink | ctxd build -> sink | ctxd pack \\| cat | docker / ctxd build |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p, r in results.items():
        b, t = r["bytes"], r.get("time")
        need = r["needed_bytes"]
        ratio = b["ctxd"]["content_bytes"] / need if need else float("nan")
        cells = [p,
                 f"{b['docker']['files']:,} files, {mb(b['docker']['content_bytes'])} ({mb(b['docker']['body_bytes'])} tar)",
                 f"{b['ctxd']['files']:,} files, {mb(b['ctxd']['content_bytes'])} ({mb(b['ctxd']['body_bytes'])} tar)",
                 f"{r['needed_files']:,} files, {mb(need)} ({r['needed_from']})",
                 f"{ratio:.4f}x {'ok' if ratio <= TARGET else 'OVER'}"]
        if t:
            d, c, k = (t[n]["median"] for n in ("docker-build", "ctxd-build", "ctxd-pack"))
            cells += [f"{d:.3f} s", f"{c:.3f} s", f"{k:.3f} s", f"{d / c:.1f}x"]
        else:
            cells += [""] * 4
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("presets", nargs="*", metavar="PRESET", help="small, medium, large (default: small medium)")
    ap.add_argument("--runs", type=int, default=5, help="timed rounds after one warm-up (default 5)")
    ap.add_argument("--dir", default=os.environ.get("CTXD_BENCH_DIR", "/tmp/ctxd-minimal-bench"))
    ap.add_argument("--ctxd", default=os.path.join(REPO, "build", "ctxd"))
    ap.add_argument("--shared", default=os.environ.get("CTXD_BENCH_SHARED", os.path.join(REPO, "..", "shared", "bench")))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--regen", action="store_true", help="regenerate existing trees")
    ap.add_argument("--no-image", action="store_true", help="no private dockerd: needed bytes from the Dockerfile only")
    ap.add_argument("--no-time", action="store_true", help="bytes only")
    a = ap.parse_args()
    a.presets = a.presets or ["small", "medium"]
    for p in a.presets:
        if p not in PRESETS:
            ap.error(f"unknown preset {p!r} (small, medium, large)")

    root = os.path.abspath(a.dir)
    if (root + "/").startswith(REPO + "/"):
        die(f"--dir {root} is inside the repository; use a directory under /tmp")
    shared = os.path.abspath(a.shared)
    for f in ("gen_tree.py", "docker_sink.py", "needed_bytes.py"):
        if not os.path.exists(os.path.join(shared, f)):
            die(f"no {f} in {shared} (--shared)")
    if not os.access(a.ctxd, os.X_OK):
        die(f"no ctxd binary at {a.ctxd} (--ctxd)")
    docker = find_docker()
    os.makedirs(os.path.join(root, "results"), exist_ok=True)
    ctxd = private_copy(os.path.abspath(a.ctxd), os.path.join(root, "bin"))
    conf = tempfile.mkdtemp(prefix="docker-config.", dir=root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_BUILDKIT="0", DOCKER_CONFIG=conf, LC_ALL="C.UTF-8")

    image = not a.no_image
    if image and (os.geteuid() != 0 or not shutil.which("dockerd")):
        die("the image step needs root and dockerd (or pass --no-image)")
    results = {}
    try:
        if image:
            start_daemon(docker, ctxd)
        for p in a.presets:
            d = os.path.join(root, "results", p)
            os.makedirs(d, exist_ok=True)
            ctx = tree(shared, root, p, a.seed, a.regen, d)
            log(f"{p}: bytes (docker and ctxd -> sink)")
            r = {"preset": p, "date": time.strftime("%Y-%m-%d"), "runs": a.runs,
                 "bytes": check_bytes(ctx, docker, ctxd, shared, d, env)}
            if image:
                log(f"{p}: image built on a private dockerd from both contexts")
                r["image"] = check_image(ctx, ctxd)
                if not r["image"]["identical"]:
                    die(f"{p}: the images differ: {r['image']['differences']}")
                r["needed_bytes"], r["needed_files"] = r["image"]["content_bytes"], r["image"]["files"]
                r["needed_from"] = "image"
            else:
                m = r["bytes"]["needed_model"]
                r["needed_bytes"], r["needed_files"], r["needed_from"] = m["content_bytes"], m["files"], "Dockerfile"
            r["sent_over_needed"] = r["bytes"]["ctxd"]["content_bytes"] / max(1, r["needed_bytes"])
            if not a.no_time:
                log(f"{p}: timings, {a.runs} interleaved rounds")
                r["time"] = timings(ctx, docker, ctxd, shared, d, env, a.runs)
            with open(os.path.join(d, "minimal.json"), "w") as f:
                json.dump(r, f, indent=2)
            results[p] = r
    finally:
        if image:
            tb.cleanup()
        shutil.rmtree(conf, ignore_errors=True)
        os.unlink(ctxd)
    md = table(results)
    with open(os.path.join(root, "minimal.md"), "w") as f:
        f.write(md + "\n")
    print(md)
    over = [p for p, r in results.items() if r["sent_over_needed"] > TARGET]
    if over:
        print(f"minimal.py: sent more than {TARGET}x the needed bytes on {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
