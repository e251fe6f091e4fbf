/*
 * test_codec.c - unit tests of the Kafka protocol codec (lib/protocol).
 *
 * 1. Round trip over every version of every generated message: the test
 *    walks the descriptor tables (codec_internal.h) to fill a struct with
 *    deterministic pseudo-random values for the fields that version has
 *    (arrays of 0-3 elements, nested structs, nulls where nullable, tagged
 *    fields set sometimes), encodes, decodes, re-encodes and requires the
 *    same bytes; then every strict prefix of the encoding, copied into an
 *    exactly-sized heap block (so ASan sees over-reads), must fail to decode.
 * 2. Known answers: bytes written out by hand from the protocol guide for
 *    ApiVersions v0/v3 requests and responses, Metadata v1 null vs empty
 *    topics, a request header v2 with a client id and a tagged field, and
 *    a Produce v3 request; plus malformed-input rejections.
 * 3. External records (kp_response_encode_ext): a Fetch response with
 *    records not in memory encodes to the same frame once they are spliced in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/codec.h"
#include "protocol/codec_internal.h"
#include "protocol/json.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const uint8_t byte_pool[8] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x7f, 0x80 };

static size_t n_tagged_set, n_nulls;

static void fill_struct(const struct kp_msg_desc *d, int16_t v, void *msg, kp_arena *a, int depth);

static void fill_value(const struct kp_field_desc *f, uint8_t kind, void *p, int16_t v,
		       bool nullable, kp_arena *a, int depth)
{
	switch (kind) {
	case KP_F_BOOL: *(bool *)p = rnd() & 1; break;
	case KP_F_INT8: *(int8_t *)p = (int8_t)rnd(); break;
	case KP_F_INT16: *(int16_t *)p = (int16_t)rnd(); break;
	case KP_F_UINT16: *(uint16_t *)p = (uint16_t)rnd(); break;
	case KP_F_INT32: *(int32_t *)p = (int32_t)rnd(); break;
	case KP_F_INT64: *(int64_t *)p = (int64_t)((uint64_t)rnd() << 32 | rnd()); break;
	case KP_F_FLOAT64: *(double *)p = (double)(int32_t)rnd() / 8.0; break;
	case KP_F_UUID:
		for (int i = 0; i < 16; i++)
			((kp_uuid *)p)->b[i] = (uint8_t)rnd();
		break;
	case KP_F_STRING: {
		size_t n = rnd() % 6;
		char *s;
		if (nullable && rnd() % 4 == 0) {
			*(char **)p = NULL;
			n_nulls++;
			break;
		}
		s = kp_arena_alloc(a, n + 1);
		assert_non_null(s);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)('a' + rnd() % 26);
		*(char **)p = s;
		break;
	}
	case KP_F_BYTES:
	case KP_F_RECORDS:
		if (nullable && rnd() % 4 == 0) {
			n_nulls++;
			((kp_bytes *)p)->data = NULL;
			((kp_bytes *)p)->len = -1;
		} else {
			((kp_bytes *)p)->data = byte_pool;
			((kp_bytes *)p)->len = (int32_t)(rnd() % 5);
		}
		break;
	case KP_F_STRUCT: fill_struct(f->sub, v, p, a, depth + 1); break;
	default: fail_msg("bad kind %d", kind);
	}
}

static void fill_field(const struct kp_field_desc *f, void *msg, int16_t v, kp_arena *a, int depth)
{
	bool nullable = kp_field_in(v, f->null_min, f->null_max);
	void *p = (char *)msg + f->offset;

	if (f->kind == KP_F_ARRAY) {
		int32_t *count = (int32_t *)((char *)msg + f->aux_offset);
		size_t esz = kp_elem_size(f);
		int32_t n = (int32_t)(rnd() % (depth < 2 ? 4 : 2));
		char *data = NULL;
		if (nullable && rnd() % 4 == 0) {
			n_nulls++;
			*count = -1;
			*(char **)p = NULL;
			return;
		}
		if (n > 0) {
			data = kp_arena_alloc(a, (size_t)n * esz);
			assert_non_null(data);
		}
		for (int32_t i = 0; i < n; i++)
			fill_value(f, f->elem_kind, data + (size_t)i * esz, v, false, a, depth);
		*(char **)p = data;
		*count = n;
		return;
	}
	if (f->kind == KP_F_STRUCT && f->aux_offset) {
		bool *is_null = (bool *)((char *)msg + f->aux_offset);
		*is_null = nullable && rnd() % 3 == 0;
		if (*is_null) {
			n_nulls++;
			return;
		}
	}
	fill_value(f, f->kind, p, v, nullable, a, depth);
}

static void fill_struct(const struct kp_msg_desc *d, int16_t v, void *msg, kp_arena *a, int depth)
{
	kp_msg_init(d, msg);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];
		if (!kp_field_in(v, f->ver_min, f->ver_max))
			continue;
		if (f->tag >= 0 && kp_field_in(v, f->tag_min, f->tag_max)) {
			if (rnd() % 2)
				continue; /* leave this tagged field at its default */
			n_tagged_set++;
		}
		fill_field(f, msg, v, a, depth);
	}
}

