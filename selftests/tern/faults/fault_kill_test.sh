#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Kills and odd cases of a real ternvm migration, each with its documented
# outcome (Documentation/faults.rst): destination SIGKILLed in setup,
# pre-copy, device state and after ready (the source resumes); source
# SIGKILLed in the same phases (the destination exits naming phase and byte,
# no crash); rmmod tern during a migration (refused, migration completes); a
# second migrate while one runs (refused, the first completes); a
# destination that never answers running (postcommit-unknown, plain cont
# refused, cont --revert resumes).
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MC_INITRD" ] || skip_all "no ternvm/ternctl/guest"
[ -x "$PROXY" ] && [ -x "$INDEX" ] || skip_all "no tern-fault-proxy/tern-fault-index"
SEED=${TERN_FAULT_SEED:-8}
T=$(mktemp -d)
N_KILL=0 N_LOST=0
MC_MIB=4
THROTTLE=${THROTTLE:-3000000}	# bytes/s: phases last long enough to hit

# new_source NAME: boot a source guest, wait for its counter.
new_source() {
	start_vm "$1" && SRC=$1 SRC_PID=$VM_PID &&
		wait_for "$T/$1.log" "tern-counter 5" 120
}

# migrate_bg: start the source's migration through the proxy, detached.
migrate_bg() {
	"$TERNCTL" --socket "$T/$SRC.sock" migrate "tcp:127.0.0.1:$PROXY_PORT" >"$T/mig.out" 2>&1 &
	MIG_PID=$!
}

# One clean recorded run (which also moves the guest once); its back
# stream: welcome, ramblocks-ok, a drained per round, ready, running.
# The proxy holds ready or running by type (MIG_MSG_READY 11,
# MIG_MSG_RUNNING 13): how many rounds come before varies by run.
READY=11 RUNNING=13
new_source a || { not_ok "source boots"; echo "1..$TAP_N"; exit 1; }
start_dest b0; B0=$VM_PID
start_proxy --record "$T/stream"
"$TERNCTL" --socket "$T/a.sock" migrate "tcp:127.0.0.1:$PROXY_PORT" >/dev/null
stop_proxy
BACK_LEN=$(wc -c <"$T/stream.back")
"$INDEX" "$T/stream.fwd" "$T/stream.back" | grep '^back' | sed 's/^/#   /'
check "clean run recorded (back stream $BACK_LEN bytes)" counter_moves b0
quit_vm a $SRC_PID
SRC=b0 SRC_PID=$B0

# How to hold each phase: setup (fwd held before hello), pre-copy (source
# state active, throttled), device (source state device, throttled), after
# ready (the destination sent ready, the proxy holds it back: staged).
hold_phase() {
	case $1 in
	setup) start_proxy --stall fwd:0:4000 ;;
	precopy) start_proxy --throttle fwd:$THROTTLE ;;
	device) start_proxy --throttle fwd:$THROTTLE ;;
	ready) start_proxy --stall-msg back:$READY:5000 ;;
	esac
	migrate_bg
	case $1 in
	setup) sleep 1 ;;
	precopy) wait_state "$T/$SRC.sock" active 30 && sleep 0.5 ;;
	device) wait_state "$T/$SRC.sock" device 60 ;;
	ready) wait_state "$T/$SRC.sock" device 60 && sleep 1.5 ;;
	esac
}

# Destination SIGKILLed: the source resumes.
for phase in setup precopy device ready; do
	N_KILL=$((N_KILL + 1))
	start_dest d$phase; D=$VM_PID
	hold_phase $phase; held=$?
	kill -9 $D; wait $D 2>/dev/null
	# ready died with its host: the proxy holds it, so it goes too (left
	# alone it would deliver ready, the source would commit: the no
	# running case below).
	[ $phase = ready ] && stop_proxy
	wait_exit $MIG_PID 60
	why=""
	[ $held = 0 ] || why="$why phase not reached;"
	grep -q '^failed' "$T/mig.out" || why="$why migrate: $(cat "$T/mig.out");"
	[ "$(vm_status "$T/$SRC.sock")" = running ] || { why="$why source not running;"; N_LOST=$((N_LOST + 1)); }
	counter_moves $SRC || why="$why counter stuck;"
	no_san_report "$T/$SRC.out" || why="$why sanitizer report;"
	stop_proxy
	if [ -z "$why" ]; then ok "destination killed in $phase: source resumes"
	else not_ok "destination killed in $phase:$why (seed $SEED)"; fi
done

