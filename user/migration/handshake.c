// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake: the source's hello (magic, protocol versions,
 * capabilities, tracker, vCPU model and CPUID features, device list with
 * vmstate versions) and the destination's welcome, or a failure that names
 * exactly what differs, before any page moves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lib/log.h"
#include "migration/internal.h"

static const char *cap_name(uint32_t bit)
{
	switch (bit) {
	case MIG_CAP_KSTREAM:
		return "kernel-page-stream";
	case MIG_CAP_ZERO_PAGES:
		return "zero-pages";
	case MIG_CAP_DRAIN:
		return "drain";
	default:
		return "unknown";
	}
}

static int put_subs(struct nl_msg *msg, const struct mig_device *d)
{
	struct nlattr *list, *sub;
	unsigned int k;

	if (!d->nr_subs)
		return 0;
	list = nla_nest_start(msg, MIG_A_DEV_SUBS);
	if (!list)
		return -EMSGSIZE;
	for (k = 0; k < d->nr_subs && k < MIG_MAX_SUBS; k++) {
		sub = nla_nest_start(msg, MIG_A_SUB);
		if (!sub ||
		    nla_put_string(msg, MIG_A_SUB_NAME, d->subs[k].name) ||
		    nla_put_u32(msg, MIG_A_SUB_VERSION, d->subs[k].version) ||
		    nla_put_u32(msg, MIG_A_SUB_MIN_VERSION, d->subs[k].min_version))
			return -EMSGSIZE;
		nla_nest_end(msg, sub);
	}
	nla_nest_end(msg, list);
	return 0;
}

static int put_devices(struct nl_msg *msg, const struct mig_machine *m)
{
	struct nlattr *list, *dev;
	unsigned int i;

	list = nla_nest_start(msg, MIG_A_DEVICES);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < m->nr_devices; i++) {
		dev = nla_nest_start(msg, MIG_A_DEVICE);
		if (!dev ||
		    nla_put_string(msg, MIG_A_DEV_PATH, m->devices[i].path) ||
		    nla_put_u32(msg, MIG_A_DEV_VERSION, m->devices[i].version) ||
		    nla_put_u32(msg, MIG_A_DEV_MIN_VERSION,
				m->devices[i].min_version) ||
		    (m->devices[i].type &&
		     nla_put_string(msg, MIG_A_DEV_TYPE, m->devices[i].type)) ||
		    put_subs(msg, &m->devices[i]))
			return -EMSGSIZE;
		nla_nest_end(msg, dev);
	}
	nla_nest_end(msg, list);
	return 0;
}

/*
 * The source asks for `channels`, if it has a URI to open them to, or as
 * many as it was given connections for.
 */
static unsigned int chans_wanted(struct mig *mig)
{
	if (mig->uri)
		return mig->p.channels;
	if (mig->nr_chan_fds)
		return mig->nr_chan_fds + 1 < mig->p.channels ?
		       mig->nr_chan_fds + 1 : mig->p.channels;
	return 1;
}

/*
 * A TLS 1.3 server checks our certificate after our side of the handshake
 * has ended: a destination that refuses it closes before the welcome.  A
 * TLS destination drops a plaintext hello unanswered, while it is still
 * being written or after.
 */
static const char *refused_hint(struct mig *mig, int err)
{
	if (err != -ECONNRESET && err != -EPIPE && err != -EBADMSG && err != -EIO)
		return "";
	return mig->tls ? " (it may have refused our certificate; see its log)" :
			  " (it may want TLS; see its log)";
}

