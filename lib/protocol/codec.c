/*
 * codec.c - the generic Kafka message encoder and decoder.
 *
 * Every message is described by a table of field descriptors generated
 * from the JSON schemas (messages_gen.c, codec_internal.h); this file walks
 * those tables, so no message has hand-written parsing code. Frames and
 * headers are in headers.c.
 *
 * Wire layouts (protocol guide, "Protocol Primitive Types"; KIP-482 for the
 * flexible forms, used when the message version is in flexibleVersions):
 *
 *   int8/16/32/64, uint16, float64   big-endian, fixed width; bool = int8 0/1
 *   uuid                             16 raw bytes
 *   string          classic: int16 len | bytes      (len -1 = null)
 *                   compact: uvarint len+1 | bytes  (0 = null)
 *   bytes, records  classic: int32 len | bytes      (len -1 = null)
 *                   compact: uvarint len+1 | bytes  (0 = null)
 *   array           classic: int32 count | elems    (count -1 = null)
 *                   compact: uvarint count+1 | elems (0 = null)
 *   nullable struct int8 marker (-1 = null, 1 = present) | struct
 *   struct          fields in schema order | [flexible: tagged section]
 *
 *   tagged section  uvarint n | n x ( uvarint tag | uvarint size | value )
 *                   tags ascending; a value is encoded as it would be in
 *                   place (compact forms); unknown tags are skipped
 *
 * Memory: decoded strings and arrays live in the caller's arena; kp_bytes
 * point into the decoded data. The encoder only reads the message.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/codec.h"
#include "protocol/codec_internal.h"

/* Decoded non-nullable strings absent from a version point here (""). */
static char kp_empty_str[1];

#define FIELD_PTR(msg, f) ((void *)((char *)(msg) + (f)->offset))
#define FIELD_CPTR(msg, f) ((const void *)((const char *)(msg) + (f)->offset))
#define AUX_PTR(msg, f) ((void *)((char *)(msg) + (f)->aux_offset))
#define AUX_CPTR(msg, f) ((const void *)((const char *)(msg) + (f)->aux_offset))

static bool msg_flexible(const struct kp_msg_desc *d, int16_t v)
{
	return d->flex_min >= 0 && v >= d->flex_min;
}

/* Whether field `f` uses the compact forms at `v` (field override, else message). */
static bool field_compact(const struct kp_field_desc *f, bool flex, int16_t v)
{
	if (f->flex_min == -2)
		return flex;
	return kp_field_in(v, f->flex_min, f->flex_max);
}

static bool field_present(const struct kp_field_desc *f, int16_t v)
{
	return kp_field_in(v, f->ver_min, f->ver_max);
}

static bool field_tagged(const struct kp_field_desc *f, int16_t v)
{
	return f->tag >= 0 && kp_field_in(v, f->tag_min, f->tag_max);
}

static bool field_nullable(const struct kp_field_desc *f, int16_t v)
{
	return kp_field_in(v, f->null_min, f->null_max);
}

static size_t kind_size(uint8_t kind, const struct kp_msg_desc *sub)
{
	switch (kind) {
	case KP_F_BOOL: return sizeof(bool);
	case KP_F_INT8: return sizeof(int8_t);
	case KP_F_INT16: return sizeof(int16_t);
	case KP_F_UINT16: return sizeof(uint16_t);
	case KP_F_INT32: return sizeof(int32_t);
	case KP_F_INT64: return sizeof(int64_t);
	case KP_F_FLOAT64: return sizeof(double);
	case KP_F_UUID: return sizeof(kp_uuid);
	case KP_F_STRING: return sizeof(char *);
	case KP_F_BYTES:
	case KP_F_RECORDS: return sizeof(kp_bytes);
	case KP_F_STRUCT: return sub->size;
	default: return 0;
	}
}

size_t kp_elem_size(const struct kp_field_desc *f)
{
	return kind_size(f->elem_kind, f->sub);
}

size_t kp_msg_size(const struct kp_msg_desc *d)
{
	return d->size;
}

const char *kp_msg_name(const struct kp_msg_desc *d)
{
	return d->name;
}

/* ---- defaults ---------------------------------------------------------- */

