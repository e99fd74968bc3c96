#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Migration between releases: ternvm of release v0.1.0 (the `releases`
# file; built once from a git worktree of its commit and cached under
# build/release/, see scripts/release-build.sh) and this tree's:
#
#   A  ternvm-0.1.0 (guest: memcheck; RAM in a tern.ko region)
#      --migrate--> B  ternvm (this tree)
#      --migrate--> C  ternvm-0.1.0
#   D  ternvm-0.1.0 (guest: a counter; RAM in a file, booted alongside A)
#      --save-state FILE--> E  ternvm --incoming FILE
#
# Every device the harness guest can have but a tap (serial, i8042, RTC,
# PCI host, virtio-blk, virtio-console, virtio-rng, vCPUs, irqchip),
# memcheck checking every page after each move.  Old to new completes;
# new to old completes or is refused before any page with the device
# named; a state file of v0.1.0 loads here.  The old ternvm runs on this
# tree's tern.ko (its page stream moves A's pages).  A clone without the
# release's commit fails here with release-build.sh's message: no skip.
# Small, to keep make check's cost down: memcheck over 16 MiB of 128.
# (Set before the library, whose defaults are larger.)
MC=${MC:-16}
VM_OPTS=${VM_OPTS:---cpus 1 --memory 128M}
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

OLDVM=${OLDVM:-/usr/bin/ternvm-release}
OLDCTL=${OLDCTL:-/usr/bin/ternctl-release}
NEWVM=$TERNVM
NEWCTL=$TERNCTL

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$NEWVM" ] && [ -x "$NEWCTL" ] && [ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternctl/guest"
echo "1..19"

old=$("$OLDVM" --version 2>&1)
if ! echo "$old" | grep -q '^ternvm '; then
	not_ok "release ternvm runs: $old"
	exit 1
fi
ok "release ternvm: $old, this tree: $("$NEWVM" --version)"

T=$(mktemp -d)
dd if=/dev/zero of="$T/disk.img" bs=1M count=8 2>/dev/null
DEVS="--disk $T/disk.img --rng --vconsole $T/vcon.log"
[ -c /dev/tern ] && TRACKER=tern || TRACKER=kvm-dirty-log

# move FROM-CTL FROM TO-NAME: migrate --exit FROM to TO's socket; $out, $rc.
move() {
	out=$("$1" --socket "$T/$2.sock" --json migrate --exit "unix:$T/$3.mig" 2>&1)
	rc=$?
	figures "$2 -> $3" "$out"
}

# D boots while A boots and moves: a state file of the release's, later.
S="$VM_OPTS --mem-path $T/ram $DEVS"
"$OLDVM" $S --kernel "$BZIMAGE" --initrd "$INITRD" \
	--append "console=ttyS0 tern.run=counter" --console "file:$T/d.log" \
	--control "$T/d.sock" >"$T/d.out" 2>&1 &
D=$!
guard $D $VM_GUARD
TERNVM=$OLDVM src_start "$T" a "run:memcheck:$MC" $DEVS; A=$PID
TERNVM=$NEWVM dst_start "$T" b "unix:$T/b.mig" $DEVS; B=$PID
if ! wait_for "$T/a.log" "memcheck: pass .* ok" 120; then
	not_ok "memcheck runs under ternvm $old"; dump "$T" a b
	kill $A $B $D; wait $A $B $D; rm -rf "$T"; exit 1
fi
ok "memcheck runs under the release's ternvm"

move "$OLDCTL" a b
check "release -> this tree: completed (rc=$rc)" [ "$rc" = 0 -a "$(jget "$out" status)" = completed ]
check "the release's ternvm used this tern.ko's $TRACKER tracker" [ "$(jget "$out" tracker)" = "$TRACKER" ]
wait $A; ra=$?
check "the release's source exits 0 once this tree runs the guest (rc=$ra)" [ $ra = 0 ]
c1=$(last_pass "$T/a.log")
wait_for "$T/b.log" "memcheck: pass" 30
first=$(first_pass "$T/b.log")
check "memcheck goes on here (release pass $c1, here ${first:-none})" \
	sh -c "[ -n '$first' ] && [ -n '$c1' ] && [ '$first' -ge '$c1' ]"
