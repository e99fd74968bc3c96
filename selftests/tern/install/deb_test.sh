#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (make check-full only: two package builds and a
# Debian root cost minutes and need the mirror).  From a copy of the tree,
# `dpkg-buildpackage -us -uc -b` builds tern and tern-dkms;
# debian/changelog's version is VERSION's; lintian finds no error or
# warning beyond debian/*.lintian-overrides; each package holds its files.
# Then both are installed as an admin would, with apt into a fresh Debian
# 12 root (mmdebstrap, the build host untouched) beside the headers of the
# harness's kernel: apt resolves what they depend on, tern's postinst
# makes the group, tern-dkms's has DKMS build and install tern.ko.  The
# harness VM boots with that module and runs vm_migrate_test with the
# installed ternvm and ternctl; apt-get purge takes it all away again.
. "$(dirname "$0")/../host_lib.sh"

V=$(cat "$ROOT/VERSION")
echo "1..12"

check "debian/changelog's version is VERSION ($V)" \
	grep -q "^tern ($V-[0-9.]*) " "$ROOT/debian/changelog"
# The tree as committed plus local changes, without build products or
# .git (so the programs report VERSION, as from a release tarball).
mkdir -p "$T/tern-$V"
(cd "$ROOT" && git ls-files -co --exclude-standard | grep -v '^build/' |
	tar -cf - -T -) | tar -x -C "$T/tern-$V"
check "dpkg-buildpackage -us -uc -b" sh -c \
	"cd '$T/tern-$V' && dpkg-buildpackage -us -uc -b >'$T/build.log' 2>&1"
deb=$T/tern_${V}-1_amd64.deb dkms_deb=$T/tern-dkms_${V}-1_all.deb
check "lintian: no error or warning but the documented overrides" sh -c \
	"lintian --fail-on error,warning '$T/tern_${V}-1_amd64.changes' >'$T/lintian.log' 2>&1"
files=$(dpkg-deb -c "$deb" 2>/dev/null | awk '{ print $6 }')
want="./usr/bin/ternvm ./usr/bin/ternctl ./usr/bin/tern-state-dump
./usr/share/man/man1/ternvm.1.gz ./usr/share/man/man8/ternctl.8.gz
./usr/share/man/man1/tern-state-dump.1.gz ./usr/share/man/man4/tern.4.gz
./lib/udev/rules.d/60-tern.rules ./usr/share/bash-completion/completions/ternctl"
missing=$(for f in $want; do grep -qx "$f" <<<"$files" || echo "$f"; done | tr '\n' ' ')
check "tern holds the programs, man pages and udev rule${missing:+ (missing: $missing)}" test -z "$missing"
dkms_files=$(dpkg-deb -c "$dkms_deb" 2>/dev/null | awk '{ print $6 }')
check "tern-dkms holds /usr/src/tern-$V with dkms.conf" sh -c \
	"echo '$dkms_files' | grep -qx './usr/src/tern-$V/dkms.conf' &&
	 echo '$dkms_files' | grep -qx './usr/src/tern-$V/kmod/main.c'"
# A Debian 12 root with both packages and the kernel's headers, by apt
# from the host's own archive (where the headers of its kernel are).
R=$T/root
src=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	[[ -s $f ]] && { src=$f; break; }
done
# (Paths to .deb files each in an --include of their own, bind-mounted
# for the dpkg inside.)
check "apt installs tern, tern-dkms and linux-headers-$KVER into a fresh Debian 12 root" sh -c \
	"mmdebstrap --variant=apt --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
		--include='$deb' --include='$dkms_deb' --include='linux-headers-$KVER' \
		bookworm '$R' $src >'$T/install.log' 2>&1"
# A command in the root with a /proc (dkms needs one), mounted by the
# host's mount in a namespace that takes it away at the end.
inroot() {
	unshare --mount --fork sh -c 'mount -t proc proc "$0/proc" &&
		exec chroot "$0" sh -c "{ [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd; } && $1"' \
		"$R" "$1"
}
check "the installed ternvm runs: $(inroot 'ternvm --version' 2>&1)" sh -c \
	"$(declare -f inroot); R='$R'; inroot 'ternvm --version' | grep -qx 'ternvm $V'"
check "tern's postinst made the system group tern" grep -q '^tern:' "$R/etc/group"
ko=$R/lib/modules/$KVER/updates/dkms/tern.ko
check "tern-dkms's postinst had DKMS build and install tern.ko for $KVER" sh -c \
	"$(declare -f inroot); R='$R'; test -f '$ko' &&
	 inroot 'dkms status tern' | grep -q '$V, $KVER, x86_64: installed'"
# The harness with the installed programs in /usr/bin and DKMS's module.
G=$ROOT/build/guest/ternvm-guest.cpio.gz
"$ROOT/scripts/harness" --quiet --mem 4096 --ko "$ko" --out "$T/harness" \
	--file "$R/usr/bin/ternvm:/usr/bin/ternvm" \
	--file "$R/usr/bin/ternctl:/usr/bin/ternctl" \
	--file "$ROOT/selftests/tern/lib/vm.sh:/usr/share/tern/vm.sh" \
	--file "/boot/vmlinuz-$KVER:/guest/bzImage" --file "$G:/guest/initrd.gz" \
	"$BIN/selftests/tern/vm/vm_migrate_test.sh" >"$T/harness.log" 2>&1
hrc=$?
check "harness boots with the installed tern.ko (rc=$hrc)" grep -q "^ok 1 harness ready" "$T/harness/tap.log"
check "vm_migrate_test passes with the installed ternvm and ternctl" sh -c \
	"grep -q '^ok' '$T/harness/tap.log' && ! grep -q '^not ok' '$T/harness/tap.log' &&
	 grep -q 'end vm_migrate_test.sh rc=0' '$T/harness/tap.log'"
check "apt-get purge takes the programs and the module away" sh -c \
	"$(declare -f inroot); R='$R'; inroot 'apt-get purge -y -q tern tern-dkms' >>'$T/install.log' 2>&1 &&
	 ! test -e '$R/usr/bin/ternvm' && ! test -e '$ko' && ! test -e '$R/usr/src/tern-$V'"
if ((rc)); then
	for f in build.log lintian.log install.log harness/tap.log; do
		[[ -f $T/$f ]] && { grep '^E:' "$T/$f"; tail -n 25 "$T/$f"; } | sed "s|^|# $f: |"
	done
fi
exit $rc
