#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A console client that stops reading never freezes the guest (issue 18):
# the guest floods its serial console while a client holds the console
# socket without reading a byte.  ternvm drops the output and says so,
# and stop, status, cont and quit all answer within seconds.  (When
# the vCPU wrote to the socket itself, it blocked in write() once the
# socket's buffer filled, and stop waited for it forever.)
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$BZIMAGE" ] || skip_all "no ternvm/ternctl/guest"
HOLD=${HOLD:-$(command -v tern-unix-hold)}
[ -x "$HOLD" ] || skip_all "no tern-unix-hold"
echo "1..6"
T=$(mktemp -d)
S=$T/ctl.sock

"$TERNVM" --kernel "$BZIMAGE" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 tern.run=vcon,bg:yes" \
	--console "unix:$T/con.sock" --vconsole "$T/vcon.log" \
	--control "$S" >"$T/vm.out" 2>&1 &
VM=$!
guard $VM "$VM_GUARD"
wait_for_socket() {
	_i=0
	while [ ! -S "$1" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -S "$1" ]
}
if wait_for_socket "$T/con.sock"; then
	"$HOLD" "$T/con.sock" 600 >"$T/hold.out" 2>&1 &
	HELD=$!
	wait_for "$T/hold.out" connected 10
fi
if wait_for "$T/vcon.log" "tern-vcon hello" 120; then
	ok "the guest boots with a console client that never reads"
else
	not_ok "guest boot: $(tail -n 3 "$T/vm.out")"
fi
if wait_for "$T/vm.out" "the reader stopped reading; dropping output" 120; then
	ok "the flood fills the console; ternvm drops output and says so"
else
	not_ok "no drop reported: $(tail -n 3 "$T/vm.out")"
fi
check "stop answers while the reader is stalled" \
	timeout 20 "$TERNCTL" --socket "$S" stop
timeout 10 "$TERNCTL" --socket "$S" status >"$T/status" 2>&1
check "status says paused: $(cat "$T/status")" grep -q "^paused" "$T/status"
check "cont answers" timeout 20 "$TERNCTL" --socket "$S" cont
timeout 20 "$TERNCTL" --socket "$S" quit >/dev/null 2>&1
_i=0
while kill -0 $VM 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
if kill -0 $VM 2>/dev/null; then
	not_ok "quit: ternvm still running 20 s later"
	kill -9 $VM
else
	ok "quit: ternvm exits with the reader still stalled"
fi
wait $VM 2>/dev/null
[ -n "${HELD:-}" ] && kill $HELD 2>/dev/null
[ $TAP_FAILED = 0 ] || sed 's/^/# vm: /' "$T/vm.out" | tail -n 20
rm -rf "$T"
exit $TAP_FAILED