check "and keeps passing" moves "$T/b.log" 3

TERNVM=$OLDVM dst_start "$T" c "unix:$T/c.mig" $DEVS; C=$PID
move "$NEWCTL" b c
# This tree asks for its default channels (2 in the harness); the release
# knows none and gets the one stream it speaks.
check "this tree -> release: over 1 channel ($(jget "$out" channels))" \
	[ "$(jget "$out" channels)" = 1 ]
if [ "$rc" = 0 ]; then
	ok "this tree -> release: completed"
	wait $B; rb=$?
	check "this tree's source exits 0 (rc=$rb)" [ $rb = 0 ]
	c2=$(last_pass "$T/b.log")
	wait_for "$T/c.log" "memcheck: pass" 30
	first=$(first_pass "$T/c.log")
	check "memcheck goes on under the release (pass $c2, there ${first:-none})" \
		sh -c "[ -n '$first' ] && [ -n '$c2' ] && [ '$first' -ge '$c2' ]"
	check "and keeps passing there" moves "$T/c.log" 3
	LAST=c
else
	# Refused: before any page, naming the device, the guest goes on here.
	err=$(jget "$out" error)
	check "this tree -> release: refused naming a device: $err" names "$err" "device '"
	check "before any page moved" [ "$(jget "$out" pages)" = 0 ]
	check "the guest goes on here" moves "$T/b.log" 3
	"$OLDCTL" --socket "$T/c.sock" quit >/dev/null 2>&1; kill $C 2>/dev/null; wait $C
	ok "the release's destination discarded"
	LAST=b
fi
check "no page lost or stale under the release" memcheck_ok "$T/a.log"
check "nor here" memcheck_ok "$T/b.log"
if [ "$LAST" = c ]; then
	check "nor back under the release" memcheck_ok "$T/c.log"
else
	ok "nor back under the release: not moved back"
fi
check "guest kernel log clean after both moves" guest_log_clean "$T/$LAST.log"

"$([ $LAST = c ] && echo "$OLDCTL" || echo "$NEWCTL")" --socket "$T/$LAST.sock" quit >/dev/null
[ $LAST = c ] && wait $C || wait $B

# A state file written by the release loads here.
wait_for "$T/d.log" "tern-counter 5" 120 || echo "# the release's counter guest did not reach 5"
"$OLDCTL" --socket "$T/d.sock" stop >/dev/null
c1=$(last_counter "$T/d.log")
"$OLDCTL" --socket "$T/d.sock" save-state "$T/state" >/dev/null 2>&1
"$OLDCTL" --socket "$T/d.sock" quit >/dev/null
wait $D
"$NEWVM" $S --incoming "$T/state" --console "file:$T/e.log" \
	--control "$T/e.sock" >"$T/e.out" 2>&1 &
E=$!
guard $E 300
wait_for "$T/e.log" "tern-counter" 30
first=$(grep -o 'tern-counter [0-9]*' "$T/e.log" | head -n1 | cut -d' ' -f2)
check "the release's state file ($(wc -c <"$T/state" 2>/dev/null) bytes) loads here: counter ${c1:-none} -> ${first:-none}" \
	sh -c "[ -n '$first' ] && [ -n '$c1' ] && [ '$first' -ge '$c1' ] && [ '$first' -le $((c1 + 1)) ]"
c2=$(counter_passes "$T/e.log" $((${first:-0} + 3)) 20)
check "and keeps counting (${first:-none} -> ${c2:-none})" sh -c "[ -n '$c2' ] && [ '$c2' -gt $((${first:-0} + 3)) ]"
"$NEWCTL" --socket "$T/e.sock" quit >/dev/null
wait $E; re=$?
check "and this ternvm exits 0 on quit (rc=$re)" [ $re = 0 ]
[ $TAP_FAILED = 0 ] || { dump "$T" a b c d e; }
rm -rf "$T"
exit $TAP_FAILED
