#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# --mem-prealloc (issue 17): a destination allocates all of its RAM
# before the source sends a page, so the stream's writes land in pages
# that exist.  Shown where the pages are counted: the --mem-path file's
# allocated blocks and, for a tern.ko region, the destination's resident
# shared memory, each against the same destination without the option.
# A file's contents are kept (the pages are populated, not written); a
# file system too small for the guest fails the start, naming the file
# and the offset, where without the option the destination starts and
# its guest would meet the SIGBUS later.  Last, a busy guest migrates
# into a preallocating destination and memcheck goes on there clean.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"
MC=32
VM_OPTS="--cpus 1 --memory 256M"
RAM=$((256 << 20))

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternctl/guest"
echo "1..13"
T=$(mktemp -d)

# file_bytes FILE: bytes the file system allocated to FILE.
file_bytes() { echo $(($(stat -c '%b * %B' "$1"))); }
# shmem_bytes PID: PID's resident shared memory (tern regions, memfds).
shmem_bytes() { echo $(($(awk '/^RssShmem:/ { print $2 }' /proc/$1/status) * 1024)); }
# ready NAME: the destination NAME's control socket is up (preallocated
# by then), within 60 s under the harness's emulator.
ready() {
	_i=0
	while [ ! -S "$T/$1.sock" ] && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
}
# quit_dst NAME: quit the waiting destination NAME, its status in $rc.
quit_dst() { "$TERNCTL" --socket "$T/$1.sock" quit >/dev/null 2>&1; wait $PID; rc=$?; }

# A RAM file: every byte allocated at start with the option, not without.
dst_start "$T" p "unix:$T/p.mig" --mem-path "$T/p.ram" --mem-prealloc
ready p
got=$(file_bytes "$T/p.ram")
check "a --mem-path file is allocated whole at start ($got of $RAM bytes)" [ "$got" -ge $RAM ]
quit_dst p
check "and the destination quits with status 0 ($rc)" [ "$rc" = 0 ]
dst_start "$T" n "unix:$T/n.mig" --mem-path "$T/n.ram"
ready n
got=$(file_bytes "$T/n.ram")
check "without the option it is not ($got bytes)" [ "$got" -lt $((RAM / 4)) ]
quit_dst n

# A tern.ko region (or a memfd without the module): the same, resident,
# and a region's two views (the devices' and KVM's) both mapped, so the
# guest's first touches after a migration find their pages in place.
dst_start "$T" r "unix:$T/r.mig" --mem-prealloc
ready r
got=$(shmem_bytes $PID)
if [ -c /dev/tern ]; then
	check "RAM in a tern.ko region is resident at start, in both views ($got of 2 x $RAM bytes)" \
		[ "$got" -ge $((2 * RAM)) ]
else
	check "RAM in a memfd is resident at start ($got of $RAM bytes)" [ "$got" -ge $RAM ]
fi
quit_dst r
dst_start "$T" s "unix:$T/s.mig"
ready s
got=$(shmem_bytes $PID)
check "without the option it is not ($got bytes)" [ "$got" -lt $((RAM / 4)) ]
quit_dst s

# What the file holds is kept: a marker near its end survives.
printf 'tern-prealloc-marker' | dd of="$T/k.ram" bs=1 seek=$((RAM - 4096)) conv=notrunc 2>/dev/null
dst_start "$T" k "unix:$T/k.mig" --mem-path "$T/k.ram" --mem-prealloc
ready k
quit_dst k
check "what a --mem-path file held is kept" sh -c \
	"dd if='$T/k.ram' bs=4096 skip=$((RAM / 4096 - 1)) count=1 2>/dev/null | grep -q tern-prealloc-marker"

# A file system with room for a quarter of the guest.
mkdir "$T/small" && mount -t tmpfs -o size=64M tern-prealloc "$T/small"
out=$(timeout 60 "$TERNVM" $VM_OPTS --mem-path "$T/small/ram" --mem-prealloc \
	--incoming "unix:$T/f.mig" --control "$T/f.sock" 2>&1 </dev/null)
rc=$?
echo "$out" | sed 's/^/# /'
check "a full file system fails the start with status 1 ($rc)" [ "$rc" = 1 ]
check "naming the file and the offset" sh -c "printf '%s\n' '$out' |
	grep -q -- '--mem-prealloc: cannot allocate guest RAM $T/small/ram at offset 0x[0-9a-f]* of 256 MiB: .*full'"
rm -f "$T/small/ram"
dst_start "$T" g "unix:$T/g.mig" --mem-path "$T/small/ram"
ready g
check "without the option the same destination starts" [ -S "$T/g.sock" ]
quit_dst g
umount "$T/small"

# A busy guest into a preallocating destination.
src_start "$T" a "run:memcheck:$MC"; A=$PID
dst_start "$T" b "unix:$T/b.mig" --mem-prealloc; B=$PID
ready b
check "memcheck runs on the source" wait_for "$T/a.log" "memcheck: pass .* ok" 120
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/b.mig" 2>&1)
figures busy "$out"
check "a busy guest migrates into it ($(jget "$out" status))" [ "$(jget "$out" status)" = completed ]
check "memcheck goes on in the destination" moves "$T/b.log" 30
check "and never finds a page lost or stale, on either side" \
	sh -c "! grep -q 'memcheck: FAIL' '$T/a.log' '$T/b.log'"
[ "${TAP_FAILED:-0}" = 0 ] || dump "$T" a b
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null 2>&1
"$TERNCTL" --socket "$T/b.sock" quit >/dev/null 2>&1
wait $A $B
rm -rf "$T"
exit $TAP_FAILED
