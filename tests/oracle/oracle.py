#!/usr/bin/env python3
"""oracle.py - run the docker CLI (28.2.2, classic builder) against a private
fake daemon (docker_sink.py) and compare the build contexts it sends with
what ctxd writes.  Python 3.11 standard library only.

Pieces:
  check_docker()            refuse to run unless `docker --version` is 28.2.2
  Sink                      a private docker_sink.py on a unix socket under
                            /tmp (start/stop by pid; saves every context tar)
  run_docker(sink, ...)     one `DOCKER_BUILDKIT=0 docker build` -> DockerResult
                            (the captured tar path, or docker's error + rc)
  run_ctxd_pack / run_ctxd_ls
                            the ctxd side of the contract
  read_tar(path)            -> TarData: normalised entries (+ trailer facts)
  normalise_rewrite(...)    hide the random `.dockerfile.<hex>` name/mtime
                            docker adds for a Dockerfile outside the context
  compare_entries(a, b)     -> list of human-readable differences
"""

import dataclasses
import difflib
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

REQUIRED_DOCKER_VERSION = "28.2.2"
HERE = os.path.dirname(os.path.abspath(__file__))
SINK_SCRIPT = os.environ.get("CTXD_SINK_SCRIPT", "/work/shared/bench/docker_sink.py")
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
DEPRECATION_BANNER = (
    "DEPRECATED: The legacy builder is deprecated",
    "BuildKit is currently disabled",
    "environment-variable.",
)
RANDOM_DF_RE = re.compile(r"^\.dockerfile\.([0-9a-f]{20})$")
RANDOM_PLACEHOLDER = "R" * 20


class OracleError(Exception):
    pass


# --------------------------------------------------------------------------
# docker CLI
# --------------------------------------------------------------------------

def docker_path():
    p = shutil.which("docker")
    if not p:
        raise OracleError("docker not found on PATH")
    return p


def check_docker():
    """Return the docker binary path if `docker --version` says 28.2.2."""
    exe = docker_path()
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OracleError(f"cannot run {exe} --version: {e}")
    m = re.search(r"Docker version ([0-9][^ ,]*)", out)
    if not m or m.group(1) != REQUIRED_DOCKER_VERSION:
        raise OracleError(f"{exe} --version says {out.strip()!r}; the oracle must be docker CLI "
                          f"{REQUIRED_DOCKER_VERSION} (put /usr/local/bin first on PATH; never /usr/bin/docker)")
    return exe


def docker_error_text(stderr):
    """docker's own error lines, without the legacy-builder banner."""
    lines = []
    for ln in stderr.splitlines():
        s = ln.strip()
        if not s or any(s.startswith(b) for b in DEPRECATION_BANNER):
            continue
        lines.append(s)
    return "\n".join(lines)


def make_private_tmp(prefix, mode=0o755):
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, mode)
    return d


class Sink:
    """A private docker_sink.py.  Use as a context manager or start()/stop().

    All docker runs through one Sink are serialised by self.lock, so that the
    n-th line of the sink's log belongs to the n-th build that reached it."""

    def __init__(self, keep=False):
        self.keep = keep
        self.dir = None
        self.proc = None
        self.lock = threading.Lock()

    def start(self, timeout=15):
        self.dir = make_private_tmp("ctxd-oracle-sink-")
        self.sock = os.path.join(self.dir, "sink.sock")
        self.save_dir = os.path.join(self.dir, "saved")
        self.log = os.path.join(self.dir, "sink.jsonl")
        self.config = os.path.join(self.dir, "docker-config")   # private DOCKER_CONFIG
        self.home = os.path.join(self.dir, "home")
        for d in (self.save_dir, self.config, self.home):
            os.mkdir(d)
            os.chmod(d, 0o755)
        # the unprivileged user (uid 65534) must be able to use the config and home
        if os.geteuid() == 0:
            os.chown(self.config, NOBODY, NOBODY)
            os.chown(self.home, NOBODY, NOBODY)
        open(self.log, "w").close()
        self.stderr = open(os.path.join(self.dir, "sink.stderr"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, SINK_SCRIPT, "--socket", self.sock, "--save-dir", self.save_dir, "--log", self.log],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        t0 = time.monotonic()
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise OracleError(f"sink exited with {self.proc.returncode}; see {self.dir}/sink.stderr")
            if time.monotonic() - t0 > timeout:
                self.stop()
                raise OracleError("sink did not create its socket")
            time.sleep(0.02)
        os.chmod(self.sock, 0o666)
        self.nbuilds = 0
        return self

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            self.proc = None
            self.stderr.close()
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def env(self):
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": self.home,
            "DOCKER_CONFIG": self.config,
            "DOCKER_BUILDKIT": "0",
            "DOCKER_HOST": "unix://" + self.sock,
            "LANG": "C.UTF-8",
        }

    def records(self):
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(ln) for ln in f if ln.strip()]


