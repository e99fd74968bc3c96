#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A disk image on storage both sides share passes with the guest (issue
# 15, "Devices across a migration").  The side that runs the guest holds
# an OFD write lock on the image (seen in /proc/PID/fdinfo); the guest
# runs diskcheck (every acknowledged O_DIRECT|O_DSYNC write read back
# each pass) beside memcheck, with every device attached:
#
#   ternvm A --unix--> ternvm B1 --paused, quit    (A reverts)
#            --unix--> ternvm B2                   (B2 runs on)
#
# - a second ternvm on the image is refused at start, naming A's pid;
# - a destination opens the image at start without the lock; a --paused
#   one still has not taken it after commit: once it is gone, A's
#   `cont --revert` takes the lock back and both oracles go on on A;
# - after a completed migration B2 holds the lock and A does not; A's
#   `cont --revert` is refused while B2 runs, naming the lock; diskcheck
#   goes on in B2 and never finds a block lost or stale; B2 announces the
#   guest's MAC on its tap (five RARP frames: the tap's rx counter, as
#   the guest's own NIC is down and sends nothing).
# (A cancel and a destination killed mid-migration: migrate_cancel_test.)
LIB=$(dirname "$0")/vm_lib.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm_lib.sh
. "$LIB"
MC=${MC:-16}
VM_OPTS=${VM_OPTS:---cpus 1 --memory 128M}
. "$(dirname "$LIB")/migrate_lib.sh"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternctl/guest"
echo "1..22"

T=$(mktemp -d)
D=$T/disk.img

src_start "$T" a "$DISKCHECK,run:memcheck:$MC" $(devices "$T" a); A=$PID
wait_for "$T/a.log" "memcheck: pass .* ok" 120 || dump "$T" a
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 1
check "and diskcheck" wait_for "$T/a.log" "diskcheck: pass .* ok" 10
check "the source holds the image's lock" holds_lock $A "$D"
timeout -s KILL 30 "$TERNVM" --memory 64M --disk "$D" --kernel "$BZIMAGE" \
	--initrd "$MIG_INITRD" --append "console=ttyS0 tern.run=poweroff" \
	--console "file:$T/probe.log" >"$T/probe.out" 2>&1
rc=$?
check "a second ternvm on the image is refused (rc=$rc): $(head -n1 "$T/probe.out")" \
	sh -c "[ $rc = 1 ] && grep -q 'is locked: another VM runs on it (pid $A)' '$T/probe.out'"

# A --paused destination: nobody runs the guest, nobody holds the lock.
dst_start "$T" b1 "unix:$T/m1" --paused $(devices "$T" b1); B=$PID
check "a destination opens the image at start" sh -c "ls -l /proc/$B/fd | grep -q '$D'"
check "and does not take its lock" no_lock $B
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/m1" 2>&1)
check "migration to a --paused destination completes ($(jfield "$out" status))" \
	[ "$(jfield "$out" status)" = completed ]
check "neither side holds the lock then" sh -c "! grep -q '^lock:' /proc/$A/fdinfo/* /proc/$B/fdinfo/* 2>/dev/null"
"$TERNCTL" --socket "$T/b1.sock" quit >/dev/null
wait $B
"$TERNCTL" --socket "$T/a.sock" cont --revert >"$T/rev.out" 2>&1; rc=$?
check "once it is gone, cont --revert resumes the source (rc=$rc)" \
	[ "$rc/$(vm_status "$T/a.sock")" = 0/running ]
check "and takes the image's lock back" holds_lock $A "$D"
check "diskcheck goes on in the source" disk_moves "$T/a.log" 10

# A completed migration: the lock passes at commit.
dst_start "$T" b2 "unix:$T/m2" $(devices "$T" b2); B=$PID
ip link set tmb2 up
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/m2" 2>&1)
figures "every device attached" "$out"
check "migration completes ($(jfield "$out" status))" [ "$(jfield "$out" status)" = completed ]
check "the destination holds the image's lock" holds_lock $B "$D"
check "the source does not" no_lock $A
check "memcheck goes on in the destination" moves "$T/b2.log" 3
check "and diskcheck" disk_moves "$T/b2.log" 10
rx=/sys/class/net/tmb2/statistics/rx_packets
i=0; while [ "$(cat $rx)" -lt 5 ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
check "the destination announced the guest's MAC on its tap ($(cat $rx) frames)" \
	[ "$(cat $rx)" -ge 5 ]
"$TERNCTL" --socket "$T/a.sock" cont --revert >"$T/rev.out" 2>&1; rc=$?
check "cont --revert on the source refused while the destination runs: $(cat "$T/rev.out")" \
	sh -c "[ $rc != 0 ] && grep -q 'refused: .* is locked' '$T/rev.out'"
check "and the source stays paused" [ "$(vm_status "$T/a.sock")" = paused ]
check "no block lost or stale, on either side" sh -c \
	"! grep -q 'diskcheck: FAIL' '$T/a.log' '$T/b2.log' && grep -q 'diskcheck: pass' '$T/b2.log'"
check "no page lost or stale, on either side" sh -c \
	"! grep -q 'memcheck: FAIL' '$T/a.log' '$T/b2.log' && grep -q 'memcheck: pass' '$T/b2.log'"
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
"$TERNCTL" --socket "$T/b2.sock" quit >/dev/null
wait $A; ra=$?
wait $B; rb=$?
check "both exit 0 on quit (A=$ra B=$rb)" [ $ra/$rb = 0/0 ]
[ $TAP_FAILED = 0 ] || dump "$T" a b1 b2 probe
rm -rf "$T"
exit $TAP_FAILED
