/*
 * kpwire.c - send scripted Kafka requests on a plain socket and print each
 * decoded response as one JSON line (tests/test_differential.py compares
 * kbroker's answers with Apache Kafka's this way).
 *
 *   kpwire HOST:PORT [SCRIPT]        SCRIPT: a file; "-" or absent: stdin
 *   kpwire --apis                    the APIs and version ranges of the schemas
 *                                    the codec was generated from, as one JSON
 *                                    object {"Produce": {"ApiKey": 0,
 *                                    "MinVersion": 0, "MaxVersion": 11}, ...}
 *
 * The script is a JSON array of steps, run in order on one connection:
 *
 *   { "api": "Metadata",             name as in the schemas, or the key (3)
 *     "version": 12,                 past the schema's max: a bare request
 *                                    header v1 with an empty body is sent
 *     "request": { "Topics": [...] }, the body, in lib/protocol/json.h form;
 *                                    omitted fields keep their schema default
 *     "retry_while": { "ErrorCode": [3, 5], "LeaderId": [-1] },
 *                                    optional: send again (every 100 ms, for
 *                                    up to "retry_ms", default 30000) while
 *                                    any field of that name anywhere in the
 *                                    response holds one of those values
 *     "label": "any text" }          echoed in the output
 *
 * In a request, a "TopicId" written "@NAME" is the id of topic NAME as
 * learned from an earlier response (any object with Name or Topic and a
 * non-zero TopicId), or the zero id when none was. Any string written
 * "@member-N" (N from 1) is the N-th distinct member id seen in an earlier
 * response (a non-empty "MemberId" or "Leader"), or "" when there is no
 * N-th yet: a JoinGroup answered MEMBER_ID_REQUIRED is followed by a join
 * with "MemberId": "@member-1". A "Records" field may be base64, or a description of
 * record batches built with lib/record: one batch object or an array:
 *
 *   { "records": [ { "key": "k", "value": "v" or null, "value_size": N
 *                    (N bytes of 'x' instead of value), "timestamp": MS,
 *                    "headers": [ { "key": "h", "value": "x" } ] } ],
 *     "magic": 0, 1 or 2 (default: what the Produce version carries),
 *     "compression": "none", "gzip", "snappy", "lz4" or "zstd",
 *     "producer_id": N or "@producer" (the last ProducerId >= 0 seen in a
 *     response; -1 when none), "producer_epoch": N, "base_sequence": N
 *     (an idempotent producer's batch; default -1 for all three),
 *     "bad_crc": true (flip the batch's, or first message's, CRC) }
 *
 * Output, one line per step:
 *   {"step": I, "label": L, "api": A, "version": V, "attempts": N, "response": {...}}
 * where records are shown decoded: {"Magic": M, "Records": [{"Offset", "Key",
 * "Value", "Headers"}]} (keys and values as text, or {"base64": ...} when not
 * UTF-8; no CRCs, no timestamps); or "closed": true when the broker closed
 * the connection instead of answering (the next step reconnects); or
 * "no_response": true for a Produce with Acks 0; or "error": "why" when the
 * answer could not be read or decoded.
 *
 * Exit status 0 when every step ran (closed connections included), 1 when
 * the broker cannot be reached or a step failed with "error", 2 on bad
 * usage or a bad script.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "client/conn.h"
#include "protocol/codec.h"
#include "protocol/errors.h"
#include "protocol/json.h"
#include "client/producer.h"
#include "record/compress.h"
#include "record/legacy.h"
#include "record/records.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"

#include "rawconn.h"

#define RETRY_SLEEP_MS 100

struct topic_id {
	char *name;
	char id[23];
};

struct wire {
	struct raw_conn rc; /* host, port, fd and the last error (why) */
	int32_t corr;
	struct topic_id *ids;
	size_t nids, capids;
	char **members; /* member ids in order of first appearance */
	size_t nmembers, capmembers;
	int16_t produce_version; /* of the request whose records are being built */
	int64_t producer_id;     /* the last ProducerId >= 0 in a response, -1 none */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct wire *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->rc.why, sizeof w->rc.why, fmt, ap);
	va_end(ap);
	return -1;
}