static void init_struct(const struct kp_msg_desc *d, void *msg, bool decoding);

static void init_field(const struct kp_field_desc *f, void *msg, bool decoding)
{
	void *p = FIELD_PTR(msg, f);

	switch (f->kind) {
	case KP_F_BOOL: *(bool *)p = f->def_int != 0; break;
	case KP_F_INT8: *(int8_t *)p = (int8_t)f->def_int; break;
	case KP_F_INT16: *(int16_t *)p = (int16_t)f->def_int; break;
	case KP_F_UINT16: *(uint16_t *)p = (uint16_t)f->def_int; break;
	case KP_F_INT32: *(int32_t *)p = (int32_t)f->def_int; break;
	case KP_F_INT64: *(int64_t *)p = f->def_int; break;
	case KP_F_FLOAT64: *(double *)p = f->def_f64; break;
	case KP_F_STRING:
		if (f->def_str && *f->def_str)
			memcpy(p, &f->def_str, sizeof(char *)); /* read-only schema default */
		else
			*(char **)p = (f->def_null || !decoding) ? NULL : kp_empty_str;
		break;
	case KP_F_BYTES:
	case KP_F_RECORDS: ((kp_bytes *)p)->len = f->def_null ? -1 : 0; break;
	case KP_F_ARRAY: *(int32_t *)AUX_PTR(msg, f) = f->def_null ? -1 : 0; break;
	case KP_F_STRUCT:
		init_struct(f->sub, p, decoding);
		if (f->aux_offset)
			*(bool *)AUX_PTR(msg, f) = f->def_null;
		break;
	default: break; /* uuid: zero */
	}
}

static void init_struct(const struct kp_msg_desc *d, void *msg, bool decoding)
{
	memset(msg, 0, d->size);
	for (size_t i = 0; i < d->nfields; i++)
		init_field(&d->fields[i], msg, decoding);
}

void kp_msg_init(const struct kp_msg_desc *d, void *msg)
{
	init_struct(d, msg, false);
}

void *kp_msg_new(const struct kp_msg_desc *d, kp_arena *arena, size_t n)
{
	uint8_t *p;

	if (n > SIZE_MAX / d->size)
		return NULL;
	p = kp_arena_alloc(arena, n * d->size);
	for (size_t i = 0; p && i < n; i++)
		init_struct(d, p + i * d->size, false);
	return p;
}

static bool struct_is_default(const struct kp_msg_desc *d, const void *msg);

/* Whether field `f` of `msg` holds its default (so a tagged field is not sent). */
static bool field_is_default(const struct kp_field_desc *f, const void *msg)
{
	const void *p = FIELD_CPTR(msg, f);
	static const kp_uuid zero_uuid;

	switch (f->kind) {
	case KP_F_BOOL: return *(const bool *)p == (f->def_int != 0);
	case KP_F_INT8: return *(const int8_t *)p == f->def_int;
	case KP_F_INT16: return *(const int16_t *)p == f->def_int;
	case KP_F_UINT16: return *(const uint16_t *)p == f->def_int;
	case KP_F_INT32: return *(const int32_t *)p == f->def_int;
	case KP_F_INT64: return *(const int64_t *)p == f->def_int;
	case KP_F_FLOAT64: return *(const double *)p == f->def_f64;
	case KP_F_UUID: return memcmp(p, &zero_uuid, sizeof zero_uuid) == 0;
	case KP_F_STRING: {
		const char *s = *(const char *const *)p;
		const char *def = f->def_str ? f->def_str : "";
		if (!s)
			return f->def_null || (f->null_min < 0 && !*def);
		return !f->def_null && strcmp(s, def) == 0;
	}
	case KP_F_BYTES:
	case KP_F_RECORDS: {
		int32_t len = ((const kp_bytes *)p)->len;
		return len < 0 ? (f->def_null || f->null_min < 0) : (!f->def_null && len == 0);
	}
	case KP_F_ARRAY: {
		int32_t n = *(const int32_t *)AUX_CPTR(msg, f);
		return n < 0 ? (f->def_null || f->null_min < 0) : (!f->def_null && n == 0);
	}
	case KP_F_STRUCT:
		if (f->aux_offset && *(const bool *)AUX_CPTR(msg, f))
			return f->def_null;
		return !f->def_null && struct_is_default(f->sub, p);
	default: return true;
	}
}

