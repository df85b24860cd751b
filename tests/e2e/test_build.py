#!/usr/bin/env python3
"""End-to-end tests of `ctxd build` against a real, private dockerd.

    test_build.py --ctxd build/ctxd [-k SUBSTRING] [--keep]

Starts one private dockerd (vfs storage, no bridge, no iptables) listening on
a unix socket under a temp dir and on tcp://127.0.0.1:PORT with TLS
(certificates made here with openssl), and, for the ssh tests, a loopback
sshd. Everything lives under one temp dir and is stopped by pid at the end.

Reference: the docker CLI 28.x first on PATH (never Debian's 20.10 CLI).
Images built by ctxd are compared with the images `DOCKER_BUILDKIT=0 docker
build` makes from the same tree: both are exported (`docker create` +
`docker export`) and their file sets compared (names, types, modes, owners,
sizes, link targets, hard-link groups, content hashes, and mtimes of
anything that came from the context). docker 28 without buildx refuses
BuildKit builds, so ctxd's BuildKit images (`--builder-version 2`) are
compared with ctxd's classic image of the same tree, which was itself
compared with docker's.

One line per test; ends with "e2e: N passed, N failed"; exit 1 when any
failed. Exit 77 (skipped) when dockerd cannot be started (not root, no
dockerd, no docker 28 CLI), unless CTXD_REQUIRE_E2E=1, which makes that a
failure.
"""
import gzip
import hashlib
import io
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
# Skip, expect, param_test and test are test_dedup's and corpus/run.py's too
from ctxdtest import TESTS, Skip, Tally, expect, param_test, test  # noqa: E402,F401
import ctxdtest as ct  # noqa: E402

CTXD = None
DOCKER = None
T = None          # the suite's temp dir
SOCK = None       # the private daemon's unix socket
TLS_PORT = None
TLS_DIR = None    # ca.pem cert.pem key.pem for clients
SUITE_START = time.time()
FIXED_MTIME = 1600000000  # every fixture file gets this mtime
PROCS = []        # (name, Popen or pid) to stop at the end, in reverse order
REF_IMAGES = {}   # fixture name -> ctxd classic image ID (reference for BuildKit)


def short(s, n=600):
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


# ---------------------------------------------------------- environment

def base_env(**extra):
    """The environment every docker and ctxd run starts from: the private
    daemon via DOCKER_HOST and an empty docker config dir."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("DOCKER_") and k not in ("BUILDKIT_PROGRESS",)}
    e["DOCKER_HOST"] = "unix://" + SOCK
    e["DOCKER_CONFIG"] = os.path.join(T, "config")
    e["TMPDIR"] = os.path.join(T, "tmp")
    e["LC_ALL"] = "C.UTF-8"
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def run_cmd(argv, env=None, cwd=None, timeout=300, stdin=None):
    return ct.run(argv, env=env if env is not None else base_env(), cwd=cwd, timeout=timeout,
                  stdin=stdin if stdin is not None else subprocess.DEVNULL)


def docker(*args, env=None, cwd=None, timeout=300, check=True):
    rc, out, err = run_cmd([DOCKER] + list(args), env=env, cwd=cwd, timeout=timeout)
    if check and rc != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({rc}): {short(err)}")
    return out if check else (rc, out, err)


def ctxd(*args, env=None, cwd=None, timeout=300):
    return run_cmd([CTXD] + list(args), env=env, cwd=cwd, timeout=timeout)


def docker_build(args, cwd, env=None):
    """The reference: the classic builder through the docker CLI."""
    e = env if env is not None else base_env()
    e = dict(e, DOCKER_BUILDKIT="0")
    rc, out, err = run_cmd([DOCKER, "build"] + args, env=e, cwd=cwd)
    if rc != 0:
        raise AssertionError(f"reference `docker build {' '.join(args)}` failed ({rc}): {short(err, 1500)}")
    return out, err


def image_id(ref):
    return docker("image", "inspect", "-f", "{{.Id}}", ref).strip()


def image_exists(ref):
    rc, _, _ = docker("image", "inspect", ref, check=False)
    return rc == 0


def last_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def ctxd_error(err, *needles):
    """ctxd's failure message: its last stderr line, one line, 'ctxd: ...'."""
    line = last_line(err)
    expect(line.startswith("ctxd: "), f"last stderr line is not a 'ctxd: ' message: {short(err)}")
    for n in needles:
        expect(n in line, f"{n!r} not in the error line {line!r}")
    return line


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


# ---------------------------------------------------------------- trees

def make_tree(root, spec, mtime=FIXED_MTIME):
    """spec: list of ("f", path, content[, mode]), ("d", path[, mode]),
    ("l", path, target), ("h", path, existing_path), ("sparse", path, size).
    Every entry, and the root, gets `mtime`."""
    os.makedirs(root, exist_ok=True)
    dir_modes = {}
    for item in spec:
        kind, rel = item[0], item[1]
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if kind == "f":
            data = item[2].encode() if isinstance(item[2], str) else item[2]
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, item[3] if len(item) > 3 else 0o644)
        elif kind == "d":
            os.makedirs(p, exist_ok=True)
            dir_modes[p] = item[2] if len(item) > 2 else 0o755
        elif kind == "l":
            os.symlink(item[2], p)
        elif kind == "h":
            os.link(os.path.join(root, item[2]), p)
        elif kind == "sparse":
            with open(p, "wb") as f:
                f.truncate(item[2])
        else:
            raise ValueError(kind)
    for p, m in dir_modes.items():
        os.chmod(p, m)
    set_mtimes(root, mtime)
    return root


def set_mtimes(root, mtime=FIXED_MTIME):
    for d, dirs, files in os.walk(root, topdown=False):
        for n in files + dirs:
            os.utime(os.path.join(d, n), (mtime, mtime), follow_symlinks=False)
    os.utime(root, (mtime, mtime))


def fixture_dir(name):
    d = os.path.join(T, "fx", name)
    if os.path.exists(d):
        shutil.rmtree(d)
    return d


