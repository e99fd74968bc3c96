// SPDX-License-Identifier: GPL-2.0
/* ternctl query-migrate (alias migrate-status): the migration's state and statistics (query-migrate). */
#include <stdio.h>

#include "ctl/ipc.h"
#include "ctl/subcommands.h"
#include "lib/log.h"

int migrate_status_main(const struct ctl_call *c)
{
	return ctl__print_query("query-migrate");
}