static size_t n_roundtrips, n_prefixes, n_bytes, n_mutations, n_json;

/* Encode, decode, re-encode one filled message; then check every prefix fails. */
/*
 * json_roundtrip - `msg` as JSON (protocol/json.h) and back encodes to the
 * same bytes `enc` as the message itself.
 */
static void json_roundtrip(const struct kp_msg_desc *d, int16_t v, const void *msg, const kp_buf *enc)
{
	void *back = calloc(1, kp_msg_size(d));
	kp_error err;
	kp_arena a;
	kp_buf b;
	json_t *j;

	assert_non_null(back);
	kp_arena_init(&a);
	kp_buf_init(&b);
	if (!(j = kp_msg_to_json(d, v, msg, NULL, &err)))
		fail_msg("%s v%d: to JSON: %s", kp_msg_name(d), v, err.msg);
	if (kp_msg_from_json(d, v, j, &a, back, NULL, &err) != 0)
		fail_msg("%s v%d: from JSON: %s", kp_msg_name(d), v, err.msg);
	if (kp_msg_encode(d, v, back, &b, &err) != 0)
		fail_msg("%s v%d: encode from JSON: %s", kp_msg_name(d), v, err.msg);
	if (b.len != enc->len || (b.len && memcmp(b.data, enc->data, b.len) != 0))
		fail_msg("%s v%d: through JSON the encoding differs (%zu vs %zu bytes)", kp_msg_name(d),
			 v, b.len, enc->len);
	n_json++;
	json_decref(j);
	kp_buf_free(&b);
	kp_arena_free(&a);
	free(back);
}

static void roundtrip_one(const struct kp_msg_desc *d, int16_t v, const void *msg)
{
	kp_buf b1, b2;
	kp_arena a;
	kp_error err;
	kp_reader r;
	void *msg2 = calloc(1, kp_msg_size(d));
	size_t step;

	assert_non_null(msg2);
	kp_buf_init(&b1);
	kp_buf_init(&b2);
	kp_arena_init(&a);
	if (kp_msg_encode(d, v, msg, &b1, &err) != 0)
		fail_msg("%s v%d: encode: %s", kp_msg_name(d), v, err.msg);
	kp_reader_init(&r, b1.data, b1.len);
	if (kp_msg_decode(d, v, &r, &a, msg2, &err) != 0)
		fail_msg("%s v%d: decode: %s", kp_msg_name(d), v, err.msg);
	assert_int_equal(r.pos, b1.len);
	if (kp_msg_encode(d, v, msg2, &b2, &err) != 0)
		fail_msg("%s v%d: re-encode: %s", kp_msg_name(d), v, err.msg);
	if (b1.len != b2.len || (b1.len && memcmp(b1.data, b2.data, b1.len) != 0))
		fail_msg("%s v%d: re-encoding differs (%zu vs %zu bytes)", kp_msg_name(d), v,
			 b1.len, b2.len);
	json_roundtrip(d, v, msg2, &b1);
	n_roundtrips++;
	n_bytes += b1.len;

	step = b1.len > 1024 ? b1.len / 512 : 1;
	for (size_t k = 0; k < b1.len; k += step) {
		uint8_t *copy = malloc(k ? k : 1);
		kp_arena pa;
		assert_non_null(copy);
		if (k)
			memcpy(copy, b1.data, k);
		kp_arena_init(&pa);
		kp_reader_init(&r, copy, k);
		if (kp_msg_decode(d, v, &r, &pa, msg2, &err) == 0)
			fail_msg("%s v%d: prefix %zu of %zu decoded", kp_msg_name(d), v, k, b1.len);
		assert_int_equal(err.code, KP_EPROTO);
		kp_arena_free(&pa);
		free(copy);
		n_prefixes++;
	}
	for (int i = 0; i < 4 && b1.len; i++) { /* corrupted bytes: any result, no crash */
		uint8_t *copy = malloc(b1.len);
		kp_arena pa;
		assert_non_null(copy);
		memcpy(copy, b1.data, b1.len);
		copy[rnd() % b1.len] ^= (uint8_t)(1 + rnd() % 255);
		kp_arena_init(&pa);
		kp_reader_init(&r, copy, b1.len);
		(void)kp_msg_decode(d, v, &r, &pa, msg2, &err);
		kp_arena_free(&pa);
		free(copy);
		n_mutations++;
	}
	kp_arena_free(&a);
	kp_buf_free(&b1);
	kp_buf_free(&b2);
	free(msg2);
}

