#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Before commit, any failure leaves the guest with the source: a migration
# cancelled during setup, pre-copy and switchover, and one whose
# destination is killed (SIGKILL) in each of those phases, ends cancelled
# or failed with the source guest running again and memcheck (64 MiB,
# every page checked each pass) seeing no lost or stale page; a cancelled
# destination exits 1 saying why.  The fault proxy holds the destination's
# answers (after welcome: setup; before ready: switchover) and a bandwidth
# cap keeps pre-copy going, so each phase is caught for sure.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -x "$PROXY" ] && [ -r "$MIG_INITRD" ] ||
	skip_all "no ternvm/ternctl/proxy/guest"
echo "1..37"

T=$(mktemp -d)
src_start "$T" a "$DISKCHECK,run:memcheck:$MC" $(devices "$T" a); A=$PID
wait_for "$T/a.log" "memcheck: pass .* ok" 120 || dump "$T" a
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 1

disk_kept() { disk_moves "$T/a.log" 10 && holds_lock $A "$T/disk.img"; }

# case HOW PHASE STATE PROXY-OPTS [migrate options]: cancel the migration
# or kill -9 its destination once the source is in STATE.
n=0
case_() {
	how=$1 phase=$2 state=$3 popts=$4
	shift 4
	n=$((n + 1))
	dp=$((4500 + n)) pp=$((4600 + n))
	dst_start "$T" b$n "tcp:127.0.0.1:$dp" $(devices "$T" b$n); B=$PID
	"$TERNCTL" --socket "$T/b$n.sock" migrate-set-parameters --channels 2 >/dev/null
	"$PROXY" --listen $pp --connect $dp $popts >"$T/p$n.out" 2>&1 &
	P=$!
	# Under load a proxy can take seconds to listen: wait for it.
	wait_for "$T/p$n.out" listening 20
	"$TERNCTL" --socket "$T/a.sock" --json migrate "tcp:127.0.0.1:$pp" "$@" >"$T/m$n.out" 2>&1 &
	M=$!
	guard $M 120 $A $B $P
	if wait_state "$T/a.sock" "$state" 60; then
		sleep 0.5
		st=$(jget "$(qm "$T/a.sock")" status)
	else
		st="never $state"
	fi
	if [ $how = cancel ]; then
		"$TERNCTL" --socket "$T/a.sock" migrate-cancel >/dev/null
		want=cancelled
	else
		kill -9 $B
		want=failed
	fi
	wait $M
	out=$(cat "$T/m$n.out")
	echo "# $how/$phase: $out"
	check "$how/$phase: caught the source in $state (it was $st)" [ "$st" = "$state" ]
	check "$how/$phase: migration ends $want ($(jget "$out" status))" [ "$(jget "$out" status)" = $want ]
	check "$how/$phase: source guest running again" [ "$(vm_status "$T/a.sock")" = running ]
	check "$how/$phase: and memcheck goes on" moves "$T/a.log" 2
	check "$how/$phase: diskcheck goes on, the source keeps the disk's lock" disk_kept
	if [ $how = cancel ]; then
		wait $B; rb=$?
		check "$how/$phase: destination exits 1 saying why (rc=$rb)" \
			sh -c "[ $rb = 1 ] && grep -q 'incoming migration .* failed' '$T/b$n.out'"
	else
		wait $B 2>/dev/null
	fi
	kill $P 2>/dev/null
	wait $P 2>/dev/null
	[ $TAP_FAILED = 0 ] || dump "$T" b$n p$n
}

# The destination's answers: welcome, ramblocks-ok (8 bytes), a drained
# per round, ready.  The welcome is 24 bytes and its release string
# (MIG_A_RELEASE: a 4-byte attribute header, the string and its NUL,
# padded to 4), whose length depends on the build (git describe), so the
# stall offset is computed.  Every case asks for 2 channels, so the
# welcome also carries the count (8 bytes) and the channels' token (20).
# Ready is held by its type (MIG_MSG_READY 11): how many rounds, and so
# drained answers, come before it varies.
rel=$("$TERNVM" --version | awk '{ print $2 }')
WELCOME=$((24 + (4 + ${#rel} + 1 + 3) / 4 * 4 + 8 + 20))
READY=11
# Parameters stay set from one migration to the next (as in QEMU): each
# case sets those it needs.  A downtime limit of a minute sends the
# switchover cases there after the first pass, however fast the guest
# dirties pages on a loaded machine.
case_ cancel setup setup "--stall back:$WELCOME:60000" --max-bandwidth 0 --downtime-limit 300 --channels 2
case_ cancel pre-copy active "" --max-bandwidth 2000000 --downtime-limit 300 --channels 2
case_ cancel switchover device "--stall-msg back:$READY:60000" --downtime-limit 60000 --max-bandwidth 0 --channels 2
case_ kill setup setup "--stall back:$WELCOME:60000" --max-bandwidth 0 --downtime-limit 300 --channels 2
case_ kill pre-copy active "" --max-bandwidth 2000000 --downtime-limit 300 --channels 2
case_ kill switchover device "--stall-msg back:$READY:60000" --downtime-limit 60000 --max-bandwidth 0 --channels 2

check "no page lost or stale on the source, ever" memcheck_ok "$T/a.log"
check "no block lost or stale on the source, ever" diskcheck_ok "$T/a.log"
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
wait $A; ra=$?
check "source exits 0 on quit (rc=$ra)" [ $ra = 0 ]
[ $TAP_FAILED = 0 ] || dump "$T" a
rm -rf "$T"
exit $TAP_FAILED
