#!/usr/bin/env python3
"""treegen.py - random build-context trees and .dockerignore files for
diffcheck.py.  Everything is drawn from random.Random(seed), so a seed
replays the same case (paths under a different temp dir, same content).

    python3 treegen.py --seed 7 [--dir DIR]    # make one case and print it
"""

import dataclasses
import os
import random
import stat

NOBODY = 65534

# ---------------------------------------------------------------- names ---

PLAIN = ["a", "b", "c", "B", "Z", "src", "lib", "pkg", "app", "bin", "build", "dist", "docs", "data",
         "node_modules", "vendor", "tmp", "logs", "keep", "sub", "deep", "x", "y", "test", "conf.d",
         ".git", ".cache", ".env", ".env.local", ".gitignore", ".hidden", "README.md", "readme.md",
         "main.go", "util.go", "x.txt", "a.txt", "notes.md", "y.py", "z.pyc", "app.log", "package.json",
         "LICENSE", "file", "myfile", "a-b", "a.b", "a_b", "Makefile", "abc", "abcd", "ab", "file1",
         "file2", "img.png", "1", "10", "2x", "v1.2.3", "x.tar.gz", "Dockerfile.dev", "dockerfile.txt"]
SPECIAL = ["with space", " lead", "trail ", "two  spaces", "#hash", "#", "!bang", "!", "[br]", "a[b",
           "x]y", "per%cent", "q?mark", "st*r", "back\\slash", "caret^x", "dollar$", "plus+1", "(paren)",
           "{brace}", "pi|pe", "semi;colon", "co:lon", "tab\there", "a,b", "~tilde", "-dash", "=eq",
           "'quote'", "\"dq\"", "@at", "&amp"]
UNICODE = ["ünïcødé.txt", "café", "日本語", "Ωmega", "naïve dir", "emoji😀", "ß", "é", "e\u0301",
           "nb\u00a0sp", "ça va", "Δ", "ÅÄÖ", "кириллица.md"]


def rand_name(r, used):
    for _ in range(50):
        k = r.random()
        if k < 0.55:
            n = r.choice(PLAIN)
            if r.random() < 0.3:
                n = n + r.choice(["", "2", "-x", ".txt", ".md", ".go", "_old", ".bak", "1"])
        elif k < 0.75:
            n = r.choice(SPECIAL)
        elif k < 0.87:
            n = r.choice(UNICODE)
        elif k < 0.95:
            base = r.choice("abcdefghLMN") * r.randint(30, 99)
            n = base + r.choice(["", ".txt", "_x", "é"])
        else:
            n = "L" * r.randint(100, 240) + r.choice(["", ".txt", "ü"])
        if len(n.encode()) > 255:
            n = n[:200]
        if n not in used and n not in (".", "..", ".dockerignore", "Dockerfile", "dockerfile"):
            used.add(n)
            return n
    n = f"n{len(used)}"
    used.add(n)
    return n


# ---------------------------------------------------------------- model ---

@dataclasses.dataclass
class Node:
    rel: str               # path relative to the context
    kind: str              # file dir symlink fifo hardlink char
    mode: int = 0o644
    target: str = ""       # symlink target / hardlink source rel
    data: bytes = b""
    mtime_ns: int = 0


@dataclasses.dataclass
class Case:
    seed: int
    root: str              # temp dir holding everything
    ctx: str               # context dir (absolute)
    context_arg: str       # as given to docker/ctxd
    cwd: str
    dockerfile_arg: str | None
    ignore: bytes | None   # .dockerignore content (None = no file)
    features: list
    nodes: list

    def describe(self):
        return (f"seed={self.seed} ctx={self.context_arg} cwd={self.cwd} -f={self.dockerfile_arg} "
                f"features={','.join(sorted(set(self.features)))}")


