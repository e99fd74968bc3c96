// SPDX-License-Identifier: GPL-2.0
/* ternctl cont: resume a VM paused by stop (cont on the control socket). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int cont_main(int argc, char **argv)
{
	if (argc != 1) {
		pr_err("usage: ternctl cont");
		return 1;
	}
	return ctl__simple("cont", NULL, "running");
}
