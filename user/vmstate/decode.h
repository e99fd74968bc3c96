/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to user/vmstate: limits, the "where" path of error messages
 * ("queues[2].avail"), the one error formatter, and little-endian access.
 */
#ifndef TERN_VMSTATE_DECODE_H
#define TERN_VMSTATE_DECODE_H

#include "vmstate/tree.h"

/* A field path being built while walking: "queues[2].avail", "(sub).x". */
struct vmstate_where {
	char buf[256];
	size_t len;
};

void vmstate__limits_resolve(const struct vmstate_limits *in,
			     struct vmstate_limits *out);
void vmstate__where_push(struct vmstate_where *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vmstate__where_pop(struct vmstate_where *w, size_t len);
void vmstate__where_name(struct vmstate_where *w, const char *name, bool sub);

/*
 * Fill err (if any) with "offset N: section P field F: why" and return
 * errnum.  section and where may be NULL/empty.
 */
int vmstate__fail(struct vmstate_err *err, int errnum, size_t off,
		  const char *section, const struct vmstate_where *where,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

uint16_t vmstate__get16(const uint8_t *p);
uint32_t vmstate__get32(const uint8_t *p);
uint64_t vmstate__get64(const uint8_t *p);

#endif /* TERN_VMSTATE_DECODE_H */