int mig_hello_send(struct mig *mig)
{
	struct mig_machine m = { 0 };
	struct nl_msg *msg;
	int ret;

	mig->releases[0] = '\0';
	ret = mig->ops->machine(mig->vm, &m);
	if (ret)
		return mig_fail(mig, ret, "cannot describe this machine");
	if (m.nr_devices > MIG_MAX_DEVICES || m.cpuid_len > MIG_CPUID_MAX)
		return mig_fail(mig, -E2BIG, "machine description too large");
	msg = mig_attrs_new();
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, MIG_A_MAGIC, MIG_MAGIC) ||
	    nla_put_u32(msg, MIG_A_VERSION_MIN, mig->p.version_min) ||
	    nla_put_u32(msg, MIG_A_VERSION_MAX, mig->p.version_max) ||
	    nla_put_u32(msg, MIG_A_CAPS, mig->p.caps) ||
	    nla_put_u32(msg, MIG_A_CAPS_REQUIRED, mig->caps_req) ||
	    nla_put_u32(msg, MIG_A_TRACKER, mig->tracker) ||
	    nla_put_string(msg, MIG_A_CPU_MODEL, m.cpu_model ? m.cpu_model : "") ||
	    nla_put(msg, MIG_A_CPUID, m.cpuid_len, m.cpuid) ||
	    (mig->p.release && nla_put_string(msg, MIG_A_RELEASE, mig->p.release)) ||
	    /* One channel: nothing new on the wire (old destinations). */
	    (chans_wanted(mig) > 1 &&
	     nla_put_u32(msg, MIG_A_CHANNELS, chans_wanted(mig))) ||
	    put_devices(msg, &m)) {
		nlmsg_free(msg);
		return mig_fail(mig, -EMSGSIZE, "hello does not fit %u bytes",
				MIG_CTRL_MAX);
	}
	ret = mig_send_attrs(&mig->conn, MIG_MSG_HELLO, msg);
	if (ret)
		return mig_fail(mig, ret, "sending hello: %s%s", mig->conn.err,
				refused_hint(mig, ret));
	return 0;
}

static const struct mig_device *find_dev(const struct mig_machine *m,
					 const char *path)
{
	unsigned int i;

	for (i = 0; i < m->nr_devices; i++)
		if (!strcmp(m->devices[i].path, path))
			return &m->devices[i];
	return NULL;
}

/* src's subsection k does not load into mine (by name and versions). */
static bool sub_unloadable(const struct mig_device *mine,
			   const struct mig_sub *s)
{
	unsigned int k;

	for (k = 0; k < mine->nr_subs; k++)
		if (!strcmp(mine->subs[k].name, s->name))
			return s->version < mine->subs[k].min_version ||
			       s->version > mine->subs[k].version;
	return true;
}

/* Without a filter: the same devices on both sides, versions in range. */
static int admit_identity(struct mig *mig, const struct mig_device *src,
			  unsigned int n, const struct mig_machine *m,
			  uint32_t *unloadable)
{
	const struct mig_device *mine;
	unsigned int i, j, k;

	for (i = 0; i < n; i++) {
		mine = find_dev(m, src[i].path);
		if (!mine)
			return mig_fail(mig, -ENODEV,
					"device '%s' of the source does not exist here",
					src[i].path);
		if (src[i].version < mine->min_version ||
		    src[i].version > mine->version)
			return mig_fail(mig, -EPROTONOSUPPORT,
					"device '%s': source saves version %u, this side loads %u..%u",
					src[i].path, src[i].version,
					mine->min_version, mine->version);
		unloadable[i] = 0;
		for (k = 0; k < src[i].nr_subs; k++)
			if (sub_unloadable(mine, &src[i].subs[k]))
				unloadable[i] |= 1u << k;
	}
	for (i = 0; i < m->nr_devices; i++) {
		for (j = 0; j < n; j++)
			if (!strcmp(src[j].path, m->devices[i].path))
				break;
		if (j == n)
			return mig_fail(mig, -ENODEV,
					"device '%s' exists here but not on the source",
					m->devices[i].path);
	}
	return 0;
}

/* A device's subsection list (absent: none sent) into d. */
static int parse_subs(struct mig *mig, struct nlattr *list,
		      struct mig_device *d)
{
	struct nlattr *tb[MIG_A_MAX + 1], *sub;
	struct mig_sub *s;
	unsigned int k;
	int rem;