def tar_bytes(members, gz=False):
    """members: list of (name, kind, data_or_target, mode)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data, mode in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = FIXED_MTIME - 1000
            ti.mode = mode
            ti.uid = ti.gid = 0
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    raw = bio.getvalue()
    if gz:
        return gzip.compress(raw, mtime=FIXED_MTIME)
    return raw


# ------------------------------------------------------- image file sets

# What `docker create` puts into every container (the init layer), not part
# of any image.
INIT_LAYER = {".dockerenv", "dev", "dev/console", "dev/pts", "dev/shm", "etc/hostname",
              "etc/hosts", "etc/resolv.conf", "etc/mtab", "proc", "sys"}
TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
         tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "chardev",
         tarfile.BLKTYPE: "blockdev", tarfile.FIFOTYPE: "fifo"}


def image_fs(ref):
    """{path: {type, mode, uid, gid, size, link, sha256, mtime}} and the set
    of hard-link groups, from `docker export` of a container of the image."""
    cid = docker("create", ref, "/nonexistent-cmd").strip()
    try:
        p = subprocess.run([DOCKER, "export", cid], env=base_env(), capture_output=True, timeout=300)
        expect(p.returncode == 0, f"docker export failed: {p.stderr.decode()[:300]}")
    finally:
        docker("rm", "-f", cid, check=False)
    files, links = {}, {}
    with tarfile.open(fileobj=io.BytesIO(p.stdout)) as tf:
        for ti in tf:
            name = ti.name
            while name.startswith("./"):
                name = name[2:]
            name = name.rstrip("/")
            if not name or name in INIT_LAYER:
                continue
            rec = {"type": TYPES.get(ti.type, repr(ti.type)), "mode": oct(ti.mode & 0o7777),
                   "uid": ti.uid, "gid": ti.gid, "size": ti.size, "link": None, "sha256": None,
                   "mtime": int(ti.mtime)}
            if ti.issym():
                rec["link"] = ti.linkname
            elif ti.islnk():
                target = ti.linkname.lstrip("/")
                while target.startswith("./"):
                    target = target[2:]
                t = files.get(target)
                rec["type"] = "file"
                if t:
                    rec["size"], rec["sha256"] = t["size"], t["sha256"]
                links.setdefault(target, {target}).add(name)
            elif ti.isfile():
                rec["sha256"] = hashlib.sha256(tf.extractfile(ti).read()).hexdigest()
            files[name] = rec
    return files, {frozenset(g) for g in links.values()}


def recent(t):
    return t >= SUITE_START - 120


def fs_diff(ref, got, allow_extra=(), allow_missing=()):
    """Differences between two image_fs() results, as readable lines.
    mtimes are compared unless both are recent (made by the builder during
    this suite: RUN output, directories the builder creates)."""
    (rf, rl), (gf, gl) = ref, got
    out = []
    for name in sorted(set(rf) | set(gf)):
        a, b = rf.get(name), gf.get(name)
        if a is None:
            if not any(re.fullmatch(p, name) for p in allow_extra):
                out.append(f"only in ctxd's image: /{name} {b['type']}")
            continue
        if b is None:
            if not any(re.fullmatch(p, name) for p in allow_missing):
                out.append(f"only in the reference image: /{name} {a['type']}")
            continue
        for k in ("type", "mode", "uid", "gid", "size", "link", "sha256"):
            if a[k] != b[k]:
                out.append(f"/{name}: {k} {a[k]} (reference) != {b[k]} (ctxd)")
        if a["mtime"] != b["mtime"] and not (recent(a["mtime"]) and recent(b["mtime"])):
            out.append(f"/{name}: mtime {a['mtime']} (reference) != {b['mtime']} (ctxd)")
    if rl != gl:
        out.append(f"hard-link groups differ: reference {sorted(map(sorted, rl))} ctxd {sorted(map(sorted, gl))}")
    return out


def expect_same_fs(ref_img, got_img, what, **allow):
    ref, got = image_fs(ref_img), image_fs(got_img)
    expect(len(ref[0]) > 0, f"reference image {ref_img} is empty")
    d = fs_diff(ref, got, **allow)
    expect(not d, f"{what}: {len(d)} differences: " + "; ".join(d[:12]))
    return got


CONFIG_KEYS = ("Cmd", "Entrypoint", "Env", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes")


def image_config(ref, bk_normalise=False):
    c = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", ref))
    out = {k: c.get(k) or None for k in CONFIG_KEYS}
    if bk_normalise:
        # BuildKit gives images FROM scratch a default PATH and WorkingDir /
        if out["Env"]:
            out["Env"] = [e for e in out["Env"] if not e.startswith("PATH=")] or None
        if out["WorkingDir"] == "/":
            out["WorkingDir"] = None
    return out


# -------------------------------------------------------------- daemon

def openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.decode()[:300]}")


def make_ca(d, cn):
    os.makedirs(d, exist_ok=True)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca-key.pem", cwd=d)
    openssl("req", "-x509", "-new", "-key", "ca-key.pem", "-sha256", "-days", "3", "-subj", f"/CN={cn}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", "ca.pem", cwd=d)


def make_cert(ca_dir, out_dir, name, cn, ext):
    os.makedirs(out_dir, exist_ok=True)
    key, csr, crt = f"{name}-key.pem", f"{name}.csr", f"{name}-cert.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key, cwd=out_dir)
    openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr, cwd=out_dir)
    with open(os.path.join(out_dir, f"{name}.ext"), "w") as f:
        f.write(ext)
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(ca_dir, "ca.pem"),
            "-CAkey", os.path.join(ca_dir, "ca-key.pem"), "-CAcreateserial", "-days", "3",
            "-sha256", "-extfile", f"{name}.ext", "-out", crt, cwd=out_dir)
    os.chmod(os.path.join(out_dir, key), 0o600)
    return os.path.join(out_dir, crt), os.path.join(out_dir, key)


def make_certs():
    """CA, server cert (127.0.0.1, localhost), client cert; and a second,
    unrelated CA. Client dirs hold ca.pem/cert.pem/key.pem as DOCKER_CERT_PATH
    expects."""
    global TLS_DIR
    base = os.path.join(T, "tls")
    make_ca(os.path.join(base, "ca"), "ctxd-e2e-ca")
    make_ca(os.path.join(base, "otherca"), "ctxd-e2e-other-ca")
    srv = make_cert(os.path.join(base, "ca"), os.path.join(base, "server"), "server", "localhost",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    cli = make_cert(os.path.join(base, "ca"), os.path.join(base, "clientcerts"), "client", "ctxd-e2e-client",
                    "extendedKeyUsage=clientAuth\n")
    TLS_DIR = os.path.join(base, "client")
    wrong = os.path.join(base, "wrongca")
    for d, ca in ((TLS_DIR, os.path.join(base, "ca", "ca.pem")), (wrong, os.path.join(base, "otherca", "ca.pem"))):
        os.makedirs(d)
        shutil.copy(ca, os.path.join(d, "ca.pem"))
        shutil.copy(cli[0], os.path.join(d, "cert.pem"))
        shutil.copy(cli[1], os.path.join(d, "key.pem"))
        os.chmod(os.path.join(d, "key.pem"), 0o600)
    return os.path.join(base, "ca", "ca.pem"), srv


def ping(sock_path, timeout=2.0):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        s.close()
        return data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n", 1)[0]
    except OSError:
        return False


def start_daemon():
    global SOCK, TLS_PORT
    SOCK = os.path.join(T, "docker.sock")
    ca, (srv_cert, srv_key) = make_certs()
    TLS_PORT = free_port()
    log = open(os.path.join(T, "dockerd.log"), "wb")
    argv = ["dockerd", "--host", "unix://" + SOCK, "--data-root", os.path.join(T, "root"),
            "--exec-root", os.path.join(T, "exec"), "--pidfile", os.path.join(T, "dockerd.pid"),
            "--iptables=false", "--bridge=none", "--storage-driver=vfs",
            "--tlsverify", "--tlscacert", ca, "--tlscert", srv_cert, "--tlskey", srv_key,
            "-H", f"tcp://127.0.0.1:{TLS_PORT}"]
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    PROCS.append(("dockerd", p))
    ok = wait_for(lambda: p.poll() is not None or ping(SOCK), 90, 0.2)
    if not ok or p.poll() is not None:
        with open(os.path.join(T, "dockerd.log"), "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        return f"dockerd did not come up (exit {p.poll()}):\n{tail}"
    return None


def stop_proc(name, p):
    if p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=40)
    except subprocess.TimeoutExpired:
        print(f"# {name} ({p.pid}) did not stop on SIGTERM; killing it")
        p.kill()
        p.wait(timeout=10)


def containerd_pid():
    for cand in ("exec/containerd/containerd.pid", "exec/containerd.pid"):
        try:
            with open(os.path.join(T, cand)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            pass
    return None


def cleanup(keep=False):
    if T is None:
        return
    cpid = containerd_pid()
    for name, p in reversed(PROCS):
        try:
            stop_proc(name, p)
        except Exception as e:  # noqa: BLE001
            print(f"# stopping {name}: {e}")
    PROCS.clear()
    # dockerd stops the containerd it started; make sure of it, by its pid
    if cpid:
        try:
            with open(f"/proc/{cpid}/cmdline", "rb") as f:
                cmdline = f.read()
            if b"containerd" in cmdline and T.encode() in cmdline:
                os.kill(cpid, signal.SIGKILL)
        except OSError:
            pass
    # mounts the daemon may have left under our dir
    try:
        with open("/proc/mounts") as f:
            mounts = [l.split()[1] for l in f if l.split()[1].startswith(T + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
    except OSError:
        pass
    if keep:
        print(f"# kept {T}")
        return
    shutil.rmtree(T, ignore_errors=True)


# ------------------------------------------------------ recording proxy

class Proxy:
    """A unix-socket proxy in front of the daemon that records what clients
    send (the first MiBs of each connection), to look at the /build
    request: path, query, headers and the first bytes of the body."""
    LIMIT = 4 << 20

    def __init__(self, path, upstream, rate=None):
        """rate: bytes per second, client to daemon (None: unlimited)."""
        self.path, self.upstream, self.rate = path, upstream, rate
        self.conns = []
        self.lock = threading.Lock()
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX)
            try:
                u.connect(self.upstream)
            except OSError:
                c.close()
                continue
            rec = bytearray()
            with self.lock:
                self.conns.append(rec)
            state = {"open": 2}
            threading.Thread(target=self._pump, args=(c, u, rec, state), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, None, state), daemon=True).start()

    def _pump(self, a, b, rec, state):
        t0, n = time.time(), 0
        try:
            while True:
                d = a.recv(1 << 16)
                if not d:
                    break
                if rec is not None and self.rate:
                    n += len(d)
                    time.sleep(max(0.0, t0 + n / self.rate - time.time()))
                if rec is not None and len(rec) < self.LIMIT:
                    rec += d[:self.LIMIT - len(rec)]
                b.sendall(d)
        except OSError:
            pass
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            state["open"] -= 1
            if state["open"] == 0:
                a.close()
                b.close()

    def reset(self):
        with self.lock:
            self.conns = []

    def builds(self):
        """Parsed POST .../build requests: {path, query (list of pairs),
        headers (lower-case dict), body_head (first bytes, de-chunked)}."""
        out = []
        with self.lock:
            conns = [bytes(c) for c in self.conns]
        for data in conns:
            pos = 0
            while True:
                i = data.find(b"POST /", pos)
                if i < 0:
                    break
                hend = data.find(b"\r\n\r\n", i)
                if hend < 0:
                    break
                head = data[i:hend].decode("latin-1").split("\r\n")
                method, target, _ = head[0].split(" ", 2)
                headers = {}
                for h in head[1:]:
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = data[hend + 4:]
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = dechunk(body)
                elif "content-length" in headers:
                    body = body[:int(headers["content-length"])]
                pos = hend + 4
                path, _, q = target.partition("?")
                if path.endswith("/build"):
                    out.append({"path": path, "query": urllib.parse.parse_qsl(q, keep_blank_values=True),
                                "rawquery": q, "headers": headers, "body_head": body[:1 << 16]})
        return out

    def close(self):
        self.srv.close()


def dechunk(b, limit=1 << 16):
    out = bytearray()
    pos = 0
    while pos < len(b) and len(out) < limit:
        e = b.find(b"\r\n", pos)
        if e < 0:
            break
        try:
            n = int(b[pos:e].split(b";")[0], 16)
        except ValueError:
            break
        if n == 0:
            break
        out += b[e + 2:e + 2 + n]
        pos = e + 2 + n + 2
    return bytes(out)


def body_kind(head):
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"BZh"):
        return "bzip2"
    if len(head) >= 512 and head[257:262] == b"ustar":
        return "tar"
    return f"unknown {head[:8]!r}"


PROXY = None


def proxy():
    global PROXY
    if PROXY is None:
        PROXY = Proxy(os.path.join(T, "proxy.sock"), SOCK)
    PROXY.reset()
    return PROXY


# ------------------------------------------------------------ fixtures

BUSYBOX = "/bin/busybox"


def setup_base_image():
    """`busybox:latest`: FROM scratch + the static busybox + its applet
    links, so Dockerfiles can say FROM busybox and RUN shell commands."""
    d = fixture_dir("base-busybox")
    os.makedirs(d)
    shutil.copy(BUSYBOX, os.path.join(d, "busybox"))
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
    docker_build(["-q", "-t", "busybox:latest", "--network", "none", "."], cwd=d)


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


class Fixture:
    """A tree, where to run from, and the docker build flags (the same for
    docker and ctxd). allow_bk: regexps of paths the BuildKit image may have
    in addition (what a tar upload cannot hide, spec 4.5)."""

    def __init__(self, name, spec, flags, cwd=".", path=".", env=None, allow_bk_extra=(), note=None):
        self.name, self.spec, self.cwd = name, spec, cwd
        self.args = list(flags) + [path]
        self.env = env or {}
        self.allow_bk_extra = allow_bk_extra
        self.note = note
        self.root = None

    def make(self):
        if self.root is None:
            self.root = make_tree(fixture_dir(self.name), self.spec)
        return self.root

    def workdir(self):
        return os.path.normpath(os.path.join(self.make(), self.cwd))


LONG = "l" * 60 + "/" + "o" * 60 + "/" + "n" * 80 + ".txt"

FIXTURES = [
    Fixture("copy-scratch", [
        ("f", "Dockerfile", "FROM scratch\nCOPY . /c/\n"),
        ("f", "a.txt", "hello\n"),
        ("f", "empty", ""),
        ("f", "bin/run.sh", "#!/bin/sh\necho run\n", 0o755),
        ("d", "private", 0o700),
        ("f", "private/key", "secret\n", 0o600),
        ("f", "ro.txt", "read only\n", 0o444),
        ("f", "group.txt", "g\n", 0o664),
        ("d", "emptydir", 0o755),
        ("d", "odd-dir", 0o750),
        ("f", "deep/a/b/c/d/e.txt", "deep\n"),
        ("f", "sp ace.txt", "spaces\n"),
        ("f", "ünïcødé-名前.txt", "utf8\n"),
        ("f", LONG, "long name\n"),
        ("f", "blob.bin", rand_bytes(1 << 20, 1)),
        ("l", "link-rel", "a.txt"),
        ("l", "link-abs", "/etc/passwd"),
        ("l", "dangling", "nope/nothing"),
        ("l", "dirlink", "deep/a"),
        ("f", "hard1", "same inode\n"),
        ("h", "deep/hard2", "hard1"),
    ], []),
    Fixture("run-busybox", [
        ("f", "Dockerfile",
         "FROM busybox\n"
         "WORKDIR /work\n"
         "COPY files/ ./files/\n"
         "RUN set -e; mkdir -p /out/sub; cp -p files/a.txt /out/; chmod 0600 /out/a.txt; "
         "ln -s a.txt /out/link; echo generated > /out/sub/gen.txt; rm files/removed.txt; "
         "cat files/*.txt | wc -c > /out/count; chmod 0750 /out/sub\n"
         "ENV FOO=bar\n"
         "EXPOSE 8080\n"
         "CMD [\"/bin/sh\", \"-c\", \"cat /out/count\"]\n"),
        ("f", "files/a.txt", "alpha\n"),
        ("f", "files/b.txt", "beta\n"),
        ("f", "files/removed.txt", "gone\n"),
        ("f", "files/exec.sh", "#!/bin/sh\n", 0o755),
        ("f", "unused.txt", "not copied\n"),
    ], ["--network", "none"]),
    Fixture("add-local", [
        ("f", "Dockerfile",
         "FROM busybox\n"
         "ADD hello.txt /add/hello.txt\n"
         "ADD archive.tar /unpacked/\n"
         "ADD archive.tar.gz /unpackedgz/\n"
         "ADD dir /adddir/\n"
         "ADD notatar.tar.txt /add/\n"
         "RUN test -f /unpacked/inner/file.txt && test -L /unpacked/inner/link && "
         "test -x /unpackedgz/inner/exec.sh\n"),
        ("f", "hello.txt", "hello from ADD\n", 0o640),
        ("f", "archive.tar", tar_bytes([
            ("inner", "d", None, 0o755),
            ("inner/file.txt", "f", b"in the tar\n", 0o644),
            ("inner/exec.sh", "f", b"#!/bin/sh\n", 0o755),
            ("inner/link", "l", "file.txt", 0o777),
            ("inner/sub", "d", None, 0o700),
            ("inner/sub/deep.txt", "f", b"deep in the tar\n", 0o600),
        ])),
        ("f", "archive.tar.gz", tar_bytes([
            ("inner", "d", None, 0o755),
            ("inner/exec.sh", "f", b"#!/bin/sh\necho gz\n", 0o755),
            ("inner/data.bin", "f", rand_bytes(70000, 2), 0o644),
        ], gz=True)),
        ("f", "notatar.tar.txt", "plain text, copied as is\n"),
        ("f", "dir/x.txt", "x\n"),
        ("f", "dir/y/z.txt", "z\n", 0o600),
    ], ["--network", "none"]),
    Fixture("multistage", [
        ("f", "Dockerfile",
         "FROM busybox AS build\n"
         "COPY src/ /src/\n"
         "RUN mkdir -p /out && cat /src/*.txt > /out/all.txt && chmod 0640 /out/all.txt\n"
         "FROM scratch AS final\n"
         "COPY --from=build /out/all.txt /app/all.txt\n"
         "COPY --from=build /bin/busybox /bin/busybox\n"
         "COPY --from=build /src/one.txt /app/\n"
         "LABEL stage=final\n"
         "FROM final AS extra\n"
         "COPY extra.txt /app/\n"
         "LABEL stage=extra\n"),
        ("f", "src/one.txt", "one\n"),
        ("f", "src/two.txt", "two\n"),
        ("f", "extra.txt", "extra\n"),
    ], ["--network", "none"]),
    Fixture("multistage-target", [
        ("f", "Dockerfile",
         "FROM busybox AS build\n"
         "COPY src/ /src/\n"
         "RUN mkdir -p /out && cat /src/*.txt > /out/all.txt\n"
         "FROM scratch AS final\n"
         "COPY --from=build /out/all.txt /app/all.txt\n"
         "LABEL stage=final\n"
         "FROM final AS extra\n"
         "COPY extra.txt /app/\n"
         "LABEL stage=extra\n"),
        ("f", "src/one.txt", "one\n"),
        ("f", "src/two.txt", "two\n"),
        ("f", "extra.txt", "extra\n"),
    ], ["--network", "none", "--target", "final"]),
    Fixture("build-args", [
        ("f", "Dockerfile",
         "FROM busybox\n"
         "ARG A\n"
         "ARG B\n"
         "ARG C=c-default\n"
         "ARG D=d-default\n"
         "ARG E\n"
         "ARG F=f-default\n"
         "RUN echo \"A=$A B=$B C=$C D=$D E=${E-unset} F=$F\" > /args.txt\n"
         "ENV FROM_ARG=$A\n"),
    ], ["--network", "none", "--build-arg", "A=from flag", "--build-arg", "B",
        "--build-arg", "C", "--build-arg", "D=", "--build-arg", "F=f=with=equals",
        "--build-arg", "UNUSED_ARG=1"],
        env={"B": "from env", "C": None}),
    Fixture("labels", [
        ("f", "Dockerfile", "FROM scratch\nCOPY a.txt /\nLABEL in.dockerfile=\"yes\" over=dockerfile\n"),
        ("f", "a.txt", "a\n"),
    ], ["--label", "a=1", "--label", "b=two words", "--label", "c=", "--label", "over=flag"]),
    Fixture("dockerfile-subdir", [
        ("f", "ctx/docker/app.Dockerfile", "FROM scratch\nCOPY . /c/\n"),
        ("f", "ctx/.dockerignore", "*.tmp\n"),
        ("f", "ctx/a.txt", "a\n"),
        ("f", "ctx/b.tmp", "ignored\n"),
        ("f", "ctx/docker/other.txt", "o\n"),
        ("f", "ctx/Dockerfile", "FROM scratch\nRUN false\n"),
    ], ["-f", "ctx/docker/app.Dockerfile"], path="ctx"),
    Fixture("dockerfile-cwd", [
        ("f", "ctx/docker/app.Dockerfile", "FROM scratch\nCOPY . /c/\n"),
        ("f", "ctx/a.txt", "a\n"),
        ("f", "ctx/docker/other.txt", "o\n"),
        ("f", "ctx/Dockerfile", "FROM scratch\nRUN false\n"),
        ("f", "ctx/app.Dockerfile", "FROM scratch\nRUN false\n"),
    ], ["-f", "app.Dockerfile"], cwd="ctx/docker", path=".."),
    Fixture("dockerfile-outside", [
        ("f", "outside/Dockerfile", "FROM scratch\nCOPY . /c/\nLABEL from=outside\n"),
        ("f", "ctx/.dockerignore", "ignored/\n.dockerignore\n"),
        ("f", "ctx/a.txt", "a\n"),
        ("f", "ctx/ignored/x.txt", "x\n"),
        ("f", "ctx/Dockerfile", "FROM scratch\nRUN false\n"),
    ], ["-f", "../outside/Dockerfile"], cwd="ctx",
        allow_bk_extra=(r"c/\.dockerfile\.[0-9a-f]+", r"c/\.dockerignore"),
        note="BuildKit tar upload: .dockerfile.<hex> and .dockerignore visible to COPY . (spec 4.5)"),
    Fixture("dockerignore-negations", [
        ("f", "Dockerfile", "FROM scratch\nCOPY . /c/\n"),
        ("f", ".dockerignore",
         "# comment\n"
         "*.log\n"
         "!keep/*.log\n"
         "logs\n"
         "!logs/important.log\n"
         "secret.env\n"
         "build/\n"
         "!build/keep.me\n"
         "**/*.tmp\n"
         "!**/precious.tmp\n"
         "docs/*\n"
         "!docs/README.md\n"
         "node_modules\n"),
        ("f", "a.log", "a\n"),
        ("f", "keep/b.log", "b\n"),
        ("f", "keep/c.txt", "c\n"),
        ("f", "logs/x.log", "x\n"),
        ("f", "logs/important.log", "important\n"),
        ("f", "logs/other.txt", "other\n"),
        ("f", "secret.env", "TOKEN=1\n"),
        ("f", "build/out.o", "obj\n"),
        ("f", "build/keep.me", "kept\n"),
        ("f", "build/sub/deep.o", "obj\n"),
        ("f", "nested/deep/x.tmp", "tmp\n"),
        ("f", "nested/deep/precious.tmp", "precious\n"),
        ("f", "nested/deep/y.txt", "y\n"),
        ("f", "docs/README.md", "readme\n"),
        ("f", "docs/guide.md", "guide\n"),
        ("f", "node_modules/pkg/index.js", "js\n"),
        ("f", "src/main.c", "int main(void){return 0;}\n"),
    ], []),
]


def fixture_env(fx):
    return base_env(**fx.env)


def build_reference(fx, tag):
    docker_build(["-t", tag] + fx.args, cwd=fx.workdir(), env=fixture_env(fx))
    return image_id(tag)


def build_ctxd(fx, tag, builder, extra=()):
    args = ["build", "--builder-version", str(builder), "--no-cache", "-t", tag] + list(extra) + fx.args
    rc, out, err = ctxd(*args, env=fixture_env(fx), cwd=fx.workdir())
    expect(rc == 0, f"ctxd {' '.join(args)} exited {rc}: {short(err, 1500)}")
    return image_id(tag)


def fixture_test(fx, builder):
    fx.make()
    tag = f"e2e-{fx.name}-ctxd-bk{builder}"
    if builder == 1:
        ref = build_reference(fx, f"e2e-{fx.name}-docker")
        got = build_ctxd(fx, tag, 1)
        REF_IMAGES[fx.name] = got
        expect_same_fs(ref, got, "docker (classic) vs ctxd --builder-version 1")
        rc, gc = image_config(ref), image_config(got)
        expect(rc == gc, f"image config differs: docker {rc} ctxd {gc}")
        return None
    ref = REF_IMAGES.get(fx.name)
    if not ref:
        try:
            ref = build_ctxd(fx, f"e2e-{fx.name}-ctxd-bk1", 1)
        except AssertionError as e:
            raise AssertionError(f"the classic reference: {e}") from None
    got = build_ctxd(fx, tag, 2)
    (gf, _) = expect_same_fs(ref, got, "ctxd --builder-version 1 vs 2", allow_extra=fx.allow_bk_extra)
    rc, gc = image_config(ref, True), image_config(got, True)
    expect(rc == gc, f"image config differs: classic {rc} BuildKit {gc}")
    extras = [n for n in gf if any(re.fullmatch(p, n) for p in fx.allow_bk_extra)]
    if extras:
        return f"note: {fx.note}: {', '.join('/' + n for n in extras)}"
    return None


for _fx in FIXTURES:
    for _b in (1, 2):
        param_test(f"image-{_fx.name}-bk{_b}", fixture_test, _fx, _b)


# ------------------------------------------------- more build semantics

@test
def build_args_values():
    """The values the build saw, spelled out (NAME alone takes the
    environment's value; NAME unset in the environment is null: the
    Dockerfile default)."""
    fx = next(f for f in FIXTURES if f.name == "build-args")
    want = "A=from flag B=from env C=c-default D= E=unset F=f=with=equals\n"
    for b in (1, 2):
        tag = f"e2e-build-args-ctxd-bk{b}"
        if not image_exists(tag):
            fx.make()
            build_ctxd(fx, tag, b)
        cid = docker("create", tag, "/x").strip()
        try:
            p = subprocess.run([DOCKER, "cp", f"{cid}:/args.txt", "-"], env=base_env(), capture_output=True, timeout=60)
        finally:
            docker("rm", cid, check=False)
        with tarfile.open(fileobj=io.BytesIO(p.stdout)) as tf:
            got = tf.extractfile(tf.getmembers()[0]).read().decode()
        expect(got == want, f"builder {b}: /args.txt is {got!r}, want {want!r}")
        env = image_config(tag)["Env"] or []
        expect("FROM_ARG=from flag" in env, f"builder {b}: Env {env}")


@test
def labels_values():
    want = {"in.dockerfile": "yes", "over": "flag", "a": "1", "b": "two words", "c": ""}
    for who in ("docker", "ctxd-bk1", "ctxd-bk2"):
        tag = f"e2e-labels-{who}"
        if not image_exists(tag):
            fx = next(f for f in FIXTURES if f.name == "labels")
            fx.make()
            build_ctxd(fx, tag, int(who[-1])) if who != "docker" else build_reference(fx, tag)
        got = image_config(tag)["Labels"]
        expect(got == want, f"{who}: labels {got}, want {want}")


@test
def dockerfile_dockerignore_per_builder():
    """<Dockerfile>.dockerignore: BuildKit uses it instead of the root
    .dockerignore; the classic CLI does not (README)."""
    root = make_tree(fixture_dir("per-dockerfile-ignore"), [
        ("f", "docker/app.Dockerfile", "FROM scratch\nCOPY . /c/\n"),
        ("f", "docker/app.Dockerfile.dockerignore", "b.txt\n"),
        ("f", ".dockerignore", "a.txt\n"),
        ("f", "a.txt", "a\n"),
        ("f", "b.txt", "b\n"),
    ])
    args = ["-f", "docker/app.Dockerfile", "."]
    docker_build(["-t", "e2e-pdi-docker"] + args, cwd=root)
    names = {}
    for who, tag in (("docker", "e2e-pdi-docker"), ("bk1", "e2e-pdi-bk1"), ("bk2", "e2e-pdi-bk2")):
        if who != "docker":
            rc, _, err = ctxd("build", "--builder-version", who[-1], "-t", tag, *args, cwd=root)
            expect(rc == 0, f"{who}: {short(err)}")
        fs, _ = image_fs(tag)
        names[who] = {n for n in fs if n in ("c/a.txt", "c/b.txt")}
    expect(names["docker"] == {"c/b.txt"}, f"docker classic: {names['docker']}")
    expect(names["bk1"] == names["docker"], f"ctxd classic: {names['bk1']}, docker: {names['docker']}")
    expect(names["bk2"] == {"c/a.txt"}, f"ctxd BuildKit used the wrong ignore file: {names['bk2']}")


@test
def ignored_build_files_per_builder():
    """Issue 4 item 4: a .dockerignore that excludes the Dockerfile and
    itself keeps them out of `COPY .` in docker's image (the classic daemon
    deletes them). BuildKit given a tar shows COPY everything in it, so
    ctxd --builder-version 2 warns, naming each file and the COPY that
    reads it; classic builds neither warn nor copy them."""
    root = make_tree(fixture_dir("ignored-build-files"), [
        ("f", "Dockerfile", "FROM scratch\nCOPY . /c/\n"),
        ("f", ".dockerignore", "Dockerfile\n.dockerignore\nsecret.txt\n"),
        ("f", "a.txt", "a\n"),
        ("f", "secret.txt", "s\n"),
    ])
    docker_build(["-t", "e2e-ibf-docker", "."], cwd=root)
    seen = {}
    for who, tag in (("docker", "e2e-ibf-docker"), ("bk1", "e2e-ibf-bk1"), ("bk2", "e2e-ibf-bk2")):
        if who != "docker":
            rc, _, err = ctxd("build", "--builder-version", who[-1], "-t", tag, ".", cwd=root)
            expect(rc == 0, f"{who}: {short(err)}")
            warns = [l for l in err.splitlines() if l.startswith("ctxd: warning: BuildKit shows COPY")]
            if who == "bk1":
                expect(not warns, f"classic build warned: {warns}")
            else:
                expect(len(warns) == 2, f"BuildKit: want 2 warnings, got {short(err)}")
                for name, w in zip(("Dockerfile", ".dockerignore"), warns):
                    expect(f": {name} may be copied into the image" in w and "COPY . (line 2)" in w
                           and "--builder-version=1" in w, f"warning for {name}: {w!r}")
        fs, _ = image_fs(tag)
        seen[who] = sorted(n for n in fs if n.startswith("c/"))
    expect(seen["docker"] == ["c/a.txt"], f"docker classic copied {seen['docker']}")
    expect(seen["bk1"] == seen["docker"], f"ctxd classic copied {seen['bk1']}, docker {seen['docker']}")
    expect(seen["bk2"] == ["c/.dockerignore", "c/Dockerfile", "c/a.txt"],
           f"ctxd BuildKit copied {seen['bk2']} (the warned-about files, never secret.txt)")


@test
def classic_cache_shared_with_docker():
    """ctxd's classic context is docker's, so the daemon's build cache built
    by `docker build` is hit: same image ID without --no-cache."""
    fx = next(f for f in FIXTURES if f.name == "run-busybox")
    fx.make()
    ref = build_reference(fx, "e2e-cache-docker")
    rc, out, err = ctxd("build", "--builder-version", "1", "-q", *fx.args, env=fixture_env(fx), cwd=fx.workdir())
    expect(rc == 0, short(err))
    expect(out.strip() == ref, f"ctxd built {out.strip()}, docker {ref}: the cache was not hit")


@test
def build_query_matches_docker():
    """The POST /build request ctxd sends equals the docker CLI's (classic):
    path, query (spec 2.7) and headers; BuildKit differs only in version=2."""
    root = make_tree(fixture_dir("query"), [
        ("f", "Dockerfile", "FROM scratch\nARG K\nCOPY a.txt /\n"),
        ("f", "a.txt", "a\n"),
    ])
    flags = ["-t", "e2e-q/a:1", "-t", "e2e-q2", "--build-arg", "K=V", "--build-arg", "FROMENV",
             "--build-arg", "UNSETVAR_FOR_TEST", "--label", "l1=v1", "--label", "l2=v 2", "--label", "l3=a&b<c>+é",
             "--platform", "linux/amd64", "--network", "none", "--no-cache", "--pull", "-q", "."]
    env = base_env(DOCKER_HOST="unix://" + os.path.join(T, "proxy.sock"), FROMENV="envval",
                   UNSETVAR_FOR_TEST=None)
    px = proxy()
    rc, out, err = run_cmd([DOCKER, "build"] + flags, env=dict(env, DOCKER_BUILDKIT="0"), cwd=root)
    expect(rc == 0, f"docker: {short(err)}")
    dreq = px.builds()
    expect(len(dreq) == 1, f"docker sent {len(dreq)} build requests")
    px.reset()
    rc, out, err = ctxd("build", "--builder-version", "1", *flags, env=env, cwd=root)
    expect(rc == 0, f"ctxd: {short(err)}")
    creq = px.builds()
    expect(len(creq) == 1, f"ctxd sent {len(creq)} build requests")
    d, c = dreq[0], creq[0]
    expect(c["path"] == d["path"], f"path {c['path']} != docker's {d['path']}")
    expect(c["rawquery"] == d["rawquery"], f"query differs:\n  ctxd   {c['rawquery']}\n  docker {d['rawquery']}")
    for h in ("content-type", "x-registry-config"):
        expect(c["headers"].get(h) == d["headers"].get(h), f"header {h}: {c['headers'].get(h)!r} != docker's {d['headers'].get(h)!r}")
    px.reset()
    rc, out, err = ctxd("build", "--builder-version", "2", *flags, env=env, cwd=root)
    expect(rc == 0, f"ctxd bk2: {short(err)}")
    b = px.builds()
    expect(len(b) == 1, f"ctxd bk2 sent {len(b)} build requests")
    want = [(k, "2" if k == "version" else v) for k, v in d["query"]]
    expect(b[0]["query"] == want, f"BuildKit query: {b[0]['rawquery']}")
    expect(image_id("e2e-q/a:1") == image_id("e2e-q2") == out.strip(), "-t twice: the tags are not the built image")


@test
def builder_selection():
    """--builder-version, else DOCKER_BUILDKIT, else /_ping's Builder-Version
    (this 20.10 daemon sends none: classic)."""
    root = make_tree(fixture_dir("builder-sel"), [("f", "Dockerfile", "FROM scratch\nCOPY a /\n"), ("f", "a", "a")])
    env = base_env(DOCKER_HOST="unix://" + os.path.join(T, "proxy.sock"))
    cases = [([], {}, "1"), ([], {"DOCKER_BUILDKIT": "1"}, "2"), ([], {"DOCKER_BUILDKIT": "0"}, "1"),
             (["--builder-version", "2"], {"DOCKER_BUILDKIT": "0"}, "2"),
             (["--builder-version", "1"], {"DOCKER_BUILDKIT": "1"}, "1")]
    for flags, extra, want in cases:
        px = proxy()
        rc, out, err = ctxd("build", "-q", *flags, ".", env=dict(env, **extra), cwd=root)
        expect(rc == 0, f"{flags} {extra}: {short(err)}")
        b = px.builds()
        v = dict(b[0]["query"]).get("version") if b else None
        expect(v == want, f"{flags} {extra}: version={v}, want {want}")


# ---------------------------------------------------------- compression

def compress_test(builder):
    fx = next(f for f in FIXTURES if f.name == "copy-scratch")
    fx.make()
    env = base_env(DOCKER_HOST="unix://" + os.path.join(T, "proxy.sock"))
    imgs = {}
    for mode, want in (("none", "tar"), ("gzip", "gzip"), ("xz", "xz"), (None, "gzip"), ("auto", "tar")):
        px = proxy()
        flag = ["--compress"] if mode is None else [f"--compress={mode}"]
        tag = f"e2e-compress-bk{builder}-{mode or 'bare'}"
        rc, out, err = ctxd("build", "--builder-version", str(builder), "--no-cache", "-t", tag, *flag, ".",
                            env=env, cwd=fx.workdir())
        expect(rc == 0, f"{flag}: exit {rc}: {short(err)}")
        b = px.builds()
        expect(len(b) == 1, f"{flag}: {len(b)} build requests")
        kind = body_kind(b[0]["body_head"])
        expect(kind == want, f"{flag}: body is {kind}, want {want}")
        expect(b[0]["headers"].get("content-type") == "application/x-tar",
               f"{flag}: Content-Type {b[0]['headers'].get('content-type')!r}")
        imgs[mode] = tag
    ref = image_fs(imgs["none"])
    for mode in ("gzip", "xz", None):
        d = fs_diff(ref, image_fs(imgs[mode]))
        expect(not d, f"--compress={mode} image differs from none: " + "; ".join(d[:8]))


param_test("compress-bk1", compress_test, 1)
param_test("compress-bk2", compress_test, 2)


# ---------------------------------------------------------- transports

def small_ctx():
    d = os.path.join(T, "fx", "small")
    if not os.path.exists(d):
        make_tree(d, [("f", "Dockerfile", "FROM scratch\nCOPY a.txt /\n"), ("f", "a.txt", "transport\n")])
    return d


def build_ok(env, *flags, what="", tag=None):
    """ctxd build -q over some transport: exit 0, stdout is the image ID,
    and the image is in the daemon (asked over the unix socket)."""
    tag = tag or "e2e-transport-" + re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
    rc, out, err = ctxd("build", "--builder-version", "1", "-q", "-t", tag, *flags, small_ctx(), env=env)
    expect(rc == 0, f"{what}: exit {rc}: {short(err)}")
    expect(re.fullmatch(r"sha256:[0-9a-f]{64}\n", out), f"{what}: stdout {out!r}")
    expect(image_id(tag) == out.strip(), f"{what}: {tag} is not {out.strip()}")
    docker("rmi", tag, check=False)


def docker_agrees(env, ok, what):
    """The reference CLI reaches (or fails to reach) the same daemon."""
    rc, out, err = run_cmd([DOCKER, "version", "--format", "{{.Server.Version}}"], env=env)
    expect((rc == 0) == ok, f"fixture check: docker version {'failed' if ok else 'succeeded'} for {what}: {short(err)}")


@test
def transport_unix_docker_host():
    env = base_env()
    docker_agrees(env, True, "DOCKER_HOST=unix")
    build_ok(env, what="DOCKER_HOST unix")


@test
def transport_unix_host_flag():
    env = base_env(DOCKER_HOST=None)
    build_ok(env, "-H", "unix://" + SOCK, what="-H unix")
    build_ok(env, "--host=unix://" + SOCK, what="--host= unix")
    # -H wins over DOCKER_HOST, as with docker
    env = base_env(DOCKER_HOST="unix://" + os.path.join(T, "nothing-here.sock"))
    build_ok(env, "-H", "unix://" + SOCK, what="-H over DOCKER_HOST")


def context_config():
    cfg = os.path.join(T, "ctxcfg")
    if not os.path.exists(os.path.join(cfg, "contexts")):
        os.makedirs(cfg, exist_ok=True)
        env = base_env(DOCKER_CONFIG=cfg, DOCKER_HOST=None)
        docker("context", "create", "e2e-unix", "--docker", f"host=unix://{SOCK}", env=env)
        docker("context", "create", "e2e-tls", "--docker",
               f"host=tcp://127.0.0.1:{TLS_PORT},ca={TLS_DIR}/ca.pem,cert={TLS_DIR}/cert.pem,key={TLS_DIR}/key.pem",
               env=env)
        docker("context", "create", "e2e-down", "--docker", f"host=unix://{T}/down.sock", env=env)
    return cfg


@test
def transport_context_flag():
    cfg = context_config()
    env = base_env(DOCKER_CONFIG=cfg, DOCKER_HOST=None)
    docker_agrees(dict(env, DOCKER_CONTEXT="e2e-unix"), True, "context e2e-unix")
    build_ok(env, "--context", "e2e-unix", what="--context unix")
    build_ok(env, "--context=e2e-tls", what="--context tls")
    # --context wins over DOCKER_HOST, as with docker
    env2 = dict(env, DOCKER_HOST="unix://" + os.path.join(T, "nothing-here.sock"))
    build_ok(env2, "--context", "e2e-unix", what="--context over DOCKER_HOST")


@test
def transport_docker_context_env():
    cfg = context_config()
    env = base_env(DOCKER_CONFIG=cfg, DOCKER_HOST=None, DOCKER_CONTEXT="e2e-unix")
    build_ok(env, what="DOCKER_CONTEXT")
    # DOCKER_HOST wins over DOCKER_CONTEXT (docker: same)
    bad = "unix://" + os.path.join(T, "nothing-here.sock")
    env2 = dict(env, DOCKER_HOST=bad)
    docker_agrees(env2, False, "DOCKER_HOST over DOCKER_CONTEXT")
    rc, _, err = ctxd("build", "-q", small_ctx(), env=env2)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, bad, "from DOCKER_HOST")


@test
def transport_current_context():
    src = context_config()
    cfg = os.path.join(T, "ctxcfg-current")
    shutil.copytree(src, cfg, dirs_exist_ok=True)
    env = base_env(DOCKER_CONFIG=cfg, DOCKER_HOST=None)
    docker("context", "use", "e2e-unix", env=env)
    with open(os.path.join(cfg, "config.json")) as f:
        expect(json.load(f).get("currentContext") == "e2e-unix", "docker context use did not set currentContext")
    docker_agrees(env, True, "currentContext")
    build_ok(env, what="currentContext")
    # DOCKER_CONTEXT wins over currentContext
    docker("context", "use", "e2e-down", env=env)
    build_ok(dict(env, DOCKER_CONTEXT="e2e-unix"), what="DOCKER_CONTEXT over currentContext")
    rc, _, err = ctxd("build", "-q", small_ctx(), env=env)
    expect(rc == 1, f"currentContext e2e-down: exit {rc}: {short(err)}")
    ctxd_error(err, f"cannot connect to the Docker daemon at unix://{T}/down.sock", "e2e-down", "currentContext")


@test
def transport_tls_env():
    env = base_env(DOCKER_HOST=f"tcp://127.0.0.1:{TLS_PORT}", DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=TLS_DIR)
    docker_agrees(env, True, "tcp+TLS via env")
    build_ok(env, what="DOCKER_TLS_VERIFY DOCKER_CERT_PATH")
    build_ok(dict(env, DOCKER_HOST=f"tcp://localhost:{TLS_PORT}"), what="TLS localhost")


@test
def transport_tls_flags():
    env = base_env(DOCKER_HOST=None)
    flags = ["-H", f"tcp://127.0.0.1:{TLS_PORT}", "--tlsverify", "--tlscacert", f"{TLS_DIR}/ca.pem",
             "--tlscert", f"{TLS_DIR}/cert.pem", "--tlskey", f"{TLS_DIR}/key.pem"]
    rc, _, err = run_cmd([DOCKER] + flags + ["version"], env=env)
    expect(rc == 0, f"fixture check: docker with TLS flags failed: {short(err)}")
    build_ok(env, *flags, what="TLS flags")
    # --tlsverify with DOCKER_CERT_PATH supplying the files
    build_ok(dict(env, DOCKER_CERT_PATH=TLS_DIR), "-H", f"tcp://127.0.0.1:{TLS_PORT}", "--tlsverify",
             what="--tlsverify with DOCKER_CERT_PATH")
    # --tls: TLS with a client certificate, the server's not verified (a CA
    # that did not sign it is no obstacle)
    wrong = os.path.join(T, "tls", "wrongca")
    tls = ["-H", f"tcp://127.0.0.1:{TLS_PORT}", "--tls", "--tlscacert", f"{wrong}/ca.pem",
           "--tlscert", f"{TLS_DIR}/cert.pem", "--tlskey", f"{TLS_DIR}/key.pem"]
    rc, _, err = run_cmd([DOCKER] + tls + ["version"], env=env)
    expect(rc == 0, f"fixture check: docker --tls failed: {short(err)}")
    build_ok(env, *tls, what="--tls without verification")


# ---------------------------------------------------------------- ssh

SSH = {}


def ensure_sshd_user():
    """sshd will not start without its privilege-separation user, which
    openssh-server's postinst creates: a machine whose user database lost
    it after the package was installed gets it back the same way."""
    try:
        pwd.getpwnam("sshd")
    except KeyError:
        p = subprocess.run(["useradd", "--system", "--home-dir", "/run/sshd", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", "sshd"], capture_output=True)
        expect(p.returncode == 0, f"useradd sshd: {p.stderr.decode()}")


def start_sshd():
    if SSH:
        return SSH
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd) or not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        raise Skip("sshd/ssh not installed (apt-get install openssh-server)")
    ensure_sshd_user()
    d = os.path.join(T, "ssh")
    shutil.rmtree(d, ignore_errors=True)  # what an earlier failed start left
    os.makedirs(d, mode=0o700)
    for k in ("host_key", "client_key"):
        p = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ctxd-e2e", "-f", os.path.join(d, k)],
                           capture_output=True)
        expect(p.returncode == 0, p.stderr.decode())
    shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
    port = free_port()
    docker_dir = os.path.dirname(DOCKER)
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
SetEnv DOCKER_HOST=unix://{SOCK} PATH={docker_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
""")
    with open(os.path.join(d, "client_config"), "w") as f:
        f.write(f"""Host *
  IdentityFile {d}/client_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
""")
    # OpenSSH ignores $HOME (it reads the passwd entry), so the private client
    # config goes in through an `ssh` wrapper first on PATH.
    bindir = os.path.join(d, "bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "ssh"), "w") as f:
        f.write(f"#!/bin/sh\nexec {shutil.which('ssh')} -F {d}/client_config \"$@\"\n")
    os.chmod(os.path.join(bindir, "ssh"), 0o755)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    log = open(os.path.join(d, "sshd.log"), "wb")
    p = subprocess.Popen([sshd, "-D", "-e", "-f", os.path.join(d, "sshd_config")], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    PROCS.append(("sshd", p))

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    if not wait_for(lambda: p.poll() is not None or up(), 15) or p.poll() is not None:
        with open(os.path.join(d, "sshd.log"), "rb") as f:
            raise AssertionError(f"sshd did not start: {f.read()[-800:].decode('utf-8', 'replace')}")
    SSH.update(port=port, path=bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin"), dir=d)
    return SSH


@test
def transport_ssh():
    s = start_sshd()
    url = f"ssh://root@127.0.0.1:{s['port']}"
    env = base_env(DOCKER_HOST=url, PATH=s["path"])
    rc, out, err = run_cmd(["ssh", "-p", str(s["port"]), "root@127.0.0.1",
                            "docker version --format '{{.Client.Version}} {{.Server.Version}}'"], env=env, timeout=60)
    expect(rc == 0 and out.startswith("28."), f"fixture check: docker over ssh: {out!r} {short(err)}")
    docker_agrees(env, True, "ssh")
    build_ok(env, what="DOCKER_HOST ssh")
    build_ok(base_env(DOCKER_HOST=None, PATH=s["path"]), "-H", url, what="-H ssh")


@test
def transport_ssh_builds_image():
    """A full fixture over ssh (gzip by default on a remote endpoint), both
    builders, same image as over the unix socket."""
    s = start_sshd()
    fx = next(f for f in FIXTURES if f.name == "copy-scratch")
    fx.make()
    env = base_env(DOCKER_HOST=f"ssh://root@127.0.0.1:{s['port']}", PATH=s["path"])
    for b in (1, 2):
        ref = REF_IMAGES.get(fx.name) or build_ctxd(fx, "e2e-copy-scratch-ctxd-bk1", 1)
        if b == 2:
            ref = image_id("e2e-copy-scratch-ctxd-bk2") if image_exists("e2e-copy-scratch-ctxd-bk2") \
                else build_ctxd(fx, "e2e-copy-scratch-ctxd-bk2", 2)
        tag = f"e2e-ssh-bk{b}"
        rc, out, err = ctxd("build", "--builder-version", str(b), "--no-cache", "-t", tag, ".", env=env, cwd=fx.workdir())
        expect(rc == 0, f"bk{b}: {short(err)}")
        d = fs_diff(image_fs(ref), image_fs(tag))
        expect(not d, f"bk{b} over ssh differs: " + "; ".join(d[:8]))


@test
def error_ssh_unreachable():
    s = start_sshd()
    port = free_port()
    url = f"ssh://root@127.0.0.1:{port}"
    rc, _, err = ctxd("build", "-q", small_ctx(), env=base_env(DOCKER_HOST=url, PATH=s["path"]), timeout=120)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, url, "from DOCKER_HOST")


# --------------------------------------------------------------- errors

@test
def error_wrong_socket_docker_host():
    bad = "unix://" + os.path.join(T, "no-such-dir", "docker.sock")
    rc, out, err = ctxd("build", small_ctx(), env=base_env(DOCKER_HOST=bad))
    expect(rc == 1, f"exit {rc}: {short(err)}")
    expect([l for l in err.splitlines() if l.strip()] == [last_line(err)], f"more than one line: {short(err)}")
    ctxd_error(err, f"cannot connect to the Docker daemon at {bad} (from DOCKER_HOST)")


@test
def error_wrong_socket_host_flag():
    bad = "unix://" + os.path.join(T, "no-such.sock")
    rc, out, err = ctxd("build", "-H", bad, small_ctx(), env=base_env(DOCKER_HOST=None))
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, f"cannot connect to the Docker daemon at {bad} (from --host)")


@test
def error_daemon_down():
    """A socket file nobody listens on (a stopped daemon's), and a tcp port
    nobody listens on."""
    path = os.path.join(T, "down.sock")
    if not os.path.exists(path):
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()  # bound, never listening: connect() is refused
    rc, _, err = ctxd("build", small_ctx(), env=base_env(DOCKER_HOST="unix://" + path))
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, f"cannot connect to the Docker daemon at unix://{path} (from DOCKER_HOST)")
    port = free_port()
    rc, _, err = ctxd("build", "-H", f"tcp://127.0.0.1:{port}", small_ctx(), env=base_env(DOCKER_HOST=None))
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, f"tcp://127.0.0.1:{port}", "(from --host)")