/* ---- topic ids --------------------------------------------------------- */

static const char *id_of(const struct wire *w, const char *name)
{
	for (size_t i = 0; i < w->nids; i++)
		if (strcmp(w->ids[i].name, name) == 0)
			return w->ids[i].id;
	return NULL;
}

static void remember_id(struct wire *w, const char *name, const char *id)
{
	struct topic_id *t;

	if (strlen(id) != 22 || strcmp(id, "AAAAAAAAAAAAAAAAAAAAAA") == 0)
		return;
	for (size_t i = 0; i < w->nids; i++)
		if (strcmp(w->ids[i].name, name) == 0) {
			memcpy(w->ids[i].id, id, 23);
			return;
		}
	if (w->nids == w->capids) {
		size_t cap = w->capids ? w->capids * 2 : 16;

		if (!(t = realloc(w->ids, cap * sizeof(*t))))
			return;
		w->ids = t;
		w->capids = cap;
	}
	if (!(w->ids[w->nids].name = strdup(name)))
		return;
	memcpy(w->ids[w->nids++].id, id, 23);
}

/* learn_ids - remember every (Name or Topic, TopicId) pair in response `j`. */
static void learn_ids(struct wire *w, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			learn_ids(w, v);
		return;
	}
	if (!json_is_object(j))
		return;
	json_t *id = json_object_get(j, "TopicId"), *name = json_object_get(j, "Name");

	if (!json_is_string(name))
		name = json_object_get(j, "Topic");
	if (json_is_string(id) && json_is_string(name))
		remember_id(w, json_string_value(name), json_string_value(id));
	json_object_foreach(j, key, v)
		learn_ids(w, v);
}

