#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the test guest's initramfs: busybox-static, the virtio modules of
# the Debian cloud kernel (in modules.dep order), and an /init that prints
# a counter on the console every ~100 ms and runs the test steps named on
# the kernel command line:  tern.run=step,step,...  (see "steps" below;
# run:PROG:ARG runs any program, e.g. one added with SRC:DST, and
# bg:PROG:ARG runs one in the background).
#
# usage: [KVER=...] scripts/guest-image.sh OUT.cpio.gz [SRC:DST...]
set -euo pipefail

OUT=${1:?usage: guest-image.sh OUT.cpio.gz [SRC:DST...]}
shift
KVER=${KVER:-$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sed 's|.*/||' | sort -V | tail -n1)}
MODDIR=/lib/modules/$KVER
[[ -n $KVER && -d $MODDIR ]] || { echo "guest-image: no Debian cloud kernel modules" >&2; exit 1; }
[[ -x /bin/busybox ]] && file -L /bin/busybox | grep -q static ||
	{ echo "guest-image: needs busybox-static" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,lib/modules,mnt}
cp /bin/busybox "$R/bin/busybox"

# Modules and their dependencies, dependencies first.
declare -A seen=()
ORDER=()
resolve() {
	local path=$1 d i
	[[ -n ${seen[$path]:-} ]] && return
	seen[$path]=1
	read -r -a d <<<"$(awk -v m="$path:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep")"
	for ((i = ${#d[@]} - 1; i >= 0; i--)); do resolve "${d[i]}"; done
	ORDER+=("$path")
}
for m in virtio_pci virtio_blk virtio_net virtio_console virtio-rng; do
	p=$(grep -m1 -E "(^|/)$m\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep" | cut -d: -f1)
	[[ -n $p ]] || { echo "guest-image: module $m not in $MODDIR" >&2; exit 1; }
	resolve "$p"
done
: >"$R/lib/modules/order"
for p in "${ORDER[@]}"; do
	f=$(basename "$p")
	case $f in
	*.ko.xz) xz -dc "$MODDIR/$p" >"$R/lib/modules/${f%.xz}"; f=${f%.xz} ;;
	*.ko.zst) zstd -qdc "$MODDIR/$p" >"$R/lib/modules/${f%.zst}"; f=${f%.zst} ;;
	*) cp "$MODDIR/$p" "$R/lib/modules/$f" ;;
	esac
	echo "$f" >>"$R/lib/modules/order"
done

for f in "$@"; do
	src=${f%%:*} dst=${f#*:}
	[[ -e $src && $dst == /* ]] || { echo "guest-image: bad file $f" >&2; exit 1; }
	mkdir -p "$R$(dirname "$dst")"
	cp -a "$src" "$R$dst"
done

cat >"$R/init" <<'INIT'
#!/bin/busybox sh
# Test guest /init: load virtio modules, run the steps in tern.run=, then
# (step "counter") print "tern-counter N" every ~100 ms until powered off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "tern-guest: init started, $(cut -d' ' -f1 /proc/uptime)s after boot"
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m 2>/dev/null; done
steps=$(sed -n 's/.*tern\.run=\([^ ]*\).*/\1/p' /proc/cmdline)
say() { echo "tern-guest: $*"; }
for step in $(echo "$steps" | tr , ' '); do
	case $step in
	cpus) say "cpus $(grep -c ^processor /proc/cpuinfo)" ;;
	blkwrite)
		# A marker at 1 MiB into the disk, then sync: the host looks for it.
		if [ -b /dev/vda ]; then
			echo "tern-blk-marker-$(cat /proc/sys/kernel/random/boot_id)" |
				dd of=/dev/vda bs=512 seek=2048 conv=fsync 2>/dev/null
			sync
			say "blkwrite done $(cat /proc/sys/kernel/random/boot_id)"
		else
			say "blkwrite failed: no /dev/vda"
		fi ;;
	blkread) say "blkread $(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 32)" ;;
	rng)
		n=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)
		say "rng $n bytes from $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)" ;;
	vcon) [ -e /dev/hvc0 ] && echo "tern-vcon hello" >/dev/hvc0 && say "vcon done" ;;
	net)
		ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
			say "net mac $(cat /sys/class/net/eth0/address)" &&
			ping -c 3 -W 2 10.0.2.2 >/dev/null && say "net ping ok" || say "net ping failed" ;;
	counter)
		i=0
		while :; do echo "tern-counter $i"; i=$((i + 1)); usleep 100000; done ;;
	run:*) cmd=$(echo "${step#run:}" | tr : ' '); say "run $cmd"; $cmd; say "run rc=$?" ;;
	bg:*) cmd=$(echo "${step#bg:}" | tr : ' '); say "bg $cmd"; $cmd & ;;
	poweroff) say "powering off"; poweroff -f ;;
	reboot) say "rebooting"; reboot -f ;;
	*) say "unknown step $step" ;;
	esac
done
say "steps done"
exec sh
INIT
chmod +x "$R/init"
mkdir -p "$(dirname "$OUT")"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
