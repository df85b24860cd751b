#!/usr/bin/env python3
"""Tests of the ctxd command line: options, exit codes, messages, and that a
failed or interrupted `ctxd pack -o FILE` leaves nothing behind.

    test_cli.py --ctxd build/ctxd
Ends with "cli: N passed, N failed"; exit 1 when any failed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ctxdtest import Skip, expect, test  # noqa: E402
import ctxdtest as ct  # noqa: E402

CTXD = None


def run(args, cwd=None, env=None, stdin=None):
    return ct.run([CTXD] + args, env=ct.ctxd_env(env), cwd=cwd, stdin=stdin)


def tree(files):
    return ct.tree(files, prefix="ctxd-cli-")


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
    # docker build's stdin and remote contexts are refused before any daemon is asked
    for cmd in ("build", "ls", "pack", "report"):
        for ctx in ("-", "https://example.com/app.tar.gz", "git@example.com:app.git",
                    "github.com/moby/moby"):
            rc, _, err = run([cmd, ctx], env={"DOCKER_HOST": "unix:///nonexistent.sock"})
            expect(rc == 2 and "a context from stdin or a URL is not supported" in err and
                   ctx in err, (cmd, ctx, rc, err))


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
        raise Skip("needs root and setpriv")
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


GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "protocol.file.allow=always"]


def git_project(dockerfile="FROM scratch\nCOPY . /app\nCOPY build/keep.bin /\n"):
    """A repository: tracked src/a.c; .gitignore build/ and *.log; build/out.o,
    build/keep.bin and x.log ignored; u.txt untracked."""
    d = tree({"Dockerfile": dockerfile, ".gitignore": "build/\n*.log\n", "src/a.c": "int a;\n",
              "build/out.o": "object", "build/keep.bin": "keep", "x.log": "log", "u.txt": "untracked"})
    subprocess.run(["git", "init", "-q", d], check=True)
    subprocess.run(GIT + ["-C", d, "add", "Dockerfile", ".gitignore", "src"], check=True)
    subprocess.run(GIT + ["-C", d, "commit", "-qm", "i"], check=True)
    return d


def sent(args, env=None):
    rc, out, err = run(["ls"] + args, env=env)
    expect(rc == 0, (args, err))
    return out.splitlines(), err


@test
def git_filter_levels():
    d = git_project()
    try:
        names, err = sent([d])
        expect(".git/HEAD" in names and "build/out.o" in names and "u.txt" in names, names)
        # off: the summary says what each filter would save
        expect("; --git-filter=ignored would save " in err and ", --git-filter=untracked " in err, err)
        names, err = sent(["--git-filter=ignored", d])
        expect(names == [".gitignore", "Dockerfile", "build/", "build/keep.bin", "src/", "src/a.c", "u.txt"], names)
        expect("ignored by git: " in err and "--git-filter=untracked would save 1 files, 9B" in err, err)
        names, err = sent(["--git-filter=untracked", d])
        expect(names == [".gitignore", "Dockerfile", "build/", "build/keep.bin", "src/", "src/a.c"], names)
        # report takes the filter too
        rc, out, rerr = run(["report", "--git-filter=untracked", d])
        expect(rc == 0 and re.search(r"ctxd sends +4 ", out) and re.search(r"not tracked by git +1 +9B", out), (out, rerr))
        expect("would save" not in err and "not tracked by git: 1 files, 9B" in err, err)
        # .git is never sent with the filter on, pruning or not
        out_tar = d + ".tar"
        for extra in ([], ["--prune=off"]):
            rc, _, err = run(["pack", "--git-filter=ignored", "-o", out_tar] + extra + [d])
            expect(rc == 0, err)
            with tarfile.open(out_tar) as t:
                tn = t.getnames()
            expect(not [n for n in tn if n == ".git" or n.startswith(".git/")], tn)
            expect("build/keep.bin" in tn and "build/out.o" not in tn and "x.log" not in tn, tn)
        os.unlink(out_tar)
        # the reasons, with the .gitignore line
        rc, out, _ = run(["ls", "--git-filter=untracked", "--excluded", "--long", d])
        lines = out.splitlines()
        expect(any(l.endswith(f"build/out.o  {d}/.gitignore:1: build/") for l in lines), lines)
        expect(any(l.endswith(f"x.log  {d}/.gitignore:2: *.log") for l in lines), lines)
        expect(any(l.endswith("u.txt  git: untracked") for l in lines), lines)
        expect(any(l.endswith(".git/  git: .git (git's own files)") for l in lines), lines)
        import json
        rc, out, _ = run(["ls", "--json", "--excluded", "--git-filter=ignored", d])
        j = json.loads(out)
        e = {x["path"]: x for x in j["entries"]}
        expect(e["x.log"]["reason"] == "git-ignored" and e["x.log"]["rule"] == "*.log"
               and e["x.log"]["rule_line"] == 2 and e["x.log"]["rule_file"] == d + "/.gitignore", e["x.log"])
        g = j["totals"]["git"]
        expect(g["filter"] == "ignored" and g["source"] == "--git-filter" and g["repository"] == d, g)
        expect(g["would_save"] == {"untracked": {"files": 1, "bytes": 9}}, g)
        rc, out, _ = run(["ls", "--json", d])
        g = json.loads(out)["totals"]["git"]
        expect(g["filter"] == "off" and g["would_save"]["untracked"]["files"] == g["would_save"]["ignored"]["files"] + 1, g)
    finally:
        shutil.rmtree(d)


@test
def git_filter_sources_and_errors():
    d = git_project()
    try:
        names, _ = sent([d], env={"CTXD_GIT_FILTER": "ignored"})
        expect("x.log" not in names and "u.txt" in names, names)
        # the flag wins over the environment, the environment over the file
        names, _ = sent(["--git-filter=off", d], env={"CTXD_GIT_FILTER": "ignored"})
        expect("x.log" in names, names)
        with open(os.path.join(d, ".ctxd.conf"), "w") as f:
            f.write("# project defaults\ngit-filter = untracked\n")
        names, _ = sent([d])
        expect("u.txt" not in names and "x.log" not in names, names)
        names, _ = sent([d], env={"CTXD_GIT_FILTER": "off"})
        expect("u.txt" in names, names)
        import json
        rc, out, _ = run(["ls", "--json", d])
        expect(json.loads(out)["totals"]["git"]["source"] == d + "/.ctxd.conf:2", out)
        # --exact is docker's context: the file's filter does not apply, the flag conflicts
        names, _ = sent(["--exact", d])
        expect("u.txt" in names and ".git/HEAD" in names, names)
        rc, _, err = run(["ls", "--exact", "--git-filter=ignored", d])
        expect(rc == 2 and "--exact and --git-filter=ignored conflict" in err, err)
        # bad values name their source; exit 2
        rc, _, err = run(["ls", "--git-filter=all", d])
        expect(rc == 2 and "--git-filter: 'all' is not one of off, ignored, untracked" in err, err)
        rc, _, err = run(["pack", "-o", d + ".tar", d], env={"CTXD_GIT_FILTER": "yes"})
        expect(rc == 2 and "CTXD_GIT_FILTER: 'yes' is not one of" in err and not os.path.exists(d + ".tar"), err)
        with open(os.path.join(d, ".ctxd.conf"), "w") as f:
            f.write("\ngit-filter = some\n")
        for cmd in (["ls"], ["why"], ["pack", "-o", d + ".tar"]):
            rc, _, err = run(cmd + [d] + (["x.log"] if cmd == ["why"] else []))
            expect(rc == 2, (cmd, err))
            one_error_line(err, d + "/.ctxd.conf:2: git-filter: 'some' is not one of off, ignored, untracked")
        rc, _, err = run(["build", "--git-filter=some", d])
        expect(rc == 2 and "--git-filter: 'some'" in err, err)
        # the file also sets prune
        with open(os.path.join(d, ".ctxd.conf"), "w") as f:
            f.write("prune = off\n")
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY src /src\n")
        names, _ = sent([d])
        expect("u.txt" in names, names)
        for cmd in ("ls", "pack", "why", "build", "report"):
            rc, out, _ = run([cmd, "--help"])
            expect("--git-filter=off|ignored|untracked" in out, (cmd, out))
    finally:
        shutil.rmtree(d)


@test
def git_filter_repo_layouts():
    d = git_project()
    lib = tree({"lib.c": "", ".gitignore": "*.o\n"})
    wt = d + "-wt"
    try:
        # a subdirectory of the repository: the root's rules and its own
        os.makedirs(os.path.join(d, "app", "tmp"))
        for rel, text in (("app/Dockerfile", "FROM scratch\nCOPY . /\n"), ("app/main.c", ""),
                          ("app/debug.log", ""), ("app/.gitignore", "tmp/\n"), ("app/tmp/t", "")):
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        subprocess.run(GIT + ["-C", d, "add", "app/Dockerfile", "app/main.c", "app/.gitignore"], check=True)
        names, _ = sent(["--git-filter=ignored", os.path.join(d, "app")])
        expect(names == [".gitignore", "Dockerfile", "main.c"], names)
        # a submodule (its own rules, its .git file) and a nested repository
        subprocess.run(["git", "init", "-q", lib], check=True)
        subprocess.run(GIT + ["-C", lib, "add", "."], check=True)
        subprocess.run(GIT + ["-C", lib, "commit", "-qm", "l"], check=True)
        subprocess.run(GIT + ["-C", d, "submodule", "-q", "add", lib, "mod"], check=True)
        for rel in ("mod/x.o", "mod/new.c"):
            with open(os.path.join(d, rel), "w") as f:
                f.write("x")
        os.makedirs(os.path.join(d, "nest"))
        subprocess.run(["git", "init", "-q", os.path.join(d, "nest")], check=True)
        with open(os.path.join(d, "nest", "f"), "w") as f:
            f.write("f")
        names, _ = sent(["--git-filter=ignored", d])
        expect("mod/lib.c" in names and "mod/new.c" in names and "mod/x.o" not in names and "mod/.git" not in names, names)
        expect("nest/f" in names and not [n for n in names if n.startswith("nest/.git")], names)
        names, _ = sent(["--git-filter=untracked", d])
        expect("mod/lib.c" in names and "mod/new.c" not in names and "nest/" not in names, names)
        # a linked worktree
        subprocess.run(GIT + ["-C", d, "commit", "-qm", "s"], check=True)
        subprocess.run(GIT + ["-C", d, "worktree", "add", "-q", wt], check=True)
        with open(os.path.join(wt, "z.log"), "w") as f:
            f.write("z")
        names, _ = sent(["--git-filter=ignored", wt])
        expect(".git" not in names and "z.log" not in names and "src/a.c" in names, names)
        # no repository: nothing to drop, and no savings to report
        plain = tree({"Dockerfile": "FROM scratch\nCOPY . /\n", ".gitignore": "*.log\n", "x.log": ""})
        try:
            names, err = sent(["--git-filter=untracked", plain])
            expect("x.log" in names and "--git-filter" not in err, (names, err))
        finally:
            shutil.rmtree(plain)
    finally:
        shutil.rmtree(d)
        shutil.rmtree(lib)
        shutil.rmtree(wt, ignore_errors=True)


@test
def git_filter_why():
    d = git_project()
    try:
        rc, out, err = run(["why", "--git-filter=ignored", d, "build/out.o", "u.txt", "build/keep.bin", ".git/HEAD"])
        expect(rc == 0, err)
        lines = out.splitlines()
        i = lines.index("build/out.o: not sent: ignored by git")
        expect(lines[i + 1] == f"  git: ignored ({d}/.gitignore:1: build/)", lines)
        i = [k for k, l in enumerate(lines) if l.startswith("u.txt: sent")][0]
        expect(lines[i + 1] == "  git: untracked; --git-filter=untracked would leave it out", lines)
        i = [k for k, l in enumerate(lines) if l.startswith("build/keep.bin: sent")][0]
        expect(lines[i + 1] == f"  git: ignored ({d}/.gitignore:1: build/); kept by --git-filter: the Dockerfile names it", lines)
        i = lines.index(".git/HEAD: not sent: ignored by git")
        expect(lines[i + 1] == "  git: ignored (.git: git's own files)", lines)
        rc, out, err = run(["why", "--git-filter=untracked", d, "u.txt"])
        expect(out.splitlines()[-2:] == ["u.txt: not sent: not tracked by git", "  git: untracked"], out)
        import json
        rc, out, err = run(["why", "--json", "--git-filter=ignored", d, "x.log", "u.txt"])
        j = json.loads(out)
        x, u = j["files"]
        expect(j["git_filter"] == "ignored" and x["reason"] == "git-ignored" and not x["sent"], j)
        expect(x["rule"] == {"pattern": "*.log", "file": d + "/.gitignore", "line": 2}, x)
        expect(x["git"]["state"] == "ignored" and u["git"] == {"state": "untracked", "named_by_dockerfile": False}, j)
    finally:
        shutil.rmtree(d)


@test
def git_ignored_directories_are_not_opened():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv")
    d = git_project("FROM scratch\nCOPY . /app\n")
    try:
        os.makedirs(os.path.join(d, "cache", "deep"))
        with open(os.path.join(d, ".gitignore"), "a") as f:
            f.write("cache/\n")
        subprocess.run(["chown", "-R", "65534:65534", d], check=True)
        os.chmod(os.path.join(d, "cache"), 0)
        out = os.path.join(d, "o.tar")
        # docker (and the filter off) must list cache/ and fails as nobody
        p = subprocess.run(as_nobody() + [CTXD, "pack", "-q", "-o", out, d], capture_output=True, text=True)
        expect(p.returncode == 1 and "cache" in p.stderr, p.stderr)
        # (git reads the user's config: nobody's HOME must be readable)
        p = subprocess.run(as_nobody() + [CTXD, "pack", "-q", "--git-filter=ignored", "-o", out, d],
                           capture_output=True, text=True, env=dict(os.environ, HOME=d))
        expect(p.returncode == 0, p.stderr)
        with tarfile.open(out) as t:
            expect("cache" not in t.getnames(), t.getnames())
    finally:
        os.chmod(os.path.join(d, "cache"), 0o755)
        shutil.rmtree(d)


@test
def libgit2_that_cannot_be_loaded():
    """libgit2 is opened when a command first reads a repository: a git
    filter then fails with one message naming the library, the summary
    only loses its savings figure, and a context in no repository never
    opens it."""
    d = git_project()
    nogit = tree({"Dockerfile": "FROM scratch\nCOPY . /\n", "a": "a"})
    env = {"CTXD_LIBGIT2": "/nonexistent/libgit2.so.1"}
    try:
        for cmd in (["ls"], ["pack", "-o", d + ".tar"], ["why"], ["report"]):
            rc, _, err = run(cmd + ["--no-daemon", "--git-filter=ignored", d] + (["x.log"] if cmd == ["why"] else []),
                             env=env)
            # (report's input errors are exit 2, apart from its limits' 1)
            expect(rc == (2 if cmd == ["report"] else 1), (cmd, rc, err))
            one_error_line(err, "cannot load libgit2: /nonexistent/libgit2.so.1")
            expect(not os.path.exists(d + ".tar"), cmd)
        # the summary's "--git-filter would save" needs git: a warning
        names, err = sent(["--no-daemon", d], env=env)
        expect("Dockerfile" in names and "x.log" in names, names)
        expect("warning: " in err and "cannot load libgit2" in err and "--git-filter=ignored would save" not in err, err)
        rc, out, err = run(["report", "--no-daemon", d], env=env)
        expect(rc == 0 and "cannot load libgit2" in out + err, (out, err))
        names, err = sent(["--no-daemon", "--git-filter=untracked", nogit], env=env)
        expect(names == ["Dockerfile", "a"] and "libgit2" not in err, (names, err))
        rc, out, _ = run(["version"], env=env)
        expect(rc == 0 and "libgit2 unavailable (cannot load libgit2: /nonexistent/libgit2.so.1" in out, out)
        rc, out, _ = run(["version"])
        expect(rc == 0 and re.search(r", libgit2 \d+\.\d+\.\d+,", out), out)
    finally:
        shutil.rmtree(d)
        shutil.rmtree(nogit)


def main():
    global CTXD
    CTXD = ct.arguments().parse_args().ctxd
    return ct.run_tests("cli")


if __name__ == "__main__":
    sys.exit(main())
