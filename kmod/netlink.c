// SPDX-License-Identifier: GPL-2.0
/*
 * The `tern` generic netlink family: list regions (dump), one region's
 * statistics, module statistics, start/stop tracking, open a page stream,
 * and the `events` multicast group.  A caller acts on a region only by
 * passing its fd; every request attribute is checked by a strict policy.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <net/netlink.h>
#include <linux/tern.h>

#include "netlink.h"
#include "region.h"
#include "stream.h"

static struct genl_family tern_nl_family;

#define REPLY_ONLY { .type = NLA_REJECT, .reject_message = "reply-only attribute" }

static const struct nla_policy region_policy[TERN_REGION_A_MAX + 1] = {
	[TERN_REGION_A_PAD]		= REPLY_ONLY,
	[TERN_REGION_A_FD]		= { .type = NLA_U32 },
	[TERN_REGION_A_ID]		= REPLY_ONLY,
	[TERN_REGION_A_NAME]		= REPLY_ONLY,
	[TERN_REGION_A_SIZE]		= REPLY_ONLY,
	[TERN_REGION_A_FLAGS]		= REPLY_ONLY,
	[TERN_REGION_A_RESIDENT]	= REPLY_ONLY,
	[TERN_REGION_A_ROUNDS]		= REPLY_ONLY,
	[TERN_REGION_A_LAST_PAGES]	= REPLY_ONLY,
	[TERN_REGION_A_DIRTIED]		= REPLY_ONLY,
	[TERN_REGION_A_WRITE_FAULTS]	= REPLY_ONLY,
	[TERN_REGION_A_LAST_HARVEST_NS]	= REPLY_ONLY,
	[TERN_REGION_A_HARVEST_NS]	= REPLY_ONLY,
	[TERN_REGION_A_STREAMS]		= REPLY_ONLY,
	[TERN_REGION_A_HELD]		= REPLY_ONLY,
	[TERN_REGION_A_TRACK_FLAGS]	= { .type = NLA_U32 },
	[TERN_REGION_A_STREAM_FD]	= REPLY_ONLY,
	[TERN_REGION_A_EVENT]		= REPLY_ONLY,
};

static const struct nla_policy stats_policy[TERN_STATS_A_MAX + 1] = {
	[TERN_STATS_A_PAD]		= REPLY_ONLY,
	[TERN_STATS_A_REGIONS]		= REPLY_ONLY,
	[TERN_STATS_A_PAGES]		= REPLY_ONLY,
	[TERN_STATS_A_STREAMS]		= REPLY_ONLY,
};

/*
 * The one lookup: the region named by TERN_REGION_A_FD in the caller's own
 * fd table.  Holding the fd is the proof of ownership.  On success the
 * caller must fdput(*f).
 */
static struct tern_region *get_region(struct genl_info *info, struct fd *f)
{
	struct nlattr *attr = info->attrs[TERN_REGION_A_FD];
	struct tern_region *r;

	if (GENL_REQ_ATTR_CHECK(info, TERN_REGION_A_FD))
		return ERR_PTR(-EINVAL);
	*f = fdget(nla_get_u32(attr));
	if (!f->file) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "fd is not open");
		return ERR_PTR(-EBADF);
	}
	r = tern_region_from_file(f->file);
	if (!r && tern_region_file_is_map_only(f->file)) {
		fdput(*f);
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "fd may only map the region");
		return ERR_PTR(-EPERM);
	}
	if (!r) {
		fdput(*f);
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "fd is not a tern region");
		return ERR_PTR(-EINVAL);
	}
	return r;
}

static int put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put_u64_64bit(skb, type, v, TERN_REGION_A_PAD);
}

static int fill_region(struct sk_buff *skb, struct tern_region *r)
{
	struct tern_track_stats st;
	u32 flags = 0;

	tern_track_get_stats(r, &st);
	if (tern_track_is_on(r))
		flags |= TERN_REGION_F_TRACKING;
	if (nla_put_u32(skb, TERN_REGION_A_ID, r->id) ||
	    nla_put_string(skb, TERN_REGION_A_NAME, r->name) ||
	    put_u64(skb, TERN_REGION_A_SIZE, r->size) ||
	    nla_put_u32(skb, TERN_REGION_A_FLAGS, flags) ||
	    put_u64(skb, TERN_REGION_A_RESIDENT,
		    READ_ONCE(tern_region_mapping(r)->nrpages)) ||
	    put_u64(skb, TERN_REGION_A_ROUNDS, st.rounds) ||
	    put_u64(skb, TERN_REGION_A_LAST_PAGES, st.last_pages) ||
	    put_u64(skb, TERN_REGION_A_DIRTIED, st.dirtied) ||
	    put_u64(skb, TERN_REGION_A_WRITE_FAULTS, st.write_faults) ||
	    put_u64(skb, TERN_REGION_A_LAST_HARVEST_NS, st.last_harvest_ns) ||
	    put_u64(skb, TERN_REGION_A_HARVEST_NS, st.harvest_ns) ||
	    put_u64(skb, TERN_REGION_A_HELD, st.held) ||
	    nla_put_u32(skb, TERN_REGION_A_STREAMS,
			atomic_read(&r->streams)))
		return -EMSGSIZE;
	return 0;
}

