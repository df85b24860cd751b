#!/usr/bin/env python3
"""Tests of the ctxd command line: options, exit codes, messages, and that a
failed or interrupted `ctxd pack -o FILE` leaves nothing behind.

    test_cli.py --ctxd build/ctxd
Ends with "cli: N passed, N failed"; exit 1 when any failed.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

CTXD = None
RESULTS = []


def test(fn):
    RESULTS.append(fn)
    return fn


def run(args, cwd=None, env=None, stdin=None):
    e = dict(os.environ)
    e.pop("DOCKER_BUILDKIT", None)
    if env:
        e.update(env)
    p = subprocess.run([CTXD] + args, cwd=cwd, env=e, capture_output=True, stdin=stdin, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def tree(files):
    d = tempfile.mkdtemp(prefix="ctxd-cli-")
    for rel, content in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(content)
    return d


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def one_error_line(err, *needles):
    lines = [l for l in err.splitlines() if l.strip()]
    expect(len(lines) >= 1 and lines[0].startswith("ctxd: "), f"no 'ctxd:' message: {err!r}")
    for n in needles:
        expect(n in err, f"{n!r} not in {err!r}")


@test
def version_and_help():
    rc, out, _ = run(["--version"])
    expect(rc == 0 and out.startswith("ctxd "), out)
    rc, out, _ = run(["help"])
    expect(rc == 0 and "ls" in out and "pack" in out, out)
    for cmd in ("ls", "pack"):
        rc, out, _ = run([cmd, "--help"])
        expect(rc == 0 and f"Usage: ctxd {cmd}" in out and "--exact" in out, out)
        rc2, out2, _ = run(["help", cmd])
        expect(rc2 == 0 and out2 == out, "help CMD differs from CMD --help")


@test
def usage_errors():
    rc, _, err = run(["frobnicate"])
    expect(rc == 2 and "not a ctxd command" in err, err)
    rc, _, err = run(["ls", "--bogus", "."])
    expect(rc == 2 and "--help" in err, err)
    rc, _, err = run(["ls"])
    expect(rc == 2 and "missing the context PATH" in err, err)
    rc, _, err = run(["ls", "a", "b"])
    expect(rc == 2, err)


@test
def ls_and_pack_agree():
    d = tree({"Dockerfile": "FROM scratch\n", "a/b.txt": "x", "c.log": "y", ".dockerignore": "*.log\n"})
    try:
        rc, out, err = run(["ls", "--exact", d])
        expect(rc == 0, err)
        names = out.splitlines()
        expect(names == [".dockerignore", "Dockerfile", "a/", "a/b.txt"], names)
        out_tar = os.path.join(d, "..", os.path.basename(d) + ".tar")
        rc, _, err = run(["pack", "--exact", "-o", out_tar, d])
        expect(rc == 0, err)
        with tarfile.open(out_tar) as t:
            tnames = [m.name + ("/" if m.isdir() else "") for m in t.getmembers()]
        expect(tnames == names, (tnames, names))
        os.unlink(out_tar)
        rc, out, _ = run(["ls", "--excluded", "--long", d])
        expect(rc == 0 and "c.log" in out and ".dockerignore:1: *.log" in out, out)
        rc, out, _ = run(["ls", "--exact", "--json", d])
        import json
        j = json.loads(out)
        expect(j["totals"]["entries"] == 4 and j["entries"][3]["path"] == "a/b.txt", j)
        # FROM scratch alone reads nothing: only the files the builder reads go
        rc, out, err = run(["ls", "--json", d])
        j = json.loads(out)
        expect([e["path"] for e in j["entries"]] == [".dockerignore", "Dockerfile"], j)
        expect(j["totals"]["docker"] == {"files": 3, "bytes": 20}, j["totals"])
        expect(j["totals"]["excluded"]["not-read"] == {"files": 1, "bytes": 1}, j["totals"])
    finally:
        shutil.rmtree(d)


@test
def dockerfile_relative_to_cwd():
    d = tree({"sub/Dockerfile": "FROM scratch\n", "x": ""})
    try:
        rc, out, err = run(["ls", "-f", "sub/Dockerfile", "."], cwd=d)
        expect(rc == 0 and "sub/Dockerfile" in out, err)
        rc, _, err = run(["ls", "-f", "sub/Dockerfile", d])  # cwd is not d
        expect(rc == 1, err)
        one_error_line(err, "cannot locate Dockerfile", "sub/Dockerfile")
    finally:
        shutil.rmtree(d)


@test
def bad_inputs():
    d = tree({"Dockerfile": "FROM scratch\n", "f": ""})
    try:
        rc, _, err = run(["ls", os.path.join(d, "missing")])
        expect(rc == 1, err)
        one_error_line(err, "not found")
        rc, _, err = run(["ls", os.path.join(d, "f")])
        expect(rc == 1, err)
        one_error_line(err, "context must be a directory")
        with open(os.path.join(d, ".dockerignore"), "w") as f:
            f.write("ok\n\n!\n")
        rc, _, err = run(["ls", d])
        expect(rc == 1, err)
        one_error_line(err, ".dockerignore:3:", "illegal exclusion pattern")
        with open(os.path.join(d, ".dockerignore"), "w") as f:
            f.write("a[\n")
        rc, _, err = run(["pack", "-o", os.path.join(d, "o.tar"), d])
        expect(rc == 1 and not os.path.exists(os.path.join(d, "o.tar")), err)
        one_error_line(err, ".dockerignore:1:", "syntax error in pattern")
    finally:
        shutil.rmtree(d)


@test
def output_errors():
    d = tree({"Dockerfile": "FROM scratch\n"})
    try:
        rc, _, err = run(["pack", "-o", "/nonexistent-dir/out.tar", d])
        expect(rc == 1, err)
        one_error_line(err, "/nonexistent-dir/out.tar")
        rc, _, err = run(["pack", "--json", "-o", "-", d])
        expect(rc == 2, err)
        # no temp files were left next to the target
        expect(not [n for n in os.listdir(d) if ".ctxd-" in n], os.listdir(d))
    finally:
        shutil.rmtree(d)


def as_nobody():
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@test
def unreadable_inputs():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return "skip"
    d = tree({"Dockerfile": "FROM scratch\n", "secret": "x", ".dockerignore": "nothing\n"})
    os.chmod(d, 0o777)
    try:
        os.chmod(os.path.join(d, "secret"), 0o600)
        out = os.path.join(d, "o.tar")
        p = subprocess.run(as_nobody() + [CTXD, "pack", "--exact", "-o", out, d], capture_output=True, text=True)
        expect(p.returncode == 1 and not os.path.exists(out), p.stderr)
        one_error_line(p.stderr, "no permission to read from", "secret")
        expect(not [n for n in os.listdir(d) if ".ctxd-" in n], os.listdir(d))
        # pruned: a file the Dockerfile cannot read is never opened
        p = subprocess.run(as_nobody() + [CTXD, "pack", "-q", "-o", out, d], capture_output=True, text=True)
        expect(p.returncode == 0 and os.path.exists(out), p.stderr)
        os.unlink(out)
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY secret /\n")
        p = subprocess.run(as_nobody() + [CTXD, "pack", "-o", out, d], capture_output=True, text=True)
        expect(p.returncode == 1 and not os.path.exists(out), p.stderr)
        one_error_line(p.stderr, "no permission to read from", "secret")
        os.chmod(os.path.join(d, ".dockerignore"), 0o600)
        p = subprocess.run(as_nobody() + [CTXD, "ls", d], capture_output=True, text=True)
        expect(p.returncode == 1, p.stderr)
        one_error_line(p.stderr, ".dockerignore", "Permission denied")
        os.chmod(os.path.join(d, ".dockerignore"), 0o644)
        os.chmod(os.path.join(d, "Dockerfile"), 0o600)
        p = subprocess.run(as_nobody() + [CTXD, "ls", d], capture_output=True, text=True)
        expect(p.returncode == 1, p.stderr)
        one_error_line(p.stderr, "Dockerfile", "Permission denied")
    finally:
        shutil.rmtree(d)


@test
def interrupted_pack_leaves_nothing():
    d = tempfile.mkdtemp(prefix="ctxd-cli-")
    out_dir = tempfile.mkdtemp(prefix="ctxd-cli-out-")
    try:
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY big /\n")
        with open(os.path.join(d, "big"), "wb") as f:
            f.truncate(1 << 30)  # sparse: a second or so of packing, no disk
        target = os.path.join(out_dir, "ctx.tar")
        p = subprocess.Popen([CTXD, "pack", "-o", target, d], stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline and not [n for n in os.listdir(out_dir) if ".ctxd-" in n]:
            time.sleep(0.002)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
        expect(p.returncode == -signal.SIGINT, f"pack finished before SIGINT (rc {p.returncode})")
        expect(os.listdir(out_dir) == [], os.listdir(out_dir))
    finally:
        shutil.rmtree(d)
        shutil.rmtree(out_dir)


@test
def stdout_must_not_be_a_terminal():
    d = tree({"Dockerfile": "FROM scratch\n"})
    try:
        import pty
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(CTXD, [CTXD, "pack", d])
        out = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        expect(os.waitstatus_to_exitcode(status) == 1 and b"terminal" in out, out)
    finally:
        shutil.rmtree(d)


@test
def dedup_sends_copies_as_links():
    same = "identical bytes\n" * 64
    d = tree({"Dockerfile": "FROM scratch\nCOPY . /x/\n", "a/f": same, "b/f": same, "c": same, "d": "x" * len(same)})
    try:
        out_tar = d + ".tar"
        # off by default: every copy carries its bytes
        rc, _, err = run(["pack", "-o", out_tar, d])
        expect(rc == 0 and "dedup" not in err, err)
        with tarfile.open(out_tar) as t:
            expect(not any(m.islnk() for m in t.getmembers()), "links without --dedup")
        rc, _, err = run(["pack", "--dedup", "-o", out_tar, d])
        expect(rc == 0 and "--dedup: 2 identical files (2.048kB) sent as hard links" in err, err)
        with tarfile.open(out_tar) as t:
            links = {m.name: m.linkname for m in t.getmembers() if m.islnk()}
            expect(links == {"b/f": "a/f", "c": "a/f"}, links)
            expect(t.getmember("d").isfile() and t.getmember("d").size == len(same), "d")
        os.unlink(out_tar)
        for cmd in ("pack", "build"):
            rc, out, _ = run([cmd, "--help"])
            expect(rc == 0 and "--dedup" in out, out)
        # ls lists the context as it is; --dedup is not one of its options
        rc, _, err = run(["ls", "--dedup", d])
        expect(rc == 2, err)
    finally:
        shutil.rmtree(d)


@test
def why_explains_each_decision():
    d = tree({"Dockerfile": "FROM scratch\nCOPY src /src\nCOPY *.json /\n", ".dockerignore": "# build output\ndist\n",
              "src/a.js": "same", "src/b.js": "same", "package.json": "{}", "dist/x.js": "x", "docs/r.md": "r"})
    try:
        rc, out, err = run(["why", d, "src/b.js", "dist/x.js", "docs/r.md", "nothere", "package.json"])
        expect(rc == 0, err)
        lines = out.splitlines()
        expect(lines[0].startswith("src/b.js: sent: read by COPY at ") and ":2 " in lines[0], lines)
        expect(lines[1] == "  same bytes as src/a.js (--dedup sends it as a hard link to that file)", lines)
        expect(lines[2] == "dist/x.js: not sent: excluded by the ignore file (the directory dist is)", lines)
        expect(lines[3] == f"  {d}/.dockerignore:2: dist", lines)
        expect(lines[4] == "docs/r.md: not sent: not read by the Dockerfile", lines)
        expect("    src (COPY, line 2)" in lines and "    *.json (COPY, line 3)" in lines, lines)
        expect("nothere: not in the context directory" in lines, lines)
        expect(any(l.startswith("package.json: sent: read by COPY at ") for l in lines), lines)
        rc, out, err = run(["why", "--json", d, "./" + os.path.relpath(os.path.join(d, "docs/r.md"))], cwd=None)
        import json
        j = json.loads(out)
        f = j["files"][0]
        expect(rc == 0 and f["path"] == "docs/r.md" and f["reason"] == "not-read" and not f["sent"], j)
        rc, out, err = run(["why", "--exact", d, "docs/r.md"])
        expect(rc == 0 and out == "docs/r.md: sent (no pruning: docker's context)\n", out)
        # bad input: a file outside the context, no FILE, a missing context
        rc, out, err = run(["why", d, "/etc/passwd"])
        expect(rc == 1 and out == "" and "/etc/passwd: not inside the context" in err, (rc, out, err))
        rc, out, err = run(["why", d])
        expect(rc == 2 and "at least one FILE" in err, (rc, err))
        rc, out, err = run(["why", d + "-missing", "x"])
        expect(rc == 1 and d + "-missing" in err, (rc, err))
    finally:
        shutil.rmtree(d)


def main():
    global CTXD
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctxd", required=True)
    args = ap.parse_args()
    CTXD = os.path.abspath(args.ctxd)
    passed = failed = skipped = 0
    for fn in RESULTS:
        try:
            r = fn()
            if r == "skip":
                skipped += 1
                print(f"SKIP {fn.__name__}")
            else:
                passed += 1
                print(f"ok   {fn.__name__}")
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print(f"FAIL {fn.__name__}: {e}")
    print(f"cli: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
