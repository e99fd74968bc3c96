#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packs what bench/migrate_bench needs inside the harness VM into one
# tar.gz (unpacked over / there): each SRC at DST, executables with the
# libraries ldd lists at their host paths.  `make bench` cannot pass files
# to the harness, so the payload rides appended to the benchmark script.
#
# usage: scripts/qemu-bench-payload.sh OUT.tar.gz SRC:DST...
set -euo pipefail
OUT=${1:?usage: qemu-bench-payload.sh OUT.tar.gz SRC:DST...}
shift
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
libs() {
	local lib
	ldd "$1" >/dev/null 2>&1 || return 0	# static or a script
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		[[ -e $R$lib ]] && continue
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
}
for f in "$@"; do
	src=${f%%:*} dst=${f#*:}
	[[ -e $src && $dst == /* ]] || { echo "qemu-bench-payload: bad $f" >&2; exit 1; }
	mkdir -p "$R$(dirname "$dst")"
	cp -a "$src" "$R$dst"
	if [[ -f $src && -x $src ]]; then libs "$src"; fi
done
mkdir -p "$(dirname "$OUT")"
tar -C "$R" -czf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
