#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ternvm's command line: every bad or missing argument is refused before
# any VM exists with exit status 1 and exactly one line that names the
# problem; --help exits 0.  Runs on the build host (no guest starts), and
# every case runs twice: as the host is, and again in a private mount
# namespace whose /dev holds only null, so a host without /dev/kvm (a CI
# runner, a laptop VM) gets the same messages (issue 19, item 1).
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
BIN=$(dirname "$0")/../../..
TERNVM=${TERNVM:-$BIN/ternvm}
[[ -x $TERNVM ]] || TERNVM=$ROOT/build/ternvm
K=/dev/null
CASES=37
n=${VM_ARGS_FIRST:-0} failed=0 where=${VM_ARGS_WHERE:-}

# case EXPECTED_SUBSTRING ARGS...
case_() {
	local want=$1 out rc lines
	shift
	n=$((n + 1))
	# Bounded: a ternvm that wrongly starts a guest must fail the case,
	# not hang it or fill memory with console output.
	out=$({ timeout 20 "$TERNVM" "$@" 2>&1 </dev/null; echo "rc=$?"; } | head -c 65536)
	rc=${out##*rc=}
	[[ $rc =~ ^[0-9]+$ ]] || rc=unknown
	out=${out%rc=*}
	lines=$(printf '%s\n' "$out" | grep -c .)
	if ((rc == 1 && lines == 1)) && grep -q -- "$want" <<<"$out"; then
		echo "ok $n rejects$where: $*"
	else
		echo "not ok $n rejects$where: $* (rc=$rc, $lines lines, want '$want'): $out"
		failed=1
	fi
}

run_cases() {
	case_ "no --kernel"
	case_ "unknown option --bogus" --kernel $K --bogus
	case_ "needs an argument" --kernel
	# A single-dash option (there are none) used to index the long
	# option table with its letter and crash (issue 18).
	case_ "unknown option -h" -h
	case_ "unknown option -x" --kernel $K -xyz
	case_ "--memory 12Q" --kernel $K --memory 12Q
	case_ "--memory 1M" --kernel $K --memory 1M
	case_ "--memory -5G" --kernel $K --memory -5G
	case_ "--cpus 0" --kernel $K --cpus 0
	case_ "--cpus 99" --kernel $K --cpus 99
	case_ "--cpus two" --kernel $K --cpus two
	case_ "--net eth0: want tap=IFNAME" --kernel $K --net eth0
	# mac=: six hex octets, unicast, not zero (issue 15).
	case_ "--net tap=t0,mac=52:54:00:12:34: want tap=IFNAME" --kernel $K --net tap=t0,mac=52:54:00:12:34
	case_ "--net tap=t0,mac=01:00:5e:00:00:01: want" --kernel $K --net tap=t0,mac=01:00:5e:00:00:01
	case_ "--net tap=t0,mac=00:00:00:00:00:00: want" --kernel $K --net tap=t0,mac=00:00:00:00:00:00
	case_ "--net tap=t0,mac=52:54:00:12:34:zz: want" --kernel $K --net tap=t0,mac=52:54:00:12:34:zz
	case_ "--net tap=t0,speed=10: want" --kernel $K --net tap=t0,speed=10
	case_ "--net tap=,mac=52:54:00:12:34:56: want" --kernel $K --net tap=,mac=52:54:00:12:34:56
	# vhost=on|off, in any order after the tap (issue 17).
	case_ "--net tap=t0,vhost=yes: want tap=IFNAME" --kernel $K --net tap=t0,vhost=yes
	case_ "--net tap=t0,vhost=on,: want" --kernel $K --net tap=t0,vhost=on,
	case_ "--console tcp:1" --kernel $K --console tcp:1
	case_ "--kernel /nonexistent: No such file" --kernel /nonexistent
	case_ "--paused needs --incoming URI" --kernel $K --paused
	case_ "--incoming-timeout needs --incoming URI" --kernel $K --incoming-timeout 5
	case_ "--incoming-timeout -1: want milliseconds" --kernel $K --incoming-timeout -1
	case_ "--sandbox maybe: want on or off" --kernel $K --sandbox maybe
	# The option table and its enum disagreed on the order here: a
	# missing argument named the wrong option.
	case_ "option --incoming-timeout needs an argument" --kernel $K --incoming-timeout
	# TLS credentials are loaded, and refused, before any VM (issue 18).
	local IN="--incoming tcp:127.0.0.1:1"
	case_ "option --tls-psk needs an argument" $IN --tls-psk
	case_ "--tls-creds and --tls-psk exclude each other" $IN --tls-creds /x --tls-psk /y
	case_ "--tls-creds: /nonexistent/ca-cert.pem: No such file" $IN --tls-creds /nonexistent
	case_ "--tls-psk: $TLS_TMP/open: readable by others (mode 644): chmod 600 it" \
		$IN --tls-psk "$TLS_TMP/open"
	case_ "--tls-psk: $TLS_TMP/short:2: key of 6 hex digits" $IN --tls-psk "$TLS_TMP/short"
	case_ "--tls-psk: kernel TLS runs on TCP only" --incoming unix:/tmp/x --tls-psk "$TLS_TMP/short"
	# Not a kernel, stdin /dev/null (which epoll refuses): one line that
	# names the file, no noise from the stdio console or from KVM.
	case_ "/dev/null: not a bzImage" --kernel $K
	# A bzImage header asking to be loaded where the boot data lives, or
	# where a sum with its size wraps (issue 18).
	case_ "load address 0x7000 (pref_address) not page-aligned in" --kernel "$BZ_LOW"
	case_ "load address 0xfffffffffffff000 (pref_address) not" --kernel "$BZ_WRAP"
	n=$((n + 1))
	if "$TERNVM" --help | grep -q "usage: ternvm"; then
		echo "ok $n --help$where"
	else
		echo "not ok $n --help$where"; failed=1
	fi
}

# fake_bzimage FILE PREF_ADDRESS: a 4 KiB bzImage header (boot protocol
# 2.15, 64-bit entry, relocatable) that prefers PREF_ADDRESS (hex).
fake_bzimage() {
	local le i
	head -c 4096 /dev/zero >"$1"
	poke() { printf "$2" | dd of="$1" bs=1 seek=$(($3)) conv=notrunc status=none; }
	poke "$1" 'HdrS' 0x202
	poke "$1" '\x0f\x02' 0x206
	poke "$1" '\x01' 0x234
	poke "$1" '\x01' 0x236
	le=
	for i in 0 1 2 3 4 5 6 7; do le="$le\\x$(printf %02x $((($2 >> (8 * i)) & 0xff)))"; done
	poke "$1" "$le" 0x258
}
if [[ ! $VM_ARGS_WHERE ]]; then
	BZDIR=$(mktemp -d)
	trap 'rm -rf "$BZDIR"' EXIT
	export BZ_LOW=$BZDIR/low BZ_WRAP=$BZDIR/wrap
	fake_bzimage "$BZ_LOW" 0x7000
	fake_bzimage "$BZ_WRAP" 0xfffffffffffff000
fi

if [[ $VM_ARGS_WHERE ]]; then
	[[ ! -e /dev/kvm ]] || { echo "not ok $((n + 1)) /dev/kvm still visible$where"; exit 1; }
	run_cases
	exit $failed
fi

# PSK files for the TLS cases, shared with the run below.
TLS_TMP=$(mktemp -d)
trap 'rm -rf "$TLS_TMP"' EXIT
export TLS_TMP
printf 'tern:00112233445566778899aabbccddeeff\n' >"$TLS_TMP/open"
chmod 644 "$TLS_TMP/open"
printf '# too short\ntern:001122\n' >"$TLS_TMP/short"
chmod 600 "$TLS_TMP/short"

echo "1..$((2 * CASES + 1))"
run_cases
# The same cases with /dev/kvm gone: a tmpfs over /dev in a mount
# namespace of our own (root on the build host, util-linux's unshare).
VM_ARGS_FIRST=$n VM_ARGS_WHERE=" (no /dev/kvm)" TERNVM=$TERNVM \
	unshare --mount --propagation private bash -c \
	'mount -t tmpfs -o mode=755 tern-nokvm /dev && mknod -m 666 /dev/null c 1 3 &&
	 exec bash "$0"' "$0" || failed=1
# Fault hooks live only in the test build (ternvm-test), never in ternvm.
n=$((2 * CASES + 1))
if ! grep -qa 'TERN_TEST_REFUSE\|TERN_TEST_ONE_REQUEST\|TERN_TEST_FORBIDDEN_CALL\|TERN_MIG_TEST_' "$TERNVM"; then
	echo "ok $n the shipped ternvm has no test hooks"
else
	echo "not ok $n $TERNVM has the test hooks (TERN_TEST_*)"; failed=1
fi
exit $failed
