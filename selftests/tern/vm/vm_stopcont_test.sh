#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ternctl stop/cont pause and resume a running guest: the counter the
# guest prints every ~100 ms stands still while stopped (status "paused")
# and moves again after cont; the control socket emits STOP and RESUME,
# and SHUTDOWN on quit, after which ternvm exits 0.  With tern.ko loaded,
# `ternctl regions` shows the guest's RAM region while it runs and none
# (no leaked pages or streams) once ternvm has exited.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$BZIMAGE" ] || skip_all "no ternvm/ternctl/guest"
echo "1..11"
T=$(mktemp -d)
S=$T/ctl.sock
if ! boot_guest "$T/con.log" "$T/vm.out" "tern-counter 5" 90 \
	--kernel "$BZIMAGE" --initrd "$INITRD" --cpus 2 --memory 256M \
	--append "console=ttyS0 tern.run=counter" --console "file:$T/con.log" \
	--control "$S"; then
	VM=$PID
	not_ok "guest counter runs"
	show_console "$T/con.log"
	kill $VM; wait $VM; rm -rf "$T"; exit 1
fi
VM=$PID
ok "guest counter runs"
"$TERNCTL" --socket "$S" events --count 3 --timeout 30 >"$T/events" 2>&1 &
EV=$!
sleep 0.5

if [ -c /dev/tern ]; then
	"$TERNCTL" regions >"$T/regions" 2>&1
	check "ternctl regions lists the guest's RAM: $(grep ternvm "$T/regions")" \
		grep -Eq "ternvm-$VM-ram0 +256 " "$T/regions"
else
	ok "ternctl regions # SKIP no /dev/tern"
fi

check "ternctl stop: $("$TERNCTL" --socket "$S" stop 2>&1)" test $? = 0
c1=$(last_counter "$T/con.log")
sleep 2
c2=$(last_counter "$T/con.log")
check "counter stands still while stopped ($c1 -> $c2)" test "$c1" = "$c2"
"$TERNCTL" --socket "$S" status >"$T/status"
check "status says paused: $(cat "$T/status")" grep -q "^paused" "$T/status"

check "ternctl cont: $("$TERNCTL" --socket "$S" cont 2>&1)" test $? = 0
sleep 2
c3=$(last_counter "$T/con.log")
check "counter moves again after cont ($c2 -> $c3)" test "$c3" -gt $((c2 + 3))

"$TERNCTL" --socket "$S" quit >/dev/null
wait $VM
rc=$?
check "ternvm exits 0 after quit (rc=$rc)" test $rc = 0
if [ -c /dev/tern ]; then
	out=$("$TERNCTL" --json regions 2>&1)
	check "tern.ko holds nothing after ternvm exits: $out" sh -c \
		"echo '$out' | grep -q '\"total-regions\":0,\"total-pages\":0,\"total-streams\":0'"
else
	ok "tern.ko holds nothing # SKIP no /dev/tern"
fi
wait $EV
check "events STOP, RESUME, SHUTDOWN in order: $(tr '\n' ' ' <"$T/events")" \
	test "$(grep -v connected "$T/events" | tr '\n' ' ')" = "STOP RESUME SHUTDOWN "
check "guest kernel log is clean" guest_log_clean "$T/con.log"
[ $TAP_FAILED = 0 ] || { show_console "$T/con.log"; sed 's/^/# vm: /' "$T/vm.out"; }
rm -rf "$T"
exit $TAP_FAILED
