#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall into a staging tree (DESTDIR), for the
# default PREFIX (/usr/local: udev rule in /etc) and for PREFIX=/usr (udev
# rule in udev's own directory): every file lands where it belongs with
# its mode, the installed programs run, tern.ko is built for KVER, and
# uninstall leaves no file behind.  Uses this build's binaries.
. "$(dirname "$0")/../host_lib.sh"
[[ $BIN == */san ]] && SAN=1 || SAN=0
mk() { make -C "$ROOT" --no-print-directory SANITIZE=$SAN "$@" >>"$T/make.log" 2>&1; }
mode() { [[ -f $1 && $(stat -c %a "$1") == "$2" ]]; }

echo "1..16"
D=$T/a
check "make install DESTDIR=... (PREFIX=/usr/local)" mk install DESTDIR="$D"
for p in ternvm ternctl tern-state-dump; do
	check "bin/$p, 0755, runs" sh -c "[ \$(stat -c %a '$D/usr/local/bin/$p') = 755 ] &&
		'$D/usr/local/bin/$p' --version | grep -q '^$p '"
done
for m in man1/ternvm.1 man8/ternctl.8 man1/tern-state-dump.1 man4/tern.4; do
	check "share/man/$m, 0644" mode "$D/usr/local/share/man/$m" 644
done
check "include/linux/tern.h, 0644" mode "$D/usr/local/include/linux/tern.h" 644
check "bash completion for ternctl and ternvm" sh -c \
	"cmp -s '$ROOT/dist/tern-completion.bash' '$D/usr/local/share/bash-completion/completions/ternctl' &&
	 cmp -s '$ROOT/dist/tern-completion.bash' '$D/usr/local/share/bash-completion/completions/ternvm'"
check "udev rule in /etc/udev/rules.d (udev never reads /usr/local)" \
	grep -q '^KERNEL=="tern", SUBSYSTEM=="misc", GROUP="tern", MODE="0660"$' \
	"$D/etc/udev/rules.d/60-tern.rules"
ko=$D/lib/modules/$KVER/extra/kmod/tern.ko
check "tern.ko in /lib/modules/$KVER/extra, built for $KVER" sh -c \
	"[ -n '$KVER' ] && modinfo -F vermagic '$ko' | grep -q '^$KVER '"
check "make uninstall leaves no file" sh -c \
	"make -C '$ROOT' --no-print-directory SANITIZE=$SAN uninstall DESTDIR='$D' >>'$T/make.log' 2>&1 &&
	 [ -z \"\$(find '$D' -type f)\" ]"

D=$T/b
udevdir=$(pkg-config --variable=udevdir udev 2>/dev/null || echo /lib/udev)
check "make install-user PREFIX=/usr" mk install-user PREFIX=/usr DESTDIR="$D"
check "PREFIX=/usr: udev rule in $udevdir/rules.d" mode "$D$udevdir/rules.d/60-tern.rules" 644
check "PREFIX=/usr: programs in /usr/bin" test -x "$D/usr/bin/ternvm"
((rc)) && sed 's/^/# /' "$T/make.log" | tail -n 30
exit $rc