def _rand_mtime_ns(r):
    k = r.random()
    if k < 0.06:
        s = -r.randint(1, 10 ** 9)                      # before 1970
    elif k < 0.12:
        s = r.randint(8 ** 11, 15032385535 - 1)         # after 2242: PAX mtime
    elif k < 0.16:
        s = r.choice([0, 1, 8 ** 11 - 1, 8 ** 11, 2 ** 31 - 1, 2 ** 31, 2 ** 32])
    else:
        s = r.randint(10 ** 9, 1.8 * 10 ** 9)
    ns = r.choice([0, 0, r.randint(1, 999_999_999), 999_999_999, 500_000_000])
    return int(s) * 10 ** 9 + ns


def _content(r):
    k = r.random()
    if k < 0.2:
        return b""
    if k < 0.85:
        return bytes(r.getrandbits(8) for _ in range(r.randint(1, 300)))
    if k < 0.95:
        return b"x" * r.choice([511, 512, 513, 1024, 4096, 10240, 65537])
    return bytes(r.getrandbits(8) for _ in range(r.randint(1000, 40000)))


def build_model(r, features):
    """A list of Nodes (parents before children)."""
    nodes = []
    dirs = [""]
    files = []
    budget = r.randint(6, 45)

    def add_dir(parent, depth):
        nonlocal budget
        used = set()
        n_children = r.choice([0, 0, 1, 2, 3, 4, 5, 6]) if depth else r.randint(2, 9)
        for _ in range(n_children):
            if budget <= 0:
                break
            budget -= 1
            name = rand_name(r, used)
            rel = f"{parent}/{name}" if parent else name
            k = r.random()
            if k < 0.3 and depth < 5:
                mode = r.choice([0o755] * 8 + [0o700, 0o750, 0o775, 0o1777, 0o2755, 0o3775, 0o711, 0o555])
                nodes.append(Node(rel, "dir", mode))
                dirs.append(rel)
                if mode & 0o7000:
                    features.append("dir-special-mode")
                add_dir(rel, depth + 1)
            else:
                mode = r.choice([0o644] * 10 + [0o755, 0o600, 0o444, 0o640, 0o664, 0o4755, 0o2755,
                                                0o1644, 0o6755, 0o700, 0o777, 0o604])
                if mode & 0o7000:
                    features.append("file-special-mode")
                data = _content(r)
                if not data:
                    features.append("empty-file")
                nodes.append(Node(rel, "file", mode, data=data))
                files.append(rel)

    add_dir("", 0)

    # long paths: > 100 bytes splittable, > 255 bytes total
    if r.random() < 0.35:
        parts = []
        for _ in range(r.randint(2, 6)):
            parts.append(r.choice("pqrstu") * r.randint(20, 99))
        base = ""
        for p in parts:
            base = f"{base}/{p}" if base else p
            nodes.append(Node(base, "dir", 0o755))
            dirs.append(base)
        leaf = f"{base}/{'f' * r.randint(1, 120)}.txt"
        nodes.append(Node(leaf, "file", 0o644, data=b"long\n"))
        files.append(leaf)
        features.append("long-path>255" if len(leaf.encode()) > 255 else "long-path>100")

    def pick_parent():
        return r.choice(dirs)

    def child(parent, name):
        return f"{parent}/{name}" if parent else name

    existing = {n.rel for n in nodes}

    def fresh(parent):
        used = {e.rsplit("/", 1)[-1] for e in existing}
        name = rand_name(r, used)
        rel = child(parent, name)
        existing.add(rel)
        return rel

    # symlinks
    if r.random() < 0.6:
        for _ in range(r.randint(1, 4)):
            rel = fresh(pick_parent())
            k = r.random()
            depth = rel.count("/")
            if k < 0.35 and files:
                t = r.choice(files)
                tgt = "../" * depth + t if r.random() < 0.7 else t     # relative (maybe wrong) target
                features.append("symlink-inside")
            elif k < 0.5 and len(dirs) > 1:
                tgt = "../" * depth + r.choice(dirs[1:])
                features.append("symlink-to-dir")
            elif k < 0.65:
                tgt = "does/not/exist"
                features.append("symlink-dangling")
            elif k < 0.8:
                tgt = r.choice(["/etc/hostname", "/tmp", "../" * (depth + 1) + "outside/secret", "/"])
                features.append("symlink-outside")
            elif k < 0.9:
                tgt = "t" * r.randint(101, 300)
                features.append("symlink-long-target")
            else:
                tgt = r.choice(["ünï/tärget", "日本", "sp ace"])
                features.append("symlink-unicode-target")
            nodes.append(Node(rel, "symlink", 0o777, target=tgt))

    # FIFO
    if r.random() < 0.3:
        nodes.append(Node(fresh(pick_parent()), "fifo", r.choice([0o644, 0o600, 0o666])))
        features.append("fifo")

    # unix socket (the CLI logs "sockets not supported" and skips it)
    if r.random() < 0.04:
        nodes.append(Node(fresh(pick_parent()), "socket", 0o755))
        features.append("socket")

    # char device
    if r.random() < 0.06:
        nodes.append(Node(fresh(pick_parent()), "char", 0o666, target="1:3"))
        features.append("chardev")

    # hard links
    if r.random() < 0.4 and files:
        for _ in range(r.randint(1, 3)):
            src = r.choice(files)
            nodes.append(Node(fresh(pick_parent()), "hardlink", 0, target=src))
            features.append("hardlink")
        if r.random() < 0.15:
            sym = [n for n in nodes if n.kind == "symlink"]
            if sym:
                nodes.append(Node(fresh(pick_parent()), "hardlink", 0, target=r.choice(sym).rel))
                features.append("hardlink-to-symlink")

    # unreadable file, sometimes an unreadable directory
    if r.random() < 0.3 and files:
        f = r.choice(files)
        for n in nodes:
            if n.rel == f:
                n.mode = r.choice([0o000, 0o200, 0o300, 0o044])
        features.append("unreadable-file")
    if r.random() < 0.04 and len(dirs) > 1:
        d = r.choice(dirs[1:])
        for n in nodes:
            if n.rel == d:
                n.mode = r.choice([0o000, 0o300, 0o600, 0o311])
        features.append("unreadable-dir")

    for n in nodes:
        n.mtime_ns = _rand_mtime_ns(r)
        if n.mtime_ns % 10 ** 9:
            features.append("subsecond-mtime")
    return nodes


