// SPDX-License-Identifier: GPL-2.0
/*
 * Migration over TLS 1.3 with the record layer in kernel TLS, between two
 * fake VMs in this process over TCP on loopback (credentials from
 * selftests/tern/migration/tls_certs.sh): x509 both ways over two channels and a
 * pre-shared key arrive byte for byte; an untrusted, expired or misnamed
 * certificate, a different key, and a plaintext peer on either side are
 * refused before any page moves, each with a message that says which, and
 * a waiting destination goes on to take the next, good source.  Bad
 * credential files are refused when loaded, naming the file and line.  A
 * reader waits for a record that comes in parts asleep.
 */
#include <errno.h>
#include <linux/tls.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mig_run.h"
#include "migration/wire.h"

#define MiB	(1ull << 20)

/* In the harness, then in the build tree. */
#define TLS_CERTS_HARNESS	"/usr/share/tern/tls"
#ifndef TLS_CERTS
#define TLS_CERTS	"build/tls"
#endif

/* A small guest that converges in a few rounds even under the harness's TCG. */
static const struct fakevm_cfg base_cfg = {
	.ram_size = 8 * MiB,
	.vga_size = 256 << 10,
	.rom_size = 64 << 10,
	.write_rate = 2,
};

/* "good", "psk-a", ... under the credentials directory; "plain": none. */
static struct mig_tls *tls(struct __test_metadata *_metadata, const char *name)
{
	char path[512], why[512];
	struct mig_tls *t;

	if (!strcmp(name, "plain"))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s",
		 access(TLS_CERTS_HARNESS, F_OK) ? TLS_CERTS : TLS_CERTS_HARNESS,
		 name);
	t = strncmp(name, "psk", 3) ? mig__tls_load(path, NULL, why, sizeof(why)) :
				      mig__tls_load(NULL, path, why, sizeof(why));
	EXPECT_NE(NULL, t) TH_LOG("%s: %s", path, why);
	return t;
}

struct tls_pair {
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	struct mig_run r;
	char uri[64];
	int lfd;
	pthread_t tin, tout;
	int in_ret, out_ret;
};

static void pair_setup(struct __test_metadata *_metadata, struct tls_pair *p,
		       const char *src_tls, const char *dst_tls,
		       unsigned int channels)
{
	struct fakevm_cfg s = base_cfg, d = base_cfg;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct mig_params sp, dp;

	s.seed = 1;
	d.seed = 2;
	d.write_rate = 0;
	mig__default_params(&sp);
	mig__default_params(&dp);
	sp.quiet = dp.quiet = !getenv("TERN_DEBUG");
	sp.channels = dp.channels = channels;
	sp.timeout_ms = dp.timeout_ms = 5000;
	p->src = fakevm_new(&s);
	p->dst = fakevm_new(&d);
	ASSERT_NE(NULL, p->src);
	ASSERT_NE(NULL, p->dst);
	fakevm_fill(p->src, 0);
	fakevm_fill(p->dst, 0xaa);
	p->msrc = mig__new(&fakevm_ops, p->src, &sp);
	p->mdst = mig__new(&fakevm_ops, p->dst, &dp);
	ASSERT_NE(NULL, p->msrc);
	ASSERT_NE(NULL, p->mdst);
	mig__set_tls(p->msrc, tls(_metadata, src_tls));
	mig__set_tls(p->mdst, tls(_metadata, dst_tls));
	mig_run_init(&p->r, p->src, p->dst, p->msrc, p->mdst);
	/* "localhost" in both: the name the server certificate carries. */
	ASSERT_EQ(0, mig__listen("tcp:localhost:0", &p->lfd));
	ASSERT_EQ(0, getsockname(p->lfd, (struct sockaddr *)&sin, &len));
	snprintf(p->uri, sizeof(p->uri), "tcp:localhost:%u", ntohs(sin.sin_port));
	fakevm_writer_start(p->src);
}

