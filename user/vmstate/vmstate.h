/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmstate, public API: declarative versioned state tables (struct vmsd),
 * a registry object of device instances, save/load of whole machines and
 * of single objects, and compatibility filters.  The stream format is
 * Documentation/vmstate-format.rst; this library knows no device.
 */
#ifndef TERN_VMSTATE_VMSTATE_H
#define TERN_VMSTATE_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Element types; the values are the stream's type codes. */
enum vmstate_type {
	VMS_U8 = 1,
	VMS_U16 = 2,
	VMS_U32 = 3,
	VMS_U64 = 4,
	VMS_S8 = 5,
	VMS_S16 = 6,
	VMS_S32 = 7,
	VMS_S64 = 8,
	VMS_BOOL = 9,		/* C bool; one byte 0 or 1 on the wire */
	VMS_BYTES = 10,		/* opaque byte buffer of `size` bytes */
	VMS_STRUCT = 11,	/* nested table `vmsd`, element of `size` bytes */
};

/* Presentation hints, carried in the stream for readable JSON. */
enum vmstate_hint {
	VMS_HINT_NONE = 0,
	VMS_HINT_HEX = 1,	/* integers printed "0x..." */
	VMS_HINT_FLAGS = 2,	/* integers printed as set bit numbers */
	VMS_HINT_STRING = 3,	/* byte buffers printed as text (NUL-padded) */
};

/* vmstate_field.flags */
#define VMS_F_ARRAY	(1u << 0)	/* fixed array of `count` elements */
#define VMS_F_VARRAY	(1u << 1)	/* 0..count elements, length member */
#define __VMS_F_ALL	(VMS_F_ARRAY | VMS_F_VARRAY)

struct vmsd;

/*
 * One field of a table.  A scalar is count 1 without flags.  A variable
 * array keeps its elements inline (capacity `count`) and its length in the
 * unsigned member at count_offset (count_size bytes); the length is
 * checked against the capacity on save and on load.  A field that the
 * stream's version predates (version_id > stream version) takes its
 * default: `def` in every integer/bool element, `def` as the fill byte of
 * a buffer, each nested field's own default for a struct, length 0 for a
 * variable array.
 */
struct vmstate_field {
	const char *name;
	enum vmstate_type type;
	uint32_t version_id;		/* version that introduced it; 0: always */
	size_t offset;			/* of the member in the state struct */
	uint32_t size;			/* bytes of one element */
	uint32_t count;			/* elements (capacity for VMS_F_VARRAY) */
	uint32_t flags;			/* VMS_F_* */
	size_t count_offset;		/* VMS_F_VARRAY: length member */
	uint32_t count_size;		/* its width: 1, 2, 4 or 8 */
	const struct vmsd *vmsd;	/* VMS_STRUCT: the element's table */
	uint64_t def;			/* default, see above */
	enum vmstate_hint hint;
};

/*
 * A table: one device's (or one nested struct's, or one subsection's)
 * state.  `fields` ends with VMSTATE_END.  `subsections` is a
 * NULL-terminated list of optional tables over the same struct, each sent
 * only when its needed() returns true (a NULL needed() means always).
 *
 * Hooks return 0 or -errno and never abort.  pre_save may refuse state
 * that looks wrong (the save fails, the guest goes on).  Loading happens
 * in a staging copy of `size` bytes: post_load runs on that copy and may
 * refuse it; only when every section of a stream has loaded are the
 * described bytes copied into the live object, and post_commit then runs
 * on the live object: it applies the state where it lives (KVM's SET
 * ioctls, IRQ lines) and returns 0, or -errno with `why` saying what
 * failed (the object and the call); the load then fails naming the
 * section, and the caller must treat the machine as not restored (a
 * migration destination discards it, the source resumes).
 * post_load runs for every table that came from the stream (nested struct
 * elements and subsections too); post_commit only for a registered
 * instance's own table.  A subsection absent from the stream loads as the
 * defaults of its fields.
 */
