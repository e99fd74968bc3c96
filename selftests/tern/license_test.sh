#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every file of the tree states its licence in an SPDX line at its top, and
# that line agrees with LICENSE: GPL-2.0, except the files LICENSE names
# with their own identifier (the uapi header).  Data files that cannot hold
# a comment are listed below with the reason.  The module's
# MODULE_LICENSE matches too.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files)
else	# an unpacked source tarball: everything but build products
	mapfile -t files < <(find . \( -path ./build -o -path ./.git -o -path ./debian/.debhelper \
		-o -path './debian/tern*' \) -prune -o -type f ! -name '*.o' ! -name '*.ko' \
		! -name '*.mod' ! -name '*.mod.c' ! -name '*.cmd' ! -name '*.order' \
		! -name '*.symvers' -printf '%P\n' | sort)
fi

# No comment syntax, or not source: exempt, each with its reason.
exempt() {
	case $1 in
	LICENSE | VERSION) return 0 ;;			# the licence itself, a bare version string
	*.md | *.txt | *.png) return 0 ;;		# prose, benchmark tables, plots
	selftests/tern/fuzz/corpus/*) return 0 ;;	# binary fuzzer inputs
	.gitignore) return 0 ;;
	debian/changelog | debian/source/format) return 0 ;;	# fixed formats, no comments
	scripts/debug-kernel/modules.list) return 0 ;;	# lsmod output for localmodconfig
	# Hashed raw into the debug kernel's cache key: a header line would
	# rebuild that kernel.  To get its SPDX line with its next real change.
	scripts/debug-kernel/debug.config) return 0 ;;
	esac
	return 1
}

# LICENSE lists each differing file, indented, with its SPDX line below it.
declare -A want=()
while read -r path; read -r spdx; do
	want[$path]=${spdx#SPDX-License-Identifier: }
done < <(grep -B1 '^ *SPDX-License-Identifier:' LICENSE | grep -v '^--$' | sed 's/^ *//')

n=0 rc=0
echo "TAP version 13"
echo "1..$((${#files[@]} + 3))"
n=$((n + 1))
if head -2 LICENSE | grep -q 'version 2 only (SPDX-License-Identifier: GPL-2.0)' &&
   grep -q 'Version 2, June 1991' LICENSE; then
	echo "ok $n LICENSE: GPL-2.0 with its full text"
else
	echo "not ok $n LICENSE does not open with GPL-2.0 or lacks the GPL v2 text"; rc=1
fi
n=$((n + 1))
if ((${#want[@]} >= 1)); then
	echo "ok $n LICENSE names ${#want[@]} file(s) with their own licence"
else
	echo "not ok $n LICENSE lists no per-file exception (its format changed?)"; rc=1
fi
n=$((n + 1))
bad=$(grep -L 'MODULE_LICENSE("GPL")' $(grep -l MODULE_LICENSE kmod/*.c) 2>/dev/null)
if [[ -z $bad ]] && grep -q MODULE_LICENSE kmod/*.c; then
	echo "ok $n MODULE_LICENSE(\"GPL\") (the kernel's word for GPL-2.0)"
else
	echo "not ok $n MODULE_LICENSE missing or not \"GPL\" in: ${bad:-kmod/}"; rc=1
fi
for f in "${files[@]}"; do
	n=$((n + 1))
	if exempt "$f"; then
		echo "ok $n $f (exempt: reason in license_test.sh)"
		continue
	fi
	# The first SPDX line in the first three lines (after #!, or a roff .\").
	line=$(head -3 "$f" | grep -m1 -o 'SPDX-License-Identifier: .*')
	got=${line#SPDX-License-Identifier: }
	got=${got%% \*/}
	expect=${want[$f]:-GPL-2.0}
	if [[ -z $line ]]; then
		echo "not ok $n $f: no SPDX-License-Identifier in its first 3 lines"; rc=1
	elif [[ $got != "$expect" ]]; then
		echo "not ok $n $f: SPDX '$got', LICENSE says '$expect'"; rc=1
	else
		echo "ok $n $f: $got"
	fi
done
exit $rc
