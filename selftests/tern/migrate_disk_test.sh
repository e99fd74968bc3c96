#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A disk image on storage both sides share passes with the guest (issue
# 15, "Devices across a migration").  The side that runs the guest holds
# an OFD write lock on the image (seen in /proc/PID/fdinfo):
#
#   ternvm A (memcheck, --disk D) --unix--> ternvm B1 (cancelled)
#                                 --unix--> ternvm B2 (completed)
#
# - a second ternvm on D is refused at start, naming A's pid;
# - a destination opens D at start without the lock; after a cancelled
#   migration A still holds it and runs, B1 never took it;
# - after a completed one B2 holds it and A does not; A's `cont --revert`
#   is refused while B2 runs, naming the lock; once B2 is gone the revert
#   takes the lock back.
LIB=$(dirname "$0")/vm_lib.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm_lib.sh
. "$LIB"
MC=${MC:-16}
VM_OPTS=${VM_OPTS:---cpus 1 --memory 128M}
. "$(dirname "$LIB")/migrate_lib.sh"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternctl/guest"
echo "1..21"

T=$(mktemp -d)
D=$T/disk.img
dd if=/dev/zero of="$D" bs=1M count=16 2>/dev/null
DEV="--disk $D --rng --vconsole $T/vcon.out"

# fd_of PID FILE: prints the fd number PID has FILE open on; 1 if none.
fd_of() {
	for _f in /proc/$1/fd/*; do
		[ "$(readlink "$_f")" = "$2" ] && { echo "${_f##*/}"; return 0; }
	done
	return 1
}
# holds_lock PID FILE: PID has FILE open with a write lock on it.
holds_lock() {
	_fd=$(fd_of "$1" "$2") || return 1
	grep -q '^lock:.*OFDLCK.*WRITE' "/proc/$1/fdinfo/$_fd"
}
# no_lock PID: PID holds no file lock at all.
no_lock() { ! grep -q '^lock:' /proc/$1/fdinfo/* 2>/dev/null; }
# probe N: a third ternvm on D (powers off at once if it ever boots).
probe() {
	timeout -s KILL 30 "$TERNVM" --memory 64M $DEV --kernel "$BZIMAGE" \
		--initrd "$MIG_INITRD" --append "console=ttyS0 tern.run=poweroff" \
		--console "file:$T/probe$1.log" >"$T/probe$1.out" 2>&1
}

src_start "$T" a "run:memcheck:$MC" $DEV; A=$PID
wait_for "$T/a.log" "memcheck: pass .* ok" 120 || dump "$T" a
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 1
check "the source holds the image's lock" holds_lock $A "$D"
probe 1; rc=$?
check "a second ternvm on the image is refused (rc=$rc): $(head -n1 "$T/probe1.out")" \
	sh -c "[ $rc = 1 ] && grep -q 'is locked: another VM runs on it (pid $A)' '$T/probe1.out'"

# A cancelled migration: the lock never moves.
dst_start "$T" b1 "unix:$T/m1" $DEV; B=$PID
check "a destination opens the image at start" sh -c "ls -l /proc/$B/fd | grep -q '$D'"
check "and does not take its lock" no_lock $B
"$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/m1" --max-bandwidth 2000000 \
	>"$T/m1.out" 2>&1 &
M=$!
guard $M 120 $A $B
wait_state "$T/a.sock" active 30
"$TERNCTL" --socket "$T/a.sock" migrate-cancel >/dev/null
wait $M
out=$(cat "$T/m1.out")
wait $B
check "cancelled in pre-copy ($(jfield "$out" status))" [ "$(jfield "$out" status)" = cancelled ]
check "after the cancel the source runs" [ "$(vm_status "$T/a.sock")" = running ]
check "and still holds the image's lock" holds_lock $A "$D"
probe 2; rc=$?
check "a ternvm on the image is still refused (rc=$rc)" \
	sh -c "[ $rc = 1 ] && grep -q 'pid $A' '$T/probe2.out'"

# A completed migration: the lock passes at commit.
dst_start "$T" b2 "unix:$T/m2" $DEV; B=$PID
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/m2" --max-bandwidth 0 2>&1)
figures "with disk, rng, vconsole" "$out"
check "migration completes ($(jfield "$out" status))" [ "$(jfield "$out" status)" = completed ]
check "the destination holds the image's lock" holds_lock $B "$D"
check "the source does not" no_lock $A
check "memcheck goes on in the destination" moves "$T/b2.log" 3
"$TERNCTL" --socket "$T/a.sock" cont --revert >"$T/rev.out" 2>&1; rc=$?
check "cont --revert on the source refused while the destination runs: $(cat "$T/rev.out")" \
	sh -c "[ $rc != 0 ] && grep -q 'refused: .* is locked' '$T/rev.out'"
check "and the source stays paused" [ "$(vm_status "$T/a.sock")" = paused ]
"$TERNCTL" --socket "$T/b2.sock" quit >/dev/null
wait $B; rb=$?
check "the destination quits (rc=$rb)" [ $rb = 0 ]
"$TERNCTL" --socket "$T/a.sock" cont --revert >/dev/null 2>&1; rc=$?
check "once it is gone cont --revert resumes the source (rc=$rc)" \
	[ "$rc/$(vm_status "$T/a.sock")" = 0/running ]
check "and takes the image's lock back" holds_lock $A "$D"
check "memcheck goes on in the source" moves "$T/a.log" 3
check "no page lost or stale, on either side" \
	sh -c "grep -q 'memcheck: pass' '$T/a.log' && ! grep -q 'memcheck: FAIL' '$T/a.log' '$T/b2.log'"
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
wait $A; ra=$?
check "the source exits 0 on quit (rc=$ra)" [ $ra = 0 ]
[ $TAP_FAILED = 0 ] || dump "$T" a b1 b2 probe1
rm -rf "$T"
exit $TAP_FAILED
