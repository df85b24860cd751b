#!/usr/bin/env bash
# Builds the Debian package from this checkout, in a copy of its files (so
# the checkout gets no debian/ directory, obj-* tree or stamp files):
#   packaging/build-deb.sh [OUTDIR]      (default: the current directory)
# Needs dpkg-dev, debhelper and the Build-Depends of packaging/debian/control
# (`apt-get build-dep ./` in the copy, or see README). DEB_BUILD_OPTIONS is
# passed through: DEB_BUILD_OPTIONS=nocheck skips the unit tests.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath "${1:-.}")
work=$(mktemp -d /tmp/ctxd-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# the files git knows of, tracked or not yet added (not the build trees);
# outside a git checkout, everything but build*/
mkdir "$work/ctxd"
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi # not deleted ones
    done | xargs -0 cp --parents -P -t "$work/ctxd"
else
  tar -c --exclude='./build*' --exclude='./obj-*' . | tar -x -C "$work/ctxd"
fi
cp -r "$top/packaging/debian" "$work/ctxd/debian"

cd "$work/ctxd"
# README tells people to build in their checkout too: the build must not
# delete a file of the tree (dh_clean takes *.bak, *.orig, *~ for leftovers)
tree_files() { find . -path ./debian -prune -o -path './obj-*' -prune -o -type f -print | sort; }
tree_files >"$work/files-before"
dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log"
  echo "build-deb: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
if tree_files | comm -23 "$work/files-before" - | grep .; then
  echo "build-deb: dpkg-buildpackage deleted these files of the tree (above)" >&2
  exit 1
fi
cp "$work"/ctxd_*.deb "$out/"
ls "$out"/ctxd_*.deb
