#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every device table of this build (tern-device-tables) equals the
# committed snapshot Documentation/vmstate-devices.txt, and keeps the rule
# against every release in the tree's `releases` file: a table of a
# release changes only by a version bump or an added subsection.  The
# checker is shown to fail, naming the device, on deliberate changes made
# to a copy of the dump (a field's type, a raised minimum, a device gone,
# a rename without its filter or bump), and to pass on the allowed ones
# (a bump, a new subsection, a rename with filter and bump).
set -uo pipefail
. "$(dirname "$0")/../host_lib.sh"
AWK="awk -f $ROOT/scripts/vmstate-tables.awk"
SNAP=$ROOT/Documentation/vmstate-devices.txt

mapfile -t rels < <(sed -n 's/^\(v[0-9][^ ]*\) [0-9a-f]\{40\}$/\1/p' "$ROOT/releases")
echo "1..$((12 + ${#rels[@]}))"

if "$BIN/tern-device-tables" >"$T/cur" 2>"$T/err" &&
   grep -q '^table ' "$T/cur"; then
	ok "tern-device-tables: $(grep -c '^table ' "$T/cur") tables"
else
	fail "tern-device-tables failed: $(cat "$T/err")"
fi

out=$($AWK -v mode=diff "$SNAP" "$T/cur" 2>&1)
if [[ -z $out ]]; then
	ok "every table equals Documentation/vmstate-devices.txt"
else
	fail "tables differ from the snapshot (change the version or add a subsection, then make vmstate-devices):"
	echo "$out" | sed 's/^/# /'
fi

for r in "${rels[@]}"; do
	f=$ROOT/Documentation/vmstate-devices-$r.txt
	out=$([[ -f $f ]] && $AWK -v mode=compat -v release="$r" "$f" "$SNAP" 2>&1)
	if [[ -f $f && -z $out ]]; then
		ok "the snapshot keeps release $r's tables"
	else
		fail "release $r: ${out:-no $f}"
		echo "$out" | sed 's/^/# /'
	fi
done

# The checker itself, on changes made to copies of this build's dump.
# want NAME EXPECT(pass|fail) DEVICE MODE FILE: the checker's verdict.
want() {
	local out

	if cmp -s "$T/cur" "$5"; then
		fail "$1: the change was not made (the dump's form changed?)"
		return
	fi
	out=$($AWK -v mode="$4" -v release=test "$T/cur" "$5" 2>&1)
	if [[ $2 == pass && -z $out ]]; then
		ok "$1: accepted"
	elif [[ $2 == fail && $out == *"device '$3'"* && $(echo "$out" | wc -l) == 1 ]]; then
		ok "$1: refused: $out"
	else
		fail "$1: want $2 for '$3', checker said: '${out:-nothing}'"
	fi
}
# serial's line-control register widened without a bump
sed 's/^\(\t*field lcr\) u8 size 1/\1 u16 size 2/' "$T/cur" >"$T/widened"
want "a field's type changed, snapshot not regenerated" fail serial diff "$T/widened"
want "a field's type changed at the release's version" fail serial compat "$T/widened"
sed 's/^table serial version 1 /table serial version 2 /' "$T/widened" >"$T/bumped"
want "the same change with the version bumped" pass serial compat "$T/bumped"
awk '{ print } /^table rtc /{ r = 1 } r && /^end$/ { r = 0 }
     r && /^\t\tend$/ { print "\tsubsection rtc-alarm version 1 min 1 needed\n\t\tfield alarm u8 size 1 count 3 array since 0\n\tend"; r = 0 }' \
	"$T/cur" >"$T/subsection"
want "a subsection added at the same version" pass rtc compat "$T/subsection"
sed '/^table kvm-machine /,/^end$/s/^\(\t\tfield reset_pending\) bool/\1 u8/' "$T/cur" >"$T/subchanged"
want "an existing subsection changed" fail kvm-machine compat "$T/subchanged"
sed 's/^table i8042 version 1 min 1/table i8042 version 2 min 2/' "$T/cur" >"$T/raised"
want "a minimum raised past the release's version" fail i8042 compat "$T/raised"
sed '/^table rtc /,/^end$/d' "$T/cur" >"$T/gone"
want "a device removed" fail rtc compat "$T/gone"
# Renamed: host-bridge was pci-host; its filter lets the old name go.
sed 's/^table rtc version 1 min 1/table clock version 2 min 1/' "$T/cur" >"$T/renamed"
echo "filter rename-table rtc -> clock max-version 1" >>"$T/renamed"
want "a device renamed with a rename-table filter" pass rtc compat "$T/renamed"
sed '/^filter rename-table rtc /d' "$T/renamed" >"$T/unfiltered"
want "the same rename without its filter" fail rtc compat "$T/unfiltered"
sed 's/^table clock version 2 min 1/table clock version 1 min 1/' "$T/renamed" >"$T/unbumped"
want "the same rename without a version bump" fail rtc compat "$T/unbumped"
exit $rc
