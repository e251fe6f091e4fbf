/*
 * json.c - protocol messages to and from JSON by walking the descriptor
 * tables; see json.h. Paths in error messages are built as the walk goes
 * down ("Topics[0].Partitions[1].FetchOffset").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/codec_internal.h"
#include "protocol/json.h"

#define PATH_MAX_LEN 256

#define FIELD_PTR(msg, f) ((void *)((char *)(msg) + (f)->offset))
#define FIELD_CPTR(msg, f) ((const void *)((const char *)(msg) + (f)->offset))
#define AUX_PTR(msg, f) ((void *)((char *)(msg) + (f)->aux_offset))
#define AUX_CPTR(msg, f) ((const void *)((const char *)(msg) + (f)->aux_offset))

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- base64 -------------------------------------------------------------- */

/* b64_encode - `n` bytes as base64 of `alphabet` into a malloc'd string; NULL on OOM. */
static char *b64_encode(const uint8_t *p, size_t n, const char *alphabet, bool pad)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		if (left > 1 || pad)
			*o++ = left > 1 ? alphabet[v >> 6 & 63] : '=';
		if (left > 2 || pad)
			*o++ = left > 2 ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/*
 * b64_decode - decode `n` chars of `s` (either alphabet, padding optional)
 * into `out` (room for n * 3 / 4 + 1 bytes). Returns the byte count or -1.
 */
