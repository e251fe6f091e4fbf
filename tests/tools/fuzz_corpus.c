/*
 * fuzz_corpus.c - write the seed corpora of the libFuzzer targets in
 * tests/fuzz (valid inputs in each target's input format) to
 * DIR/fuzz_NAME/seed-*, overwriting earlier seeds and leaving any other
 * file (regression inputs) alone:
 *
 *   fuzz_request      request frame bodies: the six APIs the broker serves
 *                     at three versions each, pseudo-randomly filled (short
 *                     arrays, strings, nulls, tagged fields, a real batch in
 *                     Records), and every other API empty at its max version
 *   fuzz_response     u16 API, u16 version + 1, a response frame body, for
 *                     the same six APIs
 *   fuzz_records      start offset, flags + a v2 batch in each codec, a
 *                     control batch, legacy magic 0/1 sets, compressed
 *                     legacy wrappers
 *   fuzz_decompress   codec byte, limit byte, compressed text per codec
 *   fuzz_log_recover  flags and log tails: good batches (also appended), a
 *                     torn one, a bad CRC, an index with a recovery point
 *
 * Usage: fuzz_corpus DIR   (the committed seeds: fuzz_corpus tests/fuzz/corpus)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "protocol/codec.h"
#include "protocol/codec_internal.h"
#include "record/batch.h"
#include "record/compress.h"
#include "record/records.h"

static const char *root;
static uint64_t rng = 0x9e3779b97f4a7c15u;
static kp_buf sample; /* a small uncompressed v2 batch */

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_corpus: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

/* save - write the parts (NULL-terminated pairs of pointer and length) to ROOT/TARGET/NAME. */
static void save(const char *target, const char *name, const void *p1, size_t n1, const void *p2,
		 size_t n2)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof path, "%s/%s/seed-%s", root, target, name);
	if (!(f = fopen(path, "wb")) || (n1 && fwrite(p1, 1, n1, f) != n1) ||
	    (n2 && fwrite(p2, 1, n2, f) != n2) || fclose(f) != 0)
		die(path);
	errno = 0;
}

/* ---- protocol messages ---- */

static void fill_struct(const struct kp_msg_desc *d, int16_t v, void *msg, kp_arena *a, int depth);

static void fill_value(const struct kp_field_desc *f, uint8_t kind, void *p, int16_t v, bool nullable,
		       kp_arena *a, int depth)
{
	switch (kind) {
	case KP_F_BOOL: *(bool *)p = rnd() & 1; break;
	case KP_F_INT8: *(int8_t *)p = (int8_t)(rnd() % 4); break;
	case KP_F_INT16: *(int16_t *)p = (int16_t)(rnd() % 100); break;
	case KP_F_UINT16: *(uint16_t *)p = (uint16_t)rnd(); break;
	case KP_F_INT32: *(int32_t *)p = (int32_t)(rnd() % 1000) - 1; break;
	case KP_F_INT64: *(int64_t *)p = (int64_t)(rnd() % 100000) - 1; break;
	case KP_F_FLOAT64: *(double *)p = (double)(rnd() % 1000) / 8.0; break;
	case KP_F_UUID:
		for (int i = 0; i < 16; i++)
			((kp_uuid *)p)->b[i] = (uint8_t)rnd();
		break;
	case KP_F_STRING: {
		size_t n = rnd() % 6;
		char *s;
		if (nullable && rnd() % 4 == 0) {
			*(char **)p = NULL;
			break;
		}
		if (!(s = kp_arena_alloc(a, n + 1)))
			die("out of memory");
		for (size_t i = 0; i < n; i++)
			s[i] = (char)('a' + rnd() % 26);
		*(char **)p = s;
		break;
	}
	case KP_F_RECORDS:
		((kp_bytes *)p)->data = sample.data;
		((kp_bytes *)p)->len = (int32_t)sample.len;
		break;
	case KP_F_BYTES:
		((kp_bytes *)p)->data = (const uint8_t *)"\x01\x02\x03";
		((kp_bytes *)p)->len = nullable && rnd() % 4 == 0 ? -1 : (int32_t)(rnd() % 4);
		break;
	case KP_F_STRUCT: fill_struct(f->sub, v, p, a, depth + 1); break;
	default: break;
	}
}