static bool struct_is_default(const struct kp_msg_desc *d, const void *msg)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (!field_is_default(&d->fields[i], msg))
			return false;
	return true;
}

/* ---- encoding ---------------------------------------------------------- */

struct enc {
	int16_t v;      /* version being encoded */
	kp_buf *out;
	kp_error *err;
	struct kp_ext_sink *ext; /* NULL: external bytes are an error */
};

static int encode_struct(const struct kp_msg_desc *d, const void *msg, struct enc *e);

/* Write a length or count: compact uvarint n+1, else int16 or int32 (-1 = null). */
static void put_len(kp_buf *b, bool compact, bool wide, int32_t n)
{
	if (compact)
		kp_buf_put_uvarint(b, (uint32_t)n + 1);
	else if (wide)
		kp_buf_put_i32(b, n);
	else
		kp_buf_put_i16(b, (int16_t)n);
}

static int encode_string(const struct kp_field_desc *f, const char *s, bool compact,
			 bool nullable, struct enc *e)
{
	size_t len;

	if (!s) {
		put_len(e->out, compact, false, nullable ? -1 : 0);
		return 0;
	}
	len = strlen(s);
	if (len > INT16_MAX)
		return kp_error_set(e->err, KP_EINVAL, "field %s: string of %zu bytes is too long",
				    f->name, len);
	put_len(e->out, compact, false, (int32_t)len);
	kp_buf_append(e->out, s, len);
	return 0;
}

/* encode_external - the length prefix of external bytes `b`, noting them in e->ext. */
static int encode_external(const struct kp_field_desc *f, const kp_bytes *b, bool compact,
			   struct enc *e)
{
	if (!e->ext)
		return kp_error_set(e->err, KP_EINVAL, "field %s: %d bytes at NULL", f->name, b->len);
	if (e->ext->n >= e->ext->max)
		return kp_error_set(e->err, KP_EINVAL, "field %s: more than %zu external values",
				    f->name, e->ext->max);
	put_len(e->out, compact, true, b->len);
	e->ext->refs[e->ext->n++] = (struct kp_ext_ref){ e->out->len, b->len };
	return 0;
}

static int encode_bytes(const struct kp_field_desc *f, const kp_bytes *b, bool compact,
			bool nullable, struct enc *e)
{
	if (b->len < 0) {
		if (!nullable || b->len != -1)
			return kp_error_set(e->err, KP_EINVAL, "field %s: null not allowed in v%d",
					    f->name, e->v);
		put_len(e->out, compact, true, -1);
		return 0;
	}
	if (b->len > 0 && !b->data)
		return encode_external(f, b, compact, e);
	put_len(e->out, compact, true, b->len);
	kp_buf_append(e->out, b->data, (size_t)b->len);
	return 0;
}

/* Encode one value of `kind` at `p` (a scalar field or an array element). */
static int encode_value(const struct kp_field_desc *f, uint8_t kind, const void *p,
			bool compact, bool nullable, struct enc *e)
{
	switch (kind) {
	case KP_F_BOOL: kp_buf_put_i8(e->out, *(const bool *)p ? 1 : 0); break;
	case KP_F_INT8: kp_buf_put_i8(e->out, *(const int8_t *)p); break;
	case KP_F_INT16: kp_buf_put_i16(e->out, *(const int16_t *)p); break;
	case KP_F_UINT16: kp_buf_put_u16(e->out, *(const uint16_t *)p); break;
	case KP_F_INT32: kp_buf_put_i32(e->out, *(const int32_t *)p); break;
	case KP_F_INT64: kp_buf_put_i64(e->out, *(const int64_t *)p); break;
	case KP_F_FLOAT64: kp_buf_put_f64(e->out, *(const double *)p); break;
	case KP_F_UUID: kp_buf_append(e->out, p, sizeof(kp_uuid)); break;
	case KP_F_STRING: return encode_string(f, *(const char *const *)p, compact, nullable, e);
	case KP_F_BYTES:
	case KP_F_RECORDS: return encode_bytes(f, p, compact, nullable, e);
	case KP_F_STRUCT: return encode_struct(f->sub, p, e);
	default: return kp_error_set(e->err, KP_EINVAL, "field %s: bad kind %d", f->name, kind);
	}
	return 0;
}