/* resolve_ids - replace every "TopicId": "@NAME" in request `j` by the id learned (zero if none). */
static int resolve_ids(struct wire *w, json_t *j)
{
	const char *key, *id;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (resolve_ids(w, v) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(j))
		return 0;
	json_object_foreach(j, key, v) {
		if (strcmp(key, "TopicId") == 0 && json_is_string(v) && json_string_value(v)[0] == '@') {
			id = id_of(w, json_string_value(v) + 1);
			json_string_set(v, id ? id : "AAAAAAAAAAAAAAAAAAAAAA");
		} else if (resolve_ids(w, v) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- member ids ------------------------------------------------------- */

static void remember_member(struct wire *w, const char *id)
{
	char **t;

	if (!*id)
		return;
	for (size_t i = 0; i < w->nmembers; i++)
		if (strcmp(w->members[i], id) == 0)
			return;
	if (w->nmembers == w->capmembers) {
		size_t cap = w->capmembers ? w->capmembers * 2 : 8;

		if (!(t = realloc(w->members, cap * sizeof(*t))))
			return;
		w->members = t;
		w->capmembers = cap;
	}
	if ((w->members[w->nmembers] = strdup(id)))
		w->nmembers++;
}

/* learn_members - remember every non-empty MemberId and Leader of response `j`. */
static void learn_members(struct wire *w, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			learn_members(w, v);
		return;
	}
	json_object_foreach(j, key, v) {
		if ((strcmp(key, "MemberId") == 0 || strcmp(key, "Leader") == 0) && json_is_string(v))
			remember_member(w, json_string_value(v));
		else if (strcmp(key, "ProducerId") == 0 && json_is_integer(v) &&
			 json_integer_value(v) >= 0)
			w->producer_id = (int64_t)json_integer_value(v);
		else
			learn_members(w, v);
	}
}

/* member_ref - if v is a string "@member-N", set it to the N-th member id ("" when none). */
static bool member_ref(const struct wire *w, json_t *v)
{
	unsigned n;
	char c;

	if (!json_is_string(v) || sscanf(json_string_value(v), "@member-%u%c", &n, &c) != 1)
		return false;
	json_string_set(v, n >= 1 && n <= w->nmembers ? w->members[n - 1] : "");
	return true;
}

/* resolve_members - replace every string "@member-N" in request `j` (see the header). */
static void resolve_members(const struct wire *w, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (!member_ref(w, v))
				resolve_members(w, v);
		return;
	}
	json_object_foreach(j, key, v)
		if (!member_ref(w, v))
			resolve_members(w, v);
}

/* ---- records: description -> batches ------------------------------------ */

static int record_from_json(const json_t *j, struct kp_record *rec, kp_arena *a, kp_error *err)
{
	json_t *k = json_object_get(j, "key"), *v = json_object_get(j, "value");
	json_t *size = json_object_get(j, "value_size"), *hs = json_object_get(j, "headers");
	json_t *ts = json_object_get(j, "timestamp");
	struct kp_record_header *h = NULL;

	*rec = (struct kp_record){ .timestamp = json_is_integer(ts) ? json_integer_value(ts) : kp_wall_ms(),
		.key_len = -1, .value_len = -1 };
	if (json_is_string(k)) {
		rec->key = (const uint8_t *)json_string_value(k);
		rec->key_len = (int32_t)json_string_length(k);
	}
	if (json_is_string(v)) {
		rec->value = (const uint8_t *)json_string_value(v);
		rec->value_len = (int32_t)json_string_length(v);
	} else if (json_is_integer(size)) {
		uint8_t *big = kp_arena_alloc(a, (size_t)json_integer_value(size) + 1);

		if (!big)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		memset(big, 'x', (size_t)json_integer_value(size));
		rec->value = big;
		rec->value_len = (int32_t)json_integer_value(size);
	}
	if (json_array_size(hs) > 0 && !(h = kp_arena_alloc(a, sizeof(*h) * json_array_size(hs))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(hs); i++) {
		json_t *hk = json_object_get(json_array_get(hs, i), "key");
		json_t *hv = json_object_get(json_array_get(hs, i), "value");

		if (!json_is_string(hk))
			return kp_error_set(err, KP_EINVAL, "header %zu has no string key", i);
		h[i] = (struct kp_record_header){ json_string_value(hk), (int32_t)json_string_length(hk),
			json_is_string(hv) ? (const uint8_t *)json_string_value(hv) : NULL,
			json_is_string(hv) ? (int32_t)json_string_length(hv) : -1 };
	}
	rec->headers = h;
	rec->header_count = (int32_t)json_array_size(hs);
	return 0;
}

/* int_or - the integer `j`, or `dflt` when it is not one. */
static json_int_t int_or(const json_t *j, json_int_t dflt)
{
	return json_is_integer(j) ? json_integer_value(j) : dflt;
}

/* producer_id - a batch's "producer_id": an integer, or "@producer" (the last one learned). */
static int64_t producer_id(const struct wire *w, const json_t *j)
{
	if (json_is_string(j) && strcmp(json_string_value(j), "@producer") == 0)
		return w->producer_id;
	return (int64_t)int_or(j, -1);
}

/* batch_from_json - one batch description appended to `out` in its magic. */
static int batch_from_json(struct wire *w, const json_t *j, kp_buf *out, kp_arena *a, kp_error *err)
{
	int16_t pv = w->produce_version;
	json_t *recs = json_object_get(j, "records"), *m = json_object_get(j, "magic");
	json_t *cj = json_object_get(j, "compression");
	int magic = json_is_integer(m) ? (int)json_integer_value(m) : pv <= 1 ? 0 : pv == 2 ? 1 : 2;
	int codec = json_is_string(cj) ? kp_compression_parse(json_string_value(cj)) : 0;
	kp_batch_builder *b = NULL;
	struct kp_record rec;
	size_t start = out->len;
	kp_buf batch;
	int rc = -1;

	kp_buf_init(&batch);
	if (!json_is_object(j) || !json_is_array(recs) || codec < 0 || magic < 0 || magic > 2) {
		kp_error_set(err, KP_EINVAL, "a batch is {\"records\": [...], \"magic\", "
			     "\"compression\", \"bad_crc\"}");
		goto out;
	}
	if (!(b = kp_batch_builder_new(codec, producer_id(w, json_object_get(j, "producer_id")),
					(int16_t)int_or(json_object_get(j, "producer_epoch"), -1), err)))
		goto out;
	for (size_t i = 0; i < json_array_size(recs); i++)
		if (record_from_json(json_array_get(recs, i), &rec, a, err) < 0 ||
		    kp_batch_builder_add(b, &rec, err) < 0)
			goto out;
	if (kp_batch_builder_finish(b, (int32_t)int_or(json_object_get(j, "base_sequence"), -1),
				    &batch, err) < 0)
		goto out;
	if (magic == 2)
		kp_buf_append(out, batch.data, batch.len);
	else if (kp_batch_to_legacy(batch.data, batch.len, (int8_t)magic, out, err) < 0)
		goto out;
	if (json_is_true(json_object_get(j, "bad_crc")))
		out->data[start + (magic == 2 ? KP_BATCH_CRC_OFFSET : 12)] ^= 0xff;
	rc = out->oom ? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
out:
	kp_batch_builder_free(b);
	kp_buf_free(&batch);
	return rc;
}

static int records_in(const json_t *j, kp_arena *a, kp_bytes *out, void *opaque, kp_error *err)
{
	struct wire *w = opaque;
	kp_buf buf;
	int rc = 0;

	kp_buf_init(&buf);
	if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j) && rc == 0; i++)
			rc = batch_from_json(w, json_array_get(j, i), &buf, a, err);
	} else {
		rc = batch_from_json(w, j, &buf, a, err);
	}
	if (rc == 0) {
		out->len = (int32_t)buf.len;
		out->data = buf.len ? kp_arena_memdup(a, buf.data, buf.len) : (const uint8_t *)"";
		if (!out->data)
			rc = kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	kp_buf_free(&buf);
	return rc;
}

