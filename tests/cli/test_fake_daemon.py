#!/usr/bin/env python3
"""`ctxd build` against a scripted fake Docker daemon on a unix socket: the
answers a real daemon does not give on demand (an API version it refuses, a
malformed or truncated response stream, invalid BuildKit trace messages, a
success without an image ID). Each must end in a clear one-line error and
exit 1, never a crash. No root, no dockerd.

    test_fake_daemon.py --ctxd build/ctxd
Ends with "fake-daemon: N passed, N failed"; exit 1 when any failed.
"""
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ctxdtest import expect, test  # noqa: E402
import ctxdtest as ct  # noqa: E402

CTXD = None


class FakeDaemon:
    """Answers /_ping with api_version and every /build with build(),
    which returns the raw bytes to send after the request body was read
    (then the connection is closed)."""

    def __init__(self, path, build, api_version="1.41"):
        self.build, self.api_version = build, api_version
        self.requests = []
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    h = f.readline().decode("latin-1").strip()
                    if not h:
                        break
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        n = int(f.readline().split(b";")[0], 16)
                        f.read(n + 2)
                        if n == 0:
                            break
                elif "content-length" in headers:
                    f.read(int(headers["content-length"]))
                self.requests.append((method, target))
                if target.endswith("/_ping"):
                    c.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: " + self.api_version.encode() +
                              b"\r\nBuilder-Version: 1\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: 2\r\n\r\nOK")
                    continue
                answer = self.build()
                if callable(answer):  # paces its own sends
                    answer(c)
                else:
                    c.sendall(answer)
                return
        except (OSError, ValueError):
            pass
        finally:
            c.close()

    def close(self):
        self.srv.close()


def chunked(*parts, end=True):
    """A 200 JSON stream; each part is one chunk."""
    out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    for p in parts:
        out += b"%x\r\n%s\r\n" % (len(p), p)
    return out + (b"0\r\n\r\n" if end else b"")


def msg(obj):
    return json.dumps(obj).encode() + b"\r\n"


def trace(raw):
    return msg({"id": "moby.buildkit.trace", "aux": base64.b64encode(raw).decode()})


def build_with(answer, *flags, api_version="1.41", builder="1"):
    d = tempfile.mkdtemp(prefix="ctxd-fake-")
    try:
        ctx = os.path.join(d, "ctx")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY a.txt /\n")
        with open(os.path.join(ctx, "a.txt"), "w") as f:
            f.write("a\n")
        sock = os.path.join(d, "docker.sock")
        fake = FakeDaemon(sock, lambda: answer, api_version)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = os.path.join(d, "config")
        flags = [x.replace("{dir}", d) for x in flags]
        p = subprocess.run([CTXD, "build", "-H", "unix://" + sock, "--builder-version", builder,
                            "--progress=plain", *flags, ctx], env=env, capture_output=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        fake.close()
        leftovers = sorted(os.listdir(d))
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), fake, leftovers
    finally:
        shutil.rmtree(d, ignore_errors=True)


def fails_clearly(rc, err, *needles):
    """Exit 1 (not a signal, not 0), and the last stderr line is one
    'ctxd: ' message holding each needle."""
    expect(rc == 1, f"exit {rc}, want 1; stderr: {err[-800:]!r}")
    lines = [l for l in err.splitlines() if l.strip()]
    expect(lines and lines[-1].startswith("ctxd: "), f"last line is not a ctxd message: {err[-800:]!r}")
    for n in needles:
        expect(n.lower() in lines[-1].lower(), f"{n!r} not in {lines[-1]!r}")
    return lines[-1]


@test
def api_version_refused():
    """The daemon speaks an API too old for the request: its message is
    shown, and ctxd asked for the daemon's version, not its own newest."""
    body = b'{"message":"client version 1.12 is too old. Minimum supported API version is 1.24"}'
    answer = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
    rc, _, err, fake, _ = build_with(answer, api_version="1.12")
    fails_clearly(rc, err, "too old")
    builds = [t for m, t in fake.requests if "/build" in t]
    expect(builds and builds[0].startswith("/v1.12/build"), f"requests: {fake.requests}")


@test
def invalid_json_in_stream():
    rc, _, err, _, _ = build_with(chunked(msg({"stream": "Step 1/2 : FROM scratch\n"}), b"{not json\r\n"))
    fails_clearly(rc, err, "invalid JSON")


@test
def truncated_chunk():
    """The connection closes in the middle of a chunk."""
    answer = chunked(msg({"stream": "Step 1/2\n"}), end=False) + b"400\r\n" + b'{"stream":"x'
    rc, _, err, _, _ = build_with(answer)
    fails_clearly(rc, err)


@test
def stream_ends_without_result():
    """A well-formed stream that stops before any result is not success."""
    rc, _, err, _, _ = build_with(chunked(msg({"stream": "Step 1/2 : FROM scratch\n"}), b'{"stream":"half'))
    fails_clearly(rc, err)


def bad_trace(raw_msg, needle):
    """A trace message that does not decode is progress lost, not the build:
    one clear warning, then the result decides (docker's CLI too ends on
    the result messages alone)."""
    iid = "sha256:" + "cd" * 32
    rc, out, err, _, _ = build_with(chunked(raw_msg, msg({"id": "moby.image.id", "aux": {"ID": iid}})),
                                    builder="2")
    expect(rc == 0, f"exit {rc}: {err[-800:]!r}")
    warns = [l for l in err.splitlines() if l.startswith("ctxd: warning: ")]
    expect(len(warns) == 1 and "bad BuildKit status" in warns[0] and needle in warns[0], f"warnings: {warns}")
    rc, _, err, _, _ = build_with(chunked(raw_msg, msg({"errorDetail": {"message": "failed to solve: x"},
                                                        "error": "failed to solve: x"})), builder="2")
    fails_clearly(rc, err, "failed to solve: x")


