/*
 * record_json.c - reading JSON record lines (jansson); see record_json.h.
 * Writing them is record_json_write.c.
 *
 * Byte strings that are JSON strings are used where jansson keeps them;
 * those that must be made (base64 decoded, JSON values serialized) go
 * into r->bytes, which may move while it grows, so each byte string is
 * first noted as a span and the record's pointers are set at the end.
 */
#include "client/record_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/base64.h"
#include "client/timestamp.h"

struct span {
	const uint8_t *p; /* in the document, or NULL: at `off` in r->bytes */
	size_t off;
	int32_t len;      /* -1: null */
};

/* Span slots: 0 key, 1 value, then a header's key and value at 2 + 2i and 3 + 2i. */
#define SPAN_KEY 0
#define SPAN_VALUE 1
#define SPAN_HEADER(i, v) (2 + 2 * (size_t)(i) + (v))

void kp_json_record_init(struct kp_json_record *r)
{
	memset(r, 0, sizeof *r);
	kp_buf_init(&r->bytes);
	r->partition = -1;
	r->offset = -1;
	r->rec.key_len = -1;
	r->rec.value_len = -1;
}

/* Forget the last line, keeping the allocations. */
static void reset(struct kp_json_record *r)
{
	json_decref(r->root);
	r->root = NULL;
	r->topic = NULL;
	r->partition = -1;
	r->offset = -1;
	r->has_timestamp = false;
	memset(&r->rec, 0, sizeof r->rec);
	r->rec.key_len = -1;
	r->rec.value_len = -1;
	kp_buf_reset(&r->bytes);
	r->bytes.oom = false;
}

void kp_json_record_clear(struct kp_json_record *r)
{
	reset(r);
	kp_buf_free(&r->bytes);
	free(r->hdrs);
	free(r->spans);
	kp_json_record_init(r);
}

/* Room for `n` headers (and their spans). */
static int reserve_headers(struct kp_json_record *r, size_t n, kp_error *err)
{
	if (n > INT32_MAX / 2)
		return kp_error_set(err, KP_EINVAL, "too many headers");
	if (n > r->hdr_cap) {
		struct kp_record_header *h = realloc(r->hdrs, n * sizeof *h);
		if (!h)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		r->hdrs = h;
		r->hdr_cap = n;
	}
	if (SPAN_HEADER(n, 0) > r->span_cap) {
		struct span *s = realloc(r->spans, SPAN_HEADER(n, 0) * sizeof *s);
		if (!s)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		r->spans = s;
		r->span_cap = SPAN_HEADER(n, 0);
	}
	return 0;
}

/* The bytes a JSON value that is not a string stands for: its compact text, into r->bytes. */
static int serialize(struct kp_json_record *r, json_t *v, struct span *out, const char *what,
		     kp_error *err)
{
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

	if (n == 0 || n > INT32_MAX)
		return kp_error_set(err, KP_EINVAL, "%s cannot be written as JSON text", what);
	if (!kp_buf_reserve(&r->bytes, n))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	out->p = NULL;
	out->off = r->bytes.len;
	out->len = (int32_t)json_dumpb(v, (char *)r->bytes.data + r->bytes.len, n,
				       JSON_COMPACT | JSON_ENCODE_ANY);
	r->bytes.len += n;
	return 0;
}

/*
 * The byte string JSON value `v` (NULL when absent) stands for, given its
 * encoding field `enc` (NULL when absent), into *out. `what` names it in
 * errors ("value", "header 2 key").
 */