/* ---- records: batches -> JSON ------------------------------------------- */

/* text_or_base64 - bytes as a JSON string when UTF-8, else {"base64": ...}; null for len -1. */
static json_t *text_or_base64(const uint8_t *p, int32_t len)
{
	json_t *s;

	if (len < 0)
		return json_null();
	if ((s = json_stringn((const char *)p, (size_t)len)))
		return s;
	return json_pack("{so}", "base64", kp_json_base64(p, (size_t)len));
}

static json_t *record_to_json(const struct kp_record *r)
{
	json_t *hs = json_array();

	for (int32_t i = 0; hs && i < r->header_count; i++)
		json_array_append_new(hs, json_pack("{soso}", "Key",
			text_or_base64((const uint8_t *)r->headers[i].key, r->headers[i].key_len),
			"Value", text_or_base64(r->headers[i].value, r->headers[i].value_len)));
	return json_pack("{sIsososo}", "Offset", (json_int_t)r->offset, "Key",
			 text_or_base64(r->key, r->key_len), "Value",
			 text_or_base64(r->value, r->value_len), "Headers", hs);
}

static json_t *records_out(const kp_bytes *b, void *opaque, kp_error *err)
{
	kp_record_iter *it;
	struct kp_record rec;
	json_t *o, *recs;
	int rc;

	if (b->len < 0)
		return json_null();
	if (!(it = kp_record_iter_new(b->data, (size_t)b->len, 0)) ||
	    !(o = json_pack("{sisoso}", "Magic", b->len > 16 ? b->data[16] : -1, "Records",
			    json_array(), "Error", json_null()))) {
		kp_record_iter_free(it);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	recs = json_object_get(o, "Records");
	while ((rc = kp_record_iter_next(it, &rec, err)) == 1)
		json_array_append_new(recs, record_to_json(&rec));
	if (rc < 0)
		json_object_set_new(o, "Error", json_string(err->msg));
	kp_record_iter_free(it);
	return o;
}

/* ---- one step ------------------------------------------------------------ */

struct step {
	size_t index;
	const char *label;
	const struct kp_api_info *api;
	int16_t version;
	json_t *request;     /* borrowed from the script */
	json_t *retry_while; /* object or NULL */
	int64_t retry_ms;
	bool no_response;
};

/* send_request - the step's request with a new correlation id (returned in *corr). */
static int send_request(struct wire *w, const struct step *s, kp_arena *a, int32_t *corr)
{
	struct kp_json_hooks hooks = { NULL, records_in, w };
	void *body = kp_arena_alloc(a, kp_msg_size(s->api->request));
	kp_error err;
	kp_buf out;
	int rc;

	if (!body)
		return fail(w, "out of memory");
	*corr = ++w->corr;
	kp_buf_init(&out);
	w->produce_version = s->version;
	if (s->version > s->api->max_version) {
		/*
		 * Header (key, version, correlation id, null client id) and an
		 * empty body; flexible as the API's newest versions are: header
		 * v2 and the body's tagged-field sections, as a newer client sends.
		 */
		bool flex = s->api->flexible_min >= 0;
		uint8_t f[16];

		kp_store_u32(f, flex ? 12 : 10);
		kp_store_u16(f + 4, (uint16_t)s->api->api_key);
		kp_store_u16(f + 6, (uint16_t)s->version);
		kp_store_u32(f + 8, (uint32_t)*corr);
		kp_store_u16(f + 12, 0xffff);
		f[14] = f[15] = 0;
		kp_buf_append(&out, f, flex ? 16 : 14);
	} else if (kp_msg_from_json(s->api->request, s->version, s->request, a, body, &hooks, &err) < 0 ||
		   kp_request_encode(s->api->api_key, s->version, *corr, "kpwire", body, &out, &err) < 0) {
		kp_buf_free(&out);
		return fail(w, "cannot build the request: %s", err.msg);
	}
	rc = out.oom ? fail(w, "out of memory") : raw_write_all(&w->rc, out.data, out.len);
	kp_buf_free(&out);
	return rc;
}

/*
 * answer_version - the version to decode an answer at: ApiVersions with
 * UNSUPPORTED_VERSION has a v0 body (KIP-511), whatever was asked.
 */
static int16_t answer_version(const struct step *s, const uint8_t *body, size_t len)
{
	if (s->api->api_key == 18 && len >= 6 && (int16_t)kp_load_u16(body + 4) == KP_ERR_UNSUPPORTED_VERSION)
		return 0;
	return s->version;
}

/* recv_response - read and decode the answer to `corr` into a new JSON object in *out. */
static int recv_response(struct wire *w, const struct step *s, kp_arena *a, int32_t corr, json_t **out)
{
	struct kp_json_hooks hooks = { records_out, NULL, w };
	struct kp_response_header h;
	uint8_t *body = NULL;
	size_t len = 0;
	kp_reader r;
	kp_error err;
	int16_t v;
	void *resp;
	int rc;

	if ((rc = raw_read_frame(&w->rc, a, &body, &len)) < 0)
		return rc;
	if ((int32_t)kp_load_u32(body) != corr)
		return fail(w, "response has correlation id %d, expected %d",
			    (int)(int32_t)kp_load_u32(body), (int)corr);
	v = answer_version(s, body, len);
	if (v > s->api->max_version)
		return fail(w, "a %zu-byte answer at v%d, past the schema's v%d", len, v, s->api->max_version);
	if (!(resp = kp_arena_alloc(a, kp_msg_size(s->api->response))))
		return fail(w, "out of memory");
	kp_reader_init(&r, body, len);
	if (kp_msg_decode(&kp_response_header_desc, (int16_t)kp_response_header_version(s->api->api_key, v),
			  &r, a, &h, &err) < 0 ||
	    kp_msg_decode(s->api->response, v, &r, a, resp, &err) < 0)
		return fail(w, "cannot decode the %zu-byte answer: %s", len, err.msg);
	if (kp_reader_left(&r) != 0)
		return fail(w, "%zu bytes left over after the v%d answer", kp_reader_left(&r), v);
	if (!(*out = kp_msg_to_json(s->api->response, v, resp, &hooks, &err)))
		return fail(w, "cannot show the answer as json: %s", err.msg);
	return 0;
}

/* should_retry - whether some field named in s->retry_while holds one of its values. */
static bool should_retry(const json_t *retry, const json_t *j)
{
	const char *key;
	json_t *v, *vals, *want;
	size_t i, k;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (should_retry(retry, v))
				return true;
		return false;
	}
	if (!json_is_object(j))
		return false;
	json_object_foreach((json_t *)j, key, v) {
		if ((vals = json_object_get(retry, key)))
			json_array_foreach(vals, k, want)
				if (json_equal(want, v))
					return true;
		if (should_retry(retry, v))
			return true;
	}
	return false;
}