@test
def invalid_base64_trace():
    bad_trace(msg({"id": "moby.buildkit.trace", "aux": "!!!not base64!!!"}), "invalid base64")


@test
def invalid_protobuf_trace():
    # field 1 (vertexes) as a length-delimited record longer than the message
    bad_trace(trace(b"\x0a\x7f\x01\x02"), "past the end")


@test
def daemon_error_message():
    answer = chunked(msg({"stream": "Step 1/2 : FROM scratch\n"}),
                     msg({"errorDetail": {"message": "COPY failed: boom"}, "error": "COPY failed: boom"}))
    rc, _, err, _, _ = build_with(answer)
    fails_clearly(rc, err, "COPY failed: boom")


@test
def success_without_image_id_writes_no_iidfile():
    answer = chunked(msg({"stream": "Successfully built\n"}))
    rc, _, err, _, left = build_with(answer, "--iidfile", "{dir}/iid.txt")
    fails_clearly(rc, err, "iid.txt")
    expect("iid.txt" not in left and not any(n.startswith(".") for n in left), f"left behind: {left}")


@test
def success_with_image_id():
    """The control: the same fake daemon, a good answer, exit 0 and -q prints the ID."""
    iid = "sha256:" + "ab" * 32
    answer = chunked(msg({"stream": "Step 1/2 : FROM scratch\n"}), msg({"aux": {"ID": iid}}),
                     msg({"stream": "Successfully built abababababab\n"}))
    rc, out, err, _, _ = build_with(answer, "-q")
    expect(rc == 0, f"exit {rc}: {err!r}")
    expect(out.strip() == iid, f"stdout {out!r}")


@test
def plain_output_is_not_held_back():
    """A build log read through a pipe (CI) shows each line as the daemon
    sends it, not when ctxd exits: the daemon holds the rest of the stream
    until the first line has reached ctxd's stdout."""
    seen = threading.Event()
    waited_out = []

    def paced(c):
        head = chunked(msg({"stream": "Step 1/2 : FROM scratch\n"}), end=False)
        c.sendall(head)
        if not seen.wait(15):
            waited_out.append(True)
        c.sendall(chunked(msg({"aux": {"ID": "sha256:" + "cd" * 32}}),
                          msg({"stream": "Successfully built cdcdcdcdcdcd\n"}))
                  .split(b"\r\n\r\n", 1)[1])

    d = tempfile.mkdtemp(prefix="ctxd-fake-")
    try:
        ctx = os.path.join(d, "ctx")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM scratch\n")
        sock = os.path.join(d, "docker.sock")
        fake = FakeDaemon(sock, lambda: paced)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = os.path.join(d, "config")
        p = subprocess.Popen([CTXD, "build", "-H", "unix://" + sock, "--builder-version", "1",
                              "--progress=plain", ctx], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        first = p.stdout.readline()
        seen.set()
        rest, err = p.communicate(timeout=60)
        fake.close()
        expect(b"Step 1/2" in first, f"first line {first!r}")
        expect(not waited_out, "the first line reached stdout only when ctxd exited")
        expect(p.returncode == 0, f"exit {p.returncode}: {err!r}")
        expect(b"Successfully built" in rest, f"rest {rest!r}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def libcurl_that_cannot_be_loaded():
    """libcurl is opened when build first talks to Docker: one clear error
    when it cannot be, and the commands that do not talk to Docker never
    open it."""
    os.environ["CTXD_LIBCURL"] = "/nonexistent/libcurl.so.4"
    try:
        rc, _, err, fake, _ = build_with(b"")
        d = tempfile.mkdtemp(prefix="ctxd-fake-")
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM scratch\n")
        p = subprocess.run([CTXD, "ls", "--no-daemon", d], capture_output=True, timeout=60)
        shutil.rmtree(d)
    finally:
        del os.environ["CTXD_LIBCURL"]
    fails_clearly(rc, err, "cannot load libcurl", "/nonexistent/libcurl.so.4")
    expect(not fake.requests, f"requests: {fake.requests}")
    expect(p.returncode == 0 and b"Dockerfile" in p.stdout, p.stderr)


@test
def libcrypto_that_cannot_be_loaded():
    """libcrypto is opened when a docker context is named (its store's
    directory is the SHA-256 of the name): one clear error when it cannot
    be; with it the name is hashed and the missing context named."""
    d = tempfile.mkdtemp(prefix="ctxd-fake-")
    try:
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM scratch\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_CONFIG=os.path.join(d, "config"), DOCKER_CONTEXT="elsewhere")
        argv = [CTXD, "build", "--progress=plain", d]
        p = subprocess.run(argv, env=dict(env, CTXD_LIBCRYPTO="/nonexistent/libcrypto.so.3"),
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        fails_clearly(p.returncode, p.stderr.decode(), "cannot load libcrypto", "/nonexistent/libcrypto.so.3")
        p = subprocess.run(argv, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        fails_clearly(p.returncode, p.stderr.decode(), 'context "elsewhere"', "does not exist",
                      "/contexts/meta/" + hashlib.sha256(b"elsewhere").hexdigest() + "/")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    global CTXD
    CTXD = ct.arguments().parse_args().ctxd
    return ct.run_tests("fake-daemon")


if __name__ == "__main__":
    sys.exit(main())
