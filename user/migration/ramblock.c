// SPDX-License-Identifier: GPL-2.0
/*
 * The RAM block list: the source sends every block {path, name, size,
 * flags} in index order; the destination maps each one onto its own block
 * and fails, naming the block, on a missing block, a size or flag
 * difference, a duplicate, or a block the source does not have.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "migration/internal.h"

static int get_blocks(struct mig *mig)
{
	unsigned int i;
	int ret;

	ret = mig->ops->ram_blocks(mig->vm, &mig->blocks, &mig->nr_blocks);
	if (ret)
		return mig_fail(mig, ret, "cannot list RAM blocks");
	if (mig->nr_blocks > MIG_MAX_BLOCKS)
		return mig_fail(mig, -E2BIG, "%u RAM blocks (limit %u)",
				mig->nr_blocks, MIG_MAX_BLOCKS);
	for (i = 0; i < mig->nr_blocks; i++)
		if (mig->blocks[i].size % MIG_PAGE_SIZE ||
		    mig->blocks[i].size == 0)
			return mig_fail(mig, -EINVAL,
					"RAM block '%s' '%s': size 0x%" PRIx64 " is not whole pages",
					mig->blocks[i].path, mig->blocks[i].name,
					mig->blocks[i].size);
	return 0;
}

int mig_ramblocks_send(struct mig *mig)
{
	const struct mig_ram_block *b;
	struct nlattr *list, *nest;
	struct nl_msg *msg;
	unsigned int i;
	int ret;

	mig->phase = "ramblocks";
	ret = get_blocks(mig);
	if (ret)
		return ret;
	msg = mig_attrs_new();
	if (!msg)
		return -ENOMEM;
	list = nla_nest_start(msg, MIG_A_BLOCKS);
	if (!list)
		goto too_big;
	for (i = 0; i < mig->nr_blocks; i++) {
		b = &mig->blocks[i];
		nest = nla_nest_start(msg, MIG_A_BLOCK);
		if (!nest || nla_put_string(msg, MIG_A_BLK_PATH, b->path) ||
		    nla_put_string(msg, MIG_A_BLK_NAME, b->name) ||
		    nla_put_u64(msg, MIG_A_BLK_SIZE, b->size) ||
		    nla_put_u32(msg, MIG_A_BLK_FLAGS, b->flags & __MIG_BLK_F_ALL))
			goto too_big;
		nla_nest_end(msg, nest);
	}
	nla_nest_end(msg, list);
	ret = mig_send_attrs(&mig->conn, MIG_MSG_RAMBLOCKS, msg);
	if (ret)
		return mig_fail(mig, ret, "sending RAM blocks: %s",
				mig->conn.err);
	return mig_expect(mig, MIG_MSG_RAMBLOCKS_OK);

too_big:
	nlmsg_free(msg);
	return mig_fail(mig, -EMSGSIZE, "RAM block list too large");
}

static int find_block(struct mig *mig, const char *path, const char *name)
{
	unsigned int i;

	for (i = 0; i < mig->nr_blocks; i++)
		if (!strcmp(mig->blocks[i].path, path) &&
		    !strcmp(mig->blocks[i].name, name))
			return i;
	return -1;
}

static int check_block(struct mig *mig, struct nlattr *nla, unsigned int idx,
		       bool *used)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	const struct mig_ram_block *mine;
	const char *path, *name;
	uint64_t size;
	uint32_t flags;
	int local;

	if (nla_type(nla) != MIG_A_BLOCK || mig_parse_nested(nla, tb))
		return mig_fail(mig, -EBADMSG, "RAM block %u: malformed", idx);
	path = mig_attr_str(tb, MIG_A_BLK_PATH);
	name = mig_attr_str(tb, MIG_A_BLK_NAME);
	if (!path || !name || mig_attr_u64(tb, MIG_A_BLK_SIZE, &size) ||
	    mig_attr_u32(tb, MIG_A_BLK_FLAGS, &flags))
		return mig_fail(mig, -EBADMSG,
				"RAM block %u lacks path, name, size or flags",
				idx);
	if (flags & ~__MIG_BLK_F_ALL)
		return mig_fail(mig, -EBADMSG,
				"RAM block '%s' '%s': unknown flags 0x%x", path,
				name, flags);
	local = find_block(mig, path, name);
	if (local < 0)
		return mig_fail(mig, -ENOENT,
				"RAM block '%s' '%s' of the source does not exist here",
				path, name);
	if (used[local])
		return mig_fail(mig, -EBADMSG,
				"RAM block '%s' '%s' listed twice", path, name);
	mine = &mig->blocks[local];
	if (size != mine->size)
		return mig_fail(mig, -EINVAL,
				"RAM block '%s' '%s': size 0x%" PRIx64 " on the source, 0x%" PRIx64 " here",
				path, name, size, mine->size);
	if ((flags ^ mine->flags) & MIG_BLK_F_NOMIGRATE)
		return mig_fail(mig, -EINVAL,
				"RAM block '%s' '%s': %smigratable on the source, %smigratable here",
				path, name,
				flags & MIG_BLK_F_NOMIGRATE ? "non-" : "",
				mine->flags & MIG_BLK_F_NOMIGRATE ? "non-" : "");
	used[local] = true;
	mig->rx[idx].local = local;
	mig->rx[idx].size = size;
	mig->rx[idx].migratable = !(flags & MIG_BLK_F_NOMIGRATE);
	if (mine->flags & MIG_BLK_F_ZEROED) {
		mig->rx[idx].written = calloc(mig_bitmap_words(size), sizeof(unsigned long));
		if (!mig->rx[idx].written)
			return mig_fail(mig, -ENOMEM, "RAM block '%s' '%s': bitmap",
					path, name);
	}
	return 0;
}

int mig_ramblocks_recv(struct mig *mig)
{
	struct nlattr *tb[MIG_A_MAX + 1], *nla;
	bool used[MIG_MAX_BLOCKS] = { false };
	unsigned int n = 0, i;
	struct mig_hdr h;
	int ret, rem;

	mig->phase = "ramblocks";
	ret = get_blocks(mig);
	if (ret)
		return ret;
	ret = mig_recv_hdr(&mig->conn, &h);
	if (ret)
		return mig_fail(mig, ret, "waiting for ramblocks: %s", mig->conn.err);
	if (h.type != MIG_MSG_RAMBLOCKS)
		return mig_fail(mig, -EPROTO, "expected ramblocks, got %s",
				mig_msg_name(h.type));
	ret = mig_recv_attrs(&mig->conn, &h, tb);
	if (ret)
		return mig_fail(mig, ret, "ramblocks: %s", mig->conn.err);
	if (!tb[MIG_A_BLOCKS])
		return mig_fail(mig, -EBADMSG, "ramblocks: no block list");
	nla_for_each_nested(nla, tb[MIG_A_BLOCKS], rem) {
		if (n == MIG_MAX_BLOCKS)
			return mig_fail(mig, -E2BIG, "more than %u RAM blocks",
					MIG_MAX_BLOCKS);
		ret = check_block(mig, nla, n, used);
		if (ret)
			return ret;
		n++;
	}
	if (rem)
		return mig_fail(mig, -EBADMSG, "ramblocks: truncated list");
	for (i = 0; i < mig->nr_blocks; i++)
		if (!used[i])
			return mig_fail(mig, -ENOENT,
					"RAM block '%s' '%s' exists here but not on the source",
					mig->blocks[i].path, mig->blocks[i].name);
	mig->nr_rx = n;
	ret = mig_send(&mig->conn, MIG_MSG_RAMBLOCKS_OK, NULL, 0);
	if (ret)
		return mig_fail(mig, ret, "sending ramblocks-ok: %s",
				mig->conn.err);
	return 0;
}
