#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`, the harness side: a Linux guest running memcheck (a byte of
# every page of 64 MiB rewritten and checked, a line a second) under a
# source ternvm with RAM in a tern.ko region, live-migrated over TCP on
# loopback to a destination ternvm; shows the workload before and after
# and the figures.  TAP (one test: the guest moved intact) for the harness.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

say() { echo "# $*"; }
# follow FILE SECONDS WHO: the console's new memcheck lines for a while.
follow() {
	_from=$(grep -c '' "$1")
	sleep "$2"
	tail -n +"$((_from + 1))" "$1" | grep 'memcheck' | sed "s/^/#   [$3] /"
}

echo "1..1"
[ -c /dev/kvm ] && [ -x "$TERNVM" ] || { echo "not ok 1 no /dev/kvm or ternvm"; exit 1; }
T=$(mktemp -d)
say "1. source ternvm: 1 vCPU, 256 MiB in a $( [ -c /dev/tern ] && echo tern.ko region || echo memfd), guest runs memcheck 64 MiB"
src_start "$T" src "run:memcheck:64"; A=$PID
if ! wait_for "$T/src.log" "memcheck: pass .* ok" 120; then
	echo "not ok 1 the guest did not start"; dump "$T" src; exit 1
fi
say "   guest booted; its workload on the source's console:"
follow "$T/src.log" 3 source
say "2. destination ternvm: --incoming tcp:127.0.0.1:4444 (waits, paused, nothing to run yet)"
dst_start "$T" dst "tcp:127.0.0.1:4444"; B=$PID
say "   destination: $("$TERNCTL" --socket "$T/dst.sock" status)"
say "3. ternctl migrate tcp:127.0.0.1:4444 --progress --exit"
"$TERNCTL" --socket "$T/src.sock" migrate tcp:127.0.0.1:4444 --progress --exit \
	>"$T/mig.out" 2>"$T/mig.err"
rc=$?
tr '\r' '\n' <"$T/mig.err" | grep -v '^$' | sed 's/\x1b\[K//' | tail -n 6 | sed 's/^/#   /'
sed 's/^/#   /' "$T/mig.out"
wait $A; ra=$?
say "   source ternvm exited $ra after the destination confirmed running"
say "4. the same guest, now on the destination's console:"
follow "$T/dst.log" 3 destination
q=$(qm "$T/dst.sock")
say "5. figures (source): $(sed -n 's/^completed: //p' "$T/mig.out")"
say "   destination: received $(jget "$q" bytes) bytes, $(jget "$q" pages) pages," \
	"$(jget "$q" zero-pages) zero pages, $(jget "$q" rounds) rounds"
last=$(last_pass "$T/dst.log")
"$TERNCTL" --socket "$T/dst.sock" quit >/dev/null
wait $B
if [ $rc = 0 ] && [ $ra = 0 ] && memcheck_ok "$T/src.log" && memcheck_ok "$T/dst.log" &&
   [ -n "$last" ]; then
	echo "ok 1 guest live-migrated, memcheck intact on both sides (pass $last on the destination)"
	rm -rf "$T"
	exit 0
fi
echo "not ok 1 migration or memcheck failed (migrate rc=$rc, source rc=$ra)"
dump "$T" src dst
rm -rf "$T"
exit 1
