// SPDX-License-Identifier: GPL-2.0
/* ternctl migrate-cancel: cancel the running migration (the guest stays here). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int migrate_cancel_main(int argc, char **argv)
{
	if (argc != 1) {
		pr_err("usage: ternctl migrate-cancel");
		return 1;
	}
	return ctl__simple("migrate-cancel", NULL, "cancelling");
}
