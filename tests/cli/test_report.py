#!/usr/bin/env python3
"""Tests of `ctxd report`: the terminal report, --suggest/--write, --json,
--markdown, secrets, and its exit codes (0 ok, 1 over a limit, 2 usage or
input error).

    test_report.py --ctxd build/ctxd
Ends with "cli-report: N passed, N failed"; exit 1 when any failed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ctxdtest import Skip, expect, test  # noqa: E402
import ctxdtest as ct  # noqa: E402

CTXD = None


def run(args, env=None, cwd=None):
    e = ct.ctxd_env()
    e.pop("GITHUB_STEP_SUMMARY", None)
    e.update(env or {})
    return ct.run([CTXD] + args, env=e, cwd=cwd, timeout=120)


def tree(files):
    return ct.tree(files, prefix="ctxd-report-")


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


@test
def baseline_and_budget():
    d = project()
    base = os.path.join(d, "..", os.path.basename(d) + "-baseline.json")
    try:
        rc, out, err = run(["report", "--save-baseline", base, d])
        expect(rc == 0 and os.path.exists(base), (rc, err))
        j = json.load(open(base))
        expect(j["schema"] == "ctxd-baseline" and j["version"] == 1 and j["dirs"]["src"] == 300, j)
        # within limits
        rc, out, err = run(["report", "--baseline", base, "--max-growth", "10%", "--budget", "1MB", d])
        expect(rc == 0 and "within budget" in out and "growth within limit" in out, (rc, out, err))
        # src grows by 5000 bytes: over 10% growth, names src with before/after
        with open(os.path.join(d, "src/big.js"), "w") as f:
            f.write("g" * 5000)
        rc, out, err = run(["report", "--baseline", base, "--max-growth", "10%", d])
        expect(rc == 1 and "GREW TOO MUCH" in out and "over its growth limit" in err, (rc, out, err))
        expect(any(l.split()[:4] == ["src", "300B", "->", "5.3kB"] for l in out.splitlines()), out)
        rc, out, err = run(["report", "--baseline", base, "--max-growth", "6kB", d])
        expect(rc == 0, (rc, out, err))
        rc, out, err = run(["report", "--budget", "1000", d])
        expect(rc == 1 and "OVER BUDGET" in out and "over its budget" in err, (rc, out, err))
        rc, out, err = run(["report", "--json", "--budget", "1000", d])
        j = json.loads(out)
        expect(rc == 1 and j["budget"]["over_budget"] and j["budget"]["budget"] == 1000, j.get("budget"))
        # --ci: annotations and the step summary
        summary = os.path.join(d, "..", os.path.basename(d) + "-summary.md")
        rc, out, err = run(["report", "--ci", "--baseline", base, "--max-growth", "10%", d],
                           env={"GITHUB_STEP_SUMMARY": summary})
        expect(rc == 1 and out.count("::error title=ctxd report: context over its limit::") == 1, out)
        expect("::warning file=.env,title=ctxd report: possible secret" in out, out)
        md = open(summary).read()
        expect(md.startswith("### ctxd report: ") and "| `src` | 300B | 5.3kB |" in md, md)
        os.unlink(summary)
    finally:
        shutil.rmtree(d)
        for p in (base,):
            if os.path.exists(p):
                os.unlink(p)


@test
def bad_baselines_and_budgets():
    d = project()
    bad = os.path.join(d, "..", os.path.basename(d) + "-bad.json")
    try:
        rc, _, err = run(["report", "--baseline", bad, d])
        expect(rc == 2 and "baseline " + bad + ": No such file" in err, (rc, err))
        for content, needle in (("{not json", "not a ctxd baseline (line 1"),
                                ('{"schema": "other"}', "not a ctxd baseline"),
                                ('{"schema": "ctxd-baseline", "version": 2}', "schema version is newer; this ctxd reads version 1"),
                                ('{"schema": "ctxd-baseline", "version": 1, "files": "x"}', "corrupt"),
                                ('{"schema": "ctxd-baseline", "version": 1, "files": 1, "bytes": 1, '
                                 '"docker_files": 1, "docker_bytes": 1, "dirs": {"a": -1}}', 'directory "a"')):
            with open(bad, "w") as f:
                f.write(content)
            rc, out, err = run(["report", "--baseline", bad, d])
            expect(rc == 2 and needle in err and out == "", (content, rc, err))
        for args, needle in ((["--budget", "12XB"], "--budget takes a size"),
                             (["--budget", "-5MB"], "--budget takes a size"),
                             (["--max-growth", "ten%", "--baseline", bad], "--max-growth takes"),
                             (["--max-growth", "10%"], "--max-growth compares with a --baseline")):
            rc, _, err = run(["report"] + args + [d])
            expect(rc == 2 and needle in err, (args, rc, err))
        rc, _, err = run(["report", "--save-baseline", "/nonexistent-dir/b.json", d])
        expect(rc == 2 and "cannot save the baseline" in err, (rc, err))
    finally:
        shutil.rmtree(d)
        if os.path.exists(bad):
            os.unlink(bad)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


@test
def html_treemap():
    d = project()
    out_dir = tempfile.mkdtemp(prefix="ctxd-report-html-")
    page = os.path.join(out_dir, "report.html")
    try:
        rc, out, err = run(["report", "--html", page, d])
        expect(rc == 0 and os.path.exists(page), (rc, err))
        html = open(page).read()
        expect("<script" in html and "http://" not in html and "https://" not in html, "network reference")
        expect('"schema":"ctxd-report"' in html, "no data")
        # an unwritable path: exit 2, nothing left behind
        rc, _, err = run(["report", "--html", "/nonexistent-dir/r.html", d])
        expect(rc == 2 and "/nonexistent-dir/r.html" in err, (rc, err))
        browser = chromium()
        if not browser:
            raise Skip("chromium not installed: the page was not loaded (apt-get install chromium)")
        args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                "--window-size=1200,1400", "--enable-logging=stderr", "--v=0"]
        p = subprocess.run(args + ["--dump-dom", "file://" + page], capture_output=True, timeout=120)
        dom = p.stdout.decode("utf-8", "replace")
        log = p.stderr.decode("utf-8", "replace")
        errors = [l for l in log.splitlines() if "CONSOLE" in l and ("rror" in l or "Uncaught" in l)]
        expect(not errors, errors)
        expect(dom.count('class="cell') >= 3, "treemap not drawn:\n" + dom[-2000:])
        expect("docs/" in dom and "Largest files" in dom, dom[-2000:])
        shot = os.path.join(out_dir, "report.png")
        p = subprocess.run(args + ["--screenshot=" + shot, "file://" + page], capture_output=True, timeout=120)
        expect(os.path.exists(shot) and os.path.getsize(shot) > 5000, p.stderr.decode()[-2000:])
        keep = os.environ.get("CTXD_SCREENSHOT_DIR")
        if keep:
            shutil.copy(shot, os.path.join(keep, "report-treemap.png"))
    finally:
        shutil.rmtree(d)
        shutil.rmtree(out_dir)


@test
def history():
    d = project()
    state = tempfile.mkdtemp(prefix="ctxd-report-state-")
    env = {"XDG_STATE_HOME": state}
    try:
        rc, out, err = run(["report", "--history", d], env=env)
        expect(rc == 0 and "No history" in out, (rc, out, err))
        rc, _, err = run(["report", d], env=env)
        expect(rc == 0, err)
        with open(os.path.join(d, "src/more.js"), "w") as f:
            f.write("m" * 4000)
        rc, _, err = run(["report", d], env=env)
        rc, out, err = run(["report", "--history", d], env=env)
        lines = out.splitlines()
        expect(rc == 0 and len(lines) == 3 and "+4kB" in lines[2] and "src/ +4kB" in lines[2], out)
        hist = open(os.path.join(state, "ctxd", "history.jsonl")).read().splitlines()
        expect(len(hist) == 2 and json.loads(hist[1])["bytes"] > json.loads(hist[0])["bytes"], hist)
    finally:
        shutil.rmtree(d)
        shutil.rmtree(state)


def main():
    global CTXD
    CTXD = ct.arguments().parse_args().ctxd
    return ct.run_tests("cli-report")


if __name__ == "__main__":
    sys.exit(main())