@dataclasses.dataclass
class DockerResult:
    rc: int
    stdout: str
    stderr: str
    error: str                 # docker's error text (stderr minus banner)
    tar: str | None            # captured context tar, if the build reached the sink
    record: dict | None        # the sink's log record for this build
    cmd: list
    tar_write_error: bool = False   # docker's tar writer broke (truncated/aborted tar)
    skipped_paths: list = dataclasses.field(default_factory=list)   # "Can't add file" log lines
    walk_error: bool = False        # docker logged "Error matching": the walk stopped early, the
                                    # context was cut short, yet docker exits 0 (see README)

    @property
    def last_error(self):
        """The final line of docker's error text (the one that explains the exit)."""
        lines = self.error.splitlines()
        return lines[-1] if lines else ""

    @property
    def ok(self):
        """The build context was sent completely (a real daemon would accept it)."""
        return self.rc == 0 and self.tar is not None and not self.tar_write_error

    @property
    def rewritten(self):
        """Dockerfile outside the context (or stdin): stream rewritten (spec 2.5)."""
        return bool(self.record and RANDOM_DF_RE.match(self.record.get("dockerfile", "")))


def run_docker(sink, context, dockerfile=None, cwd=None, as_nobody=False, timeout=120, docker=None):
    """Run `docker build [-f DOCKERFILE] -t x CONTEXT` in cwd against the sink."""
    docker = docker or docker_path()
    cmd = [docker, "build"]
    if dockerfile is not None:
        cmd += ["-f", dockerfile]
    cmd += ["-t", "x", context]
    full = (AS_NOBODY + cmd) if as_nobody else cmd
    with sink.lock:
        n0 = len(sink.records())
        p = subprocess.run(full, cwd=cwd, env=sink.env(), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        recs = sink.records()
    stderr = p.stderr.decode("utf-8", "surrogateescape")
    stdout = p.stdout.decode("utf-8", "surrogateescape")
    new = recs[n0:]
    if len(new) > 1:
        raise OracleError(f"sink got {len(new)} builds for one docker run")
    rec = new[0] if new else None
    res = DockerResult(rc=p.returncode, stdout=stdout, stderr=stderr, error=docker_error_text(stderr),
                       tar=rec.get("tar_file") if rec else None, record=rec, cmd=full)
    # "Can't add file X to tar: ..." is logged for every path the tar writer could
    # not add.  A socket, or an lstat failure, happens before the header is written:
    # the path is skipped and the tar stays valid (docker has succeeded, minus that
    # path).  An open/read failure after the header, or a broken pipe, leaves a
    # truncated or aborted stream: a real daemon rejects it.
    res.skipped_paths = [ln for ln in stderr.splitlines() if "Can't add file" in ln]
    res.tar_write_error = any(
        ("sockets not supported" not in ln and ": lstat " not in ln) for ln in res.skipped_paths) or any(
        m in stderr for m in ("missed writing", "write too long", "closed pipe", "Can't close tar writer"))
    res.walk_error = 'msg="Error matching ' in stderr
    return res


# --------------------------------------------------------------------------
# ctxd
# --------------------------------------------------------------------------

@dataclasses.dataclass
class CtxdResult:
    rc: int
    stdout: str
    stderr: str
    out: str | None            # OUT.tar if it exists after the run
    cmd: list
    timed_out: bool = False

    @property
    def error(self):
        return self.stderr.strip()

    def contract_problems(self):
        """Violations of the error contract (only meaningful when rc != 0)."""
        probs = []
        if self.rc != 0:
            lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
            # warnings (a socket skipped, as docker skips it) may come first
            lines = [l for l in lines if not l.startswith("ctxd: warning: ")]
            if len(lines) != 1 or not lines[0].startswith("ctxd: "):
                probs.append(f"on error stderr must be one line 'ctxd: <message>', got {self.stderr!r}")
            if self.out is not None and os.path.lexists(self.out):
                probs.append(f"on error ctxd left {self.out}")
        return probs


def run_ctxd_pack(ctxd, context, out, dockerfile=None, cwd=None, as_nobody=False, timeout=120):
    cmd = [ctxd, "pack", "--exact"]
    if dockerfile is not None:
        cmd += ["-f", dockerfile]
    cmd += ["-o", out, context]
    return _run_ctxd(cmd, cwd, as_nobody, timeout, out)


def run_ctxd_ls(ctxd, context, dockerfile=None, cwd=None, as_nobody=False, timeout=120):
    cmd = [ctxd, "ls", "--exact"]
    if dockerfile is not None:
        cmd += ["-f", dockerfile]
    cmd += [context]
    return _run_ctxd(cmd, cwd, as_nobody, timeout, None)


def _run_ctxd(cmd, cwd, as_nobody, timeout, out):
    full = (AS_NOBODY + cmd) if as_nobody else cmd
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    env.update({k: v for k, v in os.environ.items() if k.startswith("CTXD_")})   # e.g. fake_ctxd.py knobs
    try:
        p = subprocess.run(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return CtxdResult(rc=-1, stdout="", stderr=f"timeout after {timeout}s", out=out, cmd=full, timed_out=True)
    return CtxdResult(rc=p.returncode, stdout=p.stdout.decode("utf-8", "surrogateescape"),
                      stderr=p.stderr.decode("utf-8", "surrogateescape"),
                      out=out if (out and os.path.lexists(out)) else None, cmd=full)


# --------------------------------------------------------------------------
# tar reading
# --------------------------------------------------------------------------

TYPE_NAMES = {"0": "file", "\0": "file", "7": "contig", "1": "hardlink", "2": "symlink",
              "3": "char", "4": "block", "5": "dir", "6": "fifo"}


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    type: str
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    size: int
    mtime: object              # int seconds (or the PAX string if fractional); None = not compared
    linkname: str
    devmajor: int
    devminor: int
    sha256: str | None         # content hash for entries with data
    pax: tuple = ()            # PAX records of this entry, sorted (key, value)
    magic: str = ""            # "ustar\0" + version, shown as e.g. "ustar/00"

    def short(self):
        extra = f" -> {self.linkname}" if self.linkname else ""
        return f"{self.type} {self.mode:04o} {self.size} {self.name}{extra}"


# What a tar reader (and dockerd) gets from each entry. Which header record
# carries a value (USTAR field, USTAR prefix split or PAX record) is layout,
# not content: ctxd writes through libarchive, whose choices differ from Go's
# (it puts mtimes from 2^31 on in PAX, and keeps long names in the USTAR
# prefix when a PAX header is written anyway). CTXD_ORACLE_STRICT_LAYOUT=1
# compares the layout too: the PAX records, the magic and the archive end.
STRICT_LAYOUT = os.environ.get("CTXD_ORACLE_STRICT_LAYOUT") == "1"
COMPARED_FIELDS = ("type", "mode", "uid", "gid", "uname", "gname", "size", "mtime", "linkname",
                   "devmajor", "devminor", "sha256") + (("pax", "magic") if STRICT_LAYOUT else ())


@dataclasses.dataclass
class TarData:
    entries: list
    zero_blocks: int           # zero blocks after the last entry
    trailing_bytes: int        # bytes after the last entry's data (incl. zero blocks/padding)
    unpadded_end: bool         # last entry's data was not padded to 512 (spec 2.5 stream)
    total_bytes: int
    problems: list             # format problems (bad checksum, truncation, ...)
    contents: dict             # raw content of top-level .dockerignore / .dockerfile.* (for normalising)

    def names(self):
        return [e.name for e in self.entries]


def _cstr(b):
    i = b.find(b"\0")
    return (b if i < 0 else b[:i]).decode("utf-8", "surrogateescape")


def _num(b):
    if b and b[0] & 0x80:
        v = int.from_bytes(b[1:], "big")
        if b[0] & 0x40:
            v -= 1 << (8 * len(b) - 1)
        return v
    s = b.replace(b"\0", b" ").strip()
    return int(s, 8) if s else 0


def _pax_records(data):
    out, i = [], 0
    while i < len(data):
        sp = data.find(b" ", i)
        if sp < 0:
            raise ValueError("bad PAX record")
        length = int(data[i:sp])
        rec = data[sp + 1:i + length]
        if not rec.endswith(b"\n"):
            raise ValueError("bad PAX record")
        k, _, v = rec[:-1].partition(b"=")
        out.append((k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")))
        i += length
    return out


def read_tar(path_or_bytes):
    """Parse a tar (ustar/PAX/GNU) into normalised entries.  Tolerates the
    stream docker sends for an outside Dockerfile (no end blocks, last data
    unpadded).  Never raises on bad input: problems are listed."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        data = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            data = f.read()
    n = len(data)
    pos = 0
    entries, problems, contents = [], [], {}
    pax, gpax, longname, longlink = {}, {}, None, None
    pax_list = []
    zero_blocks = 0
    trailing_start = None
    unpadded_end = False
    while pos < n:
        hdr = data[pos:pos + 512]
        if len(hdr) < 512:
            problems.append(f"truncated header at offset {pos}")
            break
        if hdr == bytes(512):
            if trailing_start is None:
                trailing_start = pos
            zero_blocks += 1
            pos += 512
            continue
        if trailing_start is not None:
            problems.append(f"data after zero block at offset {pos}")
            trailing_start = None
            zero_blocks = 0
        chk = _num(hdr[148:156])
        calc = sum(hdr[:148]) + 8 * 32 + sum(hdr[156:])
        if chk != calc:
            problems.append(f"bad header checksum at offset {pos}")
        typ = chr(hdr[156]) if hdr[156] else "\0"
        size = _num(hdr[124:136])
        magic = hdr[257:265]
        name = _cstr(hdr[0:100])
        if magic[:6] == b"ustar\0":
            prefix = _cstr(hdr[345:500])
            if prefix:
                name = prefix + "/" + name
        body_start = pos + 512
        if typ in "xgLK":
            body = data[body_start:body_start + size]
            if len(body) < size:
                problems.append(f"truncated {typ!r} header data at offset {pos}")
                break
            pos = body_start + size + (-size) % 512
            if typ in "xg":
                try:
                    recs = _pax_records(body)
                except ValueError:
                    problems.append(f"bad PAX data at offset {body_start}")
                    recs = []
                if typ == "x":
                    pax.update(recs)
                    pax_list.extend(recs)
                else:
                    gpax.update(recs)
                    problems.append("global PAX header present")
            elif typ == "L":
                longname = body.rstrip(b"\0").decode("utf-8", "surrogateescape")
                problems.append("GNU long name header present")
            else:
                longlink = body.rstrip(b"\0").decode("utf-8", "surrogateescape")
                problems.append("GNU long link header present")
            continue
        eff = dict(gpax)
        eff.update(pax)
        if longname is not None:
            name = longname
        if "path" in eff:
            name = eff["path"]
        linkname = _cstr(hdr[157:257])
        if longlink is not None:
            linkname = longlink
        if "linkpath" in eff:
            linkname = eff["linkpath"]
        if "size" in eff:
            size = int(eff["size"])
        mtime = _num(hdr[136:148])
        if "mtime" in eff:
            v = eff["mtime"]
            mtime = int(v) if re.fullmatch(r"-?[0-9]+", v) else v
        uid, gid = _num(hdr[108:116]), _num(hdr[116:124])
        if "uid" in eff:
            uid = int(eff["uid"])
        if "gid" in eff:
            gid = int(eff["gid"])
        uname, gname = _cstr(hdr[265:297]), _cstr(hdr[297:329])
        uname = eff.get("uname", uname)
        gname = eff.get("gname", gname)
        kind = TYPE_NAMES.get(typ, f"type{typ!r}")
        has_data = kind in ("file", "contig") or kind.startswith("type")
        if kind in ("hardlink", "symlink", "dir", "fifo", "char", "block") and size:
            # Go writes size 0 for these; any data still occupies blocks
            has_data = True
        body = b""
        if has_data and size:
            body = data[body_start:body_start + size]
            if len(body) < size:
                problems.append(f"truncated data of {name!r} ({len(body)} of {size} bytes)")
        end_data = body_start + (size if has_data else 0)
        padded = end_data + (-(end_data - body_start)) % 512
        if padded > n:
            if end_data <= n:
                unpadded_end = True
            pos = n
        else:
            pos = padded
        magic_s = magic[:5].decode("latin-1") + "/" + magic[6:8].decode("latin-1").replace("\0", "\\0") \
            if magic[:5] == b"ustar" else repr(magic)
        e = Entry(name=name, type=kind, mode=_num(hdr[100:108]), uid=uid, gid=gid, uname=uname,
                  gname=gname, size=size, mtime=mtime, linkname=linkname,
                  devmajor=_num(hdr[329:337]) if kind in ("char", "block") else 0,
                  devminor=_num(hdr[337:345]) if kind in ("char", "block") else 0,
                  sha256=hashlib.sha256(body).hexdigest() if has_data else None,
                  pax=tuple(sorted(pax_list)), magic=magic_s)
        entries.append(e)
        if name == ".dockerignore" or RANDOM_DF_RE.match(name):
            contents[name] = body
        pax, pax_list, longname, longlink = {}, [], None, None
    trailing = (n - trailing_start) if trailing_start is not None else 0
    return TarData(entries=entries, zero_blocks=zero_blocks, trailing_bytes=trailing,
                   unpadded_end=unpadded_end, total_bytes=n, problems=problems, contents=contents)


def read_tar_entries(path):
    return read_tar(path).entries


def normalise_rewrite(td):
    """Normalise what docker randomises when the Dockerfile is outside the
    context (spec 2.5): the `.dockerfile.<20 hex>` name becomes
    `.dockerfile.RRRR...` (same length, so sizes stay comparable) everywhere
    (entry name, .dockerignore content and hash), its mtime and that of a
    synthesised `.dockerignore` are not compared, and the entries appended at
    the end (random order) are put in name order.  Returns a new entry list;
    the input is unchanged.  A tar without such an entry is returned as is."""
    ents = list(td.entries)
    hexes = [RANDOM_DF_RE.match(e.name).group(1) for e in ents if RANDOM_DF_RE.match(e.name)]
    if len(hexes) != 1:
        return ents
    hx = hexes[0]
    old_name, new_name = ".dockerfile." + hx, ".dockerfile." + RANDOM_PLACEHOLDER
    out = []
    for e in ents:
        if e.name == old_name:
            e = dataclasses.replace(e, name=new_name, mtime=None)
        elif e.name == ".dockerignore":
            body = td.contents.get(".dockerignore", b"").replace(old_name.encode(), new_name.encode())
            synth = body == f".dockerignore\n{new_name}\n".encode() and e.mode == 0o600
            e = dataclasses.replace(e, sha256=hashlib.sha256(body).hexdigest(),
                                    mtime=None if synth else e.mtime)
        out.append(e)
    # the appended entries (random order) form the tail of the stream
    k = 0
    while k < len(out) and k < 2 and out[-1 - k].name in (new_name, ".dockerignore"):
        k += 1
    if k == 2:
        out[-2:] = sorted(out[-2:], key=lambda e: e.name)
    return out


def entries_for_compare(td):
    return normalise_rewrite(td)


# --------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------

def _fmt(field, v):
    if v is None:
        return "-"
    if field == "mode":
        return f"{v:04o}"
    if field == "sha256":
        return v[:12]
    return repr(v)


def compare_entries(a, b, la="docker", lb="ctxd", limit=40):
    """Describe the differences between two normalised entry lists (in tar
    order).  Returns [] when they are equal."""
    diffs = []
    an, bn = [e.name for e in a], [e.name for e in b]
    if an != bn:
        sa, sb = set(an), set(bn)
        for e in a:
            if e.name not in sb:
                diffs.append(f"only in {la}: {e.short()}")
        for e in b:
            if e.name not in sa:
                diffs.append(f"only in {lb}: {e.short()}")
        if len(an) != len(sa):
            diffs.append(f"{la} has duplicate names")
        if len(bn) != len(sb):
            diffs.append(f"{lb} has duplicate names")
        ca = [x for x in an if x in sb]
        cb = [x for x in bn if x in sa]
        if ca != cb:
            i = next(k for k in range(len(ca)) if ca[k] != cb[k])
            diffs.append(f"order differs at common entry #{i}: {la} has {ca[i]!r} then {ca[i + 1:i + 3]}, "
                         f"{lb} has {cb[i]!r} then {cb[i + 1:i + 3]}")
    bmap = {e.name: e for e in b}
    for ea in a:
        eb = bmap.get(ea.name)
        if eb is None:
            continue
        for f in COMPARED_FIELDS:
            va, vb = getattr(ea, f), getattr(eb, f)
            if f == "mtime" and (va is None or vb is None):
                continue
            if va != vb:
                diffs.append(f"{ea.name}: {f} {la}={_fmt(f, va)} {lb}={_fmt(f, vb)}")
    if len(diffs) > limit:
        diffs = diffs[:limit] + [f"... and {len(diffs) - limit} more differences"]
    return diffs


def compare_tars(ta, tb, la="docker", lb="ctxd", check_trailer=True):
    """Compare two TarData (entries after normalise_rewrite, plus format
    facts: problems, end-of-archive blocks)."""
    diffs = compare_entries(normalise_rewrite(ta), normalise_rewrite(tb), la, lb)
    for p in tb.problems:
        if p not in ta.problems:
            diffs.append(f"{lb} tar problem: {p}")
    for p in ta.problems:
        if p not in tb.problems:
            diffs.append(f"{la} tar problem: {p}")
    if STRICT_LAYOUT and check_trailer and (ta.zero_blocks, ta.trailing_bytes, ta.unpadded_end) != \
            (tb.zero_blocks, tb.trailing_bytes, tb.unpadded_end):
        diffs.append(f"archive end differs: {la} {ta.zero_blocks} zero blocks/{ta.trailing_bytes} trailing bytes"
                     f"{' (unpadded)' if ta.unpadded_end else ''}, {lb} {tb.zero_blocks}/{tb.trailing_bytes}"
                     f"{' (unpadded)' if tb.unpadded_end else ''}")
    return diffs


def ls_names_from_entries(entries):
    """What `ctxd ls --exact` should print for a tar: one name per line."""
    return [e.name for e in entries]


def normalise_ls(names):
    return [(".dockerfile." + RANDOM_PLACEHOLDER) if RANDOM_DF_RE.match(n) else n for n in names]


def compare_ls(expected_names, printed, la="docker", lb="ctxd ls"):
    """Compare docker's tar names with `ctxd ls` output (random name and the
    order of the two appended entries normalised)."""
    a, b = normalise_ls(expected_names), normalise_ls(printed)
    tail = {".dockerfile." + RANDOM_PLACEHOLDER, ".dockerignore"}
    if any(n.startswith(".dockerfile.") for n in a):
        for lst in (a, b):
            if len(lst) >= 2 and lst[-1] in tail and lst[-2] in tail:
                lst[-2:] = sorted(lst[-2:])
    if a == b:
        return []
    out = []
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            out.append(f"ls differs: {la} {a[i1:i2][:4]} vs {lb} {b[j1:j2][:4]}")
    return out[:20]


if __name__ == "__main__":
    # tiny CLI: dump a tar as the harness sees it
    import argparse
    ap = argparse.ArgumentParser(description="dump the normalised entries of tar files, or diff two")
    ap.add_argument("tars", nargs="+")
    a = ap.parse_args()
    tds = [read_tar(t) for t in a.tars]
    if len(tds) == 2:
        d = compare_tars(tds[0], tds[1], "A", "B")
        print("\n".join(d) if d else "equal")
        sys.exit(1 if d else 0)
    for t, td in zip(a.tars, tds):
        print(f"# {t}: {len(td.entries)} entries, {td.zero_blocks} zero blocks, problems={td.problems}")
        for e in td.entries:
            print(f"{e.type}\t{e.mode:04o}\t{e.uid}:{e.gid}\t{e.size}\t{e.mtime}\t{(e.sha256 or '-')[:12]}\t"
                  f"{e.name}{' -> ' + e.linkname if e.linkname else ''}{'  pax=' + repr(e.pax) if e.pax else ''}")
