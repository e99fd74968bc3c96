#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run one libFuzzer target for a bounded time over a scratch copy of its
# committed corpus (selftests/tern/fuzz/corpus/NAME) and report one TAP case.
set -uo pipefail
bin=$1 secs=$2
name=$(basename "$bin")
corpus=selftests/tern/fuzz/corpus/$name
work=build/check/fuzz-$name
rm -rf "$work"
mkdir -p "$work/corpus"
echo "TAP version 13"
echo "1..1"
if [[ ! -d $corpus ]] || [[ -z $(ls -A "$corpus") ]]; then
	echo "not ok 1 $name: no committed seed corpus in $corpus"
	exit 0
fi
cp -r "$corpus/." "$work/corpus/"
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
if ((rc == 0)); then
	echo "ok 1 $name: ${runs:-?} inputs in ${secs}s, no crash"
else
	echo "not ok 1 $name: exit $rc; reproduce with: $bin $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null | head -1)"
	tail -n 40 "$work/log" | sed 's/^/# /'
fi
