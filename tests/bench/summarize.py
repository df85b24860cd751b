#!/usr/bin/env python3
"""summarize.py - the Markdown tables of tests/bench/pack.sh.

    summarize.py RESULTS_DIR            (RESULTS_DIR/<preset>/... from pack.sh)

Every preset with results is summarized (small, medium, large order), each
from its own latest run (the date is in the detail heading).
"""

import json
import os
import re
import statistics
import sys

PRESETS = ("small", "medium", "large")


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def lines_int(path):
    try:
        with open(path) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def by_name(hf):
    return {r["command"]: r for r in (hf or {}).get("results", [])}


def s(x):
    return "" if x is None else f"{x:.3f}"


def mb(n):
    return f"{n / 1e6:,.1f} MB"


def ratio(a, b):
    return f"{a / b:.1f}x" if a and b else ""


def sink_stats(path, tag, skip_first):
    recs = [r for r in jsonl(path) if tag in r.get("tags", [])]
    if skip_first:
        recs = recs[1:]          # hyperfine's / alt_time's warm-up build
    if not recs:
        return None
    return {"n": len(recs), "first_to_last_s": statistics.median(r["first_to_last_s"] for r in recs),
            "body_bytes": sorted({r["body_bytes"] for r in recs}),
            "entries": sorted({r["entries"] for r in recs}),
            "sink_cpu_s": statistics.median(r["sink_cpu_s"] for r in recs)}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    out = []
    w = out.append
    machine = ""
    try:
        machine = open(os.path.join(root, "machine.txt")).read()
    except OSError:
        pass

    rows, details = [], []
    binaries = set()
    for p in PRESETS:
        R = os.path.join(root, p)
        if not os.path.exists(os.path.join(R, "run.txt")):
            continue
        run_date = open(os.path.join(R, "run.txt")).read().strip()
        m = re.search(r"ctxd ([0-9a-f]{16})", run_date)
        if m:
            binaries.add(m.group(1))
        tree = load(os.path.join(R, "tree.json"), {})
        chk = load(os.path.join(R, "check.json"))
        if os.path.exists(os.path.join(R, "MISMATCH")) or not chk or not chk.get("same_entries"):
            rows.append(f"| {p} | {tree.get('files', 0):,} | **docker and ctxd sent different entries: no numbers** | | | | | | | | |")
            continue
        warm = by_name(load(os.path.join(R, "warm.json")))
        if "docker-build" not in warm:
            rows.append(f"| {p} | {tree.get('files', 0):,} | (no timings: run incomplete) | | | | | | | | |")
            continue
        alt = by_name(load(os.path.join(R, "alt.json")))
        cold = by_name(load(os.path.join(R, "cold.json")))
        rss_c = lines_int(os.path.join(R, "rss_ctxd.txt"))
        rss_d = lines_int(os.path.join(R, "rss_docker.txt"))
        d, c = chk["docker"], chk["ctxd"]
        dk, cb, cp = warm["docker-build"], warm["ctxd-devnull"], warm["ctxd-pipe"]
        rc = statistics.median(rss_c) / 1024 if rss_c else None
        rd = statistics.median(rss_d) / 1024 if rss_d else None
        rows.append(
            f"| {p} | {tree.get('files', 0):,} | {d['entries']:,} | {mb(d['tar_bytes'])} | "
            f"{s(dk['median'])} | {s(cb['median'])} | {s(cp['median'])} | "
            f"**{ratio(dk['median'], cb['median'])}** | {ratio(dk['median'], cp['median'])} | "
            f"{'' if rc is None else f'{rc:.1f}'} | {'' if rd is None else f'{rd:.1f}'} |")
        if "docker-build" in cold and "ctxd-devnull" in cold:
            cd, cc = cold["docker-build"], cold["ctxd-devnull"]
            rows.append(
                f"| {p}, cold cache | | | | {s(cd['median'])} | {s(cc['median'])} | | "
                f"**{ratio(cd['median'], cc['median'])}** | | | |")

        # ---- details ----
        dl = []
        dl.append(f"#### {p} (run {run_date})")
        dl.append("")
        dl.append(f"Tree: {tree.get('files', 0):,} files, {tree.get('dirs', 0):,} dirs, "
                  f"{tree.get('symlinks', 0):,} symlinks, {mb(tree.get('file_bytes', 0))}.")
        dl.append(f"Check: docker sent {d['entries']:,} entries ({d['files']:,} files, {d['dirs']:,} dirs, "
                  f"{d['symlinks']:,} symlinks), {d['content_bytes']:,} content bytes, tar {d['tar_bytes']:,} bytes; "
                  f"ctxd wrote {c['entries']:,} entries, tar {c['tar_bytes']:,} bytes. "
                  f"Same entries ({', '.join(chk['compared_fields'])}): yes; "
                  f"same order: {'yes' if chk['same_order'] else 'no'}.")
        dl.append("")
        dl.append("| measurement | median s | min s | max s | runs | CPU user+sys s (mean) |")
        dl.append("|---|---:|---:|---:|---:|---:|")
        label = {"docker-build": "(a) docker build -> sink, whole CLI process",
                 "ctxd-devnull": "(b) ctxd pack --exact -o - > /dev/null",
                 "ctxd-pipe": "(c) ctxd pack --exact -o - \\| cat > /dev/null",
                 "docker-empty": "(a0) docker build of an empty context -> sink (CLI fixed cost)",
                 "tar-list-pipe": "(ref) GNU tar of docker's entry list \\| cat > /dev/null",
                 "readfloor": "(ref) read floor: open+read+close docker's files"}
        for src, tag in ((warm, "hyperfine"), (alt, "interleaved rounds"), (cold, "cold cache, hyperfine")):
            for k in label:
                if k in src:
                    r = src[k]
                    dl.append(f"| {label[k]} [{tag}] | {s(r['median'])} | {s(r['min'])} | {s(r['max'])} | "
                              f"{len(r['times'])} | {s(r['user'] + r['system'])} |")
        ss = sink_stats(os.path.join(R, "warm_sink.jsonl"), "ctxbench-a", True)
        if ss:
            dl.append(f"| (a) sink: first -> last body byte [hyperfine] | {s(ss['first_to_last_s'])} | | | {ss['n']} | "
                      f"sink {s(ss['sink_cpu_s'])} |")
        for tag, f in (("interleaved", "alt_sink.jsonl"), ("cold", "cold_sink.jsonl")):
            ss2 = sink_stats(os.path.join(R, f), "ctxbench-a", tag == "interleaved")
            if ss2:
                dl.append(f"| (a) sink: first -> last body byte [{tag}] | {s(ss2['first_to_last_s'])} | | | {ss2['n']} | |")
        dl.append("")
        if ss:
            dl.append(f"Body bytes the sink received per docker build: {', '.join(f'{b:,}' for b in ss['body_bytes'])}.")
        if rss_c:
            dl.append(f"Peak RSS, KiB: ctxd pack {', '.join(map(str, rss_c))}; docker CLI {', '.join(map(str, rss_d))}.")
        dl.append("")
        details.append("\n".join(dl))

    w("### ctxd pack --exact vs docker CLI (classic builder) sending the same context")
    w("")
    w("Warm page cache, median of the hyperfine runs; ratio = docker median / ctxd median. "
      "docker = whole `DOCKER_BUILDKIT=0 docker build` to docker_sink.py; ctxd = `ctxd pack --exact -o - > /dev/null` "
      "(`| cat` = through a pipe). MB = 10^6 bytes, MiB = 2^20. Peak RSS: median of /usr/bin/time -v runs.")
    w("")
    w("| preset | tree files | entries sent | bytes sent | docker median s | ctxd median s | ctxd \\| cat median s "
      "| docker/ctxd | docker/ctxd\\|cat | ctxd peak RSS MiB | docker peak RSS MiB |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    out.extend(rows)
    w("")
    if len(binaries) > 1:
        w(f"**Note**: the presets were measured with different ctxd binaries ({', '.join(sorted(binaries))}).")
        w("")
    out.extend(details)
    if machine:
        w("Machine and tools:")
        w("")
        w("```")
        w(machine.rstrip())
        w("```")
    print("\n".join(out))


if __name__ == "__main__":
    main()
