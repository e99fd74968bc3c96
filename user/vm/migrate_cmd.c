// SPDX-License-Identifier: GPL-2.0
/*
 * The migration's control commands: migrate, migrate-cancel,
 * query-migrate, migrate-set-parameters and query-migrate-parameters.
 * The parameters are libtern-migration's table (migration/params.h),
 * plus ternvm's own `paused`.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "migration/migration.h"
#include "migration/params.h"
#include "vm/control.h"
#include "vm/migrate.h"
#include "vm/vm.h"

static int do_migrate(struct vm *vm, struct json_object *args,
		      struct json_object **ret, char *err, size_t errlen)
{
	const struct mig_param *d;
	struct json_object *uri, *v;
	struct vm_mig *m = vm->mig;
	struct mig_stats st;
	int64_t x;

	json_object_object_get_ex(args, "uri", &uri);
	if (strncmp(json_object_get_string(uri), "tcp:", 4) &&
	    strncmp(json_object_get_string(uri), "unix:", 5)) {
		snprintf(err, errlen, "migrate: uri must be tcp:HOST:PORT or unix:PATH");
		return -EINVAL;
	}
	if (atomic_load(&vm->migrated_away)) {
		snprintf(err, errlen, "migrate: %s", vm__away_msg(vm));
		return -EBUSY;
	}
	/* Once its incoming migration completed, the guest may move on. */
	mig__query(m->mig, &st);
	if (m->incoming && st.state != MIG_S_COMPLETED) {
		snprintf(err, errlen, "migrate: this VM is an incoming migration");
		return -EBUSY;
	}
	/* Optional parameters: all checked here, set as the migration starts. */
	for (d = mig_param_table; d->name; d++) {
		if (!json_object_object_get_ex(args, d->name, &v))
			continue;
		x = json_object_get_int64(v);
		if (x < 0 || (uint64_t)x < d->min || (uint64_t)x > d->max) {
			snprintf(err, errlen, "migrate: %s = %lld refused (%llu..%llu)",
				 d->name, (long long)x, (unsigned long long)d->min,
				 (unsigned long long)d->max);
			return -EINVAL;
		}
	}
	return vm_mig__start(m, json_object_get_string(uri), false, args, err, errlen);
}

/*
 * Under m->lock, so a cancel reaches only a migration this VM started
 * (its thread may not have begun: the cancel then waits for it) and never
 * the next one.
 */
static int do_migrate_cancel(struct vm *vm, struct json_object *args,
			     struct json_object **ret, char *err, size_t errlen)
{
	struct vm_mig *m = vm->mig;

	pthread_mutex_lock(&m->lock);
	if (m->busy)
		mig__cancel(m->mig);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int do_query_migrate(struct vm *vm, struct json_object *args,
			    struct json_object **ret, char *err, size_t errlen)
{
	struct mig_stats st;

	mig__query(vm->mig->mig, &st);
	*ret = mig__stats_json(&st);
	return *ret ? 0 : -ENOMEM;
}

static int do_set_param(struct vm *vm, struct json_object *args,
			struct json_object **ret, char *err, size_t errlen)
{
	struct json_object *name, *value;
	const struct mig_param *d;
	int64_t v;
	int r;

	json_object_object_get_ex(args, "name", &name);
	json_object_object_get_ex(args, "value", &value);
	v = json_object_get_int64(value);
	if (v < 0) {
		snprintf(err, errlen, "migrate-set-parameters: value must be >= 0");
		return -EINVAL;
	}
	/* ternvm's own: an incoming guest stays paused after commit (--paused). */
	if (!strcmp(json_object_get_string(name), "paused")) {
		if (v > 1) {
			snprintf(err, errlen, "migrate-set-parameters: paused is 0 or 1");
			return -EINVAL;
		}
		atomic_store(&vm->mig->start_paused, v == 1);
		return 0;
	}
	r = mig__set_param(vm->mig->mig, json_object_get_string(name), v);
	d = mig_param_find(json_object_get_string(name));
	if (r && d)
		snprintf(err, errlen, "migrate-set-parameters: %s = %lld out of range %llu..%llu",
			 d->name, (long long)v, (unsigned long long)d->min,
			 (unsigned long long)d->max);
	else if (r)
		snprintf(err, errlen, "migrate-set-parameters: no parameter '%.64s'",
			 json_object_get_string(name));
	return r;
}

static int do_query_params(struct vm *vm, struct json_object *args,
			   struct json_object **ret, char *err, size_t errlen)
{
	*ret = mig__params_json(vm->mig->mig);
	if (!*ret)
		return -ENOMEM;
	json_object_object_add(*ret, "paused",
			       json_object_new_uint64(atomic_load(&vm->mig->start_paused)));
	return 0;
}

/* uri, exit, and every parameter of mig_param_table (filled at start). */
static struct control_arg uri_arg[3 + MIG_PARAM_MAX] = {
	{ .name = "uri", .type = json_type_string, .required = true },
	{ .name = "exit", .type = json_type_boolean },
};

static void __attribute__((constructor)) uri_arg_fill(void)
{
	const struct mig_param *d;
	size_t i = 2;

	for (d = mig_param_table; d->name && i < MIG_PARAM_MAX + 2; d++, i++)
		uri_arg[i] = (struct control_arg){ .name = d->name, .type = json_type_int };
}

static const struct control_arg param_args[] = {
	{ .name = "name", .type = json_type_string, .required = true },
	{ .name = "value", .type = json_type_int, .required = true },
	{ .name = NULL },
};

static struct control_cmd cmd_migrate = {
	.name = "migrate",
	.help = "live-migrate to uri (tcp:HOST:PORT or unix:PATH), optionally with "
		"any migration parameter (see query-migrate-parameters) and exit "
		"(quit once the destination runs; else stay paused); event MIGRATION "
		"on each state change",
	.args = uri_arg,
	.fn = do_migrate,
};
static struct control_cmd cmd_migrate_cancel = {
	.name = "migrate-cancel",
	.help = "cancel the running migration",
	.fn = do_migrate_cancel,
};
static struct control_cmd cmd_query_migrate = {
	.name = "query-migrate",
	.help = "migration state and statistics",
	.fn = do_query_migrate,
};
static struct control_cmd cmd_set_param = {
	.name = "migrate-set-parameters",
	.help = "set one migration parameter: name, value (paused: 1 keeps an "
		"incoming guest paused after commit until cont, as --paused)",
	.args = param_args,
	.fn = do_set_param,
};
control_cmd(cmd_migrate);
control_cmd(cmd_migrate_cancel);
control_cmd(cmd_query_migrate);
static struct control_cmd cmd_query_params = {
	.name = "query-migrate-parameters",
	.help = "every migration parameter's value, and paused",
	.fn = do_query_params,
};
control_cmd(cmd_set_param);
control_cmd(cmd_query_params);
