#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rebind: in the migration tests' guest, unbinds and binds again the
# virtio-blk and virtio-net drivers through sysfs, in a loop, so a
# migration lands while a driver resets its device, negotiates features
# or sets its queues up.  After each bind the device must work (a read of
# /dev/vda, eth0 up); each round prints "rebind: pass N ok", a broken
# device "rebind: FAIL ...".
D=/sys/bus/virtio/drivers
dev_of() { for _d in $D/$1/virtio*; do [ -e "$_d" ] && basename "$_d"; done; }
blk=$(dev_of virtio_blk) net=$(dev_of virtio_net)
[ -n "$blk" ] && [ -n "$net" ] || { echo "rebind: FAIL no virtio-blk ($blk) or virtio-net ($net)"; exit 1; }
echo "rebind: virtio-blk $blk, virtio-net $net"
# appears PATH: PATH is there within 5 s (devtmpfs and the netdev come
# with the probe, which may still run when bind returns).
appears() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt 50 ]; do usleep 100000; _i=$((_i + 1)); done
	[ -e "$1" ]
}
i=0
while :; do
	i=$((i + 1))
	echo "$blk" >$D/virtio_blk/unbind && echo "$blk" >$D/virtio_blk/bind ||
		{ echo "rebind: FAIL pass $i: virtio-blk unbind/bind"; exit 1; }
	appears /dev/vda && dd if=/dev/vda of=/dev/null bs=4096 count=8 iflag=direct 2>/dev/null ||
		{ echo "rebind: FAIL pass $i: /dev/vda does not read"; exit 1; }
	echo "$net" >$D/virtio_net/unbind && echo "$net" >$D/virtio_net/bind ||
		{ echo "rebind: FAIL pass $i: virtio-net unbind/bind"; exit 1; }
	appears /sys/class/net/eth0 && ip link set eth0 up ||
		{ echo "rebind: FAIL pass $i: eth0 does not come up"; exit 1; }
	echo "rebind: pass $i ok"
done
