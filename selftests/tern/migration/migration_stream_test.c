// SPDX-License-Identifier: GPL-2.0
/*
 * The destination treats every byte as hostile: streams recorded from a
 * real (fake-VM) migration replay to completion, and edited copies (a
 * chunk aimed at a non-migratable or unknown block, a record beyond its
 * block, a bad magic, messages out of order, truncation, every byte of the
 * handshake flipped) are refused with an error naming phase and offset,
 * before any byte reaches guest memory.  With TERN_MIG_CORPUS_DIR set,
 * the recordings are written there as the fuzzer's seed corpus.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mig_run.h"
#include "test_util.h"

/* Message types, as on the wire (Documentation/migration-protocol.rst). */
enum { HELLO = 1, RAMBLOCKS = 3, ROUND_BEGIN = 5, CHUNK = 6, ROUND_END = 7,
       SWITCHOVER = 8, STATE = 9, COMMIT = 12 };

struct rec {
	uint8_t *s;
	size_t len;
};

/*
 * Concatenate a run's recordings as mig_chan_fuzz reads its input: u8
 * extra, each channel's stream behind its le32 length, the main stream.
 */
static int flatten_channels(struct rec *out, struct mig_run *r, unsigned int extra)
{
	size_t len = 1 + r->rec_len, off = 1;
	unsigned int i;
	uint32_t l;

	for (i = 0; i < extra; i++)
		len += 4 + r->ch_rec_len[i];
	out->s = malloc(len);
	if (!out->s)
		return -ENOMEM;
	out->s[0] = extra;
	for (i = 0; i < extra; i++) {
		l = htole32(r->ch_rec_len[i]);
		memcpy(out->s + off, &l, 4);
		memcpy(out->s + off + 4, r->ch_rec[i], r->ch_rec_len[i]);
		off += 4 + r->ch_rec_len[i];
	}
	memcpy(out->s + off, r->rec, r->rec_len);
	out->len = len;
	return 0;
}

/*
 * A migration of the fuzz machine, source streams recorded: the main one
 * alone (extra 0), or with `extra` channels beside it, flattened.
 */
static int record(struct rec *out, unsigned int write_rate, bool kstream,
		  bool zero_pages, unsigned int extra)
{
	struct fakevm_cfg s = fakevm_fuzz_cfg, d = fakevm_fuzz_cfg;
	struct fakevm *src, *dst;
	struct mig *msrc, *mdst;
	struct mig_params sp;
	struct mig_run r;
	int ret = -EIO;

	s.seed = 1;
	s.write_rate = write_rate;
	d.seed = 2;
	src = fakevm_new(&s);
	dst = fakevm_new(&d);
	fakevm_fill(src, 0);
	fakevm_fill(dst, 0xaa);
	mig__default_params(&sp);
	sp.quiet = !getenv("TERN_DEBUG");
	if (!zero_pages)
		sp.caps &= ~(1u << 1);
	/* Slow the link so a busy guest needs a few rounds. */
	if (write_rate) {
		sp.max_bandwidth = 8 << 20;
		sp.downtime_limit_ms = 10;
	}
	/* Over channels a few rounds suffice (a seed stays small). */
	if (extra)
		sp.downtime_limit_ms = 200;
	sp.channels = extra + 1;
	msrc = mig__new(kstream ? &fakevm_kstream_ops : &fakevm_ops, src, &sp);
	mdst = mig__new(&fakevm_ops, dst, &sp);
	mig_run_init(&r, src, dst, msrc, mdst);
	r.record = true;
	r.extra_channels = extra;
	fakevm_writer_start(src);
	if (!mig_run(&r) && !r.src_ret && !r.dst_ret) {
		if (extra) {
			ret = flatten_channels(out, &r, extra);
		} else {
			out->s = r.rec;
			out->len = r.rec_len;
			r.rec = NULL;
			ret = 0;
		}
	}
	mig_run_free(&r);
	mig__free(msrc);
	mig__free(mdst);
	fakevm_free(src);
	fakevm_free(dst);
	return ret;
}

struct dest {
	struct fakevm *vm;
	struct mig *mig;
	struct mig_stats st;
	int ret;
};

static void replay(struct rec *r, struct dest *d)
{
	struct fakevm_cfg cfg = fakevm_fuzz_cfg;
	struct mig_params p;

	cfg.seed = 3;
	d->vm = fakevm_new(&cfg);
	fakevm_fill(d->vm, 0xaa);
	mig__default_params(&p);
	p.timeout_ms = 500;
	p.quiet = !getenv("TERN_DEBUG");	/* refusals are the point */
	d->mig = mig__new(&fakevm_ops, d->vm, &p);
	d->ret = mig_replay(d->mig, r->s, r->len);
	mig__query(d->mig, &d->st);
}

static void dest_free(struct dest *d)
{
	mig__free(d->mig);
	fakevm_free(d->vm);
}

static void write_seed(const char *env, const char *name, struct rec *r)
{
	const char *dir = getenv(env);
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	TEST_ASSERT(f, "cannot write %s", path);
	fwrite(r->s, 1, r->len, f);
	fclose(f);
}

