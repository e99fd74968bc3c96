/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Any vmstate stream as JSON and back, without knowing a device: the dump
 * tool prints streams with it and tests craft corrupt streams by editing
 * the JSON.  Documentation/vmstate-format.rst, section 5, is the schema.
 */
#ifndef TERN_VMSTATE_JSON_H
#define TERN_VMSTATE_JSON_H

#include "vmstate/tree.h"

struct json_object;

/* A new JSON object for tree (NULL + errno on -ENOMEM). */
struct json_object *vmstate__tree_to_json(const struct vmstate_tree *tree);
/* JSON back into a tree; err says which field is wrong. 0 or -errno. */
int vmstate__json_to_tree(struct json_object *obj, struct vmstate_tree **out,
			  struct vmstate_err *err);

/* Stream bytes to pretty JSON text (free() it); flags as for loading. */
int vmstate__stream_to_json(const void *data, size_t len, unsigned int flags,
			    char **json, struct vmstate_err *err);
/* JSON text to stream bytes appended to buf (CRCs computed). */
int vmstate__json_to_stream(const char *json, struct vmstate_buf *buf,
			    struct vmstate_err *err);

#endif /* TERN_VMSTATE_JSON_H */
