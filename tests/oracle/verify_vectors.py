#!/usr/bin/env python3
"""verify_vectors.py - check the .dockerignore vectors against the real
docker CLI 28.2.2 (classic builder, through a private docker_sink.py), and
optionally against ctxd.

    python3 tests/oracle/verify_vectors.py                 # docker only
    python3 tests/oracle/verify_vectors.py --ctxd build/ctxd
    python3 tests/oracle/verify_vectors.py --only 'CX0[0-9]+' --show

Files (UTF-8, one header line, fields separated by TAB, records by LF only;
every other byte, including CR, BOM, VT, FF, U+0085 and U+00A0, is data):
  tests/data/ignore-vectors.tsv  case_id, patterns, path, expected, source
  tests/data/ignore-errors.tsv   case_id, patterns, message
`patterns` are the .dockerignore lines joined by the two characters `\\n`;
the file is written as those lines joined by LF plus a final LF.  `path`
ending in `/` is a directory entry (an empty directory is created).
expected: 1 = not in the tar docker sends, 0 = sent.  `message` is docker's
error text (stderr without the legacy-builder banner).

For each pattern set one or more trees are built (paths that cannot coexist,
e.g. `d` as a file and `d/x`, or a directory row that must stay empty, go to
separate trees), each holding every path of its rows plus `Dockerfile`
(`FROM scratch` / `COPY . /c/`) and the `.dockerignore`.  docker builds it
and each row is checked on the captured tar.  With --ctxd, `ctxd ls --exact
CONTEXT` must give each row the same answer and print exactly docker's tar
names; `ctxd pack --exact` must write the same tar (--no-pack skips it); for
error rows ctxd must fail (one `ctxd: ` line on stderr).
"""

import argparse
import dataclasses
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
DOCKERFILE = b"FROM scratch\nCOPY . /c/\n"
SEP = "\\n"


@dataclasses.dataclass
class Row:
    case_id: str
    patterns: str
    path: str
    expected: int
    source: str
    lineno: int


@dataclasses.dataclass
class ErrRow:
    case_id: str
    patterns: str
    message: str
    lineno: int


def read_tsv(path, ncols):
    with open(path, "rb") as f:
        raw = f.read()
    recs = raw.split(b"\n")
    if recs and recs[-1] == b"":
        recs.pop()
    out = []
    for i, rec in enumerate(recs[1:], start=2):
        fields = rec.decode("utf-8").split("\t")
        if len(fields) != ncols:
            raise SystemExit(f"{path}:{i}: expected {ncols} tab-separated fields, got {len(fields)}")
        out.append((i, fields))
    return out


def load_vectors(path):
    rows, seen = [], set()
    for i, (cid, pats, p, exp, src) in read_tsv(path, 5):
        if exp not in ("0", "1"):
            raise SystemExit(f"{path}:{i}: expected must be 0 or 1")
        if cid in seen:
            raise SystemExit(f"{path}:{i}: duplicate case_id {cid}")
        seen.add(cid)
        rows.append(Row(cid, pats, p, int(exp), src, i))
    return rows


def load_errors(path):
    out, seen = [], set()
    for i, (cid, pats, msg) in read_tsv(path, 3):
        if cid in seen:
            raise SystemExit(f"{path}:{i}: duplicate case_id {cid}")
        seen.add(cid)
        out.append(ErrRow(cid, pats, msg, i))
    return out


def ignore_bytes(patterns):
    return ("\n".join(patterns.split(SEP)) + "\n").encode("utf-8")


# --------------------------------------------------------------- trees ---

