#!/usr/bin/env python3
"""The proof that Dockerfile pruning never changes the image (issue 5, item 8).

    run.py --ctxd build/ctxd [-k NAME] [--keep] [--builders 1,2]

Every directory under cases/ is one build: `case.json` (what the case shows
and expects), `ctx/` (the context) and sometimes a Dockerfile outside it.
For each case, on a private dockerd (the helpers of tests/e2e/test_build.py):

  classic   `DOCKER_BUILDKIT=0 docker build` (docker's full context, the
            reference), `ctxd build --builder-version 1 --prune=off` and
            `ctxd build --builder-version 1` (the minimal context);
  BuildKit  `ctxd build --builder-version 2 --prune=off` (the reference:
            docker 28 without buildx refuses BuildKit builds) and
            `ctxd build --builder-version 2`.

Each image is exported (`docker create` + `docker export`) and its file set
compared with the reference's: names, types, modes, owners, sizes, link
targets, hard-link groups, content hashes, and the mtimes of what came from
the context. The image configs must be equal too. Then `ctxd ls --json`
with and without pruning must show the minimal context smaller (case
"expect": "smaller", with "must_drop" paths gone and "must_keep" paths kept)
or equal to the full one ("expect": "whole": ctxd cannot know what the build
reads and keeps everything). "image_has" lists paths the reference image
must hold, so that a case cannot silently stop exercising what it is for.

Base images: no registry is reachable, so the busybox image (FROM scratch +
/bin/busybox) is tagged or extended as node:20, python:3.12-slim, ...
(BASE_IMAGES, with the ENV their real counterparts set).

One line per check; ends with "corpus: N passed, N failed". Exit 77 when no
private dockerd can be started (unless CTXD_REQUIRE_E2E=1).
"""
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import test_build as tb  # noqa: E402  (its daemon, image and diff helpers)

# Local stand-ins for the images the corpus names: busybox (with a /tmp)
# plus the ENV of the real image.
BASE_IMAGES = {
    "node:20": "ENV NODE_VERSION=20.15.1 YARN_VERSION=1.22.22",
    "python:3.12-slim": "ENV LANG=C.UTF-8 PYTHON_VERSION=3.12.4",
    "golang:1.22": "ENV GOLANG_VERSION=1.22.5 GOPATH=/go\nWORKDIR /go",
    "eclipse-temurin:21": "ENV JAVA_HOME=/opt/java/openjdk JAVA_VERSION=jdk-21.0.3+9",
    "maven:3.9-eclipse-temurin-21": "ENV MAVEN_HOME=/usr/share/maven JAVA_HOME=/opt/java/openjdk",
    "rust:1.79": "ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo RUST_VERSION=1.79.0",
    "alpine:3.20": "",
    "nginx:1.27": "ENV NGINX_VERSION=1.27.0",
    "gcr.io/distroless/static:nonroot": "USER 65532",
}

CASE_KEYS = {"description", "args", "dockerfile", "context", "builders", "expect",
             "must_drop", "must_keep", "generate", "base_images", "image_has"}
BUILDER_NAMES = {1: "classic", 2: "buildkit"}
PRUNE = False   # whether this ctxd has --prune (set in main)


class Case:
    def __init__(self, name):
        self.name = name
        self.src = os.path.join(CASES_DIR, name)
        path = os.path.join(self.src, "case.json")
        with open(path) as f:
            try:
                meta = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{e.lineno}: {e.msg}") from None
        unknown = set(meta) - CASE_KEYS
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        if meta.get("expect") not in (None, "smaller", "whole"):
            raise ValueError(f"{path}: expect must be \"smaller\", \"whole\" or null")
        self.meta = meta
        self.description = meta.get("description", "")
        self.builders = meta.get("builders", [1, 2])
        self.context = meta.get("context", "ctx")
        self.work = None

    def flags(self):
        """The docker build flags before the context path (same for docker
        and ctxd), relative to the case's copy."""
        f = []
        if "dockerfile" in self.meta:
            f += ["-f", self.meta["dockerfile"]]
        return f + list(self.meta.get("args", [])) + [self.context]

    def make(self, root):
        """Copy the case (without case.json) under root, run its generators,
        and give every entry the same mtime."""
        self.work = os.path.join(root, self.name)
        shutil.copytree(self.src, self.work, symlinks=True,
                        ignore=lambda d, names: ["case.json"] if d == self.src else [])
        chmods = []
        for g in self.meta.get("generate", []):
            if "files" in g:
                for i in range(g["count"]):
                    rel = g["files"].format(i=i)
                    write_file(os.path.join(self.work, rel), rand_bytes(g["size"], rel))
            elif "tar" in g:
                write_file(os.path.join(self.work, g["tar"]), targz(g["members"]))
            elif "hardlink" in g:
                p = os.path.join(self.work, g["hardlink"])
                os.makedirs(os.path.dirname(p), exist_ok=True)
                os.link(os.path.join(self.work, g["to"]), p)
            elif "mkdir" in g:
                os.makedirs(os.path.join(self.work, g["mkdir"]), exist_ok=True)
            elif "chmod" in g:
                chmods.append((os.path.join(self.work, g["chmod"]), int(g["mode"], 8)))
            else:
                raise ValueError(f"{self.name}/case.json: unknown generator {g}")
        # deepest first, so a 0700 directory does not hide what is below it
        for p, mode in sorted(chmods, key=lambda c: -c[0].count("/")):
            os.chmod(p, mode)
        tb.set_mtimes(self.work)


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def targz(members):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, text in sorted(members.items()):
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), tb.FIXED_MTIME, 0o755 if text.startswith("#!") else 0o644
            tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(bio.getvalue(), mtime=0)


