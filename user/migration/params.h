/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration parameters, named once: the migration code sets and reads
 * them through this table, ternvm's control socket takes and reports them
 * by these names, and ternctl makes its options and help from it.  Plain
 * data and libc only, so ternctl links it without the migration code.
 */
#ifndef TERN_MIGRATION_PARAMS_H
#define TERN_MIGRATION_PARAMS_H

#include <stddef.h>
#include <stdint.h>

struct mig_params;

struct mig_param {
	const char *name;	/* control socket / ternctl spelling */
	const char *arg;	/* the value's placeholder in help: MS, N, 0|1 */
	const char *help;
	uint64_t min, max;	/* inclusive range */
	size_t offset;		/* of the field in struct mig_params */
	unsigned int size;	/* of that field: 1 (bool), 4 or 8 */
};

/* Room callers reserve for the table's entries (tests/params check it). */
#define MIG_PARAM_MAX	16

/* Ends with an entry whose name is NULL. */
extern const struct mig_param mig_param_table[];

const struct mig_param *mig_param_find(const char *name);
uint64_t mig_param_get(const struct mig_params *p, const struct mig_param *d);
/* -ERANGE (nothing set) if v is outside [min, max]. */
int mig_param_put(struct mig_params *p, const struct mig_param *d, uint64_t v);

#endif /* TERN_MIGRATION_PARAMS_H */
