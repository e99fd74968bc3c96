// SPDX-License-Identifier: GPL-2.0
/*
 * Admission: would another build's devices load here?  A migration's
 * destination answers before any page moves, from the source's device
 * list alone: each device becomes a section without fields, goes through
 * this registry's renames and splits as its stream will, and must land on
 * registered instances that load its table at its version.  Its
 * subsections, empty tables, go along: those that land where they do not
 * load are reported, not refused (a device sends one only when needed).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate/registry.h"
#include "vmstate/tree.h"

#define MAX_TRIES	64

struct admit {
	struct vmstate_registry *reg;
	bool *claimed;			/* per instance: a section lands there */
	char *why;
	size_t len;
};

static int refuse(struct admit *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct admit *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, a->len, fmt, ap);
	va_end(ap);
	return err;
}

/* Does this side load subsection `sub` (as the filters left it) there? */
static bool sub_loads(const struct vmstate_inst *inst,
		      const struct vmstate_table *sub)
{
	const struct vmsd *const *sd;

	for (sd = inst->vmsd->subsections; sd && *sd; sd++)
		if (!strcmp((*sd)->name, sub->name))
			return sub->version >= (*sd)->minimum_version_id &&
			       sub->version <= (*sd)->version_id;
	return false;
}

/* Where the filters took subsection `sub`: its section's instance. */
static struct vmstate_inst *sub_home(struct admit *a,
				     const struct vmstate_tree *tree,
				     const struct vmstate_table *sub)
{
	uint32_t i, j;

	for (i = 0; i < tree->nr_sections; i++)
		for (j = 0; j < tree->sections[i].table->nr_subs; j++)
			if (tree->sections[i].table->subs[j] == sub)
				return vmstate__find_inst(a->reg,
							  tree->sections[i].path);
	return NULL;
}

/* The device's table with its subsections, as fieldless tables. */
static struct vmstate_table *dry_table(const struct vmstate_dev_desc *d,
				       const char *type,
				       struct vmstate_table **subs)
{
	struct vmstate_table *t = vmstate__table_new(type, d->version), *st;
	unsigned int k;

	for (k = 0; t && k < d->nr_subs; k++) {
		st = vmstate__table_new(d->subs[k].name, d->subs[k].version);
		if (!st || vmstate__table_add_sub(t, st)) {
			vmstate__table_free(st);
			vmstate__table_free(t);
			return NULL;
		}
		subs[k] = st;
	}
	return t;
}

/*
 * The sections one device of type `type` becomes here, checked; on 0,
 * *unloadable has the bits of its subsections that do not load here.
 */
static int try_type(struct admit *a, const struct vmstate_dev_desc *d,
		    const char *type, uint32_t *unloadable)
{
	struct vmstate_table *subs[VMSTATE_ADMIT_SUBS_MAX];
	struct vmstate_err err = { .errnum = 0 };
	uint32_t taken[MAX_TRIES], nr_taken = 0, i;
	struct vmstate_tree *tree;
	struct vmstate_inst *home;
	struct vmstate_table *t;
	int ret;

	tree = vmstate__tree_new();
	t = dry_table(d, type, subs);
	if (!tree || !t || vmstate__tree_add_section(tree, d->path, t)) {
		vmstate__table_free(t);
		vmstate__tree_free(tree);
		return -ENOMEM;
	}
	ret = vmstate__filters_run(a->reg, tree, true, &err);
	if (ret) {
		ret = refuse(a, ret, "device '%s' (%s version %u): %s", d->path,
			     type, d->version, err.msg);
		goto out;
	}
	for (i = 0; i < tree->nr_sections; i++) {
		struct vmstate_section *s = &tree->sections[i];
		struct vmstate_inst *inst = vmstate__find_inst(a->reg, s->path);
		bool moved = strcmp(s->path, d->path) || strcmp(s->table->name, type);
		const struct vmsd *v;
		uint32_t k, j;

		if (!inst) {
			ret = moved ?
			      refuse(a, -ENODEV, "device '%s' of the source (%s version %u) is '%s' here after filters, which does not exist",
				     d->path, type, d->version, s->path) :
			      refuse(a, -ENODEV, "device '%s' of the source does not exist here",
				     d->path);
			goto out;
		}
		v = inst->vmsd;
		if (strcmp(v->name, s->table->name)) {
			ret = refuse(a, -EPROTONOSUPPORT,
				     "device '%s': table %s on the source%s%s, %s here, and no filter converts it",
				     s->path, s->table->name, moved ? ", from " : "",
				     moved ? type : "", v->name);
			goto out;
		}
		if (s->table->version < v->minimum_version_id ||
		    s->table->version > v->version_id) {
			if (!moved)
				ret = refuse(a, -EPROTONOSUPPORT, "device '%s': source saves version %u, this side loads %u..%u",
					     d->path, d->version,
					     v->minimum_version_id, v->version_id);
			else
				ret = refuse(a, -EPROTONOSUPPORT, "device '%s' (%s version %u) is %s version %u after filters, this side loads %u..%u%s%s",
					     d->path, type, d->version, v->name,
					     s->table->version,
					     v->minimum_version_id, v->version_id,
					     strcmp(s->path, d->path) ? " at " : "",
					     strcmp(s->path, d->path) ? s->path : "");
			goto out;
		}
		k = (uint32_t)(inst - a->reg->inst);
		for (j = 0; j < nr_taken && taken[j] != k; j++)
			;
		if (a->claimed[k] || j < nr_taken || nr_taken == MAX_TRIES) {
			ret = refuse(a, -EBADMSG, "device '%s' of the source: '%s' here would load twice",
				     d->path, s->path);
			goto out;
		}
		taken[nr_taken++] = k;
	}
	for (i = 0; i < nr_taken; i++)
		a->claimed[taken[i]] = true;
	*unloadable = 0;
	for (i = 0; i < d->nr_subs; i++) {
		home = sub_home(a, tree, subs[i]);
		if (home && !sub_loads(home, subs[i]))
			*unloadable |= 1u << i;
	}
out:
	vmstate__tree_free(tree);
	return ret;
}

