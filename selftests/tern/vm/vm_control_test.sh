#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Hostile input on the control socket: each malformed, overlong, unknown
# or ill-typed request gets an error object (class and description), and
# the VM keeps running and answering: query-status still works and the
# guest's counter still moves.  Also: the greeting and id echo, and the
# socket paths (issue 18): a file that is not a socket is never removed,
# a live VM's socket never taken, a stale one replaced, the socket 0600.
LIB=$(dirname "$0")/../lib/vm.sh
[ -r "$LIB" ] || LIB=/usr/share/tern/vm.sh
. "$LIB"

[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$TERNVM" ] && [ -x "$TERNCTL" ] && [ -r "$BZIMAGE" ] || skip_all "no ternvm/ternctl/guest"
echo "1..48"
T=$(mktemp -d)
S=$T/ctl.sock
VMARGS="--kernel $BZIMAGE --initrd $INITRD --memory 256M"

# refused WHAT OUT ARGS...: ternvm exits non-zero before running a guest,
# saying WHAT.
refused() {
	_what=$1 _out=$2
	shift 2
	timeout 30 "$TERNVM" $VMARGS --console "file:$T/refused.log" "$@" >"$_out" 2>&1
	_rc=$?
	[ $_rc != 0 ] && [ $_rc != 124 ] && grep -q -- "$_what" "$_out"
}
echo keep >"$T/file"
if refused "is not a socket" "$T/r1" --control "$T/file" && grep -qx keep "$T/file"; then
	ok "--control on a regular file is refused, the file kept"
else
	not_ok "--control on a regular file: $(head -c 200 "$T/r1"; cat "$T/file")"
fi
if refused "is not a socket" "$T/r2" --console "unix:$T/file" && grep -qx keep "$T/file"; then
	ok "--console unix: on a regular file is refused, the file kept"
else
	not_ok "--console unix: on a regular file: $(head -c 200 "$T/r2"; cat "$T/file")"
fi

# A stale socket (its ternvm killed) is replaced by the next ternvm.
"$TERNVM" $VMARGS --console "file:$T/stale.log" --control "$S" >"$T/stale.out" 2>&1 &
P=$!
i=0
while [ ! -S "$S" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $P; wait $P 2>/dev/null
[ -S "$S" ] || echo "# no stale socket made: $(head -c 200 "$T/stale.out")"
boot_guest "$T/con.log" "$T/vm.out" "tern-counter 3" 90 \
	--kernel "$BZIMAGE" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 tern.run=counter" --console "file:$T/con.log" \
	--control "$S"
rc=$?
VM=$PID
if [ $rc != 0 ]; then
	not_ok "guest counter runs"; show_console "$T/con.log"
	kill $VM; wait $VM; rm -rf "$T"; exit 1
fi
ok "guest counter runs (over a stale control socket)"
mode=$(stat -c %a "$S")
check "the control socket is 0600 (is $mode)" test "$mode" = 600
if refused "in use by another ternvm" "$T/r3" --control "$S"; then
	ok "a second ternvm on a live VM's socket is refused"
else
	not_ok "a second ternvm on a live VM's socket: $(head -c 200 "$T/r3")"
fi
check "the first VM still answers on its socket" sh -c \
	"'$TERNCTL' --socket '$S' status | grep -q ^running"

# bad DESCRIPTION EXPECTED-IN-DESC LINE: the reply is an error naming it.
bad() {
	out=$("$TERNCTL" --socket "$S" send "$3" 2>&1)
	rc=$?
	if [ $rc = 2 ] && echo "$out" | grep -q '"error"' && echo "$out" | grep -q -- "$2"; then
		ok "$1"
	else
		not_ok "$1: rc=$rc reply: $(echo "$out" | head -c 300)"
	fi
}
bad "malformed JSON" "malformed JSON" '{"execute": "query-status"'
bad "not JSON at all" "malformed JSON" 'hello world'
bad "binary garbage" "malformed JSON" "$(printf '\001\002\377\376{')"
bad "trailing garbage" "malformed JSON" '{"execute":"query-status"} x'
bad "request is an array" "must be a JSON object" '[1,2,3]'
bad "request is a number" "must be a JSON object" '42'
bad "empty object" "missing" '{}'
bad "execute is a number" "missing" '{"execute": 5}'
bad "unknown command" "CommandNotFound" '{"execute": "format-disk"}'
bad "arguments is an array" "must be an object" '{"execute": "stop", "arguments": []}'
bad "unexpected argument" "unexpected argument" '{"execute": "stop", "arguments": {"force": true}}'
bad "argument of the wrong type" "must be a string" '{"execute": "save-state", "arguments": {"path": 5}}'
bad "missing argument" "missing argument 'uri'" '{"execute": "migrate", "arguments": {}}'
bad "save-state with no file" "no file" '{"execute": "save-state", "arguments": {}}'
bad "save-state to a path, no --state-dir" "needs ternvm --state-dir" \
	'{"execute": "save-state", "arguments": {"path": "/tmp/x"}}'
bad "unexpected member" "unexpected member" '{"execute": "stop", "verbose": 1}'
bad "nested too deeply" "deep" "$(awk 'BEGIN { for (i = 0; i < 200; i++) printf "["; for (i = 0; i < 200; i++) printf "]" }')"
bad "huge line (100 KiB)" "line too long" "$(awk 'BEGIN { printf "{\"execute\": \""; for (i = 0; i < 100000; i++) printf "a"; printf "\"}" }')"
bad "load-state while running" "stop the VM first" '{"execute": "load-state", "arguments": {"path": "/nonexistent"}}'

# Clients come and go while events fly from another thread (a migration
# that fails at once sends its MIGRATION event from the migration thread):
# no client's leaving may hurt another client or the VM (ASan build).
churn() {
	_i=0
	while [ $_i -lt 25 ]; do
		"$TERNCTL" --socket "$S" status >/dev/null 2>&1
		"$TERNCTL" --socket "$S" events --count 1 --timeout 1 >/dev/null 2>&1
		_i=$((_i + 1))
	done
}
churn & C1=$!
churn & C2=$!
i=0
while [ $i -lt 40 ]; do
	"$TERNCTL" --socket "$S" send '{"execute": "migrate", "arguments": {"uri": "unix:/nonexistent"}}' >/dev/null 2>&1
	i=$((i + 1))
done
wait $C1 $C2
check "clients coming and going while events fly leave the VM whole" sh -c \
	"! grep -Eq 'AddressSanitizer|runtime error' '$T/vm.out' && '$TERNCTL' --socket '$S' status | grep -q ^running"

out=$("$TERNCTL" --socket "$S" send '{"execute": "query-status", "id": "abc"}')
check "id is echoed: $out" sh -c "echo '$out' | grep -q '\"id\":\"abc\"'"
c1=$(last_counter "$T/con.log")
# The command table, from the socket, is what ternvm --list-commands says.
"$TERNCTL" --socket "$S" --json query-commands >"$T/cmds"
check "query-commands lists $("$TERNVM" --list-commands | grep -c '^    "name"') commands, as --list-commands" \
	sh -c "[ \$(grep -o '\"help\"' '$T/cmds' | wc -l) = \$('$TERNVM' --list-commands | grep -c '^    \"name\"') ] &&
	       grep -q '\"name\":\"query-migrate-parameters\"' '$T/cmds'"
# Parameters by the shared table: set through ternctl, read back.
"$TERNCTL" --socket "$S" migrate-set-parameters --downtime-limit 123 --throttle-step 7 \
	--paused 1 >/dev/null 2>&1
"$TERNCTL" --socket "$S" query-migrate-parameters >"$T/params" 2>&1
check "migrate-set-parameters, then query-migrate-parameters: $(tr -s ' \n' ' ' <"$T/params")" \
	sh -c "grep -q '^downtime-limit *123\$' '$T/params' && grep -q '^throttle-step *7\$' '$T/params' &&
	       grep -q '^paused *1\$' '$T/params' && grep -q '^max-rounds *30\$' '$T/params'"
"$TERNCTL" --socket "$S" migrate-set-parameters --paused 0 >/dev/null 2>&1

# ---- Who may drive a VM, and what a client may make ternvm open.
# A second VM (its guest boots meanwhile; only its socket matters) with
# --state-dir and --control-group nobody's group.  nobody is made here.
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >>/etc/group
chmod 755 "$T"
mkdir -p "$T/states" "$T/nobody"
chown 65534:65534 "$T/nobody"
"$TERNVM" --kernel "$BZIMAGE" --initrd "$INITRD" --memory 128M --append "console=ttyS0" \
	--console "file:$T/c.log" --control "$T/c.sock" --state-dir "$T/states" \
	--control-group 65534 >"$T/c.out" 2>&1 &
C=$!
guard $C 300
i=0
while [ ! -S "$T/c.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
as_nobody() { su -s /bin/sh nobody -c "$*" 2>&1; }
check "--control-group: the socket is 0660, group 65534 ($(stat -c '%a %g' "$T/c.sock"))" \
	test "$(stat -c '%a %g' "$T/c.sock")" = "660 65534"
out=$(as_nobody "'$TERNCTL' --socket '$T/c.sock' status")
check "a member of --control-group drives the VM: $out" sh -c "echo '$out' | grep -q '^running'"
# A socket opened wider than ternvm made it: the peer's uid still decides.
chmod 666 "$S"
as_nobody "'$TERNCTL' --socket '$S' stop" >"$T/refused"
check "uid 65534 on the owner's socket is refused: $(head -n1 "$T/refused")" \
	grep -q 'refused the connection: uid 65534 gid 65534 may not use' "$T/refused"
chmod 600 "$S"
check "and the VM was not stopped" sh -c "'$TERNCTL' --socket '$S' status | grep -q ^running"
# ternctl opens the state file with its user's rights and passes it.
out=$(as_nobody "'$TERNCTL' --socket '$T/c.sock' save-state '$T/nobody/s'")
check "save-state through a passed file, owned by its user ($(stat -c '%u %s' "$T/nobody/s" 2>&1))" \
	sh -c "[ \$(stat -c %u '$T/nobody/s') = 65534 ] && [ -s '$T/nobody/s' ]"
out=$(as_nobody "'$TERNCTL' --socket '$T/c.sock' save-state '$T/states/s0'")
check "where its user may not write, nothing is written: $out" sh -c \
	"echo '$out' | grep -q 'Permission denied' && [ ! -e '$T/states/s0' ]"
sendc() { "$TERNCTL" --socket "$T/c.sock" send "$1" 2>&1; }
out=$(sendc '{"execute": "save-state", "arguments": {"path": "'"$T/states/s1"'"}}')
check "a path in --state-dir: $out" sh -c "echo '$out' | grep -q return && [ -s '$T/states/s1' ]"
ln -s /etc/passwd "$T/states/link"
cp /etc/passwd "$T/passwd.before"
for p in "$T/s2" "$T/states/../s3" "$T/states/sub/../../s4" "$T/states/link" "$T/states"; do
	out=$(sendc '{"execute": "save-state", "arguments": {"path": "'"$p"'"}}')
	check "refused, a path that is not a file in --state-dir: $p" sh -c \
		"echo '$out' | grep -q error && [ ! -e '$T/s2' ] && [ ! -e '$T/s3' ] && [ ! -e '$T/s4' ]"
done
check "the symlink's target is untouched" cmp -s /etc/passwd "$T/passwd.before"
# A refused second migrate changes nothing of the running one.
sleep 300 | nc -l -p 4790 >/dev/null 2>&1 &
NC=$!
sleep 0.5
"$TERNCTL" --socket "$T/c.sock" migrate --detach --timeout 60000 --downtime-limit 300 \
	tcp:127.0.0.1:4790 >/dev/null 2>&1
out=$("$TERNCTL" --socket "$T/c.sock" migrate --detach --downtime-limit 777 --exit tcp:127.0.0.1:4790 2>&1)
"$TERNCTL" --socket "$T/c.sock" query-migrate-parameters >"$T/cparams" 2>&1
check "a second migrate is refused and changes nothing: $out; $(grep downtime "$T/cparams")" \
	sh -c "echo '$out' | grep -q 'already running' && grep -q '^downtime-limit *300\$' '$T/cparams'"
"$TERNCTL" --socket "$T/c.sock" migrate-cancel >/dev/null 2>&1
"$TERNCTL" --socket "$T/c.sock" quit >/dev/null 2>&1
wait $C
kill $NC 2>/dev/null
pkill -f "nc -l -p 4790" 2>/dev/null

"$TERNCTL" --socket "$S" status >"$T/status"
check "VM still answers and runs: $(cat "$T/status")" grep -q "^running" "$T/status"
# The release, the same the binary reports, in both forms of status.
v=$("$TERNVM" --version | cut -d' ' -f2)
check "status names ternvm's version $v" grep -q "ternvm $v)\$" "$T/status"
check "query-status carries \"version\": \"$v\"" sh -c \
	"'$TERNCTL' --socket '$S' --json status | grep -q '\"version\":\"$v\"'"
sleep 1.5
c2=$(last_counter "$T/con.log")
check "guest counter still moves ($c1 -> $c2)" test "$c2" -gt "$c1"
"$TERNCTL" --socket "$S" quit >/dev/null
wait $VM
rc=$?
check "ternvm exits 0 after quit (rc=$rc)" test $rc = 0
[ $TAP_FAILED = 0 ] || sed 's/^/# vm: /' "$T/vm.out" | tail -n 20
rm -rf "$T"
exit $TAP_FAILED