static int reply_region(struct genl_info *info, struct tern_region *r)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put_reply(skb, info, &tern_nl_family, 0,
				TERN_CMD_GET_REGION);
	if (!hdr || fill_region(skb, r)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

static int nl_get_region(struct sk_buff *skb, struct genl_info *info)
{
	struct tern_region *r;
	struct fd f;
	int ret;

	r = get_region(info, &f);
	if (IS_ERR(r))
		return PTR_ERR(r);
	ret = reply_region(info, r);
	fdput(f);
	return ret;
}

struct dump_arg {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	u32 *gen;
};

static int dump_one(struct tern_region *r, void *arg)
{
	struct dump_arg *a = arg;
	struct netlink_callback *cb = a->cb;
	kuid_t uid = make_kuid(&init_user_ns, cb->args[2]);
	void *hdr;

	if (!net_eq(r->net, sock_net(a->skb->sk)))
		return 0;
	if (!cb->args[1] && !uid_eq(r->owner, uid))
		return 0;
	cb->seq = *a->gen;
	hdr = genlmsg_put(a->skb, NETLINK_CB(cb->skb).portid,
			  cb->nlh->nlmsg_seq, &tern_nl_family, NLM_F_MULTI,
			  TERN_CMD_GET_REGION);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (fill_region(a->skb, r)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(a->skb, hdr);
	return 0;
}

/* cb->args: [0] next region id, [1] caller is admin, [2] caller's euid. */
static int nl_dump_start(struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);

	cb->args[0] = 0;
	cb->args[1] = netlink_ns_capable(cb->skb, net->user_ns,
					 CAP_SYS_ADMIN);
	cb->args[2] = from_kuid_munged(&init_user_ns, current_euid());
	return 0;
}

static int nl_dump_regions(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dump_arg a = { .skb = skb, .cb = cb };
	u32 cursor = cb->args[0], gen;
	int ret;

	a.gen = &gen;
	ret = tern_region_for_each(&cursor, &gen, dump_one, &a);
	cb->args[0] = cursor;
	if (ret && ret != -EMSGSIZE)
		return ret;
	return skb->len;
}

static int nl_dump_done(struct netlink_callback *cb)
{
	return 0;
}

static int nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct tern_region_totals t;
	struct sk_buff *msg;
	void *hdr;

	tern_region_totals(genl_info_net(info), &t);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tern_nl_family, 0,
				TERN_CMD_GET_STATS);
	if (!hdr ||
	    nla_put_u32(msg, TERN_STATS_A_REGIONS, t.regions) ||
	    nla_put_u64_64bit(msg, TERN_STATS_A_PAGES, t.pages,
			      TERN_STATS_A_PAD) ||
	    nla_put_u32(msg, TERN_STATS_A_STREAMS, t.streams)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int nl_track(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *fattr = info->attrs[TERN_REGION_A_TRACK_FLAGS];
	struct tern_region *r;
	struct fd f;
	int ret;

	if (fattr && (nla_get_u32(fattr) & ~__TERN_TRACK_F_ALL)) {
		NL_SET_ERR_MSG_ATTR(info->extack, fattr, "unknown flags");
		return -EOPNOTSUPP;
	}
	r = get_region(info, &f);
	if (IS_ERR(r))
		return PTR_ERR(r);
	if (info->genlhdr->cmd == TERN_CMD_TRACK_START) {
		ret = tern_track_start(r);
		if (ret)
			NL_SET_ERR_MSG(info->extack, "tracking is already on");
	} else {
		ret = tern_track_stop(r);
		if (ret)
			NL_SET_ERR_MSG(info->extack, "tracking is off");
	}
	fdput(f);
	return ret;
}

/*
 * The fd number is reserved first and the file installed last, after the
 * reply went out: a reply that cannot be queued (the caller's receive
 * buffer is full) leaves no stream fd behind that nobody knows of.
 */
static int nl_stream_open(struct sk_buff *skb, struct genl_info *info)
{
	struct tern_region *r;
	struct sk_buff *msg;
	struct file *file;
	struct fd f;
	void *hdr;
	int ret, fd;

	r = get_region(info, &f);
	if (IS_ERR(r))
		return PTR_ERR(r);
	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &tern_nl_family, 0,
				TERN_CMD_STREAM_OPEN);
	if (!hdr)
		goto err_msg;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_msg;
	}
	file = tern_stream_file(r);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	if (nla_put_u32(msg, TERN_REGION_A_STREAM_FD, fd))
		goto err_file;
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);		/* consumes msg */
	if (ret) {
		fput(file);
		put_unused_fd(fd);
	} else {
		fd_install(fd, file);
	}
	goto out;

