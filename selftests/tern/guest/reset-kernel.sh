#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A guest that only reboots, for the reset tests: the setup header of a
# real bzImage (so ternvm loads it by the 64-bit boot protocol) followed
# by a protected-mode part whose 64-bit entry (offset 0x200) prints 'B'
# on COM1 and pulses the i8042 reset line.  Each boot is one 'B' on the
# console; it needs no guest kernel and runs in microseconds.
#
# usage: reset-kernel.sh BZIMAGE OUT
set -euo pipefail
IN=${1:?usage: reset-kernel.sh BZIMAGE OUT} OUT=${2:?usage: reset-kernel.sh BZIMAGE OUT}
sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$IN" | tr -d ' ')
[[ $sects != 0 ]] || sects=4
{
	head -c $(((sects + 1) * 512)) "$IN"
	head -c 512 /dev/zero | tr '\0' '\220'		# 0x200 nops to the entry
	# mov dx, 0x3f8; mov al, 'B'; out dx, al; mov al, 0xfe; out 0x64, al;
	# hlt; jmp -3 (the reset comes first)
	printf '\x66\xba\xf8\x03\xb0\x42\xee\xb0\xfe\xe6\x64\xf4\xeb\xfd'
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
