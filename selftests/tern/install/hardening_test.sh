#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The installed programs are built hardened (issue 18, item 6), as
# Debian's hardening=+all builds its packages: position-independent with
# full RELRO (read-only GOT after BIND_NOW), stack protector; and, in a
# build without the sanitizers, _FORTIFY_SOURCE's checked calls.
. "$(dirname "$0")/../host_lib.sh"
[[ $BIN == */san ]] && SAN=1 || SAN=0
PROGS="ternvm ternctl tern-state-dump"

echo "1..$((5 * 3))"
for p in $PROGS; do
	f=$BIN/$p
	check "$p: position-independent executable" \
		sh -c "readelf -h '$f' | grep -q 'Type:.*DYN' && readelf -d '$f' | grep -q 'FLAGS_1.*PIE'"
	check "$p: GNU_RELRO segment" sh -c "readelf -lW '$f' | grep -q GNU_RELRO"
	check "$p: bound now (full RELRO)" sh -c "readelf -d '$f' | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'"
	check "$p: stack protector" sh -c "nm -D '$f' | grep -q ' U __stack_chk_fail'"
	if ((SAN)); then
		# ASan replaces the checked calls: a sanitized build leaves it out.
		n=$((n + 1)); echo "ok $n $p: _FORTIFY_SOURCE # SKIP sanitized build"
	else
		check "$p: _FORTIFY_SOURCE checked calls" sh -c "nm -D '$f' | grep -Eq ' U __[a-z_]+_chk(@|$)'"
	fi
done
exit $rc
