// SPDX-License-Identifier: GPL-2.0
/* The growable output buffer that streams are written into. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate/tree.h"

int vmstate__buf_reserve(struct vmstate_buf *buf, size_t more)
{
	size_t cap = buf->cap ? buf->cap : 4096;
	uint8_t *p;

	if (more > SIZE_MAX / 2 - buf->len)
		return -ENOMEM;
	if (buf->len + more <= buf->cap)
		return 0;
	while (cap < buf->len + more)
		cap *= 2;
	p = realloc(buf->data, cap);
	if (!p)
		return -ENOMEM;
	buf->data = p;
	buf->cap = cap;
	return 0;
}

int vmstate__buf_put(struct vmstate_buf *buf, const void *p, size_t n)
{
	int ret = vmstate__buf_reserve(buf, n);

	if (ret)
		return ret;
	if (n)
		memcpy(buf->data + buf->len, p, n);
	buf->len += n;
	return 0;
}

void vmstate__buf_free(struct vmstate_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}
