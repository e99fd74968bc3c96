#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A destination that cannot take the guest is refused before any page:
# RAM size mismatch, a missing RAM block, a missing device, a device
# version it cannot load, a capability one side requires and the other
# lacks.  Each time the migration fails with a message naming what
# differs, no page was sent, the destination exits 1 saying so, and the
# source guest (memcheck running) keeps running, pages intact.  A
# destination made different by an environment hook (TERN_MIG_TEST_*) is
# the test build, ternvm-test: the shipped ternvm has no such hooks.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
TERNVM_TEST=${TERNVM_TEST:-$(command -v ternvm-test)}
[ -x "$TERNVM" ] && [ -x "$TERNVM_TEST" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] ||
	skip_all "no ternvm/ternvm-test/ternctl/guest"
echo "1..27"

T=$(mktemp -d)
src_start "$T" a "run:memcheck:16"; A=$PID
wait_for "$T/a.log" "memcheck: pass .* ok" 120 || { dump "$T" a; }
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 1

# refuse NAME PATTERN [env...] -- [ternvm options...]: a destination made
# different, a migration that must fail naming PATTERN.
n=0
refuse() {
	name=$1 pat=$2
	shift 2
	n=$((n + 1))
	env=
	while [ "$1" != -- ]; do env="$env $1"; shift; done
	shift
	rm -f "$T/b.sock"
	( [ -z "$env" ] || { export $env; TERNVM=$TERNVM_TEST; }
	  dst_start "$T" b$n "unix:$T/mig$n" "$@"
	  wait $PID; echo $? >"$T/b$n.rc" ) &
	sub=$!
	i=0; while [ ! -S "$T/b$n.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/mig$n" 2>&1)
	rc=$?
	echo "# $name: $out"
	err=$(jget "$out" error)
	check "$name: refused (rc=$rc, $(jget "$out" status))" \
		[ $rc != 0 -a "$(jget "$out" status)" = failed ]
	check "$name: the message names it" names "$err" "$pat"
	check "$name: before any page ($(jget "$out" pages) pages, $(jget "$out" zero-pages) zero)" \
		[ "$(jget "$out" pages)" = 0 -a "$(jget "$out" zero-pages)" = 0 ]
	wait $sub
	check "$name: destination exits 1 naming it ($(cat "$T/b$n.rc"))" \
		sh -c "[ '$(cat "$T/b$n.rc")' = 1 ] && grep -q -- '$pat' '$T/b$n.out'"
	check "$name: source guest still running" sh -c \
		"[ \"\$('$TERNCTL' --socket '$T/a.sock' status | cut -d' ' -f1)\" = running ]"
}

refuse "RAM size" "ram0" -- --memory 320M
refuse "missing RAM block" "ram0" TERN_MIG_TEST_RAM_NAME=ram9 --
refuse "missing device" "virtio-rng" -- --rng
refuse "device version" "/machine/kvm" TERN_MIG_TEST_DEVICE=/machine/kvm:7:9 --
refuse "capability" "zero-pages" TERN_MIG_TEST_CAPS=0x1 TERN_MIG_TEST_REQUIRE=0x2 --

check "source memcheck goes on" moves "$T/a.log" 3
check "no page lost or stale on the source" memcheck_ok "$T/a.log"
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
wait $A; ra=$?
check "source exits 0 on quit (rc=$ra)" [ $ra = 0 ]
[ $TAP_FAILED = 0 ] || { dump "$T" a b1 b2 b3 b4 b5; }
rm -rf "$T"
exit $TAP_FAILED