# ---------------------------------------------------------- .dockerignore ---

def esc_component(s, first):
    """Escape a path component so that the pattern matches it literally."""
    out = []
    for i, ch in enumerate(s):
        if ch in "\\*?[]^":
            out.append("\\" + ch)
        else:
            out.append(ch)
    t = "".join(out)
    if first and t[:1] in ("#", "!"):
        t = "\\" + t
    if t[:1] in (" ", "\t", "\u00a0", "\u0085", "\v", "\f"):
        t = "\\" + t
    if t and t[-1] in (" ", "\t", "\u00a0", "\u0085", "\v", "\f"):
        t = t[:-1] + "[" + t[-1] + "]"
    return t


def glob_component(r, s):
    """A wildcard variant of one component that still matches it (usually)."""
    k = r.random()
    if k < 0.15:
        return "*"
    if k < 0.3 and len(s) > 1:
        i = r.randint(1, len(s) - 1)
        return esc_component(s[:i], False) + "*"
    if k < 0.45 and len(s) > 1:
        i = r.randint(1, len(s) - 1)
        return "*" + esc_component(s[i:], False)
    i = r.randrange(len(s))
    ch = s[i]
    pre, post = esc_component(s[:i], False), esc_component(s[i + 1:], False)
    if post.startswith("\\") is False and pre == "" and ch in "#!":
        pass
    k = r.random()
    if k < 0.35:
        mid = "?"
    elif k < 0.55 and ch.isascii() and ch.isalnum():
        other = r.choice([c for c in "abcxyz019" if c != ch])
        mid = f"[{ch}{other}]" if r.random() < 0.5 else f"[{other}{ch}]"
    elif k < 0.7 and ch.isascii() and ch.islower():
        mid = r.choice([f"[a-{max(ch, 'm')}]", "[a-z]", f"[{ch}-z]", f"[{ch}-{ch}]"])
    elif k < 0.8:
        other = r.choice([c for c in "qQ_%" if c != ch])
        mid = f"[^{other}]"
    elif k < 0.87 and ch.isdigit():
        mid = r.choice(["\\d", "[\\d]", "[0-9]"])
    elif k < 0.92 and ch == " ":
        mid = r.choice(["\\s", "[ ]", "\\ "])
    elif k < 0.96 and ch.isascii() and ch.isalnum():
        mid = r.choice(["\\w", "[[:alnum:]]", "\\" + ch])           # \x can change meaning: fine, docker decides
    else:
        mid = esc_component(ch, False) or "?"
    return pre + mid + post


