// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl save-state FILE: write the machine state (no RAM) to FILE.
 * ternctl load-state FILE: load a saved machine state into a stopped VM.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/subcommands.h"
#include "lib/log.h"

static int state_file(const char *cmd, const char *file)
{
	struct json_object *args;
	char path[PATH_MAX];

	/* ternvm resolves relative paths from its own directory: send ours. */
	if (file[0] != '/' && realpath(".", path))
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", file);
	else
		snprintf(path, sizeof(path), "%s", file);
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(path));
	return ctl__simple(cmd, args, NULL);
}

int save_state_main(const struct ctl_call *c)
{
	return state_file("save-state", c->operands[0]);
}

int load_state_main(const struct ctl_call *c)
{
	return state_file("load-state", c->operands[0]);
}