static void fill_field(const struct kp_field_desc *f, void *msg, int16_t v, kp_arena *a, int depth)
{
	bool nullable = kp_field_in(v, f->null_min, f->null_max);
	void *p = (char *)msg + f->offset;

	if (f->kind == KP_F_ARRAY) {
		int32_t *count = (int32_t *)((char *)msg + f->aux_offset);
		int32_t n = (int32_t)(rnd() % (depth < 1 ? 3 : 2));
		size_t esz = kp_elem_size(f);
		char *data = NULL;
		if (nullable && rnd() % 4 == 0) {
			*count = -1;
			*(char **)p = NULL;
			return;
		}
		if (n > 0 && !(data = kp_arena_alloc(a, (size_t)n * esz)))
			die("out of memory");
		for (int32_t i = 0; i < n; i++)
			fill_value(f, f->elem_kind, data + (size_t)i * esz, v, false, a, depth);
		*(char **)p = data;
		*count = n;
		return;
	}
	if (f->kind == KP_F_STRUCT && f->aux_offset) {
		bool *is_null = (bool *)((char *)msg + f->aux_offset);
		if ((*is_null = nullable && rnd() % 3 == 0))
			return;
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
		if (f->tag >= 0 && kp_field_in(v, f->tag_min, f->tag_max) && rnd() % 2)
			continue;
		fill_field(f, msg, v, a, depth);
	}
}

/* message - one request (frame body) or response (API, version + 1, frame body) seed. */
static void message(const struct kp_api_info *api, int16_t v, bool response, bool fill)
{
	const struct kp_msg_desc *d = response ? api->response : api->request;
	uint8_t sel[4];
	char name[64];
	kp_arena a;
	kp_error err;
	kp_buf b;
	void *msg;
	int rc;

	kp_arena_init(&a);
	kp_buf_init(&b);
	if (!(msg = kp_arena_alloc(&a, kp_msg_size(d))))
		die("out of memory");
	if (fill)
		fill_struct(d, v, msg, &a, 0);
	else
		kp_msg_init(d, msg);
	if (response)
		rc = kp_response_encode(api->api_key, v, 7, msg, &b, &err);
	else
		rc = kp_request_encode(api->api_key, v, 7, "seed", msg, &b, &err);
	if (rc < 0) {
		fprintf(stderr, "fuzz_corpus: %s v%d: %s\n", api->name, v, err.msg);
		exit(1);
	}
	snprintf(name, sizeof name, "%s-v%d", api->name, v);
	if (response) {
		kp_store_u16(sel, (uint16_t)api->api_key);
		kp_store_u16(sel + 2, (uint16_t)(v + 1));
		save("fuzz_response", name, sel, 4, b.data + 4, b.len - 4);
	} else {
		save("fuzz_request", name, b.data + 4, b.len - 4, NULL, 0);
	}
	kp_buf_free(&b);
	kp_arena_free(&a);
}

static void protocol_seeds(void)
{
	static const int16_t served[] = { 0, 1, 2, 3, 18, 19 };

	for (size_t i = 0; i < kp_api_count; i++) {
		const struct kp_api_info *api = &kp_api_table[i];
		bool is_served = false;
		int16_t vs[3];

		for (size_t j = 0; j < sizeof served / sizeof served[0]; j++)
			is_served |= served[j] == api->api_key;
		if (!is_served) {
			message(api, api->max_version, false, false);
			continue;
		}
		/* oldest, last classic (or middle) and newest versions */
		vs[0] = api->min_version;
		vs[1] = api->flexible_min > 0 ? api->flexible_min - 1 : api->max_version / 2;
		vs[2] = api->max_version;
		for (int k = 0; k < 3; k++) {
			message(api, vs[k], false, true);
			message(api, vs[k], true, true);
		}
	}
}

/* ---- records ---- */

