#!/usr/bin/env python3
"""Keeps the man pages and the shell completions in step with the code.

Commands come from `ctxd help`; each command's options from the getopt table
in the file that defines it (cli.h's option macros expanded) and from its
--help; environment variables from the getenv() calls in src/; config keys
from src/config.c. The test fails when one of them is missing from
doc/ctxd.1.scd (or doc/ctxd.conf.5.scd), or when a completion script offers
a command's options other than the code's. The bash completion is run as bash
runs it (COMP_WORDS set, the function called); fish's with `complete -C`.

    test_docs.py --ctxd build/ctxd --source-root .
Ends with "docs: N passed, N failed"; exit 1 when any failed.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ctxdtest import expect, test  # noqa: E402
import ctxdtest as ct  # noqa: E402

CTXD = None
SRC = None


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def ctxd(*args):
    return ct.run([CTXD, *args], timeout=30)


def commands():
    """The commands `ctxd help` lists, in its order."""
    rc, out, _ = ctxd("help")
    expect(rc == 0, "ctxd help failed")
    listing = out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in listing.splitlines() if l.strip()]


def command_sources():
    """Command name -> the source of the file whose table entry names it."""
    found = {}
    for path in sorted(glob.glob(os.path.join(SRC, "src/cli/*.c"))):
        text = open(path, encoding="utf-8").read()
        for name in re.findall(r'\.name\s*=\s*"([^"]+)"', text):
            found[name] = text
    return found


LONGOPT = re.compile(r'\{\s*"([a-z0-9-]+)"\s*,\s*(no|required|optional)_argument')


def macro_options():
    """cli.h's option macros (CLI_*_LONGOPT[S]) -> the long options they hold."""
    text = read("src/cli/cli.h")
    out = {}
    for m in re.finditer(r"#define\s+(CLI_\w*LONGOPTS?)\b((?:.*\\\n)*.*)", text):
        out[m.group(1)] = set(o for o, _ in LONGOPT.findall(m.group(2)))
    return out


def options_in(text, macros):
    """(long options, short options) of the getopt table in text, or None."""
    table = re.search(r"struct option longopts\[\]\s*=\s*\{(.*?)\n\t*\};", text, re.S)
    if not table:
        return None
    longs = set(o for o, _ in LONGOPT.findall(table.group(1)))
    for macro in re.findall(r"\b(CLI_\w*LONGOPTS?)\b", table.group(1)):
        expect(macro in macros, f"{macro} is not defined in cli.h")
        longs |= macros[macro]
    shorts = set()
    for optstring in re.findall(r'getopt_long\([^,]+,[^,]+,\s*"([^"]*)"', text):
        shorts |= set(c for c in optstring if c.isalnum())
    return longs, shorts


def code_options():
    """Command -> (long options, short options) of its getopt table: in the
    file that defines it, or in the shared src/cli helper it calls to parse
    its command line (a cli_*() function of common.c with a table)."""
    macros = macro_options()
    common = read("src/cli/common.c")
    out = {}
    for name, text in command_sources().items():
        found = options_in(text, macros)
        for helper in ([] if found else re.findall(r"\b(cli_\w+)\(", text)):
            body = re.search(rf"^\w[^\n]*\b{helper}\([^;{{]*?\)\n\{{(.*?)^\}}", common, re.S | re.M)
            found = body and options_in(body.group(1), macros)
            if found:
                break
        out[name] = found or (set(), set())
    return out


def global_options():
    """The options main.c handles before a command: --help, -h, --version, -V."""
    return set(re.findall(r'strcmp\(argv\[1\],\s*"(-[-a-zA-Z]+)"\)', read("src/cli/main.c")))


def help_options(cmd):
    """The long options a command's --help lists in its option lines."""
    rc, out, _ = ctxd("help", cmd)
    expect(rc == 0, f"ctxd help {cmd} failed")
    opts = set()
    for line in out.splitlines():
        # "  -t, --tag=NAME   text", "      --tls, --tlsverify, ...": the first
        # column, not the wrapped descriptions (indented further)
        if re.match(r"^ {1,9}-", line):
            first = re.split(r"\s{2,}", line.strip())[0]
            opts |= set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", first))
    return opts