struct vmsd {
	const char *name;
	uint32_t version_id;
	uint32_t minimum_version_id;
	size_t size;			/* sizeof the state struct */
	const struct vmstate_field *fields;
	const struct vmsd *const *subsections;
	bool (*needed)(void *opaque);
	int (*pre_save)(void *opaque);
	int (*post_load)(void *staging, uint32_t version_id);
	int (*post_commit)(void *opaque, char *why, size_t len);
};

/* ---- declaring fields ---------------------------------------------- */

#define vms_member(_st, _f)	(((_st *)0)->_f)
#define vms_sizeof(_st, _f)	((uint32_t)sizeof(vms_member(_st, _f)))
/* 0, or a compile error when member _f of _st is not of C type _t. */
#define vms_check(_st, _f, _t)						\
	(0 * sizeof(struct { _Static_assert(__builtin_types_compatible_p( \
		__typeof__(vms_member(_st, _f)), _t),			\
		#_st "." #_f " is not " #_t); int _x; }))
#define vms_nelem(_st, _f)						\
	((uint32_t)(sizeof(vms_member(_st, _f)) /			\
		    sizeof(vms_member(_st, _f)[0])))

/* Everything: field _f of struct _st, element C type _ct, since _v. */
#define VMSTATE_SCALAR(_f, _st, _v, _type, _ct, _def, _hint) {		\
	.name = #_f, .type = (_type), .version_id = (_v),		\
	.offset = offsetof(_st, _f) + vms_check(_st, _f, _ct),		\
	.size = sizeof(_ct), .count = 1, .def = (uint64_t)(_def),	\
	.hint = (_hint) }

#define VMSTATE_ARRAY_OF(_f, _st, _v, _type, _ct, _def, _hint) {	\
	.name = #_f, .type = (_type), .version_id = (_v),		\
	.offset = offsetof(_st, _f) + vms_check(_st, _f[0], _ct),	\
	.size = sizeof(_ct), .count = vms_nelem(_st, _f),		\
	.flags = VMS_F_ARRAY, .def = (uint64_t)(_def), .hint = (_hint) }

/* Member _f is an inline array (its capacity); _n holds the length. */
#define VMSTATE_VARRAY_OF(_f, _st, _n, _v, _type, _ct, _def, _hint) {	\
	.name = #_f, .type = (_type), .version_id = (_v),		\
	.offset = offsetof(_st, _f) + vms_check(_st, _f[0], _ct),	\
	.size = sizeof(_ct), .count = vms_nelem(_st, _f),		\
	.flags = VMS_F_VARRAY, .count_offset = offsetof(_st, _n),	\
	.count_size = vms_sizeof(_st, _n), .def = (uint64_t)(_def),	\
	.hint = (_hint) }

#define VMSTATE_U8(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_U8, uint8_t, 0, 0)
#define VMSTATE_U16(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_U16, uint16_t, 0, 0)
#define VMSTATE_U32(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_U32, uint32_t, 0, 0)
#define VMSTATE_U64(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_U64, uint64_t, 0, 0)
#define VMSTATE_S8(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_S8, int8_t, 0, 0)
#define VMSTATE_S16(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_S16, int16_t, 0, 0)
#define VMSTATE_S32(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_S32, int32_t, 0, 0)
#define VMSTATE_S64(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_S64, int64_t, 0, 0)
#define VMSTATE_BOOL(f, st, v)	VMSTATE_SCALAR(f, st, v, VMS_BOOL, bool, 0, 0)

/* Registers: printed in hex; flag words: printed as bit numbers. */
#define VMSTATE_U8_HEX(f, st, v)  VMSTATE_SCALAR(f, st, v, VMS_U8, uint8_t, 0, VMS_HINT_HEX)
#define VMSTATE_U16_HEX(f, st, v) VMSTATE_SCALAR(f, st, v, VMS_U16, uint16_t, 0, VMS_HINT_HEX)
#define VMSTATE_U32_HEX(f, st, v) VMSTATE_SCALAR(f, st, v, VMS_U32, uint32_t, 0, VMS_HINT_HEX)
#define VMSTATE_U64_HEX(f, st, v) VMSTATE_SCALAR(f, st, v, VMS_U64, uint64_t, 0, VMS_HINT_HEX)
#define VMSTATE_U8_FLAGS(f, st, v)  VMSTATE_SCALAR(f, st, v, VMS_U8, uint8_t, 0, VMS_HINT_FLAGS)
#define VMSTATE_U16_FLAGS(f, st, v) VMSTATE_SCALAR(f, st, v, VMS_U16, uint16_t, 0, VMS_HINT_FLAGS)
#define VMSTATE_U32_FLAGS(f, st, v) VMSTATE_SCALAR(f, st, v, VMS_U32, uint32_t, 0, VMS_HINT_FLAGS)
#define VMSTATE_U64_FLAGS(f, st, v) VMSTATE_SCALAR(f, st, v, VMS_U64, uint64_t, 0, VMS_HINT_FLAGS)

/* Added in version v with default d (the value older streams load as). */
#define VMSTATE_U8_DEF(f, st, v, d)  VMSTATE_SCALAR(f, st, v, VMS_U8, uint8_t, d, 0)
#define VMSTATE_U16_DEF(f, st, v, d) VMSTATE_SCALAR(f, st, v, VMS_U16, uint16_t, d, 0)
#define VMSTATE_U32_DEF(f, st, v, d) VMSTATE_SCALAR(f, st, v, VMS_U32, uint32_t, d, 0)
#define VMSTATE_U64_DEF(f, st, v, d) VMSTATE_SCALAR(f, st, v, VMS_U64, uint64_t, d, 0)
#define VMSTATE_BOOL_DEF(f, st, v, d) VMSTATE_SCALAR(f, st, v, VMS_BOOL, bool, d, 0)
#define VMSTATE_S32_DEF(f, st, v, d) VMSTATE_SCALAR(f, st, v, VMS_S32, int32_t, d, 0)
#define VMSTATE_S64_DEF(f, st, v, d) VMSTATE_SCALAR(f, st, v, VMS_S64, int64_t, d, 0)

#define VMSTATE_U8_ARRAY(f, st, v)  VMSTATE_ARRAY_OF(f, st, v, VMS_U8, uint8_t, 0, 0)
#define VMSTATE_U16_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_U16, uint16_t, 0, 0)
#define VMSTATE_U32_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_U32, uint32_t, 0, 0)
#define VMSTATE_U64_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_U64, uint64_t, 0, 0)
#define VMSTATE_BOOL_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_BOOL, bool, 0, 0)
#define VMSTATE_S8_ARRAY(f, st, v)  VMSTATE_ARRAY_OF(f, st, v, VMS_S8, int8_t, 0, 0)
#define VMSTATE_S16_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_S16, int16_t, 0, 0)
#define VMSTATE_S32_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_S32, int32_t, 0, 0)
#define VMSTATE_S64_ARRAY(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_S64, int64_t, 0, 0)
#define VMSTATE_U8_ARRAY_HEX(f, st, v)  VMSTATE_ARRAY_OF(f, st, v, VMS_U8, uint8_t, 0, VMS_HINT_HEX)
#define VMSTATE_U32_ARRAY_HEX(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_U32, uint32_t, 0, VMS_HINT_HEX)
#define VMSTATE_U64_ARRAY_HEX(f, st, v) VMSTATE_ARRAY_OF(f, st, v, VMS_U64, uint64_t, 0, VMS_HINT_HEX)

#define VMSTATE_U8_VARRAY(f, st, n, v)  VMSTATE_VARRAY_OF(f, st, n, v, VMS_U8, uint8_t, 0, 0)
#define VMSTATE_U16_VARRAY(f, st, n, v) VMSTATE_VARRAY_OF(f, st, n, v, VMS_U16, uint16_t, 0, 0)
#define VMSTATE_U32_VARRAY(f, st, n, v) VMSTATE_VARRAY_OF(f, st, n, v, VMS_U32, uint32_t, 0, 0)
#define VMSTATE_U64_VARRAY(f, st, n, v) VMSTATE_VARRAY_OF(f, st, n, v, VMS_U64, uint64_t, 0, 0)

/* A byte buffer: member f is an array of uint8_t (or char), one element. */
#define VMSTATE_BUFFER_H(_f, _st, _v, _hint) {				\
	.name = #_f, .type = VMS_BYTES, .version_id = (_v),		\
	.offset = offsetof(_st, _f), .size = vms_sizeof(_st, _f),	\
	.count = 1, .hint = (_hint) }
