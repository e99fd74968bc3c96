#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every program answers --version with one line "PROG VERSION", the same
# VERSION for all three, the one the build wrote into gen/tern_version.h,
# and it begins with the release in the tree's VERSION file; tern.ko's
# modinfo version is that release.  (That
# ternvm's query-status and the migration hello carry it too is checked by
# vm_control_test and migration_test.)
. "$(dirname "$0")/../host_lib.sh"
release=$(cat "$ROOT/VERSION")
built=$(sed -n 's/^#define TERN_VERSION "\(.*\)"$/\1/p' "$BIN/gen/tern_version.h")

echo "1..5"
if [[ $built == "$release" || $built == "$release"-* ]]; then
	ok "built version '$built' is release $release"
else
	fail "built version '$built' does not begin with VERSION's '$release'"
fi
for p in ternvm ternctl tern-state-dump; do
	out=$("$BIN/$p" --version 2>&1)
	r=$?
	if ((r == 0)) && [[ $out == "$p $built" ]]; then
		ok "$p --version: $out"
	else
		fail "$p --version (rc=$r): '$out', want '$p $built'"
	fi
done
ko=$ROOT/kmod/tern.ko
v=$(modinfo -F version "$ko" 2>&1)
if [[ $v == "$release" ]]; then
	ok "tern.ko's modinfo version is $v"
else
	fail "tern.ko's modinfo version: '$v', want '$release' ($ko)"
fi
exit $rc