static int encode_array(const struct kp_field_desc *f, const void *msg, bool compact,
			bool nullable, struct enc *e)
{
	int32_t n = *(const int32_t *)AUX_CPTR(msg, f);
	const char *data = *(const char *const *)FIELD_CPTR(msg, f);
	size_t esz = kp_elem_size(f);

	if (n < 0) {
		put_len(e->out, compact, true, nullable ? -1 : 0);
		return 0;
	}
	if (n > 0 && !data)
		return kp_error_set(e->err, KP_EINVAL, "field %s: %d elements at NULL", f->name, n);
	put_len(e->out, compact, true, n);
	for (int32_t i = 0; i < n; i++)
		if (encode_value(f, f->elem_kind, data + (size_t)i * esz, compact, false, e) < 0)
			return -1;
	return 0;
}

static int encode_field(const struct kp_field_desc *f, const void *msg, bool flex, struct enc *e)
{
	bool compact = field_compact(f, flex, e->v);
	bool nullable = field_nullable(f, e->v);

	if (f->kind == KP_F_ARRAY)
		return encode_array(f, msg, compact, nullable, e);
	if (f->kind == KP_F_STRUCT && f->aux_offset) {
		bool is_null = *(const bool *)AUX_CPTR(msg, f);
		if (is_null && !nullable)
			return kp_error_set(e->err, KP_EINVAL, "field %s: null not allowed in v%d",
					    f->name, e->v);
		if (nullable)
			kp_buf_put_i8(e->out, is_null ? -1 : 1);
		if (is_null)
			return 0;
	}
	return encode_value(f, f->kind, FIELD_CPTR(msg, f), compact, nullable, e);
}

/* Order field indexes by tag (insertion sort; structs have few tagged fields). */
static void sort_by_tag(const struct kp_msg_desc *d, size_t *idx, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		size_t x = idx[i], j = i;
		for (; j > 0 && d->fields[idx[j - 1]].tag > d->fields[x].tag; j--)
			idx[j] = idx[j - 1];
		idx[j] = x;
	}
}

static int encode_tags(const struct kp_msg_desc *d, const void *msg, struct enc *e)
{
	size_t idx[64], n = 0;
	kp_buf tmp;
	int rc = -1;

	for (size_t i = 0; i < d->nfields && n < 64; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		if (field_present(f, e->v) && field_tagged(f, e->v) && !field_is_default(f, msg))
			idx[n++] = i;
	}
	sort_by_tag(d, idx, n);
	kp_buf_put_uvarint(e->out, (uint32_t)n);
	kp_buf_init(&tmp);
	for (size_t i = 0; i < n; i++) {
		struct enc sub = { e->v, &tmp, e->err, NULL };
		kp_buf_reset(&tmp);
		if (encode_field(&d->fields[idx[i]], msg, true, &sub) < 0)
			goto out;
		if (tmp.oom) {
			e->out->oom = true;
			goto out;
		}
		kp_buf_put_uvarint(e->out, (uint32_t)d->fields[idx[i]].tag);
		kp_buf_put_uvarint(e->out, (uint32_t)tmp.len);
		kp_buf_append(e->out, tmp.data, tmp.len);
	}
	rc = 0;
out:
	kp_buf_free(&tmp);
	return rc;
}

static int encode_struct(const struct kp_msg_desc *d, const void *msg, struct enc *e)
{
	bool flex = msg_flexible(d, e->v);

	for (size_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		if (!field_present(f, e->v) || field_tagged(f, e->v))
			continue;
		if (encode_field(f, msg, flex, e) < 0)
			return -1;
	}
	return flex ? encode_tags(d, msg, e) : 0;
}