GENERIC = ["*", "**", "**/*", "*.txt", "**/*.txt", "*.md", "**/*.md", ".*", "**.md", "**file", "**.txt",
           "*/", "/", ".", "..", "../x", "*/*", "*/*/*", "[a-m]*", "[^a-m]*", "?", "??*", "**/.git",
           ".git", "node_modules", "**/node_modules", "*.pyc", "**/*.go", "docs", "build/", "/dist",
           "./src", "a*", "a**", "**a", "*~", "**/**", "**/*/", "L*", "[[:alpha:]]*", "[!a]*", "*[0-9]*",
           "\\#hash", "#hash", " #hash", "*^x", "a\\.b", "*.d", "tmp?", "*/temp*", "**/d*/**"]
INVALID = ["[", "a[", "[-]", "[a-b-c]", "x\\", "[z-a]", "a\\yb", "!", "! ", "[]a]", "[^", "[x-]",
           "\\1", "[Local-Only]", "*[", "a\\Zb", "[\\]", "\\e"]


def path_pattern(r, path, is_dir):
    comps = path.split("/")
    k = r.random()
    if k < 0.3:
        p = "/".join(esc_component(c, i == 0) for i, c in enumerate(comps))
    elif k < 0.5:
        i = r.randrange(len(comps))
        comps2 = [glob_component(r, c) if j == i else esc_component(c, j == 0) for j, c in enumerate(comps)]
        p = "/".join(comps2)
    elif k < 0.62:
        i = r.randrange(len(comps))
        p = "**/" + "/".join(esc_component(c, False) for c in comps[i:])
    elif k < 0.72:
        i = r.randint(1, len(comps))
        p = "/".join(esc_component(c, j == 0) for j, c in enumerate(comps[:i])) + r.choice(["/**", "/*", "**", "/**/"])
    elif k < 0.8 and len(comps) >= 2:
        p = esc_component(comps[0], True) + "/**/" + esc_component(comps[-1], False)
    elif k < 0.87:
        last = comps[-1]
        i = r.randrange(len(last)) if last else 0
        p = "**" + esc_component(last[i:], False)                   # suffix quirk
    elif k < 0.93:
        p = "/".join(esc_component(c, j == 0) for j, c in enumerate(comps[:r.randint(1, len(comps))]))
    else:
        p = "/".join("*" if r.random() < 0.5 else esc_component(c, j == 0) for j, c in enumerate(comps))
    k = r.random()
    if k < 0.1:
        p = "/" + p
    elif k < 0.15:
        p = "./" + p
    elif k < 0.18:
        p = "/./" + p
    if r.random() < 0.12 or (is_dir and r.random() < 0.2):
        p = p + "/"
    if r.random() < 0.03:
        p = p.replace("/", "//", 1)
    return p


