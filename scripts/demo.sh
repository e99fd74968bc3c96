#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: build tern.ko, ternvm, ternctl and the guest image, boot
# the harness VM (QEMU TCG, nested KVM, tern.ko loaded) and run
# selftests/tern/migration/demo_migrate.sh in it: a Linux guest with a visible
# workload live-migrated between two ternvms on loopback, with figures.
set -euo pipefail
cd "$(dirname "$0")/.."

B=build
KVER=${KVER:-$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sed 's|.*/||' | sort -V | tail -n1)}
echo "demo: building tern.ko, ternvm, ternctl, the guest image"
make -s module >/dev/null
make -s -j"$(nproc)" $B/ternvm $B/ternctl $B/selftests/tern/tern-json $B/guest/ternvm-migguest.cpio.gz >/dev/null
echo "demo: starting the harness VM (QEMU TCG; booting takes a minute)"
start=$(date +%s)
rc=0
scripts/harness --timeout 600 --out "$B/harness/demo" \
	--file "$B/ternvm:/usr/bin/ternvm" --file "$B/ternctl:/usr/bin/ternctl" \
	--file selftests/tern/lib/vm.sh:/usr/share/tern/vm.sh \
	--file "$B/selftests/tern/tern-json:/usr/bin/tern-json" \
	--file "/boot/vmlinuz-$KVER:/guest/bzImage" \
	--file "$B/guest/ternvm-migguest.cpio.gz:/guest/mig-initrd.gz" \
	selftests/tern/migration/demo_migrate.sh |
	awk '/^### begin demo_migrate/ { on = 1; next } /^### end demo_migrate/ { on = 0 }
	     on && !/^1\.\./ { sub(/^# /, ""); print; fflush() }' || rc=$?
echo "demo: done in $(($(date +%s) - start)) s (logs in $B/harness/demo)"
exit $rc
