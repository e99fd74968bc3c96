// SPDX-License-Identifier: GPL-2.0
/*
 * Saving: a device's table walked over its live struct into the generic
 * tree, integers in stream (little-endian) order.  State that breaks the
 * table (a variable array longer than its capacity, a pre_save refusal)
 * fails the save with a message and never aborts.
 */
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "vmstate/registry.h"

#define MAX_TABLE_DEPTH	16

static uint64_t host_get(const uint8_t *p, unsigned int w)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (w) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

static void le_put(uint8_t *p, uint64_t v, unsigned int w)
{
	unsigned int i;

	for (i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The number of elements a field has now (a variable array's length). */
static uint64_t field_len(const struct vmstate_field *f, const uint8_t *obj)
{
	if (f->flags & VMS_F_VARRAY)
		return host_get(obj + f->count_offset, f->count_size);
	return f->count;
}

int vmstate__check_vmsd(const struct vmsd *vmsd, const char *path,
			unsigned int depth)
{
	const struct vmstate_field *f;
	const struct vmsd *const *sub;
	unsigned int w;

	if (depth > MAX_TABLE_DEPTH || !vmsd->name || !vmsd->fields ||
	    !vmsd->size ||
	    vmsd->minimum_version_id > vmsd->version_id ||
	    strlen(vmsd->name) > 255)
		goto bad;
	for (f = vmsd->fields; f->name; f++) {
		w = vmstate__type_width(f->type);
		if (f->version_id > vmsd->version_id ||
		    f->type < VMS_U8 || f->type > VMS_STRUCT ||
		    (w && f->size != w) || !f->size || !f->count ||
		    f->flags & ~__VMS_F_ALL || f->flags == __VMS_F_ALL ||
		    (!f->flags && f->count != 1) ||
		    (uint64_t)f->offset + (uint64_t)f->size * f->count > vmsd->size ||
		    (f->type == VMS_STRUCT) != !!f->vmsd ||
		    strlen(f->name) > 255 || f->hint > VMS_HINT_STRING)
			goto bad_field;
		if (f->flags & VMS_F_VARRAY &&
		    ((f->count_size != 1 && f->count_size != 2 &&
		      f->count_size != 4 && f->count_size != 8) ||
		     f->count_offset + f->count_size > vmsd->size))
			goto bad_field;
		if (f->vmsd && (f->vmsd->size != f->size ||
				vmstate__check_vmsd(f->vmsd, path, depth + 1)))
			goto bad_field;
	}
	for (sub = vmsd->subsections; sub && *sub; sub++)
		if ((*sub)->size != vmsd->size ||
		    vmstate__check_vmsd(*sub, path, depth + 1))
			goto bad;
	return 0;
bad_field:
	pr_err("vmstate: %s: table %s field %s is malformed", path,
	       vmsd->name, f->name);
	return -EINVAL;
bad:
	pr_err("vmstate: %s: table %s is malformed", path,
	       vmsd->name ? vmsd->name : "(null)");
	return -EINVAL;
}

static int save_field(const struct vmstate_field *fd, uint8_t *obj,
		      const char *path, struct vmstate_where *where,
		      struct vmstate_table *t)
{
	uint64_t n = field_len(fd, obj);
	struct vmstate_tfield *tf;
	uint8_t *src = obj + fd->offset;
	unsigned int w = vmstate__type_width(fd->type);
	uint32_t i;
	int ret;

	if (n > fd->count) {
		pr_err("vmstate: section %s field %s: length %llu exceeds %u",
		       path, where->buf, (unsigned long long)n, fd->count);
		return -EINVAL;
	}
	tf = vmstate__table_add_field(t, fd->name, fd->type, fd->hint,
				      fd->flags, (uint32_t)n,
				      fd->type == VMS_STRUCT ? 0 : fd->size);
	if (!tf)
		return -ENOMEM;
	if (fd->type == VMS_BYTES) {
		memcpy(tf->data, src, (size_t)n * fd->size);
		return 0;
	}
	if (fd->type == VMS_BOOL) {
		for (i = 0; i < n; i++)
			tf->data[i] = src[i] != 0;
		return 0;
	}
	if (w) {
		for (i = 0; i < n; i++)
			le_put(tf->data + (size_t)i * w,
			       host_get(src + (size_t)i * w, w), w);
		return 0;
	}
	for (i = 0; i < n; i++) {
		size_t wlen = where->len;

		vmstate__where_push(where, "[%u]", i);
		ret = vmstate__save_table(fd->vmsd, src + (size_t)i * fd->size,
					  path, where, &tf->elems[i]);
		if (ret)
			return ret;
		vmstate__where_pop(where, wlen);
	}
	return 0;
}

int vmstate__save_table(const struct vmsd *vmsd, void *opaque,
			const char *path, struct vmstate_where *where,
			struct vmstate_table **out)
{
	const struct vmstate_field *fd;
	const struct vmsd *const *sub;
	struct vmstate_table *t, *st;
	size_t wlen = where->len;
	int ret;

	if (vmsd->pre_save) {
		ret = vmsd->pre_save(opaque);
		if (ret) {
			pr_err("vmstate: section %s%s%s: %s refused to save: %s",
			       path, where->len ? " field " : "", where->buf,
			       vmsd->name, strerror(-ret));
			return ret < 0 ? ret : -EINVAL;
		}
	}
	t = vmstate__table_new(vmsd->name, vmsd->version_id);
	if (!t)
		return -ENOMEM;
	for (fd = vmsd->fields; fd->name; fd++) {
		vmstate__where_name(where, fd->name, false);
		ret = save_field(fd, opaque, path, where, t);
		if (ret)
			goto out_free;
		vmstate__where_pop(where, wlen);
	}
	for (sub = vmsd->subsections; sub && *sub; sub++) {
		if ((*sub)->needed && !(*sub)->needed(opaque))
			continue;
		vmstate__where_name(where, (*sub)->name, true);
		ret = vmstate__save_table(*sub, opaque, path, where, &st);
		if (ret)
			goto out_free;
		ret = vmstate__table_add_sub(t, st);
		if (ret) {
			vmstate__table_free(st);
			goto out_free;
		}
		vmstate__where_pop(where, wlen);
	}
	*out = t;
	return 0;
out_free:
	vmstate__where_pop(where, wlen);
	vmstate__table_free(t);
	return ret;
}
