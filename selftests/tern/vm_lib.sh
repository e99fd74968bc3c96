# SPDX-License-Identifier: GPL-2.0
# Helpers for the ternvm shell tests (POSIX sh: the harness has busybox
# only): TAP output, waiting on the guest console.  Sourced, never run.

TAP_N=0
TAP_FAILED=0
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N $*"; }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else not_ok "$_d"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 4; }

# Where the harness puts things; overridable for runs by hand.
TERNVM=${TERNVM:-$(command -v ternvm)}
TERNCTL=${TERNCTL:-$(command -v ternctl)}
BZIMAGE=${BZIMAGE:-/guest/bzImage}
INITRD=${INITRD:-/guest/initrd.gz}
VM_GUARD=${VM_GUARD:-600}	# seconds a test's ternvm may live

# wait_for FILE PATTERN SECONDS: until PATTERN appears in FILE.
wait_for() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# The guest kernel's own log must be clean, as the harness's is.
KPAT='BUG:|WARNING:|Oops|Call Trace|general protection|Kernel panic'
guest_log_clean() {
	grep -Eq "$KPAT" "$1" || return 0
	grep -E -A8 "$KPAT" "$1" | head -n 30 | sed 's/^/# guest: /'
	return 1
}

# Shown when something failed: the guest console's tail.
show_console() { echo "# ---- $1 (tail)"; tail -n "${2:-25}" "$1" | sed 's/^/#   /'; }

# last counter value printed on console FILE
# last_counter LOG: the guest's last counter, from complete lines only (a
# line still being written could read 31 for 312).
last_counter() {
	if [ -n "$(tail -c1 "$1")" ]; then sed '$d' "$1"; else cat "$1"; fi |
		grep -o 'tern-counter [0-9]*' | tail -n1 | cut -d' ' -f2
}

# counter_passes LOG N SECONDS: wait until the guest's counter in LOG is
# above N; prints the last value seen.  A guest that keeps running gets
# there however slow a loaded host makes it; a stopped one never does.
counter_passes() {
	_i=0
	_c=
	while [ $_i -lt $(($3 * 4)) ]; do
		_c=$(last_counter "$1")
		[ -n "$_c" ] && [ "$_c" -gt "$2" ] && break
		sleep 0.25
		_i=$((_i + 1))
	done
	echo "$_c"
}

# now: seconds with fractions
now() { cut -d' ' -f1 /proc/uptime; }

# threads PID: each thread of PID with its state and kernel stack.
threads() {
	for _t in /proc/$1/task/*; do
		echo "#   $(cat $_t/comm) $(grep State $_t/status) wchan=$(cat $_t/wchan)"
		sed 's/^/#       /' $_t/stack 2>/dev/null | head -n 8
	done
}

# guard PID SECONDS [OTHER...]: kill -9 PID if it still runs then, so a
# hung ternvm (or ternctl) fails its test (its wait returns 137) instead
# of stalling the harness; the threads of PID and OTHER pids are shown.
GUARDS=
guard() {
	_p=$1 _s=$2
	shift 2
	(
		sleep "$_s"
		[ -d /proc/$_p ] || exit 0
		echo "# watchdog: pid $_p ($(cat /proc/$_p/comm)) still runs after $_s s; threads:"
		threads $_p
		for _o in "$@"; do
			[ -d /proc/$_o ] || continue
			echo "# and pid $_o ($(cat /proc/$_o/comm)):"
			threads $_o
		done
		kill -9 "$_p"
	) 2>/dev/null &
	GUARDS="$GUARDS $!"
}
# boot_guest LOG OUT PATTERN SECONDS TERNVM-ARGS...: start ternvm with
# ARGS in the background (its output in OUT, its pid in PID, guarded) and
# wait up to SECONDS for PATTERN on its console LOG; 0 once it shows.  A
# guest that triple-faults before PATTERN is booted once more, saying so:
# the TCG harness shows such a fault now and then at boot (issue 6 notes),
# and a test is about what comes after the boot.
BOOT_RETRIES=0
boot_guest() {
	_log=$1 _out=$2 _pat=$3 _secs=$4
	shift 4
	for _try in 1 2; do
		"$TERNVM" "$@" >"$_out" 2>&1 &
		PID=$!
		guard $PID "$VM_GUARD"
		_i=0
		while [ $_i -lt $((_secs * 10)) ]; do
			grep -q -- "$_pat" "$_log" 2>/dev/null && return 0
			grep -q "triple fault" "$_out" 2>/dev/null && break
			sleep 0.1
			_i=$((_i + 1))
		done
		grep -q "triple fault" "$_out" 2>/dev/null || return 1
		echo "# boot $_try: guest triple-faulted before '$_pat':" \
			"$(grep -m1 'triple fault' "$_out")"
		BOOT_RETRIES=$((BOOT_RETRIES + 1))
		kill -9 $PID 2>/dev/null
		wait $PID 2>/dev/null
	done
	return 1
}

trap '[ -z "$GUARDS" ] || kill $GUARDS 2>/dev/null' EXIT
