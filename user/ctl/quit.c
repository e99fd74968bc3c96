// SPDX-License-Identifier: GPL-2.0
/* ternctl quit: end the VM (quit on the control socket). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int quit_main(const struct ctl_call *c)
{
	return ctl__simple("quit", NULL, "quitting");
}
