/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test device with a field of every shape (each integer type, bool,
 * fixed and variable arrays, buffers, text, nested struct, arrays of
 * structs, a field added in version 2, a subsection), for the selftests
 * and the fuzzer.  Not part of libtern-vmstate.
 */
#ifndef TERN_VMSTATE_TESTDEV_H
#define TERN_VMSTATE_TESTDEV_H

#include "vmstate/vmstate.h"

struct td_queue {
	uint16_t avail;
	uint16_t used;
	uint8_t ring[8];
	bool enabled;
};

struct td_dev {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int8_t s8;
	int16_t s16;
	int32_t s32;
	int64_t s64;
	bool b;
	uint32_t regs[4];
	uint8_t nfifo;
	uint8_t fifo[16];
	uint32_t nvals;
	uint64_t vals[6];
	uint8_t blob[13];
	char name[16];
	struct td_queue q;
	struct td_queue queues[3];
	uint16_t nvqs;
	struct td_queue vqs[4];
	uint32_t flags;
	uint64_t addr;
	uint32_t added_v2;		/* version 2; older streams: 0x55 */
	bool has_extra;			/* subsection td/extra needed */
	uint32_t extra[2];
	/* Not described: test controls and counters. */
	int refuse_save;		/* pre_save returns this */
	int refuse_load;		/* post_load returns this */
	int commits;			/* post_commit calls */
	int refuse_commit;		/* post_commit returns this */
};

#define TD_ADDED_V2_DEFAULT	0x55

extern const struct vmsd td_vmsd;
/* The same table at version 1, as an older build would have it. */
extern const struct vmsd td_vmsd_v1;

/* Zero d, then give every described member a random valid value. */
void td__random(struct td_dev *d, unsigned int *seed);
/*
 * After a test mutated a saved stream: recompute the crc of every record
 * whose frame still fits, so the mutation reaches the decoder.
 */
void td__fix_crcs(uint8_t *stream, size_t len);
/* Described state equal (test controls ignored)? */
bool td__equal(const struct td_dev *a, const struct td_dev *b);

#endif /* TERN_VMSTATE_TESTDEV_H */
