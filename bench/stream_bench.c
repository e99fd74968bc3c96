// SPDX-License-Identifier: GPL-2.0
/*
 * stream_bench: how fast can a sender push guest-memory-sized data into a
 * loopback TCP socket, and at what CPU cost?  Measures, in one run and on
 * the same bytes, the references a page stream is judged against: write(2)
 * from memory, sendfile(2) from a memfd, splice(2) memfd -> pipe -> socket,
 * and the userspace VMM path (scan a dirty bitmap, skip zero pages, write
 * a record header and the page), and, where tern.ko is loaded, the tern
 * page stream spliced region -> pipe -> socket, alone and as a stream set
 * of 2 and 4 members (TERN_STREAM_OPEN_SET), each member spliced into its
 * own socket by its own thread.  With kernel TLS (the `tls` module): the
 * splice and the tern stream into a kTLS socket, against the userspace
 * way of a TLS library (copy each 16 KiB record out, seal it with
 * AES-128-GCM, write it), the receiver decrypting in kernel TLS in all
 * three; keys are fixed on both ends, no handshake is measured.  Prints
 * GB/s and sender CPU seconds per GiB (all sender threads), min and
 * median of several runs.  A benchmark: it asserts nothing.
 *
 *   stream_bench [MiB] [runs]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <linux/tls.h>
#include <netinet/tcp.h>

#include <linux/tern.h>

#include "bench.h"

#define PAGE		4096
#define MAX_RUNS	15

struct result {
	double secs, cpu;
};

/* What a row needs, and how its connection is sealed. */
enum { NEEDS_TERN = 1, NEEDS_KTLS = 2 };
enum seal { PLAIN, KTLS, USER_TLS };

struct bench {
	const char *name;
	int (*send)(int sock, void *mem, int memfd, size_t len);
	unsigned int members;	/* a stream set's: one socket each */
	unsigned int needs;
	enum seal seal;		/* the receiver decrypts in kernel TLS unless PLAIN */
};

#ifndef SOL_TLS
#define SOL_TLS		282
#endif
#define TLS_RECORD	16384

/* One fixed AES-128-GCM key both ends agree on: TLS 1.3 as after a handshake. */
static const struct tls12_crypto_info_aes_gcm_128 bench_keys = {
	.info = { .version = TLS_1_3_VERSION, .cipher_type = TLS_CIPHER_AES_GCM_128 },
	.iv = { 1, 2, 3, 4, 5, 6, 7, 8 },
	.key = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
		 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c },
	.salt = { 9, 10, 11, 12 },
};


static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int send_write(int sock, void *mem, int memfd, size_t len)
{
	return write_all(sock, mem, len);
}

static int ktls_set(int sock, int dir)
{
	if (setsockopt(sock, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	return setsockopt(sock, SOL_TLS, dir, &bench_keys, sizeof(bench_keys));
}

/*
 * The userspace way: each record's bytes copied out with their content
 * type, sealed (nonce = salt || iv XOR the record number, the header as
 * associated data), written; as a TLS library's record layer does.
 */
static int send_user_tls(int sock, void *mem, int memfd, size_t len)
{
	static uint8_t plain[TLS_RECORD + 1], rec[5 + TLS_RECORD + 1 + 16];
	gnutls_datum_t key = { .data = (void *)bench_keys.key, .size = 16 };
	gnutls_aead_cipher_hd_t h;
	uint8_t nonce[12];
	uint64_t seq = 0;
	size_t off, n, clen;
	int i, ret = 0;

	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_GCM, &key))
		return -1;
	for (off = 0; off < len && !ret; off += n, seq++) {
		n = len - off < TLS_RECORD ? len - off : TLS_RECORD;
		memcpy(plain, (char *)mem + off, n);
		plain[n] = 0x17;	/* application data */
		memcpy(nonce, bench_keys.salt, 4);
		memcpy(nonce + 4, bench_keys.iv, 8);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= seq >> (56 - 8 * i);
		rec[0] = 0x17;
		rec[1] = rec[2] = 0x03;
		rec[3] = (n + 1 + 16) >> 8;
		rec[4] = (n + 1 + 16) & 0xff;
		clen = sizeof(rec) - 5;
		if (gnutls_aead_cipher_encrypt(h, nonce, sizeof(nonce), rec, 5, 16,
					       plain, n + 1, rec + 5, &clen))
			ret = -1;
		else
			ret = write_all(sock, rec, 5 + clen);
	}
	gnutls_aead_cipher_deinit(h);
	return ret;
}

