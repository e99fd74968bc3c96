/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every magic number, tag and format version of the vmstate stream, one
 * comment each (Documentation/vmstate-format.rst is the format).  A retired
 * value keeps its number under an *_OLD name and is never reused.
 */
#ifndef TERN_VMSTATE_MAGIC_H
#define TERN_VMSTATE_MAGIC_H

/* Stream header: first four bytes, "TVMS" in stream (little-endian) order. */
#define VMS_STREAM_MAGIC	0x534d5654u

/* Stream format version in the header; a reader refuses any other. */
#define VMS_FORMAT_VERSION	1u

/* Top-level record: one device section, "SECT". */
#define VMS_REC_SECTION		0x54434553u

/* Top-level record: end of stream with the section count, "END!". */
#define VMS_REC_END		0x21444e45u

/* Item inside a table body: a field, 'F'. */
#define VMS_ITEM_FIELD		0x46u

/* Item inside a table body: a subsection, 'S'. */
#define VMS_ITEM_SUBSECTION	0x53u

/* One element of a VMS_STRUCT field's payload: a nested table, 'E'. */
#define VMS_ITEM_ELEMENT	0x45u

#endif /* TERN_VMSTATE_MAGIC_H */
