// SPDX-License-Identifier: GPL-2.0
/* ternctl stop: pause the VM's vCPUs (stop on the control socket). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int stop_main(const struct ctl_call *c)
{
	return ctl__simple("stop", NULL, "paused");
}
