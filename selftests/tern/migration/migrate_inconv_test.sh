#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guests migrated at inconvenient points, each several times in a row
# (issue 15), every guest with every device attached (disk, tap NIC, rng,
# vconsole).  Each case is a chain of ternvms, each hop a migration over a
# unix socket to a new destination, its source quit after it:
#
#   ternvm X0 --> X1 --> X2 ...   (HOPS hops: 2, or 4 under check-full)
#
# a. reboot loop: the guest reboots 1 s after its /init starts (tern.run=
#    run:sleep:1,reboot), for ever; each hop starts as /init starts, so
#    the reset (and the kernel's reload into guest RAM) lands in the
#    migration.  Every migration completes, each source stays paused, and
#    the guest boots on in each destination: that ternvm resets it in
#    place and /init starts again there (boots counted on every console).
# b. power-off in pre-copy (one guest; under check-full HOPS of them, one
#    after the other: a guest that powered off cannot go on): the migration fails 'guest powered off',
#    the source exits 0, the destination discards its staged VM and exits
#    1 (Documentation/migration-protocol.rst).
# c. driver rebind loop: the guest unbinds and binds again its virtio-blk
#    and virtio-net drivers through sysfs (/bin/rebind) with memcheck
#    beside it: each migration completes, the loop goes on in each
#    destination with working devices, memcheck too, and no guest kernel
#    log (source or destination) has a WARNING, BUG or Oops.
# d. virtio-blk requests queued at switchover: eight diskcheck writers
#    (O_DIRECT without O_DSYNC, so no flush serializes them; no rest) on
#    disjoint ranges of the disk, under
#    ternvm-test with TERN_TEST_ONE_REQUEST=virtio-blk:20 (the device
#    takes one request per kick, 20 ms late, as slow storage would, so
#    the ring holds the others); each
#    destination finds requests queued in the ring (its log says how
#    many), and every writer goes on there reading back every write it
#    was told was done: none lost, none stale.
# Before the library, whose defaults are larger.
MC=${MC:-16}
VM_OPTS=${VM_OPTS:---cpus 1 --memory 128M}
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

TERNVM_TEST=${TERNVM_TEST:-$(command -v ternvm-test)}
[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -x "$TERNVM" ] && [ -x "$TERNVM_TEST" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] ||
	skip_all "no ternvm/ternvm-test/ternctl/guest"
if [ "${TERN_CHECK_FULL:-0}" = 1 ]; then HOPS=${HOPS:-4}; else HOPS=${HOPS:-2}; fi
# b's guests end at their power-off: one is the case, more only repeat it
# (check-full: HOPS of them).
if [ "${TERN_CHECK_FULL:-0}" = 1 ]; then GUESTS_B=$HOPS; else GUESTS_B=1; fi
# INCONV_CASES: the cases to run (default all: abcd).  Planned: a 1 +
# 4/hop + 1, b 5/guest, c 1 + 4/hop + 1, d 1 + 4/hop.
CASES=${INCONV_CASES:-abcd}
# has X: case X runs.
has() { case $CASES in *$1*) return 0 ;; esac; return 1; }
plan=0
! has a || plan=$((plan + 2 + 4 * HOPS))
! has b || plan=$((plan + 5 * GUESTS_B))
! has c || plan=$((plan + 2 + 4 * HOPS))
! has d || plan=$((plan + 1 + 4 * HOPS))
echo "1..$plan"
T=$(mktemp -d)

