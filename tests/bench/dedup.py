#!/usr/bin/env python3
"""dedup.py - what `--dedup` saves on a tree with duplicate files (issue 5, item 4).

    tests/bench/dedup.py [--runs 5] [--preset medium]

The context is the node_modules/ of a ../shared/bench/gen_tree.py tree
(nested re-installs of the same packages, shared LICENSE texts: about a
third of its bytes are duplicates) with `FROM scratch` + `COPY . /app/`,
the image of a project that ships its dependencies. Per builder (classic
and BuildKit, POST /build to a private dockerd, root needed):

  bytes   `ctxd pack [--dedup]`: tar bytes, file content, hard links
  time    interleaved rounds of `ctxd build` with and without --dedup,
          one warm-up each, then --runs rounds; wall time of the whole
          build and the daemon's ingest: until the classic builder prints
          "Step 1/N" (the context is received and unpacked), or until
          BuildKit's "load remote build context" step is done. Cached
          rebuilds (only ingest and the cache check) and --no-cache builds
          (the COPY layer written too).
  pack    `ctxd pack [--dedup] | cat`: what hashing costs on the client.

Results: <dir>/results/dedup-<preset>/dedup.json and a Markdown table on
stdout (and in <dir>/dedup.md).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import minimal as mn  # noqa: E402  (tree generation, docker CLI check, the e2e helpers)

tb = mn.tb


def make_context(tree_dir, dst):
    """A copy of the tree's node_modules with a Dockerfile that copies it."""
    done = dst + ".done"
    if not os.path.exists(done):
        shutil.rmtree(dst, ignore_errors=True)
        os.makedirs(dst)
        subprocess.run(["cp", "-a", os.path.join(tree_dir, "node_modules"), dst], check=True)
        with open(os.path.join(dst, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY . /app/\n")
        open(done, "w").close()
    return dst


def pack_bytes(ctxd, ctx, dedup):
    """Tar bytes, file content bytes, files and hard links of ctxd pack."""
    argv = [ctxd, "pack", "-q", "-o", "-"] + (["--dedup"] if dedup else []) + [ctx]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)

    class Count:
        n = 0

        def __init__(self, f):
            self.f = f

        def read(self, k=-1):
            b = self.f.read(k)
            Count.n += len(b)
            return b

    r = {"files": 0, "hardlinks": 0, "content_bytes": 0, "linked_bytes": 0}
    sizes = {}
    with tarfile.open(fileobj=Count(p.stdout), mode="r|") as tf:
        for m in tf:
            if m.isfile():
                r["files"] += 1
                r["content_bytes"] += m.size
                sizes[m.name] = m.size
            elif m.islnk():
                r["hardlinks"] += 1
                r["linked_bytes"] += sizes.get(m.linkname, 0)
        while p.stdout.read(1 << 16):   # the end-of-archive blocks
            pass
    if p.wait() != 0:
        mn.die(f"ctxd pack exited {p.returncode}")
    r["tar_bytes"] = Count.n
    return r


# The classic builder prints its first step once the context is received
# and unpacked; BuildKit fetches the uploaded tar ("load remote build
# context") and unpacks it ("copy /context /") as two vertices.
STEP1 = re.compile(r"^Step 1/\d+ :")
BK_VERTEX = re.compile(r"^#(\d+) (\[internal\] load remote build context|copy /context /)\s*$")


def timed_build(ctxd, ctx, builder, dedup, no_cache, tag):
    """Wall time of one ctxd build and of its ingest (see the module doc)."""
    # stdbuf: ctxd's stdio buffers the daemon's messages on a pipe, and the
    # marks need each line when it is written
    argv = ["stdbuf", "-oL", "-eL", ctxd, "build", "--builder-version", str(builder),
            "--progress", "plain", "-t", tag]
    argv += (["--dedup"] if dedup else []) + (["--no-cache"] if no_cache else []) + [ctx]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=tb.base_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True, bufsize=1)
    ingest, vertices, done, lines = None, {}, {}, []
    for line in p.stdout:
        t = time.perf_counter() - t0
        lines.append(line)
        if builder == 1:
            if ingest is None and STEP1.match(line):
                ingest = t
            continue
        m = BK_VERTEX.match(line)
        if m:
            vertices[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^#(\d+) (DONE|CACHED)", line)
        if m and m.group(1) in vertices:
            done[vertices[m.group(1)]] = t
    if builder == 2:
        ingest = done.get("copy /context /", done.get("[internal] load remote build context"))
    if p.wait() != 0:
        mn.die(f"{' '.join(argv)} exited {p.returncode}:\n{''.join(lines[-30:])}")
    if ingest is None:
        mn.die(f"no ingest mark in the output of {' '.join(argv)}:\n{''.join(lines[:40])}")
    return time.perf_counter() - t0, ingest


def rounds(ctxd, ctx, builder, no_cache, runs):
    """Interleaved off/on rounds (order alternating), one warm-up each."""
    res = {False: {"total": [], "ingest": []}, True: {"total": [], "ingest": []}}
    for r in range(runs + 1):
        for dedup in ((False, True) if r % 2 == 0 else (True, False)):
            if no_cache:
                tb.docker("image", "prune", "-f", check=False)
                tb.docker("builder", "prune", "-f", check=False)
            total, ingest = timed_build(ctxd, ctx, builder, dedup, no_cache,
                                        f"ctxd-dedup-bench:{builder}-{int(dedup)}")
            if r > 0:
                res[dedup]["total"].append(total)
                res[dedup]["ingest"].append(ingest)
    return {("on" if k else "off"): {m: {"median": statistics.median(v), "min": min(v), "max": max(v),
                                         "times": v} for m, v in x.items()}
            for k, x in res.items()}


def table(r):
    b0, b1 = r["bytes"]["off"], r["bytes"]["on"]
    out = [f"Context: node_modules of the {r['preset']} tree, {b0['files']:,} files, "
           f"{b0['content_bytes'] / 1e6:,.1f} MB; `--dedup` sends {b1['hardlinks']:,} of them as hard links "
           f"({b1['linked_bytes'] / 1e6:,.1f} MB of content not sent). Tar bytes: "
           f"{b0['tar_bytes'] / 1e6:,.1f} MB without, {b1['tar_bytes'] / 1e6:,.1f} MB with "
           f"(-{100 * (1 - b1['tar_bytes'] / b0['tar_bytes']):.1f}%). Medians of {r['runs']} runs.",
           "",
           "| builder | build | ingest off | ingest --dedup | saved | total off | total --dedup | saved |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for key, x in r["time"].items():
        builder, mode = key.split(":")
        i0, i1 = x["off"]["ingest"]["median"], x["on"]["ingest"]["median"]
        t0, t1 = x["off"]["total"]["median"], x["on"]["total"]["median"]
        out.append(f"| {builder} | {mode} | {i0:.2f} s | {i1:.2f} s | {i0 - i1:+.2f} s "
                   f"({100 * (i0 - i1) / i0:.0f}%) | {t0:.2f} s | {t1:.2f} s | {t0 - t1:+.2f} s "
                   f"({100 * (t0 - t1) / t0:.0f}%) |")
    p = r["pack"]
    out += ["", f"`ctxd pack | cat` (client only): {p['off']['median']:.3f} s without, "
                f"{p['on']['median']:.3f} s with --dedup."]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="medium", choices=mn.PRESETS)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default=os.environ.get("CTXD_BENCH_DIR", "/tmp/ctxd-minimal-bench"))
    ap.add_argument("--ctxd", default=os.path.join(mn.REPO, "build", "ctxd"))
    ap.add_argument("--shared", default=os.environ.get("CTXD_BENCH_SHARED", os.path.join(mn.REPO, "..", "shared", "bench")))
    ap.add_argument("--builders", default="1,2")
    ap.add_argument("--no-cache-runs", type=int, default=3,
                    help="rounds of --no-cache builds (0: none; default 3)")
    a = ap.parse_args()

    root = os.path.abspath(a.dir)
    if (root + "/").startswith(mn.REPO + "/"):
        mn.die(f"--dir {root} is inside the repository; use a directory under /tmp")
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        mn.die("needs root and dockerd (a private daemon is started)")
    docker = mn.find_docker()
    shared = os.path.abspath(a.shared)
    os.makedirs(os.path.join(root, "results", a.preset), exist_ok=True)
    res_dir = os.path.join(root, "results", f"dedup-{a.preset}")
    os.makedirs(res_dir, exist_ok=True)
    ctxd = mn.private_copy(os.path.abspath(a.ctxd), os.path.join(root, "bin"))
    r = {"preset": a.preset, "date": time.strftime("%Y-%m-%d"), "runs": a.runs, "time": {}}
    try:
        t = mn.tree(shared, root, a.preset, 1, False, os.path.join(root, "results", a.preset))
        ctx = make_context(t, os.path.join(root, f"dedup-{a.preset}"))
        mn.log("bytes: ctxd pack with and without --dedup")
        r["bytes"] = {"off": pack_bytes(ctxd, ctx, False), "on": pack_bytes(ctxd, ctx, True)}
        mn.log("client: ctxd pack | cat, interleaved")
        alt = os.path.join(res_dir, "pack-alt.json")
        subprocess.run([sys.executable, os.path.join(HERE, "alt_time.py"), "--rounds", str(a.runs),
                        "--json", alt,
                        f"off={ctxd} pack -q -o - {ctx} | cat > /dev/null",
                        f"on={ctxd} pack -q --dedup -o - {ctx} | cat > /dev/null"],
                       check=True, stdout=sys.stderr)
        with open(alt) as f:
            r["pack"] = {x["command"]: x for x in json.load(f)["results"]}
        mn.start_daemon(docker, ctxd)
        for b in [int(x) for x in a.builders.split(",")]:
            name = {1: "classic", 2: "BuildKit"}[b]
            mn.log(f"{name}: cached rebuilds, {a.runs} rounds")
            r["time"][f"{name}:cached rebuild"] = rounds(ctxd, ctx, b, False, a.runs)
            if a.no_cache_runs:
                mn.log(f"{name}: --no-cache builds, {a.no_cache_runs} rounds")
                r["time"][f"{name}:--no-cache"] = rounds(ctxd, ctx, b, True, a.no_cache_runs)
    finally:
        tb.cleanup()
        os.unlink(ctxd)
    with open(os.path.join(res_dir, "dedup.json"), "w") as f:
        json.dump(r, f, indent=2)
    md = table(r)
    with open(os.path.join(root, "dedup.md"), "w") as f:
        f.write(md + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
