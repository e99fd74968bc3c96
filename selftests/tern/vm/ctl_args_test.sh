#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ternctl's command line, parsed with getopt_long from one command table
# (issue 19, item 7): every bad option, value or operand is refused before
# any connection with exit status 1 and one line naming the command and
# the culprit; the migration parameters' ranges come from the migration's
# own table; `help COMMAND` and `COMMAND --help` print the same usage.
# Runs on the build host: no ternvm is needed (no socket is ever opened:
# TERN_CONTROL points nowhere, and a refused line says nothing of it).
. "$(dirname "$0")/../host_lib.sh"
CTL=$BIN/ternctl
export TERN_CONTROL=$T/no-such.sock

# refuses WANT ARGS...: rc 1, one line, containing WANT, no socket error.
refuses() {
	local want=$1 out rc lines
	shift
	out=$("$CTL" "$@" 2>&1 </dev/null)
	rc=$?
	lines=$(printf '%s\n' "$out" | grep -c .)
	if ((rc == 1 && lines == 1)) && grep -qF -- "$want" <<<"$out" &&
	   ! grep -q "no-such.sock" <<<"$out"; then
		ok "refuses: ${*:-(nothing)}"
	else
		fail "refuses: $* (rc=$rc, $lines lines, want '$want'): $out"
	fi
}

echo "1..20"
refuses "no command given"
refuses "unknown option or missing value: --bogus" --bogus status
refuses "unknown option or missing value: --socket" --socket
refuses "unknown command 'frobnicate'" frobnicate
refuses "status: unknown option '--now'" status --now
refuses "status: no operand expected, 1 given" status extra
refuses "migrate: operand URI expected, 0 given" migrate
refuses "migrate: operand URI expected, 2 given" migrate tcp:a:1 tcp:b:2
refuses "migrate: --downtime-limit needs a value (MS)" migrate tcp:a:1 --downtime-limit
refuses "migrate: --max-rounds wants an unsigned number, not 'x'" migrate --max-rounds x tcp:a:1
refuses "migrate: --max-rounds wants an unsigned number, not '-3'" migrate --max-rounds -3 tcp:a:1
refuses "migrate: --auto-converge 2 is out of range 0..1" migrate --auto-converge 2 tcp:a:1
refuses "migrate: --downtime-limit 0 is out of range 1.." migrate --downtime-limit 0 tcp:a:1
refuses "migrate-set-parameters: --throttle-step 100 is out of range 1..99" \
	migrate-set-parameters --throttle-step 100
refuses "migrate-set-parameters: --paused is 0 or 1" migrate-set-parameters --paused 2
refuses "migrate-set-parameters: no parameter given" migrate-set-parameters
refuses "save-state: operand FILE expected, 0 given" save-state
refuses "events: --count wants an unsigned number" events --count many
refuses "help: unknown command 'nope'" help nope

a=$("$CTL" help migrate-set-parameters) b=$("$CTL" migrate-set-parameters --help)
if [[ $a == "$b" ]] && grep -q -- "--throttle-initial PCT" <<<"$a" &&
   grep -q -- "--paused 0|1" <<<"$a"; then
	ok "help migrate-set-parameters = migrate-set-parameters --help, every parameter"
else
	fail "help migrate-set-parameters: $a"
fi
exit $rc
