# SPDX-License-Identifier: GPL-2.0
# Helpers of the fault tests (POSIX sh, sourced after vm_lib.sh): one
# source guest that survives every failed migration, destinations started
# per case, the proxy, and the checks made after every case.

PROXY=${PROXY:-$(command -v tern-fault-proxy)}
INDEX=${INDEX:-$(command -v tern-fault-index)}
MC_INITRD=${MC_INITRD:-/guest/initrd-memcheck.gz}
MEM=${MEM:-128M}
# The destination's message on a failed incoming migration: phase and byte.
DEST_MSG='incoming migration from .* failed: (handshake|ramblocks|precopy|switchover|load|ready|commit|running), byte [0-9]+ (sent|received)'
SAN_PAT='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: UndefinedBehavior'
PORT_NEXT=${PORT_BASE:-41000}
# Options every ternvm gets (the campaign over TLS sets --tls-creds here).
TLS_OPTS=${TLS_OPTS:-}

# fdevices NAME: every device a guest can have (issue 15), as in
# migrate_lib.sh's devices: the guest's disk image $T/$FDISK.img (on
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

vm_state() { "$TERNCTL" --socket "$T/$1.sock" status 2>/dev/null | cut -d' ' -f1; }

# counter_moves NAME: the guest's counter on NAME's console goes past its
# current value within 10 s.
counter_moves() {
	_c=$(last_counter "$T/$1.log")
	_i=0
	while [ $_i -lt 100 ]; do
		_v=$(last_counter "$T/$1.log")
		[ -n "$_v" ] && [ "$_v" -gt "${_c:--1}" ] && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# memcheck_ok NAME: no FAIL on NAME's console, and a new pass within 20 s.
memcheck_ok() {
	grep -q 'memcheck: FAIL' "$T/$1.log" && return 1
	_p=$(grep -o 'memcheck: pass [0-9]*' "$T/$1.log" | tail -n1 | cut -d' ' -f3)
	_i=0
	while [ $_i -lt 200 ]; do
		_q=$(grep -o 'memcheck: pass [0-9]*' "$T/$1.log" | tail -n1 | cut -d' ' -f3)
		[ -n "$_q" ] && [ "$_q" -gt "${_p:--1}" ] && break
		sleep 0.1; _i=$((_i + 1))
	done
	[ $_i -lt 200 ] && ! grep -q 'memcheck: FAIL' "$T/$1.log"
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
