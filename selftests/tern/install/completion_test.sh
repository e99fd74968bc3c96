#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bash completion (dist/tern-completion.bash) for ternctl and ternvm, run
# the way bash runs it (COMP_WORDS, COMP_CWORD, the completion function):
# commands and options come out exactly as the programs' --help lists
# them, a command's own options after it, files where a file is wanted.
. "$(dirname "$0")/../host_lib.sh"
# shellcheck source=/dev/null
. "$ROOT/dist/tern-completion.bash" || { echo "Bail out! cannot source the completion"; exit 1; }
touch "$T/state.bin" "$T/stuff"

# comp FUNC WORD...: the completions of the last WORD, sorted, on one line.
comp() {
	local fn=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	"$fn"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
# expect DESCRIPTION WANT FUNC WORD...
expect() {
	local d=$1 want=$2 got
	shift 2
	n=$((n + 1))
	got=$(comp "$@")
	if [[ $got == "$want" ]]; then
		echo "ok $n $d: $got"
	else
		echo "not ok $n $d: got '$got', want '$want'"; rc=1
	fi
}

ctl=$BIN/ternctl vm=$BIN/ternvm
cmds=$("$ctl" --help | sed -n '/^commands:/,$p' | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
vmopts=$("$vm" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ' | sed 's/ $//')
echo "1..15"
expect "ternctl: every command of --help" "$cmds" _ternctl "$ctl" ""
expect "ternctl mig" "migrate migrate-cancel migrate-set-parameters migrate-status" _ternctl "$ctl" mig
expect "ternctl --: the global options" "--help --json --socket --version" _ternctl "$ctl" --
expect "after --socket PATH, commands again" "status stop" _ternctl "$ctl" --socket /tmp/x.sock st
expect "ternctl --socket: a file" "$T/state.bin $T/stuff" _ternctl "$ctl" --socket "$T/"
expect "migrate's own options and the table's" "--defer --detach --downtime-limit" _ternctl "$ctl" migrate tcp:h:1 --d
expect "migrate's parameter options, from the migration's table" "--throttle-initial --throttle-step --timeout" \
	_ternctl "$ctl" migrate --t
expect "migrate-set-parameters: the table's, and paused" "--paused" _ternctl "$ctl" migrate-set-parameters --p
expect "help COMMAND: the commands" "query-commands query-migrate query-migrate-parameters" \
	_ternctl "$ctl" help query
expect "migrate URI: the schemes" "tcp: unix:" _ternctl "$ctl" migrate ""
expect "save-state FILE" "$T/state.bin" _ternctl "$ctl" save-state "$T/sta"
expect "ternvm --: every option of --help" "$vmopts" _ternvm "$vm" --
expect "ternvm --ker" "--kernel" _ternvm "$vm" --ker
expect "ternvm --console" "file: stdio unix:" _ternvm "$vm" --console ""
expect "ternvm --kernel FILE" "$T/stuff" _ternvm "$vm" --kernel "$T/stu"
exit $rc
