#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# save-state then load-state resumes the guest: a guest printing a counter
# (2 vCPUs, virtio-blk attached) is stopped, its vCPU, irqchip, clock and
# device state saved, and ternvm quits; a fresh ternvm on the same RAM
# file (--mem-path) loads the state (--incoming) and the guest goes on
# from the next counter value and keeps counting, with a clean kernel
# log.  A state file with a flipped byte is refused with a message.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$BZIMAGE" ] || skip_all "no ternvm/ternctl/guest"
echo "1..11"
T=$(mktemp -d)
dd if=/dev/zero of="$T/disk.img" bs=1M count=8 2>/dev/null
COMMON="--cpus 2 --memory 256M --mem-path $T/ram --disk $T/disk.img"

boot_guest "$T/a.log" "$T/a.out" "tern-counter 10" 90 $COMMON \
	--kernel "$BZIMAGE" --initrd "$INITRD" \
	--append "console=ttyS0 tern.run=counter" --console "file:$T/a.log" \
	--control "$T/a.sock"
rc=$?
A=$PID
if [ $rc != 0 ]; then
	not_ok "guest counter runs"; show_console "$T/a.log"
	kill $A; wait $A; rm -rf "$T"; exit 1
fi
ok "guest counter runs"
"$TERNCTL" --socket "$T/a.sock" stop >/dev/null
c1=$(last_counter "$T/a.log")
check "save-state" "$TERNCTL" --socket "$T/a.sock" save-state "$T/state"
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
wait $A
check "first ternvm exits 0 after quit ($?)" test $? = 0
echo "# state file: $(wc -c <"$T/state") bytes, counter stopped at $c1"

# A flipped byte in the middle of the state: refused, nothing runs.
cp "$T/state" "$T/bad"
size=$(wc -c <"$T/bad")
printf '\377' | dd of="$T/bad" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
timeout -s KILL 60 "$TERNVM" $COMMON --incoming "$T/bad" --console "file:$T/bad.log" >"$T/bad.out" 2>&1
rc=$?
check "corrupt state refused (rc=$rc): $(grep -m1 load-state "$T/bad.out")" \
	sh -c "[ $rc = 1 ] && grep -q 'load-state' '$T/bad.out'"

"$TERNVM" $COMMON --incoming "$T/state" --console "file:$T/b.log" \
	--control "$T/b.sock" >"$T/b.out" 2>&1 &
B=$!
guard $B 300
wait_for "$T/b.log" "tern-counter" 30 || echo "# no counter from the restored guest after 30 s"
# The stop may cut a counter line in two: its head is the end of a.log
# (which last_counter leaves out), its tail the start of b.log.
first=$({ [ -z "$(tail -c1 "$T/a.log")" ] || tail -n1 "$T/a.log"; cat "$T/b.log"; } |
	grep -ao 'tern-counter [0-9]*' | head -n1 | cut -d' ' -f2)
check "guest resumes at the next counter ($c1 -> ${first:-none})" \
	sh -c "[ -n '$first' ] && [ '$first' -ge '$c1' ] && [ '$first' -le $((c1 + 1)) ]"
c2=$(counter_passes "$T/b.log" $((${first:-0} + 5)) 20)
check "and keeps counting (${first:-none} -> ${c2:-none})" sh -c "[ -n '$c2' ] && [ '$c2' -gt $((${first:-0} + 5)) ]"
"$TERNCTL" --socket "$T/b.sock" status >"$T/status"
check "restored VM reports running: $(cat "$T/status")" grep -q "^running (2 vCPUs" "$T/status"
"$TERNCTL" --socket "$T/b.sock" quit >/dev/null
wait $B
rc=$?
check "restored ternvm exits 0 after quit (rc=$rc)" test $rc = 0
check "guest kernel log clean before save" guest_log_clean "$T/a.log"
check "guest kernel log clean after load" guest_log_clean "$T/b.log"
check "no unexpected errors from the restored ternvm" sh -c "! grep -q error '$T/b.out'"
[ $TAP_FAILED = 0 ] || { show_console "$T/b.log"; sed 's/^/# b: /' "$T/b.out" | tail -n 20; }
rm -rf "$T"
exit $TAP_FAILED
