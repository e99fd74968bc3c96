// SPDX-License-Identifier: GPL-2.0
/*
 * The `tern` generic netlink family: a table of bad requests (missing,
 * wrong type or length, unknown or reply-only attribute, closed fd, a fd
 * that is no region, another process's region, unknown flags or command)
 * each gets its exact errno and, where the module sets one, its extack
 * text; and the good paths (get, dump with per-user filtering, stats,
 * tracking, stream open, events) return what the ioctls say.
 */
#include <fcntl.h>
#include <sched.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"

#define REQUIRE_NL() TEST_REQUIRE(access(TERN_DEV_PATH, F_OK) == 0)

struct attrs {
	char buf[256];
	size_t len;
};

static void put(struct attrs *a, uint16_t type, const void *data,
		uint16_t len)
{
	struct nlattr nla = { .nla_len = NLA_HDRLEN + len, .nla_type = type };

	memcpy(a->buf + a->len, &nla, sizeof(nla));
	memcpy(a->buf + a->len + NLA_HDRLEN, data, len);
	a->len += NLA_ALIGN(NLA_HDRLEN + len);
}

enum fd_kind { FD_NONE, FD_REGION, FD_CLOSED, FD_DEVNULL, FD_STREAM, FD_FOREIGN };

struct bad_req {
	const char *what;
	uint8_t cmd;
	enum fd_kind fd;
	int fd_len;		/* bytes of the fd attribute (4 is right) */
	uint16_t extra_type;	/* an extra u32 attribute, 0 for none */
	uint32_t extra_val;
	int err;
	const char *extack;	/* substring, or NULL */
};

static const struct bad_req bad[] = {
	{ "missing fd", TERN_CMD_GET_REGION, FD_NONE, 4, 0, 0, EINVAL, NULL },
	{ "fd as u64", TERN_CMD_GET_REGION, FD_REGION, 8, 0, 0, EINVAL, NULL },
	{ "fd as u16", TERN_CMD_GET_REGION, FD_REGION, 2, 0, 0, EINVAL, NULL },
	{ "fd empty", TERN_CMD_TRACK_START, FD_REGION, 0, 0, 0, EINVAL, NULL },
	{ "unknown attribute", TERN_CMD_GET_REGION, FD_REGION, 4,
	  TERN_REGION_A_MAX + 1, 0, EINVAL, NULL },
	{ "reply-only id", TERN_CMD_GET_REGION, FD_REGION, 4,
	  TERN_REGION_A_ID, 1, EINVAL, "reply-only" },
	{ "reply-only stream fd", TERN_CMD_STREAM_OPEN, FD_REGION, 4,
	  TERN_REGION_A_STREAM_FD, 1, EINVAL, "reply-only" },
	{ "closed fd", TERN_CMD_GET_REGION, FD_CLOSED, 4, 0, 0, EBADF,
	  "not open" },
	{ "not a region", TERN_CMD_TRACK_START, FD_DEVNULL, 4, 0, 0, EINVAL,
	  "not a tern region" },
	{ "a stream fd", TERN_CMD_STREAM_OPEN, FD_STREAM, 4, 0, 0, EINVAL,
	  "not a tern region" },
	{ "another process's region", TERN_CMD_TRACK_START, FD_FOREIGN, 4,
	  0, 0, EBADF, "not open" },
	{ "unknown track flag", TERN_CMD_TRACK_START, FD_REGION, 4,
	  TERN_REGION_A_TRACK_FLAGS, 1, EOPNOTSUPP, "unknown flags" },
	{ "stop when off", TERN_CMD_TRACK_STOP, FD_REGION, 4, 0, 0, EINVAL,
	  "tracking is off" },
	{ "stats with an attribute", TERN_CMD_GET_STATS, FD_NONE, 4,
	  TERN_STATS_A_REGIONS, 1, EINVAL, "reply-only" },
	{ "unknown command", 99, FD_REGION, 4, 0, 0, EOPNOTSUPP, NULL },
	{ "event is not a request", TERN_CMD_EVENT, FD_REGION, 4, 0, 0,
	  EOPNOTSUPP, NULL },
};

/* A region fd number open in a child but not here. */
static int foreign_fd(void)
{
	int p[2], fd = -1, status;
	pid_t pid;

	TEST_ASSERT(!pipe(p), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		int i, r = -1;

		for (i = 0; i < 40; i++)	/* push past our own fds */
			r = region_create(PAGE, "foreign");
		TEST_ASSERT(write(p[1], &r, sizeof(r)) == sizeof(r), "write");
		_exit(0);
	}
	TEST_ASSERT(read(p[0], &fd, sizeof(fd)) == sizeof(fd), "read");
	waitpid(pid, &status, 0);
	close(p[0]);
	close(p[1]);
	TEST_ASSERT(fcntl(fd, F_GETFD) < 0, "fd %d is open here", fd);
	return fd;
}

