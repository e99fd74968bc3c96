// SPDX-License-Identifier: GPL-2.0
/*
 * ternnl: requests to tern.ko's generic netlink family through libnl-genl-3.
 * One request at a time per handle; each waits for its ack or error, and
 * keeps the kernel's extack message for ternnl__extack().
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "lib/ternnl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* The ABI's fixed layouts, as the module pins them with BUILD_BUG_ON. */
_Static_assert(sizeof(struct tern_stream_hdr) == 32, "tern_stream_hdr");
_Static_assert(sizeof(struct tern_page_rec) == 16, "tern_page_rec");
_Static_assert(sizeof(struct tern_region_create) == 48, "tern_region_create");
_Static_assert(sizeof(struct tern_harvest) == 32, "tern_harvest");

struct ternnl {
	struct nl_sock *sk;
	int family;
	char extack[128];
};

struct req {
	struct ternnl *nl;
	bool done;
	int err;
	ternnl_region_fn region_fn;
	void *arg;
	int ret;			/* region_fn's stop value */
	struct ternnl_stats *stats;
	int stream_fd;
};

static struct nla_policy region_pol[TERN_REGION_A_MAX + 1] = {
	[TERN_REGION_A_ID]		= { .type = NLA_U32 },
	[TERN_REGION_A_NAME]		= { .type = NLA_STRING },
	[TERN_REGION_A_SIZE]		= { .type = NLA_U64 },
	[TERN_REGION_A_FLAGS]		= { .type = NLA_U32 },
	[TERN_REGION_A_RESIDENT]	= { .type = NLA_U64 },
	[TERN_REGION_A_ROUNDS]		= { .type = NLA_U64 },
	[TERN_REGION_A_LAST_PAGES]	= { .type = NLA_U64 },
	[TERN_REGION_A_DIRTIED]		= { .type = NLA_U64 },
	[TERN_REGION_A_WRITE_FAULTS]	= { .type = NLA_U64 },
	[TERN_REGION_A_LAST_HARVEST_NS]	= { .type = NLA_U64 },
	[TERN_REGION_A_HARVEST_NS]	= { .type = NLA_U64 },
	[TERN_REGION_A_STREAMS]		= { .type = NLA_U32 },
	[TERN_REGION_A_STREAM_FD]	= { .type = NLA_U32 },
	[TERN_REGION_A_EVENT]		= { .type = NLA_U32 },
};

static struct nla_policy stats_pol[TERN_STATS_A_MAX + 1] = {
	[TERN_STATS_A_REGIONS]	= { .type = NLA_U32 },
	[TERN_STATS_A_PAGES]	= { .type = NLA_U64 },
	[TERN_STATS_A_STREAMS]	= { .type = NLA_U32 },
};

