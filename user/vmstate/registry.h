/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to user/vmstate: the registry object, and the table walkers
 * that save (object -> tree), load (tree -> staging copy) and commit
 * (staging -> live) one table, and the filter pass.
 */
#ifndef TERN_VMSTATE_REGISTRY_H
#define TERN_VMSTATE_REGISTRY_H

#include <pthread.h>

#include "vmstate/decode.h"

struct vmstate_inst {
	const struct vmsd *vmsd;
	void *opaque;
	char *path;
};

struct vmstate_registry {
	pthread_mutex_t lock;
	struct vmstate_inst *inst;
	uint32_t nr_inst;
	struct vmstate_filter *filters;
	uint32_t nr_filters;
};

/* A table definition is sound (versions, sizes, types); 0 or -EINVAL. */
int vmstate__check_vmsd(const struct vmsd *vmsd, const char *path,
			unsigned int depth);

/* Object -> tree; pr_err naming path and field on failure. */
int vmstate__save_table(const struct vmsd *vmsd, void *opaque,
			const char *path, struct vmstate_where *where,
			struct vmstate_table **out);

/* Where load errors are reported: the section being loaded. */
struct vmstate_load_ctx {
	const char *path;
	size_t section_off;
	struct vmstate_where where;
	struct vmstate_err *err;
};

/*
 * Tree table t (NULL: defaults for every field) into the staging copy at
 * obj.  0 or -errno with ctx->err filled.
 */
int vmstate__load_table(struct vmstate_load_ctx *ctx, const struct vmsd *vmsd,
			void *obj, const struct vmstate_table *t);
/* Copy the bytes vmsd describes from staging to live. */
void vmstate__commit_table(const struct vmsd *vmsd, void *live,
			   const void *staging);

/*
 * names_only: leave out the CUSTOM filters (the handshake's dry run over
 * tables without fields: only renames and splits change what it sees).
 */
int vmstate__filters_run(struct vmstate_registry *reg,
			 struct vmstate_tree *tree, bool names_only,
			 struct vmstate_err *err);
/* The instance registered at path, or NULL; reg->lock held. */
struct vmstate_inst *vmstate__find_inst(struct vmstate_registry *reg,
					const char *path);

#endif /* TERN_VMSTATE_REGISTRY_H */