def make_ignore(r, nodes, df_rel, features):
    """Return the .dockerignore bytes (or None for no file)."""
    if r.random() < 0.07:
        features.append("no-dockerignore")
        return None
    paths = [(n.rel, n.kind == "dir") for n in nodes]
    dirs = [n.rel for n in nodes if n.kind == "dir"]
    lines = []
    nlines = r.randint(1, 10)
    for _ in range(nlines):
        k = r.random()
        if k < 0.5 and paths:
            p, isd = r.choice(paths)
            line = path_pattern(r, p, isd)
        elif k < 0.62:
            line = r.choice(GENERIC)
        elif k < 0.7 and dirs:
            # exclude a directory, then re-include something deep inside it
            d = r.choice(dirs)
            below = [p for p, _ in paths if p.startswith(d + "/")]
            lines.append(path_pattern(r, d, True) if r.random() < 0.5 else "/".join(
                esc_component(c, i == 0) for i, c in enumerate(d.split("/"))))
            if below:
                t = r.choice(below)
                kk = r.random()
                if kk < 0.5:
                    line = "!" + "/".join(esc_component(c, False) for c in t.split("/"))
                elif kk < 0.7:
                    line = "!**/" + esc_component(t.rsplit("/", 1)[-1], False)
                else:
                    line = "!" + path_pattern(r, t, False)
                features.append("reinclude-deep")
            else:
                line = "!" + esc_component(d.split("/")[0], False) + "*"
            features.append("exclude-dir")
        elif k < 0.74:
            line = r.choice(["Dockerfile", "*", ".dockerignore", ".*", "**", "dockerfile", "D*"])
            if df_rel and r.random() < 0.6:
                line = r.choice([df_rel, df_rel.split("/")[0], "**/" + df_rel.rsplit("/", 1)[-1]])
            features.append("exclude-build-files")
        elif k < 0.8:
            line = r.choice(["# a comment", "#", "", "   ", "\t", "#!keep", "# !x"])
            features.append("comment-or-blank")
        elif k < 0.84 and r.random() < 0.5:
            line = r.choice(INVALID)
            features.append("invalid-pattern")
        else:
            line = r.choice(GENERIC)
        if r.random() < 0.3 and not line.startswith("#") and line.strip():
            line = r.choice(["!", "!", "! ", " ! ", "!\t"]) + line
            features.append("negation")
        if r.random() < 0.08:
            line = r.choice([" ", "  ", "\t", "\u00a0"]) + line
            features.append("leading-ws")
        if r.random() < 0.08:
            line = line + r.choice([" ", "\t", "  ", "\v", "\u0085"])
            features.append("trailing-ws")
        lines.append(line)
    unreadable = [n for n in nodes if n.kind in ("file", "dir") and not (n.mode & 0o400)
                  or n.kind == "dir" and not (n.mode & 0o100)]
    for n in unreadable:
        if r.random() < 0.65:
            line = path_pattern(r, n.rel, n.kind == "dir") if r.random() < 0.5 else \
                "/".join(esc_component(c, i == 0) for i, c in enumerate(n.rel.split("/")))
            lines.insert(r.randint(len(lines) // 2, len(lines)), line)
            features.append("unreadable-excluded")
    if r.random() < 0.005:
        lines.insert(r.randint(0, len(lines)), "a" * 70000)
        features.append("line-too-long")
    eol = "\n"
    k = r.random()
    if k < 0.15:
        eol = "\r\n"
        features.append("crlf")
    text = eol.join(lines)
    if r.random() < 0.08:
        # mixed line endings
        text = "\n".join(ln + ("\r" if r.random() < 0.5 else "") for ln in lines)
        features.append("mixed-eol")
    if r.random() < 0.7:
        text += eol
    if r.random() < 0.1:
        text = "\ufeff" + text
        features.append("bom")
    return text.encode("utf-8")


# ----------------------------------------------------------------- build ---

DOCKERFILE = b"FROM scratch\nCOPY . /c/\n"


def generate(seed, base_dir="/tmp", as_nobody=True):
    r = random.Random(seed)
    features = []
    import tempfile
    root = tempfile.mkdtemp(prefix=f"ctxd-diff-{seed}-", dir=base_dir)
    os.chmod(root, 0o755)
    ctx = os.path.join(root, "ctx")
    outside = os.path.join(root, "outside")
    os.mkdir(ctx)
    os.mkdir(outside)
    os.mkdir(os.path.join(root, "out"))
    with open(os.path.join(outside, "secret"), "wb") as f:
        f.write(b"outside\n")

    nodes = build_model(r, features)

    # where is the Dockerfile?
    cwd = ctx
    context_arg = r.choice([ctx, ctx, ".", "ctx"])
    if context_arg == ".":
        cwd = ctx
    elif context_arg == "ctx":
        cwd = root
    else:
        cwd = r.choice([ctx, root, outside])
    df_arg = None
    df_rel = "Dockerfile"          # relative to ctx, if inside
    k = r.random()
    dirs = [n.rel for n in nodes if n.kind == "dir" and n.mode == 0o755]
    extra_df = []                  # (rel, data) to create
    if k < 0.45:
        extra_df.append(("Dockerfile", DOCKERFILE))
        if r.random() < 0.3:
            df_arg = os.path.relpath(os.path.join(ctx, "Dockerfile"), cwd)
            features.append("-f-relative")
    elif k < 0.52:
        extra_df.append(("dockerfile", DOCKERFILE))
        df_rel = "dockerfile"
        features.append("lowercase-dockerfile")
    elif k < 0.72:
        sub = r.choice(dirs) if dirs and r.random() < 0.7 else "docker/build"
        name = r.choice(["Dockerfile", "Dockerfile.dev", "build.Dockerfile", "x"])
        df_rel = f"{sub}/{name}"
        extra_df.append((df_rel, DOCKERFILE))
        if r.random() < 0.5:
            extra_df.append(("Dockerfile", b"FROM scratch\n"))
        full = os.path.join(ctx, df_rel)
        df_arg = full if r.random() < 0.3 else os.path.relpath(full, cwd)
        features.append("-f-subdir")
    elif k < 0.86:
        df_rel = None
        full = os.path.join(outside, r.choice(["Dockerfile", "Dockerfile.out"]))
        with open(full, "wb") as f:
            f.write(b"FROM scratch\nCOPY . /o/\n")
        df_arg = full if r.random() < 0.4 else os.path.relpath(full, cwd)
        if r.random() < 0.5:
            extra_df.append(("Dockerfile", DOCKERFILE))
        features.append("-f-outside")
    elif k < 0.96:
        extra_df.append(("docker/Dockerfile.prod", DOCKERFILE))
        df_rel = "docker/Dockerfile.prod"
        kk = r.random()
        if kk < 0.5:
            extra_df.append(("Dockerfile", "docker/Dockerfile.prod"))      # symlink, resolved by the CLI
            features.append("dockerfile-symlink")
        elif kk < 0.75:
            extra_df.append(("Dockerfile", os.path.join(outside, "Dockerfile.link")))
            with open(os.path.join(outside, "Dockerfile.link"), "wb") as f:
                f.write(b"FROM scratch\nCOPY . /l/\n")
            df_rel = None
            features.append("dockerfile-symlink-outside")
        else:
            extra_df.append(("dlink", "docker"))                           # -f through a dir symlink
            df_arg = os.path.relpath(os.path.join(ctx, "dlink", "Dockerfile.prod"), cwd)
            features.append("-f-via-dir-symlink")
    else:
        df_rel = None
        if r.random() < 0.5:
            df_arg = r.choice(["nope/Dockerfile", "Dockerfile.missing"])
        features.append("missing-dockerfile")

    for rel, data in extra_df:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if not any(n.rel == d for n in nodes):
                nodes.insert(0, Node(d, "dir", 0o755, mtime_ns=_rand_mtime_ns(r)))
        nodes = [n for n in nodes if n.rel != rel]
        if isinstance(data, str):
            nodes.append(Node(rel, "symlink", 0o777, target=data, mtime_ns=_rand_mtime_ns(r)))
        else:
            nodes.append(Node(rel, "file", r.choice([0o644, 0o644, 0o600, 0o755]), data=data,
                              mtime_ns=_rand_mtime_ns(r)))
    # a parent that is a file/symlink would make creation impossible: drop such nodes
    kinds = {}
    ok_nodes = []
    for n in sorted(nodes, key=lambda n: n.rel.count("/")):
        parent = n.rel.rsplit("/", 1)[0] if "/" in n.rel else ""
        if parent and kinds.get(parent) != "dir":
            continue
        if n.rel in kinds:
            continue
        kinds[n.rel] = n.kind
        ok_nodes.append(n)
    nodes = ok_nodes

    ignore = make_ignore(r, nodes, df_rel, features)
    materialise(ctx, nodes, ignore, as_nobody, r, features)
    if as_nobody:
        for d in (root, outside, os.path.join(root, "out")):
            os.lchown(d, NOBODY, NOBODY)
        os.lchown(os.path.join(outside, "secret"), NOBODY, NOBODY)
        for f in os.listdir(outside):
            os.lchown(os.path.join(outside, f), NOBODY, NOBODY)
    return Case(seed=seed, root=root, ctx=ctx, context_arg=context_arg, cwd=cwd, dockerfile_arg=df_arg,
                ignore=ignore, features=features, nodes=nodes)


def materialise(ctx, nodes, ignore, as_nobody, r, features):
    def P(rel):
        return os.path.join(ctx, rel)
    for n in nodes:
        p = P(n.rel)
        if n.kind == "dir":
            os.mkdir(p)
        elif n.kind == "file":
            with open(p, "wb") as f:
                f.write(n.data)
        elif n.kind == "symlink":
            os.symlink(n.target, p)
        elif n.kind == "fifo":
            os.mkfifo(p)
        elif n.kind == "char":
            ma, mi = (int(x) for x in n.target.split(":"))
            os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(ma, mi))
        elif n.kind == "socket":
            import socket
            import tempfile
            tmpd = tempfile.mkdtemp(prefix="s", dir="/tmp")
            sp = os.path.join(tmpd, "s")
            with socket.socket(socket.AF_UNIX) as so:
                so.bind(sp)                  # bound at a short path (sun_path limit), then moved
            os.rename(sp, p)
            os.rmdir(tmpd)
    for n in nodes:
        if n.kind == "hardlink":
            src = P(n.target)
            if os.path.lexists(src):
                os.link(src, P(n.rel), follow_symlinks=False)
    ign_path = os.path.join(ctx, ".dockerignore")
    if ignore is not None:
        k = r.random()
        if k < 0.04:
            # .dockerignore is a symlink to a file outside the context (followed by the CLI)
            tgt = os.path.join(os.path.dirname(ctx), "outside", "ignorefile")
            with open(tgt, "wb") as f:
                f.write(ignore)
            os.symlink(tgt, ign_path)
            features.append("dockerignore-symlink")
        else:
            with open(ign_path, "wb") as f:
                f.write(ignore)
            if k < 0.06:
                os.chmod(ign_path, 0o000)
                features.append("dockerignore-unreadable")
    # owners, then modes (chown clears setuid/setgid), then mtimes bottom-up
    if as_nobody:
        os.lchown(ctx, NOBODY, NOBODY)
        for dp, dns, fns in os.walk(ctx):
            for x in dns + fns:
                os.lchown(os.path.join(dp, x), NOBODY, NOBODY)
    for n in nodes:
        if n.kind in ("file", "fifo", "char", "socket"):
            os.chmod(P(n.rel), n.mode)
    if ignore is not None and os.path.islink(ign_path):
        pass
    for n in sorted(nodes, key=lambda n: -n.rel.count("/")):
        p = P(n.rel)
        if not os.path.lexists(p):
            continue
        os.utime(p, ns=(n.mtime_ns, n.mtime_ns), follow_symlinks=False)
    # directory modes last (an unreadable dir would stop the walk above)
    for n in sorted(nodes, key=lambda n: -n.rel.count("/")):
        if n.kind == "dir":
            os.chmod(P(n.rel), n.mode)


if __name__ == "__main__":
    import argparse
    import subprocess
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--dir", default="/tmp")
    a = ap.parse_args()
    c = generate(a.seed, a.dir, as_nobody=os.geteuid() == 0)
    print(c.describe())
    print("root:", c.root)
    print(".dockerignore:", repr(c.ignore))
    subprocess.run(["find", c.ctx, "-printf", "%M %u %TY-%Tm-%Td %p -> %l\n"])
