/*
 * record_json_write.c - writing JSON record lines with jansson; see
 * record_json.h. Reading them is record_json.c.
 *
 * Each record becomes a jansson object dumped compact (members in the
 * order record_json.h shows). jansson also decides what is UTF-8: a byte
 * string json_stringn refuses is written as base64 with its encoding
 * member, so every line is valid JSON that any parser reads back.
 */
#include "client/record_json.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "client/base64.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

bool kp_utf8_valid(const uint8_t *p, size_t n)
{
	json_t *s = json_stringn((const char *)p, n); /* NULL: not UTF-8 (jansson's check) */

	json_decref(s);
	return s != NULL;
}

/*
 * set_bytes - member `name` of `o`: the byte string of `len` bytes at `p`
 * (-1: null), a JSON string when jansson takes it as UTF-8, else its
 * base64 text and member "NAME_encoding": "base64". -1 when out of memory.
 */
static int set_bytes(json_t *o, const char *name, const void *p, int32_t len)
{
	char enc[32];
	json_t *v;
	kp_buf b64;
	int rc;

	if (len < 0)
		return json_object_set_new(o, name, json_null());
	if ((v = json_stringn(p, (size_t)len)))
		return json_object_set_new(o, name, v);
	kp_buf_init(&b64);
	kp_base64_encode(p, (size_t)len, &b64);
	snprintf(enc, sizeof enc, "%s_encoding", name);
	rc = b64.oom ? -1 : json_object_set_new(o, name, json_stringn((char *)b64.data, b64.len));
	kp_buf_free(&b64);
	return rc < 0 ? -1 : json_object_set_new(o, enc, json_string("base64"));
}

/* headers - rec's headers as a new array of {"key", "value"} objects; NULL when out of memory. */
static json_t *headers(const struct kp_record *rec)
{
	json_t *a = json_array();

	for (int32_t i = 0; a && i < rec->header_count; i++) {
		const struct kp_record_header *h = &rec->headers[i];
		json_t *o = json_object();

		if (!o || set_bytes(o, "key", h->key, h->key_len) < 0 ||
		    set_bytes(o, "value", h->value, h->value_len) < 0 ||
		    json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* record_object - the record as a new JSON object; NULL when out of memory. */
static json_t *record_object(const char *topic, int32_t partition, const struct kp_record *rec)
{
	json_t *o = json_object();

	if (!o || (topic && json_object_set_new(o, "topic", json_string(topic)) < 0) ||
	    (partition >= 0 && json_object_set_new(o, "partition", json_integer(partition)) < 0) ||
	    (rec->offset >= 0 && json_object_set_new(o, "offset", json_integer(rec->offset)) < 0) ||
	    json_object_set_new(o, "timestamp", json_integer(rec->timestamp)) < 0 ||
	    set_bytes(o, "key", rec->key, rec->key_len) < 0 ||
	    set_bytes(o, "value", rec->value, rec->value_len) < 0 ||
	    json_object_set_new(o, "headers", headers(rec)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int kp_record_json_encode(const char *topic, int32_t partition, const struct kp_record *rec,
			  kp_buf *out, kp_error *err)
{
	json_t *o = record_object(topic, partition, rec);
	size_t n = o ? json_dumpb(o, NULL, 0, DUMP_FLAGS) : 0;
	int rc = -1;

	if (!o || n == 0 || !kp_buf_reserve(out, n))
		goto out;
	if (json_dumpb(o, (char *)out->data + out->len, n, DUMP_FLAGS) != n)
		goto out;
	out->len += n;
	rc = 0;
out:
	json_decref(o);
	return rc < 0 ? kp_error_set(err, KP_ENOMEM, "out of memory writing a record as JSON") : 0;
}
