// SPDX-License-Identifier: GPL-2.0
/*
 * tern.ko on a host shared by users: a stream never shows bytes that its
 * region's writers did not write, /dev/tern is open to root and its group
 * only, statistics and events stay within a network namespace and need
 * CAP_NET_ADMIN there, one user's harvest does not stall another user's
 * listing, and a stream fd whose netlink reply is lost is not left behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "tern_util.h"
#include "test_util.h"


static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Freed memory full of a byte no writer of ours uses. */
static void poison_free_memory(size_t bytes)
{
	int status;
	pid_t pid = fork();

	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		memset(p, 0xa5, bytes);
		_exit(0);
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid && !status, "poisoner");
}

struct toucher {
	char *mem;
	size_t npages;
	atomic_bool *stop;
	unsigned char val;
};

/* Write each fresh page of the region whole, once. */
static void *touch_fresh_pages(void *arg)
{
	struct toucher *t = arg;
	size_t i;

	for (i = 0; i < t->npages && !atomic_load(t->stop); i++)
		memset(t->mem + i * PAGE, t->val, PAGE);
	atomic_store(t->stop, true);
	return NULL;
}

/*
 * A page a toucher is writing holds its value v and zeros, in whatever
 * order memset stores them (glibc stores a block's tail early): any other
 * byte, the poisoner's 0xa5 say, is memory the region's writers never
 * wrote.  Returns the offset of the first such byte, or -1.
 */
static long page_foreign_byte(const unsigned char *p, unsigned char v)
{
	size_t i;

	for (i = 0; i < PAGE; i++)
		if (p[i] && p[i] != v)
			return i;
	return -1;
}

/* kselftest_harness.h of 6.1 has timeouts only for fixtures. */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

TEST_F_TIMEOUT(slow, fresh_pages_show_only_written_bytes, 300)
{
	const size_t npages = 2048, half = npages / 2;
	size_t cap = stream_round_max(npages);
	char *buf = malloc(cap);
	uint64_t t0 = now_ms();
	unsigned int rounds = 0, bad = 0, data = 0;

	REQUIRE_TERN();
	ASSERT_NE(NULL, buf);
	while (now_ms() - t0 < 8000 && !bad) {
		atomic_bool stop = false;
		struct toucher t[2];
		pthread_t th[2];
		size_t len, off;
		unsigned char v;
		char *mem;
		long at;
		int fd, s, i;

		poison_free_memory(32 << 20);
		fd = region_create(npages * PAGE, "fresh");
		mem = region_map(fd, npages * PAGE);
		for (i = 0; i < 2; i++) {
			t[i] = (struct toucher){ mem + i * half * PAGE, half,
						 &stop, (unsigned char)(1 + i * 64) };
			ASSERT_EQ(0, pthread_create(&th[i], NULL,
						    touch_fresh_pages, &t[i]));
		}
		s = stream_open(fd);
		for (i = 0; !atomic_load(&stop) && !bad; i++, rounds++) {
			/* Every page in the round again: holes included. */
			track_start(fd);
			len = stream_read_round(s, buf, cap);
			for (off = 32; off + 16 <= len;) {
				struct tern_page_rec *rec = (void *)(buf + off);

				off += 16;
				if (rec->flags & TERN_REC_F_END)
					break;
				if (!rec->length)
					continue;
				data++;
				v = rec->offset / PAGE < half ? t[0].val : t[1].val;
				at = page_foreign_byte((unsigned char *)buf + off, v);
				if (at >= 0 && !bad++)
					TH_LOG("round %u: page at %llu holds 0x%02x at byte %ld, written by nobody (its writer writes 0x%02x)",
					       rounds, (unsigned long long)rec->offset,
					       (unsigned char)buf[off + at], at, v);
				off += rec->length;
			}
			track_stop(fd);
		}
		atomic_store(&stop, true);
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		close(s);
		munmap(mem, npages * PAGE);
		close(fd);
	}
	TH_LOG("%u rounds, %u data pages checked", rounds, data);
	ASSERT_EQ(0, bad);
	ASSERT_LT(0, data);
	free(buf);
}