TEST(bad_requests)
{
	struct ternnl *nl;
	unsigned int i;
	int region, stream, devnull, closed, foreign;

	REQUIRE_NL();
	nl = nl_open();
	region = region_create(PAGE, "nlbad");
	stream = stream_open(region);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
	close(closed);
	foreign = foreign_fd();

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct bad_req *b = &bad[i];
		uint64_t fd64 = 0;
		struct attrs a = {};
		int ret;

		switch (b->fd) {
		case FD_NONE:
			break;
		case FD_REGION:
			fd64 = region;
			break;
		case FD_CLOSED:
			fd64 = closed;
			break;
		case FD_DEVNULL:
			fd64 = devnull;
			break;
		case FD_STREAM:
			fd64 = stream;
			break;
		case FD_FOREIGN:
			fd64 = foreign;
			break;
		}
		if (b->fd != FD_NONE)
			put(&a, TERN_REGION_A_FD, &fd64, b->fd_len);
		if (b->extra_type)
			put(&a, b->extra_type, &b->extra_val, 4);
		ret = ternnl__raw(nl, b->cmd, 0, a.buf, a.len);
		EXPECT_EQ(-b->err, ret) {
			TH_LOG("%s: got %s (%s)", b->what, strerror(-ret),
			       ternnl__extack(nl));
		}
		if (b->extack) {
			EXPECT_NE(NULL, strstr(ternnl__extack(nl), b->extack)) {
				TH_LOG("%s: extack '%s'", b->what,
				       ternnl__extack(nl));
			}
		}
	}
	/* Tracking twice, through netlink. */
	ASSERT_EQ(0, ternnl__track_start(nl, region));
	ASSERT_EQ(-EBUSY, ternnl__track_start(nl, region));
	ASSERT_NE(NULL, strstr(ternnl__extack(nl), "already on"));
	close(devnull);
	close(stream);
	close(region);
	ternnl__close(nl);
}

TEST(get_track_stream_stats)
{
	struct tern_region_info info;
	struct ternnl_region r;
	struct ternnl_stats st0, st;
	struct ternnl *nl;
	char buf[8192], *mem;
	int fd, s;

	REQUIRE_NL();
	nl = nl_open();
	ASSERT_EQ(0, ternnl__get_stats(nl, &st0));
	fd = region_create(8 * PAGE, "nlgood");
	region_info(fd, &info);
	ASSERT_EQ(0, ternnl__get_region(nl, fd, &r));
	ASSERT_EQ(info.id, r.id);
	ASSERT_STREQ("nlgood", r.name);
	ASSERT_EQ(8 * PAGE, r.size);
	ASSERT_EQ(0, r.flags);
	ASSERT_EQ(0, r.streams);

	ASSERT_EQ(0, ternnl__track_start(nl, fd));
	region_info(fd, &info);
	ASSERT_EQ(TERN_REGION_F_TRACKING, info.flags);
	s = ternnl__stream_open(nl, fd);
	ASSERT_LE(0, s) TH_LOG("%s", ternnl__extack(nl));
	ASSERT_EQ(FD_CLOEXEC, fcntl(s, F_GETFD) & FD_CLOEXEC);
	/* round 1: every page, all holes, so header-only records */
	ASSERT_EQ(32 + 9 * 16, stream_read_round(s, buf, 256));
	mem = region_map(fd, 8 * PAGE);
	mem[3 * PAGE] = 1;
	ASSERT_EQ(32 + 16 + 4096 + 16, read(s, buf, sizeof(buf)));

	ASSERT_EQ(0, ternnl__get_region(nl, fd, &r));
	ASSERT_EQ(TERN_REGION_F_TRACKING, r.flags);
	ASSERT_EQ(2, r.rounds);
	ASSERT_EQ(1, r.last_pages);
	ASSERT_EQ(9, r.dirtied);
	ASSERT_LE(1, r.write_faults);
	ASSERT_EQ(1, r.resident);
	ASSERT_EQ(1, r.streams);
	ASSERT_EQ(0, ternnl__get_stats(nl, &st));
	ASSERT_EQ(st0.regions + 1, st.regions);
	ASSERT_EQ(st0.streams + 1, st.streams);

	ASSERT_EQ(0, ternnl__track_stop(nl, fd));
	ASSERT_EQ(0, ternnl__get_region(nl, fd, &r));
	ASSERT_EQ(0, r.flags);
	close(s);
	munmap(mem, 8 * PAGE);
	close(fd);
	ASSERT_TRUE(tern_stats_settle_zero(&st));
	ternnl__close(nl);
}

struct seen {
	uint32_t want[3];
	int found;
	int total;
};

static int count_regions(const struct ternnl_region *r, void *arg)
{
	struct seen *s = arg;
	int i;

	s->total++;
	for (i = 0; i < 3; i++)
		if (r->id == s->want[i])
			s->found++;
	return 0;
}

