#!/usr/bin/env bash
# Runs a docker-oracle test only where the oracle exists: the docker CLI
# 28.2.2 first on PATH (Debian's docker.io ships an older 20.10 CLI whose
# answers differ). Elsewhere the test is skipped (exit 77), unless
# CTXD_REQUIRE_ORACLE=1, as in CI, which makes a missing oracle a failure.
v=$(docker --version 2>/dev/null)
case "$v" in
  "Docker version 28.2.2,"*) exec "$@" ;;
esac
echo "the oracle, docker CLI 28.2.2, is not first on PATH (found: ${v:-none})"
[ "${CTXD_REQUIRE_ORACLE:-0}" = 1 ] && { echo "0 passed, 1 failed"; exit 1; }
exit 77
