#!/usr/bin/env bash
# Sets up a Debian machine and runs every ctxd test: the -Werror build with
# the unit, cli, docker-oracle and end-to-end suites (ctxd build against a
# private dockerd over unix, TLS and ssh), a cross-section of the
# image-equality corpus (CTXD_CORPUS=all: every case), the packaging (meson
# install, the .deb built, installed and purged), the unit and cli suites again under
# AddressSanitizer + UBSan, and each libFuzzer target for a short while.
# Ends with one line "N passed, N failed" summed over all suites.
#   sudo tests/run-all.sh            (root: installs packages with apt-get)
#   FUZZ_SECONDS=60 tests/run-all.sh
#   CTXD_REQUIRE_E2E=1 tests/run-all.sh   (CI: a skipped e2e suite fails)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
# 20 s per target keeps the whole run (7 targets) within CI's 20 minutes
fuzz_seconds=${FUZZ_SECONDS:-20}

source packaging/deps.sh
test_deps=(clang util-linux fish zsh
           # the e2e suite: a private dockerd, a static busybox for its base
           # image, TLS certificates, a loopback sshd
           docker.io busybox-static openssl openssh-server openssh-client
           # packaging: the .deb's build and lint, the RPM spec's check
           dpkg-dev debhelper lintian rpm
           # cli-report loads the --html page in it (skipped without); 113 MB
           # of .debs: 1.7 s to fetch, 4.7 s to unpack here, the test 7.5 s
           chromium)
ctxd_install_missing "${ctxd_build_deps[@]}" "${test_deps[@]}"

# The oracle is the docker CLI 28.2.2 (first on PATH); never the old 20.10.
docker_version=$(docker --version 2>/dev/null || true)
echo "== docker CLI: ${docker_version:-none}"

summary() { # meson build dir -> "passed failed" summed from each test's own count
  python3 - "$1" <<'PY'
import json, re, sys
p = f = 0
for line in open(sys.argv[1] + "/meson-logs/testlog.json"):
    t = json.loads(line)
    counts = re.findall(r"^(?:[\w.-]+: )?(\d+) passed, (\d+) failed", t.get("stdout", ""), re.M)
    if counts:
        p += sum(int(a) for a, _ in counts)
        f += sum(int(b) for _, b in counts)
    if t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and not any(int(b) for _, b in counts):
        f += 1  # died before it could count
print(p, f)
PY
}

total_pass=0 total_fail=0
add() { total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); }

echo "== build (gcc, -Werror) and all suites"
rm -rf build-ci
meson setup build-ci -Dwerror=true >/dev/null
ninja -C build-ci >/dev/null
meson test -C build-ci --suite unit --suite cli --suite oracle --suite e2e --print-errorlogs --num-processes 1 || true
read -r p f < <(summary build-ci); add "$p" "$f"

# The image-equality corpus takes ~9 minutes whole: CI builds a cross-section
# (one case per language and per kind of read); CTXD_CORPUS=all runs every case.
corpus_args=(-k node-multistage -k python-app -k go-multistage -k java-gradle-target
             -k bind-mount-source -k arg-default-path -k dockerignore-negations -k dockerfile-outside)
[ "${CTXD_CORPUS:-}" = all ] && corpus_args=()
echo "== corpus: images built from docker's context and from ctxd's minimal one are equal"
python3 tests/corpus/run.py --ctxd build-ci/ctxd "${corpus_args[@]}" | tee build-ci/corpus.log || true
p='' f=''
read -r p f < <(sed -n 's/^corpus: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' build-ci/corpus.log) || true
if [ -z "$p" ] && grep -q '^corpus: skipped' build-ci/corpus.log; then
  p=0 f=0 # not root or no dockerd, outside CI (CTXD_REQUIRE_E2E=1 counts it failed)
fi
add "${p:-0}" "${f:-1}" # no count: it died before counting

echo "== packaging: meson install --prefix/DESTDIR, the RPM spec, the .deb built, installed, run, purged"
tests/package/run.sh build-ci | tee build-ci/package.log || true
p='' f=''
read -r p f < <(sed -n 's/^package: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' build-ci/package.log) || true
add "${p:-0}" "${f:-1}" # no count: it died before counting

echo "== unit and cli suites under AddressSanitizer + UBSan (clang)"
rm -rf build-asan
CC=clang meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
  -Db_lundef=false -Dfuzz=true >/dev/null
ninja -C build-asan >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --suite cli --print-errorlogs || true
read -r p f < <(summary build-asan); add "$p" "$f"

echo "== fuzzing, ${fuzz_seconds}s per target"
for fz in build-asan/tests/fuzz-*; do
  [ -f "$fz" ] && [ -x "$fz" ] || continue  # not meson's fuzz-*.p object dirs
  name=$(basename "$fz")
  corpus=$(mktemp -d)
  python3 - "$corpus" tests/data/ignore-vectors.tsv <<'PY'
import sys
out, tsv = sys.argv[1], sys.argv[2]
# LF only: the patterns hold CR, VT and FF on purpose
for i, line in enumerate(open(tsv, encoding="utf-8", newline="").read().split("\n")[1:]):
    if "\t" in line:
        open(f"{out}/v{i}", "w").write(line.split("\t")[1].replace("\\n", "\n"))
PY
  if "$fz" -max_total_time="$fuzz_seconds" -max_len=4096 "$corpus" >"$corpus.log" 2>&1; then
    echo "$name: 1 passed, 0 failed ($(grep -o 'Done [0-9]* runs' "$corpus.log"))"
    add 1 0
  else
    tail -n 30 "$corpus.log"
    echo "$name: 0 passed, 1 failed"
    add 0 1
  fi
  rm -rf "$corpus" "$corpus.log"
done

echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