#define VMSTATE_BUFFER(f, st, v)	VMSTATE_BUFFER_H(f, st, v, 0)
#define VMSTATE_STRING(f, st, v)	VMSTATE_BUFFER_H(f, st, v, VMS_HINT_STRING)

/* A nested struct of C type _t described by table _vmsd. */
#define VMSTATE_STRUCT(_f, _st, _v, _vmsd, _t) {			\
	.name = #_f, .type = VMS_STRUCT, .version_id = (_v),		\
	.offset = offsetof(_st, _f) + vms_check(_st, _f, _t),		\
	.size = sizeof(_t), .count = 1, .vmsd = &(_vmsd) }
#define VMSTATE_STRUCT_ARRAY(_f, _st, _v, _vmsd, _t) {			\
	.name = #_f, .type = VMS_STRUCT, .version_id = (_v),		\
	.offset = offsetof(_st, _f) + vms_check(_st, _f[0], _t),	\
	.size = sizeof(_t), .count = vms_nelem(_st, _f),		\
	.flags = VMS_F_ARRAY, .vmsd = &(_vmsd) }
#define VMSTATE_STRUCT_VARRAY(_f, _st, _n, _v, _vmsd, _t) {		\
	.name = #_f, .type = VMS_STRUCT, .version_id = (_v),		\
	.offset = offsetof(_st, _f) + vms_check(_st, _f[0], _t),	\
	.size = sizeof(_t), .count = vms_nelem(_st, _f),		\
	.flags = VMS_F_VARRAY, .count_offset = offsetof(_st, _n),	\
	.count_size = vms_sizeof(_st, _n), .vmsd = &(_vmsd) }

