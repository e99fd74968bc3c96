#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Draw the charts that read better than a table, from the result files
# `make bench` wrote under bench/results/ (skipping any not there):
#   track_kvm.png      a guest's pass and the host's harvest vs guest size
#   migrate_scale.png  migration time vs guest size, ternvm and QEMU
set -euo pipefail
R=${1:-$(dirname "$0")/results}
command -v gnuplot >/dev/null || { echo "plot: no gnuplot (scripts/deps.sh bench)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The medians of "SIZE MODE min/med ns/page faults/s min/med ns/page" rows.
kvm=$R/track_kvm_bench-harness.txt
if [[ -r $kvm ]]; then
	for mode in none dirty-log tern tern-2view 2view-vcpu; do
		awk -v m="$mode" '$1 ~ /^[0-9]+$/ && $2 == m {
			split($3, p, "/"); split($6, h, "/"); print $1, p[2], h[2] }' \
			"$kvm" >"$tmp/$mode"
	done
	gnuplot <<-EOF
	set terminal pngcairo size 960,420 noenhanced
	set output "$R/track_kvm.png"
	set multiplot layout 1,2 title "$(head -n1 "$kvm" | sed 's/^# //')"
	set key top left
	set grid
	set xlabel "guest size, MiB"
	set ylabel "ms, median"
	set title "guest pass: every page written once"
	plot "$tmp/none" using 1:2 with linespoints lc rgb "gray40" title "no tracking", \
	     "$tmp/dirty-log" using 1:2 with linespoints lc rgb "#1f77b4" title "KVM dirty log", \
	     "$tmp/tern" using 1:2 with linespoints lc rgb "#d62728" title "tern, one view", \
	     "$tmp/tern-2view" using 1:2 with linespoints lc rgb "#2ca02c" title "tern, KVM view + tracked view"
	set title "harvest: collect and re-arm every page"
	plot "$tmp/dirty-log" using 1:3 with linespoints lc rgb "#1f77b4" title "KVM dirty log (get + clear)", \
	     "$tmp/tern" using 1:3 with linespoints lc rgb "#d62728" title "tern, one view (TERN_TRACK_HARVEST)", \
	     "$tmp/tern-2view" using 1:3 with linespoints lc rgb "#2ca02c" title "tern, two views, VMM writing 1 page in 64", \
	     "$tmp/2view-vcpu" using 1:3 with linespoints lc rgb "#9467bd" title "tern, two views, vCPU only"
	unset multiplot
	EOF
	echo "plot: $R/track_kvm.png"
fi

# "idle N MiB  tern-ms  qemu-ms ..." rows of the scale table.
scale=$R/migrate_scale_bench-harness.txt
if [[ -r $scale ]]; then
	awk '$1 == "idle" && $3 == "MiB" { print $2, $4, $5 }' "$scale" | sort -n >"$tmp/scale"
	# Which QEMU the run measured, from its "migrate_bench: QEMU" line.
	q=$(sed -n 's/^migrate_bench: QEMU \([0-9.]*\) .*multifd channels \([0-9]*\).*/\1 \2/p' "$scale" | head -n1)
	qemu=QEMU
	[[ -z $q ]] || qemu="QEMU ${q% *}"
	[[ -z $q || ${q#* } == 0 ]] || qemu="$qemu, multifd ${q#* }"
	gnuplot <<-EOF
	set terminal pngcairo size 640,420 noenhanced
	set output "$R/migrate_scale.png"
	set title "idle guest: total migration time vs size (median)"
	set key top left
	set grid
	set xlabel "guest size, MiB"
	set ylabel "total time, ms"
	plot "$tmp/scale" using 1:2 with linespoints lc rgb "#d62728" title "ternvm", \
	     "$tmp/scale" using 1:3 with linespoints lc rgb "#1f77b4" title "$qemu"
	EOF
	echo "plot: $R/migrate_scale.png"
fi
