// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the vmstate decoder and loader.  Each input is
 * loaded as-is (checksums checked) and again with its checksums
 * recomputed, into two registered test devices behind a rename filter.
 * Oracles besides ASan/UBSan: a stream that decodes must re-encode to the
 * same bytes (the format is canonical) and survive JSON and back; a load
 * that succeeds must leave sane devices; a failed one must not touch them.
 * make check runs it FUZZ_SECONDS (60) over a copy of the seed corpus,
 * make check-full for an hour; longer, by hand:
 *   build/san/fuzz/vmstate_decode_fuzz -max_total_time=86400 -jobs=2 DIR
 */
#include <stdlib.h>
#include <string.h>

#include "vmstate/json.h"
#include "vmstate/testdev.h"
#include "vmstate/tree.h"

static struct vmstate_registry *reg;
static struct td_dev dev[2];

static void setup(void)
{
	static const struct vmstate_filter rename = {
		.kind = VMSTATE_FILTER_RENAME_TABLE,
		.table = "kvm-td", .to = "testdev",
	};

	reg = vmstate__registry_new();
	if (!reg ||
	    vmstate__register(reg, &td_vmsd, &dev[0],
			      "/machine/pci0/00:03.0/td") ||
	    vmstate__register(reg, &td_vmsd, &dev[1],
			      "/machine/pci0/00:04.0/td") ||
	    vmstate__filter_register(reg, &rename))
		abort();
}

static bool sane(const struct td_dev *d)
{
	return d->nfifo <= 16 && d->nvals <= 6 && d->nvqs <= 4 &&
	       *(const uint8_t *)&d->b <= 1;
}

static void load(const uint8_t *data, size_t size)
{
	struct td_dev before[2];
	struct vmstate_err err;

	memcpy(before, dev, sizeof(dev));
	if (vmstate__load_all(reg, data, size, &err)) {
		if (memcmp(before, dev, sizeof(dev)) ||
		    strncmp(err.msg, "offset ", 7))
			__builtin_trap();
	} else if (!sane(&dev[0]) || !sane(&dev[1])) {
		__builtin_trap();
	}
}

/* Decoded streams are canonical: encode(decode(s)) == s, also via JSON. */
static void canonical(const uint8_t *data, size_t size)
{
	struct vmstate_buf out = { 0 }, viajson = { 0 };
	struct vmstate_tree *tree;
	char *json = NULL;

	if (vmstate__decode(data, size, NULL, 0, &tree, NULL))
		return;
	if (vmstate__encode(tree, &out) || out.len != size ||
	    memcmp(out.data, data, size))
		__builtin_trap();
	vmstate__tree_free(tree);
	if (vmstate__stream_to_json(data, size, 0, &json, NULL) ||
	    vmstate__json_to_stream(json, &viajson, NULL) ||
	    viajson.len != size || memcmp(viajson.data, data, size))
		__builtin_trap();
	free(json);
	vmstate__buf_free(&out);
	vmstate__buf_free(&viajson);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (!reg)
		setup();
	load(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	td__fix_crcs(copy, size);
	load(copy, size);
	canonical(copy, size);
	free(copy);
	return 0;
}