static void pair_free(struct tls_pair *p)
{
	close(p->lfd);
	mig_run_free(&p->r);
	mig__free(p->msrc);
	mig__free(p->mdst);
	fakevm_free(p->src);
	fakevm_free(p->dst);
}

static void *incoming_main(void *arg)
{
	struct tls_pair *p = arg;

	p->in_ret = mig__incoming_listener(p->mdst, p->lfd);
	return NULL;
}

static void *migrate_main(void *arg)
{
	struct tls_pair *p = arg;

	p->out_ret = mig__migrate(p->msrc, p->uri);
	return NULL;
}

static void source_run(struct tls_pair *p)
{
	pthread_create(&p->tout, NULL, migrate_main, p);
	pthread_join(p->tout, NULL);
	p->r.src_ret = p->out_ret;
	mig__query(p->msrc, &p->r.src_st);
}

static void dest_end(struct tls_pair *p)
{
	pthread_join(p->tin, NULL);
	p->r.dst_ret = p->in_ret;
	mig__query(p->mdst, &p->r.dst_st);
}

static uint64_t wait_dropped(struct mig *mig, uint64_t n, struct mig_stats *st)
{
	int i;

	for (i = 0; i < 500; i++) {
		mig__query(mig, st);
		if (st->dropped >= n)
			break;
		usleep(10000);
	}
	return st->dropped;
}

static void expect_arrived(struct __test_metadata *_metadata,
			   struct tls_pair *p, unsigned int channels)
{
	char why[256];

