#!/usr/bin/env python3
"""diffcheck.py - differential test: ctxd pack --exact against the docker CLI.

    python3 tests/oracle/diffcheck.py --ctxd build/ctxd --trees 200 --seed 1
    python3 tests/oracle/diffcheck.py --ctxd build/ctxd --seed 57 --trees 1 -v --keep   # replay

For each tree i (seed S+i) a random context is generated under /tmp
(treegen.py), docker CLI 28.2.2 builds it through a private fake daemon
(docker_sink.py) and `ctxd pack --exact` packs it; both run as uid 65534 so
unreadable files really are unreadable.  If docker fails, ctxd must fail (and
follow the error contract: one `ctxd: <message>` line, no OUT.tar); if docker
succeeds, both tars must hold the same entries in the same order (names,
types, modes, owners, sizes, mtimes, link targets, content hashes, PAX
records), and `ctxd ls --exact` must print the same names (--no-ls skips it).

Without --ctxd ("docker only" mode) the harness checks itself: each docker
tar is compared with a second docker run of the same tree, with lstat() of the
tree and with Python's tarfile.

Prints one line per failing tree (with its seed) and finally exactly one line
`diffcheck: N passed, N failed`; exit status 1 if any tree failed.
"""

import argparse
import concurrent.futures
import hashlib
import os
import shutil
import stat
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle    # noqa: E402
import treegen   # noqa: E402


def short(s, n=200):
    s = " | ".join(ln.strip() for ln in s.strip().splitlines() if ln.strip())
    return s if len(s) <= n else s[:n] + "..."


# ------------------------------------------------------------ self checks ---

def check_against_disk(case, td):
    """Every entry of docker's tar must describe the file on disk (lstat)."""
    probs = []
    inodes = {}
    ctx = os.path.realpath(case.ctx)
    for e in td.entries:
        if oracle.RANDOM_DF_RE.match(e.name):
            continue
        if e.name == ".dockerignore" and case.ignore is None:
            continue                   # synthesised by docker (spec 2.5)
        rel = e.name.rstrip("/")
        p = os.path.join(ctx, rel)
        try:
            st = os.lstat(p)
        except OSError as ex:
            probs.append(f"disk: {e.name}: {ex}")
            continue
        want_type = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink",
                     stat.S_IFIFO: "fifo", stat.S_IFCHR: "char", stat.S_IFBLK: "block"}.get(stat.S_IFMT(st.st_mode))
        if e.type == "hardlink":
            first = inodes.get(st.st_ino)
            if first != e.linkname:
                probs.append(f"disk: hardlink {e.name} -> {e.linkname}, expected first name {first}")
            continue
        if e.type != want_type:
            probs.append(f"disk: {e.name}: type {e.type} but disk {want_type}")
        if st.st_nlink > 1 and want_type != "dir":
            inodes.setdefault(st.st_ino, e.name)
        if e.mode != (st.st_mode & 0o7777):
            probs.append(f"disk: {e.name}: mode {e.mode:o} but disk {st.st_mode & 0o7777:o}")
        if e.mtime is not None and e.mtime != st.st_mtime_ns // 10 ** 9:
            if not (e.name == ".dockerignore" and case.dockerfile_arg):
                probs.append(f"disk: {e.name}: mtime {e.mtime} but disk {st.st_mtime_ns // 10 ** 9}")
        if (e.uid, e.gid, e.uname, e.gname) != (0, 0, "", ""):
            probs.append(f"disk: {e.name}: owner {e.uid}:{e.gid} {e.uname!r}:{e.gname!r}")
        if want_type == "symlink" and e.linkname != os.readlink(p):
            probs.append(f"disk: {e.name}: link {e.linkname!r} but disk {os.readlink(p)!r}")
        if want_type == "file" and e.name != ".dockerignore":
            with open(p, "rb") as f:
                data = f.read()
            if len(data) != e.size or hashlib.sha256(data).hexdigest() != e.sha256:
                probs.append(f"disk: {e.name}: content differs")
    return probs


def check_with_tarfile(td, path):
    """Python's tarfile must read the same names/sizes/modes/mtimes/links."""
    probs = []
    try:
        with tarfile.open(path, "r:") as t:
            mem = t.getmembers()
    except tarfile.ReadError as ex:
        if td.unpadded_end:
            return []                  # the spec 2.5 stream has no end blocks; tarfile may choke
        return [f"tarfile: {ex}"]
    ours = td.entries
    if len(mem) != len(ours):
        return [f"tarfile: {len(mem)} members, we read {len(ours)}"]
    for m, e in zip(mem, ours):
        name = m.name + ("/" if m.isdir() else "")
        mt = int(m.mtime) if float(m.mtime).is_integer() else m.mtime
        if (name, m.size if not m.islnk() else 0, m.mode, mt, m.linkname) != \
                (e.name, e.size if e.type != "hardlink" else 0, e.mode, e.mtime, e.linkname):
            probs.append(f"tarfile: {m.name!r} {m.size} {m.mode:o} {m.mtime} {m.linkname!r} vs ours {e.short()} {e.mtime}")
    return probs


