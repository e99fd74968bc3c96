// SPDX-License-Identifier: GPL-2.0
/*
 * The registry object: device instances (table, struct, canonical path)
 * and filters of one machine.  save_all walks them into one stream;
 * load_all decodes, filters, loads every section into a staging copy and
 * commits only when all of them loaded, so a failed load changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vmstate/registry.h"

struct vmstate_registry *vmstate__registry_new(void)
{
	struct vmstate_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	return reg;
}

void vmstate__registry_free(struct vmstate_registry *reg)
{
	uint32_t i;

	if (!reg)
		return;
	for (i = 0; i < reg->nr_inst; i++)
		free(reg->inst[i].path);
	free(reg->inst);
	free(reg->filters);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

struct vmstate_inst *vmstate__find_inst(struct vmstate_registry *reg,
					const char *path)
{
	uint32_t i;

	for (i = 0; i < reg->nr_inst; i++)
		if (!strcmp(reg->inst[i].path, path))
			return &reg->inst[i];
	return NULL;
}

int vmstate__register(struct vmstate_registry *reg, const struct vmsd *vmsd,
		      void *opaque, const char *instance_path)
{
	struct vmstate_inst *inst;
	size_t n;
	int ret;

	if (!reg || !vmsd || !opaque || !instance_path)
		return -EINVAL;
	n = strlen(instance_path);
	if (!n || n > 255 || strchr(instance_path, ' ')) {
		pr_err("vmstate: bad instance path '%s'", instance_path);
		return -EINVAL;
	}
	ret = vmstate__check_vmsd(vmsd, instance_path, 0);
	if (ret)
		return ret;
	pthread_mutex_lock(&reg->lock);
	if (vmstate__find_inst(reg, instance_path)) {
		pr_err("vmstate: %s registered twice", instance_path);
		ret = -EEXIST;
		goto out_unlock;
	}
	inst = realloc(reg->inst, (reg->nr_inst + 1) * sizeof(*inst));
	if (!inst) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	reg->inst = inst;
	inst = &reg->inst[reg->nr_inst];
	inst->path = strdup(instance_path);
	if (!inst->path) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	inst->vmsd = vmsd;
	inst->opaque = opaque;
	reg->nr_inst++;
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

int vmstate__unregister(struct vmstate_registry *reg,
			const char *instance_path)
{
	struct vmstate_inst *inst;
	int ret = -ENOENT;

	pthread_mutex_lock(&reg->lock);
	inst = vmstate__find_inst(reg, instance_path);
	if (inst) {
		free(inst->path);
		memmove(inst, inst + 1,
			(size_t)(reg->inst + reg->nr_inst - inst - 1) *
			sizeof(*inst));
		reg->nr_inst--;
		ret = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

unsigned int vmstate__describe(struct vmstate_registry *reg,
			       struct vmstate_inst_desc *out, unsigned int max)
{
	unsigned int i, nr;

	pthread_mutex_lock(&reg->lock);
	nr = reg->nr_inst;
	for (i = 0; i < nr && i < max; i++)
		out[i] = (struct vmstate_inst_desc){
			.path = reg->inst[i].path,
			.type = reg->inst[i].vmsd->name,
			.version = reg->inst[i].vmsd->version_id,
			.min_version = reg->inst[i].vmsd->minimum_version_id,
			.subsections = reg->inst[i].vmsd->subsections,
		};
	pthread_mutex_unlock(&reg->lock);
	return nr;
}

int vmstate__sub_needed(struct vmstate_registry *reg, const char *path,
			const char *name)
{
	const struct vmsd *const *sub;
	struct vmstate_inst *inst;
	int ret = -ENOENT;

	pthread_mutex_lock(&reg->lock);
	inst = vmstate__find_inst(reg, path);
	for (sub = inst ? inst->vmsd->subsections : NULL; sub && *sub; sub++)
		if (!strcmp((*sub)->name, name)) {
			ret = !(*sub)->needed || (*sub)->needed(inst->opaque);
			break;
		}
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

static int save_locked(struct vmstate_registry *reg, struct vmstate_buf *buf)
{
	struct vmstate_where where = { .len = 0 };
	struct vmstate_tree *tree;
	struct vmstate_table *t;
	uint32_t i;
	int ret = 0;

	tree = vmstate__tree_new();
	if (!tree)
		return -ENOMEM;
	for (i = 0; !ret && i < reg->nr_inst; i++) {
		struct vmstate_inst *inst = &reg->inst[i];

		ret = vmstate__save_table(inst->vmsd, inst->opaque, inst->path,
					  &where, &t);
		if (ret)
			break;
		ret = vmstate__tree_add_section(tree, inst->path, t);
		if (ret)
			vmstate__table_free(t);
	}
	if (!ret)
		ret = vmstate__encode(tree, buf);
	if (ret == -ENOMEM || ret == -E2BIG || ret == -EINVAL)
		pr_err("vmstate: save failed: %s", strerror(-ret));
	vmstate__tree_free(tree);
	return ret;
}

int vmstate__save_all(struct vmstate_registry *reg, struct vmstate_buf *buf)
{
	int ret;

	pthread_mutex_lock(&reg->lock);
	ret = save_locked(reg, buf);
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

/* Load every section into staging[i] (copies of the live objects). */
static int dispatch(struct vmstate_registry *reg, struct vmstate_tree *tree,
		    void **staging, size_t stream_len, struct vmstate_err *err)
{
	struct vmstate_load_ctx ctx = { .err = err };
	struct vmstate_section *s;
	struct vmstate_inst *inst;
	uint32_t i, k;
	int ret;

	for (i = 0; i < tree->nr_sections; i++) {
		s = &tree->sections[i];
		inst = vmstate__find_inst(reg, s->path);
		if (!inst)
			return vmstate__fail(err, -ENOENT, s->off, s->path, NULL,
					     "no such device here");
		k = (uint32_t)(inst - reg->inst);
		if (staging[k])
			return vmstate__fail(err, -EINVAL, s->off, s->path,
					     NULL, "second section for this device");
		staging[k] = malloc(inst->vmsd->size);
		if (!staging[k])
			return -ENOMEM;
		memcpy(staging[k], inst->opaque, inst->vmsd->size);
		ctx.path = s->path;
		ctx.section_off = s->off;
		ctx.where.len = 0;
		ctx.where.buf[0] = '\0';
		ret = vmstate__load_table(&ctx, inst->vmsd, staging[k],
					  s->table);
		if (ret)
			return ret;
	}
	for (k = 0; k < reg->nr_inst; k++)
		if (!staging[k])
			return vmstate__fail(err, -ENOENT, stream_len, NULL,
					     NULL, "no section for %s (%s)",
					     reg->inst[k].path,
					     reg->inst[k].vmsd->name);
	return 0;
}

