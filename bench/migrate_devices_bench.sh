#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Issue 15: what the devices cost a migration.  The same guest migrated
# bare and with every device it can have (a shared disk image, a tap NIC
# on each side, virtio-rng, virtio-console), idle and busy; ternvm only.
# bench/migrate_bench.sh with MB_DEVICES="0 1"; the payload rides in
# migrate_bench, which `make bench` puts in the same harness run.
MB_DEVICES=${MB_DEVICES:-0 1} MB_QEMU=${MB_QEMU:-0} exec "$(dirname "$0")/migrate_bench"
