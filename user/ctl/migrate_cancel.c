// SPDX-License-Identifier: GPL-2.0
/* ternctl migrate-cancel: cancel the running migration (the guest stays here). */
#include <stddef.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int migrate_cancel_main(const struct ctl_call *c)
{
	return ctl__simple("migrate-cancel", NULL, "cancelling");
}
