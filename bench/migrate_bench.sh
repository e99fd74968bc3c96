#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Live migration, ternvm beside Debian's QEMU, in the harness VM: the same
# guest (Debian bzImage, 1 vCPU), idle and busy, same downtime limit and
# bandwidth, source and destination on loopback TCP.  Per run: total time,
# downtime (as the VMM reports it and as the guest's heartbeat shows it),
# bytes sent, source CPU seconds outside the guest; then min/median per
# VMM and the Tern/QEMU ratios.  Never asserts: exit 0 unless nothing ran.
#
# The build appends a tar.gz payload (QEMU with its libraries and firmware,
# ternvm, ternctl, the guest, bench/migrate_stamp) after the final "exit";
# it is unpacked over / when PAYLOAD_BYTES is set.
#
# Environment: MB_MEM (MiB, 512), MB_BUSY (MiB rewritten, 256), MB_RATE
# (busy MiB/s, 0 = flat out), MB_RUNS (3), MB_DOWNTIME (ms, 300), MB_BW
# (MiB/s, 1024), MB_BUDGET (s, 900: fewer runs rather than the harness's
# per-test timeout), MB_SIZES / MB_RATES (item 4 sweeps, see sweep()),
# MB_CHANNELS (ternvm runs once per count listed, e.g. "1 2", each a row
# ternvm-cN of a table of its own; default: ternvm's own count), MB_KINDS
# ("idle busy"), MB_QEMU (1; 0: ternvm only), MB_MEMPATH (1: ternvm's RAM
# in a file on each side, so the KVM-dirty-log path even with tern.ko),
# MB_DEVICES ("0": no device; "1": every device a guest can have, a shared
# disk image, a tap NIC per side, virtio-rng and virtio-console; "0 1":
# both, rows ternvm and ternvm-dev of a table of their own), MB_MULTIFD
# (QEMU's multifd channels, 0: off; a list, "0 2", runs QEMU once per
# count, each a column of the table: qemu, qemu-mf2), QEMU=PATH (the QEMU: by default
# Debian 13's QEMU 10 from the payload, as scripts/qemu10.sh makes it;
# /usr/bin/qemu-system-x86_64 is Debian 12's 7.2), MB_TLS (a
# credentials directory as tls_certs.sh makes them: ternvm --tls-creds
# on both sides, QEMU's tls-creds-x509 of the same files; the URIs then
# name localhost, the name the certificates carry), MB_VHOST (1: a NIC
# on vhost-net on each side, ternvm's --net tap=...,vhost=on and QEMU's
# -netdev tap,vhost=on, both taps on a bridge, the guest receiving
# MB_FLOW datagrams of 1400 bytes a second (tern-udp-flow, default 4000)
# throughout the migration), MB_DEFER ("1", ternvm's default; "0": pages
# written again mid-round go in that round and the next, rows -nodefer;
# "1 0": both, in one table), MB_PREALLOC (1: ternvm's destination
# allocates all of its RAM at start, --mem-prealloc; rows -pa),
# MB_QPREALLOC (QEMU's destination the same, -mem-prealloc: "0", "1" or
# "0 1", a column each, -pa).
PAYLOAD_BYTES=@PAYLOAD_BYTES@
D=/opt/migrate-bench
if [ "$PAYLOAD_BYTES" -gt 0 ] 2>/dev/null && [ ! -e $D/.unpacked ]; then
	tail -c "$PAYLOAD_BYTES" "$0" | tar -xzf - -C / && touch $D/.unpacked
fi

# The reference is QEMU 10 (../shared/DESIGN.md); QEMU=/usr/bin/... is 7.2.
if [ -z "${QEMU:-}" ]; then
	QEMU=/usr/bin/qemu-system-x86_64
	[ -x /opt/qemu10/qemu-system-x86_64.sh ] && QEMU=/opt/qemu10/qemu-system-x86_64.sh
