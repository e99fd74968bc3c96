// SPDX-License-Identifier: GPL-2.0
/*
 * Compatibility filters: edits of the decoded tree before dispatch, so an
 * old stream loads into today's devices (a kvm-apic section as apic, one
 * device's state split into a proxy and a backend, renamed, dropped or
 * added fields).  They run in registration order over every table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate/registry.h"

/* The same filter: every device of a kind registers its kind's. */
static bool same_filter(const struct vmstate_filter *a,
			const struct vmstate_filter *b)
{
	return a->kind == b->kind && a->table == b->table &&
	       a->max_version == b->max_version && a->from == b->from &&
	       a->to == b->to && a->type == b->type && a->value == b->value &&
	       a->path_suffix == b->path_suffix &&
	       a->to_version == b->to_version && a->move == b->move &&
	       a->fn == b->fn && a->arg == b->arg;
}

int vmstate__filter_register(struct vmstate_registry *reg,
			     const struct vmstate_filter *f)
{
	struct vmstate_filter *arr;
	bool names_ok;
	uint32_t i;

	switch (f->kind) {
	case VMSTATE_FILTER_RENAME_TABLE:
	case VMSTATE_FILTER_RENAME_FIELD:
		names_ok = f->table && f->to &&
			   (f->kind == VMSTATE_FILTER_RENAME_TABLE || f->from);
		break;
	case VMSTATE_FILTER_DROP_FIELD:
		names_ok = f->table && f->from;
		break;
	case VMSTATE_FILTER_DEFAULT_FIELD:
		names_ok = f->table && f->to &&
			   vmstate__type_width(f->type) != 0;
		break;
	case VMSTATE_FILTER_SPLIT:
		names_ok = f->table && f->to && f->path_suffix && f->move;
		break;
	case VMSTATE_FILTER_CUSTOM:
		names_ok = f->fn != NULL;
		break;
	default:
		names_ok = false;
	}
	if (!names_ok)
		return -EINVAL;
	pthread_mutex_lock(&reg->lock);
	for (i = 0; i < reg->nr_filters; i++)
		if (same_filter(&reg->filters[i], f))
			break;
	arr = reg->filters;
	if (i == reg->nr_filters) {
		arr = realloc(reg->filters, (reg->nr_filters + 1) * sizeof(*arr));
		if (arr) {
			reg->filters = arr;
			arr[reg->nr_filters++] = *f;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	return arr ? 0 : -ENOMEM;
}

static bool applies(const struct vmstate_filter *f,
		    const struct vmstate_table *t)
{
	return !strcmp(t->name, f->table) &&
	       (!f->max_version || t->version <= f->max_version);
}

static int filter_fail(struct vmstate_err *err, const struct vmstate_table *t,
		       const char *why, const char *name)
{
	return vmstate__fail(err, -EINVAL, t->off, NULL, NULL,
			     "filter on table %s: %s %s", t->name, why, name);
}

/* Field-level filters on one table. */
static int filter_table(const struct vmstate_filter *f,
			struct vmstate_table *t, struct vmstate_err *err)
{
	struct vmstate_tfield *tf;
	unsigned int w, i;
	char *name;

	switch (f->kind) {
	case VMSTATE_FILTER_RENAME_TABLE:
		name = strdup(f->to);
		if (!name)
			return -ENOMEM;
		free(t->name);
		t->name = name;
		return 0;
	case VMSTATE_FILTER_RENAME_FIELD:
		tf = vmstate__table_field(t, f->from);
		if (!tf)
			return 0;
		if (vmstate__table_field(t, f->to))
			return filter_fail(err, t, "field exists:", f->to);
		name = strdup(f->to);
		if (!name)
			return -ENOMEM;
		free(tf->name);
		tf->name = name;
		return 0;
	case VMSTATE_FILTER_DROP_FIELD:
		for (i = 0; i < t->nr_fields; i++)
			if (!strcmp(t->fields[i]->name, f->from)) {
				vmstate__tfield_free(vmstate__table_take_field(t, i));
				break;
			}
		return 0;
	case VMSTATE_FILTER_DEFAULT_FIELD:
		if (vmstate__table_field(t, f->to))
			return 0;
		w = vmstate__type_width(f->type);
		tf = vmstate__table_add_field(t, f->to, (uint8_t)f->type, 0, 0,
					      1, w);
		if (!tf)
			return -ENOMEM;
		for (i = 0; i < w; i++)
			tf->data[i] = (uint8_t)(f->value >> (8 * i));
		if (f->type == VMS_BOOL)
			tf->data[0] = f->value != 0;
		return 0;
	default:
		return 0;
	}
}

/* Apply a field/table filter to t and to every table below it. */
static int walk(const struct vmstate_filter *f, struct vmstate_table *t,
		struct vmstate_err *err)
{
	uint32_t i, j;
	int ret;

	for (i = 0; i < t->nr_fields; i++)
		for (j = 0; t->fields[i]->elems && j < t->fields[i]->count; j++) {
			ret = walk(f, t->fields[i]->elems[j], err);
			if (ret)
				return ret;
		}
	for (i = 0; i < t->nr_subs; i++) {
		ret = walk(f, t->subs[i], err);
		if (ret)
			return ret;
	}
	return applies(f, t) ? filter_table(f, t, err) : 0;
}

/* Replace every path component equal to from by to. */
static int rename_path(char **path, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = strlen(to), n = 0;
	const char *p, *c;
	char *out, *o;

	for (p = *path; (c = strstr(p, from)); p = c + flen)
		n++;
	out = malloc(strlen(*path) + n * tlen + 1);
	if (!out)
		return -ENOMEM;
	o = out;
	for (p = *path; *p;) {
		bool start = p == *path || p[-1] == '/';

		if (start && !strncmp(p, from, flen) &&
		    (p[flen] == '/' || !p[flen])) {
			memcpy(o, to, tlen);
			o += tlen;
			p += flen;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	if (strlen(out) > 255) {
		free(out);
		return -ENAMETOOLONG;
	}
	free(*path);
	*path = out;
	return 0;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

/* One section into two: the named fields and subsections move out. */
static int split(const struct vmstate_filter *f, struct vmstate_tree *tree,
		 uint32_t si, struct vmstate_err *err)
{
	struct vmstate_table *t = tree->sections[si].table, *nt;
	size_t plen = strlen(tree->sections[si].path);
	uint32_t i;
	char *path;
	int ret;

	if (plen + strlen(f->path_suffix) > 255)
		return filter_fail(err, t, "path too long with",
				   f->path_suffix);
	path = malloc(plen + strlen(f->path_suffix) + 1);
	nt = vmstate__table_new(f->to, f->to_version);
	if (!path || !nt) {
		free(path);
		vmstate__table_free(nt);
		return -ENOMEM;
	}
	strcpy(path, tree->sections[si].path);
	strcat(path, f->path_suffix);
	nt->off = t->off;
	ret = 0;
	for (i = 0; !ret && i < t->nr_fields;) {
		if (!in_list(f->move, t->fields[i]->name)) {
			i++;
			continue;
		}
		ret = vmstate__table_append_field(nt, t->fields[i]);
		if (!ret)
			vmstate__table_take_field(t, i);
	}
	for (i = 0; !ret && i < t->nr_subs;) {
		if (!in_list(f->move, t->subs[i]->name)) {
			i++;
			continue;
		}
		ret = vmstate__table_add_sub(nt, t->subs[i]);
		if (!ret)
			vmstate__table_take_sub(t, i);
	}
	if (!ret)
		ret = vmstate__tree_add_section(tree, path, nt);
	if (ret) {
		vmstate__table_free(nt);
	} else {
		tree->sections[tree->nr_sections - 1].off =
			tree->sections[si].off;
	}
	free(path);
	return ret;
}

static int run_one(const struct vmstate_filter *f, struct vmstate_tree *tree,
		   struct vmstate_err *err)
{
	uint32_t i, nr = tree->nr_sections;
	int ret = 0;

	if (f->kind == VMSTATE_FILTER_CUSTOM)
		return f->fn(tree, f->arg, err);
	for (i = 0; !ret && i < nr; i++) {
		struct vmstate_section *s = &tree->sections[i];

		if (f->kind == VMSTATE_FILTER_SPLIT) {
			if (applies(f, s->table))
				ret = split(f, tree, i, err);
			continue;
		}
		if (f->kind == VMSTATE_FILTER_RENAME_TABLE &&
		    applies(f, s->table))
			ret = rename_path(&s->path, f->table, f->to);
		if (!ret)
			ret = walk(f, s->table, err);
	}
	return ret;
}

int vmstate__filters_run(struct vmstate_registry *reg,
			 struct vmstate_tree *tree, bool names_only,
			 struct vmstate_err *err)
{
	uint32_t i;
	int ret;

	for (i = 0; i < reg->nr_filters; i++) {
		if (names_only && reg->filters[i].kind == VMSTATE_FILTER_CUSTOM)
			continue;
		ret = run_one(&reg->filters[i], tree, err);
		if (ret)
			return ret;
	}
	return 0;
}
