// SPDX-License-Identifier: GPL-2.0
/*
 * The encoder: a generic tree into stream bytes (header, framed sections
 * with crc32c, end record).  It refuses only what cannot be framed, so
 * tests may encode trees that the decoder or loader must then reject.
 */
#include <errno.h>
#include <string.h>

#include "vmstate/magic.h"
#include "vmstate/tree.h"

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int put8(struct vmstate_buf *buf, uint8_t v)
{
	return vmstate__buf_put(buf, &v, 1);
}

static int put32(struct vmstate_buf *buf, uint32_t v)
{
	uint8_t b[4];

	set32(b, v);
	return vmstate__buf_put(buf, b, 4);
}

static int put_name(struct vmstate_buf *buf, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 255)
		return -EINVAL;
	return put8(buf, (uint8_t)n) ?: vmstate__buf_put(buf, s, n);
}

/* A tag and a length placeholder; *at gets the placeholder's position. */
static int open_frame(struct vmstate_buf *buf, uint8_t tag, size_t *at)
{
	int ret = put8(buf, tag);

	*at = buf->len;
	return ret ?: put32(buf, 0);
}

static int close_frame(struct vmstate_buf *buf, size_t at)
{
	size_t len = buf->len - at - 4;

	if (len > UINT32_MAX)
		return -E2BIG;
	set32(buf->data + at, (uint32_t)len);
	return 0;
}

static int encode_table(struct vmstate_buf *buf, const struct vmstate_table *t);

static int encode_field(struct vmstate_buf *buf, const struct vmstate_tfield *f)
{
	size_t at, eat;
	uint32_t i;
	int ret;

	ret = open_frame(buf, VMS_ITEM_FIELD, &at) ?: put_name(buf, f->name) ?:
	      put8(buf, f->type) ?: put8(buf, f->hint) ?: put8(buf, f->flags) ?:
	      put32(buf, f->count) ?: put32(buf, f->elem_size);
	if (ret)
		return ret;
	if (f->type != VMS_STRUCT) {
		ret = vmstate__buf_put(buf, f->data,
				       (size_t)f->count * f->elem_size);
		return ret ?: close_frame(buf, at);
	}
	for (i = 0; i < f->count; i++) {
		if (!f->elems || !f->elems[i])
			return -EINVAL;
		ret = open_frame(buf, VMS_ITEM_ELEMENT, &eat) ?:
		      encode_table(buf, f->elems[i]) ?: close_frame(buf, eat);
		if (ret)
			return ret;
	}
	return close_frame(buf, at);
}

static int encode_table(struct vmstate_buf *buf, const struct vmstate_table *t)
{
	uint32_t i;
	size_t at;
	int ret;

	ret = put_name(buf, t->name) ?: put32(buf, t->version);
	for (i = 0; !ret && i < t->nr_fields; i++)
		ret = encode_field(buf, t->fields[i]);
	for (i = 0; !ret && i < t->nr_subs; i++)
		ret = open_frame(buf, VMS_ITEM_SUBSECTION, &at) ?:
		      encode_table(buf, t->subs[i]) ?: close_frame(buf, at);
	return ret;
}

/* type, length, body, crc32c of all three. */
static int encode_record(struct vmstate_buf *buf, uint32_t type,
			 const struct vmstate_section *s, uint32_t nr)
{
	size_t rec = buf->len, len;
	int ret;

	ret = put32(buf, type) ?: put32(buf, 0);
	if (ret)
		return ret;
	if (s)
		ret = put_name(buf, s->path) ?: encode_table(buf, s->table);
	else
		ret = put32(buf, nr);
	if (ret)
		return ret;
	len = buf->len - rec - 8;
	if (len > UINT32_MAX - 4)
		return -E2BIG;
	set32(buf->data + rec + 4, (uint32_t)len);
	return put32(buf, vmstate__crc32c(0, buf->data + rec, buf->len - rec));
}

int vmstate__encode(const struct vmstate_tree *tree, struct vmstate_buf *buf)
{
	size_t start = buf->len;
	uint8_t hdr[8];
	uint32_t i;
	int ret;

	set32(hdr, VMS_STREAM_MAGIC);
	hdr[4] = (uint8_t)tree->format;
	hdr[5] = (uint8_t)(tree->format >> 8);
	hdr[6] = 0;
	hdr[7] = 0;
	ret = vmstate__buf_put(buf, hdr, sizeof(hdr));
	for (i = 0; !ret && i < tree->nr_sections; i++)
		ret = encode_record(buf, VMS_REC_SECTION, &tree->sections[i], 0);
	if (!ret)
		ret = encode_record(buf, VMS_REC_END, NULL, tree->nr_sections);
	if (ret)
		buf->len = start;
	return ret;
}
