#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fault campaign: one source guest (counter + memcheck) survives every
# failed migration through tern-fault-proxy: cuts (FIN and RST, both
# directions, spread over the whole stream), byte flips in each part of the
# stream, stalls longer than the timeout.  After each case the guest runs
# (counter moving), the destination exited naming phase and byte, and no
# sanitizer report; then one clean migration keeps memcheck passing.
# Deterministic from TERN_FAULT_SEED; TERN_CHECK_FULL=1 runs many more.
# TERN_FAULT_TLS=1: every ternvm runs TLS (--tls-creds), the proxy sees
# sealed records, and flips land anywhere in them (fault_tls_test.sh).
# TERN_FAULT_CONN=N (N > 1): migrations over N connections, the faults on
# the Nth (page-stream channel N-1; fault_channel_test.sh); flips only in
# its opening, the bytes at the same offsets in every run.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MC_INITRD" ] || skip_all "no ternvm/ternctl/guest"
[ -x "$PROXY" ] && [ -x "$INDEX" ] || skip_all "no tern-fault-proxy/tern-fault-index"

SEED=${TERN_FAULT_SEED:-8}
CONN=${TERN_FAULT_CONN:-1}
if [ "${TERN_FAULT_TLS:-0}" = 1 ]; then
	CREDS=${TLS_CREDS:-/usr/share/tern/tls/good}
	[ -r "$CREDS/ca-cert.pem" ] || skip_all "no test credentials in $CREDS"
	TLS_OPTS="--tls-creds $CREDS"
fi
if [ "${TERN_CHECK_FULL:-0}" = 1 ]; then
	NCUT_FWD=28 NCUT_BACK=12 NFLIP=20 NSTALL=4
else
	# make check's sample: 21 cases, about 10 s each.
	NCUT_FWD=${NCUT_FWD:-6} NCUT_BACK=${NCUT_BACK:-3} NFLIP=${NFLIP:-2} NSTALL=${NSTALL:-2}
fi
TIMEOUT_MS=20000
T=$(mktemp -d)
echo "# seed $SEED: reproduce with TERN_FAULT_SEED=$SEED"
N_CUT=0 N_FLIP=0 N_STALL=0 N_LOST=0 N_COMPLETED=0 N_POSTCOMMIT=0 N_DROPPED=0

# The source: the guest that must never be lost.
SRC=a
start_vm a || { echo "not ok 1 source starts"; show_console "$T/a.out"; echo "1..1"; exit 1; }
SRC_PID=$VM_PID
set_param "$T/a.sock" timeout $TIMEOUT_MS
# One page-stream channel: the parts' offsets, found in the recorded clean
# run, then hold for every case (with several, the pages' split between
# connections differs from run to run and a flip aimed at a late part can
# land past the main connection's end).  With faults on a channel, as many
# channels as that takes, and flips only where offsets hold.
set_param "$T/a.sock" channels "$CONN"
if ! wait_for "$T/a.log" "memcheck: pass [0-9]* ok" 120 || ! wait_for "$T/a.log" "tern-counter 5" 30; then
	not_ok "source guest runs counter and memcheck"; show_console "$T/a.log"; echo "1..$TAP_N"; exit 1
fi
ok "source guest runs counter and memcheck"

# swap_to NAME PID: the guest now runs on NAME (the migration completed):
# the old source is quit and NAME becomes the source.
swap_to() {
	quit_vm "$SRC" "$SRC_PID"
	SRC=$1 SRC_PID=$2
	set_param "$T/$SRC.sock" timeout $TIMEOUT_MS
	set_param "$T/$SRC.sock" channels "$CONN"
}

# The first, clean migration through the proxy, recorded: the stream's
# length and its parts, and a seed for the receive-path fuzzer.
start_dest rec || { not_ok "recording destination starts"; echo "1..$TAP_N"; exit 1; }
REC_PID=$VM_PID
start_proxy --conn "$CONN" --record "$T/stream"
out=$("$TERNCTL" --socket "$T/$SRC.sock" --json migrate "tcp:127.0.0.1:$PROXY_PORT" 2>&1)
stop_proxy
echo "# clean run: $out"
if echo "$out" | grep -q '"status":"completed"' && counter_moves rec; then
	ok "clean migration through the proxy completes, guest moves on"
	swap_to rec $REC_PID
else
	not_ok "clean migration through the proxy completes"; show_console "$T/rec.out"
	echo "1..$TAP_N"; exit 1
fi
FWD_LEN=$(wc -c <"$T/stream.fwd") BACK_LEN=$(wc -c <"$T/stream.back")
if [ -n "$TLS_OPTS" ]; then
	# Sealed records: no parts to tell apart, and a flipped byte anywhere
	# fails its record (the proxy cannot aim at page data).
	printf 'fwd 0 %d sealed\nback 0 %d sealed\n' "$FWD_LEN" "$BACK_LEN" >"$T/index"
	PARTS=sealed