static void test_roundtrip_all(void **state)
{
	size_t n_versions = 0;

	(void)state;
	for (size_t m = 0; m < kp_all_msgs_count; m++) {
		const struct kp_msg_desc *d = kp_all_msgs[m];
		for (int v = d->ver_min; v <= d->ver_max; v++) {
			n_versions++;
			for (int seed = 0; seed < 8; seed++) {
				void *msg = calloc(1, kp_msg_size(d));
				kp_arena a;
				assert_non_null(msg);
				rng_state = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)m << 32) ^ ((uint64_t)v << 16) ^ (uint64_t)(seed + 1);
				kp_arena_init(&a);
				fill_struct(d, (int16_t)v, msg, &a, 0);
				roundtrip_one(d, (int16_t)v, msg);
				kp_arena_free(&a);
				free(msg);
			}
		}
	}
	printf("round trip: %zu messages, %zu message versions, %zu encodings (%zu bytes), "
	       "%zu truncated prefixes rejected, %zu tagged fields set, %zu nulls, "
	       "%zu corrupted decodes survived, %zu JSON round trips\n", kp_all_msgs_count,
	       n_versions, n_roundtrips, n_bytes, n_prefixes, n_tagged_set, n_nulls, n_mutations,
	       n_json);
	assert_true(kp_all_msgs_count >= 180);
	assert_int_equal(n_json, n_roundtrips);
}

/* ---- known answers ----------------------------------------------------- */

static void assert_bytes(const kp_buf *b, const uint8_t *want, size_t n)
{
	if (b->len != n || memcmp(b->data, want, n) != 0) {
		fprintf(stderr, "got %zu bytes:", b->len);
		for (size_t i = 0; i < b->len; i++)
			fprintf(stderr, " %02x", b->data[i]);
		fprintf(stderr, "\nwant %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", want[i]);
		fprintf(stderr, "\n");
		fail();
	}
}

static void test_api_table(void **state)
{
	const struct kp_api_info *api;

	(void)state;
	for (size_t i = 1; i < kp_api_count; i++)
		assert_true(kp_api_table[i - 1].api_key < kp_api_table[i].api_key);
	api = kp_api_lookup(18);
	assert_non_null(api);
	assert_string_equal(api->name, "ApiVersions");
	assert_int_equal(api->flexible_min, 3);
	assert_ptr_equal(api->request, &kp_api_versions_request_desc);
	assert_string_equal(kp_msg_name(api->response), "ApiVersionsResponse");
	assert_null(kp_api_lookup(-5));
	assert_null(kp_api_lookup(9999));
	assert_int_equal(kp_request_header_version(7, 0), 0);
	assert_int_equal(kp_request_header_version(7, 1), 1);
	assert_int_equal(kp_request_header_version(7, 3), 2);
	assert_int_equal(kp_request_header_version(0, 8), 1);
	assert_int_equal(kp_request_header_version(0, 9), 2);
	assert_int_equal(kp_request_header_version(9999, 0), -1);
	assert_int_equal(kp_response_header_version(18, 3), 0);
	assert_int_equal(kp_response_header_version(3, 9), 1);
	assert_int_equal(kp_response_header_version(3, 8), 0);
	assert_int_equal(kp_msg_size(&kp_produce_request_desc), sizeof(struct kp_produce_request));
}

static void test_defaults(void **state)
{
	struct kp_fetch_request f;
	struct kp_produce_request p;
	struct kp_metadata_request m;
	struct kp_api_versions_response av;

	(void)state;
	kp_msg_init(&kp_fetch_request_desc, &f);
	assert_int_equal(f.max_bytes, 0x7fffffff);
	assert_int_equal(f.replica_id, -1);
	assert_null(f.cluster_id);
	kp_msg_init(&kp_produce_request_desc, &p);
	assert_null(p.transactional_id);
	assert_int_equal(p.topic_data_count, 0);
	kp_msg_init(&kp_metadata_request_desc, &m);
	assert_true(m.allow_auto_topic_creation);
	kp_msg_init(&kp_api_versions_response_desc, &av);
	assert_int_equal(av.finalized_features_epoch, -1);
	assert_false(av.zk_migration_ready);
}

