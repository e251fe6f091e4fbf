/*
 * test_record.c - unit tests for lib/record: CRC-32C, v2 batch building,
 * validation and iteration for every codec, the codecs' bomb guard,
 * legacy message set conversion and the Java client's murmur2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "record/batch.h"
#include "record/compress.h"
#include "record/legacy.h"
#include "record/records.h"

/* ---- helpers ---- */

/* ref_crc32c - bitwise reference CRC-32C, to check the library's independently. */
static uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

/* reseal - recompute the CRC of the v2 batch at `p` after a test edit. */
static void reseal(uint8_t *p)
{
	size_t total = 12 + kp_load_u32(p + 8);
	kp_store_u32(p + KP_BATCH_CRC_OFFSET, kp_crc32c(0, p + 21, total - 21));
}

static const struct kp_record_header hdrs1[] = {
	{ "h1", 2, (const uint8_t *)"x", 1 },
	{ "h2", 2, NULL, -1 },
	{ "", 0, (const uint8_t *)"", 0 },
};

#define NREC 5
static struct kp_record sample[NREC];
static char bigval[3000];

static void init_sample(void)
{
	memset(bigval, 'z', sizeof bigval);
	sample[0] = (struct kp_record){ 0, 1700000000000LL, (const uint8_t *)"key0", 4,
					(const uint8_t *)"value0", 6, hdrs1, 3 };
	sample[1] = (struct kp_record){ 0, 1700000000005LL, NULL, -1,
					(const uint8_t *)"nullkey", 7, NULL, 0 };
	sample[2] = (struct kp_record){ 0, 1699999999990LL, (const uint8_t *)"k", 1,
					(const uint8_t *)"", 0, NULL, 0 };
	sample[3] = (struct kp_record){ 0, 1700000000001LL, (const uint8_t *)"", 0, NULL, -1, NULL, 0 };
	sample[4] = (struct kp_record){ 0, 1700000000100LL, (const uint8_t *)"big", 3,
					(const uint8_t *)bigval, (int32_t)sizeof bigval, hdrs1, 1 };
}

static void build(int codec, const struct kp_record *recs, int n, int64_t pid, kp_buf *out)
{
	kp_error err;
	kp_batch_builder *b = kp_batch_builder_new(codec, pid, pid < 0 ? -1 : 0, &err);
	int i;

	assert_non_null(b);
	for (i = 0; i < n; i++)
		assert_int_equal(kp_batch_builder_add(b, &recs[i], &err), 0);
	assert_int_equal(kp_batch_builder_count(b), n);
	assert_int_equal(kp_batch_builder_finish(b, pid < 0 ? -1 : 7, out, &err), 0);
	assert_int_equal(kp_batch_builder_count(b), 0);
	kp_batch_builder_free(b);
}

static void assert_bytes(const uint8_t *a, int32_t alen, const uint8_t *b, int32_t blen)
{
	assert_int_equal(alen, blen);
	if (alen < 0) {
		assert_null(a);
		return;
	}
	if (alen > 0)
		assert_memory_equal(a, b, (size_t)alen);
}

static void assert_record(const struct kp_record *got, const struct kp_record *want,
			  int64_t offset, int64_t ts)
{
	int32_t i;

	assert_int_equal(got->offset, offset);
	assert_int_equal(got->timestamp, ts);
	assert_bytes(got->key, got->key_len, want->key, want->key_len);
	assert_bytes(got->value, got->value_len, want->value, want->value_len);
	assert_int_equal(got->header_count, want->header_count);
	for (i = 0; i < want->header_count; i++) {
		assert_bytes((const uint8_t *)got->headers[i].key, got->headers[i].key_len,
			     (const uint8_t *)want->headers[i].key, want->headers[i].key_len);
		assert_bytes(got->headers[i].value, got->headers[i].value_len,
			     want->headers[i].value, want->headers[i].value_len);
	}
}