	d->nr_subs = 0;
	if (!list)
		return 0;
	if (mig_parse_nested(list, tb))
		return mig_fail(mig, -EBADMSG, "hello: device '%s': malformed subsections",
				d->path);
	nla_for_each_nested(sub, list, rem) {
		if (nla_type(sub) != MIG_A_SUB || d->nr_subs == MIG_MAX_SUBS ||
		    mig_parse_nested(sub, tb))
			return mig_fail(mig, -EBADMSG,
					"hello: device '%s': malformed subsection %u (at most %d)",
					d->path, d->nr_subs, MIG_MAX_SUBS);
		s = &d->subs[d->nr_subs];
		s->name = mig_attr_str(tb, MIG_A_SUB_NAME);
		if (!s->name || mig_attr_u32(tb, MIG_A_SUB_VERSION, &s->version) ||
		    mig_attr_u32(tb, MIG_A_SUB_MIN_VERSION, &s->min_version))
			return mig_fail(mig, -EBADMSG,
					"hello: device '%s': subsection %u lacks name or versions",
					d->path, d->nr_subs);
		for (k = 0; k < d->nr_subs; k++)
			if (!strcmp(d->subs[k].name, s->name))
				return mig_fail(mig, -EBADMSG,
						"hello: device '%s': subsection '%s' listed twice",
						d->path, s->name);
		d->nr_subs++;
	}
	return 0;
}

/*
 * What admission found unloadable here, kept for the welcome: the source
 * then migrates only while none of it is needed.
 */
static int note_unloadable(struct mig *mig, const struct mig_device *src,
			   unsigned int n, const uint32_t *unloadable)
{
	struct mig_unloadable *u;
	unsigned int i, k;

	mig->nr_unloadable = 0;
	for (i = 0; i < n; i++)
		for (k = 0; k < src[i].nr_subs; k++) {
			if (!(unloadable[i] & (1u << k)))
				continue;
			if (mig->nr_unloadable == MIG_UNLOADABLE_MAX)
				return mig_fail(mig, -EPROTONOSUPPORT,
						"more than %d subsections of the source's devices do not load here",
						MIG_UNLOADABLE_MAX);
			u = &mig->unloadable[mig->nr_unloadable++];
			snprintf(u->path, sizeof(u->path), "%s", src[i].path);
			snprintf(u->name, sizeof(u->name), "%s", src[i].subs[k].name);
			u->version = src[i].subs[k].version;
			if (!mig->p.quiet)
				pr_info("migration: device '%s': subsection '%s' version %u does not load here; the source may send the device only without it",
					u->path, u->name, u->version);
		}
	return 0;
}

/*
 * The source's device list against what this side loads: by identity,
 * or through m->admit (the filters of its vmstate registry), so that a
 * device renamed or split since the source's release is admitted, and
 * one that nothing here converts is refused before any page moves.  Its
 * subsections that do not load here go to mig->unloadable.
 */
