#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module builds clean under sparse (C=1: address spaces, __le/__be
# wire fields, context imbalance) and the kernel's W=1 warnings.  A copy of
# its sources is built in a temporary tree, so kmod/'s objects are untouched.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sed 's|.*/||' | sort -V | tail -n1)}
KDIR=/lib/modules/$KVER/build
echo "TAP version 13"
echo "1..1"
if ! command -v sparse >/dev/null || [[ ! -d $KDIR ]]; then
	echo "not ok 1 sparse and W=1: sparse or $KDIR missing (scripts/deps.sh)"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/include/uapi/linux"
cp -r "$ROOT/kmod" "$tmp/"
cp "$ROOT/include/uapi/linux/tern.h" "$tmp/include/uapi/linux/"
rm -f "$tmp"/kmod/*.o "$tmp"/kmod/*/*.o "$tmp"/kmod/*.ko "$tmp"/kmod/*.mod*
echo 'obj-m += kmod/' >"$tmp/Kbuild"
out=$(make -s -C "$KDIR" M="$tmp" C=1 W=1 CONFIG_TERN_DEBUG=y modules 2>&1 |
      grep -E 'warning:|error:' | sed "s|$tmp/||")
if [[ -z $out ]]; then
	echo "ok 1 sparse and W=1: no warning in kmod/"
else
	echo "not ok 1 sparse and W=1: $(wc -l <<<"$out") warnings"
	sed 's/^/# /' <<<"$out" | head -n 40
	exit 1
fi
