#!/usr/bin/env python3
"""The daemon is a cache: its answer equals a cold walk of the same tree.

On a generated git project under /tmp, random mutations (create, write,
truncate, rename files and directories, chmod, symlink swaps, delete and
recreate a directory, hard links, `git checkout` of another branch) are
applied in batches; after each batch `ctxd ls --json --excluded` through
the daemon must equal `ctxd ls --no-daemon`, for docker's context and the
Dockerfile-pruned one. Then: a lowered fs.inotify.max_user_watches (root
only; restored at once) degrades the project and answers stay right; a
daemon killed mid-query costs a warning and an in-process answer.

    test_consistency.py --ctxd build/ctxd [--mutations 5000] [--seed 1]
Ends with "consistency: N passed, N failed".
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ctxdtest as ct  # noqa: E402

CTXD = None
SOCK = None


def env(extra=None):
    return ct.ctxd_env(extra, sock=SOCK)


def ctxd(*args, check=True):
    p = subprocess.run([CTXD, *args], env=env(), capture_output=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"ctxd {' '.join(args)}: exit {p.returncode}: {p.stderr.decode()}")
    return p


def answers(root, *opts):
    """(daemon, cold) outputs of ls --json with opts."""
    warm = ctxd("ls", "--json", *opts, root, check=False)
    cold = ctxd("ls", "--json", "--no-daemon", *opts, root, check=False)
    return warm, cold


def same(root, what):
    """Differences between the daemon's and a cold walk's sent and
    excluded entries, for docker's context, the Dockerfile-pruned one and
    the git-filtered one."""
    bad = []
    for opts in (("--exact",), (), ("--exact", "--excluded"), ("--excluded",),
                 ("--git-filter=untracked", "--excluded")):
        warm, cold = answers(root, *opts)
        if (warm.returncode, warm.stdout) != (cold.returncode, cold.stdout) or \
                (warm.returncode and warm.stderr != cold.stderr):
            a = json.loads(warm.stdout or b"{}").get("entries", []) if warm.stdout else []
            b = json.loads(cold.stdout or b"{}").get("entries", []) if cold.stdout else []
            sa = {json.dumps(x, sort_keys=True) for x in a}
            sb = {json.dumps(x, sort_keys=True) for x in b}
            if sa == sb:
                import difflib
                bad.append(f"{what} {opts}: " + "".join(list(difflib.unified_diff(
                    json.dumps(json.loads(warm.stdout), indent=1).splitlines(True),
                    json.dumps(json.loads(cold.stdout), indent=1).splitlines(True)))[:40]))
                continue
            bad.append(f"{what} {opts}: exit {warm.returncode}/{cold.returncode}; only daemon: "
                       f"{sorted(sa - sb)[:5]}; only cold: {sorted(sb - sa)[:5]}; "
                       f"stderr {warm.stderr[-300:]!r} / {cold.stderr[-300:]!r}")
    return bad


def git(root, *args):
    subprocess.run(["git", "-C", root, *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def make_project(root, rng):
    os.makedirs(root)
    w = lambda rel, data: (os.makedirs(os.path.dirname(os.path.join(root, rel)) or root,
                                       exist_ok=True),
                           open(os.path.join(root, rel), "w").write(data))
    w("Dockerfile", "FROM scratch\nCOPY src /src\nCOPY conf/*.json /conf/\n")
    w(".dockerignore", "logs\n*.tmp\nbuild\n!build/keep\n")
    for i in range(60):
        d = rng.choice(["src", "src/a", "src/a/b", "src/c", "conf", "docs", "logs", "build/keep",
                        "build/out", "vendor/x/y"])
        w(f"{d}/f{i}.{rng.choice(['txt', 'json', 'tmp', 'c'])}", f"content {i}\n" * rng.randint(0, 5))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    git(root, "checkout", "-q", "-b", "other")
    shutil.rmtree(os.path.join(root, "docs"))
    for i in range(30):
        w(f"src/other/o{i}.c", f"other {i}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "two")
    git(root, "checkout", "-q", "main")


DIRS = ["src", "src/a", "src/a/b", "src/c", "conf", "docs", "logs", "build", "build/keep",
        "new", "new/deep", "vendor/x"]


def mutate(root, rng, state):
    """One random mutation; returns its kind."""
    def p(rel):
        return os.path.join(root, rel)

    def some_file():
        files = []
        for d in DIRS:
            try:
                files += [f"{d}/{n}" for n in os.listdir(p(d)) if os.path.isfile(p(f"{d}/{n}")) and not os.path.islink(p(f"{d}/{n}"))]
            except OSError:
                pass
        return rng.choice(files) if files else None

    kind = rng.choice(["create", "create", "write", "truncate", "rename", "rename_dir", "chmod",
                       "symlink", "delete_dir", "mkdir", "delete", "hardlink", "git"])
    d = rng.choice(DIRS)
    try:
        if kind == "create" or kind == "mkdir":
            os.makedirs(p(d), exist_ok=True)
            if kind == "mkdir":
                os.makedirs(p(f"{d}/m{rng.randint(0, 9)}/n"), exist_ok=True)
            else:
                with open(p(f"{d}/n{rng.randint(0, 99)}.{rng.choice(['txt', 'json', 'tmp'])}"), "w") as f:
                    f.write("x" * rng.randint(0, 200))
        elif kind in ("write", "truncate", "chmod", "delete", "rename", "hardlink"):
            f = some_file()
            if f is None:
                return kind
            if kind == "write":
                with open(p(f), "a") as fh:
                    fh.write("more\n")
            elif kind == "truncate":
                os.truncate(p(f), rng.randint(0, 3))
            elif kind == "chmod":
                os.chmod(p(f), rng.choice([0o600, 0o644, 0o755, 0o640]))
            elif kind == "delete":
                os.unlink(p(f))
            elif kind == "hardlink":
                # never into logs/: a name made where nothing is watched
                # (the ignore file leaves logs/ unread) brings no event, so
                # a write through it is not seen (a documented limit)
                d = rng.choice([x for x in DIRS if x != "logs"])
                os.makedirs(p(d), exist_ok=True)
                os.link(p(f), p(f"{d}/h{rng.randint(0, 9)}"))
            else:
                os.makedirs(p(d), exist_ok=True)
                os.rename(p(f), p(f"{d}/r{rng.randint(0, 99)}.txt"))
        elif kind == "rename_dir":
            a, b = rng.sample(DIRS, 2)
            if os.path.isdir(p(a)) and not os.path.exists(p(b)) and not b.startswith(a + "/"):
                os.makedirs(os.path.dirname(p(b)), exist_ok=True)
                os.rename(p(a), p(b))
        elif kind == "symlink":
            os.makedirs(p(d), exist_ok=True)
            link = p(f"{d}/ln{rng.randint(0, 3)}")
            tmp = link + ".new"
            # the outside target is the test's own file: a write through a
            # link must never reach a system file
            outside = os.path.join(os.path.dirname(root), "outside.txt")
            os.symlink(rng.choice(["../src", "nowhere", "f1.txt", outside]), tmp)
            os.rename(tmp, link)  # a swap, as ln -sfn does
        elif kind == "delete_dir":
            if os.path.isdir(p(d)) and d not in ("src",):
                shutil.rmtree(p(d))
                os.makedirs(p(d))
                with open(p(f"{d}/again.txt"), "w") as f:
                    f.write("again\n")
        elif kind == "git":
            if state["git"] < state["git_max"]:
                state["git"] += 1
                subprocess.run(["git", "-C", root, "stash", "-q", "--include-untracked"],
                               capture_output=True)
                br = "other" if state["branch"] == "main" else "main"
                subprocess.run(["git", "-C", root, "checkout", "-q", "-f", br], capture_output=True)
                state["branch"] = br
    except OSError:
        pass  # a mutation that does not apply to the tree as it is now
    return kind


class Daemon:
    def __init__(self):
        self.log = open(SOCK + ".test.log", "w")
        self.p = subprocess.Popen([CTXD, "daemon", "--foreground"], env=env(),
                                  stdout=self.log, stderr=self.log)
        for _ in range(100):
            if ctxd("status", check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the daemon did not start")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=10)


def set_watches(n):
    with open("/proc/sys/fs/inotify/max_user_watches", "w") as f:
        f.write(str(n))


def main():
    global CTXD, SOCK
    ap = ct.arguments()
    ap.add_argument("--mutations", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    CTXD = a.ctxd
    top = ct.sockdir(prefix="ctxd-daemon-cons-")
    SOCK = os.path.join(top, "ctxd.sock")
    rng = random.Random(a.seed)
    tally = ct.Tally()
    t0 = time.monotonic()

    def report(ok, msg):
        if ok:
            tally.passed += 1
        else:
            tally.failed += 1
            print("FAIL", msg, flush=True)

    d = Daemon()
    try:
        root = os.path.join(top, "proj")
        make_project(root, rng)
        # mutations, batch by batch, each batch checked against a cold walk
        state = {"git": 0, "git_max": max(2, a.mutations // 500), "branch": "main"}
        mismatches, kinds = [], {}
        done = 0
        ctxd("watch", root)
        while done < a.mutations:
            for _ in range(min(a.batch, a.mutations - done)):
                k = mutate(root, rng, state)
                kinds[k] = kinds.get(k, 0) + 1
                done += 1
            mismatches += same(root, f"after {done} mutations")
        print(f"{done} mutations ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}), "
              f"{len(mismatches)} mismatches, {time.monotonic() - t0:.1f} s", flush=True)
        for m in mismatches[:5]:
            print("  ", m)
        report(not mismatches and done >= a.mutations, "daemon answers differ from cold walks")
        st = json.loads(ctxd("status", "--json").stdout)
        proj = [x for x in st["projects"] if x["root"] == os.path.realpath(root)]
        report(proj and proj[0]["state"] == "watching" and proj[0]["bytes_per_entry"] <= 200,
               f"status after the mutations: {proj}")
        if proj:
            print(f"index: {proj[0]['entries']} entries, {proj[0]['bytes_per_entry']} bytes per "
                  f"entry, {proj[0]['events']} events, {proj[0]['rescans']} rescans", flush=True)

        # the inotify limit: a project that cannot be watched rescans per query
        if os.geteuid() == 0 and os.path.exists("/proc/sys/fs/inotify/max_user_watches"):
            limit = int(open("/proc/sys/fs/inotify/max_user_watches").read())
            root2 = os.path.join(top, "limited")
            make_project(root2, rng)
            try:
                set_watches(1)  # as short as it can be: other root processes share it
                ctxd("watch", root2, check=False)
            finally:
                set_watches(limit)
            st = json.loads(ctxd("status", "--json").stdout)
            p2 = [x for x in st["projects"] if x["root"] == os.path.realpath(root2)]
            report(p2 and p2[0]["state"] == "degraded" and
                   "fs.inotify.max_user_watches" in p2[0]["reason"],
                   f"a refused watch should degrade the project: {p2}")
            bad = []
            for i in range(300):
                mutate(root2, rng, {"git": 0, "git_max": 0, "branch": "main"})
                if i % 50 == 49:
                    bad += same(root2, f"degraded, after {i + 1} mutations")
            report(not bad, f"degraded answers differ: {bad[:3]}")
        else:
            print("skipped the inotify-limit test (needs root)")

        # a daemon killed mid-query: the client warns and answers itself
        cold = ctxd("ls", "--json", "--exact", "--no-daemon", root).stdout
        os.kill(d.p.pid, signal.SIGSTOP)
        c = subprocess.Popen([CTXD, "ls", "--json", "--exact", root], env=env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5)
        os.kill(d.p.pid, signal.SIGKILL)
        d.p.wait()
        out, err = c.communicate(timeout=30)
        report(c.returncode == 0 and out == cold and b"walking the tree here instead" in err,
               f"killed daemon: exit {c.returncode}, same {out == cold}, stderr {err[-300:]!r}")
        # and with no daemon at all: no warning, the same answer
        p = ctxd("ls", "--json", "--exact", root, check=False)
        report(p.returncode == 0 and p.stdout == cold and b"warning" not in p.stderr,
               f"no daemon: exit {p.returncode}, stderr {p.stderr[-300:]!r}")
    finally:
        d.stop()
        if tally.failed or sys.exc_info()[0]:
            with open(SOCK + ".test.log", errors="replace") as f:
                print("the daemon's log ends:\n" + "".join(f.readlines()[-30:]))
        shutil.rmtree(top, ignore_errors=True)
    print(f"took {time.monotonic() - t0:.1f} s")
    return tally.summary("consistency")


if __name__ == "__main__":
    sys.exit(main())
