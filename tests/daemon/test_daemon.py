#!/usr/bin/env python3
"""Tests of `ctxd daemon`, `ctxd status` and the daemon's socket: one daemon
per socket, stale sockets, the private directory, socket activation, clean
shutdown, and bad clients costing only their own connection.

    test_daemon.py --ctxd build/ctxd
Ends with "daemon: N passed, N failed"; exit 1 when any failed.
"""
import io
import json
import os
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ctxdtest import expect, sockdir, test  # noqa: E402
import ctxdtest as ct  # noqa: E402

CTXD = None


def env_for(sock, extra=None):
    return ct.ctxd_env(extra, sock=sock)


def run(sock, args, timeout=60):
    return ct.run([CTXD] + args, env=env_for(sock), timeout=timeout)


class Daemon:
    """A foreground daemon on a private socket, stopped by pid."""

    def __init__(self, sock=None, args=(), env=None, **popen):
        self.dir = None
        if sock is None:
            self.dir = sockdir()
            sock = os.path.join(self.dir, "ctxd.sock")
        self.sock = sock
        self.proc = subprocess.Popen([CTXD, "daemon", "--foreground"] + list(args),
                                     env=env_for(sock, env), stderr=subprocess.PIPE, **popen)
        self.wait_ready()

    def wait_ready(self):
        deadline = time.time() + 30  # a loaded machine starts it slowly
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited: " + self.proc.stderr.read().decode())
            if run(self.sock, ["status"])[0] == 0:
                return
            time.sleep(0.02)
        raise AssertionError("daemon did not come up")

    def status(self):
        rc, out, err = run(self.sock, ["status", "--json"])
        expect(rc == 0, f"status failed: {rc} {err}")
        return json.loads(out)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("daemon did not stop on " + str(sig))
        self.log = self.proc.stderr.read().decode()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def raw_connect(sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    return s


def frame(body):
    return struct.pack(">I", len(body)) + body


def send_msg(s, obj):
    body = json.dumps(obj).encode()
    s.sendall(struct.pack(">I", len(body)) + body)


def fake_daemon():
    """(directory, socket path, listening socket): a private socket no
    daemon serves, for a test that plays the daemon (or a silent one)."""
    d = sockdir()
    sock = os.path.join(d, "ctxd.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sock)
    ls.listen(4)
    ls.settimeout(30)
    return d, sock, ls


def recv_msg(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise AssertionError("reply cut short")
        body += chunk
    return json.loads(body)


@test
def status_without_daemon_exits_3():
    d = sockdir()
    try:
        rc, out, err = run(os.path.join(d, "ctxd.sock"), ["status"])
        expect(rc == 3, f"rc {rc}")
        expect("no ctxd daemon is running" in err, err)
    finally:
        shutil.rmtree(d)


@test
def socket_is_private_and_removed_on_sigterm():
    dm = Daemon()
    try:
        st = os.lstat(dm.sock)
        expect(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode))
        s = dm.status()
        expect(s["pid"] == dm.proc.pid and s["socket"] == dm.sock and s["projects"] == [], s)
    finally:
        rc = dm.stop()
    expect(rc == 0, f"rc {rc}")
    expect(not os.path.exists(dm.sock), "socket left behind")


@test
def sigint_stops_cleanly():
    dm = Daemon()
    sock = dm.sock
    rc = dm.stop(signal.SIGINT)
    expect(rc == 0 and not os.path.exists(sock), f"rc {rc}")
    expect("SIGINT received" in dm.log, dm.log)


@test
def second_daemon_refuses():
    dm = Daemon()
    try:
        rc, out, err = run(dm.sock, ["daemon", "--foreground"], timeout=10)
        expect(rc == 1, f"rc {rc}")
        expect(f"another ctxd daemon (pid {dm.proc.pid}) is already serving {dm.sock}" in err, err)
        dm.status()  # the first one is unharmed
    finally:
        dm.stop()


@test
def stale_socket_is_replaced():
    d = sockdir()
    sock = os.path.join(d, "ctxd.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock)
    s.close()  # a socket file nobody listens on, as a crash leaves it
    dm = Daemon(sock)
    try:
        dm.status()
    finally:
        dm.stop()
        shutil.rmtree(d)
    expect("replaced the stale socket" in dm.log, dm.log)


@test
def killed_daemon_leaves_a_replaceable_socket():
    dm = Daemon()
    dm.proc.kill()
    dm.proc.wait()
    expect(os.path.exists(dm.sock), "SIGKILL cannot remove the socket")
    rc, _, err = run(dm.sock, ["status"])
    expect(rc == 3, f"status after a crash: {rc} {err}")
    again = Daemon(dm.sock)
    again.status()
    again.stop()
    shutil.rmtree(dm.dir)


@test
def not_a_socket_is_not_replaced():
    d = sockdir()
    sock = os.path.join(d, "ctxd.sock")
    open(sock, "w").write("mine")
    try:
        rc, _, err = run(sock, ["daemon", "--foreground"], timeout=10)
        expect(rc == 1 and "exists and is not a socket; not replacing it" in err, f"{rc} {err}")
        expect(open(sock).read() == "mine", "file changed")
    finally:
        shutil.rmtree(d)


@test
def open_socket_directory_is_refused():
    d = sockdir()
    os.chmod(d, 0o755)
    try:
        rc, _, err = run(os.path.join(d, "ctxd.sock"), ["daemon", "--foreground"], timeout=10)
        expect(rc == 1, f"rc {rc}")
        expect(f"{d}: the socket directory has mode 0755; it must be 0700" in err, err)
        link = d + "-link"
        os.symlink(d, link)
        rc, _, err = run(os.path.join(link, "ctxd.sock"), ["daemon", "--foreground"], timeout=10)
        expect(rc == 1 and "is not a directory (a symlink)" in err, f"{rc} {err}")
        os.unlink(link)
    finally:
        shutil.rmtree(d)


@test
def missing_socket_directory_is_created_0700():
    d = sockdir()
    sock = os.path.join(d, "sub", "ctxd.sock")
    dm = Daemon(sock)
    try:
        expect(stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode) == 0o700, "mode")
    finally:
        dm.stop()
        shutil.rmtree(d)


@test
def default_socket_path_follows_xdg_runtime_dir():
    d = sockdir()
    e = dict(os.environ)
    e.pop("CTXD_SOCKET", None)
    e["XDG_RUNTIME_DIR"] = d
    p = subprocess.Popen([CTXD, "daemon", "--foreground"], env=e, stderr=subprocess.PIPE)
    try:
        sock = os.path.join(d, "ctxd", "ctxd.sock")
        expect(ct.wait_until(lambda: os.path.exists(sock)), "no socket under XDG_RUNTIME_DIR")
        rc = subprocess.run([CTXD, "status"], env=e, capture_output=True).returncode
        expect(rc == 0, f"status rc {rc}")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        shutil.rmtree(d)


@test
def socket_activation():
    d = sockdir()
    sock = os.path.join(d, "ctxd.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sock)
    os.chmod(sock, 0o600)
    ls.listen(16)
    fd = ls.fileno()

    # the shell moves the socket to fd 3, as systemd passes it (a dup2 in
    # preexec_fn would be closed again by close_fds unless fd was 3 already)
    e = env_for(sock, {"LISTEN_FDS": "1"})
    move = f"exec 3<&{fd} {fd}<&-; " if fd != 3 else ""
    p = subprocess.Popen(["sh", "-c", move + 'LISTEN_PID=$$ exec "$0" daemon', CTXD],
                         env=e, stderr=subprocess.PIPE, pass_fds=(fd,))
    try:
        expect(ct.wait_until(lambda: run(sock, ["status"])[0] == 0),
               "activated daemon does not answer")
        expect(p.poll() is None, "an activated daemon stays in the foreground")
        st = json.loads(run(sock, ["status", "--json"])[1])
        expect(st["pid"] == p.pid and st["socket"] == sock, st)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
    # the service manager owns the socket file: the daemon leaves it
    expect(os.path.exists(sock), "activated daemon removed the manager's socket")
    ls.close()
    shutil.rmtree(d)


@test
def background_daemon_detaches():
    d = sockdir()
    sock = os.path.join(d, "ctxd.sock")
    rc, out, err = run(sock, ["daemon"], timeout=10)
    try:
        expect(rc == 0 and "ctxd daemon started (pid " in out, f"{rc} {out} {err}")
        pid = int(out.split("(pid ")[1].split(")")[0])
        st = json.loads(run(sock, ["status", "--json"])[1])
        expect(st["pid"] == pid, st)
    finally:
        os.kill(pid, signal.SIGTERM)
        ct.wait_until(lambda: not os.path.exists(sock))
    expect(not os.path.exists(sock), "socket left behind")
    expect("serving " + sock in open(sock + ".log").read(), "no log")
    shutil.rmtree(d)


@test
def bad_client_loses_only_its_connection():
    dm = Daemon()
    try:
        cases = [
            (struct.pack(">I", 0), "protocol: empty message (length 0)"),
            (struct.pack(">I", 1 << 30), "over the 4194304-byte limit"),
            (struct.pack(">I", 3) + b"{x}", "protocol: invalid JSON"),
            (struct.pack(">I", 2) + b"[]", "a message must be a JSON object"),
            (frame(b'{"type":"stat"}'), 'no integer "v"'),
            (frame(b'{"v":9,"type":"status"}'), "version 9 is not the supported"),
            (frame(b'{"v":%d,"type":"nope"}' % ct.PROTOCOL_VERSION), 'unknown request type "nope"'),
        ]
        good = raw_connect(dm.sock)
        for wire, want in cases:
            s = raw_connect(dm.sock)
            s.sendall(wire)
            reply = recv_msg(s)
            expect(reply and reply["type"] == "error" and want in reply["message"], f"{wire!r}: {reply}")
            expect(recv_msg(s) is None, "connection not closed after a bad message")
            s.close()
        # a short message, then the client vanishes
        s = raw_connect(dm.sock)
        s.sendall(struct.pack(">I", 100) + b'{"v"')
        s.close()
        send_msg(good, {"v": ct.PROTOCOL_VERSION, "type": "status"})
        expect(recv_msg(good)["type"] == "status", "the good client was hurt")
        good.close()
    finally:
        dm.stop()


@test
def client_does_not_hang_on_a_silent_daemon():
    d, sock, ls = fake_daemon()  # the kernel accepts; nothing answers
    try:
        t = time.time()
        rc, _, err = run(sock, ["status"], timeout=60)
        took = time.time() - t
        expect(rc == 1 and "did not answer in time" in err, f"{rc} {err}")
        expect(took < 30, f"took {took:.1f}s")
    finally:
        ls.close()
        shutil.rmtree(d)


@test
def usage_errors():
    d = sockdir()
    try:
        sock = os.path.join(d, "s")
        rc, _, err = run(sock, ["daemon", "--idle-timeout=abc"])
        expect(rc == 2 and "--idle-timeout wants whole seconds, got 'abc'" in err, f"{rc} {err}")
        rc, _, err = run(sock, ["daemon", "extra"])
        expect(rc == 2 and "unexpected argument 'extra'" in err, f"{rc} {err}")
        rc, _, err = run(sock, ["status", "extra"])
        expect(rc == 2, f"{rc} {err}")
        rc, _, err = run("relative.sock", ["daemon", "--foreground"])
        expect(rc == 1 and "the socket path must be absolute" in err, f"{rc} {err}")
        rc, _, err = run("/" + "x" * 120 + "/s", ["daemon", "--foreground"])
        expect(rc == 1, f"{rc} {err}")
        e = env_for(os.path.join(d, "s"), {"LISTEN_PID": "1", "LISTEN_FDS": "1"})
        p = subprocess.run(["sh", "-c", 'LISTEN_PID=$$ exec "$0" daemon', CTXD], env=e,
                           capture_output=True, timeout=10)
        expect(p.returncode == 1 and b"is not a unix stream socket" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(d)


def dup_project(root):
    """A context with copies (same size and mode: some identical, some not),
    a file of a size of its own, and an excluded copy."""
    os.makedirs(os.path.join(root, "a", "b"))
    files = {"a/one.txt": b"same bytes\n" * 50, "a/b/two.txt": b"same bytes\n" * 50,
             "three.txt": b"same bytes\n" * 50, "diff.txt": b"diff bytes\n" * 50,
             "lone.bin": b"x" * 7, "skip/copy.txt": b"same bytes\n" * 50,
             "Dockerfile": b"FROM scratch\nCOPY a /a\nCOPY three.txt diff.txt /\n",
             ".dockerignore": b"skip\n"}
    for rel, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    time.sleep(2.1)  # the index caches hashes only once the clock is past a file's ctime


def opened(sock, args):
    """The files under the context a command opened (strace), and its result."""
    log = os.path.join(os.path.dirname(sock), "strace.log")
    # LeakSanitizer cannot run under ptrace: an ASan build's leak check is
    # left to the other tests
    asan = os.environ.get("ASAN_OPTIONS", "")
    e = env_for(sock, {"ASAN_OPTIONS": (asan + ":" if asan else "") + "detect_leaks=0"})
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", log, CTXD] + args,
                       env=e, capture_output=True, timeout=60)
    with open(log) as f:
        names = [line.split('"')[1] for line in f if '"' in line and "ENOENT" not in line]
    os.unlink(log)
    return names, p


@test
def dedup_and_why_use_the_daemons_hashes():
    dm = Daemon()
    try:
        root = os.path.join(dm.dir, "proj")
        dup_project(root)
        cases = [["why", root, "a/b/two.txt", "three.txt", "diff.txt", "skip/copy.txt", "lone.bin"],
                 ["why", "--json", "--prune=off", root, "three.txt", "a/one.txt"],
                 ["pack", "--dedup", "-o", "-", root],
                 ["pack", "--dedup", "--exact", "-o", "-", root]]
        for args in cases:
            cold = subprocess.run([CTXD] + args[:1] + ["--no-daemon"] + args[1:], env=env_for(dm.sock),
                                  capture_output=True, timeout=60)
            for _ in range(2):  # the daemon's first answer hashes, the second reuses its cache
                warm = subprocess.run([CTXD] + args, env=env_for(dm.sock), capture_output=True,
                                      timeout=60)
                expect((warm.returncode, warm.stdout, warm.stderr) ==
                       (cold.returncode, cold.stdout, cold.stderr),
                       f"{args}: daemon {warm.returncode} {warm.stderr!r} / cold {cold.returncode} "
                       f"{cold.stderr!r}; stdout same: {warm.stdout == cold.stdout}")
        expect(b"same bytes as a/b/two.txt" in subprocess.run(
            [CTXD, "why", root, "three.txt"], env=env_for(dm.sock), capture_output=True).stdout,
            "why does not name the first copy")
        proj = [x for x in dm.status()["projects"] if x["root"] == os.path.realpath(root)][0]
        expect(proj["hashed"] >= 4, f"the daemon hashed {proj['hashed']} files, not the copies")
        if shutil.which("strace"):
            names, p = opened(dm.sock, ["why", root, "three.txt"])
            expect(p.returncode == 0 and b"same bytes as a/b/two.txt" in p.stdout, p.stderr)
            read = [n for n in names if n.endswith((".txt", ".bin"))]
            # the copies are compared byte for byte, the rest is not read
            expect("diff.txt" not in " ".join(read) and "lone.bin" not in " ".join(read),
                   f"the client read files to hash them: {read}")
            names, p = opened(dm.sock, ["why", "--no-daemon", root, "three.txt"])
            expect(any(n.endswith("diff.txt") for n in names),
                   f"--no-daemon should hash diff.txt itself: {names}")
    finally:
        dm.stop()


def report_project(root):
    """A context for ctxd report: sent and unread files, an ignored directory,
    dependencies, credentials by name and by content, and a git repository
    with an ignored directory."""
    files = {"Dockerfile": b"FROM scratch\nCOPY src /src\nCOPY conf /conf\n",
             ".dockerignore": b"logs\n", ".gitignore": b"build/\n",
             "src/app.js": b"console.log(1)\n" * 40, "src/lib/util.js": b"x\n" * 300,
             "conf/app.yaml": b"aws_key: AKIAABCDEFGHIJKLMNOP\n", "conf/.env": b"A=1\n",
             "node_modules/x/index.js": b"y\n" * 900, "docs/guide.md": b"z" * 5000,
             "logs/a.log": b"l" * 700, "build/out.bin": b"b" * 3000}
    for rel, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    if shutil.which("git"):
        for cmd in (["init", "-q"], ["add", "src", "conf", "Dockerfile", ".gitignore"],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
            subprocess.run(["git", "-C", root] + cmd, check=True, capture_output=True)


@test
def report_asks_the_daemon_and_says_the_same():
    dm = Daemon()
    state = tempfile.mkdtemp(prefix="ctxd-state-")
    env = env_for(dm.sock, {"XDG_STATE_HOME": state})
    try:
        root = os.path.join(dm.dir, "proj")
        report_project(root)
        before = dm.status()["requests"]
        cases = [["report", root], ["report", "--json", root], ["report", "--markdown", "--top", "3", root],
                 ["report", "--suggest", root], ["report", "--exact", "--json", root],
                 ["report", "--json", "--measure-ignored", "--depth", "3", root],
                 ["report", "--fail-on-secrets", root]]
        for args in cases:
            cold = subprocess.run([CTXD] + args[:1] + ["--no-daemon"] + args[1:], env=env,
                                  capture_output=True, timeout=60)
            warm = subprocess.run([CTXD] + args, env=env, capture_output=True, timeout=60)
            expect((warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr),
                   f"{args}: daemon {warm.returncode} {warm.stderr!r} / cold {cold.returncode} "
                   f"{cold.stderr!r}; stdout same: {warm.stdout == cold.stdout}")
            expect(warm.returncode == (1 if "--fail-on-secrets" in args else 0), warm.stderr)
        # asked once per warm run (and status itself); the cold runs never
        asked = dm.status()["requests"] - before
        expect(asked >= len(cases), f"the daemon was asked {asked} times for {len(cases)} reports")
        expect(any(x["root"] == os.path.realpath(root) for x in dm.status()["projects"]),
               "the daemon does not know the project")
    finally:
        dm.stop()
        shutil.rmtree(state, ignore_errors=True)


def history_lines(state):
    path = os.path.join(state, "ctxd", "history.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


@test
def history_is_recorded_by_whoever_walked_once():
    # the daemon and the client keep their histories apart here, so each
    # record shows who made it
    dstate, cstate = tempfile.mkdtemp(prefix="ctxd-dstate-"), tempfile.mkdtemp(prefix="ctxd-cstate-")
    dm = Daemon(env={"XDG_STATE_HOME": dstate})
    bad = None
    env = env_for(dm.sock, {"XDG_STATE_HOME": cstate})
    try:
        root = os.path.join(dm.dir, "proj")
        report_project(root)

        def ctxd(*args, e=env):
            p = subprocess.run([CTXD] + list(args), env=e, capture_output=True, timeout=60)
            expect(p.returncode == 0, f"{args}: {p.returncode} {p.stderr!r}")
            return p

        ctxd("report", root)
        ctxd("pack", "-o", os.devnull, root)
        ctxd("ls", root)  # ls keeps no history
        d = history_lines(dstate)
        expect([r["cmd"] for r in d] == ["report", "pack"] and not history_lines(cstate),
               f"the daemon's answers: daemon recorded {d}, the client {history_lines(cstate)}")
        ctxd("report", "--no-daemon", root)
        ctxd("pack", "--no-daemon", "-o", os.devnull, root)
        c = history_lines(cstate)
        expect([r["cmd"] for r in c] == ["report", "pack"] and len(history_lines(dstate)) == 2,
               f"in-process runs: client recorded {c}, the daemon {history_lines(dstate)}")
        # the same figures whoever recorded them
        for a, b in zip(d, c):
            for k in ("context", "dockerfile", "files", "bytes", "docker_files", "top"):
                expect(a[k] == b[k], f"{a['cmd']} {k}: daemon {a[k]} / client {b[k]}")
        expect(d[0]["top"] and d[0]["bytes"] > 0, d[0])
        # --history reads the client's file; the daemon's shows with its state
        out = ctxd("report", "--history", root, e=env_for(dm.sock, {"XDG_STATE_HOME": dstate})).stdout
        expect(b"report" in out and b"pack" in out, out)
        # a history the daemon cannot write: the client says so, the run goes on
        notadir = os.path.join(dstate, "file")
        open(notadir, "w").close()
        bad = Daemon(env={"XDG_STATE_HOME": notadir})
        benv = env_for(bad.sock, {"XDG_STATE_HOME": cstate})
        p = ctxd("report", root, e=benv)
        expect(b"history not recorded" in p.stderr, p.stderr)
        expect(len(history_lines(cstate)) == 2, "the client recorded what the daemon answered")
        p = ctxd("pack", "-q", "-o", os.devnull, root, e=benv)
        expect(not p.stderr, f"pack -q printed {p.stderr!r}")
    finally:
        if bad:
            bad.stop()
        dm.stop()
        shutil.rmtree(dstate, ignore_errors=True)
        shutil.rmtree(cstate, ignore_errors=True)


WATCHES = "/proc/sys/fs/inotify/max_user_watches"


@test
def degraded_project_watches_again_once_the_limit_is_raised():
    if os.geteuid() != 0 or not os.access(WATCHES, os.W_OK):
        print("     (skipped: lowering fs.inotify.max_user_watches needs root)")
        return
    dm = Daemon()
    try:
        root = os.path.join(dm.dir, "proj")
        for d in ("a/b", "c", "d/e/f"):
            os.makedirs(os.path.join(root, d))
        for rel in ("a/b/x", "Dockerfile"):
            with open(os.path.join(root, rel), "w") as f:
                f.write("FROM scratch\n")
        limit = int(open(WATCHES).read())
        try:
            with open(WATCHES, "w") as f:
                f.write("1")  # as short as it can be: other root processes share it
            rc, _, err = run(dm.sock, ["watch", root])
        finally:
            with open(WATCHES, "w") as f:
                f.write(str(limit))
        expect(rc == 0, err)

        def project():
            return [x for x in dm.status()["projects"] if x["root"] == os.path.realpath(root)][0]

        p = project()
        expect(p["state"] == "degraded" and "tried again" in p["reason"], p)
        # the next query finds the limit raised and watches the tree again
        with open(os.path.join(root, "c", "new"), "w") as f:
            f.write("new\n")
        cold = run(dm.sock, ["ls", "--json", "--exact", "--no-daemon", root])
        warm = run(dm.sock, ["ls", "--json", "--exact", root])
        expect(warm == cold and warm[0] == 0, f"answers differ: {warm[2]!r}")
        p = project()
        expect(p["state"] == "watching" and p["watches"] >= 6, p)
        # and events keep it in step from then on
        rescans = p["rescans"]
        os.rename(os.path.join(root, "a", "b"), os.path.join(root, "d", "b"))
        cold = run(dm.sock, ["ls", "--json", "--exact", "--no-daemon", root])
        warm = run(dm.sock, ["ls", "--json", "--exact", root])
        expect(warm == cold and "d/b/x" in warm[1], f"answers differ after a rename: {warm[2]!r}")
        expect(project()["rescans"] == rescans, f"a watched project rescanned: {project()}")
    finally:
        dm.stop()


def varint(v):
    b = bytearray()
    while True:
        b.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(b)


def mem_file(path, data):
    """A file with its bytes in the record, as ctxd_query_entry_append writes it."""
    p, d = path.encode(), data.encode()
    return (varint(len(p)) + p + b"\0" + b"".join(varint(v) for v in (
        0, 0o644, len(d), 2 * 1000000000, 0, 0, 0, 1, 0, 0, 8, 0, 0, 0)) + d)


def entries_msg(n, records):
    body = json.dumps({"v": ct.PROTOCOL_VERSION, "type": "entries", "n": n}).encode()
    return frame(body + b"\0" + records)


@test
def bad_entries_from_the_daemon_are_an_error():
    root = ct.tree({"Dockerfile": "FROM scratch\n"})
    d, sock, ls = fake_daemon()
    try:
        for wire, want in ((entries_msg(3, mem_file("a", "x") + mem_file("b", "y")),
                            "holds 2 entries, not the number it says"),
                           (entries_msg(1, mem_file("a", "x")[:-3]), "an entry that does not parse")):
            p = subprocess.Popen([CTXD, "pack", "--exact", "-q", "-o", os.path.join(d, "out.tar"), root],
                                 env=env_for(sock), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            conn, _ = ls.accept()
            conn.settimeout(30)
            recv_msg(conn)
            conn.sendall(wire)
            _, err = p.communicate(timeout=30)
            conn.close()
            expect(p.returncode == 1 and want in err.decode(), f"{p.returncode} {err!r}")
            expect(not os.path.exists(os.path.join(d, "out.tar")), "a half-written tar was left")
    finally:
        ls.close()
        shutil.rmtree(d)
        shutil.rmtree(root)


@test
def pack_writes_what_it_has_while_the_daemon_pauses():
    """The tar of the entries already answered reaches the reader before the
    client waits for more: a fake daemon answers two entries, then waits for
    the second one's header on the client's stdout before it ends."""
    root = ct.tree({"Dockerfile": "FROM scratch\n"})
    d, sock, ls = fake_daemon()
    p = subprocess.Popen([CTXD, "pack", "--exact", "-q", root], env=env_for(sock),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        conn, _ = ls.accept()
        conn.settimeout(30)
        expect(recv_msg(conn)["type"] == "query", "no query")
        conn.sendall(entries_msg(2, mem_file("a", "first") + mem_file("b", "second")))
        out = b""
        deadline = time.time() + 10
        while b"second" not in out and time.time() < deadline:
            if select.select([p.stdout], [], [], 0.1)[0]:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
        expect(b"second" in out, f"the client held b back while waiting: {len(out)} bytes out")
        send_msg(conn, {"v": ct.PROTOCOL_VERSION, "type": "end"})
        conn.close()
        rest, err = p.communicate(timeout=30)
        expect(p.returncode == 0, f"exit {p.returncode}: {err!r}")
        names = tarfile.open(fileobj=io.BytesIO(out + rest)).getnames()
        expect(names == ["a", "b"], f"{names}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        ls.close()
        shutil.rmtree(d)
        shutil.rmtree(root)


@test
def git_figures_follow_the_index_when_the_tree_does_not_change():
    """The daemon keeps git's view of a project between queries; staging a
    file changes only .git (not watched: .dockerignore excludes it), and
    the next answer must still see it, as a cold walk does."""
    root = ct.tree({"Dockerfile": "FROM scratch\nCOPY . /\n", ".dockerignore": ".git\n",
                    "a.txt": "a\n", "b.txt": "b\n"})
    genv = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "."], ["add", "Dockerfile", ".dockerignore", "a.txt"], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=root, env=genv, check=True, capture_output=True)
    dm = Daemon()
    try:
        for want in (1, 0):
            rc, warm, err = run(dm.sock, ["ls", "--json", root])
            expect(rc == 0, err)
            cold = run(dm.sock, ["ls", "--json", "--no-daemon", root])[1]
            expect(warm == cold, f"daemon and cold walk differ:\n{warm}\n{cold}")
            git = json.loads(warm)["totals"]["git"]
            expect(git["repository"] == os.path.realpath(root), git)
            expect(git["would_save"]["untracked"]["files"] == want, git)
            subprocess.run(["git", "add", "b.txt"], cwd=root, env=genv, check=True, capture_output=True)
        # a context below the work tree's root: the root's .gitignore is
        # outside what the daemon watches
        sub = os.path.join(root, "sub")
        os.mkdir(sub)
        for name, text in (("Dockerfile", "FROM scratch\nCOPY . /\n"), ("x.log", "x\n")):
            with open(os.path.join(sub, name), "w") as f:
                f.write(text)
        for want, ignore in ((0, "*.log\n"), (1, "")):
            rc, warm, err = run(dm.sock, ["ls", "--json", sub])
            expect(rc == 0, err)
            cold = run(dm.sock, ["ls", "--json", "--no-daemon", sub])[1]
            expect(warm == cold, f"sub: daemon and cold walk differ:\n{warm}\n{cold}")
            expect(json.loads(warm)["totals"]["git"]["would_save"]["ignored"]["files"] == want, warm)
            with open(os.path.join(root, ".gitignore"), "w") as f:
                f.write(ignore)
    finally:
        dm.stop()
        shutil.rmtree(root)


@test
def git_figures_follow_the_users_git_config():
    """core.excludesFile set in ~/.config/git/config (git's place for it
    without XDG_CONFIG_HOME), a file the daemon's view of the project does
    not watch: the next answer must follow it, as a cold walk does."""
    home = tempfile.mkdtemp(prefix="ctxd-home-")
    root = ct.tree({"Dockerfile": "FROM scratch\nCOPY . /\n", "x.log": "x\n"})
    subprocess.run(["git", "init", "-q", "."], cwd=root, check=True, capture_output=True)
    saved = os.environ.pop("XDG_CONFIG_HOME", None)
    dm = Daemon(env={"HOME": home})
    try:
        ignored = []  # .git's files, then x.log too
        for _ in range(2):
            env = env_for(dm.sock, {"HOME": home})
            rc, warm, err = ct.run([CTXD, "ls", "--json", root], env=env)
            expect(rc == 0, err)
            cold = ct.run([CTXD, "ls", "--json", "--no-daemon", root], env=env)[1]
            expect(warm == cold, f"daemon and cold walk differ:\n{warm}\n{cold}")
            ignored.append(json.loads(warm)["totals"]["git"]["would_save"]["ignored"]["files"])
            os.makedirs(os.path.join(home, ".config", "git"), exist_ok=True)
            with open(os.path.join(home, "ignore"), "w") as f:
                f.write("*.log\n")
            with open(os.path.join(home, ".config", "git", "config"), "w") as f:
                f.write(f"[core]\n\texcludesFile = {home}/ignore\n")
        expect(ignored[1] == ignored[0] + 1, f"ignored files before and after: {ignored}")
    finally:
        dm.stop()
        if saved is not None:
            os.environ["XDG_CONFIG_HOME"] = saved
        shutil.rmtree(root)
        shutil.rmtree(home)


@test
def unreadable_repository_says_the_same_through_the_daemon():
    """A repository git cannot read: an error with the git filter, a
    warning for the summary alone, word for word as a cold walk says it."""
    root = ct.tree({"Dockerfile": "FROM scratch\nCOPY . /\n"})
    subprocess.run(["git", "init", "-q", "."], cwd=root, check=True, capture_output=True)
    with open(os.path.join(root, ".git", "index"), "w") as f:
        f.write("garbage\n")
    dm = Daemon()
    try:
        for args, want_rc, want in ((["ls", "--json", "--git-filter=ignored"], 1,
                                     "git: failed to read index"),
                                    (["ls"], 0, "the summary cannot say what --git-filter would save")):
            warm = run(dm.sock, args + [root])
            cold = run(dm.sock, args + ["--no-daemon", root])
            expect(warm == cold, f"{args}: daemon {warm!r}\ncold {cold!r}")
            expect(warm[0] == want_rc and want in warm[2], f"{args}: {warm!r}")
            expect(want_rc == 0 or not warm[1], f"{args}: output before the error: {warm[1]!r}")
        expect(len(dm.status()["projects"]) == 1, "the daemon did not answer")
    finally:
        dm.stop()
        shutil.rmtree(root)


@test
def classic_builder_prunes_the_same_through_the_daemon():
    """The classic builder builds every stage up to the target, so a stage
    BuildKit skips still reads its files: the daemon's Dockerfile analysis
    must follow the builder the client names, as the client's does."""
    root = ct.tree({"Dockerfile": "FROM scratch AS unused\nCOPY b.txt /\nFROM scratch\nCOPY a.txt /\n",
                    "a.txt": "a\n", "b.txt": "b\n"})
    dm = Daemon()
    try:
        for classic, want in (("0", True), ("1", False)):
            env = env_for(dm.sock, {"DOCKER_BUILDKIT": classic})
            warm = ct.run([CTXD, "ls", root], env=env)
            cold = ct.run([CTXD, "ls", "--no-daemon", root], env=env)
            expect(warm == cold, f"DOCKER_BUILDKIT={classic}: daemon {warm!r}\ncold {cold!r}")
            expect(("b.txt" in warm[1].split()) == want, f"DOCKER_BUILDKIT={classic}: {warm!r}")
        expect(len(dm.status()["projects"]) == 1, "the daemon did not answer")
    finally:
        dm.stop()
        shutil.rmtree(root)


def main():
    global CTXD
    ap = ct.arguments()
    ap.add_argument("-k", action="append", default=[], help="run only tests whose name contains this")
    a = ap.parse_args()
    CTXD = a.ctxd
    sys.exit(ct.run_tests("daemon", only=a.k))


if __name__ == "__main__":
    main()