#define VMSTATE_END	{ .name = NULL }

/* ---- buffers and errors -------------------------------------------- */

/* A growable output buffer; zero-initialise, release with vmstate__buf_free. */
struct vmstate_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void vmstate__buf_free(struct vmstate_buf *buf);

/*
 * Why a load failed: "offset 1234: section /machine/pci0/00:03.0/virtio-blk
 * field queues[2].avail: length 9 exceeds 8".  `offset` is the byte offset
 * in the stream of the frame at fault, `errnum` the negative errno returned.
 */
#define VMSTATE_ERR_MAX		512
struct vmstate_err {
	int errnum;
	size_t offset;
	char msg[VMSTATE_ERR_MAX];
};

/* Bounds the decoder enforces; 0 in any member means its default. */
struct vmstate_limits {
	size_t max_stream;		/* bytes; default 256 MiB */
	uint32_t max_depth;		/* nested tables below a section; 16 */
	uint32_t max_sections;		/* 4096 */
	uint32_t max_count;		/* elements of one field; 1 << 20 */
	uint32_t max_nodes;		/* fields + tables in the tree; 1 << 20 */
};

/* vmstate__load_opts() flags */
#define VMSTATE_LOAD_NO_CRC	(1u << 0)	/* tests: skip crc32c checks */

/* ---- the registry -------------------------------------------------- */

struct vmstate_registry;

/* A machine's (or a test's) set of instances and filters. NULL + errno. */
struct vmstate_registry *vmstate__registry_new(void);
void vmstate__registry_free(struct vmstate_registry *reg);

/*
 * Adds an instance: table vmsd describes the struct at opaque, named by its
 * canonical path ("/machine/pci0/00:03.0/virtio-blk").  Paths are unique;
 * sections are saved in registration order.  -EEXIST, -EINVAL, -ENOMEM.
 */
int vmstate__register(struct vmstate_registry *reg, const struct vmsd *vmsd,
		      void *opaque, const char *instance_path);
int vmstate__unregister(struct vmstate_registry *reg,
			const char *instance_path);

