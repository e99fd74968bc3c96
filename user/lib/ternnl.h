/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ternnl: the small libnl-genl-3 client of tern.ko's `tern` generic netlink
 * family, shared by ternvm, ternctl and the tests.  Functions return 0 (or
 * an fd) or -errno as the kernel answered; ternnl__extack() gives the
 * kernel's message for the last failed request.
 */
#ifndef TERN_LIB_TERNNL_H
#define TERN_LIB_TERNNL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/tern.h>

struct ternnl;

struct ternnl_region {
	uint32_t id;
	char name[TERN_REGION_NAME_MAX];
	uint64_t size;
	uint32_t flags;			/* TERN_REGION_F_* */
	uint64_t resident, rounds, last_pages, dirtied, write_faults;
	uint64_t last_harvest_ns, harvest_ns;
	uint32_t streams;
	uint32_t event;			/* events only: enum tern_event */
};

struct ternnl_stats {
	uint32_t regions;
	uint64_t pages;
	uint32_t streams;
};

typedef int (*ternnl_region_fn)(const struct ternnl_region *r, void *arg);

/* NULL + errno on failure (ENOENT: the family is not registered). */
struct ternnl *ternnl__open(void);
void ternnl__close(struct ternnl *nl);
const char *ternnl__extack(const struct ternnl *nl);
/* The family's id, for tests that build their own messages. */
int ternnl__family(const struct ternnl *nl);

int ternnl__get_stats(struct ternnl *nl, struct ternnl_stats *st);
int ternnl__get_region(struct ternnl *nl, int region_fd,
		       struct ternnl_region *r);
/* Calls fn for each region the caller may see; fn non-zero stops. */
int ternnl__list_regions(struct ternnl *nl, ternnl_region_fn fn, void *arg);
int ternnl__track_start(struct ternnl *nl, int region_fd);
int ternnl__track_stop(struct ternnl *nl, int region_fd);
/* Returns a new stream fd. */
int ternnl__stream_open(struct ternnl *nl, int region_fd);

/* Events: join the `events` group, then wait up to timeout_ms for one. */
int ternnl__subscribe(struct ternnl *nl);
int ternnl__next_event(struct ternnl *nl, int timeout_ms,
		       struct ternnl_region *ev);

/* For negative tests: send cmd with raw attribute bytes, wait for the ack. */
int ternnl__raw(struct ternnl *nl, uint8_t cmd, int nlm_flags,
		const void *attrs, size_t len);

#endif /* TERN_LIB_TERNNL_H */
