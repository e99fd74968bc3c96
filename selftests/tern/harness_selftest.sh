#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness can fail: a module that WARNs at load, a test that reports a
# failure, a test that crashes without TAP, a test that overruns its
# timeout, a guest that stops making output, and a hung VM each make
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
echo "1..6"
# expect NAME WANT_RC PATTERN OUTPUT RC
expect() {
	n=$((n + 1))
	if [[ $5 == "$2" ]] && grep -q -- "$3" <<<"$4" &&
	   grep -q -- "last [0-9]* lines of the guest console" <<<"$4"; then
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
# A test past its timeout is killed, after sysrq put the blocked tasks and
# every CPU's backtrace on the console; the run goes on to the next test.
scripts/harness --quiet --ko none --test-timeout 20 --out "$TMP/r5" \
	"$TMP/hangs" "$TMP/reports_failure" >"$TMP/r5.out" 2>&1
rc=$? n=$((n + 1))
if ((rc == 1)) && grep -q '^# timed out after 20s' "$TMP/r5/tap.log" &&
   grep -q '^### end reports_failure' "$TMP/r5/tap.log" &&
   grep -q 'Show Blocked State' "$TMP/r5/console.log" &&
   grep -q 'NMI backtrace for cpu' "$TMP/r5/console.log"; then
	echo "ok $n a test past its timeout is killed with the stacks shown"
else
	echo "not ok $n a test past its timeout is killed with the stacks shown: exit $rc"
	sed 's/^/# /' "$TMP/r5/tap.log" | tail -n 20
	failed=1
fi

# A guest that stops making output is stopped early, with every vCPU's
# place and backtrace shown, instead of waiting out --timeout.
out=$(scripts/harness --quiet --ko none --test-timeout 1000 --stall 30 \
	--timeout 600 --out "$TMP/r6" "$TMP/hangs" 2>&1)
expect "a wedged guest is stopped with its CPUs' backtraces" 2 \
	"the guest wedged (CPU#0 RIP [0-9a-f]* CPL 0" "$out" $?
exit $failed