static int admit_one(struct admit *a, const struct vmstate_dev_desc *d,
		     uint32_t *unloadable)
{
	const char *cand[MAX_TRIES];
	struct vmstate_inst *inst;
	char first[VMSTATE_ERR_MAX];
	uint32_t n = 0, i;
	int ret, first_ret = 0;

	if (d->type) {
		cand[n++] = d->type;
	} else {
		/* A build that does not send types: today's table first. */
		inst = vmstate__find_inst(a->reg, d->path);
		if (inst)
			cand[n++] = inst->vmsd->name;
		for (i = 0; i < a->reg->nr_filters && n < MAX_TRIES; i++)
			if (a->reg->filters[i].kind == VMSTATE_FILTER_RENAME_TABLE ||
			    a->reg->filters[i].kind == VMSTATE_FILTER_SPLIT)
				cand[n++] = a->reg->filters[i].table;
	}
	if (!n)
		return refuse(a, -ENODEV, "device '%s' of the source does not exist here",
			      d->path);
	if (d->nr_subs > VMSTATE_ADMIT_SUBS_MAX)
		return refuse(a, -EBADMSG, "device '%s' of the source: %u subsections, at most %d",
			      d->path, d->nr_subs, VMSTATE_ADMIT_SUBS_MAX);
	for (i = 0; i < n; i++) {
		ret = try_type(a, d, cand[i], unloadable);
		if (!ret || ret == -ENOMEM)
			return ret;
		if (!first_ret) {
			first_ret = ret;
			snprintf(first, sizeof(first), "%s", a->why);
		}
	}
	snprintf(a->why, a->len, "%s", first);
	return first_ret;
}

int vmstate__admit(struct vmstate_registry *reg,
		   const struct vmstate_dev_desc *src, unsigned int nr,
		   uint32_t *unloadable, char *why, size_t len)
{
	struct admit a = { .reg = reg, .why = why, .len = len };
	uint32_t k, bits;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&reg->lock);
	a.claimed = calloc(reg->nr_inst ? reg->nr_inst : 1, sizeof(bool));
	if (!a.claimed) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; !ret && i < nr; i++) {
		ret = admit_one(&a, &src[i], &bits);
		if (unloadable)
			unloadable[i] = ret ? 0 : bits;
	}
	for (k = 0; !ret && k < reg->nr_inst; k++)
		if (!a.claimed[k])
			ret = refuse(&a, -ENODEV, "device '%s' exists here but not on the source",
				     reg->inst[k].path);
	free(a.claimed);
out:
	pthread_mutex_unlock(&reg->lock);
	if (ret == -ENOMEM)
		snprintf(why, len, "out of memory checking the source's devices");
	return ret;
}
