#!/usr/bin/env python3
"""Tests of `ctxd report`: the terminal report, --suggest/--write, --json,
--markdown, secrets, and its exit codes (0 ok, 1 over a limit, 2 usage or
input error).

    test_report.py --ctxd build/ctxd
Ends with "cli-report: N passed, N failed"; exit 1 when any failed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

CTXD = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run(args, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("DOCKER_BUILDKIT", None)
    e.pop("GITHUB_STEP_SUMMARY", None)
    if env:
        e.update(env)
    p = subprocess.run([CTXD] + args, env=e, cwd=cwd, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def tree(files):
    d = tempfile.mkdtemp(prefix="ctxd-report-")
    for rel, content in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
    return d


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def project(dockerfile="FROM scratch\nCOPY src /src\n"):
    return tree({
        "Dockerfile": dockerfile,
        ".dockerignore": "tmp\n",
        "src/app.js": "x" * 300,
        "docs/manual.pdf": b"p" * 5000,
        "node_modules/lib/index.js": "y" * 2000,
        "tmp/scratch": "z" * 100,
        ".env": "SECRET=1\n",
    })


@test
def terminal_report():
    d = project()
    try:
        rc, out, err = run(["report", "--top", "3", d])
        expect(rc == 0, (rc, err))
        for needle in ("docker build would send", "ctxd sends", "What each filter saves",
                       "not read by the Dockerfile", "Largest directories", "docs/",
                       "Largest files", "docs/manual.pdf", "By extension", ".pdf",
                       "Secrets", ".env  [dotenv]", "node_modules is in docker's context"):
            expect(needle in out, f"{needle!r} not in:\n{out}")
        rc, out, _ = run(["report", "--depth", "1", "--top", "1", d])
        expect(rc == 0 and "(2 more directories)" in out, out)
    finally:
        shutil.rmtree(d)


@test
def suggest_and_write():
    d = project("FROM scratch\nCOPY . .\n")
    try:
        rc, out, err = run(["report", "--suggest", d])
        expect(rc == 0, err)
        lines = out.splitlines()
        expect(lines[0].startswith(".dockerignore lines"), out)
        expect(lines[1].split()[0] == "node_modules" and "the image loses it" in lines[1], out)
        before = open(os.path.join(d, ".dockerignore")).read()
        expect(before == "tmp\n", before)
        rc, out, err = run(["report", "--suggest", "--write", d])
        expect(rc == 0 and "Appended 1 lines to " + d + "/.dockerignore:\n  node_modules" in out, out)
        after = open(os.path.join(d, ".dockerignore")).read()
        expect(after == "tmp\n# added by ctxd report --suggest --write\nnode_modules\n", after)
        # nothing left to suggest: nothing appended
        rc, out, err = run(["report", "--suggest", "--write", d])
        expect(rc == 0 and "No .dockerignore lines" in out and "Appended" not in out, out)
        rc, _, err = run(["report", "--write", d])
        expect(rc == 2 and "--write" in err, err)
    finally:
        shutil.rmtree(d)


@test
def json_and_markdown():
    d = project()
    try:
        rc, out, err = run(["report", "--json", d])
        expect(rc == 0, err)
        j = json.loads(out)
        expect(j["schema"] == "ctxd-report" and j["version"] == 1, j)
        expect(j["sent"]["files"] == 3 and j["docker"]["bytes"] > j["sent"]["bytes"], j)
        expect(j["saved"]["not-read"]["bytes"] == 5000 + 2000 + 9, j["saved"])
        expect(j["largest_files"][0] == {"path": "docs/manual.pdf", "bytes": 5000, "reason": "not-read"}, j)
        expect(j["secrets"][0]["path"] == ".env" and j["secrets"][0]["rule"] == "dotenv", j)
        expect(j["tree"]["name"] == "." and j["tree"]["children"][0]["name"] == "docs", j["tree"])
        rc, out, err = run(["report", "--markdown", d])
        expect(rc == 0 and out.startswith("### ctxd report: ") and "| docker build would send |" in out, out)
        rc, _, err = run(["report", "--json", "--markdown", d])
        expect(rc == 2, err)
    finally:
        shutil.rmtree(d)


@test
def secrets_fail_and_allow():
    d = project()
    try:
        rc, out, err = run(["report", "--fail-on-secrets", d])
        expect(rc == 1 and "1 file that looks like credentials" in err, (rc, err))
        with open(os.path.join(d, ".ctxdsecretsignore"), "w") as f:
            f.write("# a test fixture\n.env dotenv\n")
        rc, out, err = run(["report", "--fail-on-secrets", d])
        expect(rc == 0 and "Secrets" not in out, (rc, out, err))
        with open(os.path.join(d, ".ctxdsecretsignore"), "w") as f:
            f.write(".env no-such-rule\n")
        rc, out, err = run(["report", d])
        expect(rc == 2 and ".ctxdsecretsignore:1: no secrets rule" in err, (rc, err))
    finally:
        shutil.rmtree(d)


@test
def bad_input():
    d = project()
    try:
        for args, needle in ((["--depth", "0"], "--depth"), (["--top", "x"], "--top")):
            rc, _, err = run(["report"] + args + [d])
            expect(rc == 2 and needle in err, (args, rc, err))
        rc, _, err = run(["report", d + "-missing"])
        expect(rc == 2 and d + "-missing" in err, (rc, err))
    finally:
        shutil.rmtree(d)


def main():
    global CTXD
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctxd", required=True)
    args = ap.parse_args()
    CTXD = os.path.abspath(args.ctxd)
    passed = failed = skipped = 0
    for fn in TESTS:
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
    print(f"cli-report: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