static int check_devices(struct mig *mig, struct nlattr *list,
			 const struct mig_machine *m)
{
	struct mig_device src[MIG_MAX_DEVICES];
	uint32_t unloadable[MIG_MAX_DEVICES];
	struct nlattr *tb[MIG_A_MAX + 1], *dev;
	char why[MIG_STR_MAX];
	unsigned int n = 0, i;
	uint32_t ver, min;
	const char *path;
	int rem, ret;

	if (!list || mig_parse_nested(list, tb))
		return mig_fail(mig, -EBADMSG, "hello: malformed device list");
	nla_for_each_nested(dev, list, rem) {
		if (nla_type(dev) != MIG_A_DEVICE || n == MIG_MAX_DEVICES ||
		    mig_parse_nested(dev, tb))
			return mig_fail(mig, -EBADMSG,
					"hello: malformed device %u", n);
		path = mig_attr_str(tb, MIG_A_DEV_PATH);
		if (!path || mig_attr_u32(tb, MIG_A_DEV_VERSION, &ver) ||
		    mig_attr_u32(tb, MIG_A_DEV_MIN_VERSION, &min) ||
		    (tb[MIG_A_DEV_TYPE] && !mig_attr_str(tb, MIG_A_DEV_TYPE)))
			return mig_fail(mig, -EBADMSG,
					"hello: device %u lacks path or versions", n);
		for (i = 0; i < n; i++)
			if (!strcmp(src[i].path, path))
				return mig_fail(mig, -EBADMSG,
						"hello: device '%s' listed twice", path);
		src[n] = (struct mig_device){
			.path = path, .version = ver, .min_version = min,
			.type = mig_attr_str(tb, MIG_A_DEV_TYPE),
		};
		ret = parse_subs(mig, tb[MIG_A_DEV_SUBS], &src[n++]);
		if (ret)
			return ret;
	}
	if (!m->admit) {
		ret = admit_identity(mig, src, n, m, unloadable);
	} else {
		why[0] = '\0';
		ret = m->admit(m->admit_arg, src, n, unloadable, why, sizeof(why));
		if (ret)
			ret = mig_fail(mig, ret < 0 ? ret : -EPROTONOSUPPORT, "%s",
				       why[0] ? why : "the source's devices are not loadable here");
	}
	return ret ? ret : note_unloadable(mig, src, n, unloadable);
}

static int check_cpu(struct mig *mig, struct nlattr **tb,
		     const struct mig_machine *m)
{
	const char *model = mig_attr_str(tb, MIG_A_CPU_MODEL);
	const uint8_t *cpuid;
	unsigned int i, len;
	uint8_t mine, miss;

	if (!model || !tb[MIG_A_CPUID])
		return mig_fail(mig, -EBADMSG, "hello: no vCPU model or CPUID");
	if (strcmp(model, m->cpu_model ? m->cpu_model : ""))
		return mig_fail(mig, -EPROTONOSUPPORT,
				"vCPU model '%s' on the source, '%s' here",
				model, m->cpu_model ? m->cpu_model : "");
	cpuid = nla_data(tb[MIG_A_CPUID]);
	len = nla_len(tb[MIG_A_CPUID]);
	for (i = 0; i < len; i++) {
		mine = i < m->cpuid_len ? m->cpuid[i] : 0;
		miss = cpuid[i] & ~mine;
		if (miss)
			return mig_fail(mig, -EPROTONOSUPPORT,
					"CPUID feature bit %u on the source is missing here",
					i * 8 + __builtin_ctz(miss));
	}
	return 0;
}

/*
 * Both releases, for the refusals of the handshake: a peer from before
 * MIG_A_RELEASE (or a test) sends none.
 */
static void note_releases(struct mig *mig, struct nlattr **tb)
{
	const char *peer = mig_attr_str(tb, MIG_A_RELEASE);
	const char *mine = mig->p.release;
	const char *c;

	for (c = peer; c && *c; c++)
		if (*c < 0x20 || *c > 0x7e) {
			peer = "(unprintable)";
			break;
		}

	snprintf(mig->releases, sizeof(mig->releases),
		 "source ternvm %.40s, destination ternvm %.40s",
		 mig->is_source ? (mine ?: "unknown") : (peer ?: "unknown"),
		 mig->is_source ? (peer ?: "unknown") : (mine ?: "unknown"));
}

static int check_caps(struct mig *mig, uint32_t theirs, uint32_t their_req)
{
	uint32_t agreed = theirs & mig->p.caps & __MIG_CAP_ALL;
	uint32_t miss;

	miss = their_req & ~agreed;
	if (miss)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"capability '%s' required by the source is not offered here",
				cap_name(miss & -miss));
	miss = mig->p.caps_required & ~agreed;
	if (miss)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"capability '%s' required here is not offered by the source",
				cap_name(miss & -miss));
	mig->caps = agreed;
	return 0;
}

/*
 * The count of channels the source asks for (absent: 1): taken if this
 * side has a listener to accept them on and it is within the parameter
 * `channels` here, else refused naming both counts.
 */
