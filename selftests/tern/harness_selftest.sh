#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness can fail: a module that WARNs at load, a test that reports a
# failure, a test that crashes without TAP, and a hung VM each make
# scripts/harness fail with the right exit status and the guest's console
# shown.  (Its passing runs are every other harness test.)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
KVER=${KVER:-$(ls -d /lib/modules/*-cloud-amd64 | sed 's|.*/||' | sort -V | tail -n1)}
TMP=$ROOT/build/harness-selftest
rm -rf "$TMP"
mkdir -p "$TMP"
n=0 failed=0

echo "TAP version 13"
echo "1..4"
# expect NAME WANT_RC PATTERN OUTPUT RC
expect() {
	n=$((n + 1))
	if [[ $5 == "$2" ]] && grep -q -- "$3" <<<"$4" &&
	   grep -q -- "last 60 lines of the guest console" <<<"$4"; then
		echo "ok $n $1"
	else
		echo "not ok $n $1: exit $5 (want $2), output:"
		sed 's/^/# /' <<<"$4" | tail -n 30
		failed=1
	fi
}

cp -r selftests/tern/harness_warn "$TMP/warn"
make -s -C "/lib/modules/$KVER/build" M="$TMP/warn" modules >"$TMP/build.log" 2>&1 ||
	{ echo "Bail out! cannot build the WARN module: $(tail -n5 "$TMP/build.log")"; exit 1; }

mk() { printf '#!/bin/sh\n%s\n' "$2" >"$TMP/$1"; chmod +x "$TMP/$1"; }
mk warn_at_load 'insmod /lib/modules/tern_harness_warn.ko; echo 1..1; echo "ok 1 loaded"'
mk reports_failure 'echo 1..2; echo "ok 1 fine"; echo "not ok 2 deliberately failing"'
mk crashes 'echo 1..3; echo "ok 1 fine"; kill -SEGV $$'
mk hangs 'echo 1..1; sleep 600'

out=$(scripts/harness --quiet --out "$TMP/r1" \
	--file "$TMP/warn/tern_harness_warn.ko:/lib/modules/tern_harness_warn.ko" \
	"$TMP/warn_at_load" 2>&1)
expect "a kernel WARNING fails the run and shows the log" 1 "deliberate warning" "$out" $?

out=$(scripts/harness --quiet --out "$TMP/r2" "$TMP/reports_failure" 2>&1)
expect "a not-ok test case fails the run" 1 "deliberately failing" "$out" $?

out=$(scripts/harness --quiet --out "$TMP/r3" "$TMP/crashes" 2>&1)
expect "a test killed by a signal fails the run" 1 "exited with status 139" "$out" $?

out=$(scripts/harness --quiet --timeout 40 --out "$TMP/r4" "$TMP/hangs" 2>&1)
expect "a hung run times out and fails" 2 "timed out after 40s" "$out" $?
exit $failed
