#!/usr/bin/env python3
"""fake_ctxd.py - a stand-in for the ctxd binary, built from the docker CLI
itself, to test the harness (diffcheck.py / verify_vectors.py) before ctxd
exists or to prove that it detects differences.

    fake_ctxd.py pack --exact [-f DOCKERFILE] -o OUT.tar CONTEXT
    fake_ctxd.py ls --exact [-f DOCKERFILE] CONTEXT

It runs docker against its own private sink and copies the captured tar.
CTXD_FAKE_MUTATE=mode|order|drop|mtime|fail|succeed makes it lie on purpose
(flip a mode bit of the first file, swap two entries, drop the last entry,
shift the first mtime, always fail, never fail), so that each kind of
difference can be seen being caught.  Slow (one sink per call): for
self-tests only.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402


def die(msg):
    print(f"ctxd: {msg}", file=sys.stderr)
    sys.exit(1)


def set_field(hdr, off, width, value):
    hdr[off:off + width] = (b"%0*o\0" % (width - 1, value))
    hdr[148:156] = b" " * 8
    hdr[148:156] = b"%06o\0 " % sum(hdr)


def mutate(data, how):
    """Mutate the first plain ustar entry (no PAX) of a tar image."""
    b = bytearray(data)
    pos = 0
    starts = []
    while pos + 512 <= len(b) and b[pos:pos + 512] != bytes(512):
        size = int(b[pos + 124:pos + 136].strip(b"\0 ") or b"0", 8)
        typ = chr(b[pos + 156])
        nxt = pos + 512 + size + (-size) % 512
        starts.append((pos, nxt, typ))
        pos = nxt
    plain = [(s, e) for s, e, t in starts if t in "0\0"]
    if how == "mode" and plain:
        s = plain[0][0]
        hdr = b[s:s + 512]
        mode = int(hdr[100:108].strip(b"\0 "), 8) ^ 0o001
        set_field(hdr, 100, 8, mode)
        b[s:s + 512] = hdr
    elif how == "mtime" and plain:
        s = plain[0][0]
        hdr = b[s:s + 512]
        set_field(hdr, 136, 12, int(hdr[136:148].strip(b"\0 "), 8) + 1)
        b[s:s + 512] = hdr
    elif how == "order" and len(plain) >= 2:
        (s1, e1), (s2, e2) = plain[0], plain[1]
        if e1 == s2:
            b[s1:e2] = b[s2:e2] + b[s1:e1]
    elif how == "drop" and starts:
        s, e, _ = starts[-1]
        del b[s:e]
    return bytes(b)


def main(argv):
    if len(argv) < 2 or argv[1] not in ("pack", "ls"):
        die("usage: fake_ctxd.py pack|ls --exact [-f DOCKERFILE] [-o OUT] CONTEXT")
    cmd, args = argv[1], argv[2:]
    dockerfile = out = ctx = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--exact":
            pass
        elif a == "-f":
            i += 1
            dockerfile = args[i]
        elif a == "-o":
            i += 1
            out = args[i]
        else:
            ctx = a
        i += 1
    how = os.environ.get("CTXD_FAKE_MUTATE", "")
    if how == "fail":
        die("failing on purpose")
    with oracle.Sink() as sink:
        r = oracle.run_docker(sink, ctx, dockerfile)
        if not r.ok and how != "succeed":
            die((r.error.splitlines() or ["docker failed"])[-1])
        data = open(r.tar, "rb").read() if r.tar else b"\0" * 1024
    data = mutate(data, how)
    if cmd == "pack":
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    else:
        for e in oracle.read_tar(data).entries:
            print(e.name)


if __name__ == "__main__":
    main(sys.argv)
