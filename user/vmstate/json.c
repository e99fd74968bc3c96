// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON form of a vmstate stream (json-c), both ways: tree -> JSON for
 * tern-state-dump, JSON -> tree -> stream so tests can craft streams.
 * Hints choose the presentation: hex strings, flag bit lists, text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vmstate/decode.h"
#include "vmstate/json.h"

static const char *const hint_names[] = {
	[VMS_HINT_NONE] = "none", [VMS_HINT_HEX] = "hex",
	[VMS_HINT_FLAGS] = "flags", [VMS_HINT_STRING] = "string",
};

/* ---- tree -> JSON --------------------------------------------------- */

static struct json_object *table_to_json(const struct vmstate_table *t,
					 const char *path);

static struct json_object *int_to_json(const struct vmstate_tfield *f,
				       const uint8_t *p)
{
	unsigned int w = f->elem_size, i;
	uint64_t v = 0;
	struct json_object *arr;
	char hex[24];

	for (i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (f->type == VMS_BOOL)
		return v > 1 ? json_object_new_int((int)v) :
		       json_object_new_boolean(v != 0);
	if (f->hint == VMS_HINT_HEX) {
		snprintf(hex, sizeof(hex), "0x%0*" PRIx64, (int)w * 2, v);
		return json_object_new_string(hex);
	}
	if (f->hint == VMS_HINT_FLAGS) {
		arr = json_object_new_array();
		for (i = 0; arr && i < w * 8; i++)
			if (v >> i & 1)
				json_object_array_add(arr, json_object_new_int((int)i));
		return arr;
	}
	if (f->type >= VMS_S8 && f->type <= VMS_S64) {
		int64_t s = (int64_t)(v << (64 - 8 * w)) >> (64 - 8 * w);

		return json_object_new_int64(s);
	}
	return json_object_new_uint64(v);
}

/* Text if the bytes are printable up to NUL padding; else NULL. */
static struct json_object *bytes_as_text(const uint8_t *p, uint32_t n)
{
	uint32_t len = 0, i;

	while (len < n && p[len])
		len++;
	for (i = 0; i < n; i++)
		if ((i < len && (p[i] < 0x20 || p[i] > 0x7e)) ||
		    (i >= len && p[i]))
			return NULL;
	return json_object_new_string_len((const char *)p, (int)len);
}

static struct json_object *bytes_to_json(const uint8_t *p, uint32_t n)
{
	struct json_object *o;
	char *hex = malloc((size_t)n * 2 + 1);
	uint32_t i;

	if (!hex)
		return NULL;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * n] = '\0';
	o = json_object_new_string(hex);
	free(hex);
	return o;
}

static struct json_object *elem_to_json(const struct vmstate_tfield *f,
					uint32_t i, bool *text)
{
	const uint8_t *p;

	if (f->type == VMS_STRUCT)
		return table_to_json(f->elems[i], NULL);
	p = f->data + (size_t)i * f->elem_size;
	if (f->type != VMS_BYTES)
		return int_to_json(f, p);
	if (*text) {
		struct json_object *o = bytes_as_text(p, f->elem_size);

		if (o)
			return o;
		*text = false;
		return NULL;
	}
	return bytes_to_json(p, f->elem_size);
}

/* Fields as a JSON value; *text says whether byte strings are text. */
static struct json_object *value_to_json(const struct vmstate_tfield *f,
					 bool *text)
{
	struct json_object *arr, *e;
	uint32_t i;

	if (!f->flags)
		return elem_to_json(f, 0, text);
	arr = json_object_new_array();
	for (i = 0; arr && i < f->count; i++) {
		e = elem_to_json(f, i, text);
		if (!e) {
			json_object_put(arr);
			return NULL;
		}
		json_object_array_add(arr, e);
	}
	return arr;
}