# --------------------------------------------------------------- one tree ---

class Outcome:
    def __init__(self, seed):
        self.seed = seed
        self.failures = []         # strings
        self.notes = []
        self.details = []
        self.case = None
        self.docker_state = ""
        self.ctxd_state = ""


def run_one(seed, opts, sink):
    out = Outcome(seed)
    as_nobody = os.geteuid() == 0
    case = treegen.generate(seed, opts.tmp, as_nobody=as_nobody)
    out.case = case
    try:
        _check(case, out, opts, sink, as_nobody)
    except Exception as ex:    # harness bug: report, keep going
        import traceback
        out.failures.append(f"harness error: {ex!r}")
        out.details.append(traceback.format_exc())
    if out.failures and opts.keep:
        out.notes.append(f"kept {case.root}")
    else:
        shutil.rmtree(case.root, ignore_errors=True)
    return out


def _save(case, name, path):
    if path and os.path.exists(path):
        shutil.copyfile(path, os.path.join(case.root, name))


def _check(case, out, opts, sink, as_nobody):
    d = oracle.run_docker(sink, case.context_arg, case.dockerfile_arg, cwd=case.cwd, as_nobody=as_nobody,
                          docker=opts.docker)
    dtd = oracle.read_tar(d.tar) if d.tar else None
    if opts.keep:
        _save(case, "docker.tar", d.tar)
    out.details.append(f"docker rc={d.rc} tar={'yes' if d.tar else 'no'}: {short(d.error, 400)}")
    docker_ok = d.ok
    if d.tar and dtd.problems and not docker_ok:
        out.notes.append(f"docker tar problems: {dtd.problems[:2]}")
    if d.ok and dtd.problems:
        out.failures.append(f"docker tar unreadable by the harness: {dtd.problems[:3]}")
        return
    if docker_ok and d.skipped_paths:
        out.notes.append(f"docker skipped {len(d.skipped_paths)} path(s) it could not add: "
                         f"{short(d.skipped_paths[0], 160)}")
    if d.rc == 0 and d.tar_write_error:
        out.notes.append("docker logged a tar write error (real daemon: truncated tar) -> counts as failure")
    out.docker_state = "ok" if docker_ok else "fail"

    if not opts.ctxd:
        # docker-only mode: check the harness against itself, lstat and tarfile
        d2 = oracle.run_docker(sink, case.context_arg, case.dockerfile_arg, cwd=case.cwd, as_nobody=as_nobody,
                               docker=opts.docker)
        if d2.ok != docker_ok:
            out.failures.append(f"docker not deterministic: run1 ok={docker_ok} run2 ok={d2.ok}")
        elif docker_ok:
            diffs = oracle.compare_tars(dtd, oracle.read_tar(d2.tar), "docker#1", "docker#2",
                                        check_trailer=True)
            out.failures += diffs
            out.failures += check_against_disk(case, dtd)
            out.failures += check_with_tarfile(dtd, d.tar)
        elif d.error != d2.error and "Can't add file" not in d.stderr:
            out.failures.append(f"docker errors differ between runs: {d.error!r} vs {d2.error!r}")
        return

    outtar = os.path.join(case.root, "out", "ctxd.tar")
    c = oracle.run_ctxd_pack(opts.ctxd, case.context_arg, outtar, case.dockerfile_arg, cwd=case.cwd,
                             as_nobody=as_nobody, timeout=opts.timeout)
    out.details.append(f"ctxd rc={c.rc}: {short(c.stderr)}")
    out.ctxd_state = "ok" if c.rc == 0 else "fail"
    if not docker_ok:
        if c.rc == 0:
            why = d.last_error + (" (after: " + short(d.error.splitlines()[0], 120) + ")"
                                  if len(d.error.splitlines()) > 1 else "")
            out.failures.append(f"docker failed ({why}) but ctxd succeeded")
        else:
            out.failures += c.contract_problems()
            out.details.append(f"errors side by side: docker: {short(d.error, 300)!r} | ctxd: {short(c.stderr, 300)!r}")
        return
    if c.rc != 0 and d.walk_error:
        # docker hit a bad pattern only in its tar walker: it logged "Error matching",
        # stopped walking and sent a truncated context with exit 0.  ctxd may refuse.
        out.notes.append(f"docker sent a truncated context ({short(d.error, 160)}); ctxd failed: accepted")
        out.failures += c.contract_problems()
        return
    if c.rc != 0:
        out.failures.append(f"docker succeeded but ctxd failed: {short(c.stderr)}")
        return
    if c.out is None:
        out.failures.append("ctxd exited 0 but wrote no OUT.tar")
        return
    ctd = oracle.read_tar(c.out)
    if opts.keep:
        _save(case, "ctxd.tar", c.out)
    diffs = oracle.compare_tars(dtd, ctd, "docker", "ctxd", check_trailer=not d.rewritten)
    if d.rewritten and (dtd.zero_blocks, dtd.trailing_bytes, dtd.unpadded_end) != \
            (ctd.zero_blocks, ctd.trailing_bytes, ctd.unpadded_end):
        out.notes.append(f"archive end differs (docker's rewritten stream has {dtd.zero_blocks} end blocks, "
                         f"ctxd {ctd.zero_blocks}); not counted")
    out.failures += diffs
    if not opts.no_ls:
        ls = oracle.run_ctxd_ls(opts.ctxd, case.context_arg, case.dockerfile_arg, cwd=case.cwd,
                                as_nobody=as_nobody, timeout=opts.timeout)
        if ls.rc != 0:
            out.failures.append(f"ctxd ls failed where docker succeeded: {short(ls.stderr)}")
        else:
            printed = ls.stdout.split("\n")
            if printed and printed[-1] == "":
                printed.pop()
            out.failures += oracle.compare_ls(dtd.names(), printed, "docker", "ctxd ls")