static uint64_t get_u64(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

static uint32_t get_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static int parse_region(struct nlmsghdr *nlh, struct ternnl_region *r)
{
	struct nlattr *tb[TERN_REGION_A_MAX + 1];
	int ret;

	ret = genlmsg_parse(nlh, 0, tb, TERN_REGION_A_MAX, region_pol);
	if (ret < 0)
		return -EBADMSG;
	memset(r, 0, sizeof(*r));
	r->id = get_u32(tb[TERN_REGION_A_ID]);
	if (tb[TERN_REGION_A_NAME])
		nla_strlcpy(r->name, tb[TERN_REGION_A_NAME], sizeof(r->name));
	r->size = get_u64(tb[TERN_REGION_A_SIZE]);
	r->flags = get_u32(tb[TERN_REGION_A_FLAGS]);
	r->resident = get_u64(tb[TERN_REGION_A_RESIDENT]);
	r->rounds = get_u64(tb[TERN_REGION_A_ROUNDS]);
	r->last_pages = get_u64(tb[TERN_REGION_A_LAST_PAGES]);
	r->dirtied = get_u64(tb[TERN_REGION_A_DIRTIED]);
	r->write_faults = get_u64(tb[TERN_REGION_A_WRITE_FAULTS]);
	r->last_harvest_ns = get_u64(tb[TERN_REGION_A_LAST_HARVEST_NS]);
	r->harvest_ns = get_u64(tb[TERN_REGION_A_HARVEST_NS]);
	r->streams = get_u32(tb[TERN_REGION_A_STREAMS]);
	r->event = get_u32(tb[TERN_REGION_A_EVENT]);
	return 0;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[TERN_STATS_A_MAX + 1];
	struct nlattr *fd[TERN_REGION_A_MAX + 1];
	struct ternnl_region r;
	struct req *q = arg;

	switch (gh->cmd) {
	case TERN_CMD_GET_REGION:
		if (!q->region_fn || q->ret)
			return NL_OK;
		if (parse_region(nlh, &r))
			q->err = -EBADMSG;
		else
			q->ret = q->region_fn(&r, q->arg);
		return NL_OK;
	case TERN_CMD_GET_STATS:
		if (!q->stats ||
		    genlmsg_parse(nlh, 0, tb, TERN_STATS_A_MAX, stats_pol) < 0)
			return NL_OK;
		q->stats->regions = get_u32(tb[TERN_STATS_A_REGIONS]);
		q->stats->pages = get_u64(tb[TERN_STATS_A_PAGES]);
		q->stats->streams = get_u32(tb[TERN_STATS_A_STREAMS]);
		return NL_OK;
	case TERN_CMD_STREAM_OPEN:
		if (genlmsg_parse(nlh, 0, fd, TERN_REGION_A_MAX, region_pol) < 0 ||
		    !fd[TERN_REGION_A_STREAM_FD])
			q->err = -EBADMSG;
		else
			q->stream_fd = nla_get_u32(fd[TERN_REGION_A_STREAM_FD]);
		return NL_OK;
	default:
		return NL_OK;
	}
}

/* The error's TLVs (NETLINK_EXT_ACK, capped) follow struct nlmsgerr. */
static void save_extack(struct ternnl *nl, struct nlmsgerr *err)
{
	struct nlmsghdr *nlh = (void *)((char *)err - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*err);
	int len;

	nl->extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX,
				  (struct nlattr *)((char *)err + off), len,
				  NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(nl->extack, tb[NLMSGERR_ATTR_MSG],
			    sizeof(nl->extack));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *err, void *arg)
{
	struct req *q = arg;

	q->err = err->error;
	q->done = true;
	save_extack(q->nl, err);
	return NL_STOP;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct req *q = arg;

	q->done = true;
	return NL_STOP;
}

static int run(struct ternnl *nl, struct nl_msg *msg, struct req *q)
{
	struct nl_cb *cb;
	int ret;

	q->nl = nl;
	nl->extack[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, q);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, q);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, q);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, q);
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = -EIO;
		goto out;
	}
	while (!q->done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !q->done) {
			ret = -EIO;
			goto out;
		}
	}
	ret = q->err;
out:
	nl_cb_put(cb);
	return ret;
}

static struct nl_msg *new_msg(struct ternnl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags, cmd, TERN_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* A doit that names one region by fd. */
static int fd_request(struct ternnl *nl, uint8_t cmd, int region_fd,
		      struct req *q)
{
	struct nl_msg *msg = new_msg(nl, cmd, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, TERN_REGION_A_FD, region_fd) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = run(nl, msg, q);
	nlmsg_free(msg);
	return ret;
}

struct ternnl *ternnl__open(void)
{
	struct ternnl *nl = calloc(1, sizeof(*nl));
	int one = 1, err = ENOMEM;

	if (!nl)
		return NULL;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		goto err_free;
	err = ECONNREFUSED;
	if (genl_connect(nl->sk) < 0)
		goto err_sock;
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, TERN_GENL_NAME);
	err = ENOENT;
	if (nl->family < 0)
		goto err_sock;
	return nl;

err_sock:
	nl_socket_free(nl->sk);
err_free:
	free(nl);
	errno = err;
	return NULL;
}