/* post_commit: the state applied where it lives (KVM); a refusal fails. */
static int apply(struct vmstate_inst *inst, struct vmstate_err *err)
{
	char why[160] = "";
	int ret;

	if (!inst->vmsd->post_commit)
		return 0;
	ret = inst->vmsd->post_commit(inst->opaque, why, sizeof(why));
	if (!ret)
		return 0;
	if (ret > 0)
		ret = -EIO;
	return vmstate__fail(err, ret, 0, inst->path, NULL,
			     "applying the state: %s",
			     why[0] ? why : strerror(-ret));
}

static int load_locked(struct vmstate_registry *reg, const void *data,
		       size_t len, const struct vmstate_limits *limits,
		       unsigned int flags, struct vmstate_err *err)
{
	struct vmstate_tree *tree;
	void **staging;
	uint32_t k;
	int ret;

	ret = vmstate__decode(data, len, limits, flags, &tree, err);
	if (ret)
		return ret;
	ret = vmstate__filters_run(reg, tree, false, err);
	if (ret)
		goto out_tree;
	staging = calloc(reg->nr_inst ? reg->nr_inst : 1, sizeof(*staging));
	if (!staging) {
		ret = -ENOMEM;
		goto out_tree;
	}
	/* A missing section is reported at the end record. */
	ret = dispatch(reg, tree, staging, len - 16, err);
	if (!ret) {
		for (k = 0; k < reg->nr_inst; k++)
			vmstate__commit_table(reg->inst[k].vmsd,
					      reg->inst[k].opaque, staging[k]);
		for (k = 0; !ret && k < reg->nr_inst; k++)
			ret = apply(&reg->inst[k], err);
	}
	for (k = 0; k < reg->nr_inst; k++)
		free(staging[k]);
	free(staging);
out_tree:
	vmstate__tree_free(tree);
	return ret;
}

int vmstate__load_opts(struct vmstate_registry *reg, const void *data,
		       size_t len, const struct vmstate_limits *limits,
		       unsigned int flags, struct vmstate_err *err)
{
	struct vmstate_err local;
	int ret;

	if (!err)
		err = &local;
	err->errnum = 0;
	err->offset = 0;
	err->msg[0] = '\0';
	pthread_mutex_lock(&reg->lock);
	ret = load_locked(reg, data, len, limits, flags, err);
	pthread_mutex_unlock(&reg->lock);
	if (ret && !err->msg[0])
		vmstate__fail(err, ret, 0, NULL, NULL, "load failed: %s",
			      strerror(-ret));
	if (ret && err == &local)
		pr_err("vmstate: %s", local.msg);
	return ret;
}

int vmstate__load_all(struct vmstate_registry *reg, const void *data,
		      size_t len, struct vmstate_err *err)
{
	return vmstate__load_opts(reg, data, len, NULL, 0, err);
}

int vmstate__save(const struct vmsd *vmsd, void *opaque, const char *path,
		  struct vmstate_buf *buf)
{
	struct vmstate_registry *reg = vmstate__registry_new();
	int ret;

	if (!reg)
		return -ENOMEM;
	ret = vmstate__register(reg, vmsd, opaque, path) ?:
	      vmstate__save_all(reg, buf);
	vmstate__registry_free(reg);
	return ret;
}

int vmstate__load(const struct vmsd *vmsd, void *opaque, const char *path,
		  const void *data, size_t len, struct vmstate_err *err)
{
	struct vmstate_registry *reg = vmstate__registry_new();
	int ret;

	if (!reg)
		return -ENOMEM;
	ret = vmstate__register(reg, vmsd, opaque, path) ?:
	      vmstate__load_all(reg, data, len, err);
	vmstate__registry_free(reg);
	return ret;
}
