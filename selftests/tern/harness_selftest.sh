#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness can fail: a module that WARNs at load, a test that reports a
# failure, a test that crashes without TAP, a test that overruns its
# timeout, a guest that stops its heartbeat, and a hung VM each make
# scripts/harness fail with the right exit status and the guest's console
# shown; an emulator that stops answering, or whose kernel meets its
# entry fault, is booted again, once, from the test it stopped in.  (Its passing runs are every other harness test.)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
KVER=${KVER:-$(ls -d /lib/modules/*-cloud-amd64 | sed 's|.*/||' | sort -V | tail -n1)}
TMP=$ROOT/build/harness-selftest
rm -rf "$TMP"
mkdir -p "$TMP"
n=0 failed=0

echo "TAP version 13"
echo "1..8"
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

# A guest whose heartbeat and output stop is stopped early, with every
# vCPU's place and the backtraces of its answer to an NMI shown, instead of
# waiting out --timeout.
mk silent 'echo 1..1; kill -STOP $(cat /run/harness-heartbeat.pid); sleep 600'
out=$(scripts/harness --quiet --ko none --test-timeout 1000 --stall 60 \
	--timeout 600 --out "$TMP/r6" "$TMP/silent" 2>&1)
expect "a wedged guest is stopped with its CPUs' backtraces" 2 \
	"the VM wedged (CPU#0 RIP [0-9a-f]* CPL 0.*answer to an NMI" "$out" $?

# An emulator that stops (here: SIGSTOP to QEMU once the test says so)
# answers neither the monitor nor an NMI: the VM is booted again from the
# test it stopped in, the tests before it kept, its first lines kept as
# comments, and the run passes if the tests then do.
mk first 'echo 1..1; echo "ok 1 before the stop"'
mk stops 'echo 1..1; if grep -q harness_from /proc/cmdline; then echo "ok 1 booted again"; else echo "# stop the VM now"; sleep 600; fi'
mk after 'echo 1..1; echo "ok 1 after the stop"'
scripts/harness --quiet --ko none --stall 60 --timeout 900 --out "$TMP/r7" \
	"$TMP/first" "$TMP/stops" "$TMP/after" >"$TMP/r7.out" 2>&1 &
h=$!
for ((i = 0; i < 600; i++)); do
	grep -qs 'stop the VM now' "$TMP/r7/tap.log" && break
	sleep 1
done
pkill -STOP -f "^qemu-system-x86_64 .*$TMP/r7/" || echo "# no QEMU to stop"
wait $h
rc=$? n=$((n + 1))
if ((rc == 0)) && grep -q 'stopped answering in stops' "$TMP/r7.out" &&
   grep -q '^# stopped: # stop the VM now' "$TMP/r7/tap.log" &&
   [[ $(grep -c '^ok ' "$TMP/r7/tap.log") == 4 ]] &&
   grep -q '^ok 1 booted again' "$TMP/r7/tap.log" &&
   grep -q '^ok 1 after the stop' "$TMP/r7/tap.log"; then
	echo "ok $n a stopped emulator is booted again from the test it stopped in"
else
	echo "not ok $n a stopped emulator is booted again from the test it stopped in: exit $rc"
	sed 's/^/# /' "$TMP/r7.out" "$TMP/r7/tap.log" | tail -n 30
	failed=1
fi

# The emulator's syscall-entry fault, as the console shows it, then a
# panic: booted again from that test, and the run passes if it then does.
mk faults 'echo 1..1; if grep -q harness_from /proc/cmdline; then echo "ok 1 booted again"; else
echo "traps: PANIC: double fault, error_code: 0x0" >/dev/kmsg
echo "RIP: 0010:entry_SYSCALL_64+0x0/0x29" >/dev/kmsg
echo c >/proc/sysrq-trigger; fi'
scripts/harness --quiet --ko none --timeout 600 --out "$TMP/r8" \
	"$TMP/first" "$TMP/faults" "$TMP/after" >"$TMP/r8.out" 2>&1
rc=$? n=$((n + 1))
if ((rc == 0)) && grep -q "met the emulator's entry fault in faults" "$TMP/r8.out" &&
   [[ $(grep -c '^ok ' "$TMP/r8/tap.log") == 4 ]] &&
   grep -q 'Kernel panic' "$TMP/r8/console.log"; then
	echo "ok $n a kernel that double-faulted at syscall entry is booted again"
else
	echo "not ok $n a kernel that double-faulted at syscall entry is booted again: exit $rc"
	sed 's/^/# /' "$TMP/r8.out" "$TMP/r8/tap.log" | tail -n 30
	failed=1
fi
exit $failed