static void batch(kp_buf *out, int codec, int n, int64_t base_offset)
{
	kp_batch_builder *b = kp_batch_builder_new(codec, -1, -1, NULL);
	static const struct kp_record_header h = { "h", 1, (const uint8_t *)"v", 1 };
	size_t start = out->len;
	char key[8], value[24];

	if (!b)
		die("batch builder");
	for (int i = 0; i < n; i++) {
		struct kp_record r = { 0 };
		r.timestamp = 1700000000000 + i;
		r.key_len = i == 1 ? -1 : snprintf(key, sizeof key, "k%d", i);
		r.key = i == 1 ? NULL : (const uint8_t *)key;
		r.value_len = snprintf(value, sizeof value, "value %d", i);
		r.value = (const uint8_t *)value;
		r.headers = i == 0 ? &h : NULL;
		r.header_count = i == 0;
		if (kp_batch_builder_add(b, &r, NULL) < 0)
			die("batch builder add");
	}
	if (kp_batch_builder_finish(b, -1, out, NULL) < 0)
		die("batch builder finish");
	kp_batch_set_base_offset(out->data + start, base_offset);
	kp_batch_builder_free(b);
}

/* legacy - one legacy message (magic 0/1) with a correct CRC. */
static void legacy(kp_buf *o, int64_t offset, int8_t magic, int8_t attr, int64_t ts, const char *key,
		   const void *val, int32_t vlen)
{
	size_t start = o->len;
	int32_t klen = key ? (int32_t)strlen(key) : -1;

	kp_buf_put_i64(o, offset);
	kp_buf_put_i32(o, 0);
	kp_buf_put_u32(o, 0);
	kp_buf_put_i8(o, magic);
	kp_buf_put_i8(o, attr);
	if (magic == 1)
		kp_buf_put_i64(o, ts);
	kp_buf_put_i32(o, klen);
	if (klen > 0)
		kp_buf_append(o, key, (size_t)klen);
	kp_buf_put_i32(o, vlen);
	if (vlen > 0)
		kp_buf_append(o, val, (size_t)vlen);
	kp_buf_set_i32(o, start + 8, (int32_t)(o->len - start - 12));
	kp_buf_set_i32(o, start + 12, (int32_t)crc32(0, o->data + start + 16, (uInt)(o->len - start - 16)));
}

static void legacy_set(kp_buf *o, int8_t magic, int64_t base)
{
	legacy(o, base, magic, 0, 100, "a", "one", 3);
	legacy(o, base + 1, magic, 0, 101, NULL, "two", 3);
	legacy(o, base + 2, magic, 0, 102, "c", NULL, -1);
}

static void records_seed(const char *name, const kp_buf *b, int64_t start)
{
	uint8_t sel[9];

	kp_store_u64(sel, (uint64_t)start);
	sel[8] = 1; /* fix CRCs */
	save("fuzz_records", name, sel, 9, b->data, b->len);
}

static void record_seeds(void)
{
	static const char *codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };
	kp_buf b, inner, z;
	char name[32];

	kp_buf_init(&b);
	kp_buf_init(&inner);
	kp_buf_init(&z);
	for (int c = 0; c <= KP_COMPRESSION_ZSTD; c++) {
		kp_buf_reset(&b);
		batch(&b, c, 3, 10);
		if (c == KP_COMPRESSION_NONE)
			batch(&b, c, 2, 13);
		snprintf(name, sizeof name, "batch-%s", codecs[c]);
		records_seed(name, &b, c == KP_COMPRESSION_NONE ? 11 : 0);
	}
	/* a control batch (transaction marker) before a data batch */
	kp_buf_reset(&b);
	batch(&b, KP_COMPRESSION_NONE, 1, 0);
	kp_store_u16(b.data + KP_BATCH_ATTRIBUTES_OFFSET, KP_BATCH_CONTROL);
	kp_store_u32(b.data + KP_BATCH_CRC_OFFSET, kp_crc32c(0, b.data + KP_BATCH_ATTRIBUTES_OFFSET,
							      b.len - KP_BATCH_ATTRIBUTES_OFFSET));
	batch(&b, KP_COMPRESSION_NONE, 1, 1);
	records_seed("control", &b, 0);
	for (int8_t m = 0; m <= 1; m++) {
		kp_buf_reset(&b);
		legacy_set(&b, m, 5);
		snprintf(name, sizeof name, "legacy-v%d", m);
		records_seed(name, &b, 0);
	}
	/* compressed wrappers: magic 1 relative inner offsets (gzip, lz4), magic 0 snappy */
	for (int c = KP_COMPRESSION_GZIP; c <= KP_COMPRESSION_LZ4; c++) {
		int8_t m = c == KP_COMPRESSION_SNAPPY ? 0 : 1;
		kp_buf_reset(&inner);
		kp_buf_reset(&b);
		kp_buf_reset(&z);
		legacy_set(&inner, m, m == 1 ? 0 : 40);
		if (kp_compress(c, inner.data, inner.len, &z, NULL) < 0)
			die("compress");
		legacy(&b, 42, m, (int8_t)(c | (c == KP_COMPRESSION_LZ4 ? KP_BATCH_TIMESTAMP_TYPE : 0)), 200,
		       NULL, z.data, (int32_t)z.len);
		snprintf(name, sizeof name, "wrapper-v%d-%s", m, codecs[c]);
		records_seed(name, &b, 0);
	}
	kp_buf_free(&b);
	kp_buf_free(&inner);
	kp_buf_free(&z);
}