/* The generated glue: typed constructors, nested structs' defaults, API keys and types. */
static void test_generated_glue(void **state)
{
	struct kp_fetch_request f;
	struct kp_fetch_request_fetch_partition *parts;
	KP_API_FIND_COORDINATOR_RESPONSE *fc;
	KP_API_CONSUMER_GROUP_HEARTBEAT_REQUEST hb;
	kp_arena a;

	(void)state;
	kp_arena_init(&a);
	kp_fetch_request_init(&f);
	assert_int_equal(f.session_epoch, -1);
	parts = kp_fetch_request_fetch_partition_new(&a, 3);
	assert_non_null(parts);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(parts[i].current_leader_epoch, -1);
		assert_int_equal(parts[i].last_fetched_epoch, -1);
		assert_int_equal(parts[i].log_start_offset, -1);
	}
	assert_null(kp_fetch_request_fetch_partition_new(&a, SIZE_MAX / 2));
	fc = kp_find_coordinator_response_new(&a, 1);
	assert_non_null(fc);
	assert_int_equal(fc->throttle_time_ms, 0);
	kp_consumer_group_heartbeat_request_init(&hb);
	assert_int_equal(hb.rebalance_timeout_ms, -1);
	assert_null(hb.instance_id);
	assert_int_equal(KP_API_PRODUCE, 0);
	assert_int_equal(KP_API_FIND_COORDINATOR, 10);
	assert_int_equal(KP_API_CONSUMER_GROUP_HEARTBEAT, 68);
	for (size_t i = 0; i < kp_api_count; i++)
		assert_non_null(kp_api_lookup(kp_api_table[i].api_key));
	assert_ptr_equal(kp_api_lookup(KP_API_SYNC_GROUP)->response, &kp_sync_group_response_desc);
	kp_arena_free(&a);
}