static int check_channels(struct mig *mig, struct nlattr **tb, uint32_t *nch)
{
	*nch = 1;
	if (!tb[MIG_A_CHANNELS])
		return 0;
	if (mig_attr_u32(tb, MIG_A_CHANNELS, nch) || *nch < 1 ||
	    *nch > MIG_CHANNELS_MAX)
		return mig_fail(mig, -EBADMSG,
				"hello: channel count not in 1..%u",
				MIG_CHANNELS_MAX);
	if (*nch > 1 && mig->lfd < 0 && !mig->nr_chan_fds)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"the source asks for %u channels; this destination has no listener for more than 1",
				*nch);
	if (*nch > 1 && mig->lfd < 0 && *nch - 1 > mig->nr_chan_fds)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"the source asks for %u channels; this destination was given %u connections for them",
				*nch, mig->nr_chan_fds);
	if (*nch > mig->p.channels)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"the source asks for %u channels; this destination takes at most %u (parameter channels)",
				*nch, mig->p.channels);
	return 0;
}

static int put_unloadable(struct nl_msg *msg, const struct mig *mig)
{
	struct nlattr *list, *sub;
	unsigned int i;

	if (!mig->nr_unloadable)
		return 0;
	list = nla_nest_start(msg, MIG_A_SUBS_UNLOADABLE);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < mig->nr_unloadable; i++) {
		sub = nla_nest_start(msg, MIG_A_SUB);
		if (!sub ||
		    nla_put_string(msg, MIG_A_DEV_PATH, mig->unloadable[i].path) ||
		    nla_put_string(msg, MIG_A_SUB_NAME, mig->unloadable[i].name) ||
		    nla_put_u32(msg, MIG_A_SUB_VERSION, mig->unloadable[i].version))
			return -EMSGSIZE;
		nla_nest_end(msg, sub);
	}
	nla_nest_end(msg, list);
	return 0;
}

int mig_hello_recv(struct mig *mig)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	struct mig_machine m = { 0 };
	uint32_t magic, vmin, vmax, caps, req, tracker, ver, nch;
	struct nl_msg *msg;
	struct mig_hdr h;
	int ret;

	mig->releases[0] = '\0';
	ret = mig_recv_hdr(&mig->conn, &h);
	if (ret)
		return mig_fail(mig, ret, "waiting for hello: %s", mig->conn.err);
	if (h.type != MIG_MSG_HELLO)
		return mig_fail(mig, -EPROTO, "expected hello, got %s",
				mig_msg_name(h.type));
	ret = mig_recv_attrs(&mig->conn, &h, tb);
	if (ret)
		return mig_fail(mig, ret, "hello: %s", mig->conn.err);
	if (mig_attr_u32(tb, MIG_A_MAGIC, &magic) || magic != MIG_MAGIC)
		return mig_fail(mig, -EPROTO, "not a Tern migration (bad magic)");
	note_releases(mig, tb);
	if (mig_attr_u32(tb, MIG_A_VERSION_MIN, &vmin) ||
	    mig_attr_u32(tb, MIG_A_VERSION_MAX, &vmax) ||
	    mig_attr_u32(tb, MIG_A_CAPS, &caps) ||
	    mig_attr_u32(tb, MIG_A_CAPS_REQUIRED, &req) ||
	    mig_attr_u32(tb, MIG_A_TRACKER, &tracker))
		return mig_fail(mig, -EBADMSG,
				"hello lacks versions, capabilities or tracker");
	ver = vmax < mig->p.version_max ? vmax : mig->p.version_max;
	if (vmin > vmax || ver < vmin || ver < mig->p.version_min)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"protocol versions %u..%u on the source, %u..%u here",
				vmin, vmax, mig->p.version_min,
				mig->p.version_max);
	if (tracker != MIG_TRACKER_DIRTY_LOG && tracker != MIG_TRACKER_TERN)
		return mig_fail(mig, -EBADMSG, "unknown tracker %u", tracker);
	ret = check_channels(mig, tb, &nch);
	if (ret)
		return ret;
	ret = check_caps(mig, caps, req);
	if (ret)
		return ret;
	ret = mig->ops->machine(mig->vm, &m);
	if (ret)
		return mig_fail(mig, ret, "cannot describe this machine");
	ret = check_cpu(mig, tb, &m);
	if (!ret)
		ret = check_devices(mig, tb[MIG_A_DEVICES], &m);
	if (ret)
		return ret;
	mig->releases[0] = '\0';
	mig->version = ver;
	mig->tracker = tracker;
	pthread_mutex_lock(&mig->lock);
	mig->st.tracker = tracker;
	mig->nch = nch;
	mig->st.channels = nch;
	pthread_mutex_unlock(&mig->lock);
	/* The token that admits this migration's channels, and no stray. */
	if (nch > 1 && getrandom(mig->token, sizeof(mig->token), 0) !=
	    (ssize_t)sizeof(mig->token))
		return mig_fail(mig, -errno, "no random channel token: %s",
				strerror(errno));

	msg = mig_attrs_new();
	if (!msg)
		return -ENOMEM;
	if (put_unloadable(msg, mig) ||
	    nla_put_u32(msg, MIG_A_VERSION, ver) ||
	    nla_put_u32(msg, MIG_A_CAPS, mig->caps) ||
	    (mig->p.release && nla_put_string(msg, MIG_A_RELEASE, mig->p.release)) ||
	    (nch > 1 && (nla_put_u32(msg, MIG_A_CHANNELS, nch) ||
			 nla_put(msg, MIG_A_CHAN_TOKEN, sizeof(mig->token),
				 mig->token)))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = mig_send_attrs(&mig->conn, MIG_MSG_WELCOME, msg);
	if (ret)
		return mig_fail(mig, ret, "sending welcome: %s", mig->conn.err);
	return 0;
}

