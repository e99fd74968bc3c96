// SPDX-License-Identifier: GPL-2.0
/*
 * The validating decoder: a hostile byte stream into the generic tree.
 * Every length is checked against its frame before use, every count
 * against the bytes present before anything is allocated for it, and
 * depth, size and node counts against limits.  Errors name the byte
 * offset, the section path and the field path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate/decode.h"
#include "vmstate/magic.h"

/* Hard ceilings above any caller's limits (recursion depth, item scans). */
#define DEPTH_CEILING		64
#define MAX_TABLE_ITEMS		4096
#define MIN_ELEMENT_BYTES	11	/* 'E', length, 1-byte name, version */
#define MAX_BYTES_ELEM		(1u << 24)

struct dec {
	const uint8_t *p;
	size_t len;
	struct vmstate_limits lim;
	unsigned int flags;
	uint32_t nodes;
	struct vmstate_err *err;
	const char *section;
	struct vmstate_where where;
};

void vmstate__limits_resolve(const struct vmstate_limits *in,
			     struct vmstate_limits *out)
{
	static const struct vmstate_limits def = {
		.max_stream = 256u << 20,
		.max_depth = 16,
		.max_sections = 4096,
		.max_count = 1u << 20,
		.max_nodes = 1u << 20,
	};

	*out = def;
	if (!in)
		return;
	if (in->max_stream)
		out->max_stream = in->max_stream;
	if (in->max_depth)
		out->max_depth = in->max_depth < DEPTH_CEILING ?
				 in->max_depth : DEPTH_CEILING;
	if (in->max_sections)
		out->max_sections = in->max_sections;
	if (in->max_count)
		out->max_count = in->max_count;
	if (in->max_nodes)
		out->max_nodes = in->max_nodes;
}

void vmstate__where_push(struct vmstate_where *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->len >= sizeof(w->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, sizeof(w->buf) - w->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t)n;
	if (w->len >= sizeof(w->buf))
		w->len = sizeof(w->buf) - 1;
}

void vmstate__where_pop(struct vmstate_where *w, size_t len)
{
	w->len = len;
	w->buf[len] = '\0';
}

/* Adds a field/subsection component: "a", "a.b", "a[2].b", "(sub).c". */
void vmstate__where_name(struct vmstate_where *w, const char *name, bool sub)
{
	const char *sep = w->len ? "." : "";

	vmstate__where_push(w, sub ? "%s(%s)" : "%s%s", sep, name);
}

int vmstate__fail(struct vmstate_err *err, int errnum, size_t off,
		  const char *section, const struct vmstate_where *where,
		  const char *fmt, ...)
{
	char why[VMSTATE_ERR_MAX];
	va_list ap;

	if (!err)
		return errnum;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	err->errnum = errnum;
	err->offset = off;
	if (section && where && where->len)
		snprintf(err->msg, sizeof(err->msg),
			 "offset %zu: section %s field %s: %s",
			 off, section, where->buf, why);
	else if (section)
		snprintf(err->msg, sizeof(err->msg),
			 "offset %zu: section %s: %s", off, section, why);
	else
		snprintf(err->msg, sizeof(err->msg), "offset %zu: %s",
			 off, why);
	return errnum;
}

#define fail(d, off, fmt, ...)						\
	vmstate__fail((d)->err, -EBADMSG, (off), (d)->section,		\
		      &(d)->where, fmt, ##__VA_ARGS__)

uint16_t vmstate__get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t vmstate__get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t vmstate__get64(const uint8_t *p)
{
	return vmstate__get32(p) | (uint64_t)vmstate__get32(p + 4) << 32;
}

/* Need n bytes at *pos before end, else an error naming what was read. */
static int need(struct dec *d, size_t pos, size_t end, size_t n,
		const char *what)
{
	if (end - pos < n)
		return fail(d, pos, "truncated %s: needs %zu bytes, %zu left",
			    what, n, end - pos);
	return 0;
}

static int get_u8(struct dec *d, size_t *pos, size_t end, const char *what,
		  uint8_t *v)
{
	int ret = need(d, *pos, end, 1, what);

	if (ret)
		return ret;
	*v = d->p[(*pos)++];
	return 0;
}

static int get_u32(struct dec *d, size_t *pos, size_t end, const char *what,
		   uint32_t *v)
{
	int ret = need(d, *pos, end, 4, what);

	if (ret)
		return ret;
	*v = vmstate__get32(d->p + *pos);
	*pos += 4;
	return 0;
}

/* A string: u8 length 1..255, printable ASCII without space. */
static int get_name(struct dec *d, size_t *pos, size_t end, const char *what,
		    char **out)
{
	size_t start = *pos, i;
	uint8_t n;
	int ret;

	ret = get_u8(d, pos, end, what, &n);
	if (ret)
		return ret;
	if (!n)
		return fail(d, start, "empty %s", what);
	ret = need(d, *pos, end, n, what);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		uint8_t c = d->p[*pos + i];

		if (c < 0x21 || c > 0x7e)
			return fail(d, *pos + i,
				    "%s has byte 0x%02x (not printable)",
				    what, c);
	}
	*out = strndup((const char *)d->p + *pos, n);
	if (!*out)
		return -ENOMEM;
	*pos += n;
	return 0;
}