/* JSON input errors name the JSON path; a known answer for the output shape. */
static void test_json_errors_and_shape(void **state)
{
	struct kp_metadata_request m;
	struct kp_metadata_response r;
	kp_error err;
	kp_arena a;
	json_error_t je;
	json_t *j;
	char *text;

	(void)state;
	kp_arena_init(&a);
	j = json_loads("{\"Topics\": [{\"Name\": \"t\"}, {\"Nme\": \"x\"}]}", 0, &je);
	assert_non_null(j);
	assert_int_equal(kp_msg_from_json(&kp_metadata_request_desc, 12, j, &a, &m, NULL, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_non_null(strstr(err.msg, "Topics[1].Nme"));
	json_decref(j);
	j = json_loads("{\"AllowAutoTopicCreation\": 3}", 0, &je);
	assert_int_equal(kp_msg_from_json(&kp_metadata_request_desc, 12, j, &a, &m, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "AllowAutoTopicCreation"));
	json_decref(j);
	kp_metadata_response_init(&r);
	r.cluster_id = "c";
	j = kp_msg_to_json(&kp_metadata_response_desc, 1, &r, NULL, &err);
	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(text, "{\"Brokers\":[],\"ControllerId\":-1,\"Topics\":[]}");
	free(text);
	json_decref(j);
	kp_arena_free(&a);
}

static void test_api_versions_v0(void **state)
{
	static const uint8_t req[] = {
		0x00, 0x00, 0x00, 0x0c,             /* size 12 */
		0x00, 0x12, 0x00, 0x00,             /* api key 18, version 0 */
		0x00, 0x00, 0x00, 0x01,             /* correlation id 1 */
		0x00, 0x02, 'k', 'p',               /* client id "kp" */
	};
	static const uint8_t resp[] = {
		0x00, 0x00, 0x00, 0x16,             /* size 22 */
		0x00, 0x00, 0x00, 0x07,             /* correlation id 7 (header v0) */
		0x00, 0x00,                         /* error code 0 */
		0x00, 0x00, 0x00, 0x02,             /* 2 api keys */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, /* Produce 0-11 */
		0x00, 0x12, 0x00, 0x00, 0x00, 0x04, /* ApiVersions 0-4 */
	};
	struct kp_api_versions_request rq;
	struct kp_api_versions_response rs, back;
	struct kp_api_versions_response_api_version keys[2] = { { 0, 0, 11 }, { 18, 0, 4 } };
	struct kp_request_header h;
	kp_buf b;
	kp_arena a;
	kp_error err;
	kp_reader r;
	int32_t corr = 0;

	(void)state;
	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_msg_init(&kp_api_versions_request_desc, &rq);
	assert_int_equal(kp_request_encode(18, 0, 1, "kp", &rq, &b, &err), 0);
	assert_bytes(&b, req, sizeof req);
	kp_reader_init(&r, req + 4, sizeof req - 4);
	assert_int_equal(kp_request_header_decode(&r, &a, &h, &err), 1);
	assert_int_equal(h.request_api_key, 18);
	assert_int_equal(h.correlation_id, 1);
	assert_string_equal(h.client_id, "kp");
	assert_int_equal(kp_msg_decode(&kp_api_versions_request_desc, 0, &r, &a, &rq, &err), 0);
	assert_int_equal(kp_reader_left(&r), 0);

	kp_buf_reset(&b);
	kp_msg_init(&kp_api_versions_response_desc, &rs);
	rs.api_keys = keys;
	rs.api_keys_count = 2;
	assert_int_equal(kp_response_encode(18, 0, 7, &rs, &b, &err), 0);
	assert_bytes(&b, resp, sizeof resp);
	assert_int_equal(kp_response_decode(18, 0, resp + 4, sizeof resp - 4, &a, &corr, &back, &err), 0);
	assert_int_equal(corr, 7);
	assert_int_equal(back.api_keys_count, 2);
	assert_int_equal(back.api_keys[1].api_key, 18);
	assert_int_equal(back.api_keys[1].max_version, 4);
	kp_arena_free(&a);
	kp_buf_free(&b);
}

static void test_api_versions_v3(void **state)
{
	static const uint8_t req[] = {
		0x00, 0x00, 0x00, 0x18,             /* size 24 */
		0x00, 0x12, 0x00, 0x03,             /* api key 18, version 3 */
		0x00, 0x00, 0x00, 0x01,             /* correlation id 1 */
		0x00, 0x02, 'k', 'p',               /* client id: classic string even in v2 */
		0x00,                               /* header tagged fields: none */
		0x06, 'k', 'p', 'i', 'p', 'e',      /* compact "kpipe" */
		0x04, '0', '.', '1',                /* compact "0.1" */
		0x00,                               /* body tagged fields: none */
	};
	static const uint8_t resp[] = {
		0x00, 0x00, 0x00, 0x2e,             /* size 46 */
		0x00, 0x00, 0x00, 0x07,             /* correlation id; header v0 always */
		0x00, 0x00,                         /* error code */
		0x03,                               /* compact array of 2 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00,
		0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x00,             /* throttle time */
		0x02,                               /* 2 tagged fields */
		0x00, 0x08,                         /* tag 0 SupportedFeatures, 8 bytes */
		0x02, 0x02, 'x', 0x00, 0x00, 0x00, 0x01, 0x00,
		0x01, 0x08,                         /* tag 1 FinalizedFeaturesEpoch, 8 bytes */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	};
	/* The v3 request body with an unknown tag 9 (2 bytes) that must be skipped. */
	static const uint8_t req_unknown_tag[] = {
		0x02, 'k', 0x02, '1', 0x01, 0x09, 0x02, 0xaa, 0xbb,
	};
	struct kp_api_versions_request rq;
	struct kp_api_versions_response rs, back;
	struct kp_api_versions_response_api_version keys[2] = { { 0, 0, 11 }, { 18, 0, 4 } };
	struct kp_api_versions_response_supported_feature_key feat = { (char *)"x", 0, 1 };
	struct kp_request_header h;
	kp_buf b;
	kp_arena a;
	kp_error err;
	kp_reader r;
	int32_t corr = 0;

	(void)state;
	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_msg_init(&kp_api_versions_request_desc, &rq);
	rq.client_software_name = (char *)"kpipe";
	rq.client_software_version = (char *)"0.1";
	assert_int_equal(kp_request_encode(18, 3, 1, "kp", &rq, &b, &err), 0);
	assert_bytes(&b, req, sizeof req);
	kp_reader_init(&r, req + 4, sizeof req - 4);
	assert_int_equal(kp_request_header_decode(&r, &a, &h, &err), 2);
	assert_string_equal(h.client_id, "kp");
	assert_int_equal(kp_msg_decode(&kp_api_versions_request_desc, 3, &r, &a, &rq, &err), 0);
	assert_string_equal(rq.client_software_name, "kpipe");
	assert_string_equal(rq.client_software_version, "0.1");
	kp_reader_init(&r, req_unknown_tag, sizeof req_unknown_tag);
	assert_int_equal(kp_msg_decode(&kp_api_versions_request_desc, 3, &r, &a, &rq, &err), 0);
	assert_string_equal(rq.client_software_name, "k");
	assert_int_equal(kp_reader_left(&r), 0);

	kp_buf_reset(&b);
	kp_msg_init(&kp_api_versions_response_desc, &rs);
	rs.api_keys = keys;
	rs.api_keys_count = 2;
	rs.supported_features = &feat;
	rs.supported_features_count = 1;
	rs.finalized_features_epoch = 5;
	assert_int_equal(kp_response_encode(18, 3, 7, &rs, &b, &err), 0);
	assert_bytes(&b, resp, sizeof resp);
	assert_int_equal(kp_response_decode(18, 3, resp + 4, sizeof resp - 4, &a, &corr, &back, &err), 0);
	assert_int_equal(corr, 7);
	assert_int_equal(back.finalized_features_epoch, 5);
	assert_int_equal(back.supported_features_count, 1);
	assert_string_equal(back.supported_features[0].name, "x");
	assert_int_equal(back.supported_features[0].max_version, 1);
	assert_int_equal(back.finalized_features_count, 0);
	kp_arena_free(&a);
	kp_buf_free(&b);
}

static void test_metadata_v1_topics(void **state)
{
	static const uint8_t null_topics[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t empty_topics[] = { 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t huge_count[] = { 0x7f, 0xff, 0xff, 0xff, 0x00, 0x01 };
	struct kp_metadata_request m;
	kp_buf b;
	kp_arena a;
	kp_error err;
	kp_reader r;

	(void)state;
	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_msg_init(&kp_metadata_request_desc, &m);
	m.topics_count = -1;
	assert_int_equal(kp_msg_encode(&kp_metadata_request_desc, 1, &m, &b, &err), 0);
	assert_bytes(&b, null_topics, 4);
	kp_buf_reset(&b);
	m.topics_count = 0;
	assert_int_equal(kp_msg_encode(&kp_metadata_request_desc, 1, &m, &b, &err), 0);
	assert_bytes(&b, empty_topics, 4);
	kp_buf_reset(&b);
	m.topics_count = -1; /* v0 does not allow null: encodes as empty */
	assert_int_equal(kp_msg_encode(&kp_metadata_request_desc, 0, &m, &b, &err), 0);
	assert_bytes(&b, empty_topics, 4);

	kp_reader_init(&r, null_topics, 4);
	assert_int_equal(kp_msg_decode(&kp_metadata_request_desc, 1, &r, &a, &m, &err), 0);
	assert_int_equal(m.topics_count, -1);
	assert_null(m.topics);
	kp_reader_init(&r, empty_topics, 4);
	assert_int_equal(kp_msg_decode(&kp_metadata_request_desc, 1, &r, &a, &m, &err), 0);
	assert_int_equal(m.topics_count, 0);
	kp_reader_init(&r, null_topics, 4);
	assert_int_equal(kp_msg_decode(&kp_metadata_request_desc, 0, &r, &a, &m, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	kp_reader_init(&r, huge_count, sizeof huge_count);
	assert_int_equal(kp_msg_decode(&kp_metadata_request_desc, 1, &r, &a, &m, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	assert_int_equal(kp_msg_encode(&kp_metadata_request_desc, 99, &m, &b, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	kp_arena_free(&a);
	kp_buf_free(&b);
}

static void test_request_header_v2(void **state)
{
	static const uint8_t hdr[] = {
		0x00, 0x03, 0x00, 0x0c,             /* Metadata v12 (flexible: header v2) */
		0x00, 0x00, 0x00, 0x2a,             /* correlation id 42 */
		0x00, 0x03, 'a', 'b', 'c',          /* client id "abc", classic string */
		0x01, 0x05, 0x02, 0xaa, 0xbb,       /* 1 tagged field: tag 5, 2 bytes */
		0x99,                               /* first body byte */
	};
	static const uint8_t cs_v0[] = { 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09 };
	static const uint8_t unknown_key[] = { 0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff };
	struct kp_request_header h;
	kp_arena a;
	kp_error err;
	kp_reader r;

	(void)state;
	kp_arena_init(&a);
	kp_reader_init(&r, hdr, sizeof hdr);
	assert_int_equal(kp_request_header_decode(&r, &a, &h, &err), 2);
	assert_int_equal(h.request_api_key, 3);
	assert_int_equal(h.request_api_version, 12);
	assert_int_equal(h.correlation_id, 42);
	assert_string_equal(h.client_id, "abc");
	assert_int_equal(r.pos, sizeof hdr - 1);
	for (size_t k = 0; k < sizeof hdr - 1; k++) {
		kp_reader_init(&r, hdr, k);
		assert_int_equal(kp_request_header_decode(&r, &a, &h, &err), -1);
		assert_int_equal(err.code, KP_EPROTO);
	}
	kp_reader_init(&r, cs_v0, sizeof cs_v0);
	assert_int_equal(kp_request_header_decode(&r, &a, &h, &err), 0);
	assert_int_equal(h.correlation_id, 9);
	assert_null(h.client_id);
	kp_reader_init(&r, unknown_key, sizeof unknown_key);
	assert_int_equal(kp_request_header_decode(&r, &a, &h, &err), 1);
	assert_int_equal(h.request_api_key, 999);
	assert_null(h.client_id);
	kp_arena_free(&a);
}

static void test_produce_v3(void **state)
{
	static const uint8_t want[] = {
		0xff, 0xff,                         /* transactional id: null */
		0xff, 0xff,                         /* acks -1 */
		0x00, 0x00, 0x75, 0x30,             /* timeout 30000 ms */
		0x00, 0x00, 0x00, 0x01,             /* 1 topic */
		0x00, 0x01, 't',                    /* name "t" */
		0x00, 0x00, 0x00, 0x01,             /* 1 partition */
		0x00, 0x00, 0x00, 0x02,             /* index 2 */
		0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, /* records: 3 bytes */
	};
	static const uint8_t recs[] = { 1, 2, 3 };
	struct kp_produce_request_partition_produce_data part = { 2, { recs, 3 } };
	struct kp_produce_request_topic_produce_data topic = { (char *)"t", &part, 1 };
	struct kp_produce_request p, back;
	uint8_t bad[sizeof want];
	kp_buf b;
	kp_arena a;
	kp_error err;
	kp_reader r;

	(void)state;
	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_msg_init(&kp_produce_request_desc, &p);
	p.acks = -1;
	p.timeout_ms = 30000;
	p.topic_data = &topic;
	p.topic_data_count = 1;
	assert_int_equal(kp_msg_encode(&kp_produce_request_desc, 3, &p, &b, &err), 0);
	assert_bytes(&b, want, sizeof want);
	kp_reader_init(&r, want, sizeof want);
	assert_int_equal(kp_msg_decode(&kp_produce_request_desc, 3, &r, &a, &back, &err), 0);
	assert_null(back.transactional_id);
	assert_int_equal(back.acks, -1);
	assert_int_equal(back.timeout_ms, 30000);
	assert_int_equal(back.topic_data_count, 1);
	assert_string_equal(back.topic_data[0].name, "t");
	assert_int_equal(back.topic_data[0].partition_data[0].index, 2);
	assert_int_equal(back.topic_data[0].partition_data[0].records.len, 3);
	assert_memory_equal(back.topic_data[0].partition_data[0].records.data, recs, 3);

	memcpy(bad, want, sizeof want);
	bad[12] = 0xff; /* topic name length -1: not nullable */
	bad[13] = 0xff;
	kp_reader_init(&r, bad, sizeof bad);
	assert_int_equal(kp_msg_decode(&kp_produce_request_desc, 3, &r, &a, &back, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	bad[13] = 0xfe; /* -2 */
	kp_reader_init(&r, bad, sizeof bad);
	assert_int_equal(kp_msg_decode(&kp_produce_request_desc, 3, &r, &a, &back, &err), -1);
	memcpy(bad, want, sizeof want);
	bad[23] = bad[24] = bad[25] = 0xff; /* records length -2 */
	bad[26] = 0xfe;
	kp_reader_init(&r, bad, sizeof bad);
	assert_int_equal(kp_msg_decode(&kp_produce_request_desc, 3, &r, &a, &back, &err), -1);
	kp_arena_free(&a);
	kp_buf_free(&b);
}

/* A compact string's length can exceed 32767, which Kafka refuses (and we cannot re-encode). */
static void test_long_compact_string(void **state)
{
	struct kp_metadata_request m;
	size_t len, n;
	kp_arena a;
	kp_error err;
	kp_reader r;
	kp_buf b;

	(void)state;
	kp_arena_init(&a);
	kp_buf_init(&b);
	for (len = INT16_MAX; len <= (size_t)INT16_MAX + 1; len++) {
		kp_buf_reset(&b);
		kp_buf_put_uvarint(&b, 2);                 /* Metadata v12: 1 topic */
		kp_buf_append(&b, "0123456789abcdef", 16); /* topic id */
		kp_buf_put_uvarint(&b, (uint32_t)len + 1); /* name */
		n = b.len;
		assert_true(kp_buf_reserve(&b, len));
		memset(b.data + n, 'a', len);
		b.len += len;
		kp_buf_append(&b, "\0\1\0\0", 4);       /* no tags, allow auto create, false, no tags */
		kp_reader_init(&r, b.data, b.len);
		if (len == INT16_MAX) {
			assert_int_equal(kp_msg_decode(&kp_metadata_request_desc, 12, &r, &a, &m, &err), 0);
			assert_int_equal(strlen(m.topics[0].name), len);
		} else {
			assert_int_equal(kp_msg_decode(&kp_metadata_request_desc, 12, &r, &a, &m, &err), -1);
			assert_int_equal(err.code, KP_EPROTO);
		}
	}
	kp_buf_free(&b);
	kp_arena_free(&a);
}

/*
 * splice - `b` with the external bytes `ext[i]` (ref i's len bytes)
 * inserted at each ref's position, into `out`.
 */
static void splice(const kp_buf *b, const struct kp_ext_sink *sink, const char *const *ext, kp_buf *out)
{
	size_t done = 0;

	for (size_t i = 0; i < sink->n; i++) {
		kp_buf_append(out, b->data + done, sink->refs[i].pos - done);
		kp_buf_append(out, ext[i], (size_t)sink->refs[i].len);
		done = sink->refs[i].pos;
	}
	kp_buf_append(out, b->data + done, b->len - done);
}

/*
 * test_external_records - a Fetch response whose records are partly
 * external (data NULL) encodes, once the noted bytes are spliced in, to
 * the same frame as with the bytes in memory, for a classic and a
 * flexible version; kp_response_encode rejects external bytes.
 */
static void test_external_records(void **state)
{
	static const char *const ext[] = { "HELLO", "abc" };
	struct kp_fetch_response_partition_data ps[3];
	struct kp_fetch_response_fetchable_topic_response t;
	struct kp_fetch_response rs;
	struct kp_ext_ref refs[2];
	struct kp_ext_sink sink = { refs, 2, 0 };
	static const int16_t versions[] = { 4, 12 };
	kp_buf b, want, got;
	kp_error err;

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		kp_msg_init(&kp_fetch_response_desc, &rs);
		memset(&t, 0, sizeof(t));
		memset(ps, 0, sizeof(ps)); /* same fields in both encodings: defaults do not matter */
		t.topic = "t";
		t.partitions = ps;
		t.partitions_count = 3;
		rs.responses = &t;
		rs.responses_count = 1;
		ps[0].records = (kp_bytes){ (const uint8_t *)ext[0], 5 };
		ps[1].records = (kp_bytes){ (const uint8_t *)"xyz", 3 };
		ps[2].records = (kp_bytes){ (const uint8_t *)ext[1], 3 };
		kp_buf_init(&b);
		kp_buf_init(&want);
		kp_buf_init(&got);
		assert_int_equal(kp_response_encode(1, versions[v], 9, &rs, &want, &err), 0);
		ps[0].records.data = NULL;
		ps[2].records.data = NULL;
		assert_int_equal(kp_response_encode(1, versions[v], 9, &rs, &b, &err), -1);
		assert_int_equal(err.code, KP_EINVAL);
		assert_int_equal(b.len, 0);
		sink.n = 0;
		sink.max = 1;
		assert_int_equal(kp_response_encode_ext(1, versions[v], 9, &rs, &b, &sink, &err), -1);
		assert_int_equal(sink.n, 0);
		assert_int_equal(b.len, 0);
		sink.max = 2;
		assert_int_equal(kp_response_encode_ext(1, versions[v], 9, &rs, &b, &sink, &err), 0);
		assert_int_equal(sink.n, 2);
		assert_int_equal(b.len + 8, want.len);
		splice(&b, &sink, ext, &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		kp_buf_free(&b);
		kp_buf_free(&want);
		kp_buf_free(&got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_generated_glue),
		cmocka_unit_test(test_json_errors_and_shape),
		cmocka_unit_test(test_api_versions_v0),
		cmocka_unit_test(test_api_versions_v3),
		cmocka_unit_test(test_metadata_v1_topics),
		cmocka_unit_test(test_request_header_v2),
		cmocka_unit_test(test_produce_v3),
		cmocka_unit_test(test_long_compact_string),
		cmocka_unit_test(test_external_records),
		cmocka_unit_test(test_roundtrip_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