/*
 * Every instance as one stream, appended to buf.  A pre_save or
 * consistency failure returns -errno with a pr_err naming the section and
 * field; buf then holds no partial stream (its length is restored).
 */
int vmstate__save_all(struct vmstate_registry *reg, struct vmstate_buf *buf);

/*
 * Decode, filter and dispatch a stream to the registered instances: every
 * section must name a registered path and every registered instance must
 * have a section.  On error nothing is modified, err (if not NULL) says
 * where and why, and the message is also logged when err is NULL.
 */
int vmstate__load_all(struct vmstate_registry *reg, const void *data,
		      size_t len, struct vmstate_err *err);
int vmstate__load_opts(struct vmstate_registry *reg, const void *data,
		       size_t len, const struct vmstate_limits *limits,
		       unsigned int flags, struct vmstate_err *err);

/* One object as a one-section stream, and back (tests, tools). */
int vmstate__save(const struct vmsd *vmsd, void *opaque, const char *path,
		  struct vmstate_buf *buf);
int vmstate__load(const struct vmsd *vmsd, void *opaque, const char *path,
		  const void *data, size_t len, struct vmstate_err *err);

/* ---- compatibility filters ----------------------------------------- */

struct vmstate_tree;

/*
 * What a filter does.  `table` names the tables it applies to, at any depth
 * (sections, subsections, struct elements), limited to versions up to
 * `max_version` when that is not 0:
 *  RENAME_TABLE:  the table becomes `to`, and so does every component of
 *                 its section's path equal to `table` (kvm-apic -> apic);
 *  RENAME_FIELD:  field `from` becomes `to`;
 *  DROP_FIELD:    field `from` is removed;
 *  DEFAULT_FIELD: a missing scalar field `to` of `type` is added = `value`;
 *  SPLIT:         a section becomes two: the fields and subsections named
 *                 in `move` go to a new section at path + `path_suffix`,
 *                 table `to`, version `to_version`; the rest stay;
 *  CUSTOM:        fn(tree, arg, err) edits the tree itself (`table`, if
 *                 set, names what it edits for the catalogue).
 */
enum vmstate_filter_kind {
	VMSTATE_FILTER_RENAME_TABLE = 1,
	VMSTATE_FILTER_RENAME_FIELD,
	VMSTATE_FILTER_DROP_FIELD,
	VMSTATE_FILTER_DEFAULT_FIELD,
	VMSTATE_FILTER_SPLIT,
	VMSTATE_FILTER_CUSTOM,
};

struct vmstate_filter {
	enum vmstate_filter_kind kind;
	const char *table;		/* tables it applies to (any depth) */
	uint32_t max_version;		/* 0: any; else tables at <= it only */
	const char *from;
	const char *to;
	enum vmstate_type type;		/* DEFAULT_FIELD */
	uint64_t value;			/* DEFAULT_FIELD */
	const char *path_suffix;	/* SPLIT */
	uint32_t to_version;		/* SPLIT */
	const char *const *move;	/* SPLIT: NULL-terminated names */
	int (*fn)(struct vmstate_tree *tree, void *arg,
		  struct vmstate_err *err);
	void *arg;
};

/*
 * Filters run in registration order before dispatch; f is copied.  The
 * same filter (equal members, names compared as pointers) registered
 * again is still one filter, so each instance of a device may register
 * its kind's.
 */
int vmstate__filter_register(struct vmstate_registry *reg,
			     const struct vmstate_filter *f);

/* A registered instance, as this side's handshake describes it. */
struct vmstate_inst_desc {
	const char *path;	/* valid while the instance is registered */
	const char *type;	/* its table's name */
	uint32_t version;	/* the version it saves */
	uint32_t min_version;	/* the oldest it loads */
	/* Its table's subsections (NULL-terminated, or NULL): it may send them. */
	const struct vmsd *const *subsections;
};

/*
 * The registered instances in registration order, at most max of them
 * into out; returns how many there are (more than max: out is short).
 */
unsigned int vmstate__describe(struct vmstate_registry *reg,
			       struct vmstate_inst_desc *out, unsigned int max);