else
	"$INDEX" "$T/stream.fwd" "$T/stream.back" >"$T/index"
	PARTS="handshake blocklist framing device control"
	# A channel: its pages differ from run to run, its opening does not.
	[ "$CONN" = 1 ] || PARTS=opening
fi
echo "# stream: fwd $FWD_LEN bytes, back $BACK_LEN bytes; parts:"
awk '{ n[$1" "$4] += $3 - $2 } END { for (k in n) print "#   " k, n[k] }' "$T/index" | sort
[ -z "$FAULT_SAVE_STREAM" ] || cp "$T/stream.fwd" "$T/stream.back" "$T/index" "$FAULT_SAVE_STREAM/"
# FAULT_DUMP_STREAM=N: the recording's first N bytes in hex, to take a
# fuzzer seed out of the harness VM.
[ -z "$FAULT_DUMP_STREAM" ] || head -c "$FAULT_DUMP_STREAM" "$T/stream.fwd" |
	od -An -tx1 -v | sed 's/ //g; s/^/# stream-hex /'

# part_at DIR OFF: the part of the recorded stream at that byte.
part_at() { awk -v d="$1" -v o="$2" '$1 == d && o >= $2 && o < $3 { print $4; exit }' "$3"; }

CASE=0
# run_case KIND DESC PROXY-ARGS...: one migration of the source through the
# faulty proxy, and every check after it.
run_case() {
	_kind=$1 _desc=$2; shift 2
	CASE=$((CASE + 1))
	_b=b$CASE
	if ! start_dest $_b; then
		not_ok "$_desc: destination starts (port $DEST_PORT)"
		sed 's/^/#   dest: /' "$T/$_b.out" 2>/dev/null | tail -n 8
		return
	fi
	_bpid=$VM_PID
	if ! start_proxy --conn "$CONN" "$@"; then
		not_ok "$_kind $_desc: proxy did not start: $(head -c 200 "$T/proxy.err")"
		kill -9 $_bpid; wait $_bpid 2>/dev/null; stop_proxy; return
	fi
	_out=$("$TERNCTL" --socket "$T/$SRC.sock" --json migrate "tcp:127.0.0.1:$PROXY_PORT" 2>&1)
	stop_proxy
	_st=$(echo "$_out" | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p')
	_why=""
	case $_st in
	failed|cancelled)
		if grep -q "dropped incoming connection" "$T/$_b.out" && kill -0 $_bpid 2>/dev/null; then
			# No whole hello came (a fault in its first bytes): the
			# destination dropped the connection and waits on.
			N_DROPPED=$((N_DROPPED + 1))
			quit_vm $_b $_bpid || _why="$_why waiting destination did not quit;"
		else
			wait_exit $_bpid 15 || _why="$_why destination did not exit ($EXIT_RC);"
			[ "$EXIT_RC" != 0 ] || _why="$_why destination exited 0;"
			grep -Eq "$DEST_MSG" "$T/$_b.out" || _why="$_why destination message lacks phase/byte;"
		fi
		[ "$(vm_status "$T/$SRC.sock")" = running ] || _why="$_why source not running ($(vm_status "$T/$SRC.sock"));"
		counter_moves $SRC || _why="$_why source counter stuck;" ;;
	postcommit-unknown)
		N_POSTCOMMIT=$((N_POSTCOMMIT + 1))
		[ "$(vm_status "$T/$SRC.sock")" = paused ] || _why="$_why source not paused after commit;"
		if kill -0 $_bpid 2>/dev/null && [ "$(vm_status "$T/$_b.sock")" = running ]; then
			# The guest started there: the operator discards the source.
			counter_moves $_b || _why="$_why guest stuck on the destination;"
			swap_to $_b $_bpid
		else
			wait_exit $_bpid 15 || _why="$_why destination neither runs nor exits;"
			"$TERNCTL" --socket "$T/$SRC.sock" cont --revert >/dev/null
			counter_moves $SRC || _why="$_why source counter stuck after cont;"
		fi ;;
	completed)
		# The fault went unnoticed (or was never reached): the guest
		# runs on the destination, whose memcheck decides.
		N_COMPLETED=$((N_COMPLETED + 1))
		counter_moves $_b || _why="$_why guest stuck on the destination;"
		# A sealed record with a flipped byte fails its authentication.
		if [ -n "$TLS_OPTS" ] && grep -q ": flip " "$T/proxy.err"; then
			_why="$_why a flipped byte in a TLS record went unnoticed;"
		fi
		grep -Eq ": (flip|cut|stall) " "$T/proxy.err" || _st="$_st (fault not reached)"
		swap_to $_b $_bpid ;;
	*)
		_why=" no final state: $_out;"
		kill -9 $_bpid 2>/dev/null; wait $_bpid 2>/dev/null ;;
	esac
	no_san_report "$T/$_b.out" "$T/$SRC.out" || _why="$_why sanitizer report;"
	grep -q 'memcheck: FAIL' "$T/$SRC.log" && _why="$_why memcheck FAIL;"
	[ "$(vm_status "$T/$SRC.sock")" = running ] || { _why="$_why GUEST LOST;"; N_LOST=$((N_LOST + 1)); }
	_msg=$(grep -Eo "failed: .*" "$T/$_b.out" | head -n1 | cut -c1-150)
	[ "$CONN" = 1 ] || _desc="$_desc on connection $CONN"
	if [ -z "$_why" ]; then
		ok "$_kind $_desc: $_st; dest: ${_msg:-runs the guest}"
	else
		not_ok "$_kind $_desc: $_st:$_why (reproduce: TERN_FAULT_SEED=$SEED, proxy $*)"
		sed 's/^/#   proxy: /' "$T/proxy.err" | tail -n 5
		sed 's/^/#   dest: /' "$T/$_b.out" | tail -n 8
		sed 's/^/#   src: /' "$T/$SRC.out" | tail -n 5
		tail -n 3 "$T/$SRC.log" | sed 's/^/#   src console: /'
	fi
	[ -n "$N_LOST" ] && [ $N_LOST = 0 ] || { echo "# guest lost: stopping"; finish; }
}

