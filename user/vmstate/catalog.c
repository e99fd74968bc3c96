// SPDX-License-Identifier: GPL-2.0
/*
 * The catalogue of device tables: every table a machine may register,
 * declared by its device with VMSTATE_DEVICE_TABLE(), so a build can print
 * them all without making a VM (tern-device-tables) and make
 * check can compare them with Documentation/vmstate-devices.txt.  The
 * printed form is every fact of a table the stream depends on: names,
 * versions, field types, sizes, counts, defaults and subsections (never
 * C offsets, which may change freely).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vmstate/tree.h"

static struct vmstate_catalog_entry *catalog;
static pthread_mutex_t catalog_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *entry_name(const struct vmstate_catalog_entry *e)
{
	return e->vmsd ? e->vmsd->name : e->filter->table;
}

/*
 * Constructors run in link order: keep the list sorted instead, tables
 * first, by name, then filters by the table they apply to.
 */
static bool before(const struct vmstate_catalog_entry *a,
		   const struct vmstate_catalog_entry *b)
{
	if (!a->vmsd != !b->vmsd)
		return a->vmsd != NULL;
	return strcmp(entry_name(a), entry_name(b)) < 0;
}

void vmstate__catalog_add(struct vmstate_catalog_entry *e)
{
	struct vmstate_catalog_entry **p;

	pthread_mutex_lock(&catalog_lock);
	for (p = &catalog; *p && before(*p, e); p = &(*p)->next)
		;
	e->next = *p;
	*p = e;
	pthread_mutex_unlock(&catalog_lock);
}

bool vmstate__catalog_has(const struct vmsd *vmsd)
{
	struct vmstate_catalog_entry *e;
	bool found = false;

	pthread_mutex_lock(&catalog_lock);
	for (e = catalog; e && !found; e = e->next)
		found = e->vmsd == vmsd;
	pthread_mutex_unlock(&catalog_lock);
	return found;
}

static void indent(FILE *f, unsigned int depth)
{
	while (depth--)
		fputc('\t', f);
}

static void dump_table(FILE *f, const char *kind, const struct vmsd *vmsd,
		       unsigned int depth);

static void dump_field(FILE *f, const struct vmstate_field *fd,
		       unsigned int depth)
{
	indent(f, depth);
	fprintf(f, "field %s %s", fd->name, vmstate__type_name(fd->type));
	/* A nested struct's C size is layout, not wire: its table says all. */
	if (fd->type != VMS_STRUCT)
		fprintf(f, " size %u", fd->size);
	fprintf(f, " count %u%s since %u", fd->count,
		fd->flags & VMS_F_VARRAY ? " varray" :
		fd->flags & VMS_F_ARRAY ? " array" : "", fd->version_id);
	if (fd->def)
		fprintf(f, " default 0x%llx", (unsigned long long)fd->def);
	fputc('\n', f);
	if (fd->vmsd)
		dump_table(f, "struct", fd->vmsd, depth + 1);
}

static void dump_table(FILE *f, const char *kind, const struct vmsd *vmsd,
		       unsigned int depth)
{
	const struct vmstate_field *fd;
	const struct vmsd *const *sub;

	indent(f, depth);
	fprintf(f, "%s %s version %u min %u%s\n", kind, vmsd->name,
		vmsd->version_id, vmsd->minimum_version_id,
		vmsd->needed ? " needed" : "");
	for (fd = vmsd->fields; fd->name; fd++)
		dump_field(f, fd, depth + 1);
	for (sub = vmsd->subsections; sub && *sub; sub++)
		dump_table(f, "subsection", *sub, depth + 1);
	indent(f, depth);
	fputs("end\n", f);
}

/* One line per filter; the release check reads rename-table's. */
static void dump_filter(FILE *f, const struct vmstate_filter *flt)
{
	const char *const *m;

	switch (flt->kind) {
	case VMSTATE_FILTER_RENAME_TABLE:
		fprintf(f, "filter rename-table %s -> %s max-version %u\n",
			flt->table, flt->to, flt->max_version);
		return;
	case VMSTATE_FILTER_SPLIT:
		fprintf(f, "filter split %s -> %s version %u at +%s max-version %u moves",
			flt->table, flt->to, flt->to_version, flt->path_suffix,
			flt->max_version);
		for (m = flt->move; *m; m++)
			fprintf(f, " %s", *m);
		fputc('\n', f);
		return;
	case VMSTATE_FILTER_CUSTOM:
		fprintf(f, "filter custom %s\n", flt->table ? flt->table : "-");
		return;
	default:
		fprintf(f, "filter kind-%u %s max-version %u\n", flt->kind,
			flt->table ? flt->table : "-", flt->max_version);
	}
}

int vmstate__catalog_dump(FILE *f)
{
	struct vmstate_catalog_entry *e;

	fputs("# Every device table of this build (tern-device-tables).\n"
	      "# Documentation/vmstate-format.rst, \"Compatibility\", says how\n"
	      "# to change one and regenerate this file.\n", f);
	pthread_mutex_lock(&catalog_lock);
	for (e = catalog; e; e = e->next)
		if (e->vmsd)
			dump_table(f, "table", e->vmsd, 0);
		else
			dump_filter(f, e->filter);
	pthread_mutex_unlock(&catalog_lock);
	return ferror(f) ? -1 : 0;
}
