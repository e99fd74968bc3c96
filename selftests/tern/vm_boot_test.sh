#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Debian cloud kernel boots under ternvm with 2 vCPUs to the busybox
# /init, sees both CPUs, and powers off; ternvm then exits 0 and the
# guest's kernel log has no warning.  A guest reboot ends ternvm with
# status 2.  Prints the boot time (ternvm start to /init) under nested KVM.
LIB=$(dirname "$0")/vm_lib.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm_lib.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -r "$BZIMAGE" ] && [ -r "$INITRD" ] || skip_all "no ternvm or guest image"
echo "1..6"
T=$(mktemp -d)

start=$(now)
timeout 120 "$TERNVM" --kernel "$BZIMAGE" --initrd "$INITRD" --cpus 2 --memory 256M \
	--append "console=ttyS0 tern.run=cpus,poweroff" \
	--console "file:$T/boot.log" >"$T/boot.out" 2>&1
rc=$?
end=$(now)
check "ternvm exits 0 after guest poweroff (rc=$rc)" test "$rc" = 0
check "guest reached /init" grep -q "tern-guest: init started" "$T/boot.log"
check "guest sees 2 CPUs" grep -q "tern-guest: cpus 2" "$T/boot.log"
check "guest kernel log is clean" guest_log_clean "$T/boot.log"
if grep -q "tern-guest: init started" "$T/boot.log"; then
	guest=$(sed -n 's/.*init started, \([0-9.]*\)s after boot.*/\1/p' "$T/boot.log")
	echo "# boot time: ternvm start to exit after poweroff" \
	     "$(awk "BEGIN { printf \"%.1f\", $end - $start }")s; guest kernel to /init ${guest}s"
else
	show_console "$T/boot.log" 40
	sed 's/^/# ternvm: /' "$T/boot.out"
fi

timeout 120 "$TERNVM" --kernel "$BZIMAGE" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 tern.run=reboot" --console "file:$T/reboot.log" >"$T/reboot.out" 2>&1
rc=$?
check "guest reboot ends ternvm with status 2 (rc=$rc)" test "$rc" = 2
check "guest kernel log is clean after reboot" guest_log_clean "$T/reboot.log"
[ $rc = 2 ] || show_console "$T/reboot.log"
rm -rf "$T"
exit $TAP_FAILED