err_file:
	fput(file);
err_fd:
	put_unused_fd(fd);
err_msg:
	nlmsg_free(msg);
out:
	fdput(f);
	return ret;
}

void tern_nl_notify(struct tern_region *r, int event)
{
	struct tern_track_stats st;
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&tern_nl_family, r->net, 0))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &tern_nl_family, 0, TERN_CMD_EVENT);
	if (!hdr)
		goto err;
	tern_track_get_stats(r, &st);
	if (nla_put_u32(skb, TERN_REGION_A_EVENT, event) ||
	    nla_put_u32(skb, TERN_REGION_A_ID, r->id) ||
	    nla_put_string(skb, TERN_REGION_A_NAME, r->name) ||
	    put_u64(skb, TERN_REGION_A_SIZE, r->size) ||
	    put_u64(skb, TERN_REGION_A_ROUNDS, st.rounds) ||
	    put_u64(skb, TERN_REGION_A_LAST_PAGES, st.last_pages))
		goto err;
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&tern_nl_family, r->net, skb, 0, 0,
				GFP_KERNEL);
	return;
err:
	nlmsg_free(skb);
}

static const struct genl_ops tern_nl_ops[] = {
	{
		.cmd	= TERN_CMD_GET_REGION,
		.doit	= nl_get_region,
		.start	= nl_dump_start,
		.dumpit	= nl_dump_regions,
		.done	= nl_dump_done,
		.policy	= region_policy,
		.maxattr = TERN_REGION_A_MAX,
	}, {
		/* What the namespace's regions hold: its admin's business. */
		.cmd	= TERN_CMD_GET_STATS,
		.flags	= GENL_UNS_ADMIN_PERM,
		.doit	= nl_get_stats,
		.policy	= stats_policy,
		.maxattr = TERN_STATS_A_MAX,
	}, {
		.cmd	= TERN_CMD_TRACK_START,
		.doit	= nl_track,
		.policy	= region_policy,
		.maxattr = TERN_REGION_A_MAX,
	}, {
		.cmd	= TERN_CMD_TRACK_STOP,
		.doit	= nl_track,
		.policy	= region_policy,
		.maxattr = TERN_REGION_A_MAX,
	}, {
		.cmd	= TERN_CMD_STREAM_OPEN,
		.doit	= nl_stream_open,
		.policy	= region_policy,
		.maxattr = TERN_REGION_A_MAX,
	},
};

/* Events name every region of a namespace: CAP_NET_ADMIN there to join. */
static const struct genl_multicast_group tern_nl_mcgrps[] = {
#ifdef GENL_MCAST_CAP_NET_ADMIN
	{ .name = TERN_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
#else
	{ .name = TERN_GENL_MCGRP_EVENTS },
#endif
};

#ifndef GENL_MCAST_CAP_NET_ADMIN
static int nl_mcast_bind(struct net *net, int group)
{
	return ns_capable(net->user_ns, CAP_NET_ADMIN) ? 0 : -EPERM;
}
#endif

static struct genl_family tern_nl_family __ro_after_init = {
	.name		= TERN_GENL_NAME,
	.version	= TERN_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= tern_nl_ops,
	.n_ops		= ARRAY_SIZE(tern_nl_ops),
	.mcgrps		= tern_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(tern_nl_mcgrps),
#ifndef GENL_MCAST_CAP_NET_ADMIN
	.mcast_bind	= nl_mcast_bind,
#endif
	/* Every command is new: header and attributes validated strictly. */
	.resv_start_op	= TERN_CMD_GET_REGION,
};

int __init tern_nl_init(void)
{
	return genl_register_family(&tern_nl_family);
}

void tern_nl_exit(void)
{
	genl_unregister_family(&tern_nl_family);
}

MODULE_ALIAS_GENL_FAMILY(TERN_GENL_NAME);