/* A frame header: tag already read; u32 length within [*pos, end). */
static int get_frame(struct dec *d, size_t *pos, size_t end, const char *what,
		     size_t *frame_end)
{
	size_t start = *pos;
	uint32_t len;
	int ret;

	ret = get_u32(d, pos, end, what, &len);
	if (ret)
		return ret;
	if (len > end - *pos)
		return fail(d, start, "%s length %u exceeds the %zu bytes left",
			    what, len, end - *pos);
	*frame_end = *pos + len;
	return 0;
}

static int count_node(struct dec *d, size_t off)
{
	if (++d->nodes > d->lim.max_nodes)
		return fail(d, off, "more than %u fields and tables",
			    d->lim.max_nodes);
	return 0;
}

static int decode_table(struct dec *d, size_t pos, size_t end, size_t off,
			uint32_t depth, bool sub, struct vmstate_table **out);

/* Fill f (header checked, storage allocated) from [pos, end). */
static int decode_payload(struct dec *d, struct vmstate_tfield *f,
			  size_t pos, size_t end, uint32_t depth)
{
	size_t wlen, i, ep, eend;
	uint8_t tag;
	int ret;

	if (f->type != VMS_STRUCT) {
		memcpy(f->data, d->p + pos, end - pos);
		if (f->type == VMS_BOOL)
			for (i = 0; i < f->count; i++)
				if (f->data[i] > 1)
					return fail(d, pos + i,
						    "bool [%zu] is %u", i,
						    f->data[i]);
		return 0;
	}

	for (i = 0; i < f->count; i++) {
		ep = pos;
		wlen = d->where.len;
		vmstate__where_push(&d->where, "[%zu]", i);
		ret = get_u8(d, &pos, end, "element tag", &tag);
		if (!ret && tag != VMS_ITEM_ELEMENT)
			ret = fail(d, ep, "element tag 0x%02x, expected 0x%02x",
				   tag, VMS_ITEM_ELEMENT);
		if (!ret)
			ret = get_frame(d, &pos, end, "element", &eend);
		if (!ret)
			ret = decode_table(d, pos, eend, ep, depth + 1, false,
					   &f->elems[i]);
		if (!ret && i && strcmp(f->elems[i]->name, f->elems[0]->name))
			ret = fail(d, ep, "element table %s, elements before are %s",
				   f->elems[i]->name, f->elems[0]->name);
		if (ret)
			return ret;
		vmstate__where_pop(&d->where, wlen);
		pos = eend;
	}
	if (pos != end)
		return fail(d, pos, "%zu bytes after the last element",
			    end - pos);
	return 0;
}

