#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ternvm's command line: every bad or missing argument is refused before
# any VM exists with exit status 1 and exactly one line that names the
# problem; --help exits 0.  Runs on the build host (no guest starts).
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$(dirname "$0")/../..
TERNVM=${TERNVM:-$BIN/ternvm}
[[ -x $TERNVM ]] || TERNVM=$ROOT/build/ternvm
K=/dev/null
n=0 failed=0

# case EXPECTED_SUBSTRING ARGS...
case_() {
	local want=$1 out rc lines
	shift
	n=$((n + 1))
	out=$("$TERNVM" "$@" 2>&1 </dev/null)
	rc=$?
	lines=$(printf '%s\n' "$out" | grep -c .)
	if ((rc == 1 && lines == 1)) && grep -q -- "$want" <<<"$out"; then
		echo "ok $n rejects: $*"
	else
		echo "not ok $n rejects: $* (rc=$rc, $lines lines, want '$want'): $out"
		failed=1
	fi
}

echo "1..14"
case_ "no --kernel"
case_ "unknown option --bogus" --kernel $K --bogus
case_ "needs an argument" --kernel
case_ "--memory 12Q" --kernel $K --memory 12Q
case_ "--memory 1M" --kernel $K --memory 1M
case_ "--memory -5G" --kernel $K --memory -5G
case_ "--cpus 0" --kernel $K --cpus 0
case_ "--cpus 99" --kernel $K --cpus 99
case_ "--cpus two" --kernel $K --cpus two
case_ "--net eth0: want tap=IFNAME" --kernel $K --net eth0
case_ "--console tcp:1" --kernel $K --console tcp:1
case_ "--kernel /nonexistent: No such file" --kernel /nonexistent
# Not a kernel, stdin /dev/null (which epoll refuses): the error names the
# file, and the stdio console adds no noise about its input.
n=$((n + 1))
out=$("$TERNVM" --kernel $K 2>&1 </dev/null); rc=$?
if ((rc == 1)) && grep -q "not a bzImage" <<<"$out" && ! grep -q "ioloop" <<<"$out"; then
	echo "ok $n not a kernel, stdin /dev/null: one clear error"
else
	echo "not ok $n not a kernel, stdin /dev/null (rc=$rc): $out"; failed=1
fi
n=$((n + 1))
if "$TERNVM" --help | grep -q "usage: ternvm"; then echo "ok $n --help"; else echo "not ok $n --help"; failed=1; fi
exit $failed