# ------------------------------------------------------------------ builds

def docker_reference(case, tag):
    # --no-cache as for ctxd's builds: a layer cached by an earlier case
    # must not stand in for this one's
    tb.docker_build(["-t", tag, "--no-cache", "--network", "none"] + case.flags(), cwd=case.work)
    return tb.image_id(tag)


def ctxd_build(case, tag, builder, full):
    args = ["build", "--builder-version", str(builder), "--no-cache", "--network", "none",
            "--progress", "plain", "-t", tag]
    if full and PRUNE:
        args.append("--prune=off")
    args += case.flags()
    rc, out, err = tb.ctxd(*args, cwd=case.work)
    what = "ctxd build" + (" --prune=off" if full else "") + f" --builder-version {builder}"
    tb.expect(rc == 0, f"{what} exited {rc}: {tb.short(err, 1500)}")
    return tb.image_id(tag)


def compare(ref, got, what):
    ref_fs, ref_config = ref
    d = tb.fs_diff(ref_fs, tb.image_fs(got))
    tb.expect(not d, f"{what}: {len(d)} differences: " + "; ".join(d[:12]))
    config = tb.image_config(got)
    tb.expect(config == ref_config, f"{what}: image config differs: {ref_config} != {config}")


def builder_test(case, builder):
    """The reference image and ctxd's minimal-context image, compared. In
    classic, a difference is then looked for again with --prune=off, to
    tell a pruning bug from an exact-mode one."""
    base = f"corpus-{case.name}-bk{builder}"
    if builder == 1:
        ref_img = docker_reference(case, base + "-docker")
        label = "docker (classic)"
    else:
        ref_img = ctxd_build(case, base + "-full", 2, full=True)
        label = "ctxd --prune=off --builder-version 2"
    ref = (tb.image_fs(ref_img), tb.image_config(ref_img))
    tb.expect(len(ref[0][0]) > 0, f"reference image of {case.name} is empty")
    absent = [p for p in case.meta.get("image_has", []) if p not in ref[0][0]]
    tb.expect(not absent, f"the reference image lacks {absent}: the case does not build what it says")
    if not PRUNE:
        if builder == 2:
            return "1 build (no pruning to compare)"
        got = ctxd_build(case, base + "-full", 1, full=True)
        compare(ref, got, f"{label} vs ctxd --builder-version 1 (full context)")
        return f"2 builds, {len(ref[0][0])} paths identical (full context only)"
    try:
        got = ctxd_build(case, base + "-min", builder, full=False)
        compare(ref, got, f"{label} vs ctxd --builder-version {builder} (minimal context)")
    except AssertionError as e:
        if builder == 1:
            full = ctxd_build(case, base + "-full", 1, full=True)
            try:
                compare(ref, full, "")
                e = AssertionError(f"{e} [with --prune=off ctxd builds the same image as docker]")
            except AssertionError:
                e = AssertionError(f"{e} [ctxd --prune=off differs from docker too]")
        raise e from None
    return f"2 builds, {len(ref[0][0])} paths identical"


# ------------------------------------------------------------ context sizes

def ls_entries(case, full):
    args = ["ls", "--json"] + (["--prune=off"] if full else [])
    rc, out, err = tb.ctxd(*(args + case.flags()), cwd=case.work)
    tb.expect(rc == 0, f"ctxd {' '.join(args)} exited {rc}: {tb.short(err)}")
    try:
        doc = json.loads(out)
    except json.JSONDecodeError as e:
        raise AssertionError(f"ctxd ls --json: not JSON ({e}): {tb.short(out)}") from None
    return {e["path"]: e for e in doc["entries"]}


def totals(entries):
    files = [e for e in entries.values() if e["type"] == "file"]
    return len(entries), sum(e["size"] for e in files)