	ASSERT_EQ(0, p->r.src_ret) TH_LOG("source: %s", p->r.src_st.error);
	ASSERT_EQ(0, p->r.dst_ret) TH_LOG("destination: %s", p->r.dst_st.error);
	ASSERT_EQ(0, mig_run_check(&p->r, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(MIG_S_COMPLETED, p->r.src_st.state);
	ASSERT_EQ(MIG_S_COMPLETED, p->r.dst_st.state);
	ASSERT_EQ(channels, p->r.dst_st.channels);
	ASSERT_LE(2, p->r.src_st.rounds);
	ASSERT_EQ(p->r.src_st.bytes, p->r.dst_st.bytes);
	ASSERT_EQ(p->r.src_st.pages, p->r.dst_st.pages);
}

static void migrate_ok(struct __test_metadata *_metadata, const char *creds,
		       unsigned int channels)
{
	struct tls_pair p;

	pair_setup(_metadata, &p, creds, creds, channels);
	pthread_create(&p.tin, NULL, incoming_main, &p);
	source_run(&p);
	dest_end(&p);
	expect_arrived(_metadata, &p, channels);
	TH_LOG("%s, %u channel(s): %llu rounds, %llu pages, %llu bytes, total %llu ms",
	       creds, channels, (unsigned long long)p.r.src_st.rounds,
	       (unsigned long long)p.r.src_st.pages,
	       (unsigned long long)p.r.src_st.bytes,
	       (unsigned long long)p.r.src_st.elapsed_ms);
	pair_free(&p);
}

TEST(x509_over_1_and_2_channels)
{
	migrate_ok(_metadata, "good", 1);
	migrate_ok(_metadata, "good", 2);
}

TEST(psk_over_2_channels)
{
	migrate_ok(_metadata, "psk-a", 2);
}

/*
 * A source with src_tls is refused by a destination with dst_tls before
 * any page: each side's message has its needle, the destination drops
 * the connection and waits on, and a source with next_tls then migrates
 * to it (NULL: the destination has no good source; it is cancelled).
 */
static void refused(struct __test_metadata *_metadata, const char *src_tls,
		    const char *dst_tls, const char *next_tls,
		    const char *src_needle, const char *dst_needle)
{
	struct mig_stats st;
	struct tls_pair p;
	char why[256];

	pair_setup(_metadata, &p, src_tls, dst_tls, 2);
	pthread_create(&p.tin, NULL, incoming_main, &p);
	source_run(&p);
	ASSERT_EQ(1, wait_dropped(p.mdst, 1, &st));
	ASSERT_GT(0, p.r.src_ret);
	ASSERT_EQ(MIG_S_FAILED, p.r.src_st.state);
	EXPECT_NE(NULL, strstr(p.r.src_st.error, src_needle))
		TH_LOG("source: '%s', not '%s'", p.r.src_st.error, src_needle);
	EXPECT_NE(NULL, strstr(st.dropped_why, dst_needle))
		TH_LOG("destination: '%s', not '%s'", st.dropped_why, dst_needle);
	TH_LOG("source: %s", p.r.src_st.error);
	TH_LOG("destination: %s", st.dropped_why);
	/* Nothing moved; the guest runs on at the source. */
	ASSERT_EQ(0, p.r.src_st.pages);
	ASSERT_EQ(0, st.pages);
	ASSERT_EQ(0, fakevm_untouched(p.dst, 0xaa));
	ASSERT_FALSE(fakevm_started(p.dst));
	ASSERT_TRUE(fakevm_writer_advances(p.src));

	if (!next_tls) {
		mig__cancel(p.mdst);
		dest_end(&p);
		ASSERT_EQ(MIG_S_CANCELLED, p.r.dst_st.state);
		ASSERT_EQ(0, mig_run_check(&p.r, why, sizeof(why))) TH_LOG("%s", why);
		pair_free(&p);
		return;
	}
	/* The destination still waits: a good source gets through. */
	mig__cancel_reset(p.msrc);
	mig__set_tls(p.msrc, tls(_metadata, next_tls));
	source_run(&p);
	dest_end(&p);
	expect_arrived(_metadata, &p, 2);
	ASSERT_EQ(1, p.r.dst_st.dropped);
	pair_free(&p);
}

/* The source checks the destination's certificate: CA, dates, name. */
TEST(untrusted_destination_refused)
{
	refused(_metadata, "good", "rogue", "rogue",
		"the destination's certificate: The certificate is NOT trusted. The certificate issuer is unknown",
		"the source closed the connection in the handshake");
}

TEST(expired_destination_refused)
{
	refused(_metadata, "good", "expired", NULL,
		"the destination's certificate: The certificate is NOT trusted. The certificate chain uses expired certificate",
		"the source closed the connection in the handshake");
}

TEST(misnamed_destination_refused)
{
	refused(_metadata, "good", "elsewhere", NULL,
		"The name in the certificate does not match",
		"the source closed the connection in the handshake");
}

/* The destination checks the source's: a TLS 1.3 client learns it late. */
TEST(untrusted_source_refused)
{
	refused(_metadata, "stranger", "good", "good",
		"it may have refused our certificate",
		"the source sent no certificate from our CA");
}

TEST(expired_source_refused)
{
	refused(_metadata, "expired", "good", "good",
		"it may have refused our certificate",
		"the source's certificate: The certificate is NOT trusted. The certificate chain uses expired certificate");
}

TEST(different_psk_refused)
{
	refused(_metadata, "psk-b", "psk-a", "psk-a",
		"the destination closed the connection in the handshake",
		"the source's pre-shared key is not ours");
}

TEST(plaintext_source_refused)
{
	/* Dropped while the hello is written or after: either way, a hint. */
	refused(_metadata, "plain", "good", "good", "(it may want TLS; see its log)",
		"the peer speaks plaintext");
}

TEST(plaintext_destination_refuses_tls)
{
	refused(_metadata, "good", "plain", "plain",
		"the destination closed the connection in the handshake",
		"a TLS ClientHello, but this destination has no --tls-creds or --tls-psk");
}

/* Kernel TLS runs on TCP: a unix socket with TLS is refused at once. */
TEST(unix_socket_refused)
{
	struct fakevm_cfg c = base_cfg;
	struct fakevm *vm = fakevm_new(&c);
	struct mig *m = mig__new(&fakevm_ops, vm, NULL);
	char path[64], uri[80];
	struct mig_stats st;
	int lfd;

	ASSERT_NE(NULL, m);
	mig__set_tls(m, tls(_metadata, "good"));
	snprintf(path, sizeof(path), "/tmp/tern-tls-test.%d", getpid());
	snprintf(uri, sizeof(uri), "unix:%s", path);
	unlink(path);
	ASSERT_EQ(-EPROTONOSUPPORT, mig__migrate(m, uri));
	mig__query(m, &st);
	ASSERT_NE(NULL, strstr(st.error, "TCP only")) TH_LOG("%s", st.error);
	ASSERT_EQ(0, mig__listen(uri, &lfd));
	ASSERT_EQ(-EPROTONOSUPPORT, mig__incoming_listener(m, lfd));
	mig__query(m, &st);
	ASSERT_NE(NULL, strstr(st.error, "TCP only")) TH_LOG("%s", st.error);
	close(lfd);
	unlink(path);
	mig__free(m);
	fakevm_free(vm);
}

/* A file body, a mode, what loading it says. */
static const struct {
	const char *body;
	mode_t mode;
	const char *needle;
} psk_files[] = {
	{ "tern:00112233445566778899aabbccddeeff\n", 0644, "chmod 600" },
	{ "tern:00112233445566778899aabbccddee\n", 0600, "30 hex digits" },
	{ "tern:00112233445566778899aabbccddeeXY\n", 0600, "'X' in the key" },
	{ "# only a comment\n\n", 0600, "no IDENTITY:HEXKEY" },
	{ ":00112233445566778899aabbccddeeff\n", 0600, ":1: want IDENTITY:HEXKEY" },
	{ "te rn:00112233445566778899aabbccddeeff\n", 0600, "want IDENTITY" },
	{ "# two\na:00112233445566778899aabbccddeeff\nb:00112233445566778899aabbccddeeff\n",
	  0600, ":3: a second key" },
};

TEST(credential_files_checked)
{
	char path[64], dir[64], why[512];
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/tern-tls-psk.%d", getpid());
	for (i = 0; i < sizeof(psk_files) / sizeof(psk_files[0]); i++) {
		f = fopen(path, "w");
		ASSERT_NE(NULL, f);
		fputs(psk_files[i].body, f);
		fclose(f);
		ASSERT_EQ(0, chmod(path, psk_files[i].mode));
		why[0] = '\0';
		EXPECT_EQ(NULL, mig__tls_load(NULL, path, why, sizeof(why)));
		EXPECT_NE(NULL, strstr(why, psk_files[i].needle))
			TH_LOG("case %u: '%s', not '%s'", i, why, psk_files[i].needle);
	}
	unlink(path);
	ASSERT_EQ(NULL, mig__tls_load(NULL, "/nonexistent/psk", why, sizeof(why)));
	ASSERT_NE(NULL, strstr(why, "/nonexistent/psk: No such file"));
	ASSERT_EQ(NULL, mig__tls_load("/tmp", "/tmp", why, sizeof(why)));
	ASSERT_EQ(NULL, mig__tls_load(NULL, NULL, why, sizeof(why)));
	ASSERT_NE(NULL, strstr(why, "one of them"));

	/* A directory without a CA, then a certificate without its key. */
	snprintf(dir, sizeof(dir), "/tmp/tern-tls-dir.%d", getpid());
	ASSERT_EQ(0, mkdir(dir, 0700));
	ASSERT_EQ(NULL, mig__tls_load(dir, NULL, why, sizeof(why)));
	ASSERT_NE(NULL, strstr(why, "ca-cert.pem: No such file")) TH_LOG("%s", why);
	snprintf(path, sizeof(path), "%s/ca-cert.pem", dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/server-cert.pem", dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fclose(f);
	ASSERT_EQ(NULL, mig__tls_load(dir, NULL, why, sizeof(why)));
	ASSERT_NE(NULL, strstr(why, "server-cert.pem: no ")) TH_LOG("%s", why);
	ASSERT_NE(NULL, strstr(why, "server-key.pem")) TH_LOG("%s", why);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ca-cert.pem", dir);
	unlink(path);
	rmdir(dir);
}

#ifndef SOL_TLS
#define SOL_TLS		282
#endif

/* A connected TCP pair on loopback: sv[0] connects, sv[1] accepted. */
static int tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		return -1;
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof(a)))
		return -1;
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return sv[1] < 0 ? -1 : 0;
}

