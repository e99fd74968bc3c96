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

static int state_file(const char *cmd, int argc, char **argv)
{
	struct json_object *args;
	char path[PATH_MAX];

	if (argc != 2) {
		pr_err("usage: ternctl %s FILE", cmd);
		return 1;
	}
	/* ternvm resolves relative paths from its own directory: send ours. */
	if (argv[1][0] != '/' && realpath(".", path))
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", argv[1]);
	else
		snprintf(path, sizeof(path), "%s", argv[1]);
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(path));
	return ctl__simple(cmd, args, NULL);
}

int save_state_main(int argc, char **argv)
{
	return state_file("save-state", argc, argv);
}

int load_state_main(int argc, char **argv)
{
	return state_file("load-state", argc, argv);
}
