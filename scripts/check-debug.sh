#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The body of `make check-debug`: the module's tests, and the migration tests
# that drive it, in the harness VM booted on the debug kernel (KASAN,
# lockdep, kmemleak, fault injection; scripts/debug-kernel.sh), with a
# tern.ko built against that kernel.  Fails on any failed test, and on any
# KASAN report, lockdep splat, sleep in atomic context, WARNING or kmemleak
# report in the guest's kernel log (the harness's checks; the last test
# section is harness-init's kmemleak scan).
#
# Usage: scripts/check-debug.sh --tests "PROG..." [--files "SRC:DST..."]
set -uo pipefail

TESTS= FILES=
while (($#)); do
	case $1 in
	--tests) TESTS=$2 ;;
	--files) FILES=$2 ;;
	*) echo "check-debug: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
[[ -n $TESTS ]] || { echo "check-debug: no tests" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
t0=$(date +%s)

DK=$(scripts/debug-kernel.sh build) || exit 2
KVER=$(cat "$DK/kernelrelease")
echo "check-debug: debug kernel $KVER in $DK (first build took $(cat "$DK/build-time") s)"

# tern.ko, and its DEBUG twin that lifetime_test loads, built against the
# debug kernel from copies of the sources: kmod/tern.ko (the stock
# kernel's, used by make check) is never touched.
MODS=build/debug-kernel
build_ko() {
	local dir=$MODS/$1 f
	shift
	rm -rf "$dir"
	mkdir -p "$dir/kmod/selftest" "$dir/include/uapi/linux"
	for f in kmod/*.[ch] kmod/selftest/*.[ch] kmod/Kbuild include/uapi/linux/tern.h VERSION; do
		[[ $f == *.mod.c ]] || cp "$f" "$dir/$f"
	done
	echo 'obj-m += kmod/' >"$dir/Kbuild"
	make -s -C "$DK" M="$ROOT/$dir" "$@" modules || exit 2
}
build_ko tern
build_ko tern-debug CONFIG_TERN_DEBUG=y

files=(--file "$MODS/tern-debug/kmod/tern.ko:/tern-debug.ko")
for f in $FILES; do files+=(--file "$f"); done
# KASAN and lockdep slow the guest kernel down several times over (and
# its boot, before harness-init's heartbeat, may be quiet for minutes).
scripts/harness --kernel "$DK/arch/x86/boot/bzImage" \
	--moddir "$DK/mods/lib/modules/$KVER" --ko "$MODS/tern/kmod/tern.ko" \
	--mem 4096 --timeout 3600 --test-timeout 1200 --stall 600 \
	--append tern_check_debug \
	--out "$ROOT/build/harness/check-debug" "${files[@]}" $TESTS
rc=$?

# The findings, one line each, whatever the tests said.
LOG=build/harness/check-debug/console.log
FIND='BUG: KASAN|WARNING: possible|WARNING: suspicious|BUG: sleeping function|BUG: |WARNING:|unreferenced object|Oops'
if grep -Eq "$FIND" "$LOG" 2>/dev/null; then
	echo "check-debug: the debug kernel reported (full text in $LOG):"
	grep -E "$FIND" "$LOG" | sort | uniq -c | sed 's/^/check-debug:   /'
fi
grep -h '^# kmemleak: ' build/harness/check-debug/tap.log 2>/dev/null | head -60
echo "check-debug: $( ((rc == 0)) && echo ok || echo FAILED) in $(($(date +%s) - t0)) s"
exit $rc