FIXTURE(stream) {
	struct rec rec;
	struct dest d;
	long round1, chunk1, rb;
};

FIXTURE_SETUP(stream)
{
	ASSERT_EQ(0, record(&self->rec, 0, false, true, 0));
	self->rb = mig_stream_find(self->rec.s, self->rec.len, RAMBLOCKS);
	self->round1 = mig_stream_find(self->rec.s, self->rec.len, ROUND_BEGIN);
	self->chunk1 = mig_stream_find(self->rec.s, self->rec.len, CHUNK);
	ASSERT_LT(0, self->rb);
	ASSERT_LT(self->rb, self->round1);
	ASSERT_LT(self->round1, self->chunk1);
	memset(&self->d, 0, sizeof(self->d));
}

FIXTURE_TEARDOWN(stream)
{
	free(self->rec.s);
	if (self->d.mig)
		dest_free(&self->d);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* The edited stream must be refused, naming `needle`, memory untouched. */
#define EXPECT_REFUSED(needle)						\
	do {								\
		replay(&self->rec, &self->d);				\
		ASSERT_GT(0, self->d.ret);				\
		ASSERT_EQ(MIG_S_FAILED, self->d.st.state);		\
		ASSERT_NE(NULL, strstr(self->d.st.error, needle))	\
			TH_LOG("error '%s' lacks '%s'", self->d.st.error, needle); \
		ASSERT_NE(NULL, strstr(self->d.st.error, ", byte "));	\
		ASSERT_FALSE(fakevm_started(self->d.vm));		\
	} while (0)

TEST_F(stream, recording_replays_to_a_running_guest)
{
	replay(&self->rec, &self->d);
	ASSERT_EQ(0, self->d.ret) TH_LOG("%s", self->d.st.error);
	ASSERT_TRUE(fakevm_started(self->d.vm));
	ASSERT_EQ(MIG_S_COMPLETED, self->d.st.state);
	ASSERT_LT(0, self->d.st.pages);
}

TEST_F(stream, chunk_for_non_migratable_block)
{
	put32(self->rec.s + self->chunk1 + 8, 2);
	EXPECT_REFUSED("chunk for non-migratable block 2 ('/machine' 'bios.rom')");
	ASSERT_EQ(0, fakevm_untouched(self->d.vm, 0xaa));
}

TEST_F(stream, chunk_for_unknown_block)
{
	put32(self->rec.s + self->chunk1 + 8, 9);
	EXPECT_REFUSED("chunk for block 9: not in the block list (3 blocks)");
	ASSERT_EQ(0, fakevm_untouched(self->d.vm, 0xaa));
}

TEST_F(stream, record_beyond_block)
{
	/* chunk hdr 8 + {block,len} 8 + stream header 32: first record. */
	put64(self->rec.s + self->chunk1 + 48, 64 << 10);
	EXPECT_REFUSED("offset unaligned or beyond the block");
	ASSERT_EQ(0, fakevm_untouched(self->d.vm, 0xaa));
}

TEST_F(stream, record_unaligned)
{
	put64(self->rec.s + self->chunk1 + 48, 100);
	EXPECT_REFUSED("block 0 ('/machine' 'ram0'), stream byte");
	ASSERT_EQ(0, fakevm_untouched(self->d.vm, 0xaa));
}

TEST_F(stream, record_bad_length)
{
	put32(self->rec.s + self->chunk1 + 56, 8192);
	EXPECT_REFUSED("length is not 4096");
	ASSERT_EQ(0, fakevm_untouched(self->d.vm, 0xaa));
}

TEST_F(stream, stream_header_bad_magic)
{
	self->rec.s[self->chunk1 + 16] ^= 0xff;
	EXPECT_REFUSED("bad page-stream magic");
	ASSERT_EQ(0, fakevm_untouched(self->d.vm, 0xaa));
}

TEST_F(stream, stream_header_round_zero)
{
	put64(self->rec.s + self->chunk1 + 16 + 24, 0);
	EXPECT_REFUSED("page-stream round 0");
}

TEST_F(stream, records_out_of_order)
{
	/* The second record (page 1, after page 0's data) goes back to 0. */
	put64(self->rec.s + self->chunk1 + 48 + 16 + 4096, 0);
	EXPECT_REFUSED("offset not above the previous one");
}

TEST_F(stream, chunk_length_disagrees)
{
	put32(self->rec.s + self->chunk1 + 12, 5);
	EXPECT_REFUSED("chunk length 5 differs from its message");
}

TEST_F(stream, unknown_message_type)
{
	put32(self->rec.s + self->chunk1, 99);
	EXPECT_REFUSED("precopy, byte");
	ASSERT_NE(NULL, strstr(self->d.st.error, "unknown message type 99"));
}

TEST_F(stream, oversized_message)
{
	put32(self->rec.s + self->chunk1 + 4, 0x7fffffff);
	EXPECT_REFUSED("chunk message of 2147483647 bytes (limit");
}

TEST_F(stream, round_out_of_sequence)
{
	/* round-begin: hdr 8 + nla hdr 4 + u64 round */
	put64(self->rec.s + self->round1 + 12, 2);
	EXPECT_REFUSED("round-begin out of sequence after round 0");
}

TEST_F(stream, chunk_outside_a_round)
{
	put32(self->rec.s + self->round1, CHUNK);
	EXPECT_REFUSED("unexpected chunk in precopy");
}

TEST_F(stream, state_before_final_round)
{
	put32(self->rec.s + self->round1, STATE);
	EXPECT_REFUSED("state before the final round");
}

TEST_F(stream, hello_bad_magic)
{
	self->rec.s[8 + 4] ^= 0x01;
	EXPECT_REFUSED("not a Tern migration (bad magic)");
}

TEST_F(stream, first_message_not_hello)
{
	put32(self->rec.s, CHUNK);
	EXPECT_REFUSED("expected hello, got chunk");
}

TEST_F(stream, truncated_everywhere)
{
	size_t full = self->rec.len, cut;
	unsigned int n = 0;

	/* Every length up to the first chunk, then a spread: all refused. */
	for (cut = 0; cut < full - 8; cut += cut < (size_t)self->chunk1 + 64 ? 1 : 997) {
		struct dest d = { 0 };
		struct rec r = { self->rec.s, cut };

		replay(&r, &d);
		ASSERT_GT(0, d.ret) TH_LOG("truncated at %zu", cut);
		ASSERT_FALSE(fakevm_started(d.vm));
		ASSERT_NE(NULL, strstr(d.st.error, ", byte ")) TH_LOG("%s", d.st.error);
		dest_free(&d);
		n++;
	}
	TH_LOG("%u truncations refused", n);
}

/*
 * Every byte of hello and the block list flipped: refused cleanly, or (a
 * flip the policy allows, e.g. in an ignored attribute) a guest that
 * arrives whole.  Never a crash, never a started guest after a failure.
 */
TEST_F(stream, handshake_bytes_flipped)
{
	size_t i, end = self->round1;
	unsigned int refused = 0, loaded = 0;

	for (i = 0; i < end; i++) {
		struct dest d = { 0 };

		self->rec.s[i] ^= 0x5a;
		replay(&self->rec, &d);
		self->rec.s[i] ^= 0x5a;
		if (d.ret) {
			bool early = !strncmp(d.st.error, "handshake,", 10) ||
				     !strncmp(d.st.error, "ramblocks,", 10);

			ASSERT_FALSE(fakevm_started(d.vm));
			ASSERT_NE(NULL, strstr(d.st.error, ", byte "));
			/* A flip the handshake caught: no page was taken. */
			if (early)
				ASSERT_EQ(0, fakevm_untouched(d.vm, 0xaa))
					TH_LOG("flip at %zu: %s", i, d.st.error);
			refused++;
		} else {
			ASSERT_TRUE(fakevm_started(d.vm));
			loaded++;
		}
		dest_free(&d);
	}
	TH_LOG("%zu handshake bytes flipped: %u refused, %u harmless",
	       end, refused, loaded);
	ASSERT_LT(0, refused);
}

/* Seeds for selftests/tern/fuzz/mig_recv_fuzz: each replays whole. */
TEST(record_fuzz_corpus)
{
	static const struct {
		const char *name;
		unsigned int write_rate;
		bool kstream, zero;
	} seeds[] = {
		{ "mig_idle_dirtylog", 0, false, true },
		{ "mig_busy_dirtylog", 200, false, true },
		{ "mig_busy_kstream", 200, true, true },
		{ "mig_idle_nozero", 0, false, false },
	};
	unsigned int i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct rec r;
		struct dest d = { 0 };

		ASSERT_EQ(0, record(&r, seeds[i].write_rate, seeds[i].kstream,
				    seeds[i].zero, 0));
		replay(&r, &d);
		ASSERT_EQ(0, d.ret) TH_LOG("%s: %s", seeds[i].name, d.st.error);
		ASSERT_TRUE(fakevm_started(d.vm));
		TH_LOG("%s: %zu bytes, %llu rounds", seeds[i].name, r.len,
		       (unsigned long long)d.st.rounds);
		write_seed("TERN_MIG_CORPUS_DIR", seeds[i].name, &r);
		dest_free(&d);
		free(r.s);
	}
}

/*
 * Seeds for selftests/tern/fuzz/mig_chan_fuzz: two and three channels.
 * (They replay only in the fuzz build, which takes any channel token.)
 */
TEST(record_channel_fuzz_corpus)
{
	static const struct {
		const char *name;
		unsigned int write_rate, extra;
	} seeds[] = {
		{ "mig_chan2_idle", 0, 1 },
		{ "mig_chan3_busy", 50, 2 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct rec r;

		ASSERT_EQ(0, record(&r, seeds[i].write_rate, false, true,
				    seeds[i].extra));
		ASSERT_EQ(seeds[i].extra, r.s[0]);
		TH_LOG("%s: %zu bytes", seeds[i].name, r.len);
		write_seed("TERN_MIG_CHAN_CORPUS_DIR", seeds[i].name, &r);
		free(r.s);
	}
}

TEST_HARNESS_MAIN
