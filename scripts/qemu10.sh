#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmarks' reference VMM (../shared/DESIGN.md, "The QEMU in the
# benchmarks"): Debian 13's QEMU 10, run on this Debian 12 host without a
# chroot.  mmdebstrap makes a trixie root with qemu-system-x86; we keep
# its binary, the libraries it loads (with trixie's own loader) and its
# firmware in one folder, and a wrapper that starts the binary through
# that loader.  `make bench` caches the folder under build/.
#
# usage: scripts/qemu10.sh OUTDIR	(root, and Debian's mirror reachable)
set -euo pipefail
OUT=${1:?usage: qemu10.sh OUTDIR}
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT" "$OUT.tmp"' EXIT
mmdebstrap --quiet --variant=apt --include=qemu-system-x86 trixie "$ROOT"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp/lib" "$OUT.tmp/share"
cp "$ROOT/usr/bin/qemu-system-x86_64" "$OUT.tmp/"
for lib in $(chroot "$ROOT" ldd /usr/bin/qemu-system-x86_64 | grep -o '/[^ ]*'); do
	cp -L "$ROOT$lib" "$OUT.tmp/lib/"
done
# Dereferenced: the firmware folders link into each other.
cp -rL "$ROOT/usr/share/qemu" "$ROOT/usr/share/seabios" "$OUT.tmp/share/"
cat >"$OUT.tmp/qemu-system-x86_64.sh" <<'EOF'
#!/bin/sh
# Debian 13's QEMU on a Debian 12 root: its own loader and libraries.
D=$(dirname "$0")
exec "$D/lib/ld-linux-x86-64.so.2" --library-path "$D/lib" "$D/qemu-system-x86_64" \
	-L "$D/share/qemu" -L "$D/share/seabios" "$@"
EOF
chmod +x "$OUT.tmp/qemu-system-x86_64.sh"
"$OUT.tmp/qemu-system-x86_64.sh" --version | head -n1
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
