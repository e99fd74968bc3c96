#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (make check-full only: two package builds cost
# minutes).  From a copy of the tree, `dpkg-buildpackage -us -uc -b` builds
# tern and tern-dkms; debian/changelog's version is VERSION's; lintian
# finds no error or warning beyond debian/*.lintian-overrides; each
# package holds its files, and tern's postinst creates the group.  Then
# the packages' contents are used as installed: DKMS builds tern.ko from
# tern-dkms's /usr/src, and the harness VM boots with that module and
# runs vm_migrate_test with tern's /usr/bin/ternvm and ternctl.  (The
# harness has no dpkg, and installing on the build host would change it:
# the packages are unpacked, not installed, and the maintainer scripts
# are checked by reading them.)
. "$(dirname "$0")/../host_lib.sh"

V=$(cat "$ROOT/VERSION")
echo "1..11"

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
mkdir -p "$T/ctl" "$T/root"
dpkg-deb -e "$deb" "$T/ctl/tern" && dpkg-deb -e "$dkms_deb" "$T/ctl/tern-dkms"
check "tern's postinst creates the system group tern" \
	grep -q 'addgroup --system --quiet tern' "$T/ctl/tern/postinst"
check "tern-dkms's postinst and prerm run dkms for tern/$V" sh -c \
	"grep -q 'tern' '$T/ctl/tern-dkms/postinst' && grep -q 'dkms remove' '$T/ctl/tern-dkms/prerm' &&
	 grep -q '$V' '$T/ctl/tern-dkms/postinst'"

dpkg-deb -x "$deb" "$T/root" && dpkg-deb -x "$dkms_deb" "$T/root"
check "the packaged ternvm runs: $("$T/root/usr/bin/ternvm" --version 2>&1)" sh -c \
	"'$T/root/usr/bin/ternvm' --version | grep -qx 'ternvm $V'"
mkdir -p "$T/dkms" "$T/inst"
dk() {
	mok_signing_key=$T/mok.key mok_certificate=$T/mok.pub dkms "$@" \
		--dkmstree "$T/dkms" --sourcetree "$T/root/usr/src" --installtree "$T/inst" \
		>>"$T/dkms.log" 2>&1
}
ko=$T/dkms/tern/$V/$KVER/x86_64/module/tern.ko
check "DKMS builds tern.ko for $KVER from tern-dkms's source" sh -c \
	"$(declare -f dk); T='$T'; dk add -m tern -v '$V' && dk build -m tern -v '$V' -k '$KVER' &&
	 test -f '$ko'"
# The harness with the packaged programs in /usr/bin and DKMS's module.
G=$ROOT/build/guest/ternvm-guest.cpio.gz
"$ROOT/scripts/harness" --quiet --mem 4096 --ko "$ko" --out "$T/harness" \
	--file "$T/root/usr/bin/ternvm:/usr/bin/ternvm" \
	--file "$T/root/usr/bin/ternctl:/usr/bin/ternctl" \
	--file "$ROOT/selftests/tern/lib/vm.sh:/usr/share/tern/vm.sh" \
	--file "/boot/vmlinuz-$KVER:/guest/bzImage" --file "$G:/guest/initrd.gz" \
	"$BIN/selftests/tern/vm/vm_migrate_test.sh" >"$T/harness.log" 2>&1
hrc=$?
check "harness boots with DKMS's tern.ko (rc=$hrc)" grep -q "^ok 1 harness ready" "$T/harness/tap.log"
check "vm_migrate_test passes with the packaged ternvm and ternctl" sh -c \
	"grep -q '^ok' '$T/harness/tap.log' && ! grep -q '^not ok' '$T/harness/tap.log' &&
	 grep -q 'end vm_migrate_test.sh rc=0' '$T/harness/tap.log'"
if ((rc)); then
	for f in build.log lintian.log dkms.log harness/tap.log; do
		[[ -f $T/$f ]] && sed "s|^|# $f: |" "$T/$f" | tail -n 25
	done
fi
exit $rc
