#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Reset in place: a guest reboot resets the machine inside the same
# ternvm and the guest boots again.
#
#   1. A guest that only reboots (reset-kernel.sh: each boot prints 'B'
#      on the console and pulses the i8042 reset line, hundreds of times a
#      second) on 2 vCPUs: many boots in one process, a RESET event each,
#      `quit` ends it with status 0; with --no-reboot it boots once and
#      ternvm exits 2.
#   2. That guest migrated in a chain, three times in a row:
#
#        ternvm m0 --migrate--> m1 --migrate--> m2 --migrate--> m3
#        (each destination has --kernel, which it loads again at the
#         guest's next reboot)
#
#      resetting all the time, so resets land in pre-copy (VMM writes to
#      guest RAM that the tracker must move) and in switchover (carried as
#      a pending reset, done on the destination).  Every migration
#      completes, every source stays paused, the guest boots on in m3.
#   3. The Debian kernel in a reboot loop (tern.run=cpus,reboot): /init
#      starts again in the same ternvm, with both vCPUs.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

RESET_KERNEL=${RESET_KERNEL:-/guest/reset-bz}
[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$BZIMAGE" ] && [ -r "$INITRD" ] &&
	[ -r "$RESET_KERNEL" ] || skip_all "no ternvm/ternctl/guest"
echo "1..11"
T=$(mktemp -d)

# bees FILE: boots of the reset kernel seen on console FILE.
bees() { tr -cd B <"$1" 2>/dev/null | wc -c; }
# boots FILE: how many times Linux reached /init on console FILE;
# cpus FILE: how many times its cpus step reported.
boots() { grep -c "tern-guest: init started" "$1" 2>/dev/null; }
cpus() { grep -c "tern-guest: cpus" "$1" 2>/dev/null; }
# wait_count FN FILE N SECONDS: until FN FILE reaches N.
wait_count() {
	_i=0
	while [ "$($1 "$2")" -lt "$3" ] && [ $_i -lt $(($4 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$($1 "$2")" -ge "$3" ]
}
# vm NAME ARGS...: a ternvm with console $T/NAME.log, socket $T/NAME.sock;
# pid in $PID, added to $PIDS; returns once its socket is there.
PIDS=
vm() {
	_n=$1
	shift
	"$TERNVM" "$@" --console "file:$T/$_n.log" --control "$T/$_n.sock" >"$T/$_n.out" 2>&1 &
	PID=$!
	PIDS="$PIDS $PID"
	guard $PID 500
	_i=0
	while [ ! -S "$T/$_n.sock" ] && [ $_i -lt 100 ] && kill -0 $PID 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
ctl() { _s=$1; shift; "$TERNCTL" --socket "$T/$_s.sock" "$@" 2>&1; }
# chain PREFIX HOPS SETTLE WAITFN N SECONDS VMARGS...: migrate PREFIX0 to
# PREFIX1 ... PREFIX<HOPS>, SETTLE seconds after each destination came up
# (after the hop before it, WAITFN of the last console reached N); sets
# $migrated (completed hops) and $stayed (sources that did not stay paused).
# Its variables start with c_: guard and vm use _p, _n, _i.
chain() {
	c_p=$1 c_hops=$2 c_settle=$3 c_fn=$4 c_want=$5 c_secs=$6
	shift 6
	migrated=0 stayed=
	c_h=1
	while [ $c_h -le $c_hops ]; do
		c_src=$c_p$((c_h - 1))
		vm $c_p$c_h "$@" --incoming-migration "unix:$T/$c_p$c_h.mig"
		sleep "$c_settle"
		c_out=$(ctl $c_src --json migrate "unix:$T/$c_p$c_h.mig")
		echo "# $c_src -> $c_p$c_h: $c_out"
		echo "$c_out" | grep -q '"status":"completed"' && migrated=$((migrated + 1))
		ctl $c_src status | grep -q "^paused" || stayed="$stayed $c_src"
		ctl $c_src quit >/dev/null
		[ $c_h = $c_hops ] || wait_count $c_fn "$T/$c_p$c_h.log" "$c_want" "$c_secs"
		c_h=$((c_h + 1))
	done
}
# pending NAMES...: resets that arrived pending with a migration.
pending() { for _n in "$@"; do cat "$T/$_n.out"; done | grep -c "reset pending at the source"; }

# ---- 1: the reset kernel, one process --------------------------------------
FAST="--cpus 2 --memory 128M --kernel $RESET_KERNEL"
vm r0 $FAST
R0=$PID
ctl r0 events --count 50 --timeout 30 >"$T/r0.events" &
EV=$!
wait $EV
wait_count bees "$T/r0.log" 100 30
check "the guest booted $(bees "$T/r0.log") times in one ternvm" \
	sh -c "[ $(bees "$T/r0.log") -ge 100 ] && kill -0 $R0"
check "a control client saw a RESET event per reboot ($(grep -c '^RESET$' "$T/r0.events") of 50)" \
	test "$(grep -c '^RESET$' "$T/r0.events")" = 50
ctl r0 quit >/dev/null
wait $R0
rc=$?
check "quit ends the resetting ternvm with status 0 (rc=$rc)" test $rc = 0
timeout 30 "$TERNVM" $FAST --no-reboot --console "file:$T/nr.log" >"$T/nr.out" 2>&1
rc=$?
check "with --no-reboot the guest boots once and ternvm exits 2 (rc=$rc, $(bees "$T/nr.log") boots)" \
	sh -c "[ $rc = 2 ] && [ $(bees "$T/nr.log") = 1 ]"

# ---- 2: the reset kernel migrated in a chain -------------------------------
vm m0 $FAST
wait_count bees "$T/m0.log" 10 30
chain m 3 1 bees 10 30 $FAST
check "3 migrations in a row of a resetting guest complete ($migrated)" test $migrated = 3
check "each source stays paused after its migration${stayed}" test -z "$stayed"
b=$(bees "$T/m3.log")
check "the guest boots on in the last destination ($b, then more)" wait_count bees "$T/m3.log" $((b + 10)) 30
echo "# boots: m0 $(bees "$T/m0.log"), m1 $(bees "$T/m1.log"), m2 $(bees "$T/m2.log")," \
	"m3 $(bees "$T/m3.log"); resets carried pending through switchover: $(pending m1 m2 m3) of 3"
ctl m3 quit >/dev/null
[ $TAP_FAILED = 0 ] || for n in r0 nr m0 m1 m2 m3; do sed "s/^/# $n: /" "$T/$n.out" | tail -n 6; done

# ---- 3: Linux in a reboot loop ---------------------------------------------
# Two boots of the Debian kernel on 2 vCPUs: the second one brings the
# application processor up again (it was put back to wait-for-SIPI).
vm l0 --cpus 2 --memory 256M --kernel "$BZIMAGE" --initrd "$INITRD" \
	--append "console=ttyS0 tern.run=cpus,reboot"
L0=$PID
ctl l0 events --timeout 400 >"$T/l0.events" &
EV=$!
wait_count cpus "$T/l0.log" 2 400
check "Linux reboots and reaches /init again in the same ternvm ($(boots "$T/l0.log") boots)" \
	sh -c "[ $(boots "$T/l0.log") -ge 2 ] && kill -0 $L0"
check "it sees both CPUs after the reset ($(grep 'tern-guest: cpus' "$T/l0.log" | tr '\n' ' '))" \
	sh -c "[ \$(grep -c 'tern-guest: cpus 2' '$T/l0.log') -ge 2 ]"
check "the RESET event came" grep -q '^RESET$' "$T/l0.events"
check "Linux's kernel log is clean over its boots" guest_log_clean "$T/l0.log"
ctl l0 quit >/dev/null
kill $EV 2>/dev/null
for p in $PIDS; do wait $p 2>/dev/null; done
if [ $TAP_FAILED != 0 ]; then
	sed "s/^/# l0: /" "$T/l0.out" | tail -n 8
	show_console "$T/l0.log" 20
fi
rm -rf "$T"
exit $TAP_FAILED