static int send_sendfile(int sock, void *mem, int memfd, size_t len)
{
	off_t off = 0;

	while ((size_t)off < len)
		if (sendfile(sock, memfd, &off, len - off) <= 0)
			return -1;
	return 0;
}

/*
 * Move len bytes from fd (at *off, or its own position when off is NULL)
 * through a pipe into sock, the way a VMM forwards a page stream.
 */
static int splice_via_pipe(int fd, loff_t *off, int sock, size_t len)
{
	size_t done = 0;
	int p[2], ret = 0;

	if (pipe(p))
		return -1;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	while (done < len && !ret) {
		ssize_t in = splice(fd, off, p[1], NULL, len - done, SPLICE_F_MOVE);

		if (in <= 0) {
			ret = -1;
			break;
		}
		done += in;
		while (in > 0) {
			ssize_t out = splice(p[0], NULL, sock, NULL, in, SPLICE_F_MOVE);

			if (out <= 0) {
				ret = -1;
				break;
			}
			in -= out;
		}
	}
	close(p[0]);
	close(p[1]);
	return ret;
}

static int send_splice(int sock, void *mem, int memfd, size_t len)
{
	loff_t off = 0;

	return splice_via_pipe(memfd, &off, sock, len);
}

static bool page_is_zero(const uint64_t *p)
{
	for (int i = 0; i < PAGE / 8; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * What a userspace VMM does per round with KVM's dirty log: walk the
 * bitmap, and for each dirty page write a record header and the page (or
 * the header alone for a zero page), batching with writev-sized buffers.
 */
static int send_userspace_vmm(int sock, void *mem, int memfd, size_t len)
{
	size_t pages = len / PAGE, i;
	uint64_t *bitmap = malloc((pages + 63) / 64 * 8);
	static char out[PAGE * 64 + 64 * sizeof(struct tern_page_rec)];
	size_t used = 0;
	int ret = 0;

	if (!bitmap)
		return -1;
	memset(bitmap, 0xff, (pages + 63) / 64 * 8);	/* all dirty: a full pass */
	for (i = 0; i < pages; i++) {
		char *page = (char *)mem + i * PAGE;
		struct tern_page_rec rec = { .offset = i * PAGE };

		if (!(bitmap[i / 64] & (1ULL << (i % 64))))
			continue;
		if (page_is_zero((const uint64_t *)page)) {
			rec.flags = TERN_REC_F_ZERO;
		} else {
			rec.length = PAGE;
		}
		if (used + sizeof(rec) + rec.length > sizeof(out)) {
			if (write_all(sock, out, used)) {
				ret = -1;
				break;
			}
			used = 0;
		}
		memcpy(out + used, &rec, sizeof(rec));
		used += sizeof(rec);
		memcpy(out + used, page, rec.length);
		used += rec.length;
	}
	if (!ret && used)
		ret = write_all(sock, out, used);
	free(bitmap);
	return ret;
}

/* The region holding the same bytes as mem, when /dev/tern exists. */
static int region_fd = -1;

static size_t round_bytes(const char *mem, size_t len)
{
	size_t n = sizeof(struct tern_stream_hdr) + sizeof(struct tern_page_rec);

	for (size_t i = 0; i < len / PAGE; i++)
		n += sizeof(struct tern_page_rec) +
		     (page_is_zero((const uint64_t *)(mem + i * PAGE)) ? 0 : PAGE);
	return n;
}

/* One full round of the tern page stream: region -> pipe -> socket. */
static int send_tern_stream(int sock, void *mem, int memfd, size_t len)
{
	int sfd, ret;

	if (ioctl(region_fd, TERN_TRACK_START, 0))
		return -1;
	sfd = ioctl(region_fd, TERN_STREAM_OPEN, 0);
	if (sfd < 0)
		return -1;
	/* A read never crosses a round's end: exactly one round's bytes. */
	ret = splice_via_pipe(sfd, NULL, sock, round_bytes(mem, len));
	close(sfd);
	ioctl(region_fd, TERN_TRACK_STOP, 0);
	return ret;
}

/* One member of a set on its own thread: its share, member -> pipe -> socket. */
struct member_arg {
	int fd, sock, ret;
	double cpu;
};

static void *send_member(void *arg)
{
	struct member_arg *m = arg;
	struct tern_stream_status st;
	double c0 = thread_cpu();
	ssize_t in, out;
	int p[2];

	m->ret = -1;
	if (pipe(p))
		return NULL;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		if (ioctl(m->fd, TERN_STREAM_STATUS, &st))
			goto out;
		if (st.read_rounds)
			break;
		in = splice(m->fd, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);
		if (in <= 0)
			goto out;
		while (in > 0) {
			out = splice(p[0], NULL, m->sock, NULL, in, SPLICE_F_MOVE);
			if (out <= 0)
				goto out;
			in -= out;
		}
	}
	m->ret = 0;
out:
	close(p[0]);
	close(p[1]);
	m->cpu = thread_cpu() - c0;
	return NULL;
}

/* The index of the page-stream rows, for the CPU ratio below. */
#define B_USERSPACE	3
#define B_TERN		4
#define B_KTLS_TERN	8
#define B_USER_TLS	9

static const struct bench benches[] = {
	{ "write(2) from memory", send_write, 0, 0, PLAIN },
	{ "sendfile(2) from memfd", send_sendfile, 0, 0, PLAIN },
	{ "splice memfd->pipe->socket", send_splice, 0, 0, PLAIN },
	{ "userspace VMM (bitmap, zero check, records)", send_userspace_vmm, 0, 0, PLAIN },
	{ "tern page stream, splice", send_tern_stream, 0, NEEDS_TERN, PLAIN },
	{ "tern stream set of 2, splice, 2 sockets", NULL, 2, NEEDS_TERN, PLAIN },
	{ "tern stream set of 4, splice, 4 sockets", NULL, 4, NEEDS_TERN, PLAIN },
	{ "kTLS: splice memfd->pipe->socket", send_splice, 0, NEEDS_KTLS, KTLS },
	{ "kTLS: tern page stream, splice", send_tern_stream, 0,
	  NEEDS_TERN | NEEDS_KTLS, KTLS },
	{ "userspace TLS: copy, AES-128-GCM, write", send_user_tls, 0, NEEDS_KTLS, USER_TLS },
};
#define NR_BENCHES	(sizeof(benches) / sizeof(benches[0]))

static void *drain(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static char buf[1 << 20];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

/*
 * A loopback TCP connection: *cfd sends, *sfd is drained by *thr, through
 * kernel TLS unless seal is PLAIN (and *cfd seals in kernel TLS if KTLS).
 */
static int tcp_drained(int *cfd, int *sfd, pthread_t *thr, enum seal seal)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (void *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (void *)&sa, &sl))
		return -1;
	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*cfd < 0 || connect(*cfd, (void *)&sa, sizeof(sa)))
		return -1;
	*sfd = accept(lfd, NULL, NULL);
	close(lfd);
	if (*sfd < 0)
		return -1;
	if ((seal != PLAIN && ktls_set(*sfd, TLS_RX)) ||
	    (seal == KTLS && ktls_set(*cfd, TLS_TX)))
		return -1;
	pthread_create(thr, NULL, drain, (void *)(intptr_t)*sfd);
	return 0;
}

