#!/usr/bin/env python3
"""alt_time.py - time shell commands in interleaved rounds (A B C, B C A, ...).

    alt_time.py [--rounds 5] [--warmup 1] [--json OUT] NAME=COMMAND ...

hyperfine runs all the runs of one command before the next command, so a
slow phase of the machine (another build, write-back) lands on one command
only.  This runs one of each per round, rotating the order, and reports the
same statistics as hyperfine (median/min/max wall seconds, mean user+sys
CPU of the children).  Each command runs as `bash -c 'set -o pipefail; CMD'`
with stdout to /dev/null; a non-zero exit stops everything.  No shell
start-up correction is applied (a few ms).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(["bash", "-c", "set -o pipefail; " + cmd], stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"alt_time: command failed (exit {p.returncode}): {cmd}")
    return wall, ru.ru_utime, ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    a = ap.parse_args()
    cmds = []
    for c in a.commands:
        name, sep, cmd = c.partition("=")
        if not sep or not cmd:
            ap.error(f"expected NAME=COMMAND: {c!r}")
        cmds.append((name, cmd))
    res = {n: {"command": c, "times": [], "user": [], "system": []} for n, c in cmds}
    for r in range(a.warmup + a.rounds):
        k = r % len(cmds)
        for name, cmd in cmds[k:] + cmds[:k]:
            wall, us, sy = run(cmd)
            if r >= a.warmup:
                res[name]["times"].append(wall)
                res[name]["user"].append(us)
                res[name]["system"].append(sy)
    out = {"rounds": a.rounds, "warmup": a.warmup, "results": []}
    for name, _ in cmds:
        x = res[name]
        t = x["times"]
        row = {"command": name, "shell_command": x["command"], "median": statistics.median(t),
               "mean": statistics.mean(t), "min": min(t), "max": max(t), "times": t,
               "user": statistics.mean(x["user"]), "system": statistics.mean(x["system"])}
        out["results"].append(row)
        print(f"{name:>16}: median {row['median']:.3f} s  min {row['min']:.3f}  max {row['max']:.3f}  "
              f"cpu {row['user'] + row['system']:.3f} s  ({a.rounds} rounds)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