# ------------------------------------------------------------------ main ---

def main():
    ap = argparse.ArgumentParser(description="differential test of ctxd pack --exact against docker CLI 28.2.2")
    ap.add_argument("--ctxd", help="path to the ctxd binary (omit for docker-only self-check mode)")
    ap.add_argument("--trees", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="trees in flight (docker runs are serialised)")
    ap.add_argument("--keep", action="store_true", help="keep failing trees (with docker.tar/ctxd.tar)")
    ap.add_argument("--no-ls", action="store_true", help="do not check `ctxd ls --exact`")
    ap.add_argument("--tmp", default="/tmp", help="where trees are made")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--stats", action="store_true", help="print docker ok/fail and feature counts")
    opts = ap.parse_args()
    try:
        opts.docker = oracle.check_docker()
    except oracle.OracleError as e:
        print(f"diffcheck: {e}", file=sys.stderr)
        return 2
    if opts.ctxd:
        opts.ctxd = os.path.abspath(opts.ctxd)
        if not os.access(opts.ctxd, os.X_OK):
            print(f"diffcheck: {opts.ctxd} is not executable", file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("diffcheck: warning: not root, so trees are not run as uid 65534", file=sys.stderr)
    t0 = time.monotonic()
    passed = failed = 0
    states = {}
    features = {}
    with oracle.Sink() as sink:
        seeds = [opts.seed + i for i in range(opts.trees)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as ex:
            for o in ex.map(lambda s: run_one(s, opts, sink), seeds):
                key = (o.docker_state, o.ctxd_state)
                states[key] = states.get(key, 0) + 1
                for f in set(o.case.features if o.case else []):
                    features[f] = features.get(f, 0) + 1
                if o.failures:
                    failed += 1
                    more = f" (+{len(o.failures) - 1} more)" if len(o.failures) > 1 else ""
                    print(f"FAIL seed={o.seed}: {o.failures[0]}{more}", flush=True)
                    if opts.verbose:
                        for f in o.failures[1:]:
                            print(f"    {f}")
                else:
                    passed += 1
                if opts.verbose and (o.failures or opts.trees == 1):
                    if o.case:
                        print(f"    case: {o.case.describe()}")
                        print(f"    .dockerignore: {o.case.ignore!r}")
                    for x in o.details + o.notes:
                        print(f"    {x}")
                elif o.failures and o.notes:
                    for x in o.notes:
                        print(f"    {x}")
    dt = time.monotonic() - t0
    if opts.stats:
        print(f"# {dt:.1f}s; (docker, ctxd) outcomes: " +
              ", ".join(f"{k[0] or '-'}/{k[1] or '-'}={v}" for k, v in sorted(states.items())))
        print("# features: " + ", ".join(f"{k}={v}" for k, v in sorted(features.items())))
    print(f"diffcheck: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
