#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The body of `make bench`: run each benchmark (host ones here, the rest in
# the harness VM) and keep its output, dated, under bench/results/.
set -uo pipefail
HOST= HARNESS=
while (($#)); do
	case $1 in
	--host) HOST=$2 ;;
	--harness) HARNESS=$2 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
cd "$(dirname "$0")/.."
mkdir -p bench/results
stamp="$(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -r) host"
for b in $HOST; do
	name=$(basename "$b")
	echo "== $name ($stamp)"
	{ echo "# $name, $stamp"; "$b"; } | tee "bench/results/$name.txt"
done
if [[ -n $HARNESS ]]; then
	scripts/harness --mem 4096 --timeout 5400 --test-timeout 1200 --out build/harness/bench $HARNESS
	for b in $HARNESS; do
		name=$(basename "$b")
		awk -v n="$name" '$0 == "### begin " n {p = 1; next} /^### end / {p = 0} p' \
			build/harness/bench/tap.log >"bench/results/$name-harness.txt"
		sed -i "1i # $name, $stamp, inside the harness VM (TCG)" "bench/results/$name-harness.txt"
	done
fi
bench/plot.sh bench/results
