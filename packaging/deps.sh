# The Debian packages ctxd builds from (meson.build's dependencies, scdoc for
# the man pages), and a function installing whichever are missing. Sourced
# by examples/demo.sh and tests/run-all.sh, so the two README commands ask
# for the same set on a fresh machine.
ctxd_build_deps=(meson ninja-build pkg-config gcc git python3
                 libuv1-dev libgit2-dev libxxhash-dev libarchive-dev libpcre2-dev
                 libjansson-dev libcurl4-openssl-dev libssl-dev libcmocka-dev scdoc)

ctxd_install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
