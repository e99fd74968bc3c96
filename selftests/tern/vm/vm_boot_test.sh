#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Debian cloud kernel boots under ternvm with 2 vCPUs to the busybox
# /init with every virtio-pci device: it sees both CPUs, writes a marker to
# virtio-blk (found in the host's image file afterwards), reads
# virtio-rng, writes to virtio-console (found in the host file), pings the
# harness over virtio-net on a tap, and powers off; ternvm then exits 0
# and the guest's kernel log has no warning.  (A guest reboot, with and
# without --no-reboot: vm_reset_test.sh.)  Prints the boot time (ternvm start to /init) under KVM.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -r "$BZIMAGE" ] && [ -r "$INITRD" ] || skip_all "no ternvm or guest image"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
echo "1..10"
T=$(mktemp -d)
TAP=ternboot0
dd if=/dev/zero of="$T/disk.img" bs=1M count=16 2>/dev/null

# boot_run: the whole run, from ternvm start to its exit (status in rc).
boot_run() {
	start=$(now)
	"$TERNVM" --kernel "$BZIMAGE" --initrd "$INITRD" --cpus 2 --memory 256M \
		--disk "$T/disk.img" --rng --vconsole "$T/vcon.out" --net "tap=$TAP" \
		--append "console=ttyS0 tern.run=cpus,blkwrite,rng,vcon,net,poweroff" \
		--console "file:$T/boot.log" >"$T/boot.out" 2>&1 &
	VM=$!
	# The guest pings 10.0.2.2: the harness side of the tap.
	i=0
	while [ $i -lt 100 ] && ! ip link show $TAP >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
	ip addr add 10.0.2.2/24 dev $TAP && ip link set $TAP up
	( sleep 120; kill $VM 2>/dev/null ) &
	WD=$!
	wait $VM
	rc=$?
	end=$(now)
	kill $WD 2>/dev/null
}
boot_run
# A triple fault before /init is the harness's, not the test's (see
# boot_guest in lib/vm.sh): boot once more.
if grep -q "triple fault" "$T/boot.out" && ! grep -q "tern-guest: init started" "$T/boot.log"; then
	echo "# boot 1: guest triple-faulted before /init: $(grep -m1 'triple fault' "$T/boot.out")"
	boot_run
fi

check "ternvm exits 0 after guest poweroff (rc=$rc)" test "$rc" = 0
check "guest reached /init" grep -q "tern-guest: init started" "$T/boot.log"
check "guest sees 2 CPUs" grep -q "tern-guest: cpus 2" "$T/boot.log"
bootid=$(sed -n 's/.*blkwrite done \([0-9a-f-]*\).*/\1/p' "$T/boot.log")
check "guest wrote and synced a block (boot id '$bootid')" test -n "$bootid"
check "the block is in the host's image file" sh -c \
	"dd if='$T/disk.img' bs=512 skip=2048 count=1 2>/dev/null | grep -q 'tern-blk-marker-$bootid'"
check "virtio-rng feeds the guest" grep -q "tern-guest: rng 64 bytes from virtio_rng" "$T/boot.log"
check "virtio-console output reaches the host" grep -q "tern-vcon hello" "$T/vcon.out"
check "virtio-net carries a ping between guest and harness" grep -q "tern-guest: net ping ok" "$T/boot.log"
check "guest kernel log is clean" guest_log_clean "$T/boot.log"
if grep -q "tern-guest: init started" "$T/boot.log"; then
	guest=$(sed -n 's/.*init started, \([0-9.]*\)s after boot.*/\1/p' "$T/boot.log")
	echo "# boot time: ternvm start to exit after poweroff" \
	     "$(awk "BEGIN { printf \"%.1f\", $end - $start }")s; guest kernel to /init ${guest}s"
fi
[ $TAP_FAILED = 0 ] || { show_console "$T/boot.log" 40; sed 's/^/# ternvm: /' "$T/boot.out"; }

# Nothing is left behind: the tap went away with ternvm.
check "tap device gone after exit" sh -c "! ip link show $TAP >/dev/null 2>&1"
rm -rf "$T"
exit $TAP_FAILED
