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
#   goes on in B2 and never finds a block lost or stale;
# - the network oracle: A's and B2's taps are ports of one bridge (the
#   harness's 10.0.2.2, as a switch and a host); the guest pings it every
#   200 ms throughout; B2 announces the guest's MAC on its tap (five RARP
#   frames, tern-tap-sniff), and the pings are answered again within 2 s
#   of the migration's end (the guest-seen gap is printed).
# - the source's MAC is the user's (--net tap=tma,mac=...): the guest sees
#   it, and B2 (with a MAC of its own on its command line) keeps and
#   announces the guest's.
# (A cancel and a destination killed mid-migration: migrate_cancel_test.)
# Before the library, whose defaults are larger.
MC=${MC:-16}
VM_OPTS=${VM_OPTS:---cpus 1 --memory 128M}
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternctl/guest"
echo "1..26"

SNIFF=${SNIFF:-$(command -v tern-tap-sniff)}
[ -x "$SNIFF" ] || skip_all "no tern-tap-sniff"
T=$(mktemp -d)
D=$T/disk.img
UMAC=52:54:00:be:ef:15		# the user's MAC for the guest (--net mac=)
# port TAP: TAP joins the bridge, up.
port() { brctl addif tbr "$1" && ip link set "$1" up; }
ip link add tbr type bridge && ip addr add 10.0.2.2/24 dev tbr && ip link set tbr up
# seqs FILE: the ping replies' sequence numbers on console FILE.
seqs() { grep -o 'from 10.0.2.2: seq=[0-9]*' "$1" | cut -d= -f2; }

# (The sleep lets the test put the tap on the bridge before `net` pings.)
src_start "$T" a "$DISKCHECK,run:sleep:3,net,bg:ping:-i:0.2:10.0.2.2,run:memcheck:$MC" \
	$(devices "$T" a mac=$UMAC); A=$PID
port tma
wait_for "$T/a.log" "memcheck: pass .* ok" 120 || dump "$T" a
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 1
check "and diskcheck" wait_for "$T/a.log" "diskcheck: pass .* ok" 10
check "and the guest's pings are answered over its tap" wait_for "$T/a.log" "from 10.0.2.2: seq=" 10
mac=$(sed -n 's/.*tern-guest: net mac \([0-9a-f:]*\).*/\1/p' "$T/a.log")
check "the guest's MAC is the user's ($UMAC): ${mac:-none}" [ "$mac" = $UMAC ]
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
check "migration to a --paused destination completes ($(jget "$out" status))" \
	[ "$(jget "$out" status)" = completed ]
check "neither side holds the lock then" sh -c "! grep -q '^lock:' /proc/$A/fdinfo/* /proc/$B/fdinfo/* 2>/dev/null"
"$TERNCTL" --socket "$T/b1.sock" quit >/dev/null
wait $B
"$TERNCTL" --socket "$T/a.sock" cont --revert >"$T/rev.out" 2>&1; rc=$?
check "once it is gone, cont --revert resumes the source (rc=$rc)" \
	[ "$rc/$(vm_status "$T/a.sock")" = 0/running ]
check "and takes the image's lock back" holds_lock $A "$D"
check "diskcheck goes on in the source" disk_moves "$T/a.log" 10

# A completed migration: the lock passes at commit.
dst_start "$T" b2 "unix:$T/m2" $(devices "$T" b2 mac=52:54:00:00:0b:02); B=$PID
port tmb2
"$SNIFF" tmb2 0x8035 30 >"$T/sniff.out" 2>&1 &
S=$!
wait_for "$T/sniff.out" listening 5
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/m2" 2>&1)
t_done=$(now)
wait_for "$T/b2.log" "from 10.0.2.2: seq=" 10
t_ping=$(now)
figures "every device attached" "$out"
check "migration completes ($(jget "$out" status))" [ "$(jget "$out" status)" = completed ]
check "the destination holds the image's lock" holds_lock $B "$D"
check "the source does not" no_lock $A
check "memcheck goes on in the destination" moves "$T/b2.log" 3
check "and diskcheck" disk_moves "$T/b2.log" 10
dt=$(awk "BEGIN { print $t_ping - $t_done }")
last=$(seqs "$T/a.log" | tail -n1) first=$(seqs "$T/b2.log" | head -n1)
echo "# network: replies again $dt s after the migration ended; guest-seen gap:" \
	"seq ${last:-none} -> ${first:-none}, $(( (${first:-0} - ${last:-0}) * 200 )) ms"
check "the guest's pings are answered again within 2 s ($dt s)" \
	sh -c "[ -n '$first' ] && awk 'BEGIN { exit !($dt < 2) }'"
i=0
while [ "$(grep -c "frame .* $mac" "$T/sniff.out")" -lt 5 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $S 2>/dev/null; wait $S 2>/dev/null
sed 's/^/# sniff: /' "$T/sniff.out" | head -n 8
check "the destination announced the guest's MAC ${mac:-?} on its tap, 5 times" \
	[ -n "$mac" -a "$(grep -c "frame .* $mac" "$T/sniff.out")" = 5 ]
check "and said its own mac= does not apply to this guest" \
	grep -q "the guest keeps its MAC $UMAC; mac=52:54:00:00:0b:02" "$T/b2.out"
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
ip link del tbr
rm -rf "$T"
exit $TAP_FAILED