static int byte_string(struct kp_json_record *r, json_t *v, json_t *enc, struct span *out,
		       const char *what, kp_error *err)
{
	const char *e = enc && !json_is_null(enc) ? json_string_value(enc) : "utf8";
	kp_error be;

	if (!e)
		return kp_error_set(err, KP_EINVAL, "the encoding of the %s must be a string", what);
	if (strcmp(e, "utf8") && strcmp(e, "base64"))
		return kp_error_set(err, KP_EINVAL, "unknown encoding '%s' of the %s (want base64 or "
				    "utf8)", e, what);
	*out = (struct span){ NULL, 0, -1 };
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) && e[0] == 'b')
		return kp_error_set(err, KP_EINVAL, "the %s must be a string of base64", what);
	if (!json_is_string(v))
		return serialize(r, v, out, what, err);
	if (json_string_length(v) > INT32_MAX)
		return kp_error_set(err, KP_EINVAL, "the %s is too long", what);
	if (e[0] == 'u') {
		out->p = (const uint8_t *)json_string_value(v);
		out->len = (int32_t)json_string_length(v);
		return 0;
	}
	out->off = r->bytes.len;
	if (kp_base64_decode(json_string_value(v), json_string_length(v), &r->bytes, &be) < 0)
		return kp_error_set(err, be.code, "the %s: %s", what, be.msg);
	out->len = (int32_t)(r->bytes.len - out->off);
	return 0;
}

/*
 * Header `i`: `h` is {"key": ..., "value": ..., encodings} or a [key, value]
 * pair; or, with `map_key` (`map_len` bytes, owned by the document), the
 * value of a {"key": "value"} map entry.
 */
