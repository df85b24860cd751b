#!/usr/bin/env python3
"""`ctxd build --dedup` on a real, private dockerd: spec section 5 measured
again with ctxd's own link entries, on both builders.

    test_dedup.py --ctxd build/ctxd [-k SUBSTRING] [--keep]

Runs on test_build.py's harness (private dockerd, busybox base image, the
same skip rules and "e2e: N passed, N failed" line). For each builder the
same tree is built with and without --dedup and looked at with busybox
stat in a container: `COPY . /x/` makes one inode of the identical files
only with --dedup; explicit-name COPYs never link; a same-content file with
another mode is never linked; the link entry's metadata (the first copy's
mtime) is what every name shows, in /x/ and in explicit COPYs alike; and
the image's layers differ.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_build as tb  # noqa: E402

SAME = "same content\n"
LATER = tb.FIXED_MTIME + 86400
STATS = ["/x/a.txt", "/x/b.txt", "/x/sub/c.txt", "/x/e.sh", "/x/d.txt",
         "/y/a.txt", "/y/b.txt", "/z/c.txt", "/z/a.txt"]


def make_tree():
    d = tb.fixture_dir("dedup")
    tb.make_tree(d, [
        ("f", "Dockerfile", "FROM busybox\nCOPY . /x/\nCOPY a.txt b.txt /y/\nCOPY sub/c.txt a.txt /z/\n"),
        ("f", "a.txt", SAME),
        ("f", "b.txt", SAME),
        ("f", "sub/c.txt", SAME),
        ("f", "e.sh", SAME, 0o755),        # same bytes, other mode: never linked
        ("f", "d.txt", "other content\n"),
    ])
    # b.txt is younger: with --dedup it gets a.txt's mtime in the image
    os.utime(os.path.join(d, "b.txt"), (LATER, LATER))
    return d


def build(d, builder, dedup):
    tag = f"e2e-dedup-bk{builder}-{'on' if dedup else 'off'}"
    args = ["build", "--builder-version", str(builder), "--no-cache", "--network", "none",
            "-t", tag] + (["--dedup"] if dedup else []) + ["."]
    rc, _, err = tb.ctxd(*args, cwd=d)
    tb.expect(rc == 0, f"ctxd {' '.join(args)} exited {rc}: {tb.short(err, 1500)}")
    if dedup:
        tb.expect("--dedup: 2 identical files (26B) sent as hard links" in err, tb.short(err))
    out = tb.docker("run", "--rm", "--network", "none", tag,
                    "stat", "-c", "%n %i %h %a %Y", *STATS)
    st = {}
    for line in out.splitlines():
        name, ino, nlink, mode, mtime = line.split()
        st[name] = (int(ino), int(nlink), mode, int(mtime))
    tb.expect(sorted(st) == sorted(STATS), out)
    layers = tb.docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", tag).strip()
    return st, layers


def distinct(st, names):
    inodes = [st[n][0] for n in names]
    return len(set(inodes)) == len(inodes) and all(st[n][1] == 1 for n in names)


def dedup_test(builder):
    d = make_tree()
    on, on_layers = build(d, builder, True)
    off, off_layers = build(d, builder, False)
    x = ["/x/a.txt", "/x/b.txt", "/x/sub/c.txt"]
    tb.expect(len({on[n][0] for n in x}) == 1 and all(on[n][1] == 3 for n in x),
              f"--dedup: COPY . should give one inode, link count 3: {on}")
    tb.expect(all(on[n][3] == tb.FIXED_MTIME for n in x),
              f"--dedup: every name should have the first copy's mtime: {on}")
    tb.expect(on["/x/e.sh"][0] != on["/x/a.txt"][0] and on["/x/e.sh"][1] == 1 and
              on["/x/e.sh"][2] == "755", f"--dedup: e.sh (mode 755) must keep its own inode: {on}")
    tb.expect(on["/x/d.txt"][1] == 1, f"--dedup: d.txt has no copy: {on}")
    for names in (["/y/a.txt", "/y/b.txt"], ["/z/c.txt", "/z/a.txt"]):
        tb.expect(distinct(on, names), f"--dedup: explicit-name COPY must not link {names}: {on}")
    tb.expect(distinct(off, x + ["/x/e.sh", "/x/d.txt"]),
              f"without --dedup every file has its own inode: {off}")
    # the context the daemon unpacks has one inode too: even b.txt copied by
    # name shows the first copy's mtime
    tb.expect(on["/y/b.txt"][3] == tb.FIXED_MTIME, f"--dedup: /y/b.txt mtime: {on}")
    tb.expect(off["/x/b.txt"][3] == LATER and off["/y/b.txt"][3] == LATER,
              f"without --dedup b.txt keeps its mtime: {off}")
    tb.expect(on_layers != off_layers, "the COPY . layer should differ with --dedup")
    return None


def main():
    tb.TESTS.clear()
    for b in (1, 2):
        tb.param_test(f"dedup-copy-dot-bk{b}", dedup_test, b)
    return tb.main()


if __name__ == "__main__":
    sys.exit(main())
