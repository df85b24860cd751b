"""The harness the Python test scripts share (tests/cli, daemon, package, e2e,
corpus): tests registered with @test, expect(), the loop that runs them and
prints "ok/FAIL/SKIP name", the last line tests/run-all.sh sums
("<suite>: N passed, N failed[, N skipped]"), and the environment, temp trees
and private socket directories the ctxd runs use.

A script puts this directory on sys.path relative to its own file:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

# The daemon's wire version, as the source says (include/ctxd/protocol.h),
# for tests that speak the protocol themselves.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include", "ctxd",
                       "protocol.h")) as _f:
    PROTOCOL_VERSION = int(re.search(r"#define CTXD_PROTOCOL_VERSION (\d+)", _f.read()).group(1))

TESTS = []  # (name, function) in the order the script defines them


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why."""


def test(fn):
    TESTS.append((fn.__name__, fn))
    return fn


def param_test(name, fn, *args):
    TESTS.append((name, lambda: fn(*args)))


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Tally:
    """Counts and prints the outcome of each test."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def run(self, name, fn, timed=False):
        """Runs fn: "ok" (with what it returns as a note), "SKIP" on Skip,
        "FAIL" on any other exception, so one failure never hides the rest."""
        t0 = time.time()

        def took():
            return f" ({time.time() - t0:.1f}s)" if timed else ""
        try:
            note = fn()
        except Skip as e:
            self.skipped += 1
            print(f"SKIP {name}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure
            self.failed += 1
            msg = str(e) if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"
            print(f"FAIL {name}{took()}: {msg}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name}{took()}" + (f": {note}" if note else ""), flush=True)

    def summary(self, suite, skips_apart=False):
        """Prints the suite's last line and returns the exit status. Skips
        end that line (", N skipped"), or with skips_apart go on a "# N
        skipped" line before it."""
        tail = ""
        if self.skipped and skips_apart:
            print(f"# {self.skipped} skipped")
        elif self.skipped:
            tail = f", {self.skipped} skipped"
        print(f"{suite}: {self.passed} passed, {self.failed} failed{tail}", flush=True)
        return 1 if self.failed else 0


def run_tests(suite, only=(), if_failed=None):
    """Runs TESTS (with only, those whose name holds one of its strings);
    if_failed is printed before the last line when any failed. Returns the
    exit status."""
    t = Tally()
    for name, fn in TESTS:
        if not only or any(k in name for k in only):
            t.run(name, fn)
    if t.failed and if_failed:
        print(if_failed)
    return t.summary(suite)


def arguments(description=None):
    """An argument parser with the --ctxd every script takes (made absolute)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--ctxd", required=True, type=os.path.abspath, help="the ctxd binary under test")
    return ap


def ctxd_env(extra=None, sock=None):
    """The caller's environment for a ctxd run, without DOCKER_BUILDKIT (the
    tests choose the builder). With sock, ctxd's daemon is the one on sock,
    whatever CTXD_DAEMON says outside."""
    e = dict(os.environ)
    e.pop("DOCKER_BUILDKIT", None)
    if sock:
        e.pop("CTXD_DAEMON", None)
        e["CTXD_SOCKET"] = sock
    e.update(extra or {})
    return e


def run(argv, env=None, cwd=None, timeout=60, stdin=None):
    """(exit status, stdout, stderr) of argv, the output decoded."""
    p = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, stdin=stdin, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def wait_until(cond, seconds=30.0, step=0.01):
    """Polls cond until it is true or seconds pass (a deadline, not a count
    of tries: a loaded machine makes each try slower); returns cond's last
    value."""
    end = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def tree(files, prefix="ctxd-test-"):
    """A new temp dir holding files ({relative path: str or bytes})."""
    d = tempfile.mkdtemp(prefix=prefix)
    for rel, content in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
    return d


def sockdir(prefix="ctxd-dmn-"):
    """A new temp dir only its owner can enter, for a private daemon socket."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o700)
    return d