int kp_msg_encode_ext(const struct kp_msg_desc *d, int16_t version, const void *msg,
		      kp_buf *out, struct kp_ext_sink *ext, kp_error *err)
{
	struct enc e = { version, out, err, ext };
	size_t start = out->len, n0 = ext ? ext->n : 0;

	if (version < d->ver_min || version > d->ver_max)
		return kp_error_set(err, KP_EINVAL, "%s: version %d outside %d-%d", d->name,
				    version, d->ver_min, d->ver_max);
	if (encode_struct(d, msg, &e) < 0)
		goto fail;
	if (out->oom) {
		kp_error_set(err, KP_ENOMEM, "%s: out of memory encoding", d->name);
		goto fail;
	}
	return 0;
fail:
	if (out->len > start)
		out->len = start;
	if (ext)
		ext->n = n0;
	return -1;
}

int kp_msg_encode(const struct kp_msg_desc *d, int16_t version, const void *msg,
		  kp_buf *out, kp_error *err)
{
	return kp_msg_encode_ext(d, version, msg, out, NULL, err);
}

/* ---- decoding ---------------------------------------------------------- */

struct dec {
	int16_t v;        /* version being decoded */
	kp_arena *arena;
	kp_error *err;
};

static int decode_struct(const struct kp_msg_desc *d, kp_reader *r, void *msg, struct dec *x);

static int malformed(const struct kp_field_desc *f, kp_reader *r, struct dec *x, const char *why)
{
	kp_reader_fail(r);
	return kp_error_set(x->err, KP_EPROTO, "field %s (v%d): %s", f->name, x->v, why);
}

static int no_memory(struct dec *x)
{
	return kp_error_set(x->err, KP_ENOMEM, "out of memory decoding");
}

/*
 * Read a length or count: *n gets it, -1 for null. Fails on a negative
 * non-null value, a null where not allowed, or more than the bytes left
 * (every element takes at least one byte).
 */
static int read_len(const struct kp_field_desc *f, kp_reader *r, bool compact, bool wide,
		    bool nullable, int64_t *n, struct dec *x)
{
	if (compact)
		*n = (int64_t)kp_read_uvarint(r) - 1;
	else if (wide)
		*n = kp_read_i32(r);
	else
		*n = kp_read_i16(r);
	if (r->failed)
		return malformed(f, r, x, "truncated");
	if (*n < -1 || (*n == -1 && !nullable))
		return malformed(f, r, x, "bad length");
	if (*n > (int64_t)kp_reader_left(r))
		return malformed(f, r, x, "length beyond end of data");
	return 0;
}

static int decode_value(const struct kp_field_desc *f, uint8_t kind, void *p, kp_reader *r,
			bool compact, bool nullable, struct dec *x)
{
	int64_t n;
	const uint8_t *b;

	switch (kind) {
	case KP_F_BOOL: *(bool *)p = kp_read_i8(r) != 0; break;
	case KP_F_INT8: *(int8_t *)p = kp_read_i8(r); break;
	case KP_F_INT16: *(int16_t *)p = kp_read_i16(r); break;
	case KP_F_UINT16: *(uint16_t *)p = kp_read_u16(r); break;
	case KP_F_INT32: *(int32_t *)p = kp_read_i32(r); break;
	case KP_F_INT64: *(int64_t *)p = kp_read_i64(r); break;
	case KP_F_FLOAT64: *(double *)p = kp_read_f64(r); break;
	case KP_F_UUID:
		if ((b = kp_read_bytes(r, sizeof(kp_uuid))))
			memcpy(p, b, sizeof(kp_uuid));
		break;
	case KP_F_STRING:
		if (read_len(f, r, compact, false, nullable, &n, x) < 0)
			return -1;
		if (n > INT16_MAX) /* compact lengths can say more; Kafka refuses that too */
			return malformed(f, r, x, "string longer than 32767 bytes");
		*(char **)p = NULL;
		if (n >= 0) {
			b = kp_read_bytes(r, (size_t)n);
			if (b && !(*(char **)p = kp_arena_strndup(x->arena, (const char *)b, (size_t)n)))
				return no_memory(x);
		}
		break;
	case KP_F_BYTES:
	case KP_F_RECORDS:
		if (read_len(f, r, compact, true, nullable, &n, x) < 0)
			return -1;
		((kp_bytes *)p)->len = (int32_t)n;
		((kp_bytes *)p)->data = n >= 0 ? kp_read_bytes(r, (size_t)n) : NULL;
		break;
	case KP_F_STRUCT: return decode_struct(f->sub, r, p, x);
	default: return malformed(f, r, x, "bad kind");
	}
	return r->failed ? malformed(f, r, x, "truncated") : 0;
}

