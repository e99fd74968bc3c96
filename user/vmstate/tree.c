// SPDX-License-Identifier: GPL-2.0
/*
 * Building, searching and freeing the generic vmstate tree (tree.h), and
 * the facts about element types that the decoder, encoder and JSON share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate/tree.h"

static const char *const type_names[] = {
	[VMS_U8] = "u8", [VMS_U16] = "u16", [VMS_U32] = "u32",
	[VMS_U64] = "u64", [VMS_S8] = "s8", [VMS_S16] = "s16",
	[VMS_S32] = "s32", [VMS_S64] = "s64", [VMS_BOOL] = "bool",
	[VMS_BYTES] = "bytes", [VMS_STRUCT] = "struct",
};

const char *vmstate__type_name(unsigned int type)
{
	if (type >= VMS_U8 && type <= VMS_STRUCT)
		return type_names[type];
	return "?";
}

int vmstate__type_parse(const char *name)
{
	unsigned int t;

	for (t = VMS_U8; t <= VMS_STRUCT; t++)
		if (!strcmp(name, type_names[t]))
			return t;
	return -EINVAL;
}

unsigned int vmstate__type_width(unsigned int type)
{
	switch (type) {
	case VMS_U8: case VMS_S8: case VMS_BOOL:
		return 1;
	case VMS_U16: case VMS_S16:
		return 2;
	case VMS_U32: case VMS_S32:
		return 4;
	case VMS_U64: case VMS_S64:
		return 8;
	default:
		return 0;
	}
}

struct vmstate_tree *vmstate__tree_new(void)
{
	struct vmstate_tree *tree = calloc(1, sizeof(*tree));

	if (tree)
		tree->format = 1;
	return tree;
}

void vmstate__tree_free(struct vmstate_tree *tree)
{
	uint32_t i;

	if (!tree)
		return;
	for (i = 0; i < tree->nr_sections; i++) {
		free(tree->sections[i].path);
		vmstate__table_free(tree->sections[i].table);
	}
	free(tree->sections);
	free(tree);
}

/*
 * Make room in *arr (n elements of size sz) for one more: the capacity is
 * the next power of two above n, at least 4, so it grows at 0, 4, 8, ...
 */
static int grow(void *arr, uint32_t n, size_t sz)
{
	void **p = arr;
	void *q;

	if (n != 0 && (n < 4 || (n & (n - 1))))
		return 0;
	q = realloc(*p, (size_t)(n ? n * 2 : 4) * sz);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

int vmstate__tree_add_section(struct vmstate_tree *tree, const char *path,
			      struct vmstate_table *table)
{
	char *p = strdup(path);

	if (!p || grow(&tree->sections, tree->nr_sections,
		       sizeof(*tree->sections))) {
		free(p);
		return -ENOMEM;
	}
	tree->sections[tree->nr_sections].path = p;
	tree->sections[tree->nr_sections].table = table;
	tree->sections[tree->nr_sections].off = 0;
	tree->nr_sections++;
	return 0;
}

struct vmstate_table *vmstate__table_new(const char *name, uint32_t version)
{
	struct vmstate_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->name = strdup(name);
	if (!t->name) {
		free(t);
		return NULL;
	}
	t->version = version;
	return t;
}

void vmstate__tfield_free(struct vmstate_tfield *f)
{
	uint32_t i;

	if (!f)
		return;
	if (f->elems)
		for (i = 0; i < f->count; i++)
			vmstate__table_free(f->elems[i]);
	free(f->elems);
	free(f->data);
	free(f->name);
	free(f);
}

void vmstate__table_free(struct vmstate_table *t)
{
	uint32_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr_fields; i++)
		vmstate__tfield_free(t->fields[i]);
	for (i = 0; i < t->nr_subs; i++)
		vmstate__table_free(t->subs[i]);
	free(t->fields);
	free(t->subs);
	free(t->name);
	free(t);
}

struct vmstate_tfield *vmstate__table_add_field(struct vmstate_table *t,
						const char *name, uint8_t type,
						uint8_t hint, uint8_t flags,
						uint32_t count,
						uint32_t elem_size)
{
	struct vmstate_tfield *f;

	if (grow(&t->fields, t->nr_fields, sizeof(*t->fields)))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->name = strdup(name);
	f->type = type;
	f->hint = hint;
	f->flags = flags;
	f->count = count;
	f->elem_size = elem_size;
	if (type == VMS_STRUCT)
		f->elems = calloc(count ? count : 1, sizeof(*f->elems));
	else
		f->data = calloc(count && elem_size ?
				 (size_t)count * elem_size : 1, 1);
	if (!f->name || (type == VMS_STRUCT ? !f->elems : !f->data)) {
		f->count = 0;
		vmstate__tfield_free(f);
		return NULL;
	}
	t->fields[t->nr_fields++] = f;
	return f;
}

int vmstate__table_append_field(struct vmstate_table *t,
				struct vmstate_tfield *f)
{
	if (grow(&t->fields, t->nr_fields, sizeof(*t->fields)))
		return -ENOMEM;
	t->fields[t->nr_fields++] = f;
	return 0;
}

int vmstate__table_add_sub(struct vmstate_table *t, struct vmstate_table *sub)
{
	if (grow(&t->subs, t->nr_subs, sizeof(*t->subs)))
		return -ENOMEM;
	t->subs[t->nr_subs++] = sub;
	return 0;
}

struct vmstate_tfield *vmstate__table_field(const struct vmstate_table *t,
					    const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nr_fields; i++)
		if (!strcmp(t->fields[i]->name, name))
			return t->fields[i];
	return NULL;
}

struct vmstate_table *vmstate__table_sub(const struct vmstate_table *t,
					 const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nr_subs; i++)
		if (!strcmp(t->subs[i]->name, name))
			return t->subs[i];
	return NULL;
}

struct vmstate_tfield *vmstate__table_take_field(struct vmstate_table *t,
						 uint32_t i)
{
	struct vmstate_tfield *f = t->fields[i];

	memmove(&t->fields[i], &t->fields[i + 1],
		(t->nr_fields - i - 1) * sizeof(*t->fields));
	t->nr_fields--;
	return f;
}

struct vmstate_table *vmstate__table_take_sub(struct vmstate_table *t,
					      uint32_t i)
{
	struct vmstate_table *s = t->subs[i];

	memmove(&t->subs[i], &t->subs[i + 1],
		(t->nr_subs - i - 1) * sizeof(*t->subs));
	t->nr_subs--;
	return s;
}
