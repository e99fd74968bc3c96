#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ternvm's seccomp sandbox (issue 18): on by default, so every test that
# runs ternvm runs it sandboxed; here its vCPU and I/O threads are seen
# filtered (/proc: Seccomp 2), a vCPU thread that makes a call outside
# its class (ternvm-test's TERN_TEST_FORBIDDEN_CALL: it opens "/") ends
# ternvm at once, status 1, with a line naming the thread and the call,
# and with --sandbox off the same build boots.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
TERNVM_TEST=${TERNVM_TEST:-$(command -v ternvm-test)}
[ -x "$TERNVM" ] && [ -x "$TERNVM_TEST" ] && [ -r "$BZIMAGE" ] && [ -r "$INITRD" ] ||
	skip_all "no ternvm, ternvm-test or guest image"
echo "1..6"
T=$(mktemp -d)
ARGS="--kernel $BZIMAGE --initrd $INITRD --memory 256M --append console=ttyS0"

# filtered PID COMM: the thread COMM of PID runs under a seccomp filter.
filtered() {
	for _t in /proc/$1/task/*; do
		[ "$(cat $_t/comm)" = "$2" ] || continue
		grep -q '^Seccomp:[[:space:]]*2' $_t/status && return 0
	done
	return 1
}

if boot_guest "$T/a.log" "$T/a.out" "tern-guest: init started" 120 $ARGS \
	--console "file:$T/a.log" --control "$T/a.sock"; then
	check "by default the vCPU thread is filtered" filtered $PID vcpu0
	check "and the I/O thread" filtered $PID io
	"$TERNCTL" --socket "$T/a.sock" quit >/dev/null 2>&1
	wait_exit $PID 20
else
	not_ok "by default the vCPU thread is filtered (no boot)"; show_console "$T/a.out"
	not_ok "and the I/O thread"
	kill -9 $PID 2>/dev/null
fi

TERN_TEST_FORBIDDEN_CALL=1 "$TERNVM_TEST" $ARGS --console "file:$T/b.log" >"$T/b.out" 2>&1 &
B=$!
wait_exit $B 60
check "a vCPU thread's forbidden call ends ternvm with status 1 (rc=$EXIT_RC)" test "$EXIT_RC" = 1
check "naming the thread and the call: $(grep -m1 sandbox "$T/b.out")" \
	grep -q "the sandbox stopped a vCPU thread at the system call openat" "$T/b.out"
check "before the guest ran" sh -c "! grep -q 'tern-guest: init started' '$T/b.log'"

TERNVM=$TERNVM_TEST
export TERN_TEST_FORBIDDEN_CALL=1
if boot_guest "$T/c.log" "$T/c.out" "tern-guest: init started" 120 $ARGS --sandbox off \
	--console "file:$T/c.log" --control "$T/c.sock"; then
	ok "with --sandbox off the same call is let through and the guest boots"
	"$TERNCTL" --socket "$T/c.sock" quit >/dev/null 2>&1
	wait_exit $PID 20
else
	not_ok "with --sandbox off the same call is let through and the guest boots"
	show_console "$T/c.out"
	kill -9 $PID 2>/dev/null
fi
unset TERN_TEST_FORBIDDEN_CALL
rm -rf "$T"
exit $TAP_FAILED
