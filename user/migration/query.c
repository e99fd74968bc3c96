// SPDX-License-Identifier: GPL-2.0
/*
 * What a management client sees: query-migrate's statistics as a JSON
 * object (json-c, stable field names), and migration parameters set by
 * name, also while a migration runs (taken at the next round).
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "migration/internal.h"
#include "migration/params.h"

static const char *tracker_name(enum mig_tracker t)
{
	switch (t) {
	case MIG_TRACKER_DIRTY_LOG:
		return "kvm-dirty-log";
	case MIG_TRACKER_TERN:
		return "tern";
	default:
		return "none";
	}
}

/* [{"pages", "zero-pages", "bytes", "deferred", "ms", "throttle"}, ...] per round. */
static struct json_object *rounds_json(const struct mig_stats *st)
{
	struct json_object *a = json_object_new_array(), *r;
	unsigned int i;

	for (i = 0; a && i < st->nr_round; i++) {
		const struct mig_round_stat *s = &st->round[i];

		r = json_object_new_object();
		if (!r)
			break;
		json_object_object_add(r, "pages", json_object_new_uint64(s->pages));
		json_object_object_add(r, "zero-pages",
				       json_object_new_uint64(s->zero_pages));
		json_object_object_add(r, "bytes", json_object_new_uint64(s->bytes));
		json_object_object_add(r, "deferred",
				       json_object_new_uint64(s->deferred));
		json_object_object_add(r, "ms", json_object_new_uint64(s->ms));
		json_object_object_add(r, "throttle",
				       json_object_new_int(s->throttle_pct));
		json_object_array_add(a, r);
	}
	return a;
}

/* {"stop-ms", "last-round-ms", "state-ms", "load-ms", "start-ms"} */
static struct json_object *switchover_json(const struct mig_switchover_stat *sw)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "stop-ms", json_object_new_uint64(sw->stop_ms));
	json_object_object_add(o, "last-round-ms",
			       json_object_new_uint64(sw->last_round_ms));
	json_object_object_add(o, "state-ms", json_object_new_uint64(sw->state_ms));
	json_object_object_add(o, "load-ms", json_object_new_uint64(sw->load_ms));
	json_object_object_add(o, "start-ms", json_object_new_uint64(sw->start_ms));
	return o;
}

struct json_object *mig__stats_json(const struct mig_stats *st)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "status",
			       json_object_new_string(mig__state_name(st->state)));
	json_object_object_add(o, "bytes", json_object_new_uint64(st->bytes));
	json_object_object_add(o, "pages", json_object_new_uint64(st->pages));
	json_object_object_add(o, "zero-pages",
			       json_object_new_uint64(st->zero_pages));
	json_object_object_add(o, "rounds", json_object_new_uint64(st->rounds));
	json_object_object_add(o, "dirty-rate",
			       json_object_new_uint64(st->dirty_rate));
	json_object_object_add(o, "bandwidth",
			       json_object_new_uint64(st->bandwidth));
	json_object_object_add(o, "expected-downtime",
			       json_object_new_uint64(st->expected_downtime_ms));
	json_object_object_add(o, "downtime",
			       json_object_new_uint64(st->downtime_ms));
	json_object_object_add(o, "elapsed",
			       json_object_new_uint64(st->elapsed_ms));
	json_object_object_add(o, "throttle",
			       json_object_new_int(st->throttle_pct));
	json_object_object_add(o, "tracker",
			       json_object_new_string(tracker_name(st->tracker)));
	json_object_object_add(o, "channels", json_object_new_int(st->channels));
	json_object_object_add(o, "dropped", json_object_new_uint64(st->dropped));
	if (st->dropped_why[0])
		json_object_object_add(o, "dropped-why",
				       json_object_new_string(st->dropped_why));
	if (st->error[0])
		json_object_object_add(o, "error",
				       json_object_new_string(st->error));
	if (st->nr_round)
		json_object_object_add(o, "round-stats", rounds_json(st));
	if (st->state == MIG_S_COMPLETED && st->nr_round)	/* a source */
		json_object_object_add(o, "switchover", switchover_json(&st->sw));
	return o;
}

/* By the table's name and range (migration/params.c). */
int mig__set_param(struct mig *mig, const char *name, uint64_t v)
{
	const struct mig_param *d = mig_param_find(name);
	int ret;

	if (!d)
		return -EINVAL;
	pthread_mutex_lock(&mig->lock);
	ret = mig_param_put(&mig->p, d, v) ? -EINVAL : 0;
	/* The sender's pacing follows at once, mid-round too. */
	if (!ret && !strcmp(name, "max-bandwidth") && mig->is_source &&
	    atomic_load(&mig->busy))
		mig_chans_set_bw(mig, v);
	pthread_mutex_unlock(&mig->lock);
	return ret;
}

struct json_object *mig__params_json(struct mig *mig)
{
	struct json_object *o = json_object_new_object();
	const struct mig_param *d;
	struct mig_params p;

	if (!o)
		return NULL;
	mig_params_snapshot(mig, &p);
	for (d = mig_param_table; d->name; d++)
		json_object_object_add(o, d->name,
				       json_object_new_uint64(mig_param_get(&p, d)));
	return o;
}

void mig_params_snapshot(struct mig *mig, struct mig_params *out)
{
	pthread_mutex_lock(&mig->lock);
	*out = mig->p;
	pthread_mutex_unlock(&mig->lock);
}
