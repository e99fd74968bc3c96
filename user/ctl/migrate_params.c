// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl migrate-set-parameters [--NAME VALUE]...: set migration
 * parameters (names from mig_param_table, plus ternvm's paused), one
 * request each, all checked here first; ternctl query-migrate-parameters:
 * their values.
 */
#include <json-c/json.h>
#include <stdio.h>

#include "ctl/subcommands.h"
#include "lib/log.h"
#include "migration/params.h"

int migrate_set_params_main(const struct ctl_call *c)
{
	struct json_object *all = json_object_new_object(), *args;
	uint64_t paused;
	int r;

	if (!all || ctl_params_to_json(c, all))
		goto fail;
	r = ctl__opt_u64(c, "paused", &paused);
	if (r < 0)
		goto fail;
	if (!r && paused > 1) {
		pr_err("migrate-set-parameters: --paused is 0 or 1");
		goto fail;
	}
	if (!r)
		json_object_object_add(all, "paused", json_object_new_uint64(paused));
	if (!json_object_object_length(all)) {
		pr_err("migrate-set-parameters: no parameter given (see ternctl help "
		       "migrate-set-parameters)");
		goto fail;
	}
	json_object_object_foreach(all, key, val) {
		args = json_object_new_object();
		json_object_object_add(args, "name", json_object_new_string(key));
		json_object_object_add(args, "value", json_object_get(val));
		r = ctl__simple("migrate-set-parameters", args, NULL);
		if (r)
			break;
	}
	json_object_put(all);
	return r;
fail:
	json_object_put(all);
	return 1;
}

int migrate_params_main(const struct ctl_call *c)
{
	return ctl__print_query("query-migrate-parameters");
}
