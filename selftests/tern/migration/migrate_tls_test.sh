#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A busy guest migrated over TLS 1.3 with x509 credentials both ways
# (--tls-creds, test credentials from tls_certs.sh), tern.ko's page stream
# over 2 channels: the record layer runs in kernel TLS (its counters in
# /proc/net/tls_stat grow by a session per connection and direction),
# memcheck goes on in the destination without a lost or stale page.
# Before the source comes, a plaintext peer is dropped with a message
# that says so, and the destination waits on.
# memcheck's MiB: a small busy guest (AES in the harness's emulated CPU is slow).
MC=${MC:-16}
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

CREDS=${TLS_CREDS:-/usr/share/tern/tls/good}
[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -c /dev/tern ] || skip_all "no /dev/tern"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$MIG_INITRD" ] || skip_all "no ternvm/ternctl/guest"
[ -r "$CREDS/ca-cert.pem" ] || skip_all "no test credentials in $CREDS"
echo "1..11"

# tls_stat NAME: a kernel TLS counter (sessions set up so far).
tls_stat() { awk -v n="$1" '$1 == n { print $2 }' /proc/net/tls_stat 2>/dev/null; }

T=$(mktemp -d)
# The destination listens on 127.0.0.1, the one address nc below is
# sure to reach; the source goes to "localhost", the name the
# certificate carries, whichever of ::1 and 127.0.0.1 it resolves first.
URI=tcp:localhost:4473
src_start "$T" a "run:memcheck:$MC" --tls-creds "$CREDS"; A=$PID
dst_start "$T" b tcp:127.0.0.1:4473 --tls-creds "$CREDS"; B=$PID
if ! wait_for "$T/a.log" "memcheck: pass .* ok" 120; then
	not_ok "memcheck runs on the source"; dump "$T" a b
	kill $A $B; wait $A $B; rm -rf "$T"; exit 1
fi
ok "memcheck runs on the source"

printf '\001\000\000\000\010\000\000\000plaintext' | nc 127.0.0.1 4473 >/dev/null 2>&1
nrc=$?
check "a plaintext peer is dropped, and why" \
	wait_for "$T/b.out" "dropped incoming connection 1: TLS: the peer speaks plaintext" 30
# If not: whether nc reached it, and what the destination said instead.
[ $TAP_FAILED = 0 ] || { echo "# nc exited $nrc; the destination's listeners:"
	grep -h " 0A " /proc/net/tcp /proc/net/tcp6 | sed 's/^/#   /'; dump "$T" b; }
tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)
out=$("$TERNCTL" --socket "$T/a.sock" --json migrate --exit --channels 2 "$URI" 2>&1)
rc=$?
figures "tls" "$out"
check "completed over TLS (rc=$rc)" [ "$rc" = 0 -a "$(jget "$out" status)" = completed ]
check "tern.ko's stream over 2 channels" \
	[ "$(jget "$out" tracker)" = tern -a "$(jget "$out" channels)" = 2 ]
tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
# Two connections, each with a sending and a receiving end on both sides.
check "kernel TLS carried it (TlsTxSw $tx0 -> $tx1, TlsRxSw $rx0 -> $rx1)" \
	[ -n "$tx0" ] && [ $((tx1 - tx0)) -ge 4 ] && [ $((rx1 - rx0)) -ge 4 ]
wait $A; ra=$?
check "source exits 0 once the destination runs (rc=$ra)" [ $ra = 0 ]
c1=$(last_pass "$T/a.log")
wait_for "$T/b.log" "memcheck: pass" 30
first=$(first_pass "$T/b.log")
check "memcheck goes on in the destination (source pass $c1, destination ${first:-none})" \
	sh -c "[ -n '$first' ] && [ -n '$c1' ] && [ '$first' -ge '$c1' ]"
check "and keeps passing there" moves "$T/b.log" 3
check "no page lost or stale on the source" memcheck_ok "$T/a.log"
check "nor on the destination" memcheck_ok "$T/b.log"
"$TERNCTL" --socket "$T/b.sock" quit >/dev/null
wait $B; rb=$?
check "destination exits 0 on quit (rc=$rb)" [ $rb = 0 ]
[ $TAP_FAILED = 0 ] || dump "$T" a b
rm -rf "$T"
exit $TAP_FAILED