@test
def error_tls_wrong_ca():
    wrong = os.path.join(T, "tls", "wrongca")
    env = base_env(DOCKER_HOST=f"tcp://127.0.0.1:{TLS_PORT}", DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=wrong)
    docker_agrees(env, False, "wrong CA")
    rc, _, err = ctxd("build", small_ctx(), env=env)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    line = ctxd_error(err, f"tcp://127.0.0.1:{TLS_PORT}")
    expect(re.search(r"certificate|SSL|TLS|verify", line, re.I), f"no TLS reason in {line!r}")


@test
def error_tls_plain_http_to_tls_port():
    env = base_env(DOCKER_HOST=f"tcp://127.0.0.1:{TLS_PORT}")
    rc, _, err = ctxd("build", small_ctx(), env=env)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    line = ctxd_error(err)
    expect(f"tcp://127.0.0.1:{TLS_PORT}" in line or "HTTPS" in line, f"neither the endpoint nor HTTPS in {line!r}")


@test
def error_missing_context():
    cfg = context_config()
    env = base_env(DOCKER_CONFIG=cfg, DOCKER_HOST=None, DOCKER_CONTEXT="no-such-context")
    docker_agrees(env, False, "missing context")
    rc, _, err = ctxd("build", small_ctx(), env=env)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, "no-such-context", "DOCKER_CONTEXT")