static int header(struct kp_json_record *r, size_t i, json_t *h, const char *map_key,
		  size_t map_len, kp_error *err)
{
	struct span *s = r->spans;
	json_t *k = NULL, *v, *ke = NULL, *ve = NULL;
	char what[48];

	if (map_key) {
		v = h;
	} else if (json_is_array(h) && json_array_size(h) == 2) {
		k = json_array_get(h, 0);
		v = json_array_get(h, 1);
	} else if (json_is_object(h)) {
		k = json_object_get(h, "key");
		v = json_object_get(h, "value");
		ke = json_object_get(h, "key_encoding");
		ve = json_object_get(h, "value_encoding");
	} else {
		return kp_error_set(err, KP_EINVAL, "header %zu must be an object {\"key\", \"value\"} "
				    "or a [key, value] pair", i + 1);
	}
	snprintf(what, sizeof what, "key of header %zu", i + 1);
	if (map_key)
		s[SPAN_HEADER(i, 0)] = (struct span){ (const uint8_t *)map_key, 0, (int32_t)map_len };
	else if (!k || !json_is_string(k))
		return kp_error_set(err, KP_EINVAL, "the %s must be a string", what);
	else if (byte_string(r, k, ke, &s[SPAN_HEADER(i, 0)], what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "value of header %zu", i + 1);
	return byte_string(r, v, ve, &s[SPAN_HEADER(i, 1)], what, err);
}

static int headers(struct kp_json_record *r, json_t *hs, kp_error *err)
{
	size_t n = 0, i = 0, klen;
	const char *name;
	json_t *v;

	if (!hs || json_is_null(hs))
		return 0;
	if (!json_is_array(hs) && !json_is_object(hs))
		return kp_error_set(err, KP_EINVAL, "\"headers\" must be an array or an object");
	n = json_is_array(hs) ? json_array_size(hs) : json_object_size(hs);
	if (reserve_headers(r, n, err) < 0)
		return -1;
	if (json_is_array(hs)) {
		json_array_foreach(hs, i, v)
			if (header(r, i, v, NULL, 0, err) < 0)
				return -1;
	} else {
		json_object_keylen_foreach(hs, name, klen, v)
			if (header(r, i++, v, name, klen, err) < 0)
				return -1;
	}
	r->rec.header_count = (int32_t)n;
	return 0;
}

/* "partition", "offset" and "timestamp". */
static int numbers(struct kp_json_record *r, json_t *root, kp_error *err)
{
	json_t *p = json_object_get(root, "partition"), *o = json_object_get(root, "offset");
	json_t *t = json_object_get(root, "timestamp");
	json_int_t v;

	if (p && !json_is_null(p)) {
		v = json_is_integer(p) ? json_integer_value(p) : -2;
		if (v < -1 || v > INT32_MAX)
			return kp_error_set(err, KP_EINVAL, "\"partition\" must be an integer >= 0");
		r->partition = (int32_t)v;
	}
	if (o && !json_is_null(o)) {
		if (!json_is_integer(o))
			return kp_error_set(err, KP_EINVAL, "\"offset\" must be an integer");
		r->offset = json_integer_value(o);
	}
	if (!t || json_is_null(t))
		return 0;
	if (json_is_string(t)) {
		if (kp_timestamp_parse(json_string_value(t), &r->rec.timestamp, err) < 0)
			return -1;
	} else if (json_is_integer(t) && json_integer_value(t) >= -1) {
		r->rec.timestamp = json_integer_value(t);
	} else {
		return kp_error_set(err, KP_EINVAL, "\"timestamp\" must be milliseconds since the epoch"
				    " (-1: none) or an ISO 8601 string");
	}
	r->has_timestamp = true;
	return 0;
}

/* Point the record's byte strings at where their spans say. */
static void resolve(struct kp_json_record *r)
{
	const struct span *s = r->spans;
	const uint8_t *base = r->bytes.data;

#define AT(sp) ((sp).len < 0 ? NULL : (sp).p ? (sp).p : base + (sp).off)
	r->rec.key = AT(s[SPAN_KEY]);
	r->rec.key_len = s[SPAN_KEY].len;
	r->rec.value = AT(s[SPAN_VALUE]);
	r->rec.value_len = s[SPAN_VALUE].len;
	for (int32_t i = 0; i < r->rec.header_count; i++) {
		r->hdrs[i].key = (const char *)AT(s[SPAN_HEADER(i, 0)]);
		r->hdrs[i].key_len = s[SPAN_HEADER(i, 0)].len;
		r->hdrs[i].value = AT(s[SPAN_HEADER(i, 1)]);
		r->hdrs[i].value_len = s[SPAN_HEADER(i, 1)].len;
	}
#undef AT
	r->rec.headers = r->rec.header_count ? r->hdrs : NULL;
}

/* Everything but the parse itself. */
static int fields(struct kp_json_record *r, json_t *root, kp_error *err)
{
	json_t *t = json_object_get(root, "topic");

	if (t && !json_is_null(t)) {
		if (!json_is_string(t) || !json_string_length(t) ||
		    strlen(json_string_value(t)) != json_string_length(t))
			return kp_error_set(err, KP_EINVAL, "\"topic\" must be a non-empty string");
		r->topic = json_string_value(t);
	}
	if (numbers(r, root, err) < 0 || reserve_headers(r, 0, err) < 0)
		return -1;
	if (byte_string(r, json_object_get(root, "key"), json_object_get(root, "key_encoding"),
			&((struct span *)r->spans)[SPAN_KEY], "key", err) < 0 ||
	    byte_string(r, json_object_get(root, "value"), json_object_get(root, "value_encoding"),
			&((struct span *)r->spans)[SPAN_VALUE], "value", err) < 0 ||
	    headers(r, json_object_get(root, "headers"), err) < 0)
		return -1;
	if (r->bytes.oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resolve(r);
	return 0;
}

int kp_record_json_decode(const char *line, size_t len, struct kp_json_record *out,
			  kp_error *err)
{
	json_error_t jerr;
	json_t *root;

	reset(out);
	root = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return kp_error_set(err, KP_EINVAL, "bad JSON at column %d: %s", jerr.column, jerr.text);
	out->root = root;
	if (!json_is_object(root)) {
		reset(out);
		return kp_error_set(err, KP_EINVAL, "a record must be a JSON object");
	}
	if (fields(out, root, err) < 0) {
		reset(out);
		return -1;
	}
	return 0;
}