/*
 * The destination takes the count asked for, or refuses (an error, not a
 * welcome).  One from before channels says nothing of them: it gets the
 * single stream it knows.
 */
static int agree_channels(struct mig *mig, struct nlattr **tb)
{
	unsigned int want = chans_wanted(mig);
	uint32_t n = 1;

	if (!tb[MIG_A_CHANNELS] && want > 1) {
		if (!mig->p.quiet)
			pr_info("migration: the destination predates channels: 1 channel, not %u",
				want);
		want = 1;
	}
	if (tb[MIG_A_CHANNELS] && mig_attr_u32(tb, MIG_A_CHANNELS, &n))
		return mig_fail(mig, -EBADMSG, "welcome: malformed channel count");
	if (n != want)
		return mig_fail(mig, -EPROTO,
				"destination agreed to %u channels, %u asked",
				n, want);
	if (n > 1) {
		if (!tb[MIG_A_CHAN_TOKEN] ||
		    nla_len(tb[MIG_A_CHAN_TOKEN]) != MIG_CHAN_TOKEN_LEN)
			return mig_fail(mig, -EBADMSG,
					"welcome: %u channels but no token", n);
		memcpy(mig->token, nla_data(tb[MIG_A_CHAN_TOKEN]),
		       MIG_CHAN_TOKEN_LEN);
	}
	pthread_mutex_lock(&mig->lock);
	mig->nch = n;
	mig->st.channels = n;
	pthread_mutex_unlock(&mig->lock);
	return 0;
}

