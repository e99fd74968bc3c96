#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What system calls each sandboxed thread class really makes (the lists in
# user/vm/sandbox.c come from here, then are read against the code): runs
# harness tests with ternvm and ternvm-test under strace, then prints, per
# thread class, every call made under its filter (after each test: a VM
# that wedges still leaves what ran before it).
#
#   make module && make SANITIZE=1 user && scripts/sandbox-learn.sh OUT TEST...
#
# TEST: harness test programs, e.g. build/san/selftests/tern/migration/
# migrate_tls_test.sh.  The report is the "sandbox-learn:" lines of
# OUT/tap.log.  A development tool, never part of make check: tests that
# time things may fail under strace; what they ran still counts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$1
shift
FILES=$(make -s --no-print-directory SANITIZE=1 -p -n check-run 2>/dev/null |
	sed -n 's/^HARNESS_FILES :\?= //p' | tail -1)
args=()
for f in $FILES; do
	case ${f#*:} in
	/usr/bin/ternvm | /usr/bin/ternvm-test)
		args+=(--file "${f%%:*}:${f#*:}.real" --file "scripts/sandbox-learn/wrap:${f#*:}") ;;
	*) args+=(--file "$f") ;;
	esac
done
args+=(--file "$(command -v strace):/usr/bin/strace")
tests=()
for t in "$@"; do
	case $t in
	-*) args+=("$t") ;;
	*) tests+=("$t" scripts/sandbox-learn/report.sh) ;;
	esac
done
exec scripts/harness --mem 4096 --timeout 5400 --test-timeout 1200 --out "$OUT" \
	"${args[@]}" "${tests[@]}"
