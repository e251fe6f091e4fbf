/*
 * codec_internal.h - the descriptor tables that lib/protocol/gen/kpgen.py
 * generates (messages_gen.c) and that the generic codec (codec.c) walks.
 * Not part of the public API: users see struct kp_msg_desc as opaque.
 *
 * One struct kp_msg_desc per generated C struct (messages and nested
 * structs); one struct kp_field_desc per schema field, in wire order.
 * Version ranges are inclusive [min, max]; max KP_VER_OPEN means "N+",
 * min -1 means "none".
 */
#ifndef KP_PROTOCOL_CODEC_INTERNAL_H
#define KP_PROTOCOL_CODEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/codec.h"

#define KP_VER_OPEN 0x7fff

enum kp_field_kind {
	KP_F_NONE = 0,
	KP_F_BOOL,
	KP_F_INT8,
	KP_F_INT16,
	KP_F_UINT16,
	KP_F_INT32,
	KP_F_INT64,
	KP_F_FLOAT64,
	KP_F_UUID,
	KP_F_STRING,
	KP_F_BYTES,
	KP_F_RECORDS,
	KP_F_STRUCT,
	KP_F_ARRAY,
};

struct kp_field_desc {
	const char *name;               /* schema field name, e.g. "ThrottleTimeMs" */
	uint8_t kind;                   /* enum kp_field_kind */
	uint8_t elem_kind;              /* for KP_F_ARRAY: kind of the elements */
	uint32_t offset;                /* of the member in its C struct */
	uint32_t aux_offset;            /* arrays: int32_t count; nullable structs: bool is_null */
	const struct kp_msg_desc *sub;  /* struct or array-of-struct element descriptor */
	int16_t ver_min, ver_max;       /* "versions" */
	int16_t null_min, null_max;     /* "nullableVersions"; -1 = never */
	int16_t tag_min, tag_max;       /* "taggedVersions"; -1 = never */
	int32_t tag;                    /* "tag"; -1 = none */
	int16_t flex_min, flex_max;     /* field "flexibleVersions" override; -2 = inherit */
	bool def_null;                  /* "default": "null" */
	const char *def_str;            /* string default, NULL when none */
	int64_t def_int;                /* integer and bool default */
	double def_f64;                 /* float64 default */
};

struct kp_msg_desc {
	const char *name;               /* "ProduceRequest", or the struct type "TopicProduceData" */
	size_t size;                    /* sizeof the C struct */
	int16_t ver_min, ver_max;       /* validVersions of the message */
	int16_t flex_min;               /* first flexible version of the message; -1 none */
	const struct kp_field_desc *fields;
	size_t nfields;
};

/* Every message descriptor (requests, responses, headers, data), sorted by name. */
extern const struct kp_msg_desc *const kp_all_msgs[];
extern const size_t kp_all_msgs_count;

/* kp_field_in - whether version `v` lies in [lo, hi] (lo < 0: never). */
static inline bool kp_field_in(int16_t v, int16_t lo, int16_t hi)
{
	return lo >= 0 && v >= lo && v <= hi;
}

/* kp_elem_size - bytes per array element of `f` (a KP_F_ARRAY field). */
size_t kp_elem_size(const struct kp_field_desc *f);

#endif