finish() {
	echo "# cuts $N_CUT, flips $N_FLIP, stalls $N_STALL; completed anyway $N_COMPLETED, postcommit-unknown $N_POSTCOMMIT, dropped before hello $N_DROPPED; guests lost $N_LOST"
	quit_vm "$SRC" "$SRC_PID"
	echo "1..$TAP_N"
	rm -rf "$T"
	exit $TAP_FAILED
}

# Cuts: forward spread evenly (jittered by the seed) over the recorded
# stream and a little past it; back at and inside each of its messages.
awk -v s="$SEED" -v n=$NCUT_FWD -v len="$FWD_LEN" 'BEGIN { srand(s);
	for (i = 0; i < n; i++) printf "fwd %d %s\n", int((i + rand()) * len / n), i % 2 ? "rst" : "fin" }' >"$T/cuts"
awk -v s="$SEED" -v n=$NCUT_BACK -v len="$BACK_LEN" 'BEGIN { srand(s + 1);
	for (i = 0; i < n; i++) printf "back %d %s\n", int((i + rand()) * len / n), i % 2 ? "fin" : "rst" }' >>"$T/cuts"
while read -r d off how; do
	N_CUT=$((N_CUT + 1))
	r=""; [ "$how" = rst ] && r=--rst
	run_case cut "$d:$off $how ($(part_at $d $off "$T/index"))" --cut "$d:$off" $r
done <"$T/cuts"

# Flips (never in page data, which only memcheck can judge): NFLIP single bytes in each part, anywhere in its spans (both
# directions), XOR a random non-zero mask.
for part in $PARTS; do
	awk -v s="$SEED" -v n=$NFLIP -v p=$part 'BEGIN { srand(s); k = 0 }
		$4 == p { d[k] = $1; a[k] = $2; b[k] = $3; tot += $3 - $2; k++ }
		END { if (!tot) exit; for (i = 0; i < n; i++) { x = int(rand() * tot);
			for (j = 0; j < k && x >= b[j] - a[j]; j++) x -= b[j] - a[j];
			printf "%s %d %d\n", d[j], a[j] + x, 1 + int(rand() * 255) } }' "$T/index"
done >"$T/flips"
while read -r d off x; do
	N_FLIP=$((N_FLIP + 1))
	run_case flip "$d:$off ^$x ($(part_at $d $off "$T/index"))" --flip "$d:$off:$x"
done <"$T/flips"

# Stalls longer than the timeout, in each direction.
i=0
while [ $i -lt $NSTALL ]; do
	N_STALL=$((N_STALL + 1))
	if [ $((i % 2)) = 0 ]; then d=fwd len=$FWD_LEN; else d=back len=$BACK_LEN; fi
	off=$(awk -v s="$SEED" -v i=$i -v len=$len 'BEGIN { srand(s + i); print int(rand() * len) }')
	run_case stall "$d:$off $((TIMEOUT_MS + 5000)) ms ($(part_at $d $off "$T/index"))" --stall "$d:$off:$((TIMEOUT_MS + 5000))"
	i=$((i + 1))
done

# At last a clean migration of the same guest: memcheck keeps passing.
start_dest last
LAST_PID=$VM_PID
out=$("$TERNCTL" --socket "$T/$SRC.sock" --json migrate "tcp:127.0.0.1:$DEST_PORT" 2>&1)
if echo "$out" | grep -q '"status":"completed"' && memcheck_advances last && counter_moves last; then
	ok "clean migration after the campaign: memcheck passes on the destination"
	swap_to last $LAST_PID
else
	not_ok "clean migration after the campaign: $out"; show_console "$T/last.log"
	# Once its guest printed nothing there at all: what ternvm said.
	echo "# last: status $(vm_status "$T/last.sock")"; show_console "$T/last.out"
fi
check "source guest's kernel log clean" guest_log_clean "$T/$SRC.log"
finish