/*
 * exchange - send the step's request once and read its answer. Returns 0
 * with *resp (or NULL for acks=0), -2 when the broker closed the
 * connection, -1 with why on any other failure.
 */
static int exchange(struct wire *w, const struct step *s, kp_arena *a, json_t **resp)
{
	int32_t corr = 0;
	int rc;

	*resp = NULL;
	if (w->rc.fd < 0 && raw_open(&w->rc) < 0)
		return -1;
	if ((rc = send_request(w, s, a, &corr)) < 0 || s->no_response)
		return rc;
	return recv_response(w, s, a, corr, resp);
}

/* run_step - one step, retried as it asks; prints its line; 0 or -1 (an "error" line). */
static int run_step(struct wire *w, const struct step *s)
{
	int64_t deadline = kp_wall_ms() + s->retry_ms;
	json_t *line = json_pack("{sIsssssi}", "step", (json_int_t)s->index, "label", s->label,
				 "api", s->api->name, "version", s->version);
	json_t *resp = NULL;
	char *text;
	kp_arena a;
	int rc, attempts = 0;

	kp_arena_init(&a);
	w->rc.why[0] = '\0';
	for (;;) {
		kp_arena_free(&a);
		json_decref(resp);
		attempts++;
		resolve_members(w, s->request);
		rc = resolve_ids(w, s->request) < 0 ? -1 : exchange(w, s, &a, &resp);
		if (rc < 0 || !resp || !s->retry_while || !should_retry(s->retry_while, resp) ||
		    kp_wall_ms() >= deadline)
			break;
		kp_sleep_ms(RETRY_SLEEP_MS);
	}
	json_object_set_new(line, "attempts", json_integer(attempts));
	if (rc == -2)
		json_object_set_new(line, "closed", json_true());
	else if (rc < 0)
		json_object_set_new(line, "error", json_string(w->rc.why));
	else if (!resp)
		json_object_set_new(line, "no_response", json_true());
	else {
		learn_ids(w, resp);
		learn_members(w, resp);
		json_object_set(line, "response", resp);
	}
	if (rc < 0)
		raw_close(&w->rc);
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		fputs("kpwire: out of memory\n", stderr);
		exit(1);
	}
	puts(text);
	free(text);
	json_decref(resp);
	json_decref(line);
	kp_arena_free(&a);
	return rc == -1 ? -1 : 0;
}