def man():
    return read("doc/ctxd.1.scd")


def documented(page, opt):
    """Whether the page documents the option in bold: *--name* or *-x*."""
    return re.search(r"\*" + re.escape(opt) + r"\*", page) is not None


@test
def commands_match_the_table():
    listed = set(commands())
    defined = set(command_sources())
    expect(listed == defined, f"ctxd help lists {sorted(listed)}, the code defines {sorted(defined)}")


@test
def help_lists_every_option():
    code = code_options()
    for cmd in commands():
        longs, _ = code[cmd]
        shown = help_options(cmd)
        expect(longs <= shown, f"ctxd {cmd} --help does not list " +
               ", ".join("--" + o for o in sorted(longs - shown)))
        expect(shown <= longs, f"ctxd {cmd} --help lists options its getopt table lacks: " +
               ", ".join("--" + o for o in sorted(shown - longs)))


@test
def man_page_has_every_command():
    page = man()
    missing = [c for c in commands() if not re.search(rf"^## ctxd {re.escape(c)}$", page, re.M)]
    expect(not missing, "doc/ctxd.1.scd has no '## ctxd CMD' section for: " + ", ".join(missing))
    synopsis = page.split("# SYNOPSIS", 1)[1].split("\n# ", 1)[0]
    missing = [c for c in commands() if f"*ctxd {c}*" not in synopsis]
    expect(not missing, "the SYNOPSIS of doc/ctxd.1.scd lacks: " + ", ".join(missing))


@test
def man_page_has_every_option():
    page = man()
    missing = set()
    for cmd, (longs, shorts) in code_options().items():
        missing |= {f"--{o} ({cmd})" for o in longs if not documented(page, "--" + o)}
        missing |= {f"-{s} ({cmd})" for s in shorts if not documented(page, "-" + s)}
    missing |= {o for o in global_options() if not documented(page, o)}
    expect(not missing, "doc/ctxd.1.scd does not document (as *--option*): " +
           ", ".join(sorted(missing)))


@test
def man_page_has_every_environment_variable():
    page = man()
    env = page.split("# ENVIRONMENT", 1)[1].split("\n# ", 1)[0]
    names = set()
    for path in glob.glob(os.path.join(SRC, "src/**/*.c"), recursive=True):
        names |= set(re.findall(r'getenv\("([A-Z_][A-Z0-9_]*)"\)', open(path, encoding="utf-8").read()))
    expect(names, "no getenv() calls found: is --source-root right?")
    missing = sorted(n for n in names if f"*{n}*" not in env)
    expect(not missing, "the ENVIRONMENT section of doc/ctxd.1.scd lacks: " + ", ".join(missing))


@test
def man_page_sections():
    page = man()
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "ENVIRONMENT",
                    "FILES", "EXAMPLES", "SEE ALSO"):
        expect(re.search(rf"^# {section}$", page, re.M), f"doc/ctxd.1.scd has no {section} section")
    status = page.split("# EXIT STATUS", 1)[1].split("\n# ", 1)[0]
    codes = set(re.findall(r"\b(CLI_[A-Z]+)\s*=\s*(\d+)", read("src/cli/cli.h")))
    missing = [f"{c} ({n})" for c, n in codes if f"*{n}*" not in status]
    expect(codes and not missing, "EXIT STATUS lacks " + ", ".join(missing))


@test
def config_page_has_every_key():
    keys = re.findall(r'\{"([a-z-]+)",\s*set_', read("src/config.c"))
    expect(keys, "no keys found in src/config.c")
    page = read("doc/ctxd.conf.5.scd")
    missing = [k for k in keys if not re.search(rf"^\*{re.escape(k)}\* = ", page, re.M)]
    expect(not missing, "doc/ctxd.conf.5.scd does not document the keys: " + ", ".join(missing))


# ---- bash: the completion function called as bash calls it ----