@test
def error_host_and_context():
    rc, _, err = ctxd("build", "-H", "unix://" + SOCK, "--context", "x", small_ctx())
    expect(rc in (1, 2), f"exit {rc}: {short(err)}")
    ctxd_error(err, "--host", "--context")


def failing_tree(name, dockerfile, extra=()):
    return make_tree(fixture_dir(name), [("f", "Dockerfile", dockerfile), ("f", "busybox", open(BUSYBOX, "rb").read(), 0o755)] + list(extra))


def error_syntax(builder):
    root = failing_tree("syntax", "FROM scratch\nCOPY busybox /bin/\nFROMM nothing\n")
    rc, out, err = ctxd("build", "--builder-version", str(builder), "-t", f"e2e-syntax-bk{builder}", ".", cwd=root)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    line = ctxd_error(err, "unknown instruction", "FROMM")
    if builder == 1:
        rc2, _, derr = run_cmd([DOCKER, "build", "."], env=base_env(DOCKER_BUILDKIT="0"), cwd=root)
        expect(rc2 != 0, "docker accepted the syntax error")
        dline = last_line(derr)
        m = re.search(r"dockerfile parse error.*", dline)
        expect(m and m.group(0) in line, f"docker says {dline!r}, ctxd {line!r}")
    expect(not image_exists(f"e2e-syntax-bk{builder}"), "an image was tagged")