fi
TERNVM=${TERNVM:-$(command -v ternvm || echo $D/ternvm)}
TERNCTL=${TERNCTL:-$(command -v ternctl || echo $D/ternctl)}
STAMP=${STAMP:-$D/migrate_stamp}
BZIMAGE=${BZIMAGE:-$D/bzImage}
INITRD=${INITRD:-$D/initrd.gz}
MEM=${MB_MEM:-512}
BUSY=${MB_BUSY:-256}
RATE=${MB_RATE:-0}
RUNS=${MB_RUNS:-3}
DOWNTIME=${MB_DOWNTIME:-300}
BW=${MB_BW:-1024}
BUDGET=${MB_BUDGET:-900}
CHANNELS=${MB_CHANNELS:-}
KINDS=${MB_KINDS:-idle busy}
QEMU_ON=${MB_QEMU:-1}
MEMPATH=${MB_MEMPATH:-0}
DEVICES=${MB_DEVICES:-0}
MULTIFDS=${MB_MULTIFD:-0}
MULTIFD=${MULTIFDS%% *}
PREALLOC=${MB_PREALLOC:-0}
QPREALLOCS=${MB_QPREALLOC:-0}
QPREALLOC=${QPREALLOCS%% *}
TLS=${MB_TLS:-}
VHOST=${MB_VHOST:-0}
FLOW_PPS=${MB_FLOW:-4000}
DEFER=${MB_DEFER:-1}
FLOW=${FLOW:-$(command -v tern-udp-flow || echo $D/tern-udp-flow)}
HOST=127.0.0.1
[ -z "$TLS" ] || HOST=localhost
HB_MS=10
PORT=4400
W=$(mktemp -d)
RES=$W/results
: >"$RES"

now() { "$STAMP" -n; }
START=$(now)
elapsed_s() { awk -v a="$START" -v b="$(now)" 'BEGIN { printf "%d", (b - a) / 1000 }'; }

# wait_for FILE PATTERN SECONDS
wait_for() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# CPU seconds of PID outside its guest: utime + stime - guest_time.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 - $41 }'; }

# The guest-seen downtime: the last heartbeat on the source's console to
# the first later one on the destination's, both stamped by migrate_stamp.
guest_gap() {
	awk '
	FNR == 1 { f++ }
	$2 == "hb" && $3 ~ /^[0-9]+$/ {
		if (f == 1) { ta = $1; sa = $3 + 0 }
		else if (!done && $3 + 0 > sa) { tb = $1; done = 1 }
	}
	END { if (ta && done) printf "%.0f\n", tb - ta; else print "-" }' "$1" "$2"
}

# start_console NAME: a FIFO whose lines land stamped in $T/NAME.log
start_console() {
	mkfifo "$T/$1.fifo"
	"$STAMP" <"$T/$1.fifo" >"$T/$1.log" &
}

guest_append() {
	echo "console=ttyS0 tern.run=$([ "$VHOST" = 1 ] && echo net,)run:/bin/migrate_guest:$HB_MS:$1:$2"
}

# bridge_port TAP: once the VMM made it, TAP joins the bridge, up.
bridge_port() {
	_i=0
	while ! ip link show "$1" >/dev/null 2>&1 && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	brctl addif tbr "$1" && ip link set "$1" up
}

# flow_start / flow_stop: the datagrams to the guest, with MB_VHOST.
flow_start() {
	FLOWPID=
	[ "$VHOST" = 1 ] || return 0
	"$FLOW" 10.0.2.15 5555 "$FLOW_PPS" 1400 >/dev/null 2>&1 &
	FLOWPID=$!
}
flow_stop() {
	[ -n "$FLOWPID" ] || return 0
	kill "$FLOWPID" 2>/dev/null
	wait "$FLOWPID" 2>/dev/null
}

# guest_ready VMM KIND: wait for the guest's workload, let it run a little.
guest_ready() {
	if ! wait_for "$T/a.log" "dirtier ready" 180; then
		echo "# $1 $2: the guest did not start its workload"
		tail -n 5 "$T/a.log" | sed 's/^/#   /'
		echo "$1 $2 - - - - - -" >>"$RES"
		return 1
	fi
	sleep 2
}

# record VMM KIND MEM TOTAL_MS DOWNTIME_MS BYTES CPU_TICKS
record() {
	gap=$(guest_gap "$T/a.log" "$T/b.log")
	cpu=$(awk -v t="$7" 'BEGIN { printf "%.2f", t / 100 }')
	echo "# $1 $2 ${3}M: total ${4} ms, downtime ${5} ms, guest-seen ${gap} ms, $6 bytes, source CPU ${cpu} s"
	echo "$1 $2 $3 $4 $5 $gap $6 $cpu" >>"$RES"
}

