#!/usr/bin/env bash
# The ways ctxd gets installed, checked as a user would meet them:
#  - `meson install` honours --prefix and DESTDIR and installs the binary, the
#    man pages, the completions and the systemd user units (ExecStart naming
#    the installed binary, as the launchd agent, installed on macOS only, does);
#  - the RPM spec parses (rpmspec -P, where rpm is installed) and every
#    packaging file carries meson's version;
#  - the Debian package builds (packaging/build-deb.sh, in a copy of the
#    tree), installs with its dependencies, runs `ctxd --version` and a
#    `ctxd pack` from /usr/bin/ctxd, completes in bash from where it was
#    installed, enables the user socket for every user (not the service),
#    passes lintian, keeps an administrator's `systemctl --global disable`
#    across a reinstall, and purges without leaving a file.
#     tests/package/run.sh BUILD_DIR    (root: installs and purges the package)
# BUILD_DIR is a configured meson build; its prefix is changed (nothing is
# recompiled). Ends with "package: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "$1")
tmp=$(mktemp -d /tmp/ctxd-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { # NAME COMMAND...: passes when the command succeeds
  local name=$1
  shift
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name"; echo "$out" | tail -n 30 | sed 's/^/     /'; fi
}
finish() {
  echo "package: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$top/meson.build" | head -n 1)

# The files every installation holds, relative to the prefix.
installed_files=(
  bin/ctxd
  share/man/man1/ctxd.1
  share/man/man5/ctxd.conf.5
  share/bash-completion/completions/ctxd
  share/zsh/site-functions/_ctxd
  share/fish/vendor_completions.d/ctxd.fish
  lib/systemd/user/ctxd.service
  lib/systemd/user/ctxd.socket
)

meson_install() {
  local prefix=/opt/ctxd-package-test dest=$tmp/dest f
  meson configure "$build" -Dprefix="$prefix" >/dev/null || return 1
  DESTDIR=$dest meson install -C "$build" --quiet >/dev/null || return 1
  for f in "${installed_files[@]}"; do
    [ -f "$dest$prefix/$f" ] || { echo "missing $prefix/$f under DESTDIR"; return 1; }
  done
  grep -qx "ExecStart=$prefix/bin/ctxd daemon --foreground" "$dest$prefix/lib/systemd/user/ctxd.service" ||
    { echo "ExecStart does not name $prefix/bin/ctxd"; return 1; }
  # the launchd agent names the prefix too, and is installed on macOS only
  python3 "$top/tests/package/test_files.py" --source-root "$top" \
    --plist "$build/packaging/dev.ctxd.daemon.plist" --bindir "$prefix/bin" >/dev/null ||
    { echo "the configured launchd agent does not name $prefix/bin/ctxd"; return 1; }
  [ ! -e "$dest$prefix/share/ctxd/dev.ctxd.daemon.plist" ] || { echo "the launchd agent is installed on Linux"; return 1; }
  # nothing outside DESTDIR/PREFIX
  if [ -n "$(find "$dest" -mindepth 1 -not -path "$dest/opt" -not -path "$dest$prefix" \
        -not -path "$dest$prefix/*" | head -n 1)" ]; then
    echo "files outside the prefix:"; find "$dest" -type f -not -path "$dest$prefix/*"; return 1
  fi
  "$dest$prefix/bin/ctxd" --version | grep -qx "ctxd $version"
}
check "meson install --prefix with DESTDIR" meson_install

versions_agree() {
  local deb spec
  deb=$(sed -n '1s/^ctxd (\([^)]*\)).*/\1/p' "$top/packaging/debian/changelog")
  spec=$(sed -n 's/^Version: *//p' "$top/packaging/rpm/ctxd.spec")
  echo "meson $version, debian/changelog $deb, ctxd.spec $spec"
  [ "$deb" = "$version" ] && [ "$spec" = "$version" ]
}
check "packaging versions equal meson's" versions_agree

if command -v rpmspec >/dev/null; then
  check "rpmspec -P packaging/rpm/ctxd.spec" rpmspec -P "$top/packaging/rpm/ctxd.spec"
else
  echo "note: rpmspec is not installed; the spec is not parsed"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "note: not root; the Debian package is not built or installed"
  finish
fi
if dpkg-query -W -f='${Status}' ctxd 2>/dev/null | grep -Eq "ok installed|config-files"; then
  if [ "${CI:-}" != true ]; then
    fail "a ctxd package is already installed: not replacing it (CI=true purges it first)"
    finish
  fi
  echo "note: purging the ctxd package an earlier, interrupted run left installed"
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ctxd >/dev/null
fi

# every file whose name holds ctxd outside the build trees and docker's, to
# tell what the package left after its purge
ctxd_files() {
  find /etc /usr /var -xdev \( -path /var/lib/docker -o -path /var/tmp \) -prune -o \
    -name '*ctxd*' -print 2>/dev/null | sort
}
ctxd_files >"$tmp/ctxd-files-before"

mkdir "$tmp/deb"
check "dpkg-buildpackage -us -uc -b (packaging/build-deb.sh)" \
  env DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" "$top/packaging/build-deb.sh" "$tmp/deb"
deb=$(ls "$tmp"/deb/ctxd_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || finish

# libcurl, libgit2 and libcrypto are opened at run time: dpkg-shlibdeps
# cannot see them, debian/control and rules name them
check "the package declares its libraries" \
  sh -c "dpkg-deb -f '$deb' Depends | grep -q libjansson && dpkg-deb -f '$deb' Depends | grep -q libcurl &&
    dpkg-deb -f '$deb' Depends | grep -q libgit2 && dpkg-deb -f '$deb' Depends | grep -q libssl"
check "apt-get install the .deb" \
  env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb"

check "/usr/bin/ctxd --version" sh -c "/usr/bin/ctxd --version | grep -qx 'ctxd $version'"

pack_from_usr_bin() {
  local proj=$tmp/proj
  mkdir -p "$proj/src" "$proj/node_modules/x"
  printf 'FROM scratch\nCOPY src /src\n' >"$proj/Dockerfile"
  echo 'node_modules' >"$proj/.dockerignore"
  echo 'main' >"$proj/src/app.js"
  echo 'junk' >"$proj/node_modules/x/index.js"
  echo 'notes' >"$proj/README"
  # a socket no daemon serves: the installed binary walks the tree itself,
  # whatever daemon another build on this machine runs
  (cd "$tmp" && CTXD_SOCKET=$tmp/no-daemon.sock /usr/bin/ctxd pack -o ctx.tar proj) || return 1
  tar -tf "$tmp/ctx.tar" | sort >"$tmp/names"
  printf '%s\n' .dockerignore Dockerfile src/ src/app.js | diff - "$tmp/names"
}
check "/usr/bin/ctxd pack (the Dockerfile's sources only)" pack_from_usr_bin

packaged=$(dpkg -L ctxd)
has_all() {
  local f
  for f in "${installed_files[@]}"; do
    case $f in
    share/zsh/*) f=share/zsh/vendor-completions/_ctxd ;; # Debian's zsh looks there
    share/man/*) f=$f.gz ;;
    esac
    grep -qx "/usr/$f" <<<"$packaged" || { echo "the package lacks /usr/$f"; return 1; }
  done
  grep -qx /usr/share/doc/ctxd/README.Debian <<<"$packaged" || { echo "the package lacks README.Debian"; return 1; }
}
check "the package holds the man pages, completions, user units and README.Debian" has_all

check "bash completes from the installed script" bash --norc -c '
  source /usr/share/bash-completion/completions/ctxd
  COMP_WORDS=(ctxd build --git-); COMP_CWORD=2; _ctxd
  COMP_WORDS=(ctxd b); COMP_CWORD=1; _ctxd; [ "${COMPREPLY[*]}" = build ]'
# The socket is enabled for every user, the service is not (README.Debian).
link=/etc/systemd/user/sockets.target.wants/ctxd.socket
socket_enabled_globally() {
  [ -L "$link" ] || { echo "no $link"; return 1; }
  command -v systemctl >/dev/null || return 0 # no systemd installed: the link is all there is
  [ "$(systemctl --global is-enabled ctxd.socket 2>&1)" = enabled ] || { echo "systemctl --global: ctxd.socket is not enabled"; return 1; }
  ! systemctl --global is-enabled ctxd.service >/dev/null 2>&1 || { echo "ctxd.service is enabled too"; return 1; }
}
check "ctxd.socket is enabled for every user, ctxd.service is not" socket_enabled_globally

if command -v lintian >/dev/null; then
  check "lintian reports no errors" lintian --fail-on error "$deb"
else
  echo "note: lintian is not installed; the package is not linted"
fi

apt_get() { env DEBIAN_FRONTEND=noninteractive apt-get -y -qq --no-install-recommends "$@"; }
removed_keeps_only_the_link() {
  apt_get remove ctxd >/dev/null || return 1
  [ ! -e /usr/bin/ctxd ] || { echo "/usr/bin/ctxd is still there"; return 1; }
  [ -L "$link" ] || { echo "remove dropped the enable link (purge's job)"; return 1; }
}
check "apt-get remove ctxd: the files go, the enable link stays" removed_keeps_only_the_link
reinstall_enables() { apt_get install "$deb" >/dev/null && [ -L "$link" ] && [ -x /usr/bin/ctxd ]; }
check "a reinstall enables the socket again" reinstall_enables
admin_disable_survives() {
  systemctl --global disable ctxd.socket >/dev/null 2>&1 || return 1
  apt_get install --reinstall "$deb" >/dev/null || return 1
  [ ! -L "$link" ] || { echo "the reinstall enabled the socket again"; return 1; }
}
if command -v systemctl >/dev/null; then
  check "systemctl --global disable survives a reinstall" admin_disable_survives
else
  echo "note: systemctl is not installed; an administrator's disable is not checked"
fi

check "apt-get purge ctxd" apt_get purge ctxd
left_behind() {
  local f left=0
  while IFS= read -r f; do
    if [ -e "$f" ] || [ -L "$f" ]; then [ -d "$f" ] || { echo "left behind: $f"; left=1; }; fi
  done <<<"$packaged"
  [ -L "$link" ] && { echo "left enabled: $link"; left=1; }
  ctxd_files | comm -13 "$tmp/ctxd-files-before" - | sed 's/^/new since the install: /' | grep . && left=1
  status=$(dpkg-query -W -f='${Status}' ctxd 2>/dev/null)
  case $status in *" installed" | *config-files) echo "dpkg still holds ctxd: $status"; left=1 ;; esac
  [ "$left" -eq 0 ]
}
check "purge leaves no file behind" left_behind
finish