static struct json_object *field_to_json(const struct vmstate_tfield *f)
{
	struct json_object *o = json_object_new_object(), *v;
	bool text = f->type == VMS_BYTES && f->hint == VMS_HINT_STRING;

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "type",
			       json_object_new_string(vmstate__type_name(f->type)));
	if (f->hint && f->hint <= VMS_HINT_STRING)
		json_object_object_add(o, "hint",
				       json_object_new_string(hint_names[f->hint]));
	if (f->flags)
		json_object_object_add(o, "flags", json_object_new_string(
			f->flags & VMS_F_VARRAY ? "varray" : "array"));
	if (f->type == VMS_BYTES)
		json_object_object_add(o, "elem_size",
				       json_object_new_int64(f->elem_size));
	v = value_to_json(f, &text);
	if (!v && f->type == VMS_BYTES && !text)
		v = value_to_json(f, &text);
	if (!v) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, text ? "text" : "value", v);
	return o;
}

/* A table body; a section's also carries its path, first. */
static struct json_object *table_to_json(const struct vmstate_table *t,
					 const char *path)
{
	struct json_object *o = json_object_new_object(), *arr, *e;
	uint32_t i;

	if (!o)
		return NULL;
	if (path)
		json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "table", json_object_new_string(t->name));
	json_object_object_add(o, "version", json_object_new_int64(t->version));
	arr = json_object_new_array();
	json_object_object_add(o, "fields", arr);
	for (i = 0; arr && i < t->nr_fields; i++) {
		e = field_to_json(t->fields[i]);
		if (!e)
			goto fail;
		json_object_array_add(arr, e);
	}
	if (!t->nr_subs)
		return o;
	arr = json_object_new_array();
	json_object_object_add(o, "subsections", arr);
	for (i = 0; arr && i < t->nr_subs; i++) {
		e = table_to_json(t->subs[i], NULL);
		if (!e)
			goto fail;
		json_object_array_add(arr, e);
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

struct json_object *vmstate__tree_to_json(const struct vmstate_tree *tree)
{
	struct json_object *o = json_object_new_object(), *arr, *s;
	uint32_t i;

	if (!o)
		goto nomem;
	json_object_object_add(o, "format", json_object_new_int(tree->format));
	arr = json_object_new_array();
	json_object_object_add(o, "sections", arr);
	for (i = 0; arr && i < tree->nr_sections; i++) {
		s = table_to_json(tree->sections[i].table,
				  tree->sections[i].path);
		if (!s)
			goto fail;
		json_object_array_add(arr, s);
	}
	if (arr)
		return o;
fail:
	json_object_put(o);
nomem:
	errno = ENOMEM;
	return NULL;
}

/* ---- JSON -> tree --------------------------------------------------- */

struct jctx {
	struct vmstate_err *err;
	struct vmstate_where where;
};

static int jfail(struct jctx *c, const char *why, const char *what)
{
	return vmstate__fail(c->err, -EINVAL, 0, "(json)", &c->where,
			     "%s%s", why, what ? what : "");
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int json_to_table(struct jctx *c, struct json_object *o,
			 struct vmstate_table **out);

static int parse_int(struct jctx *c, struct vmstate_tfield *f,
		     struct json_object *v, uint8_t *p)
{
	unsigned int w = f->elem_size, i;
	uint64_t u = 0;
	int64_t s;
	char *end;

	if (json_object_is_type(v, json_type_boolean)) {
		u = json_object_get_boolean(v);
	} else if (json_object_is_type(v, json_type_string)) {
		errno = 0;
		u = strtoull(json_object_get_string(v), &end, 16);
		if (errno || *end)
			return jfail(c, "bad hex value ",
				     json_object_get_string(v));
	} else if (json_object_is_type(v, json_type_array)) {
		for (i = 0; i < json_object_array_length(v); i++) {
			s = json_object_get_int64(json_object_array_get_idx(v, i));
			if (s < 0 || s >= 64)
				return jfail(c, "bad flag bit", NULL);
			u |= 1ull << s;
		}
	} else if (json_object_is_type(v, json_type_int)) {
		s = json_object_get_int64(v);
		if (s < 0) {
			if (f->type < VMS_S8 || f->type > VMS_S64 ||
			    (w < 8 && s < -(1ll << (8 * w - 1))))
				return jfail(c, "value out of range", NULL);
			u = (uint64_t)s;
			if (w < 8)
				u &= (1ull << (8 * w)) - 1;
		} else {
			u = json_object_get_uint64(v);
		}
	} else {
		return jfail(c, "value is not a number", NULL);
	}
	if (w < 8 && u >> (8 * w))
		return jfail(c, "value out of range", NULL);
	for (i = 0; i < w; i++)
		p[i] = (uint8_t)(u >> (8 * i));
	return 0;
}

static int parse_bytes(struct jctx *c, struct vmstate_tfield *f,
		       struct json_object *v, bool text, uint8_t *p)
{
	const char *s;
	size_t n, i;
	unsigned int b;

	if (!json_object_is_type(v, json_type_string))
		return jfail(c, "bytes value is not a string", NULL);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (text) {
		if (n > f->elem_size)
			return jfail(c, "text longer than elem_size", NULL);
		memcpy(p, s, n);
		return 0;
	}
	if (n != (size_t)f->elem_size * 2)
		return jfail(c, "hex length is not 2 x elem_size", NULL);
	for (i = 0; i < f->elem_size; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return jfail(c, "bad hex bytes", NULL);
		p[i] = (uint8_t)b;
	}
	return 0;
}

static int parse_elem(struct jctx *c, struct vmstate_tfield *f, uint32_t i,
		      struct json_object *v, bool text)
{
	uint8_t *p;

	if (f->type == VMS_STRUCT)
		return json_to_table(c, v, &f->elems[i]);
	p = f->data + (size_t)i * f->elem_size;
	if (f->type == VMS_BYTES)
		return parse_bytes(c, f, v, text, p);
	return parse_int(c, f, v, p);
}

static int json_to_field(struct jctx *c, struct vmstate_table *t,
			 struct json_object *o)
{
	const char *name = jstr(o, "name"), *type = jstr(o, "type");
	const char *hint = jstr(o, "hint"), *flags = jstr(o, "flags");
	struct json_object *v, *esz;
	struct vmstate_tfield *f;
	uint8_t h = 0, fl = 0;
	uint32_t count = 1, size, i;
	bool text = false;
	int ty, ret;

	if (!name || !type)
		return jfail(c, "field without name or type", NULL);
	vmstate__where_name(&c->where, name, false);
	ty = vmstate__type_parse(type);
	if (ty < 0)
		return jfail(c, "unknown type ", type);
	for (h = 0; hint && h <= VMS_HINT_STRING; h++)
		if (!strcmp(hint, hint_names[h]))
			break;
	if (h > VMS_HINT_STRING)
		return jfail(c, "unknown hint ", hint);
	if (flags)
		fl = !strcmp(flags, "varray") ? VMS_F_VARRAY :
		     !strcmp(flags, "array") ? VMS_F_ARRAY : 0xff;
	if (fl == 0xff)
		return jfail(c, "unknown flags ", flags);
	if (json_object_object_get_ex(o, "text", &v))
		text = true;
	else if (!json_object_object_get_ex(o, "value", &v))
		return jfail(c, "field without value", NULL);
	if (fl) {
		if (!json_object_is_type(v, json_type_array))
			return jfail(c, "array value is not a list", NULL);
		count = (uint32_t)json_object_array_length(v);
	}
	size = vmstate__type_width((unsigned int)ty);
	if (ty == VMS_BYTES) {
		if (!json_object_object_get_ex(o, "elem_size", &esz) ||
		    json_object_get_int64(esz) < 1 ||
		    json_object_get_int64(esz) > (1 << 24))
			return jfail(c, "bytes without a good elem_size", NULL);
		size = (uint32_t)json_object_get_int64(esz);
	}
	f = vmstate__table_add_field(t, name, (uint8_t)ty, h, fl, count, size);
	if (!f)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		ret = parse_elem(c, f, i, fl ? json_object_array_get_idx(v, i) : v,
				 text);
		if (ret)
			return ret;
	}
	return 0;
}

static int json_to_table(struct jctx *c, struct json_object *o,
			 struct vmstate_table **out)
{
	const char *name = jstr(o, "table");
	struct json_object *ver, *arr;
	struct vmstate_table *t;
	size_t wlen = c->where.len, i;
	int ret = 0;

	if (!name || !json_object_object_get_ex(o, "version", &ver))
		return jfail(c, "table without name or version", NULL);
	t = vmstate__table_new(name, (uint32_t)json_object_get_int64(ver));
	if (!t)
		return -ENOMEM;
	if (json_object_object_get_ex(o, "fields", &arr))
		for (i = 0; !ret && i < json_object_array_length(arr); i++) {
			ret = json_to_field(c, t, json_object_array_get_idx(arr, i));
			if (!ret)
				vmstate__where_pop(&c->where, wlen);
		}
	if (json_object_object_get_ex(o, "subsections", &arr))
		for (i = 0; !ret && i < json_object_array_length(arr); i++) {
			struct vmstate_table *s;

			ret = json_to_table(c, json_object_array_get_idx(arr, i), &s);
			if (!ret && vmstate__table_add_sub(t, s)) {
				vmstate__table_free(s);
				ret = -ENOMEM;
			}
		}
	if (ret) {
		vmstate__table_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int vmstate__json_to_tree(struct json_object *obj, struct vmstate_tree **out,
			  struct vmstate_err *err)
{
	struct jctx c = { .err = err };
	struct vmstate_tree *tree;
	struct json_object *arr, *s, *fmt;
	struct vmstate_table *t;
	const char *path;
	size_t i;
	int ret = 0;

	if (!json_object_object_get_ex(obj, "sections", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return jfail(&c, "no sections list", NULL);
	tree = vmstate__tree_new();
	if (!tree)
		return -ENOMEM;
	if (json_object_object_get_ex(obj, "format", &fmt))
		tree->format = (uint16_t)json_object_get_int(fmt);
	for (i = 0; !ret && i < json_object_array_length(arr); i++) {
		s = json_object_array_get_idx(arr, i);
		path = jstr(s, "path");
		if (!path) {
			ret = jfail(&c, "section without path", NULL);
			break;
		}
		ret = json_to_table(&c, s, &t);
		if (!ret && vmstate__tree_add_section(tree, path, t)) {
			vmstate__table_free(t);
			ret = -ENOMEM;
		}
	}
	if (ret) {
		vmstate__tree_free(tree);
		return ret;
	}
	*out = tree;
	return 0;
}

int vmstate__stream_to_json(const void *data, size_t len, unsigned int flags,
			    char **json, struct vmstate_err *err)
{
	struct vmstate_tree *tree;
	struct json_object *o;
	int ret;

	ret = vmstate__decode(data, len, NULL, flags, &tree, err);
	if (ret)
		return ret;
	o = vmstate__tree_to_json(tree);
	vmstate__tree_free(tree);
	if (!o)
		return -ENOMEM;
	*json = strdup(json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return *json ? 0 : -ENOMEM;
}

int vmstate__json_to_stream(const char *json, struct vmstate_buf *buf,
			    struct vmstate_err *err)
{
	struct vmstate_tree *tree;
	struct json_tokener *tok;
	struct json_object *o;
	int ret;

	/* Deeper than json-c's default of 32: tables nest 16 deep. */
	tok = json_tokener_new_ex(256);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, -1);
	json_tokener_free(tok);
	if (!o)
		return vmstate__fail(err, -EINVAL, 0, NULL, NULL,
				     "not valid JSON");
	ret = vmstate__json_to_tree(o, &tree, err);
	json_object_put(o);
	if (ret)
		return ret;
	ret = vmstate__encode(tree, buf);
	vmstate__tree_free(tree);
	if (ret)
		vmstate__fail(err, ret, 0, NULL, NULL,
			      "tree cannot be encoded: %s", strerror(-ret));
	return ret;
}