# boots FILE: how many times Linux reached /init on console FILE.
boots() { grep -c "tern-guest: init started" "$1" 2>/dev/null; }
# boots_reach FILE N SECONDS: until FILE shows N boots.
boots_reach() {
	_i=0
	while [ "$(boots "$1")" -lt "$2" ] && [ $_i -lt $(($3 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(boots "$1")" -ge "$2" ]
}
# hop DIR SRC DST [ternvm options]: start destination DST (every device),
# migrate SRC to it; the result in $OUT, DST's pid in $PID.  SRC is
# quit afterwards; $SRC_STATUS is its status before that.
hop() {
	_hd=$1 _hs=$2 _ht=$3
	shift 3
	dst_start "$_hd" "$_ht" "unix:$_hd/$_ht.mig" $(devices "$_hd" "$_ht") "$@"
	OUT=$("$TERNCTL" --socket "$_hd/$_hs.sock" --json migrate "unix:$_hd/$_ht.mig" 2>&1)
	SRC_STATUS=$(vm_status "$_hd/$_hs.sock")
	figures "$_hs -> $_ht" "$OUT"
	"$TERNCTL" --socket "$_hd/$_hs.sock" quit >/dev/null 2>&1
}
completed() { [ "$(jget "$OUT" status)" = completed ]; }
# no_fail PATTERN FILE...: no line of the FILEs has PATTERN (else shown).
no_fail() {
	_p=$1
	shift
	! grep -h -- "$_p" "$@" | head -n 5 | sed 's/^/# /' | grep .
}
# all_clean DIR NAME...: every named console's kernel log is clean.
all_clean() {
	_ad=$1
	shift
	for _n in "$@"; do guest_log_clean "$_ad/$_n.log" || return 1; done
}

# ---- a. a guest in a reboot loop --------------------------------------------
case_a() {
mkdir "$T/a"
RL="run:sleep:1,reboot"
src_start "$T/a" a0 "$RL" $(devices "$T/a" a0)
check "reboot loop: /init starts on the source" boots_reach "$T/a/a0.log" 1 1
names="a0"
h=1
while [ $h -le $HOPS ]; do
	s=a$((h - 1)) d=a$h
	# Start as /init starts (src_start returned there, or a boot on
	# the last destination): the reboot comes 1 s later, in the migration.
	# (A destination loads the kernel at the guest's next reboot.)
	hop "$T/a" $s $d --kernel "$BZIMAGE" --initrd "$MIG_INITRD" \
		--append "console=ttyS0 tern.run=$RL"
	check "reboot loop: migration $h of $HOPS completes ($(jget "$OUT" status): $(jget "$OUT" error))" completed
	check "reboot loop: its source stays paused ($SRC_STATUS)" [ "$SRC_STATUS" = paused ]
	# A reset done by the destination, then a boot to /init after it.
	check "reboot loop: the guest resets in place in $d" \
		wait_for "$T/a/$d.out" "guest reset in place" 300
	b=$(boots "$T/a/$d.log")
	check "reboot loop: and boots on there (/init starts)" \
		boots_reach "$T/a/$d.log" $((b + 1)) 300
	names="$names $d"
	h=$((h + 1))
done
counts=
for n in $names; do counts="$counts $n:$(boots "$T/a/$n.log")"; done
echo "# reboot loop: boots seen on each console:$counts"
check "reboot loop: every kernel log clean" all_clean "$T/a" $names
"$TERNCTL" --socket "$T/a/a$HOPS.sock" quit >/dev/null
[ $TAP_FAILED = 0 ] || dump "$T/a" $names
}
! has a || case_a

# ---- b. a guest powering off during pre-copy --------------------------------
case_b() {
mkdir "$T/b"
g=1
while [ $g -le $GUESTS_B ]; do
	# A bandwidth cap keeps the migration in pre-copy when the guest
	# powers off, 5 s after its /init starts.
	dst_start "$T/b" d$g "unix:$T/b/d$g.mig" $(devices "$T/b" d$g); B=$PID
	src_start "$T/b" s$g "run:sleep:5,poweroff" $(devices "$T/b" s$g); S=$PID
	"$TERNCTL" --socket "$T/b/s$g.sock" --json migrate "unix:$T/b/d$g.mig" \
		--max-bandwidth 300000 >"$T/b/m$g.out" 2>&1 &
	M=$!
	guard $M 120 $S $B
	# (What wait_state saw: the guest may be gone by the next query.)
	wait_state "$T/b/s$g.sock" active 30 && st=active ||
		st=$(jget "$(qm "$T/b/s$g.sock")" status)
	wait $M
	out=$(cat "$T/b/m$g.out")
	wait $S; rs=$?
	wait $B; rb=$?
	echo "# power-off $g: $out"
	check "power-off $g of $GUESTS_B: caught in pre-copy ($st)" [ "$st" = active ]
	check "power-off $g: the migration fails ($(jget "$out" status))" \
		[ "$(jget "$out" status)" = failed ]
	check "power-off $g: saying 'guest powered off'" names "$(jget "$out" error)" "guest powered off"
	check "power-off $g: the source exits 0 as after any power-off (rc=$rs)" [ $rs = 0 ]
	check "power-off $g: the destination discards it and exits 1 saying why (rc=$rb)" \
		sh -c "[ $rb = 1 ] && grep -q 'incoming migration .* failed' '$T/b/d$g.out'"
	[ $TAP_FAILED = 0 ] || dump "$T/b" s$g d$g
	g=$((g + 1))
done
}
! has b || case_b

# ---- c. a guest rebinding its virtio drivers in a loop ----------------------
case_c() {
mkdir "$T/c"
src_start "$T/c" c0 "bg:rebind,run:memcheck:$MC" $(devices "$T/c" c0)
wait_for "$T/c/c0.log" "rebind: pass 2 ok" 120
check "rebind loop: runs on the source ($(last_pass_of rebind "$T/c/c0.log") rounds)" \
	wait_for "$T/c/c0.log" "rebind: pass 2 ok" 1
names="c0"
h=1
while [ $h -le $HOPS ]; do
	s=c$((h - 1)) d=c$h
	hop "$T/c" $s $d
	check "rebind loop: migration $h of $HOPS completes ($(jget "$OUT" status): $(jget "$OUT" error))" completed
	check "rebind loop: the loop goes on in $d" pass_grows rebind "$T/c/$d.log" 30
	check "rebind loop: and memcheck" moves "$T/c/$d.log" 4
	check "rebind loop: devices work throughout (no 'rebind: FAIL')" \
		no_fail 'rebind: FAIL' "$T/c/$s.log" "$T/c/$d.log"
	names="$names $d"
	h=$((h + 1))
done
rounds=
for n in $names; do rounds="$rounds $n:$(last_pass_of rebind "$T/c/$n.log")"; done
echo "# rebind loop: last round on each console:$rounds"
check "rebind loop: no kernel WARNING/BUG in any guest console" all_clean "$T/c" $names
"$TERNCTL" --socket "$T/c/c$HOPS.sock" quit >/dev/null
[ $TAP_FAILED = 0 ] || dump "$T/c" $names
}
! has c || case_c

# ---- d. virtio-blk requests queued at switchover ----------------------------
case_d() {
mkdir "$T/d"
W="diskcheck"
writers="bg:diskcheck:/dev/vda:16:0:0:0"
for f in 16 32 48 64 80 96 112; do
	W="$W diskcheck@$f" writers="$writers,bg:diskcheck:/dev/vda:16:$f:0:0"
done
# all_move FILE: every writer's passes grow on console FILE.
all_move() {
	for _w in $W; do pass_grows "$_w" "$1" 30 || { echo "# $_w stopped"; return 1; }; done
}
TERNVM_SAVED=$TERNVM TERNVM=$TERNVM_TEST
export TERN_TEST_ONE_REQUEST=virtio-blk:20
src_start "$T/d" d0 "$writers,run:sleep:1000000" $(devices "$T/d" d0)
wait_for "$T/d/d0.log" "diskcheck@112: pass 2 ok" 120
check "queued requests: eight writers run on the source" wait_for "$T/d/d0.log" "diskcheck@112: pass 2 ok" 1
h=1
while [ $h -le $HOPS ]; do
	s=d$((h - 1)) d=d$h
	hop "$T/d" $s $d
	q=$(sed -n 's/.*virtio-blk: \([0-9]*\) requests were queued when the state was saved.*/\1/p' "$T/d/$d.out")
	check "queued requests: migration $h of $HOPS completes ($(jget "$OUT" status): $(jget "$OUT" error))" completed
	check "queued requests: $d found ${q:-no} requests queued in the ring" [ "${q:-0}" -gt 0 ]
	check "queued requests: every writer goes on in $d" all_move "$T/d/$d.log"
	check "queued requests: no write lost or stale in $d" \
		no_fail 'diskcheck.*FAIL' "$T/d/$s.log" "$T/d/$d.log"
	h=$((h + 1))
done
unset TERN_TEST_ONE_REQUEST
TERNVM=$TERNVM_SAVED
"$TERNCTL" --socket "$T/d/d$HOPS.sock" quit >/dev/null
[ $TAP_FAILED = 0 ] || dump "$T/d" d0 d1 d$HOPS
}
! has d || case_d
rm -rf "$T"
exit $TAP_FAILED