def bash_complete(*words, wordbreaks=True):
    """COMPREPLY for the command line `words` (the last is the word under the
    cursor). With wordbreaks, '=' splits words as bash's default
    COMP_WORDBREAKS does ("--prune=d" -> "--prune" "=" "d")."""
    script = (
        f'source {os.path.join(SRC, "packaging/completions/ctxd.bash")!r} || exit 9\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n'
        '_ctxd ctxd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" || exit 8\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n')
    if wordbreaks and "=" in words[-1]:
        opt, val = words[-1].split("=", 1)
        words = words[:-1] + (opt, "=") + ((val,) if val else ())
    p = subprocess.run(["bash", "--norc", "-c", script, "bash", *words], capture_output=True,
                       text=True, timeout=30)
    expect(p.returncode == 0, f"bash completion failed ({p.returncode}): {p.stderr}")
    return [l for l in p.stdout.splitlines() if l]


def long_names(replies):
    return {r[2:].rstrip("=") for r in replies if r.startswith("--")}


@test
def bash_completes_commands():
    expect(bash_complete("ctxd", "b") == ["build"], bash_complete("ctxd", "b"))
    expect(sorted(bash_complete("ctxd", "")) == sorted(commands()), bash_complete("ctxd", ""))
    expect(bash_complete("ctxd", "help", "p") == ["pack"], bash_complete("ctxd", "help", "p"))
    expect(set(bash_complete("ctxd", "--")) == {o for o in global_options() if o.startswith("--")},
           bash_complete("ctxd", "--"))


@test
def bash_completes_each_commands_options():
    wrong = []
    for cmd, (longs, _) in sorted(code_options().items()):
        got = long_names(bash_complete("ctxd", cmd, "--"))
        if got != longs:
            wrong.append(f"ctxd {cmd} --<Tab>: missing {sorted(longs - got)}, "
                         f"not options of {cmd}: {sorted(got - longs)}")
    expect(not wrong, "bash: " + "; ".join(wrong))


@test
def bash_completes_git_options():
    longs, _ = code_options()["build"]
    got = bash_complete("ctxd", "build", "--git-")
    want = sorted("--" + o + "=" for o in longs if o.startswith("git-"))
    expect(got == want, f"ctxd build --git-<Tab>: {got}, expected {want}")


# The options whose values are fixed, and how to provoke the code's own list.
FIXED = {"prune": ("ls",), "progress": ("build",), "compress": ("build",),
         "builder-version": ("build",), "git-filter": ("ls", "build")}


@test
def bash_completes_fixed_values():
    code = code_options()
    project = tempfile.mkdtemp(prefix="ctxd-docs-")
    with open(os.path.join(project, "Dockerfile"), "w") as f:
        f.write("FROM scratch\n")
    for opt, cmds in FIXED.items():
        for cmd in cmds:
            if opt not in code[cmd][0]:
                continue  # not (yet) an option of this command
            for wordbreaks in (True, False):
                values = bash_complete("ctxd", cmd, f"--{opt}=", wordbreaks=wordbreaks)
                expect(values, f"bash: ctxd {cmd} --{opt}=<Tab> offers nothing")
                if not wordbreaks:
                    expect(all(v.startswith(f"--{opt}=") for v in values), values)
                    values = [v.split("=", 1)[1] for v in values]
                # the code's own error for a bad value names every value it takes
                rc, _, err = ctxd(cmd, f"--{opt}=bogus", project)
                expect(rc in (1, 2), f"ctxd {cmd} --{opt}=bogus: exit {rc}: {err}")
                for v in values:
                    expect(re.search(rf"\b{re.escape(v)}\b", err),
                           f"bash offers --{opt}={v}, but ctxd's error lists: {err.strip()}")
    shutil.rmtree(project)
    got = bash_complete("ctxd", "ls", "--prune=d")
    expect(got == ["dockerfile"], got)


@test
def bash_completes_paths_and_option_files():
    got = bash_complete("ctxd", "pack", "-o", os.path.join(SRC, "meson_opt"))
    expect(got == [os.path.join(SRC, "meson_options.txt")], got)
    got = bash_complete("ctxd", "ls", os.path.join(SRC, "pac"))
    expect(got == [os.path.join(SRC, "packaging")], got)


# ---- fish: `complete -C` with the script loaded ----

