# SPDX-License-Identifier: GPL-2.0
# The one library of the shell tests that run ternvm (POSIX sh: the
# harness has busybox only), sourced, never run.  Each helper has one
# meaning; JSON is read with tern-json (json-c), not scraped.  In order:
# TAP; the guest's console; ternvm processes (boot, source, destination);
# query-migrate; the guests' checkers (memcheck, diskcheck); the fault
# tests' source, destinations and proxy.

# ---- TAP, waiting, the guest console

TAP_N=0
TAP_FAILED=0
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N $*"; }
# check DESCRIPTION COMMAND...: ok if the command succeeds (held back in
# $TAP_DEFER while an attempt runs: see attempts).
check() {
	_d=$1
	shift
	if "$@"; then _r=ok; else _r=not_ok; fi
	if [ -n "${TAP_DEFER:-}" ]; then echo "$_r $_d" >>"$TAP_DEFER"; else $_r "$_d"; fi
}
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

# show_console FILE [N]: shown when something failed: a guest console's
# last N lines or, once its kernel reported a fault, from just before the
# first report (a panic's tail leaves out where it began).
show_console() {
	_oops=$(grep -n -m1 -E 'BUG:|Oops|PANIC|double fault|general protection|invalid opcode|WARNING:|Call Trace|RIP: 00|Kernel panic' "$1" | cut -d: -f1)
	if [ -n "$_oops" ]; then
		echo "# ---- $1 (from the kernel's first report, line $_oops)"
		tail -n +$((_oops > 10 ? _oops - 10 : 1)) "$1" | head -n 70 | sed 's/^/#   /'
	else
		echo "# ---- $1 (tail)"
		tail -n "${2:-25}" "$1" | sed 's/^/#   /'
	fi
}

# The harness's emulator (QEMU 7.2's TCG) now and then breaks a guest
# kernel's entry from user mode (Documentation/harness.rst): an event at
# a syscall's first instruction, before the stack switch (a double fault
# on the user's stack), or a GS base not the kernel's (page faults on
# each per-CPU access until the stack runs out).  emulator_fault CONSOLE:
# a guest's kernel met one.
emulator_fault() {
	[ -r "$1" ] || return 1
	{ grep -q 'PANIC: double fault' "$1" && grep -q 'RIP: 0010:entry_SYSCALL_64+0x0/' "$1"; } ||
		{ grep -q 'stack guard page was hit' "$1" && grep -q 'RIP: 0010:exc_page_fault+' "$1"; }
}

# attempts NAME CONSOLES CASE [ARGS...]: CASE (a function leaving its
# directory in $T, its guests' consoles CONSOLES there) with its checks
# held back.  A guest that met the emulator's fault proves nothing either
# way: the checks are dropped and CASE runs again, three times at most (a
# fault of ours, deterministic, would fail every time).  Then the checks
# count, and on a failure the consoles are shown.
attempts() {
	_name=$1 _show=$2
	shift 2
	_try=1
	while :; do
		TAP_DEFER=$(mktemp)
		"$@"
		_defer=$TAP_DEFER
		TAP_DEFER=
		_hit=
		for _c in $_show; do emulator_fault "$T/$_c.log" && _hit=$_c; done
		if [ $_try -lt 3 ] && [ -n "$_hit" ]; then
			echo "# $_name, attempt $_try: guest $_hit's kernel met the emulator's fault; again"
			show_console "$T/$_hit.log" | head -n 14
			rm -rf "$T" "$_defer"
			_try=$((_try + 1))
			continue
		fi
		while read -r _r _d; do $_r "$_d"; done <"$_defer"
		rm -f "$_defer"
		[ $TAP_FAILED = 0 ] || dump "$T" $_show
		rm -rf "$T"
		return
	done
}

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


# ---- migrations: sources, destinations, query-migrate, the checkers

MIG_INITRD=${MIG_INITRD:-/guest/mig-initrd.gz}
PROXY=${PROXY:-$(command -v tern-fault-proxy)}
MC=${MC:-64}			# memcheck buffer, MiB
VM_OPTS=${VM_OPTS:---cpus 1 --memory 256M}

# devices DIR NAME [NETOPT]: ternvm options attaching every device a
# guest can have (issue 15): the shared disk image DIR/disk.img (made
# here, 16 MiB, if missing), virtio-rng, a virtio-console into
# DIR/NAME.vcon and a tap NIC named after NAME (each ternvm needs its own
# tap, as on two hosts), with NETOPT (e.g. mac=...) if given.
devices() {
	[ -e "$1/disk.img" ] || dd if=/dev/zero of="$1/disk.img" bs=1M count=16 2>/dev/null
	echo "--disk $1/disk.img --rng --vconsole $1/$2.vcon --net tap=tm$2${3:+,$3}"
}
# The disk oracle (selftests/tern/guest/diskcheck.c) as a tern.run= step,
# in the background so memcheck runs beside it.
DISKCHECK=bg:diskcheck:/dev/vda:64

