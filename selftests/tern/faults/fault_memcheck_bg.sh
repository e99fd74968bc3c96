#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the fault tests' guest: memcheck in the background over tern.mc= MiB,
# so the counter step can run beside it.
n=$(sed -n 's/.*tern\.mc=\([0-9]*\).*/\1/p' /proc/cmdline)
/bin/memcheck "${n:-16}" &
