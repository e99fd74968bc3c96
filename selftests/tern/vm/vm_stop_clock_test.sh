#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A guest stopped for 20 s (a long `stop`, or a switchover that failed
# after its timeout) goes on at once after `cont`: its sleeping tasks
# wake, because its clock stood still while it was stopped (kvmclock
# set back to the moment of the stop, as QEMU does).  Before, the
# guest's counter (a usleep loop beside memcheck) did not move for over
# 10 s after `cont`: the fault campaign's "source counter stuck" after a
# stall during switchover.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MC_INITRD" ] || skip_all "no ternvm/ternctl/guest"
STOP=${STOP:-20}
T=$(mktemp -d)
echo "1..4"
if ! start_vm a || ! wait_for "$T/a.log" "tern-counter 5" 60; then
	not_ok "guest runs counter and memcheck"; show_console "$T/a.log"
	kill $VM_PID 2>/dev/null; wait $VM_PID; rm -rf "$T"; exit 1
fi
ok "guest runs counter and memcheck"
"$TERNCTL" --socket "$T/a.sock" stop >/dev/null
sleep "$STOP"
"$TERNCTL" --socket "$T/a.sock" cont >/dev/null
check "its counter moves within 10 s of cont after a $STOP s stop" counter_moves a
check "and memcheck passes" memcheck_advances a
quit_vm a $VM_PID
check "guest kernel log clean" guest_log_clean "$T/a.log"
[ $TAP_FAILED = 0 ] || show_console "$T/a.log"
rm -rf "$T"
exit $TAP_FAILED
