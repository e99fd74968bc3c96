// SPDX-License-Identifier: GPL-2.0
/* ternctl stop: pause the VM's vCPUs (stop on the control socket). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int stop_main(int argc, char **argv)
{
	if (argc != 1) {
		pr_err("usage: ternctl stop");
		return 1;
	}
	return ctl__simple("stop", NULL, "paused");
}
