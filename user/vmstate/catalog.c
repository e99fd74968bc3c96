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

/* Constructors run in link order: keep the list sorted by name instead. */
void vmstate__catalog_add(struct vmstate_catalog_entry *e)
{
	struct vmstate_catalog_entry **p;

	pthread_mutex_lock(&catalog_lock);
	for (p = &catalog; *p && strcmp((*p)->vmsd->name, e->vmsd->name) < 0;
	     p = &(*p)->next)
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

int vmstate__catalog_dump(FILE *f)
{
	struct vmstate_catalog_entry *e;

	fputs("# Every device table of this build (tern-device-tables).\n"
	      "# Documentation/vmstate-format.rst, \"Compatibility\", says how\n"
	      "# to change one and regenerate this file.\n", f);
	pthread_mutex_lock(&catalog_lock);
	for (e = catalog; e; e = e->next)
		dump_table(f, "table", e->vmsd, 0);
	pthread_mutex_unlock(&catalog_lock);
	return ferror(f) ? -1 : 0;
}