/* api_named - the API a script names, by schema name ("Fetch") or key (1). */
static const struct kp_api_info *api_named(const json_t *j)
{
	for (size_t i = 0; i < kp_api_count; i++)
		if ((json_is_string(j) && strcmp(kp_api_table[i].name, json_string_value(j)) == 0) ||
		    (json_is_integer(j) && kp_api_table[i].api_key == json_integer_value(j)))
			return &kp_api_table[i];
	return NULL;
}

/* parse_step - step `i` of the script into `s`; false (message on stderr) if malformed. */
static bool parse_step(const json_t *j, size_t i, struct step *s)
{
	json_t *v = json_object_get(j, "version"), *acks;
	json_t *rm = json_object_get(j, "retry_ms");

	*s = (struct step){ .index = i, .label = json_string_value(json_object_get(j, "label")),
		.api = api_named(json_object_get(j, "api")), .request = json_object_get(j, "request"),
		.retry_while = json_object_get(j, "retry_while"),
		.retry_ms = json_is_integer(rm) ? json_integer_value(rm) : 30000 };
	if (!s->label)
		s->label = "";
	if (!s->api || !json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > INT16_MAX || (s->request && !json_is_object(s->request)) ||
	    (s->retry_while && !json_is_object(s->retry_while))) {
		fprintf(stderr, "kpwire: step %zu: needs \"api\" (a schema name or key), \"version\" "
			"and an object \"request\"\n", i);
		return false;
	}
	s->version = (int16_t)json_integer_value(v);
	acks = json_object_get(s->request, "Acks");
	s->no_response = s->api->api_key == 0 && json_is_integer(acks) && json_integer_value(acks) == 0;
	return true;
}