/*
 * A helper given a map-only fd writes the region (tracked) but cannot
 * track, harvest or stream it: it cannot take a round from the migration.
 */
TEST(map_only_fd_cannot_take_a_round)
{
	const size_t npages = 16;
	struct tern_region_info info;
	struct tern_harvest h;
	struct ternnl_region nr;
	struct ternnl *nl;
	uint64_t map[1];
	int fd, mfd, status;
	char *mem;
	pid_t pid;

	REQUIRE_TERN();
	fd = region_create(npages * PAGE, "owner");
	mfd = ioctl(fd, TERN_REGION_MAP_FD, 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(mfd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, ioctl(mfd, TERN_REGION_INFO, &info));
	ASSERT_EQ(npages * PAGE, info.size);
	track_start(fd);
	ASSERT_EQ(npages, track_harvest(fd, map, npages, NULL));

	ASSERT_EQ(-EPERM, __region_ioctl(mfd, TERN_TRACK_START, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(mfd, TERN_TRACK_STOP, NULL));
	ASSERT_EQ(-EPERM, __track_harvest(mfd, map, sizeof(map), &h));
	ASSERT_EQ(-EPERM, __region_ioctl(mfd, TERN_STREAM_OPEN, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(mfd, TERN_REGION_MAP_FD, NULL));
	ASSERT_EQ(-EPERM, __region_ioctl(mfd, TERN_TRACK_MARK, map));
	nl = nl_open();
	ASSERT_EQ(-EPERM, ternnl__track_stop(nl, mfd));
	ASSERT_NE(NULL, strstr(ternnl__extack(nl), "may only map"));
	ASSERT_EQ(-EPERM, ternnl__stream_open(nl, mfd));
	ASSERT_EQ(-EPERM, ternnl__get_region(nl, mfd, &nr));
	ternnl__close(nl);

	/* A helper process holding only the map-only fd writes pages. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *m = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, mfd, 0);

		if (m == MAP_FAILED)
			_exit(2);
		m[4 * PAGE] = 1;
		m[11 * PAGE] = 1;
		_exit(ioctl(mfd, TERN_TRACK_HARVEST, &h) < 0 && errno == EPERM ?
		      0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(2, track_harvest(fd, map, npages, NULL));
	ASSERT_TRUE(bit_test(map, 4) && bit_test(map, 11));

	/* The map-only fd and its mapping keep the region after the owner. */
	mem = region_map(mfd, npages * PAGE);
	close(fd);
	mem[0] = 7;
	ASSERT_EQ(0, ioctl(mfd, TERN_REGION_INFO, &info));
	close(mfd);
	ASSERT_EQ(7, mem[0]);
	munmap(mem, npages * PAGE);
}

/* Run fn in a child with these credentials; its exit status. */
static int as_user(uid_t uid, gid_t gid, gid_t extra, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		gid_t groups[1] = { extra };

		if (setgroups(extra ? 1 : 0, groups) ||
		    setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(100);
		_exit(fn());
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
}

static int open_dev(void)
{
	int fd = open(TERN_DEV_PATH, O_RDWR);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

TEST(device_is_root_and_group_only)
{
	const gid_t grp = 4242;
	struct stat st;

	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	ASSERT_EQ(0, stat(TERN_DEV_PATH, &st));
	ASSERT_EQ(0, st.st_mode & 07) TH_LOG("/dev/tern is %o", st.st_mode & 0777);
	ASSERT_EQ(0660, st.st_mode & 0777);
	ASSERT_EQ(0, chown(TERN_DEV_PATH, -1, grp));
	EXPECT_EQ(EACCES, as_user(65534, 65534, 0, open_dev));
	EXPECT_EQ(0, as_user(65534, 65534, grp, open_dev));
	ASSERT_EQ(0, chown(TERN_DEV_PATH, -1, st.st_gid));
}

static int stats_and_events_refused(void)
{
	struct ternnl_stats st;
	struct ternnl *nl = ternnl__open();

	if (!nl)
		return 10;
	if (ternnl__get_stats(nl, &st) != -EPERM)
		return 11;
	if (ternnl__subscribe(nl) == 0) {
		/* 6.1's bind check is a silent drop on some paths: see one */
		struct ternnl_region ev;
		int fd = __region_create(PAGE, "ev");

		if (fd >= 0 && !ternnl__next_event(nl, 500, &ev))
			return 12;
		if (fd >= 0)
			close(fd);
	}
	ternnl__close(nl);
	return 0;
}

TEST(stats_and_events_need_net_admin)
{
	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	ASSERT_EQ(0, chmod(TERN_DEV_PATH, 0666));
	EXPECT_EQ(0, as_user(65534, 65534, 0, stats_and_events_refused));
	ASSERT_EQ(0, chmod(TERN_DEV_PATH, 0660));
}

TEST(stats_count_the_callers_namespace)
{
	struct ternnl_stats st;
	int status, fd;
	pid_t pid;

	REQUIRE_TERN();
	TEST_REQUIRE(getuid() == 0);
	fd = region_create(PAGE, "here");
	tern_stats(&st);
	ASSERT_LE(1, st.regions);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ternnl_stats cst;
		struct ternnl *nl;

		if (unshare(CLONE_NEWNET))
			_exit(2);
		nl = ternnl__open();
		if (!nl || ternnl__get_stats(nl, &cst))
			_exit(3);
		_exit(cst.regions || cst.streams || cst.pages ? 4 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("another namespace counted our region");
	close(fd);
}

struct harvester {
	int fd;
	size_t npages;
	atomic_bool *stop;
	atomic_uint rounds;
	uint64_t total_ms;
};

static void *harvest_loop(void *arg)
{
	struct harvester *h = arg;
	uint64_t *map = calloc(1, bitmap_bytes(h->npages)), t;
	struct tern_harvest hv;

	while (!atomic_load(h->stop)) {
		ioctl(h->fd, TERN_TRACK_STOP, 0);
		ioctl(h->fd, TERN_TRACK_START, 0);
		t = now_ms();
		__track_harvest(h->fd, map, bitmap_bytes(h->npages), &hv);
		h->total_ms += now_ms() - t;
		atomic_fetch_add(&h->rounds, 1);
	}
	free(map);
	return NULL;
}

static int count_one(const struct ternnl_region *r, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A listing must not wait for a region's harvest: the harvest of a large
 * populated region (every page re-armed) runs in a loop while another
 * caller lists regions.  Medians, less the median of listings with no
 * harvest running, not worst cases: the harness's vCPUs share a loaded
 * host, and any one call can be descheduled; the harvester's vCPU time
 * slows a listing beside it even when nothing waits.
 */
static uint64_t list_median_ms(struct __test_metadata *_metadata,
			       struct ternnl *nl)
{
	uint64_t t[21];
	int i, n;

	for (i = 0; i < 21; i++) {
		n = 0;
		t[i] = now_ms();
		ASSERT_EQ(0, ternnl__list_regions(nl, count_one, &n));
		t[i] = now_ms() - t[i];
		usleep(7000);
	}
	qsort(t, 21, sizeof(t[0]), cmp_u64);
	return t[10];
}

TEST_F_TIMEOUT(slow, listing_does_not_wait_for_a_harvest, 300)
{
	const size_t npages = (512UL << 20) / PAGE;
	struct harvester h = { .npages = npages };
	uint64_t idle_ms, busy_ms, harvest_ms;
	atomic_bool stop = false;
	struct ternnl *nl;
	pthread_t th;
	char *mem;

	REQUIRE_TERN();
	h.fd = region_create(npages * PAGE, "big");
	h.stop = &stop;
	mem = region_map(h.fd, npages * PAGE);
	for (size_t pg = 0; pg < npages; pg++)
		mem[pg * PAGE] = 1;
	nl = nl_open();
	idle_ms = list_median_ms(_metadata, nl);
	ASSERT_EQ(0, pthread_create(&th, NULL, harvest_loop, &h));
	while (atomic_load(&h.rounds) < 1)
		usleep(1000);
	busy_ms = list_median_ms(_metadata, nl);
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	harvest_ms = h.total_ms / atomic_load(&h.rounds);
	TH_LOG("harvest %llu ms on average; listing median %llu ms alone, %llu ms beside it",
	       (unsigned long long)harvest_ms, (unsigned long long)idle_ms,
	       (unsigned long long)busy_ms);
	ASSERT_LT(10, harvest_ms) TH_LOG("harvest too quick to tell");
	/* Waiting for harvests came to 2 of them (43 ms for 21) before. */
	EXPECT_LT(busy_ms > idle_ms ? busy_ms - idle_ms : 0, harvest_ms);
	ternnl__close(nl);
	munmap(mem, npages * PAGE);
	close(h.fd);
}

/* "[tern-stream]" fds open in this process. */
static int stream_fds(void)
{
	char path[64], link[64];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	TEST_ASSERT(dir, "opendir");
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = 0;
		n += !!strstr(link, "[tern-stream]");
	}
	closedir(dir);
	return n;
}

static void nl_send(int sk, uint16_t family, uint8_t cmd, int region_fd)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		struct nlattr a;
		uint32_t fd;
	} req = {
		.n = { .nlmsg_type = family, .nlmsg_flags = NLM_F_REQUEST },
		.g = { .cmd = cmd, .version = TERN_GENL_VERSION },
		.a = { .nla_len = NLA_HDRLEN + 4, .nla_type = TERN_REGION_A_FD },
		.fd = region_fd,
	};
	size_t len = region_fd < 0 ? NLMSG_LENGTH(GENL_HDRLEN) : sizeof(req);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	req.n.nlmsg_len = len;
	TEST_ASSERT(sendto(sk, &req, len, 0, (struct sockaddr *)&to,
			   sizeof(to)) == (ssize_t)len, "sendto");
}

/* A STREAM_OPEN whose reply cannot be queued leaves no stream fd behind. */
TEST(stream_open_reply_lost_leaves_no_fd)
{
	struct ternnl *nl;
	int sk, fd, zero = 0, replies = 0, before;
	uint16_t family;
	char buf[16384];
	ssize_t n;

	REQUIRE_TERN();
	nl = nl_open();
	family = ternnl__family(nl);
	fd = region_create(PAGE, "lost");
	before = stream_fds();
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, sk);
	ASSERT_EQ(0, setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero)));
	/* Replies nobody reads fill the smallest buffer; the stream's is lost. */
	for (int i = 0; i < 16; i++)
		nl_send(sk, family, TERN_CMD_GET_STATS, -1);
	nl_send(sk, family, TERN_CMD_STREAM_OPEN, fd);
	while ((n = recv(sk, buf, sizeof(buf), MSG_DONTWAIT)) > 0 || errno == ENOBUFS) {
		struct nlmsghdr *h = (void *)buf;

		for (; n > 0 && NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			struct genlmsghdr *g = NLMSG_DATA(h);

			if (h->nlmsg_type == family && g->cmd == TERN_CMD_STREAM_OPEN)
				replies++;
		}
	}
	EXPECT_EQ(before + replies, stream_fds())
		TH_LOG("%d stream replies received", replies);
	close(sk);
	close(fd);
	ternnl__close(nl);
}

TEST(counters_return_to_zero)
{
	struct ternnl_stats st;

	REQUIRE_TERN();
	ASSERT_TRUE(tern_stats_settle_zero(&st));
}

TEST_HARNESS_MAIN