static long b64_decode(const char *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	int bits = 0;
	long len = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		const char *a = s[i] ? strchr(b64_std, s[i]) : NULL;
		const char *u = s[i] ? strchr(b64_url, s[i]) : NULL;

		if (!a && !u)
			return -1;
		acc = acc << 6 | (uint32_t)(a ? a - b64_std : u - b64_url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	return bits >= 6 ? -1 : len; /* a lone trailing char carries no whole byte */
}

json_t *kp_json_base64(const uint8_t *p, size_t n)
{
	char *s = b64_encode(p, n, b64_std, true);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

json_t *kp_json_uuid(const kp_uuid *u)
{
	char *s = b64_encode(u->b, sizeof u->b, b64_url, false);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

/* ---- message to JSON ----------------------------------------------------- */

struct out_ctx {
	int16_t v;
	const struct kp_json_hooks *hooks;
	kp_error *err;
};

static json_t *struct_to_json(const struct kp_msg_desc *d, const void *msg, struct out_ctx *c);

static json_t *oom_out(struct out_ctx *c)
{
	kp_error_set(c->err, KP_ENOMEM, "out of memory building json");
	return NULL;
}

static json_t *bytes_to_json(const kp_bytes *b, struct out_ctx *c)
{
	if (b->len < 0)
		return json_null();
	if (!b->data && b->len > 0) {
		kp_error_set(c->err, KP_EINVAL, "bytes not in memory (%d external bytes)", b->len);
		return NULL;
	}
	return kp_json_base64(b->data, (size_t)b->len);
}

static json_t *value_to_json(const struct kp_field_desc *f, uint8_t kind, const void *p,
			     struct out_ctx *c)
{
	switch (kind) {
	case KP_F_BOOL: return json_boolean(*(const bool *)p);
	case KP_F_INT8: return json_integer(*(const int8_t *)p);
	case KP_F_INT16: return json_integer(*(const int16_t *)p);
	case KP_F_UINT16: return json_integer(*(const uint16_t *)p);
	case KP_F_INT32: return json_integer(*(const int32_t *)p);
	case KP_F_INT64: return json_integer(*(const int64_t *)p);
	case KP_F_FLOAT64: return json_real(*(const double *)p);
	case KP_F_UUID: return kp_json_uuid(p);
	case KP_F_STRING: {
		const char *s = *(const char *const *)p;
		json_t *j = s ? json_string(s) : json_null();

		if (!j)
			kp_error_set(c->err, KP_EINVAL, "field %s: not valid utf-8", f->name);
		return j;
	}
	case KP_F_RECORDS:
		if (c->hooks && c->hooks->records_out)
			return c->hooks->records_out(p, c->hooks->opaque, c->err);
		return bytes_to_json(p, c);
	case KP_F_BYTES: return bytes_to_json(p, c);
	case KP_F_STRUCT: return struct_to_json(f->sub, p, c);
	default:
		kp_error_set(c->err, KP_EINVAL, "field %s: unknown kind %d", f->name, kind);
		return NULL;
	}
}

static json_t *array_to_json(const struct kp_field_desc *f, const void *msg, struct out_ctx *c)
{
	int32_t n = *(const int32_t *)AUX_CPTR(msg, f);
	const char *data = *(const char *const *)FIELD_CPTR(msg, f);
	size_t esz = kp_elem_size(f);
	json_t *a;

	if (n < 0)
		return json_null();
	if (!(a = json_array()))
		return oom_out(c);
	for (int32_t i = 0; i < n; i++) {
		json_t *e = value_to_json(f, f->elem_kind, data + (size_t)i * esz, c);

		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return e ? oom_out(c) : NULL;
		}
	}
	return a;
}

static json_t *field_to_json(const struct kp_field_desc *f, const void *msg, struct out_ctx *c)
{
	if (f->kind == KP_F_ARRAY)
		return array_to_json(f, msg, c);
	if (f->kind == KP_F_STRUCT && f->aux_offset && *(const bool *)AUX_CPTR(msg, f))
		return json_null();
	return value_to_json(f, f->kind, FIELD_CPTR(msg, f), c);
}

static json_t *struct_to_json(const struct kp_msg_desc *d, const void *msg, struct out_ctx *c)
{
	json_t *o = json_object();

	if (!o)
		return oom_out(c);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		json_t *v;

		if (!kp_field_in(c->v, f->ver_min, f->ver_max))
			continue;
		if (!(v = field_to_json(f, msg, c)) || json_object_set_new(o, f->name, v) < 0) {
			json_decref(o);
			return v ? oom_out(c) : NULL;
		}
	}
	return o;
}

json_t *kp_msg_to_json(const struct kp_msg_desc *d, int16_t version, const void *msg,
		       const struct kp_json_hooks *hooks, kp_error *err)
{
	struct out_ctx c = { version, hooks, err };

	return struct_to_json(d, msg, &c);
}

/* ---- JSON to message ----------------------------------------------------- */

struct in_ctx {
	int16_t v;
	kp_arena *arena;
	const struct kp_json_hooks *hooks;
	kp_error *err;
};

static int struct_from_json(const struct kp_msg_desc *d, const json_t *j, void *msg,
			    const char *path, struct in_ctx *c);

__attribute__((format(printf, 3, 4)))
static int bad(struct in_ctx *c, const char *path, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return kp_error_set(c->err, KP_EINVAL, "%s: %s", *path ? path : "(message)", why);
}

static int oom_in(struct in_ctx *c)
{
	return kp_error_set(c->err, KP_ENOMEM, "out of memory reading json");
}

/* sub_path - `path` + ".key" (or "key" at the top), or + "[i]" when key is NULL; truncated with "...". */
static void sub_path(char sub[PATH_MAX_LEN], const char *path, const char *key, size_t i)
{
	int n = key ? snprintf(sub, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", key)
		    : snprintf(sub, PATH_MAX_LEN, "%s[%zu]", path, i);

	if (n >= PATH_MAX_LEN)
		memcpy(sub + PATH_MAX_LEN - 4, "...", 4);
}

static int int_from_json(const json_t *j, int64_t lo, int64_t hi, int64_t *out,
			 const char *path, struct in_ctx *c)
{
	if (!json_is_integer(j))
		return bad(c, path, "expected an integer");
	*out = json_integer_value(j);
	if (*out < lo || *out > hi)
		return bad(c, path, "%lld out of range %lld..%lld", (long long)*out, (long long)lo,
			   (long long)hi);
	return 0;
}

/* bytes_from_json - base64 text or null into `b` (decoded bytes in the arena). */
static int bytes_from_json(const json_t *j, kp_bytes *b, const char *path, struct in_ctx *c)
{
	const char *s;
	size_t n;
	uint8_t *data;
	long len;

	if (json_is_null(j)) {
		*b = (kp_bytes){ NULL, -1 };
		return 0;
	}
	if (!json_is_string(j))
		return bad(c, path, "expected base64 text or null");
	s = json_string_value(j);
	n = json_string_length(j);
	if (!(data = kp_arena_alloc(c->arena, n * 3 / 4 + 1)))
		return oom_in(c);
	if ((len = b64_decode(s, n, data)) < 0)
		return bad(c, path, "bad base64");
	*b = (kp_bytes){ data, (int32_t)len };
	return 0;
}

static int uuid_from_json(const json_t *j, kp_uuid *u, const char *path, struct in_ctx *c)
{
	uint8_t tmp[18];

	if (!json_is_string(j) || json_string_length(j) != 22 ||
	    b64_decode(json_string_value(j), 22, tmp) != 16)
		return bad(c, path, "expected a uuid (22 chars of base64url)");
	memcpy(u->b, tmp, 16);
	return 0;
}

static int string_from_json(const json_t *j, char **s, const char *path, struct in_ctx *c)
{
	if (json_is_null(j)) {
		*s = NULL;
		return 0;
	}
	if (!json_is_string(j))
		return bad(c, path, "expected a string or null");
	*s = kp_arena_strndup(c->arena, json_string_value(j), json_string_length(j));
	return *s ? 0 : oom_in(c);
}

static int records_from_json(const json_t *j, kp_bytes *b, const char *path, struct in_ctx *c)
{
	kp_error herr;

	if (json_is_string(j) || json_is_null(j) || !c->hooks || !c->hooks->records_in)
		return bytes_from_json(j, b, path, c);
	if (c->hooks->records_in(j, c->arena, b, c->hooks->opaque, &herr) < 0) {
		if (herr.code == KP_ENOMEM)
			return oom_in(c);
		return bad(c, path, "%s", herr.msg);
	}
	return 0;
}

/* int_field_from_json - an integer field of `kind` from `j`, range-checked. */
static int int_field_from_json(uint8_t kind, const json_t *j, void *p, const char *path,
			       struct in_ctx *c)
{
	static const struct { int64_t lo, hi; } range[] = {
		[KP_F_INT8] = { INT8_MIN, INT8_MAX },    [KP_F_INT16] = { INT16_MIN, INT16_MAX },
		[KP_F_UINT16] = { 0, UINT16_MAX },       [KP_F_INT32] = { INT32_MIN, INT32_MAX },
		[KP_F_INT64] = { INT64_MIN, INT64_MAX },
	};
	int64_t n = 0;

	if (int_from_json(j, range[kind].lo, range[kind].hi, &n, path, c) < 0)
		return -1;
	switch (kind) {
	case KP_F_INT8: *(int8_t *)p = (int8_t)n; break;
	case KP_F_INT16: *(int16_t *)p = (int16_t)n; break;
	case KP_F_UINT16: *(uint16_t *)p = (uint16_t)n; break;
	case KP_F_INT32: *(int32_t *)p = (int32_t)n; break;
	default: *(int64_t *)p = n; break;
	}
	return 0;
}

static int value_from_json(const struct kp_field_desc *f, uint8_t kind, const json_t *j,
			   void *p, const char *path, struct in_ctx *c)
{
	switch (kind) {
	case KP_F_BOOL:
		if (!json_is_boolean(j))
			return bad(c, path, "expected true or false");
		*(bool *)p = json_is_true(j);
		return 0;
	case KP_F_INT8:
	case KP_F_INT16:
	case KP_F_UINT16:
	case KP_F_INT32:
	case KP_F_INT64: return int_field_from_json(kind, j, p, path, c);
	case KP_F_FLOAT64:
		if (!json_is_number(j))
			return bad(c, path, "expected a number");
		*(double *)p = json_number_value(j);
		return 0;
	case KP_F_UUID: return uuid_from_json(j, p, path, c);
	case KP_F_STRING: return string_from_json(j, p, path, c);
	case KP_F_BYTES: return bytes_from_json(j, p, path, c);
	case KP_F_RECORDS: return records_from_json(j, p, path, c);
	case KP_F_STRUCT:
		kp_msg_init(f->sub, p);
		return struct_from_json(f->sub, j, p, path, c);
	default: return bad(c, path, "unknown field kind %d", kind);
	}
}

static int array_from_json(const struct kp_field_desc *f, const json_t *j, void *msg,
			   const char *path, struct in_ctx *c)
{
	size_t n, esz = kp_elem_size(f);
	char sub[PATH_MAX_LEN];
	char *data = NULL;

	if (json_is_null(j)) {
		*(int32_t *)AUX_PTR(msg, f) = -1;
		return 0;
	}
	if (!json_is_array(j))
		return bad(c, path, "expected an array or null");
	n = json_array_size(j);
	if (n > INT32_MAX || (n > 0 && !(data = kp_arena_alloc(c->arena, n * esz))))
		return n > INT32_MAX ? bad(c, path, "too many elements") : oom_in(c);
	*(char **)FIELD_PTR(msg, f) = data;
	*(int32_t *)AUX_PTR(msg, f) = (int32_t)n;
	for (size_t i = 0; i < n; i++) {
		sub_path(sub, path, NULL, i);
		if (value_from_json(f, f->elem_kind, json_array_get(j, i), data + i * esz, sub, c) < 0)
			return -1;
	}
	return 0;
}

static int field_from_json(const struct kp_field_desc *f, const json_t *j, void *msg,
			   const char *path, struct in_ctx *c)
{
	if (f->kind == KP_F_ARRAY)
		return array_from_json(f, j, msg, path, c);
	if (f->kind == KP_F_STRUCT && f->aux_offset) {
		*(bool *)AUX_PTR(msg, f) = json_is_null(j);
		if (json_is_null(j))
			return 0;
	}
	return value_from_json(f, f->kind, j, FIELD_PTR(msg, f), path, c);
}

static const struct kp_field_desc *field_named(const struct kp_msg_desc *d, const char *name)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return &d->fields[i];
	return NULL;
}

static int struct_from_json(const struct kp_msg_desc *d, const json_t *j, void *msg,
			    const char *path, struct in_ctx *c)
{
	char sub[PATH_MAX_LEN];
	const char *key;
	json_t *val;

	if (!json_is_object(j))
		return bad(c, path, "expected an object (%s)", d->name);
	json_object_foreach((json_t *)j, key, val) {
		const struct kp_field_desc *f = field_named(d, key);

		sub_path(sub, path, key, 0);
		if (!f)
			return bad(c, sub, "%s has no such field", d->name);
		if (field_from_json(f, val, msg, sub, c) < 0)
			return -1;
	}
	return 0;
}

int kp_msg_from_json(const struct kp_msg_desc *d, int16_t version, const json_t *j,
		     kp_arena *arena, void *msg, const struct kp_json_hooks *hooks,
		     kp_error *err)
{
	struct in_ctx c = { version, arena, hooks, err };

	kp_msg_init(d, msg);
	return struct_from_json(d, j, msg, "", &c);
}