# src_start DIR NAME RUN [ternvm options...]: boot a source whose guest runs
# the tern.run= steps RUN (e.g. run:memcheck:64); pid in $PID.  Returns
# once the guest's first step began (booted again after a triple fault at
# boot: see boot_guest), or after 120 s.
src_start() {
	_d=$1 _n=$2 _r=$3
	shift 3
	boot_guest "$_d/$_n.log" "$_d/$_n.out" 'tern-guest: \(run\|cpus\)' 120 \
		$VM_OPTS "$@" --kernel "$BZIMAGE" --initrd "$MIG_INITRD" \
		--append "console=ttyS0 tern.run=$_r" --console "file:$_d/$_n.log" \
		--control "$_d/$_n.sock"
}

# run_trackers SKIPS: the test's run_case NAME TRACKER EXTRA-A EXTRA-B on
# both trackers: RAM in a tern.ko region (without /dev/tern, SKIPS checks
# skipped), then in files under $M (KVM's dirty log; the caller removes
# $M).
run_trackers() {
	if [ -c /dev/tern ]; then
		run_case tern tern "" ""
	else
		_i=0
		while [ $_i -lt "$1" ]; do
			_i=$((_i + 1))
			ok "tern # SKIP no /dev/tern (tern.ko not loaded)"
		done
	fi
	M=$(mktemp -d)
	run_case dirty-log kvm-dirty-log "--mem-path $M/a.ram" "--mem-path $M/b.ram"
}

