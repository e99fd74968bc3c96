// SPDX-License-Identifier: GPL-2.0
/*
 * Admission: would another build's devices load here?  A migration's
 * destination answers before any page moves, from the source's device
 * list alone: each device becomes a section without fields, goes through
 * this registry's renames and splits as its stream will, and must land on
 * registered instances that load its table at its version.
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

/* The sections one device of type `type` becomes here, checked. */
static int try_type(struct admit *a, const struct vmstate_dev_desc *d,
		    const char *type)
{
	struct vmstate_err err = { .errnum = 0 };
	uint32_t taken[MAX_TRIES], nr_taken = 0, i;
	struct vmstate_tree *tree;
	struct vmstate_table *t;
	int ret;

	tree = vmstate__tree_new();
	t = vmstate__table_new(type, d->version);
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
out:
	vmstate__tree_free(tree);
	return ret;
}

static int admit_one(struct admit *a, const struct vmstate_dev_desc *d)
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
	for (i = 0; i < n; i++) {
		ret = try_type(a, d, cand[i]);
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
		   char *why, size_t len)
{
	struct admit a = { .reg = reg, .why = why, .len = len };
	uint32_t k;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&reg->lock);
	a.claimed = calloc(reg->nr_inst ? reg->nr_inst : 1, sizeof(bool));
	if (!a.claimed) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; !ret && i < nr; i++)
		ret = admit_one(&a, &src[i]);
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
