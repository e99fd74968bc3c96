// SPDX-License-Identifier: GPL-2.0
/*
 * ternctl regions: tern.ko's guest-memory regions and the module's totals,
 * over the `tern` generic netlink family (no ternvm needed).  Human table
 * by default, one JSON object with --json.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ctl/subcommands.h"
#include "lib/log.h"
#include "lib/ternnl.h"

static int add_region(const struct ternnl_region *r, void *arg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "size", json_object_new_uint64(r->size));
	json_object_object_add(o, "tracking",
			       json_object_new_boolean(r->flags & TERN_REGION_F_TRACKING));
	json_object_object_add(o, "resident", json_object_new_uint64(r->resident));
	json_object_object_add(o, "rounds", json_object_new_uint64(r->rounds));
	json_object_object_add(o, "last-pages", json_object_new_uint64(r->last_pages));
	json_object_object_add(o, "dirtied", json_object_new_uint64(r->dirtied));
	json_object_object_add(o, "write-faults", json_object_new_uint64(r->write_faults));
	json_object_object_add(o, "streams", json_object_new_int64(r->streams));
	json_object_array_add(arg, o);
	return 0;
}

static unsigned long long u64_of(struct json_object *o, const char *k)
{
	struct json_object *v;

	json_object_object_get_ex(o, k, &v);
	return json_object_get_uint64(v);
}

int regions_main(const struct ctl_call *call)
{
	struct json_object *list = json_object_new_array(), *out, *o, *name;
	struct ternnl_stats st;
	struct ternnl *nl;
	size_t i;
	int r;

	nl = ternnl__open();
	if (!nl) {
		pr_err("tern netlink family: %s (is tern.ko loaded?)", strerror(errno));
		json_object_put(list);
		return 1;
	}
	r = ternnl__list_regions(nl, add_region, list);
	if (!r)
		r = ternnl__get_stats(nl, &st);
	if (r) {
		pr_err("tern netlink: %s%s%s", strerror(-r),
		       ternnl__extack(nl) ? ": " : "", ternnl__extack(nl) ?: "");
		json_object_put(list);
		ternnl__close(nl);
		return 1;
	}
	if (ctl_json) {
		out = json_object_new_object();
		json_object_object_add(out, "regions", list);
		json_object_object_add(out, "total-regions", json_object_new_int64(st.regions));
		json_object_object_add(out, "total-pages", json_object_new_uint64(st.pages));
		json_object_object_add(out, "total-streams", json_object_new_int64(st.streams));
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
		json_object_put(out);
	} else {
		printf("%-6s %-24s %10s %10s %8s %8s\n", "ID", "NAME", "MIB", "RESIDENT",
		       "ROUNDS", "TRACKING");
		for (i = 0; i < json_object_array_length(list); i++) {
			o = json_object_array_get_idx(list, i);
			json_object_object_get_ex(o, "name", &name);
			printf("%-6llu %-24s %10llu %10llu %8llu %8s\n", u64_of(o, "id"),
			       json_object_get_string(name), u64_of(o, "size") >> 20,
			       u64_of(o, "resident"), u64_of(o, "rounds"),
			       json_object_get_boolean(json_object_object_get(o, "tracking")) ?
			       "yes" : "no");
		}
		printf("%u regions, %llu pages, %u streams held by tern.ko\n", st.regions,
		       (unsigned long long)st.pages, st.streams);
		json_object_put(list);
	}
	ternnl__close(nl);
	return 0;
}