static void decompress_seeds(void)
{
	static const char text[] = "kpipe kpipe kpipe: a Kafka-compatible event streaming platform, "
				   "kpipe kpipe kpipe kpipe kpipe kpipe\n";
	static const char *codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };
	uint8_t sel[2];
	char name[32];
	kp_buf z;

	kp_buf_init(&z);
	for (int c = 0; c <= KP_COMPRESSION_ZSTD; c++) {
		kp_buf_reset(&z);
		if (kp_compress(c, (const uint8_t *)text, sizeof text - 1, &z, NULL) < 0)
			die("compress");
		sel[0] = (uint8_t)c;
		sel[1] = 1; /* limit 256 */
		snprintf(name, sizeof name, "%s", codecs[c]);
		save("fuzz_decompress", name, sel, 2, z.data, z.len);
		if (c == KP_COMPRESSION_LZ4) {
			sel[0] |= 8;
			save("fuzz_decompress", "lz4-v0", sel, 2, z.data, z.len);
		}
	}
	kp_buf_free(&z);
}

static void log_seeds(void)
{
	kp_buf b;
	uint8_t flags;

	kp_buf_init(&b);
	/* the fuzzer's valid batch holds offsets 0-2: a next batch at 3, uncompressed and zstd */
	flags = 8 | 64;
	batch(&b, KP_COMPRESSION_NONE, 2, 3);
	batch(&b, KP_COMPRESSION_ZSTD, 2, 5);
	save("fuzz_log_recover", "good-tail", &flags, 1, b.data, b.len);
	flags = 0;
	save("fuzz_log_recover", "torn-tail", &flags, 1, b.data, b.len - 7);
	flags = 8 | 64 | 128;
	save("fuzz_log_recover", "append", &flags, 1, b.data, b.len);
	b.data[30] ^= 1;
	flags = 32;
	save("fuzz_log_recover", "bad-crc", &flags, 1, b.data, b.len);
	/* an index entry (offset 2 at position 0: the valid batch) and recovery point 4 */
	kp_buf_reset(&b);
	kp_buf_put_i8(&b, 8);
	kp_buf_put_i32(&b, 2);
	kp_buf_put_i32(&b, 0);
	kp_buf_put_i8(&b, 4);
	batch(&b, KP_COMPRESSION_NONE, 2, 3);
	flags = 1 | 4 | 8 | 64;
	save("fuzz_log_recover", "index", &flags, 1, b.data, b.len);
	kp_buf_free(&b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_corpus DIR\n");
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		die(root);
	errno = 0;
	kp_buf_init(&sample);
	batch(&sample, KP_COMPRESSION_NONE, 2, 0);
	protocol_seeds();
	record_seeds();
	decompress_seeds();
	log_seeds();
	kp_buf_free(&sample);
	return 0;
}
