/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic tree a vmstate stream decodes into (and encodes from):
 * sections, tables, fields, subsections, with no knowledge of devices.
 * Filters edit it; the JSON dump prints it; the loader dispatches it.
 */
#ifndef TERN_VMSTATE_TREE_H
#define TERN_VMSTATE_TREE_H

#include "vmstate/vmstate.h"

struct vmstate_table;

/* A field item; data holds count * elem_size bytes in stream byte order. */
struct vmstate_tfield {
	char *name;
	uint8_t type;			/* enum vmstate_type */
	uint8_t hint;			/* enum vmstate_hint */
	uint8_t flags;			/* VMS_F_* */
	uint32_t count;
	uint32_t elem_size;		/* 0 for VMS_STRUCT */
	uint8_t *data;			/* types 1-10 */
	struct vmstate_table **elems;	/* VMS_STRUCT: count tables */
	size_t off;			/* stream offset of its frame, or 0 */
};

/* A table body: a section's state, a subsection, or a struct element. */
struct vmstate_table {
	char *name;
	uint32_t version;
	struct vmstate_tfield **fields;
	uint32_t nr_fields;
	struct vmstate_table **subs;
	uint32_t nr_subs;
	size_t off;
};

struct vmstate_section {
	char *path;
	struct vmstate_table *table;
	size_t off;
};

struct vmstate_tree {
	uint16_t format;
	struct vmstate_section *sections;
	uint32_t nr_sections;
};

/* Decode a whole stream, every check of the format applied.  0 or -errno. */
int vmstate__decode(const void *data, size_t len,
		    const struct vmstate_limits *limits, unsigned int flags,
		    struct vmstate_tree **out, struct vmstate_err *err);
/* Append the stream of tree to buf (CRCs computed).  -EINVAL if unframable. */
int vmstate__encode(const struct vmstate_tree *tree, struct vmstate_buf *buf);

/* Builders; all return NULL/-ENOMEM on allocation failure. */
struct vmstate_tree *vmstate__tree_new(void);
void vmstate__tree_free(struct vmstate_tree *tree);
int vmstate__tree_add_section(struct vmstate_tree *tree, const char *path,
			      struct vmstate_table *table);
struct vmstate_table *vmstate__table_new(const char *name, uint32_t version);
void vmstate__table_free(struct vmstate_table *t);
/* A field with zeroed data (or count NULL elems to fill). */
struct vmstate_tfield *vmstate__table_add_field(struct vmstate_table *t,
						const char *name, uint8_t type,
						uint8_t hint, uint8_t flags,
						uint32_t count,
						uint32_t elem_size);
/* Link an existing field (or subsection) into t; t then owns it. */
int vmstate__table_append_field(struct vmstate_table *t,
				struct vmstate_tfield *f);
int vmstate__table_add_sub(struct vmstate_table *t, struct vmstate_table *sub);
struct vmstate_tfield *vmstate__table_field(const struct vmstate_table *t,
					    const char *name);
struct vmstate_table *vmstate__table_sub(const struct vmstate_table *t,
					 const char *name);
/* Unlink field i (or subsection i) and return it without freeing it. */
struct vmstate_tfield *vmstate__table_take_field(struct vmstate_table *t,
						 uint32_t i);
struct vmstate_table *vmstate__table_take_sub(struct vmstate_table *t,
					      uint32_t i);
void vmstate__tfield_free(struct vmstate_tfield *f);

/* Type facts: name ("u32"), integer width (0 if not an integer/bool). */
const char *vmstate__type_name(unsigned int type);
int vmstate__type_parse(const char *name);
unsigned int vmstate__type_width(unsigned int type);

/* Buffer helpers (buf.c). */
int vmstate__buf_reserve(struct vmstate_buf *buf, size_t more);
int vmstate__buf_put(struct vmstate_buf *buf, const void *p, size_t n);

/* crc32c (Castagnoli), continuing from crc (start with 0). */
uint32_t vmstate__crc32c(uint32_t crc, const void *data, size_t len);

#endif /* TERN_VMSTATE_TREE_H */