/* The welcome's list of our subsections the destination does not load. */
static int parse_unloadable(struct mig *mig, struct nlattr *list)
{
	struct nlattr *tb[MIG_A_MAX + 1], *sub;
	struct mig_unloadable *u;
	const char *path, *name;
	int rem;

	mig->nr_unloadable = 0;
	if (!list)
		return 0;
	if (mig_parse_nested(list, tb))
		return mig_fail(mig, -EBADMSG, "welcome: malformed subsection list");
	nla_for_each_nested(sub, list, rem) {
		if (nla_type(sub) != MIG_A_SUB ||
		    mig->nr_unloadable == MIG_UNLOADABLE_MAX ||
		    mig_parse_nested(sub, tb))
			return mig_fail(mig, -EBADMSG,
					"welcome: malformed subsection %u (at most %d)",
					mig->nr_unloadable, MIG_UNLOADABLE_MAX);
		u = &mig->unloadable[mig->nr_unloadable];
		path = mig_attr_str(tb, MIG_A_DEV_PATH);
		name = mig_attr_str(tb, MIG_A_SUB_NAME);
		if (!path || !name || mig_attr_u32(tb, MIG_A_SUB_VERSION, &u->version))
			return mig_fail(mig, -EBADMSG,
					"welcome: subsection %u lacks device, name or version",
					mig->nr_unloadable);
		snprintf(u->path, sizeof(u->path), "%s", path);
		snprintf(u->name, sizeof(u->name), "%s", name);
		mig->nr_unloadable++;
	}
	return 0;
}

int mig_subs_check(struct mig *mig)
{
	struct mig_unloadable *u;
	unsigned int i;
	int need;

	for (i = 0; i < mig->nr_unloadable && mig->ops->sub_needed; i++) {
		u = &mig->unloadable[i];
		need = mig->ops->sub_needed(mig->vm, u->path, u->name);
		if (need > 0)
			return mig_fail(mig, -EPROTONOSUPPORT,
					"device '%s': subsection '%s' version %u is needed now and the destination does not load it",
					u->path, u->name, u->version);
		if (need < 0)
			return mig_fail(mig, need,
					"device '%s': the destination does not load subsection '%s', which is not here either",
					u->path, u->name);
	}
	return 0;
}

int mig_welcome_recv(struct mig *mig)
{
	struct nlattr *tb[MIG_A_MAX + 1];
	uint32_t ver, caps;
	struct mig_hdr h;
	unsigned int i;
	int ret;

	mig->releases[0] = '\0';
	ret = mig_recv_hdr(&mig->conn, &h);
	/*
	 * A destination that refuses us closes here: a TLS 1.3 server checks
	 * our certificate after our side of the handshake has ended.
	 */
	if (ret)
		return mig_fail(mig, ret, "waiting for welcome: %s%s", mig->conn.err,
				refused_hint(mig, ret));
	if (h.type != MIG_MSG_WELCOME)
		return mig_fail(mig, -EPROTO, "expected welcome, got %s",
				mig_msg_name(h.type));
	ret = mig_recv_attrs(&mig->conn, &h, tb);
	if (ret)
		return mig_fail(mig, ret, "welcome: %s", mig->conn.err);
	if (mig_attr_u32(tb, MIG_A_VERSION, &ver) ||
	    mig_attr_u32(tb, MIG_A_CAPS, &caps))
		return mig_fail(mig, -EBADMSG, "welcome lacks version or caps");
	note_releases(mig, tb);
	if (ver < mig->p.version_min || ver > mig->p.version_max)
		return mig_fail(mig, -EPROTO,
				"destination chose version %u, not offered", ver);
	if (caps & ~mig->p.caps)
		return mig_fail(mig, -EPROTO,
				"destination agreed to capabilities 0x%x, not offered",
				caps & ~mig->p.caps);
	if (mig->caps_req & ~caps)
		return mig_fail(mig, -EPROTONOSUPPORT,
				"capability '%s' required here was refused",
				cap_name(mig->caps_req & ~caps &
					 -(mig->caps_req & ~caps)));
	ret = agree_channels(mig, tb);
	if (!ret)
		ret = parse_unloadable(mig, tb[MIG_A_SUBS_UNLOADABLE]);
	if (!ret)
		ret = mig_subs_check(mig);
	if (ret)
		return ret;
	for (i = 0; i < mig->nr_unloadable && !mig->p.quiet; i++)
		pr_info("migration: the destination does not load subsection '%s' of '%s'; going on while it is not needed",
			mig->unloadable[i].name, mig->unloadable[i].path);
	mig->releases[0] = '\0';
	mig->version = ver;
	mig->caps = caps;
	return 0;
}