/* A subsection another build's device may send, and at which version. */
struct vmstate_sub_desc {
	const char *name;
	uint32_t version;
};

#define VMSTATE_ADMIT_SUBS_MAX	32	/* subsections per device, admit() */

/* A device of another build, as a migration's handshake describes it. */
struct vmstate_dev_desc {
	const char *path;	/* its instance path */
	const char *type;	/* its table; NULL: not known (release 0.1.0) */
	uint32_t version;	/* the version it saves */
	const struct vmstate_sub_desc *subs;	/* its table's subsections */
	unsigned int nr_subs;	/* <= VMSTATE_ADMIT_SUBS_MAX; 0: not known */
};

/*
 * Would a stream of these sections (tables without their fields) load
 * here?  Each goes through this registry's renames and splits (CUSTOM
 * filters are left out: they must not change paths or table names) and
 * must land on registered instances of the same table, at a version each
 * loads, every instance getting exactly one.  A device whose type is
 * not known is tried as the table registered at its path, then as each
 * table a rename or split filter names.  0, or -ENODEV / -EPROTONOSUPPORT
 * / -EBADMSG with `why` naming the device and what this side loads.
 *
 * A subsection does not decide admission: it is sent only when needed.
 * On 0, unloadable[i] (if not NULL) has bit k set when src[i].subs[k],
 * where the filters take it, is a subsection this side does not know or
 * does not load at that version; the source may send the device only
 * while that subsection is not needed.
 */
int vmstate__admit(struct vmstate_registry *reg,
		   const struct vmstate_dev_desc *src, unsigned int nr,
		   uint32_t *unloadable, char *why, size_t len);

/*
 * Would the instance at path send its subsection `name` if saved now:
 * 1 or 0, -ENOENT when there is no such instance or subsection.  Its
 * needed() reads live state: read while the guest runs, the answer is
 * the state of that moment (a migration asks again while paused).
 */
int vmstate__sub_needed(struct vmstate_registry *reg, const char *path,
			const char *name);

/* ---- the catalogue of device tables -------------------------------- */

/*
 * Every table a machine registers as an instance is declared once, next to
 * it, with VMSTATE_DEVICE_TABLE(its_vmsd): the build can then print all of
 * them without a VM, and make check compares that with the committed
 * snapshot (Documentation/vmstate-format.rst, "Compatibility").
 */
struct vmstate_catalog_entry {
	const struct vmsd *vmsd;		/* a table, or */
	const struct vmstate_filter *filter;	/* a filter its device registers */
	struct vmstate_catalog_entry *next;
};

void vmstate__catalog_add(struct vmstate_catalog_entry *e);
/* vmsd was declared with VMSTATE_DEVICE_TABLE. */
bool vmstate__catalog_has(const struct vmsd *vmsd);
/* Every declared table, sorted by name, in the snapshot's text form. */
int vmstate__catalog_dump(FILE *f);

#define VMSTATE_DEVICE_TABLE(_vmsd)					\
	static struct vmstate_catalog_entry vmstate_catalog_##_vmsd = {	\
		.vmsd = &(_vmsd) };					\
	static void __attribute__((constructor))			\
	vmstate_catalog_add_##_vmsd(void)				\
	{								\
		vmstate__catalog_add(&vmstate_catalog_##_vmsd);		\
	}								\
	struct vmstate_catalog_entry

/*
 * A filter a device registers (vmstate__filter_register) for the old
 * names of its table, declared once next to it so that the snapshot
 * lists it and make check lets the release's name go: a RENAME_TABLE
 * prints as "filter rename-table OLD -> NEW max-version V".
 */
#define VMSTATE_DEVICE_FILTER(_f)					\
	static struct vmstate_catalog_entry vmstate_catalog_##_f = {	\
		.filter = &(_f) };					\
	static void __attribute__((constructor))			\
	vmstate_catalog_add_##_f(void)					\
	{								\
		vmstate__catalog_add(&vmstate_catalog_##_f);		\
	}								\
	struct vmstate_catalog_entry

#endif /* TERN_VMSTATE_VMSTATE_H */