/* ---- CRC ---- */

static void test_crc32c(void **state)
{
	const char *s = "123456789";
	uint8_t buf[1000];
	size_t i;

	(void)state;
	assert_int_equal(kp_crc32c(0, s, 9), 0xe3069283u);
	assert_int_equal(kp_crc32c(kp_crc32c(0, s, 4), s + 4, 5), 0xe3069283u);
	assert_int_equal(kp_crc32c(0, s, 0), 0);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(kp_crc32c(0, buf, sizeof buf), ref_crc32c(buf, sizeof buf));
}

/* ---- build and iterate ---- */

static void roundtrip(int codec)
{
	kp_buf out;
	kp_error err;
	struct kp_batch_header h;
	struct kp_record rec;
	kp_record_iter *it;
	int i;

	init_sample();
	kp_buf_init(&out);
	build(codec, sample, NREC, 42, &out);
	assert_int_equal(kp_batch_validate(out.data, out.len, &h, &err), (long)out.len);
	assert_int_equal(h.attributes, codec);
	assert_int_equal(h.record_count, NREC);
	assert_int_equal(h.last_offset_delta, NREC - 1);
	assert_int_equal(h.base_timestamp, sample[0].timestamp);
	assert_int_equal(h.max_timestamp, sample[4].timestamp);
	assert_int_equal(h.producer_id, 42);
	assert_int_equal(h.base_sequence, 7);
	assert_int_equal(h.partition_leader_epoch, -1);
	kp_batch_set_base_offset(out.data, 1000);
	kp_batch_set_partition_leader_epoch(out.data, 3);
	assert_int_equal(kp_batch_validate(out.data, out.len, &h, &err), (long)out.len);
	assert_int_equal(h.base_offset, 1000);
	assert_int_equal(h.partition_leader_epoch, 3);

	it = kp_record_iter_new(out.data, out.len, 0);
	assert_non_null(it);
	for (i = 0; i < NREC; i++) {
		assert_int_equal(kp_record_iter_next(it, &rec, &err), 1);
		assert_record(&rec, &sample[i], 1000 + i, sample[i].timestamp);
	}
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	assert_int_equal(kp_record_iter_next_offset(it), 1000 + NREC);
	kp_record_iter_free(it);
	kp_buf_free(&out);
}

static void test_roundtrip_none(void **s) { (void)s; roundtrip(KP_COMPRESSION_NONE); }
static void test_roundtrip_gzip(void **s) { (void)s; roundtrip(KP_COMPRESSION_GZIP); }
static void test_roundtrip_snappy(void **s) { (void)s; roundtrip(KP_COMPRESSION_SNAPPY); }
static void test_roundtrip_lz4(void **s) { (void)s; roundtrip(KP_COMPRESSION_LZ4); }
static void test_roundtrip_zstd(void **s) { (void)s; roundtrip(KP_COMPRESSION_ZSTD); }

