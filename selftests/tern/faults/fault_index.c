// SPDX-License-Identifier: GPL-2.0
/*
 * tern-fault-index: splits a recorded migration (tern-fault-proxy --record)
 * into the parts the fault campaign corrupts, one "DIR START END PART" line
 * per span: handshake, blocklist, framing (message, chunk, page-stream and
 * record headers), payload (page data), device, control.  Last, one more
 * line "DIR 0 END opening" overlapping them: the bytes up to the end of
 * the first chunk's first record header, which sit at the same offsets in
 * every run (a page-stream channel's split of pages does not).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migration/wire.h"
#include "migration/stream.h"

#define MAX_BLOCKS	64

struct blockstream {
	uint64_t need;		/* bytes left in the current item */
	int item;		/* 0: stream header, 1: record header, 2: page data */
	uint8_t hdr[32];	/* the item's bytes seen so far (headers only) */
	size_t have;
};

static const char *dir;
static uint64_t opening;	/* end of the first chunk's first record header */

static struct {
	uint64_t start, end;
	const char *part;
} last;

static void flush(void)
{
	if (last.end > last.start)
		printf("%s %llu %llu %s\n", dir, (unsigned long long)last.start,
		       (unsigned long long)last.end, last.part);
	last.start = last.end = 0;
}

/* Adjacent spans of one part print as one line. */
static void span(uint64_t start, uint64_t end, const char *part)
{
	if (end <= start)
		return;
	if (last.part == part && last.end == start) {
		last.end = end;
		return;
	}
	flush();
	last.start = start;
	last.end = end;
	last.part = part;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Records of one block's page stream, which runs across chunks. */
static void records(struct blockstream *b, const uint8_t *p, uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t n;

		if (!b->need) {
			b->need = b->item == 0 ? sizeof(struct tern_stream_hdr) :
				  sizeof(struct tern_page_rec);
			b->have = 0;
		}
		n = b->need < len ? b->need : len;
		span(off, off + n, b->item == 2 ? "payload" : "framing");
		if (b->item != 2)
			memcpy(b->hdr + b->have, p, n);
		b->have += n;
		b->need -= n;
		p += n;
		off += n;
		len -= n;
		if (b->need)
			continue;
		if (b->item == 0) {
			b->item = 1;
		} else if (b->item == 1) {
			struct tern_page_rec r;

			if (!opening)
				opening = off;
			memcpy(&r, b->hdr, sizeof(r));
			if (r.flags & TERN_REC_F_END) {
				b->item = 0;
			} else if (r.length) {
				b->item = 2;
				b->need = r.length;
			}
		} else {
			b->item = 1;
		}
	}
}

static int index_file(const char *path)
{
	static struct blockstream bs[MAX_BLOCKS];
	uint8_t *buf;
	long size;
	uint64_t off = 0;
	FILE *f = fopen(path, "rb");

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0) {
		perror(path);
		return 1;
	}
	rewind(f);
	buf = malloc(size + 1);
	if (!buf || fread(buf, 1, size, f) != (size_t)size) {
		perror(path);
		return 1;
	}
	fclose(f);
	while (off + 8 <= (uint64_t)size) {
		uint32_t type = le32(buf + off), len = le32(buf + off + 4);
		uint64_t body = off + 8, end = body + len;
		const char *part;

		if (end > (uint64_t)size)
			end = size;
		switch (type) {
		case MIG_MSG_HELLO:
		case MIG_MSG_WELCOME:
			part = "handshake";
			break;
		case MIG_MSG_RAMBLOCKS:
		case MIG_MSG_RAMBLOCKS_OK:
			part = "blocklist";
			break;
		case MIG_MSG_STATE:
		case MIG_MSG_STATE_END:
			part = "device";
			break;
		case MIG_MSG_ROUND_BEGIN:
		case MIG_MSG_ROUND_END:
		case MIG_MSG_CHUNK:
		case MIG_MSG_DRAIN:
		case MIG_MSG_DRAINED:
			part = "framing";
			break;
		default:
			part = "control";
		}
		if (type == MIG_MSG_CHUNK && end - body >= 8) {
			uint32_t block = le32(buf + body);

			span(off, body + 8, "framing");
			if (block < MAX_BLOCKS)
				records(&bs[block], buf + body + 8, body + 8, end - body - 8);
		} else {
			span(off, end, part);
		}
		off = end;
	}
	flush();
	if (opening)
		printf("%s 0 %llu opening\n", dir, (unsigned long long)opening);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: tern-fault-index FWD-RECORDING BACK-RECORDING\n");
		return 2;
	}
	dir = "fwd";
	if (index_file(argv[1]))
		return 1;
	dir = "back";
	opening = 0;
	return index_file(argv[2]);
}
