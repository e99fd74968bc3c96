// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzes the split-virtqueue parser with guest-controlled memory: the
 * input is a queue's setup (size, ring addresses, indices) and 16 KiB of
 * "guest RAM" holding its descriptor table and rings.  Every element
 * vq__pop accepts is read and written in full and pushed back; ASan/UBSan
 * catch any access outside guest RAM, and a popped element must lie in it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"
#include "vm/mem.h"
#include "vm/virtio.h"

#define RAM_SIZE	16384

static uint8_t *ram;

void *guest__ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

void vm__mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (len && (gpa >= RAM_SIZE || len > RAM_SIZE - gpa))
		abort();		/* dirtying outside what was checked */
}

struct setup {
	uint16_t size;
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t desc;
	uint16_t avail;
	uint16_t used;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct vm vm;
	struct virtio_dev *vdev;
	struct vq_state *vq;
	struct setup s;
	struct vq_elem e;
	uint8_t buf[512];
	int i, rounds = 0;
	size_t off;

	if (len < sizeof(s))
		return 0;
	memcpy(&s, data, sizeof(s));
	ram = calloc(1, RAM_SIZE);
	vdev = calloc(1, sizeof(*vdev));
	memcpy(ram, data + sizeof(s), len - sizeof(s) < RAM_SIZE ? len - sizeof(s) : RAM_SIZE);
	vdev->vm = &vm;
	vq = &vdev->s.vq[0];
	vq->size = 1u << (s.size % 9);		/* what the transport allows: 1..256 */
	vq->enabled = 1;
	vq->last_avail = s.last_avail;
	vq->used_idx = s.used_idx;
	vq->desc = s.desc % (RAM_SIZE + 64);
	vq->avail = s.avail % (RAM_SIZE + 64);
	vq->used = s.used % (RAM_SIZE + 64);

	while (rounds++ < 64 && vq__pop(vdev, 0, &e) > 0) {
		size_t got = vq__read_out(&e, 0, buf, sizeof(buf));

		if (got > e.out_len)
			abort();
		for (i = 0; i < e.nr; i++)
			if (e.iov[i].iov_len &&
			    ((uint8_t *)e.iov[i].iov_base < ram ||
			     (uint8_t *)e.iov[i].iov_base + e.iov[i].iov_len > ram + RAM_SIZE))
				abort();
		memset(buf, 0xa5, sizeof(buf));
		for (off = 0; off < e.in_len; off += sizeof(buf))
			if (vq__write_in(&e, off, buf, sizeof(buf)) > sizeof(buf))
				abort();
		vq__push(vdev, 0, &e, e.in_len);
	}
	free(vdev);
	free(ram);
	return 0;
}