/* The header of a field item, then its payload; off is the item's tag. */
static int decode_field(struct dec *d, struct vmstate_table *t, size_t off,
			size_t pos, size_t end, uint32_t depth)
{
	uint8_t type, hint, flags;
	uint32_t count, esize, width;
	struct vmstate_tfield *f;
	size_t hdr, wlen = d->where.len;
	char *name;
	int ret;

	ret = get_name(d, &pos, end, "field name", &name);
	if (ret)
		return ret;
	vmstate__where_name(&d->where, name, false);
	hdr = pos;
	if (vmstate__table_field(t, name)) {
		ret = fail(d, off, "duplicate field");
		goto out_name;
	}
	ret = get_u8(d, &pos, end, "field type", &type);
	if (!ret)
		ret = get_u8(d, &pos, end, "field hint", &hint);
	if (!ret)
		ret = get_u8(d, &pos, end, "field flags", &flags);
	if (!ret)
		ret = get_u32(d, &pos, end, "field count", &count);
	if (!ret)
		ret = get_u32(d, &pos, end, "field element size", &esize);
	if (ret)
		goto out_name;

	ret = -EBADMSG;
	width = vmstate__type_width(type);
	if (type < VMS_U8 || type > VMS_STRUCT)
		fail(d, hdr, "unknown type %u", type);
	else if (hint > VMS_HINT_STRING)
		fail(d, hdr + 1, "unknown hint %u", hint);
	else if (flags & ~__VMS_F_ALL || flags == __VMS_F_ALL)
		fail(d, hdr + 2, "bad flags 0x%02x", flags);
	else if (!flags && count != 1)
		fail(d, hdr + 3, "scalar with count %u", count);
	else if (count > d->lim.max_count)
		fail(d, hdr + 3, "count %u exceeds the limit %u", count,
		     d->lim.max_count);
	else if (width && esize != width)
		fail(d, hdr + 7, "element size %u, %s is %u", esize,
		     vmstate__type_name(type), width);
	else if (type == VMS_BYTES && (!esize || esize > MAX_BYTES_ELEM))
		fail(d, hdr + 7, "bytes element size %u out of 1..%u", esize,
		     MAX_BYTES_ELEM);
	else if (type == VMS_STRUCT && esize)
		fail(d, hdr + 7, "struct element size %u, must be 0", esize);
	else if (type != VMS_STRUCT &&
		 (uint64_t)count * esize != end - pos)
		fail(d, pos, "payload of %u x %u bytes, frame has %zu",
		     count, esize, end - pos);
	else if (type == VMS_STRUCT &&
		 (uint64_t)count * MIN_ELEMENT_BYTES > end - pos)
		fail(d, pos, "%u elements cannot fit in %zu bytes", count,
		     end - pos);
	else
		ret = 0;
	if (ret)
		goto out_name;

	/* Every size below is now bounded by bytes present in the frame. */
	f = vmstate__table_add_field(t, name, type, hint, flags, count, esize);
	if (!f) {
		ret = -ENOMEM;
		goto out_name;
	}
	f->off = off;
	ret = count_node(d, off);
	if (!ret)
		ret = decode_payload(d, f, pos, end, depth);
	if (!ret)
		vmstate__where_pop(&d->where, wlen);
out_name:
	free(name);
	return ret;
}

/* A table body in [pos, end): name, version, fields, subsections. */
static int decode_table(struct dec *d, size_t pos, size_t end, size_t off,
			uint32_t depth, bool sub, struct vmstate_table **out)
{
	struct vmstate_table *t, *s;
	size_t item, iend, wlen = d->where.len;
	bool seen_sub = false;
	uint32_t version;
	uint8_t tag;
	char *name;
	int ret;

	if (depth > d->lim.max_depth)
		return fail(d, off, "nesting deeper than %u", d->lim.max_depth);
	ret = get_name(d, &pos, end, "table name", &name);
	if (ret)
		return ret;
	if (sub)
		vmstate__where_name(&d->where, name, true);
	ret = get_u32(d, &pos, end, "table version", &version);
	if (ret) {
		free(name);
		return ret;
	}
	t = vmstate__table_new(name, version);
	free(name);
	if (!t)
		return -ENOMEM;
	t->off = off;
	ret = count_node(d, off);

	while (!ret && pos < end) {
		item = pos;
		ret = get_u8(d, &pos, end, "item tag", &tag);
		if (!ret)
			ret = get_frame(d, &pos, end, "item", &iend);
		if (ret)
			break;
		if (t->nr_fields + t->nr_subs >= MAX_TABLE_ITEMS) {
			ret = fail(d, item, "more than %u items in table %s",
				   MAX_TABLE_ITEMS, t->name);
		} else if (tag == VMS_ITEM_FIELD) {
			if (seen_sub)
				ret = fail(d, item, "field after a subsection");
			else
				ret = decode_field(d, t, item, pos, iend, depth);
		} else if (tag == VMS_ITEM_SUBSECTION) {
			seen_sub = true;
			ret = decode_table(d, pos, iend, item, depth + 1, true,
					   &s);
			if (!ret && vmstate__table_sub(t, s->name)) {
				ret = fail(d, item, "duplicate subsection %s",
					   s->name);
				vmstate__table_free(s);
			} else if (!ret && vmstate__table_add_sub(t, s)) {
				vmstate__table_free(s);
				ret = -ENOMEM;
			}
		} else {
			ret = fail(d, item, "unknown item tag 0x%02x", tag);
		}
		pos = iend;
	}
	if (ret) {
		vmstate__table_free(t);
		return ret;
	}
	vmstate__where_pop(&d->where, wlen);
	*out = t;
	return 0;
}