def under(path, entries):
    return any(p == path or p.startswith(path + "/") for p in entries)


def size_test(case):
    if not PRUNE:
        raise tb.Skip("this ctxd has no --prune")
    full, minimal = ls_entries(case, True), ls_entries(case, False)
    (fn, fb), (mn, mb) = totals(full), totals(minimal)
    extra = sorted(set(minimal) - set(full))
    tb.expect(not extra, f"the minimal context has entries docker's has not: {extra[:10]}")
    expect = case.meta.get("expect")
    if expect == "smaller":
        # fewer entries, never more bytes: a dropped hard-link name carries no
        # bytes, and the name that is kept then carries the content
        tb.expect(mn < fn and mb <= fb, f"minimal context not smaller: {mn} entries {mb} B vs full {fn} entries {fb} B")
    elif expect == "whole":
        tb.expect(set(minimal) == set(full),
                  f"ctxd pruned where the build can read everything: dropped {sorted(set(full) - set(minimal))[:10]}")
    for p in case.meta.get("must_drop", []):
        tb.expect(under(p, full), f"must_drop {p!r} is not in the full context (case error)")
        tb.expect(not under(p, minimal), f"{p!r} is still in the minimal context")
    for p in case.meta.get("must_keep", []):
        tb.expect(p in minimal, f"{p!r} is missing from the minimal context")
    return f"minimal {mn} entries {mb} B, full {fn} entries {fb} B ({expect or 'no size expectation'})"


# -------------------------------------------------------------------- setup

def setup_images(cases):
    tb.setup_base_image()
    d = os.path.join(tb.T, "bases")
    os.makedirs(d)

    def build(tag, dockerfile):
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write(dockerfile)
        tb.docker_build(["-q", "-t", tag, "--network", "none", "."], cwd=d)
    build("corpus-base:1", "FROM busybox:latest\nRUN mkdir -m 1777 /tmp\n")
    for tag, body in BASE_IMAGES.items():
        if body:
            build(tag, f"FROM corpus-base:1\n{body}\n")
        else:
            tb.docker("tag", "corpus-base:1", tag)
    for c in cases:
        for tag, dockerfile in c.meta.get("base_images", {}).items():
            build(tag, dockerfile)


def main():
    global PRUNE
    ap = tb.ct.arguments()
    ap.add_argument("-k", action="append", default=[], help="only cases whose name contains this")
    ap.add_argument("--builders", default="1,2", help="which builders to run (1 classic, 2 BuildKit)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (daemon stopped)")
    args = ap.parse_args()
    tb.CTXD = args.ctxd
    builders = [int(b) for b in args.builders.split(",")]

    try:
        cases = [Case(n) for n in sorted(os.listdir(CASES_DIR))
                 if not args.k or any(k in n for k in args.k)]
    except (OSError, ValueError) as e:
        print(f"corpus: {e}")
        return 1
    if os.geteuid() != 0:
        return tb.skip_suite("corpus", "needs root to run a private dockerd")
    if not shutil.which("dockerd"):
        return tb.skip_suite("corpus", "no dockerd")
    tb.DOCKER = tb.find_docker()
    if not tb.DOCKER:
        return tb.skip_suite("corpus", "the reference docker CLI 28.x is not installed")
    if not os.path.exists(tb.BUSYBOX):
        return tb.skip_suite("corpus", "no static busybox")
    help_text = subprocess.run([tb.CTXD, "ls", "--help"], capture_output=True, text=True)
    PRUNE = "--prune" in help_text.stdout + help_text.stderr

    tb.make_suite_dir("ctxd-corpus-", "cases")
    t_start = time.time()
    tally = tb.Tally()
    try:
        why = tb.start_daemon()
        if why:
            print(why)
            return tb.skip_suite("corpus", "dockerd could not be started")
        try:
            setup_images(cases)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL setup: base images: {e}")
            print("corpus: 0 passed, 1 failed")
            return 1
        print(f"# dockerd and base images up in {time.time() - t_start:.1f}s; {len(cases)} cases;"
              f" pruning {'on' if PRUNE else 'not in this ctxd: full contexts only'}", flush=True)
        for case in cases:
            case.make(os.path.join(tb.T, "cases"))
            tally.run(f"{case.name} context", lambda: size_test(case), timed=True)
            for b in case.builders:
                if b in builders:
                    tally.run(f"{case.name} {BUILDER_NAMES[b]}", lambda: builder_test(case, b), timed=True)
    finally:
        tb.cleanup(args.keep)
    print(f"# corpus took {time.time() - t_start:.0f}s")
    return tally.summary("corpus", skips_apart=True)


if __name__ == "__main__":
    sys.exit(main())