# qlabel [CHANNELS:PREALLOC]: a QEMU column's name (multifd channels,
# 0: off; the destination's -mem-prealloc, 1: on)
qlabel() {
	_m=${1:-$MULTIFD:$QPREALLOC}
	_p=${_m#*:} _m=${_m%%:*}
	echo "qemu$([ "$_m" = 0 ] || echo "-mf$_m")$([ "$_p" = 1 ] && echo -pa)"
}

# qvariants: the QEMU columns a point runs, as "CHANNELS:PREALLOC".
qvariants() {
	for _m in $MULTIFDS; do
		for _p in $QPREALLOCS; do
			echo "$_m:$_p"
		done
	done
}

# qemu_run KIND MIB_DIRTY RATE MEM
qemu_run() {
	qv=$(qlabel)
	T=$(mktemp -d -p "$W")
	PORT=$((PORT + 1))
	start_console a
	start_console b
	mkfifo "$T/qa.in" "$T/qa.out"
	common="-accel kvm -cpu host -smp 1 -m $4 -nodefaults -no-user-config \
		-display none -kernel $BZIMAGE -initrd $INITRD"
	nic="-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile= -netdev tap,id=n0,script=no,downscript=no,vhost=on"
	nic_a= nic_b=
	[ "$VHOST" = 1 ] && nic_a="$nic,ifname=tqA$PORT" nic_b="$nic,ifname=tqB$PORT"
	pa_b=
	[ "$QPREALLOC" = 1 ] && pa_b=-mem-prealloc
	# multifd: both sides set it before the migration, so the
	# destination waits for migrate-incoming on a monitor of its own.
	incoming="-incoming tcp:$HOST:$PORT" caps= params= tls_a= tls_b=
	if [ "$MULTIFD" -gt 0 ]; then
		caps=',{"capability":"multifd","state":true}'
		params=",\"multifd-channels\":$MULTIFD"
	fi
	if [ -n "$TLS" ]; then
		tls_a="-object tls-creds-x509,id=tls0,dir=$TLS,endpoint=client"
		tls_b="-object tls-creds-x509,id=tls0,dir=$TLS,endpoint=server"
		params="$params,\"tls-creds\":\"tls0\""
	fi
	if [ -n "$params" ]; then
		mkfifo "$T/qb.in" "$T/qb.out"
		incoming="-incoming defer -chardev pipe,id=qmp,path=$T/qb -mon chardev=qmp,mode=control"
	fi
	# shellcheck disable=SC2086
	"$QEMU" $common $tls_a $nic_a -append "$(guest_append "$2" "$3")" -serial stdio \
		-chardev pipe,id=qmp,path="$T/qa" -mon chardev=qmp,mode=control \
		</dev/null >"$T/a.fifo" 2>"$T/a.err" &
	QA=$!
	# shellcheck disable=SC2086
	"$QEMU" $common $pa_b $tls_b $nic_b -append "$(guest_append "$2" "$3")" -serial stdio \
		$incoming </dev/null >"$T/b.fifo" 2>"$T/b.err" &
	QB=$!
	[ "$VHOST" = 1 ] && bridge_port tqA$PORT && bridge_port tqB$PORT
	if [ -n "$params" ]; then
		cat "$T/qb.out" >"$T/qb.log" &
		exec 4<>"$T/qb.in"
		echo '{"execute":"qmp_capabilities"}' >&4
		[ -z "$caps" ] ||
			echo "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[${caps#,}]}}" >&4
		echo "{\"execute\":\"migrate-set-parameters\",\"arguments\":{${params#,}}}" >&4
		echo "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"tcp:$HOST:$PORT\"}}" >&4
	fi
	cat "$T/qa.out" >"$T/qa.log" &
	st=
	exec 3<>"$T/qa.in"	# read-write: never blocks on a FIFO
	qmp() { echo "$1" >&3; }
	qmp '{"execute":"qmp_capabilities"}'
	if guest_ready "$qv" "$1"; then
		qmp "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[{\"capability\":\"auto-converge\",\"state\":true}$caps]}}"
		qmp "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":$DOWNTIME,\"max-bandwidth\":$((BW * 1048576))$params}}"
		flow_start
		c0=$(cpu_ticks $QA)
		qmp "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:$HOST:$PORT\"}}"
		i=0
		while [ $i -lt 1200 ]; do
			sleep 0.1
			qmp '{"execute":"query-migrate"}'
			i=$((i + 1))
			st=$(grep '"status"' "$T/qa.log" | tail -n1 |
			     sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p')
			case $st in completed|failed|cancelled) break ;; esac
		done
		c1=$(cpu_ticks $QA)
		flow_stop
		if [ "$st" = completed ]; then
			wait_for "$T/b.log" " hb " 30
			sleep 1
			line=$(grep '"total-time"' "$T/qa.log" | tail -n1)
			get() { echo "$line" | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
			record "$qv" "$1" "$4" "$(get total-time)" "$(get downtime)" \
				"$(get transferred)" $((c1 - c0))
		else
			qmp '{"execute":"migrate_cancel"}'
			echo "# $qv $1: migration ended '${st:-?}' after ${i}00 ms"
			tail -n 3 "$T/qa.log" | sed 's/^/#   /'
			echo "$qv $1 $4 - - - - -" >>"$RES"
		fi
	fi
	exec 3>&-
	[ -n "$params" ] && exec 4>&-
	kill $QA $QB 2>/dev/null
	wait $QA $QB 2>/dev/null
	[ "$st" = completed ] ||
		sed 's/^/# qemu: /' "$T/a.err" "$T/b.err" | grep -v 'terminating on signal' | head -n 5
	wait
	rm -rf "$T"
}

tern_available() {
	[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] &&
		"$TERNCTL" --help 2>&1 | grep -q '^  migrate ' &&
		"$TERNVM" --help 2>&1 | grep -q -- '--incoming-migration'
}

# label CHANNELS DEV DEFER: a ternvm row's name
label() {
	echo "ternvm${1:+-c$1}$([ "$2" = 1 ] && echo -dev)$([ "$3" = 0 ] && echo -nodefer)$([ "$PREALLOC" = 1 ] && echo -pa)"
}

# vlabel CHANNELS:DEV:DEFER: label of a variant
vlabel() {
	_r=${1#*:}
	label "${1%%:*}" "${_r%%:*}" "${_r#*:}"
}

# tern_run KIND MIB_DIRTY RATE MEM [CHANNELS [DEV [DEFER]]]
tern_run() {
	vmm=$(label "$5" "$6" "$7")
	T=$(mktemp -d -p "$W")
	PORT=$((PORT + 1))
	start_console a
	start_console b
	ma= mb=
	[ "$MEMPATH" = 1 ] && ma="--mem-path $T/a.ram" mb="--mem-path $T/b.ram"
	[ "$PREALLOC" = 1 ] && mb="$mb --mem-prealloc"
	[ -z "$TLS" ] || ma="$ma --tls-creds $TLS" mb="$mb --tls-creds $TLS"
	if [ "$6" = 1 ]; then
		# Shared storage, as two hosts would see it; a tap on each side.
		dd if=/dev/zero of="$T/disk.img" bs=1M count=64 2>/dev/null
		ma="$ma --disk $T/disk.img --rng --vconsole $T/a.vcon --net tap=tbA$PORT"
		mb="$mb --disk $T/disk.img --rng --vconsole $T/b.vcon --net tap=tbB$PORT"
	fi
	if [ "$VHOST" = 1 ]; then
		ma="$ma --net tap=tvA$PORT,vhost=on"
		mb="$mb --net tap=tvB$PORT,vhost=on"
	fi
	# shellcheck disable=SC2086
	"$TERNVM" --cpus 1 --memory "${4}M" $ma --kernel "$BZIMAGE" --initrd "$INITRD" \
		--append "$(guest_append "$2" "$3")" --control "$T/a.sock" \
		</dev/null >"$T/a.fifo" 2>"$T/a.err" &
	TA=$!
	# shellcheck disable=SC2086
	"$TERNVM" --cpus 1 --memory "${4}M" $mb --incoming-migration "tcp:$HOST:$PORT" \
		--control "$T/b.sock" </dev/null >"$T/b.fifo" 2>"$T/b.err" &
	TB=$!
	[ "$VHOST" = 1 ] && bridge_port tvA$PORT && bridge_port tvB$PORT
	out=
	ctl() { "$TERNCTL" --socket "$T/a.sock" "$@"; }
	param() {
		ctl send "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"name\":\"$1\",\"value\":$2}}" >/dev/null
	}
	if guest_ready "$vmm" "$1"; then
		param downtime-limit "$DOWNTIME"
		param max-bandwidth $((BW * 1048576))
		param timeout 120000
		[ "$7" = 0 ] && param defer 0
		if [ -n "$5" ]; then
			param channels "$5"
			"$TERNCTL" --socket "$T/b.sock" send \
				"{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"name\":\"channels\",\"value\":$5}}" >/dev/null
		fi
		flow_start
		c0=$(cpu_ticks $TA)
		out=$(ctl --json migrate "tcp:$HOST:$PORT" 2>&1)
		c1=$(cpu_ticks $TA)
		flow_stop
		if echo "$out" | grep -q '"status":"completed"'; then
			echo "# $vmm $1 ${4}M: $out"
			wait_for "$T/b.log" " hb " 30
			sleep 1
			# The top level only: round-stats repeat "bytes" per round.
			get() { echo "$out" | sed -n "s/^[^[]*\"$1\":\([0-9]*\).*/\1/p"; }
			record "$vmm" "$1" "$4" "$(get elapsed)" "$(get downtime)" \
				"$(get bytes)" $((c1 - c0))
			# Per round: what it sent (what the round before dirtied).
			echo "$out" | sed -n 's/.*"round-stats":\[\([^]]*\)\].*/\1/p' |
				sed 's/},{/\n/g; s/[{}"]//g' |
				awk -F'[:,]' -v v="$vmm $1" '$2 != "" {
					for (i = 1; i < NF; i += 2) f[$i] = $(i + 1)
					printf "# %s round %d: %d pages (%d zero), %.1f MiB, %d left for the next, %d ms, throttle %d%%\n",
						v, NR, f["pages"] + f["zero-pages"], f["zero-pages"], f["bytes"] / 1048576,
						f["deferred"], f["ms"], f["throttle"] }'
			# Where the downtime went (stop comes before its clock starts).
			echo "$out" | sed -n 's/.*"switchover":{\([^}]*\)}.*/\1/p' |
				sed 's/"//g; s/-ms//g; s/:/ /g; s/,/, /g' |
				sed "s/^/# $vmm $1 switchover, ms: /"
		else
			echo "# $vmm $1: $out"
			echo "$vmm $1 $4 - - - - -" >>"$RES"
		fi
	fi
	ctl quit >/dev/null 2>&1
	"$TERNCTL" --socket "$T/b.sock" quit >/dev/null 2>&1
	sleep 0.5
	kill $TA $TB 2>/dev/null
	wait $TA $TB 2>/dev/null
	echo "$out" | grep -q '"status":"completed"' ||
		sed 's/^/# ternvm: /' "$T/a.err" "$T/b.err" | head -n 8
	wait
	rm -rf "$T"
}

# stat VMM KIND MEM COLUMN -> "min med" over the completed runs
stat() {
	awk -v v="$1" -v k="$2" -v m="$3" -v c="$4" \
		'$1 == v && $2 == k && $3 == m && $c != "-" { print $c }' "$RES" |
		sort -n | awk '{ a[NR] = $1 }
		END { if (!NR) print "- -"; else print a[1], a[int((NR + 1) / 2)] }'
}

# ratio A B
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx\n", a / b }'
}

# mib2 "MIN MED": the two in MiB
mib2() {
	echo "$1" | awk '{ for (i = 1; i <= 2; i++) $i = $i == "-" ? "-" : sprintf("%.1f", $i / 1048576); print }'
}

# table KIND... : one row per metric and kind; a column per QEMU run
# (MB_MULTIFD) and Tern's median over each QEMU's
table() {
	row=$(vlabel "$(variants)")
	qs=$(for m in $(qvariants); do qlabel "$m"; done)
	printf '%-34s %16s' "$MEM MiB guest" "ternvm min/med"
	for q in $qs; do printf ' %16s' "$q min/med"; done
	for q in $qs; do printf ' %10s' "T/$q"; done
	echo
	for kind in "$@"; do
		for m in "4 total time ms" "5 downtime ms (VMM)" "6 downtime ms (guest-seen)" \
			 "7 MiB sent" "8 source CPU s"; do
			col=${m%% *} name=${m#* }
			t=$(stat "$row" "$kind" "$MEM" "$col")
			[ "$col" = 7 ] && t=$(mib2 "$t")
			printf '%-34s %16s' "$kind: $name" "$(echo $t | tr ' ' /)"
			ratios=
			for q in $qs; do
				v=$(stat "$q" "$kind" "$MEM" "$col")
				[ "$col" = 7 ] && v=$(mib2 "$v")
				printf ' %16s' "$(echo $v | tr ' ' /)"
				ratios="$ratios $(ratio "${t#* }" "${v#* }")"
			done
			for r in $ratios; do printf ' %10s' "$r"; done
			echo
		done
	done
}

# The ternvm rows a point runs: one per MB_DEVICES value, MB_CHANNELS
# count and MB_DEFER value, as "CHANNELS:DEV:DEFER" (an empty count:
# ternvm's own).
variants() {
	for dv in $DEVICES; do
		for c in ${CHANNELS:--}; do
			[ "$c" = - ] && c=
			for df in $DEFER; do
				echo "$c:$dv:$df"
			done
		done
	done
}

# point KIND MIB RATE MEM: one run of each ternvm variant and one QEMU
# run, in budget
point() {
	if [ $tern = 1 ]; then
		for v in $(variants); do
			[ "$(elapsed_s)" -lt "$BUDGET" ] || return 1
			_r=${v#*:}
			tern_run "$@" "${v%%:*}" "${_r%%:*}" "${_r#*:}"
		done
	fi
	[ "$QEMU_ON" = 0 ] && return 0
	for q in $(qvariants); do
		[ "$(elapsed_s)" -lt "$BUDGET" ] || return 1
		MULTIFD=${q%%:*} QPREALLOC=${q#*:}
		qemu_run "$@"
	done
}

# short LABEL: a row's name without "ternvm-" (the plain one: "bare")
short() {
	case $1 in ternvm) echo bare ;; *) echo "${1#ternvm-}" ;; esac
}

# vtable KIND...: each ternvm variant, min/med, and the last one's median
# over the first's
vtable() {
	rows=$(for v in $(variants); do vlabel "$v"; done)
	first=$(echo "$rows" | head -n1) last=$(echo "$rows" | tail -n1)
	printf '%-34s' "$MEM MiB guest"
	for r in $rows; do printf ' %16s' "$(short "$r") min/med"; done
	printf ' %10s\n' "last/first"
	for kind in "$@"; do
		for m in "4 total time ms" "5 downtime ms (VMM)" "6 downtime ms (guest-seen)" \
			 "7 MiB sent" "8 source CPU s"; do
			col=${m%% *} name=${m#* }
			printf '%-34s' "$kind: $name"
			for r in $rows; do
				v=$(stat "$r" "$kind" "$MEM" "$col")
				[ "$col" = 7 ] && v=$(mib2 "$v")
				printf ' %16s' "$(echo $v | tr ' ' /)"
				[ "$r" = "$first" ] && f=${v#* }
				[ "$r" = "$last" ] && l=${v#* }
			done
			printf ' %10s\n' "$(ratio "$l" "$f")"
		done
	done
	echo "(last/first: $(short "$last") over $(short "$first"), medians)"
}

# Item 4: cost versus guest size (idle) and versus dirty rate (MB_BUSY MiB
# rewritten at each MB_RATES MiB/s, 0 = flat out), the whole sweep up to
# MB_RUNS times within the budget; the table gives medians.
sweep() {
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		for m in ${MB_SIZES:-128 512 1024 2048}; do
			point idle 0 0 "$m" || break 2
		done
		for d in ${MB_RATES:-32 128 0}; do
			point "rate$d" "$BUSY" "$d" "$MEM" || break 2
		done
	done
	printf '%-22s %12s %12s %9s %12s %12s %10s %10s\n' "point" "tern ms" "QEMU ms" \
		"T/Q" "tern down" "QEMU down" "tern MiB" "QEMU MiB"
	q1=$(qlabel "${MULTIFDS%% *}:$QPREALLOC")
	t1=$(vlabel "$(variants | head -n1)")
	awk '$4 != "-" { print $2, $3 }' "$RES" | sort -u -k1,1 -k2,2n | while read -r k m; do
		t=$(stat "$t1" "$k" "$m" 4) q=$(stat "$q1" "$k" "$m" 4)
		td=$(stat "$t1" "$k" "$m" 6) qd=$(stat "$q1" "$k" "$m" 6)
		tb=$(stat "$t1" "$k" "$m" 7) qb=$(stat "$q1" "$k" "$m" 7)
		mib() { awk -v b="${1#* }" 'BEGIN { if (b == "-") print "-"; else printf "%.1f", b / 1048576 }'; }
		case $k in
		idle) name="idle ${m} MiB" ;;
		rate0) name="${m} MiB, dirty flat out" ;;
		*) name="${m} MiB, dirty ${k#rate} MiB/s" ;;
		esac
		printf '%-22s %12s %12s %9s %12s %12s %10s %10s\n' "$name" "${t#* }" "${q#* }" \
			"$(ratio "${t#* }" "${q#* }")" "${td#* }" "${qd#* }" "$(mib "$tb")" "$(mib "$qb")"
	done
	echo "(medians over the runs each point got; downtime: guest-seen, ms)"
}

main() {
	[ -c /dev/kvm ] || { echo "migrate_bench: no /dev/kvm"; return 1; }
	[ -x "$QEMU" ] || { echo "migrate_bench: no $QEMU"; return 1; }
	[ -r "$BZIMAGE" ] && [ -r "$INITRD" ] && [ -x "$STAMP" ] ||
		{ echo "migrate_bench: guest or migrate_stamp missing under $D"; return 1; }
	tern=1
	tern_available || { tern=0; echo "ternvm: migration not available"; }
	echo "migrate_bench: downtime limit $DOWNTIME ms, max bandwidth $BW MiB/s," \
		"auto-converge on, 1 vCPU, loopback TCP, budget ${BUDGET}s"
	[ "$QEMU_ON" = 0 ] || echo "migrate_bench: QEMU $("$QEMU" --version | head -n1 |
		sed 's/^QEMU emulator version //'), multifd channels ${MULTIFDS} (0: off; a column each)," \
		"destination -mem-prealloc ${QPREALLOCS} (1: on; a column each)"
	[ "$PREALLOC" = 1 ] && echo "migrate_bench: ternvm's destination with --mem-prealloc"
	[ -z "$TLS" ] || echo "migrate_bench: TLS on every migration, credentials $TLS"
	if [ "$VHOST" = 1 ]; then
		[ -c /dev/vhost-net ] && [ -x "$FLOW" ] ||
			{ echo "migrate_bench: MB_VHOST=1 needs /dev/vhost-net and $FLOW"; return 1; }
		ip link add tbr type bridge && ip addr add 10.0.2.2/24 dev tbr &&
			ip link set tbr up || return 1
		echo "migrate_bench: a NIC on vhost-net each side, the guest receiving" \
			"$FLOW_PPS datagrams/s of 1400 bytes during each migration"
	fi
	if [ "${MB_MODE:-}" = scale ]; then
		echo "migrate_bench: time vs guest size (idle) and vs dirty rate ($BUSY of $MEM MiB rewritten)"
		sweep
	else
		echo "migrate_bench: ${MEM} MiB guest; idle, and busy = $BUSY MiB rewritten" \
			"$( [ "$RATE" = 0 ] && echo "flat out" || echo "at $RATE MiB/s"), up to $RUNS runs"
		r=0
		while [ $r -lt "$RUNS" ]; do
			r=$((r + 1))
			for kind in $KINDS; do
				if [ "$kind" = idle ]; then
					point idle 0 "$RATE" "$MEM" || break 2
				else
					point busy "$BUSY" "$RATE" "$MEM" || break 2
				fi
			done
		done
		if [ "$(variants | wc -l)" -gt 1 ]; then
			vtable $KINDS
		else
			table $KINDS
		fi
	fi
	echo "migrate_bench: $(awk '$4 != "-"' "$RES" | wc -l) migrations completed," \
		"$(awk '$4 == "-"' "$RES" | wc -l) did not, in $(elapsed_s)s"
	[ $tern = 1 ] || echo "ternvm: migration not available (Tern column empty)"
	[ -s "$RES" ]
}

main
rc=$?
rm -rf "$W"
exit $rc