/* Kernel TLS on fd, one direction, with a key both ends of the test share. */
static int ktls(int fd, int dir)
{
	static const struct tls12_crypto_info_aes_gcm_128 k = {
		.info = { .version = TLS_1_3_VERSION,
			  .cipher_type = TLS_CIPHER_AES_GCM_128 },
		.key = { 7, 6, 5, 4, 3, 2, 1 },
		.iv = { 1, 2, 3 },
		.salt = { 4, 5 },
	};

	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	return setsockopt(fd, SOL_TLS, dir, &k, sizeof(k));
}

struct reader {
	struct mig_conn c;
	uint8_t buf[1000];
	int ret;
	double cpu_ms;
};

static void *read_record(void *opaque)
{
	struct reader *r = opaque;
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	r->ret = mig_conn_read(&r->c, r->buf, sizeof(r->buf));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	r->cpu_ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	return NULL;
}

/*
 * A record that comes in two parts 300 ms apart: the reader sleeps until
 * the rest is there.  Kernel TLS has poll() say readable at the first
 * part, yet read() has nothing to give; a poll-and-read loop spun on it
 * for the 300 ms.  The record is sealed by a kTLS sender and its
 * ciphertext taken off the wire in plain, to be fed in two writes.
 */
TEST(record_in_parts_read_asleep)
{
	int seal[2], feed[2], ret;
	uint8_t msg[1000], wire[2048];
	struct reader r = { 0 };
	size_t len = 0;
	pthread_t t;
	ssize_t n;

	ASSERT_EQ(0, tcp_pair(seal));
	ASSERT_EQ(0, tcp_pair(feed));
	ASSERT_EQ(0, ktls(seal[0], TLS_TX)) TH_LOG("kernel TLS: %s", strerror(errno));
	ASSERT_EQ(0, ktls(feed[1], TLS_RX)) TH_LOG("kernel TLS: %s", strerror(errno));
	for (n = 0; n < (ssize_t)sizeof(msg); n++)
		msg[n] = (uint8_t)(n * 7 + 1);
	ASSERT_EQ((ssize_t)sizeof(msg), write(seal[0], msg, sizeof(msg)));
	/* TLS 1.3: 5 bytes of header, the content type and a 16-byte tag. */
	while (len < sizeof(msg) + 22) {
		n = read(seal[1], wire + len, sizeof(wire) - len);
		ASSERT_LT(0, n);
		len += n;
	}
	ASSERT_EQ(sizeof(msg) + 22, len);

	ASSERT_EQ(0, mig_conn_init(&r.c, feed[1], feed[1], -1, 10000));
	ASSERT_EQ(0, pthread_create(&t, NULL, read_record, &r));
	ASSERT_EQ(500, write(feed[0], wire, 500));
	usleep(300 * 1000);
	ASSERT_EQ((ssize_t)len - 500, write(feed[0], wire + 500, len - 500));
	ret = pthread_join(t, NULL);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, r.ret) TH_LOG("%s", r.c.err);
	ASSERT_EQ(0, memcmp(r.buf, msg, sizeof(msg)));
	EXPECT_GT(50.0, r.cpu_ms)
		TH_LOG("the reader spent %.0f ms of CPU waiting 300 ms for a record's rest",
		       r.cpu_ms);
	TH_LOG("CPU while waiting 300 ms for a record's rest: %.1f ms", r.cpu_ms);
	mig_conn_destroy(&r.c);
	close(seal[0]);
	close(seal[1]);
	close(feed[0]);
	close(feed[1]);
}

TEST_HARNESS_MAIN