TEST(dump_lists_regions_per_user)
{
	struct tern_region_info info;
	struct seen seen = {};
	struct ternnl *nl;
	int fds[3], i, status, p[2];
	uint32_t child_id;
	pid_t pid;

	REQUIRE_NL();
	TEST_REQUIRE(getuid() == 0);
	nl = nl_open();
	for (i = 0; i < 3; i++) {
		fds[i] = region_create(PAGE, "dump");
		region_info(fds[i], &info);
		seen.want[i] = info.id;
	}
	ASSERT_EQ(0, ternnl__list_regions(nl, count_regions, &seen));
	ASSERT_EQ(3, seen.found);
	ASSERT_EQ(3, seen.total);

	/* An unprivileged user (given the device) lists its own region only. */
	ASSERT_EQ(0, chmod(TERN_DEV_PATH, 0666));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct seen mine = {};
		struct ternnl *cnl;
		int fd;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		fd = region_create(PAGE, "nobody");
		region_info(fd, &info);
		mine.want[0] = info.id;
		cnl = nl_open();
		if (ternnl__list_regions(cnl, count_regions, &mine))
			_exit(3);
		if (write(p[1], &info.id, 4) != 4)
			_exit(4);
		_exit(mine.found == 1 && mine.total == 1 ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, chmod(TERN_DEV_PATH, 0660));
	ASSERT_EQ(0, status);
	ASSERT_EQ(4, read(p[0], &child_id, 4));
	close(p[0]);
	close(p[1]);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	memset(&seen, 0, sizeof(seen));
	seen.want[0] = child_id;
	ASSERT_EQ(0, ternnl__list_regions(nl, count_regions, &seen));
	ASSERT_EQ(0, seen.total);	/* all closed, the child's too */
	ternnl__close(nl);
}

TEST(events)
{
	struct tern_region_info info;
	struct ternnl_region ev;
	struct ternnl *nl;
	uint64_t map[1];
	char *mem;
	int fd;

	REQUIRE_NL();
	nl = nl_open();
	ASSERT_EQ(0, ternnl__subscribe(nl));
	fd = region_create(4 * PAGE, "events");
	region_info(fd, &info);
	ASSERT_EQ(0, ternnl__next_event(nl, 2000, &ev));
	ASSERT_EQ(TERN_EVENT_REGION_NEW, ev.event);
	ASSERT_EQ(info.id, ev.id);
	ASSERT_STREQ("events", ev.name);
	ASSERT_EQ(4 * PAGE, ev.size);
	track_start(fd);
	ASSERT_EQ(0, ternnl__next_event(nl, 2000, &ev));
	ASSERT_EQ(TERN_EVENT_TRACK_START, ev.event);
	track_harvest(fd, map, 4, NULL);
	ASSERT_EQ(0, ternnl__next_event(nl, 2000, &ev));
	ASSERT_EQ(TERN_EVENT_ROUND, ev.event);
	ASSERT_EQ(1, ev.rounds);
	ASSERT_EQ(4, ev.last_pages);
	mem = region_map(fd, 4 * PAGE);
	mem[0] = mem[PAGE] = 1;
	track_harvest(fd, map, 4, NULL);
	ASSERT_EQ(0, ternnl__next_event(nl, 2000, &ev));
	ASSERT_EQ(TERN_EVENT_ROUND, ev.event);
	ASSERT_EQ(2, ev.last_pages);
	track_stop(fd);
	ASSERT_EQ(0, ternnl__next_event(nl, 2000, &ev));
	ASSERT_EQ(TERN_EVENT_TRACK_STOP, ev.event);
	munmap(mem, 4 * PAGE);
	close(fd);
	ASSERT_EQ(0, ternnl__next_event(nl, 2000, &ev));
	ASSERT_EQ(TERN_EVENT_REGION_DEL, ev.event);
	ASSERT_EQ(info.id, ev.id);
	ASSERT_EQ(-ETIMEDOUT, ternnl__next_event(nl, 100, &ev));
	ternnl__close(nl);
}

/* Regions belong to their creator's network namespace: dumps and events. */
TEST(per_network_namespace)
{
	struct seen seen = {};
	struct ternnl_region ev;
	struct ternnl *nl;
	int up[2], down[2], status;
	uint32_t id;
	char go = 1;
	pid_t pid;

	REQUIRE_NL();
	TEST_REQUIRE(getuid() == 0);
	nl = nl_open();
	ASSERT_EQ(0, ternnl__subscribe(nl));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct tern_region_info info;
		struct seen mine = {};
		struct ternnl *cnl;
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(2);
		fd = region_create(PAGE, "netns");
		region_info(fd, &info);
		mine.want[0] = info.id;
		cnl = nl_open();
		if (ternnl__list_regions(cnl, count_regions, &mine) ||
		    mine.found != 1 || mine.total != 1)
			_exit(3);
		if (write(up[1], &info.id, 4) != 4 || read(down[0], &go, 1) != 1)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(4, read(up[0], &id, 4));
	seen.want[0] = id;
	ASSERT_EQ(0, ternnl__list_regions(nl, count_regions, &seen));
	ASSERT_EQ(0, seen.found);
	ASSERT_EQ(1, write(down[1], &go, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	/* neither its NEW nor its DEL reached this namespace */
	ASSERT_EQ(-ETIMEDOUT, ternnl__next_event(nl, 300, &ev));
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	ternnl__close(nl);
}

TEST_HARNESS_MAIN
