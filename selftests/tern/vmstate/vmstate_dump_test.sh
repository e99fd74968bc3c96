#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tern-state-dump, the program: every seed stream dumps to JSON and encodes
# back to the same bytes; an edit made in the JSON reaches the stream; a
# truncated or corrupted stream is refused with exit 1 and a message that
# names the byte offset, never a crash.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DUMP=$HERE/../../../tern-state-dump
ROOT=$(cd "$HERE/../../../../.." && pwd)
[[ -x $DUMP ]] || DUMP=$(cd "$HERE/../../.." && pwd)/tern-state-dump
CORPUS=$ROOT/selftests/tern/fuzz/corpus/vmstate_decode_fuzz
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 rc=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
fail() { n=$((n + 1)); echo "not ok $n $1"; rc=1; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

seeds=$(ls "$CORPUS")
echo "TAP version 13"
echo "1..$(($(wc -w <<<"$seeds") + 4))"
for s in $seeds; do
	"$DUMP" "$CORPUS/$s" >"$T/$s.json" 2>"$T/err" &&
	"$DUMP" --encode "$T/$s.json" >"$T/$s.bin" 2>>"$T/err"
	check "$s: stream -> JSON -> stream is byte-exact" "cmp -s '$CORPUS/$s' '$T/$s.bin'"
done

src=$CORPUS/two-devices
"$DUMP" "$src" >"$T/j"
sed '0,/"value": 129/s//"value": 77/' "$T/j" >"$T/j2"
"$DUMP" --encode "$T/j2" >"$T/b2" && "$DUMP" "$T/b2" >"$T/j3"
check "an edit in the JSON reaches the stream" "grep -q '\"value\": 77' '$T/j3' && ! cmp -s '$src' '$T/b2'"

head -c 100 "$src" >"$T/trunc"
"$DUMP" "$T/trunc" >/dev/null 2>"$T/err"
check "a truncated stream: exit 1, message names the offset" \
	"[[ $? == 1 ]] && grep -q 'offset [0-9]' '$T/err'"

cp "$src" "$T/flip"
printf '\x5a' | dd of="$T/flip" bs=1 seek=200 conv=notrunc status=none
"$DUMP" "$T/flip" >/dev/null 2>"$T/err"
check "a flipped byte: exit 1 with a located error" \
	"[[ $? == 1 ]] && grep -q 'offset [0-9]' '$T/err'"

echo '{"format": 1, "sections": [ { "path": 5 } ] }' >"$T/bad.json"
"$DUMP" --encode "$T/bad.json" >/dev/null 2>"$T/err"
check "malformed JSON for --encode: a clean error" "[[ $? != 0 ]] && [[ -s '$T/err' ]]"
exit $rc
