#!/bin/sh
set -e
. /scripts/lib/common.sh
mkdir -p "$1"
log built > "$1/result.txt"
find /scripts | sort >> "$1/result.txt"