static void test_builder_errors(void **state)
{
	kp_error err;
	kp_buf out;
	kp_batch_builder *b;
	struct kp_record bad = { 0, 0, NULL, 5, NULL, -1, NULL, 0 };

	(void)state;
	kp_buf_init(&out);
	assert_null(kp_batch_builder_new(9, -1, -1, &err));
	assert_int_equal(err.code, KP_EINVAL);
	b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, &err);
	assert_int_equal(kp_batch_builder_finish(b, -1, &out, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_int_equal(kp_batch_builder_add(b, &bad, &err), -1);
	assert_int_equal(kp_batch_builder_size(b), KP_BATCH_HEADER_SIZE);
	assert_int_equal(out.len, 0);
	kp_batch_builder_free(b);
	kp_batch_builder_free(NULL);
	kp_record_iter_free(NULL);
}

/* ---- validation ---- */

static void test_corrupt_and_truncated(void **state)
{
	kp_buf out;
	kp_error err;
	struct kp_record rec;
	kp_record_iter *it;
	size_t i;

	(void)state;
	init_sample();
	kp_buf_init(&out);
	build(KP_COMPRESSION_NONE, sample, 2, -1, &out);
	for (i = KP_BATCH_ATTRIBUTES_OFFSET; i < out.len; i += 7) {
		out.data[i] ^= 0x40;
		assert_int_equal(kp_batch_validate(out.data, out.len, NULL, &err), -1);
		assert_int_equal(err.code, KP_ECORRUPT);
		out.data[i] ^= 0x40;
	}
	/* the iterator reports the bad CRC too, and keeps reporting it */
	out.data[out.len - 1] ^= 1;
	it = kp_record_iter_new(out.data, out.len, 0);
	assert_int_equal(kp_record_iter_next(it, &rec, &err), -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	assert_int_equal(kp_record_iter_next(it, &rec, &err), -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	kp_record_iter_free(it);
	out.data[out.len - 1] ^= 1;

	/* truncated */
	assert_int_equal(kp_batch_validate(out.data, out.len - 1, NULL, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	assert_int_equal(kp_batch_validate(out.data, 30, NULL, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	assert_int_equal(kp_batch_validate(out.data, 10, NULL, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	/* wrong magic: still reported in the header */
	{
		struct kp_batch_header h;
		out.data[16] = 1;
		assert_int_equal(kp_batch_header_parse(out.data, out.len, &h, &err), -1);
		assert_int_equal(err.code, KP_EPROTO);
		assert_int_equal(h.magic, 1);
		out.data[16] = 2;
	}
	/* batchLength below the header size */
	kp_store_u32(out.data + 8, 10);
	assert_int_equal(kp_batch_validate(out.data, out.len, NULL, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	kp_buf_free(&out);
}

static void test_byte_exact(void **state)
{
	static const uint8_t want_head[] = {
		0, 0, 0, 0, 0, 0, 0, 0,         /* baseOffset */
		0, 0, 0, 58,                    /* batchLength */
		0xff, 0xff, 0xff, 0xff,         /* partitionLeaderEpoch */
		2,                              /* magic */
		0, 0, 0, 0,                     /* crc: checked separately */
		0, 0,                           /* attributes */
		0, 0, 0, 0,                     /* lastOffsetDelta */
		0, 0, 0, 0, 0, 0, 0x03, 0xe8,   /* baseTimestamp 1000 */
		0, 0, 0, 0, 0, 0, 0x03, 0xe8,   /* maxTimestamp */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId */
		0xff, 0xff,                     /* producerEpoch */
		0xff, 0xff, 0xff, 0xff,         /* baseSequence */
		0, 0, 0, 1,                     /* recordCount */
		/* record: length 8, attr, tsDelta 0, offDelta 0, key "k", value "v", 0 headers */
		0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00,
	};
	struct kp_record r = { 0, 1000, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1, NULL, 0 };
	struct kp_batch_header h;
	kp_error err;
	kp_buf out;

	(void)state;
	kp_buf_init(&out);
	build(KP_COMPRESSION_NONE, &r, 1, -1, &out);
	assert_int_equal(out.len, sizeof want_head);
	assert_memory_equal(out.data, want_head, 17);
	assert_memory_equal(out.data + 21, want_head + 21, sizeof want_head - 21);
	assert_int_equal(kp_load_u32(out.data + 17), ref_crc32c(want_head + 21, sizeof want_head - 21));
	assert_int_equal(kp_batch_header_parse(out.data, out.len, &h, &err), 0);
	assert_int_equal(h.base_offset, 0);
	assert_int_equal(h.batch_length, 58);
	assert_int_equal(h.partition_leader_epoch, -1);
	assert_int_equal(h.magic, 2);
	assert_int_equal(h.crc, ref_crc32c(want_head + 21, sizeof want_head - 21));
	assert_int_equal(h.attributes, 0);
	assert_int_equal(h.last_offset_delta, 0);
	assert_int_equal(h.base_timestamp, 1000);
	assert_int_equal(h.max_timestamp, 1000);
	assert_int_equal(h.producer_id, -1);
	assert_int_equal(h.producer_epoch, -1);
	assert_int_equal(h.base_sequence, -1);
	assert_int_equal(h.record_count, 1);
	assert_int_equal(kp_batch_validate(out.data, out.len, NULL, &err), 70);
	kp_buf_free(&out);
}

/* ---- iterator behaviour ---- */

static void test_iter_skips(void **state)
{
	kp_buf out;
	kp_error err;
	struct kp_record rec;
	kp_record_iter *it;
	size_t b2, b3, b4;
	int64_t want[] = { 11, 12, 14, 15 };
	int i;

	(void)state;
	init_sample();
	kp_buf_init(&out);
	build(KP_COMPRESSION_NONE, sample, 3, -1, &out);      /* offsets 10..12 */
	kp_batch_set_base_offset(out.data, 10);
	b2 = out.len;
	build(KP_COMPRESSION_NONE, sample, 1, -1, &out);      /* control, 13 */
	kp_batch_set_base_offset(out.data + b2, 13);
	kp_store_u16(out.data + b2 + 21, KP_BATCH_CONTROL | KP_BATCH_TRANSACTIONAL);
	reseal(out.data + b2);
	b3 = out.len;
	build(KP_COMPRESSION_LZ4, sample + 1, 2, -1, &out);   /* 14..15 */
	kp_batch_set_base_offset(out.data + b3, 14);
	b4 = out.len;
	build(KP_COMPRESSION_NONE, sample, 2, -1, &out);      /* 16..17, cut short */
	kp_batch_set_base_offset(out.data + b4, 16);

	it = kp_record_iter_new(out.data, out.len - 5, 11);
	for (i = 0; i < 4; i++) {
		assert_int_equal(kp_record_iter_next(it, &rec, &err), 1);
		assert_int_equal(rec.offset, want[i]);
	}
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	assert_int_equal(kp_record_iter_next_offset(it), 16);
	kp_record_iter_free(it);

	/* only the control batch: no records, next offset still moves */
	it = kp_record_iter_new(out.data + b2, b3 - b2, 13);
	assert_int_equal(kp_record_iter_next_offset(it), 13);
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	assert_int_equal(kp_record_iter_next_offset(it), 14);
	kp_record_iter_free(it);

	/* only a partial batch: nothing, next offset unchanged */
	it = kp_record_iter_new(out.data + b4, 20, 16);
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	assert_int_equal(kp_record_iter_next_offset(it), 16);
	kp_record_iter_free(it);
	kp_buf_free(&out);
}

static void test_iter_log_append_time(void **state)
{
	kp_buf out;
	kp_error err;
	struct kp_record rec;
	kp_record_iter *it;
	int i;

	(void)state;
	init_sample();
	kp_buf_init(&out);
	build(KP_COMPRESSION_GZIP, sample, 3, -1, &out);
	kp_store_u16(out.data + 21, KP_COMPRESSION_GZIP | KP_BATCH_TIMESTAMP_TYPE);
	kp_store_u64(out.data + 35, 5555);
	reseal(out.data);
	it = kp_record_iter_new(out.data, out.len, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(kp_record_iter_next(it, &rec, &err), 1);
		assert_int_equal(rec.timestamp, 5555);
	}
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	kp_record_iter_free(it);
	kp_buf_free(&out);
}

/* ---- legacy ---- */

/* put_msg - one legacy message (magic 0/1) with a correct CRC. */
static void put_msg(kp_buf *o, int64_t offset, int8_t magic, int8_t attr, int64_t ts,
		    const void *key, int32_t klen, const void *val, int32_t vlen)
{
	size_t start = o->len;

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

/* legacy_set - messages 0..3 (null key, empty value, null value among them). */
static void legacy_set(kp_buf *o, int8_t magic, int64_t base)
{
	put_msg(o, base + 0, magic, 0, 100, "a", 1, "one", 3);
	put_msg(o, base + 1, magic, 0, 101, NULL, -1, "two", 3);
	put_msg(o, base + 2, magic, 0, 102, "c", 1, "", 0);
	put_msg(o, base + 3, magic, 0, 103, "d", 1, NULL, -1);
}

static void legacy_roundtrip(int8_t magic)
{
	kp_buf set, batch, back;
	kp_error err;
	struct kp_record rec;
	kp_record_iter *it;
	int n = 0;

	kp_buf_init(&set);
	kp_buf_init(&batch);
	kp_buf_init(&back);
	legacy_set(&set, magic, 0);
	assert_int_equal(kp_legacy_to_batch(set.data, set.len, &batch, &err), 0);
	assert_true(kp_batch_validate(batch.data, batch.len, NULL, &err) > 0);
	it = kp_record_iter_new(batch.data, batch.len, 0);
	while (kp_record_iter_next(it, &rec, &err) == 1) {
		assert_int_equal(rec.offset, n);
		assert_int_equal(rec.timestamp, magic == 1 ? 100 + n : -1);
		n++;
	}
	assert_int_equal(n, 4);
	kp_record_iter_free(it);
	assert_int_equal(kp_batch_to_legacy(batch.data, batch.len, magic, &back, &err), 0);
	assert_int_equal(back.len, set.len);
	assert_memory_equal(back.data, set.data, set.len);

	/* a bad legacy CRC is refused and nothing is appended */
	set.data[set.len - 1] ^= 1;
	kp_buf_reset(&batch);
	assert_int_equal(kp_legacy_to_batch(set.data, set.len, &batch, &err), -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	assert_int_equal(batch.len, 0);
	/* a truncated set is refused */
	assert_int_equal(kp_legacy_to_batch(set.data, set.len - 3, &batch, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	kp_buf_free(&set);
	kp_buf_free(&batch);
	kp_buf_free(&back);
}

static void test_legacy_v0(void **s) { (void)s; legacy_roundtrip(0); }
static void test_legacy_v1(void **s) { (void)s; legacy_roundtrip(1); }

static void test_legacy_compressed(void **state)
{
	kp_buf inner, gz, set, batch, back, want;
	kp_error err;
	struct kp_record rec;
	kp_record_iter *it;
	int64_t o;

	(void)state;
	kp_buf_init(&inner);
	kp_buf_init(&gz);
	kp_buf_init(&set);
	kp_buf_init(&batch);
	kp_buf_init(&back);
	kp_buf_init(&want);
	/* magic 1 wrapper: inner offsets relative 0..3, wrapper offset 103 */
	legacy_set(&inner, 1, 0);
	assert_int_equal(kp_compress(KP_COMPRESSION_GZIP, inner.data, inner.len, &gz, &err), 0);
	put_msg(&set, 99, 1, 0, 99, "p", 1, "plain", 5);
	put_msg(&set, 103, 1, KP_COMPRESSION_GZIP, 500, NULL, -1, gz.data, (int32_t)gz.len);
	it = kp_record_iter_new(set.data, set.len, 101);
	for (o = 101; o <= 103; o++) {
		assert_int_equal(kp_record_iter_next(it, &rec, &err), 1);
		assert_int_equal(rec.offset, o);
		assert_int_equal(rec.timestamp, o);
	}
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	assert_int_equal(kp_record_iter_next_offset(it), 104);
	kp_record_iter_free(it);

	/* magic 0 wrapper: inner offsets absolute */
	kp_buf_reset(&inner);
	kp_buf_reset(&gz);
	kp_buf_reset(&set);
	legacy_set(&inner, 0, 50);
	assert_int_equal(kp_compress(KP_COMPRESSION_GZIP, inner.data, inner.len, &gz, &err), 0);
	put_msg(&set, 53, 0, KP_COMPRESSION_GZIP, 0, NULL, -1, gz.data, (int32_t)gz.len);
	it = kp_record_iter_new(set.data, set.len, 0);
	for (o = 50; o <= 53; o++) {
		assert_int_equal(kp_record_iter_next(it, &rec, &err), 1);
		assert_int_equal(rec.offset, o);
		assert_int_equal(rec.timestamp, -1);
	}
	assert_int_equal(kp_record_iter_next(it, &rec, &err), 0);
	kp_record_iter_free(it);

	/* compressed legacy -> batch -> legacy gives the uncompressed set */
	assert_int_equal(kp_legacy_to_batch(set.data, set.len, &batch, &err), 0);
	assert_int_equal(kp_batch_to_legacy(batch.data, batch.len, 0, &back, &err), 0);
	legacy_set(&want, 0, 0);
	assert_int_equal(back.len, want.len);
	assert_memory_equal(back.data, want.data, want.len);
	assert_int_equal(kp_batch_to_legacy(batch.data, batch.len, 2, &back, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);

	kp_buf_free(&inner);
	kp_buf_free(&gz);
	kp_buf_free(&set);
	kp_buf_free(&batch);
	kp_buf_free(&back);
	kp_buf_free(&want);
}

static void test_batch_to_legacy_offsets(void **state)
{
	kp_buf out, leg;
	kp_error err;
	struct kp_record rec;
	kp_record_iter *it;
	size_t b2;
	int n = 0;

	(void)state;
	init_sample();
	kp_buf_init(&out);
	kp_buf_init(&leg);
	build(KP_COMPRESSION_ZSTD, sample, 3, -1, &out);
	kp_batch_set_base_offset(out.data, 200);
	b2 = out.len;
	build(KP_COMPRESSION_NONE, sample, 1, -1, &out);
	kp_batch_set_base_offset(out.data + b2, 203);
	kp_store_u16(out.data + b2 + 21, KP_BATCH_CONTROL);
	reseal(out.data + b2);
	assert_int_equal(kp_batch_to_legacy(out.data, out.len, 1, &leg, &err), 0);
	it = kp_record_iter_new(leg.data, leg.len, 0);
	while (kp_record_iter_next(it, &rec, &err) == 1) {
		assert_int_equal(rec.offset, 200 + n);
		assert_int_equal(rec.timestamp, sample[n].timestamp);
		assert_int_equal(rec.header_count, 0);
		assert_bytes(rec.key, rec.key_len, sample[n].key, sample[n].key_len);
		assert_bytes(rec.value, rec.value_len, sample[n].value, sample[n].value_len);
		n++;
	}
	assert_int_equal(n, 3);
	kp_record_iter_free(it);
	kp_buf_free(&out);
	kp_buf_free(&leg);
}

/* ---- murmur2 ---- */

static void test_murmur2(void **state)
{
	const char *s;

	(void)state;
	assert_int_equal(kp_murmur2("21", 2), -973932308);
	assert_int_equal(kp_murmur2("foobar", 6), -790332482);
	s = "a-little-bit-long-string";
	assert_int_equal(kp_murmur2(s, strlen(s)), -985981536);
	s = "a-little-bit-longer-string";
	assert_int_equal(kp_murmur2(s, strlen(s)), -1486304829);
	s = "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8";
	assert_int_equal(kp_murmur2(s, strlen(s)), -58897971);
	assert_int_equal(kp_murmur2("abc", 3), 479470107);
	assert_int_equal(kp_partition_for_key("21", 2, 1000), (-973932308 & 0x7fffffff) % 1000);
	assert_int_equal(kp_partition_for_key("abc", 3, 7), 479470107 % 7);
}

/* ---- codecs ---- */

static void test_codec_bomb(void **state)
{
	size_t big = (size_t)1 << 20;
	uint8_t *zeros = calloc(1, big);
	kp_buf c, d;
	kp_error err;
	int codec;

	(void)state;
	kp_buf_init(&c);
	kp_buf_init(&d);
	for (codec = KP_COMPRESSION_NONE; codec <= KP_COMPRESSION_ZSTD; codec++) {
		kp_buf_reset(&c);
		kp_buf_reset(&d);
		assert_int_equal(kp_compress(codec, zeros, big, &c, &err), 0);
		assert_int_equal(kp_decompress(codec, c.data, c.len, 1000, &d, &err), -1);
		assert_int_equal(err.code, KP_ERANGE);
		assert_int_equal(d.len, 0);
		assert_int_equal(kp_decompress(codec, c.data, c.len, big, &d, &err), 0);
		assert_int_equal(d.len, big);
		assert_memory_equal(d.data, zeros, big);
		if (codec == KP_COMPRESSION_NONE)
			continue;
		/* truncated and garbled input */
		kp_buf_reset(&d);
		assert_int_equal(kp_decompress(codec, c.data, c.len / 2, big, &d, &err), -1);
		assert_int_equal(err.code, KP_ECORRUPT);
		assert_int_equal(kp_decompress(codec, (const uint8_t *)"garbage!garbage!garbage", 23,
					       big, &d, &err), -1);
		assert_int_equal(err.code, KP_ECORRUPT);
		assert_int_equal(d.len, 0);
	}
	assert_int_equal(kp_decompress(7, c.data, c.len, big, &d, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	kp_buf_free(&c);
	kp_buf_free(&d);
	free(zeros);
}

static void test_snappy_raw_and_empty(void **state)
{
	const char *msg = "hello hello hello hello snappy";
	char raw[128];
	size_t rawlen = sizeof raw;
	kp_buf c, d;
	kp_error err;

	(void)state;
	kp_buf_init(&c);
	kp_buf_init(&d);
	assert_int_equal(snappy_compress(msg, strlen(msg), raw, &rawlen), SNAPPY_OK);
	assert_int_equal(kp_decompress(KP_COMPRESSION_SNAPPY, (const uint8_t *)raw, rawlen,
				       KP_DECOMPRESS_LIMIT, &d, &err), 0);
	assert_int_equal(d.len, strlen(msg));
	assert_memory_equal(d.data, msg, d.len);
	/* xerial header as snappy-java writes it */
	assert_int_equal(kp_compress(KP_COMPRESSION_SNAPPY, (const uint8_t *)msg, strlen(msg), &c, &err), 0);
	assert_memory_equal(c.data, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
	kp_buf_reset(&c);
	kp_buf_reset(&d);
	assert_int_equal(kp_compress(KP_COMPRESSION_SNAPPY, NULL, 0, &c, &err), 0);
	assert_int_equal(kp_decompress(KP_COMPRESSION_SNAPPY, c.data, c.len, 10, &d, &err), 0);
	assert_int_equal(d.len, 0);
	kp_buf_free(&c);
	kp_buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_roundtrip_none),
		cmocka_unit_test(test_roundtrip_gzip),
		cmocka_unit_test(test_roundtrip_snappy),
		cmocka_unit_test(test_roundtrip_lz4),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_corrupt_and_truncated),
		cmocka_unit_test(test_byte_exact),
		cmocka_unit_test(test_iter_skips),
		cmocka_unit_test(test_iter_log_append_time),
		cmocka_unit_test(test_legacy_v0),
		cmocka_unit_test(test_legacy_v1),
		cmocka_unit_test(test_legacy_compressed),
		cmocka_unit_test(test_batch_to_legacy_offsets),
		cmocka_unit_test(test_murmur2),
		cmocka_unit_test(test_codec_bomb),
		cmocka_unit_test(test_snappy_raw_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