static int check_crc(struct dec *d, size_t rec, size_t crc_at)
{
	uint32_t want = vmstate__get32(d->p + crc_at);
	uint32_t got;

	if (d->flags & VMSTATE_LOAD_NO_CRC)
		return 0;
	got = vmstate__crc32c(0, d->p + rec, crc_at - rec);
	if (got != want)
		return fail(d, crc_at, "crc32c 0x%08x, computed 0x%08x",
			    want, got);
	return 0;
}

static int decode_section(struct dec *d, struct vmstate_tree *tree,
			  size_t rec, size_t pos, size_t end)
{
	struct vmstate_table *t;
	uint32_t i;
	char *path;
	int ret;

	if (tree->nr_sections >= d->lim.max_sections)
		return fail(d, rec, "more than %u sections",
			    d->lim.max_sections);
	ret = get_name(d, &pos, end, "section path", &path);
	if (ret)
		return ret;
	for (i = 0; i < tree->nr_sections; i++)
		if (!strcmp(tree->sections[i].path, path)) {
			ret = fail(d, rec, "second section for %s", path);
			goto out_path;
		}
	d->section = path;
	ret = decode_table(d, pos, end, rec, 0, false, &t);
	d->section = NULL;
	if (ret)
		goto out_path;
	ret = vmstate__tree_add_section(tree, path, t);
	if (ret) {
		vmstate__table_free(t);
		goto out_path;
	}
	tree->sections[tree->nr_sections - 1].off = rec;
out_path:
	free(path);
	return ret;
}

static int decode_records(struct dec *d, struct vmstate_tree *tree)
{
	size_t pos = 8, rec, body;
	uint32_t type, len, nr;
	int ret;

	for (;;) {
		rec = pos;
		ret = need(d, pos, d->len, 8, "record header");
		if (ret)
			return ret;
		type = vmstate__get32(d->p + pos);
		len = vmstate__get32(d->p + pos + 4);
		body = pos + 8;
		if (type != VMS_REC_SECTION && type != VMS_REC_END)
			return fail(d, rec, "unknown record type 0x%08x", type);
		if ((uint64_t)len + 4 > d->len - body)
			return fail(d, rec + 4,
				    "record length %u (+4 crc) exceeds the %zu bytes left",
				    len, d->len - body);
		ret = check_crc(d, rec, body + len);
		if (ret)
			return ret;
		pos = body + len + 4;
		if (type == VMS_REC_SECTION) {
			ret = decode_section(d, tree, rec, body, body + len);
			if (ret)
				return ret;
			continue;
		}
		if (len != 4)
			return fail(d, rec + 4, "end record length %u, must be 4",
				    len);
		nr = vmstate__get32(d->p + body);
		if (nr != tree->nr_sections)
			return fail(d, body, "end record counts %u sections, stream has %u",
				    nr, tree->nr_sections);
		if (pos != d->len)
			return fail(d, pos, "%zu bytes after the end record",
				    d->len - pos);
		return 0;
	}
}

int vmstate__decode(const void *data, size_t len,
		    const struct vmstate_limits *limits, unsigned int flags,
		    struct vmstate_tree **out, struct vmstate_err *err)
{
	struct dec d = { .p = data, .len = len, .flags = flags, .err = err };
	struct vmstate_tree *tree;
	uint32_t magic;
	uint16_t version, hflags;
	int ret;

	if (err) {
		err->errnum = 0;
		err->offset = 0;
		err->msg[0] = '\0';
	}
	vmstate__limits_resolve(limits, &d.lim);
	if (len > d.lim.max_stream)
		return fail(&d, 0, "stream of %zu bytes exceeds the limit %zu",
			    len, d.lim.max_stream);
	ret = need(&d, 0, len, 8, "stream header");
	if (ret)
		return ret;
	magic = vmstate__get32(d.p);
	version = vmstate__get16(d.p + 4);
	hflags = vmstate__get16(d.p + 6);
	if (magic != VMS_STREAM_MAGIC)
		return fail(&d, 0, "magic 0x%08x, expected 0x%08x", magic,
			    VMS_STREAM_MAGIC);
	if (version != VMS_FORMAT_VERSION)
		return fail(&d, 4, "format version %u, this build reads %u",
			    version, VMS_FORMAT_VERSION);
	if (hflags)
		return fail(&d, 6, "header flags 0x%04x, must be 0", hflags);

	tree = vmstate__tree_new();
	if (!tree)
		return -ENOMEM;
	tree->format = version;
	ret = decode_records(&d, tree);
	if (ret) {
		if (ret != -EBADMSG && err && !err->msg[0])
			vmstate__fail(err, ret, 0, NULL, NULL,
				      "out of memory decoding the stream");
		vmstate__tree_free(tree);
		return ret;
	}
	*out = tree;
	return 0;
}
