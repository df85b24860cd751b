#!/usr/bin/env python3
"""compare_tars.py - check that two build-context tars hold the same entries.

    compare_tars.py [--json OUT] DOCKER.tar CTXD.tar

For every entry: name, type, size, content (SHA-256), link target, mode,
mtime, uid and gid must agree.  The header layout (PAX vs USTAR prefix,
uname/gname, padding) may differ: the values a reader gets may not.  The
order of the entries is reported but does not count (the daemon does not
care).  Exit status 0 when the entry sets agree, 1 when they differ, 2 on
a usage or read error.  The JSON file gets entry counts, tar bytes and the
first differences.
"""

import argparse
import hashlib
import json
import os
import sys
import tarfile

TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo", tarfile.CONTTYPE: "file",
}
FIELDS = ("type", "size", "sha256", "linkname", "mode", "mtime", "uid", "gid")


def read_tar(path):
    """name -> {fields}, the names in stream order, and counts."""
    entries, order = {}, []
    counts = {"entries": 0, "files": 0, "dirs": 0, "symlinks": 0, "hardlinks": 0, "other": 0,
              "content_bytes": 0, "duplicate_names": 0}
    with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tf:
        for m in tf:
            kind = TYPES.get(m.type, "other:" + m.type.decode("latin-1"))
            name = m.name.rstrip("/") if kind == "dir" else m.name
            rec = {"type": kind, "size": m.size if kind == "file" else 0, "sha256": "",
                   "linkname": m.linkname, "mode": oct(m.mode & 0o7777), "mtime": m.mtime,
                   "uid": m.uid, "gid": m.gid}
            if m.isreg():
                h = hashlib.sha256()
                f = tf.extractfile(m)
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
                rec["sha256"] = h.hexdigest()
                counts["content_bytes"] += m.size
            counts["entries"] += 1
            key = {"file": "files", "dir": "dirs", "symlink": "symlinks", "hardlink": "hardlinks"}.get(kind, "other")
            counts[key] += 1
            if name in entries:
                counts["duplicate_names"] += 1
            entries[name] = rec
            order.append(name)
    counts["tar_bytes"] = os.path.getsize(path)
    return entries, order, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("docker_tar")
    ap.add_argument("ctxd_tar")
    ap.add_argument("--json", help="write the verdict and counts here")
    ap.add_argument("--max-diffs", type=int, default=20)
    ap.add_argument("--entries0", help="write docker's entry names here, NUL-terminated, in stream order")
    ap.add_argument("--files0", help="write docker's regular-file names here, NUL-terminated")
    a = ap.parse_args()
    try:
        d, d_order, d_counts = read_tar(a.docker_tar)
        c, c_order, c_counts = read_tar(a.ctxd_tar)
    except (OSError, tarfile.TarError) as e:
        print(f"compare_tars: {e}", file=sys.stderr)
        return 2

    if a.entries0:
        with open(a.entries0, "wb") as f:
            f.write(b"".join(os.fsencode(n) + b"\0" for n in d_order))
    if a.files0:
        with open(a.files0, "wb") as f:
            f.write(b"".join(os.fsencode(n) + b"\0" for n in d_order if d[n]["type"] == "file"))

    diffs = []
    only_docker = sorted(set(d) - set(c))
    only_ctxd = sorted(set(c) - set(d))
    for n in only_docker:
        diffs.append(f"only in docker's tar: {n} ({d[n]['type']})")
    for n in only_ctxd:
        diffs.append(f"only in ctxd's tar: {n} ({c[n]['type']})")
    field_diffs = {}
    for n in sorted(set(d) & set(c)):
        for f in FIELDS:
            if d[n][f] != c[n][f]:
                field_diffs[f] = field_diffs.get(f, 0) + 1
                diffs.append(f"{n}: {f} docker={d[n][f]!r} ctxd={c[n][f]!r}")
    if d_counts["duplicate_names"] != c_counts["duplicate_names"]:
        diffs.append(f"duplicate names: docker {d_counts['duplicate_names']}, ctxd {c_counts['duplicate_names']}")
    same = not diffs
    same_order = d_order == c_order

    out = {
        "same_entries": same, "same_order": same_order,
        "docker": d_counts, "ctxd": c_counts,
        "only_in_docker": len(only_docker), "only_in_ctxd": len(only_ctxd),
        "field_diffs": field_diffs, "first_diffs": diffs[:a.max_diffs],
        "compared_fields": ["name", *FIELDS],
    }
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    print(f"docker: {d_counts['entries']} entries ({d_counts['files']} files, {d_counts['dirs']} dirs, "
          f"{d_counts['symlinks']} symlinks, {d_counts['hardlinks']} hardlinks), "
          f"{d_counts['content_bytes']} content bytes, tar {d_counts['tar_bytes']} bytes")
    print(f"ctxd:   {c_counts['entries']} entries ({c_counts['files']} files, {c_counts['dirs']} dirs, "
          f"{c_counts['symlinks']} symlinks, {c_counts['hardlinks']} hardlinks), "
          f"{c_counts['content_bytes']} content bytes, tar {c_counts['tar_bytes']} bytes")
    if same:
        print(f"same entries ({', '.join(out['compared_fields'])} all equal); "
              f"same order: {'yes' if same_order else 'NO (does not matter to the daemon)'}")
        return 0
    print(f"DIFFERENT: {len(diffs)} difference(s); first ones:", file=sys.stderr)
    for line in diffs[:a.max_diffs]:
        print("  " + line, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
