// SPDX-License-Identifier: GPL-2.0
/* The every-shape test device's tables and helpers: see testdev.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate/testdev.h"
#include "vmstate/tree.h"

static const struct vmstate_field td_queue_fields[] = {
	VMSTATE_U16(avail, struct td_queue, 0),
	VMSTATE_U16(used, struct td_queue, 0),
	VMSTATE_BUFFER(ring, struct td_queue, 0),
	VMSTATE_BOOL(enabled, struct td_queue, 0),
	VMSTATE_END,
};

static const struct vmsd td_queue_vmsd = {
	.name = "td-queue",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct td_queue),
	.fields = td_queue_fields,
};

static bool extra_needed(void *opaque)
{
	return ((struct td_dev *)opaque)->has_extra;
}

static const struct vmstate_field td_extra_fields[] = {
	VMSTATE_BOOL(has_extra, struct td_dev, 0),
	VMSTATE_U32_ARRAY(extra, struct td_dev, 0),
	VMSTATE_END,
};

static const struct vmsd td_extra_vmsd = {
	.name = "td/extra",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct td_dev),
	.fields = td_extra_fields,
	.needed = extra_needed,
};

static const struct vmsd *const td_subsections[] = { &td_extra_vmsd, NULL };

static int td_pre_save(void *opaque)
{
	return ((struct td_dev *)opaque)->refuse_save;
}

static int td_post_load(void *staging, uint32_t version)
{
	return ((struct td_dev *)staging)->refuse_load;
}

static int td_post_commit(void *opaque, char *why, size_t len)
{
	struct td_dev *d = opaque;

	d->commits++;
	if (d->refuse_commit)
		snprintf(why, len, "testdev: TD_SET refused");
	return d->refuse_commit;
}

#define TD_FIELDS_V1							\
	VMSTATE_U8(u8, struct td_dev, 0),				\
	VMSTATE_U16(u16, struct td_dev, 0),				\
	VMSTATE_U32(u32, struct td_dev, 0),				\
	VMSTATE_U64(u64, struct td_dev, 0),				\
	VMSTATE_S8(s8, struct td_dev, 0),				\
	VMSTATE_S16(s16, struct td_dev, 0),				\
	VMSTATE_S32(s32, struct td_dev, 0),				\
	VMSTATE_S64(s64, struct td_dev, 0),				\
	VMSTATE_BOOL(b, struct td_dev, 0),				\
	VMSTATE_U32_ARRAY(regs, struct td_dev, 0),			\
	VMSTATE_U8_VARRAY(fifo, struct td_dev, nfifo, 0),		\
	VMSTATE_U64_VARRAY(vals, struct td_dev, nvals, 0),		\
	VMSTATE_BUFFER(blob, struct td_dev, 0),				\
	VMSTATE_STRING(name, struct td_dev, 0),				\
	VMSTATE_STRUCT(q, struct td_dev, 0, td_queue_vmsd, struct td_queue), \
	VMSTATE_STRUCT_ARRAY(queues, struct td_dev, 0, td_queue_vmsd,	\
			     struct td_queue),				\
	VMSTATE_STRUCT_VARRAY(vqs, struct td_dev, nvqs, 0, td_queue_vmsd, \
			      struct td_queue),				\
	VMSTATE_U32_FLAGS(flags, struct td_dev, 0),			\
	VMSTATE_U64_HEX(addr, struct td_dev, 0)

static const struct vmstate_field td_fields[] = {
	TD_FIELDS_V1,
	VMSTATE_U32_DEF(added_v2, struct td_dev, 2, TD_ADDED_V2_DEFAULT),
	VMSTATE_END,
};

static const struct vmstate_field td_fields_v1[] = {
	TD_FIELDS_V1,
	VMSTATE_END,
};

const struct vmsd td_vmsd = {
	.name = "testdev",
	.version_id = 2,
	.minimum_version_id = 1,
	.size = sizeof(struct td_dev),
	.fields = td_fields,
	.subsections = td_subsections,
	.pre_save = td_pre_save,
	.post_load = td_post_load,
	.post_commit = td_post_commit,
};

const struct vmsd td_vmsd_v1 = {
	.name = "testdev",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct td_dev),
	.fields = td_fields_v1,
	.subsections = td_subsections,
	.pre_save = td_pre_save,
	.post_load = td_post_load,
	.post_commit = td_post_commit,
};

static uint64_t rnd64(unsigned int *seed)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 16 | (rand_r(seed) & 0xffff);
	return v;
}

static void rnd_bytes(void *p, size_t n, unsigned int *seed)
{
	uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)rand_r(seed);
}

static void rnd_queue(struct td_queue *q, unsigned int *seed)
{
	q->avail = (uint16_t)rand_r(seed);
	q->used = (uint16_t)rand_r(seed);
	rnd_bytes(q->ring, sizeof(q->ring), seed);
	q->enabled = rand_r(seed) & 1;
}

void td__random(struct td_dev *d, unsigned int *seed)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->u8 = (uint8_t)rand_r(seed);
	d->u16 = (uint16_t)rand_r(seed);
	d->u32 = (uint32_t)rnd64(seed);
	d->u64 = rnd64(seed);
	d->s8 = (int8_t)rand_r(seed);
	d->s16 = (int16_t)rand_r(seed);
	d->s32 = (int32_t)rnd64(seed);
	d->s64 = (int64_t)rnd64(seed);
	d->b = rand_r(seed) & 1;
	for (i = 0; i < 4; i++)
		d->regs[i] = (uint32_t)rnd64(seed);
	d->nfifo = (uint8_t)(rand_r(seed) % 17);
	rnd_bytes(d->fifo, d->nfifo, seed);
	d->nvals = (uint32_t)(rand_r(seed) % 7);
	for (i = 0; i < d->nvals; i++)
		d->vals[i] = rnd64(seed);
	rnd_bytes(d->blob, sizeof(d->blob), seed);
	for (i = 0; i < (unsigned int)(rand_r(seed) % 16); i++)
		d->name[i] = (char)('a' + rand_r(seed) % 26);
	rnd_queue(&d->q, seed);
	for (i = 0; i < 3; i++)
		rnd_queue(&d->queues[i], seed);
	d->nvqs = (uint16_t)(rand_r(seed) % 5);
	for (i = 0; i < d->nvqs; i++)
		rnd_queue(&d->vqs[i], seed);
	d->flags = (uint32_t)rnd64(seed);
	d->addr = rnd64(seed);
	d->added_v2 = (uint32_t)rnd64(seed);
	d->has_extra = rand_r(seed) & 1;
	if (d->has_extra)
		for (i = 0; i < 2; i++)
			d->extra[i] = (uint32_t)rnd64(seed);
}

bool td__equal(const struct td_dev *a, const struct td_dev *b)
{
	struct td_dev x, y;

	/* memcpy, not assignment: padding bytes must be compared too. */
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.refuse_save = y.refuse_save = 0;
	x.refuse_load = y.refuse_load = 0;
	x.commits = y.commits = 0;
	x.refuse_commit = y.refuse_commit = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void td__fix_crcs(uint8_t *p, size_t len)
{
	size_t pos = 8;
	uint32_t rlen, crc;

	while (len >= 8 && pos <= len - 8) {
		rlen = rd32(p + pos + 4);
		if ((uint64_t)rlen + 12 > len - pos)
			return;
		crc = vmstate__crc32c(0, p + pos, rlen + 8);
		p[pos + 8 + rlen] = (uint8_t)crc;
		p[pos + 9 + rlen] = (uint8_t)(crc >> 8);
		p[pos + 10 + rlen] = (uint8_t)(crc >> 16);
		p[pos + 11 + rlen] = (uint8_t)(crc >> 24);
		pos += 12 + (size_t)rlen;
	}
}