/* print_apis - the codec's API table as one JSON object (kpwire --apis). */
static int print_apis(void)
{
	json_t *o = json_object();
	char *text;

	for (size_t i = 0; o && i < kp_api_count; i++)
		json_object_set_new(o, kp_api_table[i].name, json_pack("{sisisi}", "ApiKey",
			kp_api_table[i].api_key, "MinVersion", kp_api_table[i].min_version,
			"MaxVersion", kp_api_table[i].max_version));
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (text)
		puts(text);
	free(text);
	json_decref(o);
	return text ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct wire w = { .rc = { .fd = -1 }, .producer_id = -1 };
	json_t *script, *empty = json_object();
	json_error_t jerr;
	kp_error err;
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--apis") == 0) {
		json_decref(empty);
		return print_apis();
	}
	if (argc < 2 || argc > 3 || kp_hostport_parse(argv[1], strlen(argv[1]), w.rc.host, sizeof w.rc.host,
						     &w.rc.port, &err) < 0) {
		fputs("usage: kpwire HOST:PORT [SCRIPT|-]\n       kpwire --apis\n", stderr);
		json_decref(empty);
		return 2;
	}
	if (argc == 3 && strcmp(argv[2], "-") != 0)
		script = json_load_file(argv[2], 0, &jerr);
	else
		script = json_loadf(stdin, 0, &jerr);
	if (!json_is_array(script)) {
		fprintf(stderr, "kpwire: the script must be a JSON array of steps (%s, line %d)\n",
			script ? "not an array" : jerr.text, jerr.line);
		json_decref(script);
		json_decref(empty);
		return 2;
	}
	for (size_t i = 0; i < json_array_size(script); i++) {
		struct step s;

		if (!parse_step(json_array_get(script, i), i, &s)) {
			failed = 2;
			break;
		}
		if (!s.request)
			s.request = empty;
		if (run_step(&w, &s) < 0)
			failed = 1;
	}
	raw_close(&w.rc);
	for (size_t i = 0; i < w.nids; i++)
		free(w.ids[i].name);
	free(w.ids);
	for (size_t i = 0; i < w.nmembers; i++)
		free(w.members[i]);
	free(w.members);
	json_decref(script);
	json_decref(empty);
	return failed;
}