class Tree:
    def __init__(self):
        self.nodes = {"Dockerfile": "f", ".dockerignore": "f"}   # rel -> f|d
        self.empty_dirs = set()                                 # dirs that must stay empty
        self.rows = []

    def try_add(self, row):
        is_dir = row.path.endswith("/")
        rel = row.path.rstrip("/")
        parts = rel.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(1, len(parts))]
        for a in ancestors:
            if self.nodes.get(a) == "f" or a in self.empty_dirs:
                return False
        kind = "d" if is_dir else "f"
        have = self.nodes.get(rel)
        if have is not None and have != kind:
            return False
        if kind == "f" and any(n.startswith(rel + "/") for n in self.nodes):
            return False
        if is_dir and any(n.startswith(rel + "/") for n in self.nodes):
            return False
        for a in ancestors:
            self.nodes[a] = "d"
        self.nodes[rel] = kind
        if is_dir:
            self.empty_dirs.add(rel)
        self.rows.append(row)
        return True

    def build(self, root, patterns):
        ctx = os.path.join(root, "ctx")
        os.makedirs(ctx)
        for rel, kind in sorted(self.nodes.items(), key=lambda kv: kv[0].count("/")):
            p = os.path.join(ctx, rel)
            if kind == "d":
                os.makedirs(p, exist_ok=True)
            elif rel == "Dockerfile":
                with open(p, "wb") as f:
                    f.write(DOCKERFILE)
            elif rel == ".dockerignore":
                with open(p, "wb") as f:
                    f.write(ignore_bytes(patterns))
            else:
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(rel.encode("utf-8") + b"\n")
        return ctx


def plan(rows):
    """Group rows by pattern set, then split each group into trees."""
    groups = {}
    for r in rows:
        groups.setdefault(r.patterns, []).append(r)
    trees = []
    for pats, rs in groups.items():
        ts = []
        for r in rs:
            for t in ts:
                if t.try_add(r):
                    break
            else:
                t = Tree()
                if not t.try_add(r):
                    raise SystemExit(f"row {r.case_id}: path {r.path!r} cannot be created")
                ts.append(t)
        trees += [(pats, t) for t in ts]
    return trees


# ---------------------------------------------------------------- main ---