@test
def fish_completes_each_commands_options():
    if not shutil.which("fish"):
        print("docs: fish is not installed: fish completion checked by text only")
        text = read("packaging/completions/ctxd.fish")
        for cmd, (longs, _) in code_options().items():
            missing = [o for o in longs if not re.search(rf"-l {re.escape(o)}\b", text)]
            expect(not missing, f"ctxd.fish lacks {cmd}'s {missing}")
        return
    script = os.path.join(SRC, "packaging/completions/ctxd.fish")
    wrong = []
    for cmd, (longs, _) in sorted(code_options().items()):
        p = subprocess.run(["fish", "--no-config", "-c",
                            f"source {script}; complete -C 'ctxd {cmd} --'"],
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode == 0, f"fish failed: {p.stderr}")
        # an option with an optional value is offered as --opt and --opt=
        got = {l.split("\t")[0][2:].rstrip("=") for l in p.stdout.splitlines() if l.startswith("--")}
        if got != longs:
            wrong.append(f"ctxd {cmd} --<Tab>: missing {sorted(longs - got)}, "
                         f"not options of {cmd}: {sorted(got - longs)}")
    expect(not wrong, "fish: " + "; ".join(wrong))
    p = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C 'ctxd '"],
                       capture_output=True, text=True, timeout=30)
    got = {l.split("\t")[0] for l in p.stdout.splitlines()}
    expect(set(commands()) <= got, f"fish: ctxd <Tab>: {sorted(got)}")


# ---- zsh: the script names every command and option ----

@test
def zsh_names_every_command_and_option():
    text = read("packaging/completions/_ctxd")
    for cmd in commands():
        expect(re.search(rf"'{re.escape(cmd)}:", text), f"_ctxd does not list the command {cmd}")
    wrong = []
    for cmd, (longs, _) in sorted(code_options().items()):
        if not longs:
            continue
        body = re.search(rf"^_ctxd_{re.escape(cmd)}\(\) \{{(.*?)^\}}", text, re.S | re.M)
        expect(body, f"_ctxd has no _ctxd_{cmd} function")
        scope = body.group(1)
        # the shared option arrays the function expands
        for arr in re.findall(r"\$(_ctxd_\w+_options?)\b", scope):
            m = re.search(rf"^{arr}=\((.*?)^\)", text, re.S | re.M)
            expect(m, f"_ctxd: {arr} is not defined")
            scope += m.group(1)
        wrong += [f"_ctxd_{cmd} lacks --{o}" for o in sorted(longs)
                  if not re.search(rf"--{re.escape(o)}(?![\w-])", scope)]
    expect(not wrong, "; ".join(wrong))
    if shutil.which("zsh"):
        p = subprocess.run(["zsh", "-n", os.path.join(SRC, "packaging/completions/_ctxd")],
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode == 0, f"zsh -n _ctxd: {p.stderr}")


HOW_TO_FIX = """
A new command or option goes in each of these (tests/cli/test_docs.py checks them):
  doc/ctxd.1.scd                    a '## ctxd CMD' section under COMMANDS (and the SYNOPSIS);
                                    each option in bold: *--name*=_VALUE_ or *-x*, *--name*;
                                    a shared context option under CONTEXT OPTIONS; a getenv()
                                    name under ENVIRONMENT; a .ctxd.conf key in doc/ctxd.conf.5.scd
  packaging/completions/ctxd.bash   _ctxd_commands, the command's case in _ctxd_options ('--name='
                                    when it takes a value), fixed values in _ctxd_values, file-valued
                                    options in _ctxd_file_option
  packaging/completions/_ctxd       the commands array in _ctxd and a _ctxd_CMD function (zsh)
  packaging/completions/ctxd.fish   complete -c ctxd -n "__fish_seen_subcommand_from CMD" -l name
  CMD --help                        every long option of the getopt table, in the option lines
"""


def main():
    global CTXD, SRC
    ap = ct.arguments()
    ap.add_argument("--source-root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    a = ap.parse_args()
    CTXD = a.ctxd
    SRC = os.path.abspath(a.source_root)
    return ct.run_tests("docs", if_failed=HOW_TO_FIX)


if __name__ == "__main__":
    sys.exit(main())
