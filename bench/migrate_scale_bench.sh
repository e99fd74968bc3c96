#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Issue 9, item 4: migration cost versus guest size and versus dirty rate,
# ternvm and QEMU.  bench/migrate_bench.sh's sweep mode; the payload rides
# in migrate_bench, which `make bench` puts in the same harness run.
MB_MODE=scale exec "$(dirname "$0")/migrate_bench"
