#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Live migration between two ternvm processes in the harness:
#
#   ternvm A (guest printing a counter) --migrate unix:$T/mig--> ternvm B
#   (--incoming-migration, waiting paused)
#
# `ternctl migrate` ends "completed"; the guest's counter then goes on in
# B from where A left it, A stays paused (never both running), B's guest
# log is clean, and both ternvms exit 0 on quit.  Twice: with RAM in a
# tern.ko region (the module's tracker and page stream; skipped without
# /dev/tern) and in a shared file (KVM's dirty log plus the VMM's own).
# Both ternvms have every device (issue 15): the disk image both share, a
# tap NIC each, virtio-rng, a virtio-console each.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$BZIMAGE" ] || skip_all "no ternvm/ternctl/guest"
echo "1..24"

# run_case NAME TRACKER EXTRA-A EXTRA-B
run_case() {
T=$(mktemp -d)
COMMON="--cpus 2 --memory 256M"
dd if=/dev/zero of="$T/disk.img" bs=1M count=16 2>/dev/null
# devs NAME: the devices of ternvm NAME.
devs() { echo "--disk $T/disk.img --rng --vconsole $T/$1.vcon --net tap=tv$1"; }

"$TERNVM" $COMMON $(devs b) $4 --incoming-migration "unix:$T/mig" --console "file:$T/b.log" \
	--control "$T/b.sock" >"$T/b.out" 2>&1 &
B=$!
guard $B 300
boot_guest "$T/a.log" "$T/a.out" "tern-counter 10" 90 $COMMON $(devs a) $3 \
	--kernel "$BZIMAGE" --initrd "$INITRD" \
	--append "console=ttyS0 tern.run=counter" --console "file:$T/a.log" \
	--control "$T/a.sock"
rc=$?
A=$PID
if [ $rc != 0 ]; then
	not_ok "$1: guest counter runs"; show_console "$T/a.log"
	sed 's/^/# a: /' "$T/a.out" | tail -n 10; sed 's/^/# b: /' "$T/b.out" | tail -n 10
	kill $A $B; wait $A $B; rm -rf "$T"; return
fi
ok "$1: guest counter runs on the source"
"$TERNCTL" --socket "$T/b.sock" status >"$T/bstatus"
check "$1: destination waits paused: $(cat "$T/bstatus")" grep -q "^paused" "$T/bstatus"

start=$(now)
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate "unix:$T/mig" 2>&1)
rc=$?
end=$(now)
echo "# $1: $out"
check "$1: the $2 tracker moved the pages" sh -c "echo '$out' | grep -q '\"tracker\":\"$2\"'"
echo "# $1: migration took $(awk "BEGIN { printf \"%.2f\", $end - $start }")s"
check "$1: ternctl migrate completes (rc=$rc)" sh -c "[ $rc = 0 ] && echo '$out' | grep -q '\"status\":\"completed\"'"
c1=$(last_counter "$T/a.log")
"$TERNCTL" --socket "$T/a.sock" status >"$T/astatus"
check "$1: source stays paused: $(cat "$T/astatus")" grep -q "^paused" "$T/astatus"
wait_for "$T/b.log" "tern-counter" 30
first=$(grep -o 'tern-counter [0-9]*' "$T/b.log" | head -n1 | cut -d' ' -f2)
# The next line, c1 + 1, or c1 + 2 when the switchover split c1 + 1's
# line (its start on the source, its end here: neither side has it whole).
slack=1
[ -z "$(tail -c1 "$T/a.log")" ] || slack=2
check "$1: guest goes on in the destination ($c1 -> ${first:-none}, slack $slack)" \
	sh -c "[ -n '$first' ] && [ '$first' -ge '$c1' ] && [ '$first' -le $((c1 + slack)) ]"
c2=$(counter_passes "$T/b.log" $((${first:-0} + 5)) 20)
check "$1: and keeps counting there (${first:-none} -> ${c2:-none})" \
	sh -c "[ -n '$c2' ] && [ '$c2' -gt $((${first:-0} + 5)) ]"
"$TERNCTL" --socket "$T/a.sock" cont >"$T/acont" 2>&1; rcont=$?
check "$1: cont on the source refused: $(cat "$T/acont")" \
	sh -c "[ $rcont != 0 ] && grep -q 'runs at the destination' '$T/acont'"
"$TERNCTL" --socket "$T/a.sock" migrate "unix:$T/mig2" >"$T/amig" 2>&1; rmig=$?
check "$1: migrating the source again refused: $(cat "$T/amig")" \
	sh -c "[ $rmig != 0 ] && grep -q 'runs at the destination' '$T/amig'"
check "$1: source counter did not move after the migration" test "$(last_counter "$T/a.log")" = "$c1"
"$TERNCTL" --socket "$T/a.sock" quit >/dev/null
"$TERNCTL" --socket "$T/b.sock" quit >/dev/null
wait $A; ra=$?
wait $B; rb=$?
check "$1: both ternvms exit 0 on quit (A=$ra B=$rb)" sh -c "[ $ra = 0 ] && [ $rb = 0 ]"
check "$1: guest kernel log clean after the move" guest_log_clean "$T/b.log"
[ $TAP_FAILED = 0 ] || { show_console "$T/b.log"; sed 's/^/# a: /' "$T/a.out" | tail -n 15; sed 's/^/# b: /' "$T/b.out" | tail -n 15; }
rm -rf "$T"
}

run_trackers 12
rm -rf "$M"
exit $TAP_FAILED