void ternnl__close(struct ternnl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

int ternnl__family(const struct ternnl *nl)
{
	return nl->family;
}

const char *ternnl__extack(const struct ternnl *nl)
{
	return nl->extack;
}

int ternnl__get_stats(struct ternnl *nl, struct ternnl_stats *st)
{
	struct req q = { .stats = st };
	struct nl_msg *msg = new_msg(nl, TERN_CMD_GET_STATS, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	ret = run(nl, msg, &q);
	nlmsg_free(msg);
	return ret;
}

static int copy_region(const struct ternnl_region *r, void *arg)
{
	memcpy(arg, r, sizeof(*r));
	return 1;
}

int ternnl__get_region(struct ternnl *nl, int region_fd,
		       struct ternnl_region *r)
{
	struct req q = { .region_fn = copy_region, .arg = r };
	int ret = fd_request(nl, TERN_CMD_GET_REGION, region_fd, &q);

	if (!ret && !q.ret)
		return -EBADMSG;
	return ret;
}

int ternnl__list_regions(struct ternnl *nl, ternnl_region_fn fn, void *arg)
{
	struct req q = { .region_fn = fn, .arg = arg };
	struct nl_msg *msg = new_msg(nl, TERN_CMD_GET_REGION, NLM_F_DUMP);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = run(nl, msg, &q);
	nlmsg_free(msg);
	return ret;
}

int ternnl__track_start(struct ternnl *nl, int region_fd)
{
	struct req q = {};

	return fd_request(nl, TERN_CMD_TRACK_START, region_fd, &q);
}

int ternnl__track_stop(struct ternnl *nl, int region_fd)
{
	struct req q = {};

	return fd_request(nl, TERN_CMD_TRACK_STOP, region_fd, &q);
}

int ternnl__stream_open(struct ternnl *nl, int region_fd)
{
	struct req q = { .stream_fd = -1 };
	int ret = fd_request(nl, TERN_CMD_STREAM_OPEN, region_fd, &q);

	if (ret)
		return ret;
	return q.stream_fd >= 0 ? q.stream_fd : -EBADMSG;
}

int ternnl__raw(struct ternnl *nl, uint8_t cmd, int nlm_flags,
		const void *attrs, size_t len)
{
	struct req q = {};
	struct nl_msg *msg = new_msg(nl, cmd, nlm_flags);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (len && nlmsg_append(msg, (void *)attrs, len, 0) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = run(nl, msg, &q);
	nlmsg_free(msg);
	return ret;
}

int ternnl__subscribe(struct ternnl *nl)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, TERN_GENL_NAME,
					TERN_GENL_MCGRP_EVENTS);

	if (grp < 0)
		return -ENOENT;
	if (nl_socket_add_membership(nl->sk, grp) < 0)
		return -EIO;
	return 0;
}

struct event_ctx {
	struct ternnl_region *ev;
	bool got;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct event_ctx *c = arg;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));

	if (gh->cmd == TERN_CMD_EVENT && !c->got &&
	    !parse_region(nlmsg_hdr(msg), c->ev))
		c->got = true;
	return NL_OK;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

/* Returns 0 with *ev filled, -ETIMEDOUT, or -errno. */
int ternnl__next_event(struct ternnl *nl, int timeout_ms,
		       struct ternnl_region *ev)
{
	struct event_ctx c = { .ev = ev };
	struct pollfd pfd = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };
	struct nl_cb *cb;
	int ret = 0;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &c);
	while (!c.got) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret <= 0) {
			ret = ret ? -errno : -ETIMEDOUT;
			break;
		}
		if (nl_recvmsgs(nl->sk, cb) < 0) {
			ret = -EIO;
			break;
		}
		ret = 0;
	}
	nl_cb_put(cb);
	return c.got ? 0 : ret;
}