def error_failing_run(builder):
    root = failing_tree("failrun", 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo to-stderr >&2; exit 3"]\n')
    iid = os.path.join(T, f"iid-fail-{builder}")
    with open(iid, "w") as f:
        f.write("stale")
    rc, out, err = ctxd("build", "--builder-version", str(builder), "--network", "none", "--iidfile", iid,
                        "-t", f"e2e-failrun-bk{builder}", ".", cwd=root)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    if builder == 1:
        line = ctxd_error(err, "returned a non-zero code: 3")
        rc2, _, derr = run_cmd([DOCKER, "build", "--network", "none", "."], env=base_env(DOCKER_BUILDKIT="0"), cwd=root)
        dline = last_line(derr)
        expect(rc2 != 0 and dline in line, f"docker says {dline!r} (exit {rc2}), ctxd {line!r}")
    else:
        ctxd_error(err, "exit code: 3")
    expect("to-stderr" in out + err, f"the RUN's output was not shown: {short(out + err)}")
    expect(not os.path.exists(iid), "--iidfile exists after a failed build")
    expect(not image_exists(f"e2e-failrun-bk{builder}"), "an image was tagged")


def error_copy_missing(builder):
    root = failing_tree("copymissing", "FROM scratch\nCOPY missing-file /\n")
    rc, out, err = ctxd("build", "--builder-version", str(builder), ".", cwd=root)
    expect(rc == 1, f"exit {rc}: {short(err)}")
    ctxd_error(err, "missing-file")


for _b in (1, 2):
    param_test(f"error-syntax-bk{_b}", error_syntax, _b)
    param_test(f"error-failing-run-bk{_b}", error_failing_run, _b)
    param_test(f"error-copy-missing-bk{_b}", error_copy_missing, _b)


@test
def error_usage():
    root = small_ctx()
    for args in (["build", "--bogus-flag", root], ["build", "--squash-everything", root], ["build"],
                 ["build", root, root], ["build", "--builder-version", "3", root],
                 ["build", "--progress=sparkly", root], ["build", "--compress=zstd", root]):
        rc, out, err = ctxd(*args)
        expect(rc == 2, f"ctxd {' '.join(args)}: exit {rc}, want 2: {short(err)}")
        expect(err.strip() and out == "", f"ctxd {' '.join(args)}: no usage message, or stdout {out!r}")


@test
def error_bad_inputs():
    root = small_ctx()
    rc, _, err = ctxd("build", os.path.join(T, "no-such-context-dir"))
    expect(rc == 1, f"missing context: exit {rc}: {short(err)}")
    ctxd_error(err)
    rc, _, err = ctxd("build", "-f", "no-such.Dockerfile", root, cwd=root)
    expect(rc == 1, f"missing Dockerfile: exit {rc}: {short(err)}")
    ctxd_error(err, "no-such.Dockerfile")
    rc, _, err = ctxd("build", os.path.join(root, "Dockerfile"))
    expect(rc == 1, f"context that is a file: exit {rc}: {short(err)}")
    ctxd_error(err, "Dockerfile", "must be a directory")


@test
def iidfile_written_on_success():
    root = small_ctx()
    iid = os.path.join(T, "iid-ok")
    with open(iid, "w") as f:
        f.write("stale")
    diid = os.path.join(T, "iid-docker")
    docker_build(["--iidfile", diid, "."], cwd=root)
    with open(diid) as f:
        dcontent = f.read()
    for b in (1, 2):
        rc, out, err = ctxd("build", "--builder-version", str(b), "--iidfile", iid, "-t", f"e2e-iid-bk{b}", root)
        expect(rc == 0, short(err))
        with open(iid) as f:
            content = f.read()
        expect(re.fullmatch(r"sha256:[0-9a-f]{64}", content), f"bk{b}: iidfile holds {content!r}")
        expect(content == image_id(f"e2e-iid-bk{b}"), f"bk{b}: {content} is not the tagged image")
        expect(re.fullmatch(r"sha256:[0-9a-f]{64}", dcontent), f"docker's iidfile format changed: {dcontent!r}")
    expect(not [n for n in os.listdir(T) if n.startswith("iid-ok") and n != "iid-ok"], "temp files next to the iidfile")
    # an iidfile in a directory that does not exist: failure, no image ID anywhere
    rc, _, err = ctxd("build", "--iidfile", os.path.join(T, "no-dir", "iid"), root)
    expect(rc == 1, f"iidfile in a missing dir: exit {rc}")


@test
def quiet_prints_only_the_id():
    root = small_ctx()
    rc, dout, derr = run_cmd([DOCKER, "build", "-q", "."], env=base_env(DOCKER_BUILDKIT="0"), cwd=root)
    expect(rc == 0 and re.fullmatch(r"sha256:[0-9a-f]{64}\n", dout), f"docker -q: {dout!r}")
    for b in (1, 2):
        for q in ("-q", "--quiet"):
            rc, out, err = ctxd("build", "--builder-version", str(b), "--no-cache", q, "-t", "e2e-quiet", root)
            expect(rc == 0, short(err))
            expect(re.fullmatch(r"sha256:[0-9a-f]{64}\n", out), f"bk{b} {q}: stdout {out!r}")
            expect(out.strip() == image_id("e2e-quiet"), f"bk{b} {q}: stdout is not the image's ID")
            expect(err == "", f"bk{b} {q}: stderr not empty: {short(err)}")


@test
def progress_modes():
    root = small_ctx()
    for mode in ("plain", "quiet", "auto"):
        for b in (1, 2):
            rc, out, err = ctxd("build", "--builder-version", str(b), "--no-cache", f"--progress={mode}", root)
            expect(rc == 0, f"--progress={mode} bk{b}: {short(err)}")
            if mode == "quiet":
                expect("COPY" not in out + err, f"--progress=quiet bk{b} printed build steps: {short(out + err)}")
            else:
                expect("COPY" in out + err, f"--progress={mode} bk{b} shows no build step: {short(out + err)}")


def pty_run(argv, env):
    """Runs argv with stdout and stderr on a pty; (exit status, output)."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    rc = p.wait(timeout=120)
    os.close(master)
    return rc, out.decode("utf-8", "replace")


@test
def progress_tty():
    """--progress=tty with a terminal on stderr: builds, and draws."""
    root = small_ctx()
    for b in (1, 2):
        rc, out = pty_run([CTXD, "build", "--builder-version", str(b), "--no-cache", "--progress=tty",
                           "-t", f"e2e-tty-bk{b}", root], base_env(TERM="xterm"))
        expect(rc == 0, f"bk{b}: exit {rc}: {short(out)}")
        expect(image_exists(f"e2e-tty-bk{b}"), f"bk{b}: no image")
        expect("COPY" in out, f"bk{b}: the terminal shows no build step: {short(out)}")


@test
def progress_tty_upload():
    """On a terminal, a slow upload shows bytes against the total, a rate
    and an ETA; under compression the bytes are the plain tar's, so they
    never pass the total."""
    root = make_tree(fixture_dir("tty-upload"), [
        ("f", "Dockerfile", "FROM scratch\nCOPY big /big\n"),
        ("f", "big", rand_bytes(3 << 20, 7) + bytes(3 << 20)),  # gzip halves it
    ])
    slow = Proxy(os.path.join(T, "slow.sock"), SOCK, rate=3 << 20)
    try:
        for comp in ("none", "gzip"):
            rc, out = pty_run([CTXD, "build", "--builder-version", "1", "--progress=tty", f"--compress={comp}",
                               "-t", "e2e-tty-upload", root],
                              base_env(TERM="xterm", DOCKER_HOST="unix://" + slow.path))
            expect(rc == 0, f"{comp}: exit {rc}: {short(out)}")
            frames = re.findall(r"(\d+(?:\.\d+)?)(k?B|MB)/6\.29\d*MB +(\d+(?:\.\d+)?[kMG]?B)/s +ETA \d+m\d\ds", out)
            expect(len(frames) >= 3, f"{comp}: fewer than 3 progress frames with bytes/total, rate and ETA: {short(out, 1500)}")
            scale = {"B": 1, "kB": 1e3, "MB": 1e6}
            done = [float(v) * scale[u] for v, u, _ in frames]
            expect(done == sorted(done), f"{comp}: the byte count went backwards: {done}")
            expect(done[-1] <= 6.3e6, f"{comp}: past the total: {done[-1]}")
            # counting wire bytes under gzip would end near half the total
            expect(done[-1] >= 0.6 * 6.29e6, f"{comp}: the last frame shows {done[-1]:.0f} of 6.29e6 bytes")
            expect(re.search(r"Sending build context to Docker daemon  6\.29\d*MB", out),
                   f"{comp}: no final line with the size: {short(out, 1500)}")
    finally:
        slow.close()


# --------------------------------------------------------------- SIGINT

def daemon_tmp():
    p = os.path.join(T, "root", "tmp")
    try:
        return set(os.listdir(p))
    except OSError:
        return set()


def sigint_test(builder):
    root = make_tree(fixture_dir(f"sigint-{builder}"), [
        ("f", "Dockerfile", "FROM scratch\nCOPY big /big\n"),
        ("sparse", "big", 2 << 30),
    ])
    before_tree = sorted(os.listdir(root))
    tmp = os.path.join(T, f"tmp-sigint-{builder}")
    os.makedirs(tmp)
    images_before = set(docker("images", "-aq", "--no-trunc").split())
    dtmp_before = daemon_tmp()
    env = base_env(TMPDIR=tmp)
    errf = open(os.path.join(T, f"sigint-{builder}.err"), "w+b")
    tag = f"e2e-sigint-bk{builder}"
    p = subprocess.Popen([CTXD, "build", "--builder-version", str(builder), "--progress=plain", "-t", tag, root],
                         env=env, stdout=subprocess.DEVNULL, stderr=errf, stdin=subprocess.DEVNULL)
    try:
        started = wait_for(lambda: p.poll() is not None or b"sending" in open(errf.name, "rb").read()
                           or bool(daemon_tmp() - dtmp_before), 30, 0.02)
        expect(started and p.poll() is None, f"ctxd ended before the upload (exit {p.poll()}): {open(errf.name, 'rb').read()[-500:]!r}")
        time.sleep(1.0)  # well into the 2 GiB upload (tens of seconds on vfs)
        expect(p.poll() is None, f"ctxd ended within 1 s of starting the 2 GiB upload (exit {p.returncode}): "
                                 f"{short(open(errf.name, 'rb').read().decode('utf-8', 'replace'))}")
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
        dt = time.time() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = open(errf.name, "rb").read().decode("utf-8", "replace")
    expect(rc == 130, f"exit {rc}, want 130 (after {dt:.1f}s): {short(err)}")
    expect(dt < 15, f"took {dt:.1f}s to stop after SIGINT")
    ctxd_error(err)
    expect(os.listdir(tmp) == [], f"temp files left in TMPDIR: {os.listdir(tmp)}")
    expect(sorted(os.listdir(root)) == before_tree, f"files left in the context: {sorted(os.listdir(root))}")
    # the daemon gave up the build: no image, and its upload temp dirs go away
    settled = wait_for(lambda: not (daemon_tmp() - dtmp_before), 30, 0.5)
    time.sleep(1)
    images_after = set(docker("images", "-aq", "--no-trunc").split())
    expect(not image_exists(tag), f"{tag} exists after SIGINT")
    expect(images_after <= images_before, f"new images after SIGINT: {images_after - images_before}")
    expect(settled, f"daemon temp entries still there 30 s after SIGINT: {daemon_tmp() - dtmp_before}")
    return f"stopped {dt:.2f}s after SIGINT"


param_test("sigint-big-upload-bk1", sigint_test, 1)
param_test("sigint-big-upload-bk2", sigint_test, 2)


# ----------------------------------------------------------------- main

def skip_suite(suite, why):
    """The suite cannot run here: meson's skip status 77, or, with
    CTXD_REQUIRE_E2E=1 (CI), one failure."""
    print(f"{suite}: skipped: {why}")
    if os.environ.get("CTXD_REQUIRE_E2E") == "1":
        print(f"{suite}: 0 passed, 1 failed")
        return 1
    return 77


def find_docker():
    """The reference docker CLI 28.x, or None."""
    for cand in [shutil.which("docker"), "/usr/local/bin/docker"]:
        if cand:
            v = subprocess.run([cand, "--version"], capture_output=True, text=True).stdout
            if v.startswith("Docker version 28."):
                return cand
    return None


def make_suite_dir(prefix, *subdirs):
    """T, the suite's temp dir, with tmp/, config/ and subdirs; SIGTERM
    (meson's timeout) becomes SystemExit so that cleanup() still runs."""
    global T
    T = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(T, 0o755)
    for sub in ("tmp", "config") + subdirs:
        os.makedirs(os.path.join(T, sub))

    def on_term(sig, frame):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, on_term)


def main():
    global CTXD, DOCKER
    ap = ct.arguments()
    ap.add_argument("-k", action="append", default=[], help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (daemon stopped)")
    args = ap.parse_args()
    CTXD = args.ctxd

    if os.geteuid() != 0:
        return skip_suite("e2e", "needs root to run a private dockerd")
    if not shutil.which("dockerd"):
        return skip_suite("e2e", "no dockerd (apt-get install docker.io)")
    DOCKER = find_docker()
    if not DOCKER:
        return skip_suite("e2e", "the reference docker CLI 28.x is not installed")
    if not os.path.exists(BUSYBOX):
        return skip_suite("e2e", "no static busybox (apt-get install busybox-static)")
    if not shutil.which("openssl"):
        return skip_suite("e2e", "no openssl")

    make_suite_dir("ctxd-e2e-")
    t_start = time.time()
    tally = Tally()
    try:
        why = start_daemon()
        if why:
            print(why)
            return skip_suite("e2e", "dockerd could not be started")
        print(f"# dockerd up in {time.time() - t_start:.1f}s; {DOCKER} as the reference; temp dir {T}")
        try:
            setup_base_image()
        except Exception as e:  # noqa: BLE001
            print(f"FAIL setup: busybox base image: {e}")
            print("e2e: 0 passed, 1 failed")
            return 1
        for name, fn in TESTS:
            if not args.k or any(k in name for k in args.k):
                tally.run(name, fn, timed=True)
    finally:
        if PROXY:
            PROXY.close()
        cleanup(args.keep)
    print(f"# suite took {time.time() - t_start:.0f}s")
    return tally.summary("e2e", skips_apart=True)


if __name__ == "__main__":
    sys.exit(main())
