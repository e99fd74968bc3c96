#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The body of `make check`: host tests, then fuzzers, then the harness VM,
# all as TAP sections, counted by scripts/tap-summary into the one closing
# line "N passed, N failed, N skipped".  Exit status 1 on any failure.
set -uo pipefail

HOST= FUZZ= HARNESS= FILES= FUZZ_SECONDS=60 KVER=
while (($#)); do
	case $1 in
	--host) HOST=$2 ;;
	--fuzz) FUZZ=$2 ;;
	--harness) HARNESS=$2 ;;
	--files) FILES=$2 ;;
	--fuzz-seconds) FUZZ_SECONDS=$2 ;;
	--kver) KVER=$2 ;;
	*) echo "check: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LOGDIR=build/check
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run_section NAME CMD...: run CMD as one TAP section of host.log.
run_section() {
	local name=$1 rc
	shift
	echo "### begin $name"
	timeout --kill-after=10 900 "$@" </dev/null 2>&1
	rc=$?
	echo "### end $name rc=$rc"
}

echo "== host tests"
for t in $HOST; do
	run_section "$(basename "$t")" "$t"
done | tee "$LOGDIR/host.log" | sed -n '/^### \|^ok \|^not ok \|^# \(FAIL\|SKIP\)\|ERROR\|error:/p'

echo "== fuzzers (${FUZZ_SECONDS}s each)"
for f in $FUZZ; do
	run_section "$(basename "$f")" scripts/fuzz-run.sh "$f" "$FUZZ_SECONDS"
done | tee "$LOGDIR/fuzz.log" | grep -E '^(ok|not ok|### )'

echo "== harness VM"
files=()
for f in $FILES; do files+=(--file "$f"); done
scripts/harness --mem 4096 --timeout 4200 --test-timeout 1200 \
	--out "$ROOT/build/harness/check" \
	${KVER:+--kver "$KVER"} "${files[@]}" $HARNESS
hrc=$?
{
	# A broken run (no boot, timeout, an uncaught kernel warning) is one
	# failure of its own; failed tests are already in the TAP.
	echo "### begin harness-run"
	if ((hrc == 2)); then echo "not ok 1 harness VM ran to the end with a clean kernel log"
	else echo "ok 1 harness VM ran to the end with a clean kernel log"; fi
	echo "### end harness-run rc=0"
} >"$LOGDIR/harness-run.log"

echo "== summary"
scripts/tap-summary "$LOGDIR/host.log" "$LOGDIR/fuzz.log" \
	build/harness/check/tap.log "$LOGDIR/harness-run.log"
