#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Who runs the guest when a migration meets an inconvenient point (issue
# 15), one source guest running memcheck through every case:
#
#   ternvm A (memcheck) --tcp--> ternvm-test B1 (KVM refuses KVM_SET_SREGS)
#                       --tcp--> a port whose backlog is full (no SYN-ACK)
#                       --tcp--> ternvm B3 --incoming --paused
#
# 1. restore failure: a destination whose KVM refuses a vCPU SET (the
#    test build's hook) fails before `ready`, naming vCPU and ioctl; the
#    source resumes and memcheck goes on.
# 2. cancel during connect: a destination that never answers SYN (the
#    proxy's --no-syn listener): migrate-cancel ends it `cancelled` within
#    1 s, the source runs; later a quit during such a connect exits at once.
LIB=$(dirname "$0")/vm_lib.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm_lib.sh
. "$LIB"
. "$(dirname "$LIB")/migrate_lib.sh"

TERNVM_TEST=${TERNVM_TEST:-$(command -v ternvm-test)}
[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNVM_TEST" ] && [ -x "$TERNCTL" ] && [ -x "$PROXY" ] &&
	[ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternvm-test/ternctl/proxy/guest"
echo "1..13"

T=$(mktemp -d)
src_start "$T" a "run:memcheck:$MC"; A=$PID
wait_for "$T/a.log" "memcheck: pass .* ok" 120 || dump "$T" a
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 1

# 1. The destination cannot restore vCPU 0: it must say so before `ready`.
TERNVM_SAVED=$TERNVM TERNVM=$TERNVM_TEST
export TERN_TEST_REFUSE=KVM_SET_SREGS@0
dst_start "$T" b1 tcp:127.0.0.1:4701; B=$PID
unset TERN_TEST_REFUSE
TERNVM=$TERNVM_SAVED
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate tcp:127.0.0.1:4701 2>&1)
echo "# restore failure: $out"
# (A destination that answered `ready` runs a broken guest: stop it.)
[ "$(jfield "$out" status)" = failed ] || kill -9 $B
wait $B; rb=$?
check "restore failure: migration fails ($(jfield "$out" status))" \
	[ "$(jfield "$out" status)" = failed ]
check "restore failure: the error names the vCPU and the ioctl" \
	names "$(jstr "$out" error)" "vCPU 0: KVM_SET_SREGS: Invalid argument"
check "restore failure: the destination never ran the guest and exits 1 (rc=$rb)" \
	sh -c "[ $rb = 1 ] && ! grep -q 'memcheck: pass' '$T/b1.log'"
check "restore failure: source guest running again" [ "$(vm_status "$T/a.sock")" = running ]
check "restore failure: and memcheck goes on" moves "$T/a.log" 5
[ $TAP_FAILED = 0 ] || dump "$T" a b1

# 2. A destination that never answers SYN: the cancel ends connect().
"$PROXY" --listen 4702 --no-syn >"$T/ns.out" 2>&1 &
NS=$!
wait_for "$T/ns.out" listening 5
"$TERNCTL" --socket "$T/a.sock" --json migrate tcp:127.0.0.1:4702 >"$T/m2.out" 2>&1 &
M=$!
guard $M 60
sleep 1
st=$(jfield "$(qm "$T/a.sock")" status)
t0=$(now)
"$TERNCTL" --socket "$T/a.sock" migrate-cancel >/dev/null
wait $M
t1=$(now)
out=$(cat "$T/m2.out")
echo "# cancel during connect: $out"
check "cancel during connect: caught in setup ($st)" [ "$st" = setup ]
check "cancel during connect: ends cancelled ($(jfield "$out" status))" \
	[ "$(jfield "$out" status)" = cancelled ]
check "cancel during connect: within 1 s ($(awk "BEGIN { print $t1 - $t0 }") s)" \
	awk "BEGIN { exit !($t1 - $t0 < 1) }"
check "cancel during connect: source guest running" [ "$(vm_status "$T/a.sock")" = running ]
check "cancel during connect: and memcheck goes on" moves "$T/a.log" 5

check "no page lost or stale on the source, ever" memcheck_ok "$T/a.log"
# quit during a connect that never completes: no wait for its timeout.
"$TERNCTL" --socket "$T/a.sock" migrate tcp:127.0.0.1:4702 >/dev/null 2>&1 &
sleep 1
t0=$(now)
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
wait $A; ra=$?
t1=$(now)
check "quit during connect: ternvm exits 0 within 2 s (rc=$ra, $(awk "BEGIN { print $t1 - $t0 }") s)" \
	sh -c "[ $ra = 0 ] && awk 'BEGIN { exit !($t1 - $t0 < 2) }'"
kill $NS 2>/dev/null
wait $NS 2>/dev/null
[ $TAP_FAILED = 0 ] || dump "$T" a
rm -rf "$T"
exit $TAP_FAILED
