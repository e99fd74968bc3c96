// SPDX-License-Identifier: GPL-2.0
/*
 * Loading one table: the generic tree checked against the device's table
 * (name, version range, each field's type, shape, size and count) and
 * written into a staging copy, with defaults for fields the stream's
 * version predates; then, when a whole stream has loaded, the commit of
 * exactly the described bytes into the live object.
 */
#include <errno.h>
#include <string.h>

#include "vmstate/registry.h"

static void host_put(uint8_t *p, uint64_t v, unsigned int w)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (w) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

static uint64_t le_get(const uint8_t *p, unsigned int w)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define lfail(ctx, off, fmt, ...)					\
	vmstate__fail((ctx)->err, -EINVAL, (off) ? (off) : (ctx)->section_off, \
		      (ctx)->path, &(ctx)->where, fmt, ##__VA_ARGS__)

/* Elements [from, count) of field fd get its default. */
static void default_elems(const struct vmstate_field *fd, uint8_t *obj,
			  uint32_t from)
{
	uint8_t *dst = obj + fd->offset;
	uint32_t i;

	for (i = from; i < fd->count; i++) {
		uint8_t *e = dst + (size_t)i * fd->size;

		if (fd->type == VMS_BYTES)
			memset(e, (int)(uint8_t)fd->def, fd->size);
		else if (fd->type == VMS_STRUCT)
			vmstate__load_table(NULL, fd->vmsd, e, NULL);
		else if (fd->type == VMS_BOOL)
			*e = fd->def != 0;
		else
			host_put(e, fd->def, fd->size);
	}
}

static void default_field(const struct vmstate_field *fd, uint8_t *obj)
{
	if (fd->flags & VMS_F_VARRAY)
		host_put(obj + fd->count_offset, 0, fd->count_size);
	default_elems(fd, obj, 0);
}

static const char *shape(uint8_t flags)
{
	if (flags & VMS_F_VARRAY)
		return "a variable array";
	if (flags & VMS_F_ARRAY)
		return "an array";
	return "a scalar";
}

static int load_field(struct vmstate_load_ctx *ctx,
		      const struct vmstate_field *fd, uint8_t *obj,
		      const struct vmstate_tfield *tf)
{
	uint8_t *dst = obj + fd->offset;
	size_t off = tf->off;
	uint32_t i, w;
	int ret;

	if (tf->type != fd->type)
		return lfail(ctx, off, "type %s, expected %s",
			     vmstate__type_name(tf->type),
			     vmstate__type_name(fd->type));
	if (tf->flags != (fd->flags & __VMS_F_ALL))
		return lfail(ctx, off, "is %s, expected %s", shape(tf->flags),
			     shape((uint8_t)fd->flags));
	if (fd->type != VMS_STRUCT && tf->elem_size != fd->size)
		return lfail(ctx, off, "length %u %s %u", tf->elem_size,
			     tf->elem_size > fd->size ? "exceeds" : "is short of",
			     fd->size);
	if (fd->flags & VMS_F_VARRAY) {
		if (tf->count > fd->count)
			return lfail(ctx, off, "length %u exceeds %u",
				     tf->count, fd->count);
		host_put(obj + fd->count_offset, tf->count, fd->count_size);
	} else if (tf->count != fd->count) {
		return lfail(ctx, off, "count %u, expected %u", tf->count,
			     fd->count);
	}

	w = vmstate__type_width(fd->type);
	if (fd->type == VMS_BYTES) {
		memcpy(dst, tf->data, (size_t)tf->count * fd->size);
	} else if (fd->type == VMS_BOOL) {
		/* a C bool must hold 0 or 1, whatever a filter put there */
		for (i = 0; i < tf->count; i++)
			dst[i] = tf->data[i] != 0;
	} else if (w) {
		for (i = 0; i < tf->count; i++)
			host_put(dst + (size_t)i * w,
				 le_get(tf->data + (size_t)i * w, w), w);
	} else {
		for (i = 0; i < tf->count; i++) {
			size_t wlen = ctx->where.len;

			vmstate__where_push(&ctx->where, "[%u]", i);
			ret = vmstate__load_table(ctx, fd->vmsd,
						  dst + (size_t)i * fd->size,
						  tf->elems[i]);
			if (ret)
				return ret;
			vmstate__where_pop(&ctx->where, wlen);
		}
	}
	default_elems(fd, obj, tf->count);
	return 0;
}

static const struct vmsd *find_sub(const struct vmsd *vmsd, const char *name)
{
	const struct vmsd *const *sub;

	for (sub = vmsd->subsections; sub && *sub; sub++)
		if (!strcmp((*sub)->name, name))
			return *sub;
	return NULL;
}

static const struct vmstate_field *find_field(const struct vmsd *vmsd,
					      const char *name)
{
	const struct vmstate_field *fd;

	for (fd = vmsd->fields; fd->name; fd++)
		if (!strcmp(fd->name, name))
			return fd;
	return NULL;
}

/* Defaults everywhere (ctx NULL or t NULL), or the stream's values. */
int vmstate__load_table(struct vmstate_load_ctx *ctx, const struct vmsd *vmsd,
			void *obj, const struct vmstate_table *t)
{
	const struct vmstate_field *fd;
	const struct vmsd *const *sub;
	const struct vmstate_tfield *tf;
	const struct vmsd *sd;
	size_t wlen;
	uint32_t i;
	int ret;

	if (!t || !ctx) {
		for (fd = vmsd->fields; fd->name; fd++)
			default_field(fd, obj);
		for (sub = vmsd->subsections; sub && *sub; sub++)
			vmstate__load_table(NULL, *sub, obj, NULL);
		return 0;
	}
	wlen = ctx->where.len;
	if (strcmp(t->name, vmsd->name))
		return lfail(ctx, t->off, "table %s, expected %s", t->name,
			     vmsd->name);
	if (t->version > vmsd->version_id)
		return lfail(ctx, t->off,
			     "version %u of %s is newer than %u, the newest this build loads",
			     t->version, vmsd->name, vmsd->version_id);
	if (t->version < vmsd->minimum_version_id)
		return lfail(ctx, t->off,
			     "version %u of %s is older than %u, the oldest this build loads",
			     t->version, vmsd->name, vmsd->minimum_version_id);

	/* Every stream field must be one the table has at that version. */
	for (i = 0; i < t->nr_fields; i++) {
		tf = t->fields[i];
		fd = find_field(vmsd, tf->name);
		if (!fd)
			return lfail(ctx, tf->off, "unknown field %s in %s",
				     tf->name, vmsd->name);
		if (fd->version_id > t->version)
			return lfail(ctx, tf->off,
				     "field %s is in version %u of %s, not in %u",
				     tf->name, fd->version_id, vmsd->name,
				     t->version);
	}
	for (fd = vmsd->fields; fd->name; fd++) {
		if (fd->version_id > t->version) {
			default_field(fd, obj);
			continue;
		}
		vmstate__where_name(&ctx->where, fd->name, false);
		tf = vmstate__table_field(t, fd->name);
		if (!tf)
			return lfail(ctx, t->off,
				     "missing from version %u of %s",
				     t->version, vmsd->name);
		ret = load_field(ctx, fd, obj, tf);
		if (ret)
			return ret;
		vmstate__where_pop(&ctx->where, wlen);
	}

	for (i = 0; i < t->nr_subs; i++)
		if (!find_sub(vmsd, t->subs[i]->name))
			return lfail(ctx, t->subs[i]->off,
				     "unknown subsection %s in %s",
				     t->subs[i]->name, vmsd->name);
	for (sub = vmsd->subsections; sub && *sub; sub++) {
		sd = *sub;
		vmstate__where_name(&ctx->where, sd->name, true);
		ret = vmstate__load_table(ctx, sd, obj,
					  vmstate__table_sub(t, sd->name));
		if (ret)
			return ret;
		vmstate__where_pop(&ctx->where, wlen);
	}

	if (vmsd->post_load) {
		ret = vmsd->post_load(obj, t->version);
		if (ret)
			return vmstate__fail(ctx->err, ret < 0 ? ret : -EINVAL,
					     t->off ? t->off : ctx->section_off,
					     ctx->path, &ctx->where,
					     "%s refused the state: %s",
					     vmsd->name, strerror(ret < 0 ? -ret : ret));
	}
	return 0;
}

void vmstate__commit_table(const struct vmsd *vmsd, void *live,
			   const void *staging)
{
	const struct vmstate_field *fd;
	const struct vmsd *const *sub;
	uint8_t *l = live;
	const uint8_t *s = staging;
	uint32_t i;

	for (fd = vmsd->fields; fd->name; fd++) {
		if (fd->flags & VMS_F_VARRAY)
			memcpy(l + fd->count_offset, s + fd->count_offset,
			       fd->count_size);
		if (fd->type != VMS_STRUCT) {
			memcpy(l + fd->offset, s + fd->offset,
			       (size_t)fd->count * fd->size);
			continue;
		}
		for (i = 0; i < fd->count; i++)
			vmstate__commit_table(fd->vmsd,
					      l + fd->offset + (size_t)i * fd->size,
					      s + fd->offset + (size_t)i * fd->size);
	}
	for (sub = vmsd->subsections; sub && *sub; sub++)
		vmstate__commit_table(*sub, live, staging);
}
