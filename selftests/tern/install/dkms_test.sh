#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS builds tern.ko from what `make install-dkms` installs: dkms.conf's
# version is VERSION; `dkms add` and `dkms build` against the Debian cloud
# kernel's headers succeed in a private DKMS tree (nothing of the host's
# /var/lib/dkms or /usr/src is touched; the signing key is made in it
# too); the module is for KVER; the source has every file of kmod/.
# Under make check-full the module also boots in the harness VM and passes
# module_test.
. "$(dirname "$0")/../host_lib.sh"

V=$(cat "$ROOT/VERSION")
dkms() {
	mok_signing_key=$T/mok.key mok_certificate=$T/mok.pub command dkms "$@" \
		--dkmstree "$T/dkms" --sourcetree "$T/src" --installtree "$T/inst" >>"$T/dkms.log" 2>&1
}
echo "1..$([[ ${TERN_CHECK_FULL:-} ]] && echo 6 || echo 5)"
if grep -qx "PACKAGE_VERSION=\"$V\"" "$ROOT/dkms.conf"; then
	ok "dkms.conf's PACKAGE_VERSION is VERSION ($V)"
else
	fail "dkms.conf's PACKAGE_VERSION is not VERSION ($V)"
fi
mkdir -p "$T/dkms" "$T/inst"
if make -C "$ROOT" --no-print-directory install-dkms DESTDIR="$T/src" DKMSSRCDIR="/tern-$V" \
	>>"$T/dkms.log" 2>&1 && [[ -f $T/src/tern-$V/dkms.conf ]]; then
	ok "make install-dkms: $(find "$T/src" -type f | wc -l) files"
else
	fail "make install-dkms"
fi
if dkms add -m tern -v "$V" && dkms build -m tern -v "$V" -k "$KVER"; then
	ok "dkms add + build tern/$V for $KVER"
else
	fail "dkms add + build tern/$V for $KVER"
fi
ko=$T/dkms/tern/$V/$KVER/x86_64/module/tern.ko
if [[ -n $KVER ]] && modinfo -F vermagic "$ko" 2>/dev/null | grep -q "^$KVER "; then
	ok "tern.ko built for $KVER"
else
	fail "no tern.ko for '$KVER' from DKMS"
fi
# Every module source, also those only a debug build compiles.
missing=$(cd "$ROOT" && find kmod include/uapi -name '*.[ch]' ! -name '*.mod.c' |
	while read -r f; do [[ -f $T/src/tern-$V/$f ]] || echo "$f"; done | tr '\n' ' ')
if [[ -z $missing ]]; then
	ok "the DKMS source has every kmod/ and uapi source file"
else
	fail "missing from the DKMS source (DKMS_FILES in dist/install.mk): $missing"
fi
if [[ ${TERN_CHECK_FULL:-} ]]; then
	if "$ROOT/scripts/harness" --quiet --ko "$ko" --out "$T/harness" \
		"$BIN/selftests/tern/kmod/module_test" >"$T/harness.log" 2>&1 &&
	   grep -q "^ok" "$T/harness/tap.log" && ! grep -q "^not ok" "$T/harness/tap.log"; then
		ok "DKMS's tern.ko loads in the harness and passes module_test"
	else
		fail "DKMS's tern.ko in the harness:"
		sed 's/^/# /' "$T/harness/tap.log" "$T/harness.log" | tail -n 40
	fi
fi
((rc)) && sed 's/^/# /' "$T/dkms.log" | tail -n 30
exit $rc
