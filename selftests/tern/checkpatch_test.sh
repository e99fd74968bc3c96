#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module and its uapi header follow the kernel's coding style: the
# kernel's own checkpatch.pl (from Debian's linux-source-6.1, extracted into
# build/, never committed) finds no error or warning in any of them.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CP=build/checkpatch/checkpatch.pl
if [[ ! -x $CP ]]; then
	mkdir -p build/checkpatch
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C build/checkpatch --strip-components=2 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' ||
		{ echo "Bail out! cannot extract checkpatch.pl from linux-source-6.1"; exit 1; }
fi
files=$(ls kmod/*.[ch] kmod/selftest/*.[ch] include/uapi/linux/tern.h 2>/dev/null | grep -v "\.mod\.c$")
# Per-file exceptions, each with its reason.
declare -A IGNORE=(
	# The one place kernel-version workarounds live (STYLE.md, kmod/).
	[kmod/compat.h]=LINUX_VERSION_CODE,CONSTANT_COMPARISON
	# region_vm_ops is shmem's vm_ops copied at mmap time plus page_mkwrite.
	[kmod/region.c]=CONST_STRUCT
)
echo "TAP version 13"
echo "1..$(wc -w <<<"$files")"
n=0 rc=0
for f in $files; do
	n=$((n + 1))
	out=$(perl $CP --no-tree --quiet --show-types --ignore FILE_PATH_CHANGES${IGNORE[$f]:+,${IGNORE[$f]}} \
		-f "$f" 2>&1)
	if [[ -z $out ]]; then
		echo "ok $n checkpatch $f"
	else
		echo "not ok $n checkpatch $f"
		sed 's/^/# /' <<<"$out" | head -n 40
		rc=1
	fi
done
exit $rc