/*
 * One full round through a stream set: one harvest, each member's share
 * spliced into its own socket by its own thread.  The time is the
 * slowest member's, the CPU all senders'.
 */
static int run_set(const struct bench *b, struct result *r)
{
	struct tern_stream_set req = { .count = b->members };
	struct member_arg m[4];
	pthread_t snd[4], drn[4];
	int fds[4], cfd[4], sfd[4], ret = 0;
	unsigned int i;
	double t0;

	if (ioctl(region_fd, TERN_TRACK_START, 0))
		return -1;
	req.fds = (uintptr_t)fds;
	if (ioctl(region_fd, TERN_STREAM_OPEN_SET, &req))
		return -1;
	for (i = 0; i < b->members; i++)
		if (tcp_drained(&cfd[i], &sfd[i], &drn[i], b->seal))
			return -1;
	t0 = mono();
	for (i = 0; i < b->members; i++) {
		m[i] = (struct member_arg){ .fd = fds[i], .sock = cfd[i] };
		pthread_create(&snd[i], NULL, send_member, &m[i]);
	}
	r->cpu = 0;
	for (i = 0; i < b->members; i++) {
		pthread_join(snd[i], NULL);
		shutdown(cfd[i], SHUT_WR);
		pthread_join(drn[i], NULL);
		ret |= m[i].ret;
		r->cpu += m[i].cpu;
	}
	r->secs = mono() - t0;
	for (i = 0; i < b->members; i++) {
		close(fds[i]);
		close(cfd[i]);
		close(sfd[i]);
	}
	ioctl(region_fd, TERN_TRACK_STOP, 0);
	return ret;
}

static int run_one(const struct bench *b, void *mem, int memfd, size_t len,
		   struct result *r)
{
	int cfd, sfd, ret;
	pthread_t thr;
	double t0, c0;

