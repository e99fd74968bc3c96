#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load: the same guest migrated 3 times in a row, back and forth, then 2
# guests migrating at once between two pairs of ternvm; memcheck (the
# guest's own content oracle) must keep passing on every destination and
# the counter go on.  Every guest has every device (lib/vm.sh's fdevices).
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MC_INITRD" ] || skip_all "no ternvm/ternctl/guest"
T=$(mktemp -d)
MC_MIB=${MC_MIB:-16}

# migrate_to SRC DST-NAME: migrate SRC to a new destination DST-NAME,
# print the result on stdout.
migrate_to() {
	"$TERNCTL" --socket "$T/$1.sock" migrate "tcp:127.0.0.1:$2" 2>&1
}

start_vm a || { not_ok "source boots"; echo "1..$TAP_N"; exit 1; }
SRC=a SRC_PID=$VM_PID
check "guest runs counter and memcheck" wait_for "$T/a.log" "memcheck: pass [0-9]* ok" 120

# 3 in a row: a -> m1 -> m2 -> m3, each a new ternvm on the other "host".
for i in 1 2 3; do
	start_dest m$i; D=$VM_PID
	out=$(migrate_to $SRC $DEST_PORT)
	if echo "$out" | grep -q "^completed" && memcheck_advances m$i && counter_moves m$i; then
		ok "migration $i of 3: completed, memcheck passes on the destination"
	else
		not_ok "migration $i of 3: $out"; show_console "$T/m$i.log"
	fi
	quit_vm $SRC $SRC_PID
	SRC=m$i SRC_PID=$D
done
quit_vm $SRC $SRC_PID

# 2 guests at once, each between its own pair.
# (Each guest its own disk image: FDISK.)
FDISK=c; start_vm c && C=$VM_PID && FDISK=e && start_vm e && E=$VM_PID ||
	{ not_ok "two sources boot"; echo "1..$TAP_N"; exit 1; }
wait_for "$T/c.log" "memcheck: pass [0-9]* ok" 120 && wait_for "$T/e.log" "memcheck: pass [0-9]* ok" 120
FDISK=c; start_dest cd; CD=$VM_PID; CP=$DEST_PORT
FDISK=e; start_dest ed; ED=$VM_PID; EP=$DEST_PORT
migrate_to c $CP >"$T/c.mig" &
P1=$!
migrate_to e $EP >"$T/e.mig" &
P2=$!
wait $P1; wait $P2
for g in c e; do
	if grep -q "^completed" "$T/$g.mig" && memcheck_advances ${g}d && counter_moves ${g}d; then
		ok "concurrent migration of guest $g: completed, memcheck passes"
	else
		not_ok "concurrent migration of guest $g: $(cat "$T/$g.mig")"; show_console "$T/${g}d.log"
	fi
done
check "no sanitizer report" no_san_report "$T"/*.out
for g in c e; do
	check "guest $g's kernel log clean" guest_log_clean "$T/${g}d.log"
done
quit_vm c $C; quit_vm e $E; quit_vm cd $CD; quit_vm ed $ED
echo "1..$TAP_N"
rm -rf "$T"
exit $TAP_FAILED