static int decode_array(const struct kp_field_desc *f, kp_reader *r, void *msg, bool compact,
			bool nullable, struct dec *x)
{
	size_t esz = kp_elem_size(f);
	char *data = NULL;
	int64_t n;

	if (read_len(f, r, compact, true, nullable, &n, x) < 0)
		return -1;
	if (n > 0 && !(data = kp_arena_alloc(x->arena, (size_t)n * esz)))
		return no_memory(x);
	*(char **)FIELD_PTR(msg, f) = data;
	*(int32_t *)AUX_PTR(msg, f) = (int32_t)n;
	for (int64_t i = 0; i < n; i++)
		if (decode_value(f, f->elem_kind, data + (size_t)i * esz, r, compact, false, x) < 0)
			return -1;
	return 0;
}

static int decode_field(const struct kp_field_desc *f, kp_reader *r, void *msg, bool flex,
			struct dec *x)
{
	bool compact = field_compact(f, flex, x->v);
	bool nullable = field_nullable(f, x->v);

	if (f->kind == KP_F_ARRAY)
		return decode_array(f, r, msg, compact, nullable, x);
	if (f->kind == KP_F_STRUCT && f->aux_offset) {
		*(bool *)AUX_PTR(msg, f) = false;
		if (nullable) {
			int8_t marker = kp_read_i8(r);
			if (r->failed)
				return malformed(f, r, x, "truncated");
			if (marker < 0) {
				*(bool *)AUX_PTR(msg, f) = true;
				return 0;
			}
		}
	}
	return decode_value(f, f->kind, FIELD_PTR(msg, f), r, compact, nullable, x);
}

static const struct kp_field_desc *find_tag(const struct kp_msg_desc *d, int16_t v, uint32_t tag)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		if ((uint32_t)f->tag == tag && field_present(f, v) && field_tagged(f, v))
			return f;
	}
	return NULL;
}

static int decode_tags(const struct kp_msg_desc *d, kp_reader *r, void *msg, struct dec *x)
{
	static const struct kp_field_desc section = { .name = "(tagged fields)" };
	uint32_t n = kp_read_uvarint(r);

	if (r->failed || n > kp_reader_left(r))
		return malformed(&section, r, x, "bad tagged-field count");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t tag = kp_read_uvarint(r);
		uint32_t size = kp_read_uvarint(r);
		const struct kp_field_desc *f;
		kp_reader sub;

		if (r->failed || size > kp_reader_left(r))
			return malformed(&section, r, x, "truncated tagged field");
		if ((f = find_tag(d, x->v, tag))) {
			kp_reader_init(&sub, r->data + r->pos, size);
			if (decode_field(f, &sub, msg, true, x) < 0)
				return -1;
		}
		kp_read_skip(r, size);
	}
	return 0;
}

static int decode_struct(const struct kp_msg_desc *d, kp_reader *r, void *msg, struct dec *x)
{
	bool flex = msg_flexible(d, x->v);

	init_struct(d, msg, true);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		if (!field_present(f, x->v) || field_tagged(f, x->v))
			continue;
		if (decode_field(f, r, msg, flex, x) < 0)
			return -1;
	}
	return flex ? decode_tags(d, r, msg, x) : 0;
}

int kp_msg_decode(const struct kp_msg_desc *d, int16_t version, kp_reader *r,
		  kp_arena *arena, void *msg, kp_error *err)
{
	struct dec x = { version, arena, err };

	init_struct(d, msg, true);
	if (version < d->ver_min || version > d->ver_max)
		return kp_error_set(err, KP_EPROTO, "%s: version %d outside %d-%d", d->name,
				    version, d->ver_min, d->ver_max);
	if (r->failed)
		return kp_error_set(err, KP_EPROTO, "%s: reader already failed", d->name);
	if (decode_struct(d, r, msg, &x) < 0)
		return -1;
	if (r->failed)
		return kp_error_set(err, KP_EPROTO, "%s v%d: truncated", d->name, version);
	return 0;
}
