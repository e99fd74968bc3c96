#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ternvm's seccomp sandbox (issue 18): on by default, so every test that
# runs ternvm runs it sandboxed; here its vCPU, I/O and migration threads
# are seen filtered (/proc: Seccomp 2); a thread of each class that makes
# a call outside its allow-list (ternvm-test's TERN_TEST_FORBIDDEN_CALL=
# vcpu|io|migration: that class's thread calls mknodat as it starts) ends
# ternvm at once, status 1, with a line naming the class and the call;
# and with --sandbox off the same build boots.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
TERNVM_TEST=${TERNVM_TEST:-$(command -v ternvm-test)}
[ -x "$TERNVM" ] && [ -x "$TERNVM_TEST" ] && [ -r "$BZIMAGE" ] && [ -r "$INITRD" ] ||
	skip_all "no ternvm, ternvm-test or guest image"
echo "1..11"
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

# A destination waiting for its source: its migration thread is filtered.
PORT=$((20000 + $$ % 20000))
"$TERNVM" --memory 256M --incoming "tcp:127.0.0.1:$PORT" >"$T/d.out" 2>&1 &
D=$!
i=0
while [ $i -lt 100 ] && ! filtered $D migration; do sleep 0.1; i=$((i + 1)); done
check "a waiting destination's migration thread is filtered" filtered $D migration
kill $D 2>/dev/null
wait $D 2>/dev/null

# forbidden CLASS PHRASE ARGS...: ternvm-test whose CLASS thread calls
# mknodat as it starts ends with status 1, naming PHRASE and the call.
forbidden() {
	_c=$1 _p=$2
	shift 2
	TERN_TEST_FORBIDDEN_CALL=$_c "$TERNVM_TEST" "$@" >"$T/$_c.out" 2>&1 &
	_b=$!
	wait_exit $_b 60
	check "$_p thread's forbidden call ends ternvm with status 1 (rc=$EXIT_RC)" \
		test "$EXIT_RC" = 1
	check "naming the class and the call: $(grep -m1 sandbox "$T/$_c.out")" \
		grep -q "the sandbox stopped $_p thread at the system call mknodat" "$T/$_c.out"
}
forbidden vcpu "a vCPU" $ARGS --console "file:$T/b.log"
check "before the guest ran" sh -c "! grep -q 'tern-guest: init started' '$T/b.log'"
forbidden io "an I/O" $ARGS --console "file:$T/io.log"
forbidden migration "a migration" --memory 256M --incoming "tcp:127.0.0.1:$((PORT + 1))"

TERNVM=$TERNVM_TEST
export TERN_TEST_FORBIDDEN_CALL=vcpu
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