# dst_start DIR NAME URI [ternvm options...]: a destination waiting on URI.
dst_start() {
	_d=$1 _n=$2 _u=$3
	shift 3
	"$TERNVM" $VM_OPTS "$@" --incoming "$_u" --console "file:$_d/$_n.log" \
		--control "$_d/$_n.sock" >"$_d/$_n.out" 2>&1 &
	PID=$!
	guard $PID $VM_GUARD
	_i=0
	while [ ! -S "$_d/$_n.sock" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
}

# jget JSON KEY: member KEY of the JSON object in JSON (a command's
# output; its last line that is an object), a string unescaped; nothing
# if there is none.
TERN_JSON=${TERN_JSON:-$(command -v tern-json)}
jget() {
	[ -x "$TERN_JSON" ] || { echo "# jget: no tern-json (TERN_JSON)" >&2; return 2; }
	printf '%s\n' "$1" | "$TERN_JSON" "$2"
}

# qm SOCK: query-migrate as JSON.
qm() { "$TERNCTL" --socket "$1" --json query-migrate 2>/dev/null; }

# wait_state SOCK STATE SECONDS: until query-migrate says STATE.
wait_state() {
	_end=$(awk "BEGIN { print $(now) + $3 }")
	while awk "BEGIN { exit !($(now) < $_end) }"; do
		[ "$(jget "$(qm "$1")" status)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# vm_status SOCK: running, paused, or nothing if it does not answer.
vm_status() { "$TERNCTL" --socket "$1" status 2>/dev/null | cut -d' ' -f1; }

# The guest's checkers (memcheck for RAM, diskcheck for the disk) print
# "PROG: pass N ok" after each clean pass and "PROG: FAIL ..." on a lost
# or stale page or block.
# last_pass_of PROG FILE: the last pass number PROG printed on console FILE.
last_pass_of() { grep -o "$1: pass [0-9]* ok" "$2" | tail -n1 | cut -d' ' -f3; }
last_pass() { last_pass_of memcheck "$1"; }
last_dpass() { last_pass_of diskcheck "$1"; }
first_pass() { grep -o 'memcheck: pass [0-9]* ok' "$1" | head -n1 | cut -d' ' -f3; }

# ran_clean PROG FILE: PROG ran and never reported a failure.
ran_clean() {
	grep -q "$1: pass" "$2" || return 1
	! grep -q "$1: FAIL" "$2" || { grep "$1: FAIL" "$2" | head -n3 | sed 's/^/# /'; return 1; }
}
memcheck_ok() { ran_clean memcheck "$1"; }
diskcheck_ok() { ran_clean diskcheck "$1"; }

# pass_grows PROG FILE SECONDS: PROG's pass count grows within SECONDS,
# polled, so a running guest passes as soon as it completes a pass.
pass_grows() {
	_a=$(last_pass_of "$1" "$2")
	_i=0
	while [ $_i -lt $(($3 * 4)) ]; do
		sleep 0.25
		_b=$(last_pass_of "$1" "$2")
		[ -n "$_b" ] && [ "$_b" -gt "${_a:--1}" ] && return 0
		_i=$((_i + 1))
	done
	return 1
}
# moves FILE SECONDS: memcheck moves within 5 x SECONDS; the slack is for
# a guest just resumed after a cancel, whose every page faults once more
# (re-armed by the harvest) on a loaded TCG host.
moves() { pass_grows memcheck "$1" $(($2 * 5)); }
# disk_moves FILE SECONDS: diskcheck moves within SECONDS.
disk_moves() { pass_grows diskcheck "$1" "$2"; }
# holds_lock PID FILE: PID has FILE open with an OFD write lock on it
# (ternvm's disk image lock; /proc/PID/fdinfo lists a file's locks).
holds_lock() {
	for _f in /proc/$1/fd/*; do
		[ "$(readlink "$_f")" = "$2" ] || continue
		grep -q '^lock:.*OFDLCK.*WRITE' "/proc/$1/fdinfo/${_f##*/}" && return 0
	done
	return 1
}
# no_lock PID: PID holds no file lock at all.
no_lock() { ! grep -q '^lock:' /proc/$1/fdinfo/* 2>/dev/null; }

# figures NAME JSON: the query-migrate figures as a TAP comment.
figures() {
	echo "# $1: status $(jget "$2" status), total $(jget "$2" elapsed) ms," \
		"downtime $(jget "$2" downtime) ms, $(jget "$2" bytes) bytes," \
		"$(jget "$2" pages) pages + $(jget "$2" zero-pages) zero," \
		"$(jget "$2" rounds) rounds, tracker $(jget "$2" tracker)," \
		"throttle $(jget "$2" throttle)%"
}

# dump DIR NAME...: the end of each ternvm's output and console.
dump() {
	_d=$1
	shift
	for _n in "$@"; do
		# A sanitizer's report whole (its first 40 lines), else the end.
		if grep -q "ERROR: AddressSanitizer\|runtime error" "$_d/$_n.out" 2>/dev/null; then
			sed -n '/ERROR: AddressSanitizer\|runtime error/,$p' "$_d/$_n.out" |
				head -n 40 | sed "s/^/# $_n: /"
		else
			sed "s/^/# $_n: /" "$_d/$_n.out" 2>/dev/null | tail -n 12
		fi
		show_console "$_d/$_n.log" 12 2>/dev/null
	done
}

# names TEXT PATTERN: TEXT (an error message, quotes and all) has PATTERN.
names() { echo "$1" | grep -q -- "$2"; }

# ---- the fault tests: one source that outlives every case, destinations
# per case, the proxy, the checks after each case

INDEX=${INDEX:-$(command -v tern-fault-index)}
MC_INITRD=${MC_INITRD:-/guest/initrd-memcheck.gz}
MEM=${MEM:-128M}
# The destination's message on a failed incoming migration: phase and byte.
DEST_MSG='incoming migration from .* failed: (handshake|ramblocks|precopy|switchover|load|ready|commit|running), byte [0-9]+ (sent|received)'
SAN_PAT='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: UndefinedBehavior'
# Destinations' ports: below Linux's ephemeral range (32768-60999 by
# default), where a connection's local port (the source's to the proxy,
# a TIME_WAIT of an earlier case) may already hold the number and the
# listener's bind fails.
PORT_NEXT=${PORT_BASE:-21000}
# Options every ternvm gets (the campaign over TLS sets --tls-creds here).
TLS_OPTS=${TLS_OPTS:-}

# fdevices NAME: every device a guest can have (issue 15), as devices
# gives them: the guest's disk image $T/$FDISK.img (on
# storage both sides share; made here; one per guest, each locked by the
# side that runs it), virtio-rng, a virtio-console into $T/NAME.vcon and
# a tap NIC of its own, tfNAME.
FDISK=disk
fdevices() {
	[ -e "$T/$FDISK.img" ] || dd if=/dev/zero of="$T/$FDISK.img" bs=1M count=16 2>/dev/null
	echo "--disk $T/$FDISK.img --rng --vconsole $T/$1.vcon --net tap=tf$1"
}

# start_vm NAME [--incoming-migration URI]: a ternvm with control socket
# $T/NAME.sock, console $T/NAME.log, output $T/NAME.out; pid in VM_PID.
# Without options it boots the memcheck guest, whose workload has begun
# on return (see boot_guest); a source may live as long as its test.
# Every ternvm has every device (fdevices).
start_vm() {
	_n=$1; shift
	if [ $# = 0 ]; then
		_g=$VM_GUARD
		VM_GUARD=3600
		boot_guest "$T/$_n.log" "$T/$_n.out" 'tern-guest: run' 120 \
			--cpus 1 --memory "$MEM" $(fdevices "$_n") $TLS_OPTS \
			--kernel "$BZIMAGE" --initrd "$MC_INITRD" \
			--append "console=ttyS0 tern.run=run:/bin/memcheck-bg,counter tern.mc=${MC_MIB:-16}" \
			--console "file:$T/$_n.log" --control "$T/$_n.sock"
		_r=$?
		VM_GUARD=$_g
		VM_PID=$PID
		return $_r
	fi
	"$TERNVM" --cpus 1 --memory "$MEM" $(fdevices "$_n") $TLS_OPTS "$@" --console "file:$T/$_n.log" \
		--control "$T/$_n.sock" >"$T/$_n.out" 2>&1 &
	VM_PID=$!
	guard $VM_PID 900
	_i=0
	while [ $_i -lt 200 ]; do
		"$TERNCTL" --socket "$T/$_n.sock" status >/dev/null 2>&1 && return 0
		kill -0 $VM_PID 2>/dev/null || return 1
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# start_dest NAME: a destination listening on a fresh port (DEST_PORT).
start_dest() {
	PORT_NEXT=$((PORT_NEXT + 1)); DEST_PORT=$PORT_NEXT
	start_vm "$1" --incoming-migration "tcp:127.0.0.1:$DEST_PORT" || return 1
	[ -z "$TIMEOUT_MS" ] || set_param "$T/$1.sock" timeout "$TIMEOUT_MS"
}

set_param() {
	"$TERNCTL" --socket "$1" send \
		"{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"name\":\"$2\",\"value\":$3}}" >/dev/null
}

# start_proxy ARGS...: the proxy towards DEST_PORT; its port in PROXY_PORT.
start_proxy() {
	# The shell truncates the output files in the child, later: a stale
	# "listening" of the last case's proxy must not be read meanwhile.
	rm -f "$T/proxy.out" "$T/proxy.err"
	"$PROXY" --listen 0 --connect "$DEST_PORT" --seed "$SEED" "$@" \
		>"$T/proxy.out" 2>"$T/proxy.err" &
	PROXY_PID=$!
	_i=0
	until grep -q listening "$T/proxy.out" 2>/dev/null; do
		if ! kill -0 $PROXY_PID 2>/dev/null || [ $_i -ge 300 ]; then
			# Why, for the report: its status, and the kernel's last word.
			kill -9 $PROXY_PID 2>/dev/null; wait $PROXY_PID
			echo "exit status $?; kernel: $(dmesg | tail -n 2 | tr '\n' ' ')" >>"$T/proxy.err"
			return 1
		fi
		sleep 0.1; _i=$((_i + 1))
	done
	PROXY_PORT=$(sed -n 's/^listening \([0-9]*\).*/\1/p' "$T/proxy.out" | head -n1)
	[ -n "$PROXY_PORT" ]
}

stop_proxy() {
	kill $PROXY_PID 2>/dev/null
	wait $PROXY_PID 2>/dev/null
}

# counter_moves NAME: the guest's counter on NAME's console goes past its
# current value within 10 s.
counter_moves() {
	_c=$(last_counter "$T/$1.log")
	_v=$(counter_passes "$T/$1.log" "${_c:--1}" 10)
	[ -n "$_v" ] && [ "$_v" -gt "${_c:--1}" ]
}

# memcheck_advances NAME: no FAIL on $T/NAME.log, and a new pass within
# 20 s.
memcheck_advances() {
	! grep -q 'memcheck: FAIL' "$T/$1.log" && pass_grows memcheck "$T/$1.log" 20 &&
		! grep -q 'memcheck: FAIL' "$T/$1.log"
}

# wait_exit PID SECONDS: until PID exits (its status in EXIT_RC), or kill it.
wait_exit() {
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt $(($2 * 10)) ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	kill -0 "$1" 2>/dev/null && { kill -9 "$1"; wait "$1"; EXIT_RC=hung; return 1; }
	wait "$1"; EXIT_RC=$?
}

no_san_report() { ! grep -Eq "$SAN_PAT" "$@"; }

# quit_vm NAME PID: ternctl quit and reap.
quit_vm() {
	"$TERNCTL" --socket "$T/$1.sock" quit >/dev/null 2>&1
	wait_exit "$2" 20
}

trap '[ -z "$GUARDS" ] || kill $GUARDS 2>/dev/null' EXIT
