#!/usr/bin/env python3
"""The packaging files that no Linux install exercises, checked on every build.

The launchd agent meson configured (installed on macOS only) is a valid
property list that starts the installed binary as `ctxd daemon
--foreground`; the maintainer is the same identity in debian/control,
debian/changelog, the RPM spec's %changelog and both man pages.

    test_files.py --source-root . --plist build/packaging/dev.ctxd.daemon.plist \
                  --bindir /usr/local/bin
Ends with "package-files: N passed, N failed"; exit 1 when any failed.
"""
import argparse
import os
import plistlib
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ctxdtest import expect, test  # noqa: E402
import ctxdtest as ct  # noqa: E402

ARGS = None


def read(rel):
    with open(os.path.join(ARGS.source_root, rel), encoding="utf-8") as f:
        return f.read()


def check_plist(path, bindir):
    """Raises AssertionError unless path is the agent for bindir/ctxd."""
    try:
        with open(path, "rb") as f:
            agent = plistlib.load(f)
    except Exception as e:  # plistlib raises expat's and its own errors
        raise AssertionError(f"{path} is not a property list: {e}")
    expect(agent.get("Label") == "dev.ctxd.daemon", f"{path}: Label is {agent.get('Label')!r}")
    want = [os.path.join(bindir, "ctxd"), "daemon", "--foreground"]
    expect(agent.get("ProgramArguments") == want,
           f"{path}: ProgramArguments is {agent.get('ProgramArguments')!r}, not {want!r}")


@test
def launchd_plist_starts_the_installed_binary():
    check_plist(ARGS.plist, ARGS.bindir)


@test
def plist_check_rejects_a_wrong_path_and_bad_xml():
    # the check above is not vacuous: another bindir and broken XML fail it
    for text, bindir in ((open(ARGS.plist, encoding="utf-8").read(), "/elsewhere/bin"),
                         ("<plist><dict><key>Label</key></plist>", ARGS.bindir)):
        with tempfile.NamedTemporaryFile("w", suffix=".plist") as f:
            f.write(text)
            f.flush()
            try:
                check_plist(f.name, bindir)
            except AssertionError:
                continue
            raise AssertionError(f"accepted {text[:40]!r} for {bindir}")


def maintainers():
    """File -> the maintainer identities it states."""
    found = {
        "packaging/debian/control": re.findall(r"^Maintainer: *(.+?) *$", read("packaging/debian/control"), re.M),
        "packaging/debian/changelog": re.findall(r"^ -- (.+?>)  ", read("packaging/debian/changelog"), re.M),
        "packaging/rpm/ctxd.spec": re.findall(r"^\* \w{3} \w{3} \d\d \d{4} (.+?>)", read("packaging/rpm/ctxd.spec"), re.M),
    }
    for page in ("doc/ctxd.1.scd", "doc/ctxd.conf.5.scd"):
        m = re.search(r"^# AUTHORS\n\nMaintained by (.+?>)\.$", read(page), re.M)
        found[page] = [m.group(1)] if m else []
    return found


@test
def one_maintainer_everywhere():
    found = maintainers()
    missing = [f for f, ids in found.items() if not ids]
    expect(not missing, "no maintainer found in " + ", ".join(missing))
    ids = {i for v in found.values() for i in v}
    expect(len(ids) == 1, "different maintainers: " + "; ".join(f"{f}: {v}" for f, v in found.items()))
    ident = ids.pop()
    expect(re.fullmatch(r"[^<>@]+ <[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>", ident), f"malformed: {ident}")
    expect(not re.search(r"@(localhost|[^>]*\.local(domain)?)>", ident), f"not a real address: {ident}")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--plist", required=True, help="the launchd agent meson configured")
    ap.add_argument("--bindir", required=True, help="where the build installs ctxd")
    ARGS = ap.parse_args()
    return ct.run_tests("package-files")


if __name__ == "__main__":
    sys.exit(main())
