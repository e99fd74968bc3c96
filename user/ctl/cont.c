// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl cont [--revert]: resume a VM paused by stop (cont on the control
 * socket).  --revert also resumes a source whose migration sent commit
 * (completed or postcommit-unknown): only once the destination is paused
 * or gone, or the guest runs twice.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <string.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

int cont_main(const struct ctl_call *c)
{
	struct json_object *args = NULL;

	if (ctl__opt(c, "revert")) {
		args = json_object_new_object();
		if (!args)
			return 1;
		json_object_object_add(args, "revert", json_object_new_boolean(1));
	}
	return ctl__simple("cont", args, "running");
}
