# SPDX-License-Identifier: GPL-2.0
# Helpers for the live-migration harness tests, sourced after vm_lib.sh:
# a source ternvm whose guest runs memcheck (the content oracle), a
# destination waiting on --incoming, query-migrate fields, memcheck's
# progress on a console.

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

# jfield JSON KEY: a scalar member of a flat JSON object.
jfield() { echo "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
# jstr JSON NAME: a string field whole (commas, quotes), slashes unescaped;
# greedy, so it may run on into later fields: use it to search, not to compare.
jstr() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\"\(.*\)\"[,}].*/\1/p" | sed 's,\\/,/,g'
}

# qm SOCK: query-migrate as JSON.
qm() { "$TERNCTL" --socket "$1" --json query-migrate 2>/dev/null; }

# wait_state SOCK STATE SECONDS: until query-migrate says STATE.
wait_state() {
	_end=$(awk "BEGIN { print $(now) + $3 }")
	while awk "BEGIN { exit !($(now) < $_end) }"; do
		[ "$(jfield "$(qm "$1")" status)" = "$2" ] && return 0
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
	echo "# $1: status $(jfield "$2" status), total $(jfield "$2" elapsed) ms," \
		"downtime $(jfield "$2" downtime) ms, $(jfield "$2" bytes) bytes," \
		"$(jfield "$2" pages) pages + $(jfield "$2" zero-pages) zero," \
		"$(jfield "$2" rounds) rounds, tracker $(jfield "$2" tracker)," \
		"throttle $(jfield "$2" throttle)%"
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