# Source SIGKILLed: the destination discards its staged VM and exits
# naming phase and byte.  Each case boots a new source.
i=0
for phase in setup precopy device ready; do
	N_KILL=$((N_KILL + 1)); i=$((i + 1))
	start_dest s$phase; D=$VM_PID
	hold_phase $phase; held=$?
	kill -9 $SRC_PID; wait $SRC_PID 2>/dev/null
	wait_exit $MIG_PID 20
	wait_exit $D 30
	rd=$EXIT_RC
	stop_proxy
	why=""
	[ $held = 0 ] || why="$why phase not reached;"
	[ "$rd" != 0 ] && [ "$rd" != hung ] || why="$why destination exit $rd;"
	grep -Eq "$DEST_MSG" "$T/s$phase.out" || why="$why no phase/byte message;"
	no_san_report "$T/s$phase.out" || why="$why sanitizer report;"
	if [ -z "$why" ]; then ok "source killed in $phase: destination exits: $(grep -Eo 'failed: .*' "$T/s$phase.out" | head -n1 | cut -c1-120)"
	else not_ok "source killed in $phase:$why"; sed 's/^/#   dest: /' "$T/s$phase.out" | tail -n 5; fi
	new_source n$i || { not_ok "new source boots"; break; }
done

# rmmod during a migration: refused while the region is in use, and the
# migration completes.
if [ -c /dev/tern ] && ! grep -q '"ram":"file\|mem-path' "$T/$SRC.out"; then
	start_dest rm; D=$VM_PID
	start_proxy --throttle fwd:$THROTTLE
	migrate_bg
	wait_state "$T/$SRC.sock" active 30
	rmmod tern >"$T/rmmod.out" 2>&1; rr=$?
	wait_exit $MIG_PID 120
	stop_proxy
	check "rmmod tern during a migration refused (rc=$rr: $(head -c 100 "$T/rmmod.out"))" \
		sh -c "[ $rr != 0 ] && [ -d /sys/module/tern ]"
	if grep -q '^completed' "$T/mig.out" && counter_moves rm; then
		ok "migration unaffected by rmmod"; quit_vm $SRC $SRC_PID; SRC=rm SRC_PID=$D
	else
		not_ok "migration unaffected by rmmod: $(cat "$T/mig.out")"
	fi
else
	ok "rmmod during a migration # SKIP no /dev/tern"
	ok "migration unaffected by rmmod # SKIP no /dev/tern"
fi

# A second migrate while one runs: refused, the first completes.
start_dest sec; D=$VM_PID
start_proxy --throttle fwd:$THROTTLE
migrate_bg
wait_state "$T/$SRC.sock" active 30
"$TERNCTL" --socket "$T/$SRC.sock" migrate "tcp:127.0.0.1:$DEST_PORT" >"$T/second.out" 2>&1; r2=$?
wait_exit $MIG_PID 120
stop_proxy
check "second migrate refused (rc=$r2: $(head -c 100 "$T/second.out"))" \
	sh -c "[ $r2 != 0 ] && grep -q 'already running' '$T/second.out'"
if grep -q '^completed' "$T/mig.out" && counter_moves sec; then
	ok "first migration completes"; quit_vm $SRC $SRC_PID; SRC=sec SRC_PID=$D
else
	not_ok "first migration completes: $(cat "$T/mig.out")"
fi

# running never arrives: the proxy holds it past the source's timeout (a
# cut there would fire before commit went through: the destination would
# discard, rightly, and show nothing about this case).
start_dest nr; D=$VM_PID
start_proxy --stall-msg back:$RUNNING:8000
"$TERNCTL" --socket "$T/$SRC.sock" migrate --timeout 3000 "tcp:127.0.0.1:$PROXY_PORT" >"$T/mig.out" 2>&1
stop_proxy
check "no running: source reports postcommit-unknown ($(cat "$T/mig.out"))" grep -q '^postcommit-unknown' "$T/mig.out"
check "no running: source stays paused" test "$(vm_status "$T/$SRC.sock")" = paused
check "no running: the destination started the guest" test "$(vm_status "$T/nr.sock")" = running
# The operator settles it: here the destination goes, the source resumes.
kill -9 $D; wait $D 2>/dev/null
"$TERNCTL" --socket "$T/$SRC.sock" cont >"$T/cont.out" 2>&1
check "plain cont refused after commit: $(cat "$T/cont.out")" grep -q "cont --revert" "$T/cont.out"
"$TERNCTL" --socket "$T/$SRC.sock" cont --revert >/dev/null
check "ternctl cont --revert resumes the source" counter_moves $SRC
[ "$(vm_status "$T/$SRC.sock")" = running ] || N_LOST=$((N_LOST + 1))
check "no sanitizer report" no_san_report "$T"/*.out
echo "# kills $N_KILL (+ rmmod, second migrate, no running); guests lost $N_LOST"
quit_vm $SRC $SRC_PID
echo "1..$TAP_N"
rm -rf "$T"
exit $TAP_FAILED
