// SPDX-License-Identifier: GPL-2.0
/* ternctl quit: end the VM (quit on the control socket). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int quit_main(int argc, char **argv)
{
	if (argc != 1) {
		pr_err("usage: ternctl quit");
		return 1;
	}
	return ctl__simple("quit", NULL, "quitting");
}
