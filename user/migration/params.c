// SPDX-License-Identifier: GPL-2.0
/*
 * The table behind migrate-set-parameters, query-migrate-parameters,
 * the migrate command's optional arguments and ternctl's options.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "migration/migration.h"
#include "migration/params.h"

#define FIELD(f)	offsetof(struct mig_params, f), \
			sizeof(((struct mig_params *)0)->f)

const struct mig_param mig_param_table[] = {
	{ "downtime-limit", "MS", "longest pause of the guest at switchover",
	  1, UINT32_MAX, FIELD(downtime_limit_ms) },
	{ "max-bandwidth", "BYTES/S", "pace the page stream (0: unlimited)",
	  0, UINT64_MAX, FIELD(max_bandwidth) },
	{ "max-rounds", "N", "pre-copy rounds without converging before the migration fails (the guest runs on)",
	  1, 100000, FIELD(max_rounds) },
	{ "auto-converge", "0|1", "throttle vCPUs that dirty faster than the link",
	  0, 1, FIELD(auto_converge) },
	{ "throttle-initial", "PCT", "first auto-converge throttle",
	  1, 99, FIELD(throttle_initial) },
	{ "throttle-step", "PCT", "auto-converge throttle increment",
	  1, 99, FIELD(throttle_step) },
	{ "timeout", "MS", "longest wait for the peer's next byte",
	  1, 3600000, FIELD(timeout_ms) },
	{ "channels", "N", "page-stream connections (destination: the most it takes)",
	  1, MIG_CHANNELS_MAX, FIELD(channels) },
	{ "defer", "0|1", "tern path: a page written again mid-round waits for the next round (0: goes in both)",
	  0, 1, FIELD(defer) },
	{ "incoming-timeout", "MS", "destination: longest wait for a source's hello (0: for ever)",
	  0, 86400000, FIELD(incoming_timeout_ms) },
	{ 0 },
};

_Static_assert(sizeof(mig_param_table) / sizeof(mig_param_table[0]) - 1 <= MIG_PARAM_MAX,
	       "mig_param_table outgrew MIG_PARAM_MAX");

const struct mig_param *mig_param_find(const char *name)
{
	const struct mig_param *d;

	for (d = mig_param_table; d->name; d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

uint64_t mig_param_get(const struct mig_params *p, const struct mig_param *d)
{
	const char *f = (const char *)p + d->offset;
	uint32_t v32;
	uint64_t v64;
	bool b;

	switch (d->size) {
	case sizeof(b):
		memcpy(&b, f, sizeof(b));
		return b;
	case sizeof(v32):
		memcpy(&v32, f, sizeof(v32));
		return v32;
	default:
		memcpy(&v64, f, sizeof(v64));
		return v64;
	}
}

int mig_param_put(struct mig_params *p, const struct mig_param *d, uint64_t v)
{
	char *f = (char *)p + d->offset;
	uint32_t v32 = v;
	uint64_t v64 = v;
	bool b = v;

	if (v < d->min || v > d->max)
		return -ERANGE;
	switch (d->size) {
	case sizeof(b):
		memcpy(f, &b, sizeof(b));
		break;
	case sizeof(v32):
		memcpy(f, &v32, sizeof(v32));
		break;
	default:
		memcpy(f, &v64, sizeof(v64));
	}
	return 0;
}
