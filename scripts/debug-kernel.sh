#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once per machine) the debug kernel `make check-debug` boots: Debian's
# linux-source-6.1 with the cloud config, reduced to the modules the harness
# loads (scripts/debug-kernel/modules.list), plus KASAN, lockdep, kmemleak
# and fault injection (scripts/debug-kernel/debug.config).
#
# The build lives outside the clone, in $TERN_DEBUG_CACHE (default
# /var/cache/tern/debug-kernel), under a hash of everything that decides
# its result: the source package's version, the base config, the fragment
# and the module list.  A second clone, or `make clean`, reuses it.
#
# Usage: scripts/debug-kernel.sh [build|path]
#   build  build if not cached, then print the build directory (default)
#   path   print the build directory; fail if it is not built yet
#
# The build directory holds: arch/x86/boot/bzImage, Module.symvers (build
# tern.ko with `make -C SRC O=DIR M=...`), mods/lib/modules/VER (the
# harness's module tree), build-time (seconds of the first build), src (a
# link to the source tree).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/scripts/debug-kernel
CACHE=${TERN_DEBUG_CACHE:-/var/cache/tern/debug-kernel}
TARBALL=/usr/src/linux-source-6.1.tar.xz
JOBS=${JOBS:-2}
cmd=${1:-build}

[[ -r $TARBALL ]] || { echo "debug-kernel: $TARBALL missing (run make deps)" >&2; exit 1; }
SRCVER=$(dpkg-query -W -f='${Version}' linux-source-6.1)
BASE=$(ls /boot/config-6.1.*-cloud-amd64 2>/dev/null | sort -V | tail -n1)
[[ -n $BASE ]] || { echo "debug-kernel: no /boot/config-6.1.*-cloud-amd64 (run make deps)" >&2; exit 1; }
KEY=$({ echo "$SRCVER"; cat "$BASE" "$HERE/debug.config" "$HERE/modules.list"; } |
      sha256sum | cut -c1-16)
SRC=$CACHE/src-$SRCVER/linux-source-6.1
OBJ=$CACHE/$KEY

if [[ -e $OBJ/done ]]; then
	echo "$OBJ"
	exit 0
fi
[[ $cmd == path ]] && { echo "debug-kernel: not built yet (scripts/debug-kernel.sh build)" >&2; exit 1; }
[[ $cmd == build ]] || { echo "usage: $0 [build|path]" >&2; exit 2; }

# One build at a time per machine: a second clone waits for the first.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	echo "debug-kernel: another build is running; waiting for it" >&2
	flock 9
fi
if [[ -e $OBJ/done ]]; then
	echo "$OBJ"
	exit 0
fi

for tool in flex bison bc; do
	command -v $tool >/dev/null ||
		{ echo "debug-kernel: $tool missing (apt-get install flex bison bc libelf-dev)" >&2; exit 1; }
done
[[ -e /usr/include/libelf.h ]] ||
	{ echo "debug-kernel: libelf-dev missing (apt-get install libelf-dev)" >&2; exit 1; }

# Everything here is background work on a shared machine.
NICE=(nice -n 19 ionice -c3)
log() { echo "debug-kernel: $*" >&2; }

if [[ ! -e $SRC/Makefile ]]; then
	log "extracting $TARBALL ($SRCVER)"
	rm -rf "$CACHE/src-$SRCVER.tmp"
	mkdir -p "$CACHE/src-$SRCVER.tmp"
	"${NICE[@]}" tar -xJf "$TARBALL" -C "$CACHE/src-$SRCVER.tmp"
	rm -rf "$CACHE/src-$SRCVER"
	mv "$CACHE/src-$SRCVER.tmp" "$CACHE/src-$SRCVER"
fi

# One build per source version is kept: a changed fragment or base config
# takes over the previous build directory, and kbuild's per-option
# dependencies recompile only the files the change touches.
# An interrupted build of this same key simply goes on.
prev=$(ls -dt "$CACHE"/*/src 2>/dev/null | head -n1)
if [[ -n $prev && $(dirname "$prev") != "$OBJ" && $(readlink "$prev") == "$SRC" ]]; then
	log "reusing $(dirname "$prev") for the new configuration"
	rm -f "$(dirname "$prev")/done"
	mv "$(dirname "$prev")" "$OBJ"
fi
mkdir -p "$OBJ"
ln -sfn "$SRC" "$OBJ/src"
start=$(date +%s)
K=("${NICE[@]}" make -C "$SRC" O="$OBJ" -s)

log "config: $BASE, localmodconfig, debug.config -> $OBJ"
cp "$BASE" "$OBJ/.config"
"${K[@]}" olddefconfig
# localmodconfig asks about nothing new (olddefconfig ran) and keeps only
# the modules the list names, with what they depend on.
"${K[@]}" LSMOD="$HERE/modules.list" localmodconfig </dev/null >/dev/null 2>&1
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$HERE/debug.config" >/dev/null
"${K[@]}" olddefconfig

# Every option of the fragment must be in the result as written.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) want=$line ;;
	"# CONFIG_"*" is not set") want=$line ;;
	*) continue ;;
	esac
	opt=${want#\# }; opt=${opt%%[= ]*}
	got=$(grep -E "^(# )?$opt[= ]" "$OBJ/.config" || true)
	# An unset option may also be absent altogether (its menu is off).
	if [[ $want == "# "* && -z $got ]]; then continue; fi
	[[ $got == "$want" ]] || { log "config: wanted '$want', got '${got:-nothing}'"; bad=1; }
done <"$HERE/debug.config"
((bad == 0)) || { log "config: the fragment did not apply; fix scripts/debug-kernel/debug.config"; exit 1; }
log "building with -j$JOBS under nice (the first build takes a while)"
"${K[@]}" -j"$JOBS" bzImage modules
rm -rf "$OBJ/mods"
"${K[@]}" INSTALL_MOD_PATH="$OBJ/mods" INSTALL_MOD_STRIP=1 modules_install >/dev/null
end=$(date +%s)
KVER=$(cat "$OBJ/include/config/kernel.release")
echo $((end - start)) >"$OBJ/build-time"
echo "$KVER" >"$OBJ/kernelrelease"
touch "$OBJ/done"
log "built $KVER in $((end - start)) s: $OBJ"
echo "$OBJ"