def short(s):
    return " | ".join(ln for ln in s.strip().splitlines() if ln.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ctxd", help="also check this ctxd binary (ctxd ls --exact / pack --exact)")
    ap.add_argument("--vectors", default=os.path.join(DATA, "ignore-vectors.tsv"))
    ap.add_argument("--errors", default=os.path.join(DATA, "ignore-errors.tsv"))
    ap.add_argument("--only", help="regexp on case_id")
    ap.add_argument("--show", action="store_true", help="print docker's answer for every row")
    ap.add_argument("--no-pack", action="store_true", help="with --ctxd: skip the pack comparison")
    ap.add_argument("--keep", action="store_true", help="keep the trees")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args()
    try:
        docker = oracle.check_docker()
    except oracle.OracleError as e:
        print(f"verify_vectors: {e}", file=sys.stderr)
        return 2
    ctxd = os.path.abspath(opts.ctxd) if opts.ctxd else None
    if ctxd and not os.access(ctxd, os.X_OK):
        print(f"verify_vectors: {ctxd} is not executable", file=sys.stderr)
        return 2
    rows = load_vectors(opts.vectors)
    errs = load_errors(opts.errors) if os.path.exists(opts.errors) else []
    if opts.only:
        rx = re.compile(opts.only)
        rows = [r for r in rows if rx.fullmatch(r.case_id) or rx.search(r.case_id)]
        errs = [r for r in errs if rx.fullmatch(r.case_id) or rx.search(r.case_id)]

    base = tempfile.mkdtemp(prefix="ctxd-vectors-", dir="/tmp")
    os.chmod(base, 0o755)
    d_ok = d_bad = c_ok = c_bad = 0
    e_ok = e_bad = ce_ok = ce_bad = 0
    ctxd_tree_problems = 0
    n = 0
    with oracle.Sink() as sink:
        for pats, tree in plan(rows):
            n += 1
            ctx = tree.build(os.path.join(base, f"t{n:04d}"), pats)
            d = oracle.run_docker(sink, ctx, cwd=ctx, docker=docker)
            ids = ",".join(r.case_id for r in tree.rows)
            if not d.ok:
                for r in tree.rows:
                    d_bad += 1
                    print(f"FAIL {r.case_id}: docker failed on {pats!r}: {short(d.error)}")
                continue
            td = oracle.read_tar(d.tar)
            names = set(td.names())
            for r in tree.rows:
                got = 0 if r.path in names else 1
                word = "excluded" if got else "sent"
                if opts.show:
                    print(f"{r.case_id}\t{pats!r}\t{r.path!r}\tdocker: {word}"
                          f"{'' if got == r.expected else '   <-- differs from expected'}")
                if got == r.expected:
                    d_ok += 1
                else:
                    d_bad += 1
                    print(f"FAIL {r.case_id}: docker {word} {r.path!r} with patterns {pats!r}, "
                          f"expected {'excluded' if r.expected else 'sent'}")
            if not ctxd:
                continue
            ls = oracle.run_ctxd_ls(ctxd, ctx, cwd=ctx)
            if ls.rc != 0:
                for r in tree.rows:
                    c_bad += 1
                print(f"FAIL [{ids}] ctxd ls failed on {pats!r}: {short(ls.stderr)}")
                ctxd_tree_problems += 1
                continue
            printed = ls.stdout.split("\n")
            if printed and printed[-1] == "":
                printed.pop()
            pset = set(printed)
            for r in tree.rows:
                got = 0 if r.path in pset else 1
                if got == r.expected:
                    c_ok += 1
                else:
                    c_bad += 1
                    print(f"FAIL {r.case_id}: ctxd ls {'excluded' if got else 'sent'} {r.path!r} with "
                          f"patterns {pats!r}, expected {'excluded' if r.expected else 'sent'}")
            probs = oracle.compare_ls(td.names(), printed, "docker", "ctxd ls")
            if not opts.no_pack:
                out = os.path.join(base, f"t{n:04d}", "ctxd.tar")
                pk = oracle.run_ctxd_pack(ctxd, ctx, out, cwd=ctx)
                if pk.rc != 0 or pk.out is None:
                    probs.append(f"ctxd pack failed: {short(pk.stderr)}")
                else:
                    probs += oracle.compare_tars(td, oracle.read_tar(out))
            if probs:
                ctxd_tree_problems += 1
                print(f"FAIL [{ids}] ctxd output differs from docker's for patterns {pats!r}: "
                      f"{probs[0]}" + (f" (+{len(probs) - 1} more)" if len(probs) > 1 else ""))
                if opts.verbose:
                    for p in probs[1:]:
                        print(f"    {p}")

        for er in errs:
            n += 1
            t = Tree()
            t.nodes.update({"a": "f", "sub": "d", "sub/b": "f", "x.txt": "f"})
            ctx = t.build(os.path.join(base, f"e{n:04d}"), er.patterns)
            d = oracle.run_docker(sink, ctx, cwd=ctx, docker=docker)
            got = d.error.splitlines()[-1] if d.error else ""
            if opts.show:
                print(f"{er.case_id}\t{er.patterns!r}\tdocker rc={d.rc}: {got}")
            if d.rc != 0 and d.tar is None and got == er.message:
                e_ok += 1
            else:
                e_bad += 1
                print(f"FAIL {er.case_id}: patterns {er.patterns!r}: expected docker to fail with "
                      f"{er.message!r}, got rc={d.rc} tar={'yes' if d.tar else 'no'} {short(d.error)!r}")
            if ctxd:
                ls = oracle.run_ctxd_ls(ctxd, ctx, cwd=ctx)
                probs = []
                if ls.rc == 0:
                    probs.append("ctxd ls succeeded")
                else:
                    probs += ls.contract_problems()
                if not opts.no_pack:
                    out = os.path.join(base, f"e{n:04d}", "ctxd.tar")
                    pk = oracle.run_ctxd_pack(ctxd, ctx, out, cwd=ctx)
                    if pk.rc == 0:
                        probs.append("ctxd pack succeeded")
                    else:
                        probs += pk.contract_problems()
                if probs:
                    ce_bad += 1
                    print(f"FAIL {er.case_id}: patterns {er.patterns!r}: docker fails ({er.message}) but "
                          f"{'; '.join(probs)}")
                else:
                    ce_ok += 1
                    if opts.verbose:
                        print(f"ok {er.case_id}: docker: {got!r} | ctxd: {short(ls.stderr)!r}")
    if opts.keep:
        print(f"trees kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    print(f"verify_vectors: docker: {d_ok} rows ok, {d_bad} failed; errors: {e_ok} ok, {e_bad} failed")
    bad = d_bad + e_bad
    if ctxd:
        print(f"verify_vectors: ctxd: {c_ok} rows ok, {c_bad} failed; {ctxd_tree_problems} trees with other "
              f"differences; errors: {ce_ok} ok, {ce_bad} failed")
        bad += c_bad + ce_bad + ctxd_tree_problems
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