	if (b->members)
		return run_set(b, r);
	if (tcp_drained(&cfd, &sfd, &thr, b->seal))
		return -1;

	t0 = mono();
	c0 = thread_cpu();
	ret = b->send(cfd, mem, memfd, len);
	shutdown(cfd, SHUT_WR);
	pthread_join(thr, NULL);
	r->secs = mono() - t0;
	r->cpu = thread_cpu() - c0;
	close(cfd);
	close(sfd);
	return ret;
}

static int setup_region(const char *mem, size_t len)
{
	struct tern_region_create rc = { .size = len, .name = "stream_bench" };
	int dev = open("/dev/tern", O_RDWR | O_CLOEXEC);
	char *rm;

	if (dev < 0)
		return -1;
	region_fd = ioctl(dev, TERN_CREATE_REGION, &rc);
	close(dev);
	if (region_fd < 0)
		return -1;
	rm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, region_fd, 0);
	if (rm == MAP_FAILED)
		return -1;
	memcpy(rm, mem, len);
	munmap(rm, len);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	size_t len = mib << 20, i;
	double best_gbs = 0, gbs_med[NR_BENCHES] = { 0 }, cpu_med[NR_BENCHES] = { 0 };
	unsigned int have = 0;
	int memfd;
	char *mem;

	if (!mib || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: stream_bench [MiB] [runs <= %d]\n", MAX_RUNS);
		return 2;
	}
	memfd = memfd_create("stream_bench", 0);
	if (memfd < 0 || ftruncate(memfd, len))
		return perror("memfd"), 1;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		return perror("mmap"), 1;
	/* Guest-like memory: every 8th page zero, the rest random-ish. */
	for (i = 0; i < len / 8; i++)
		((uint64_t *)mem)[i] = (i / (PAGE / 8)) % 8 ? i * 0x9e3779b97f4a7c15ULL : 0;

	if (setup_region(mem, len) == 0)
		have |= NEEDS_TERN;
	else
		printf("stream_bench: no /dev/tern here, tern page stream not measured\n");
	/* TCP_ULP wants a connected socket: ask whether the module is in. */
	if (!access("/sys/module/tls", F_OK))
		have |= NEEDS_KTLS;
	else
		printf("stream_bench: no kernel TLS here (modprobe tls), TLS rows not measured\n");
	printf("stream_bench: %zu MiB over loopback TCP, %d runs each\n", mib, runs);
	printf("%-46s %10s %10s %14s %14s\n", "sender", "GB/s min", "GB/s med",
	       "CPU s/GiB min", "CPU s/GiB med");
	for (size_t b = 0; b < NR_BENCHES; b++) {
		double gbs[MAX_RUNS], cpu[MAX_RUNS];
		struct result r;

		if ((benches[b].needs & have) != benches[b].needs)
			continue;
		for (int k = 0; k < runs; k++) {
			if (run_one(&benches[b], mem, memfd, len, &r)) {
				fprintf(stderr, "%s: failed\n", benches[b].name);
				return 1;
			}
			gbs[k] = len / r.secs / 1e9;
			cpu[k] = r.cpu / ((double)len / (1 << 30));
		}
		runs_sort(gbs, runs);
		runs_sort(cpu, runs);
		gbs_med[b] = gbs[runs / 2];
		cpu_med[b] = cpu[runs / 2];
		if (gbs_med[b] > best_gbs)
			best_gbs = gbs_med[b];
		printf("%-46s %10.2f %10.2f %14.3f %14.3f\n", benches[b].name,
		       gbs[0], gbs_med[b], cpu[0], cpu_med[b]);
	}
	printf("ratios (median): ");
	for (size_t b = 0; b < NR_BENCHES; b++)
		if (gbs_med[b])
			printf("%s%s %.2fx of best", b ? ", " : "", benches[b].name,
			       gbs_med[b] / best_gbs);
	printf("\n");
	if (have & NEEDS_TERN)
		printf("tern stream CPU per GiB vs userspace VMM path (median): %.2fx\n",
		       cpu_med[B_TERN] / cpu_med[B_USERSPACE]);
	if (have & NEEDS_TERN && have & NEEDS_KTLS)
		printf("kTLS tern stream vs userspace TLS (median): GB/s %.2fx, CPU per GiB %.2fx\n",
		       gbs_med[B_KTLS_TERN] / gbs_med[B_USER_TLS],
		       cpu_med[B_KTLS_TERN] / cpu_med[B_USER_TLS]);
	return 0;
}
