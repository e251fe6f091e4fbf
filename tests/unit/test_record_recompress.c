/*
 * test_record_recompress.c - unit tests for lib/record/recompress.c, a
 * broker's compression.type: every codec rebuilt into every other with the
 * records, producer fields and flags kept and a valid CRC; what is left
 * alone (producer, same codec, control batches); Kafka's record checks
 * (count against the offset range, records left over, malformed records,
 * undecodable payloads); the KIP-390 levels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "record/batch.h"
#include "record/compress.h"
#include "record/records.h"
#include "record/recompress.h"

#define NRECS 40

/* reseal - recompute the CRC of the v2 batch at `p` after a test edit. */
static void reseal(uint8_t *p)
{
	size_t total = KP_BATCH_LOG_OVERHEAD + kp_load_u32(p + 8);

	kp_store_u32(p + KP_BATCH_CRC_OFFSET,
		     kp_crc32c(0, p + KP_BATCH_ATTRIBUTES_OFFSET, total - KP_BATCH_ATTRIBUTES_OFFSET));
}

static const struct kp_record_header hdrs[] = {
	{ "trace", 5, (const uint8_t *)"abc", 3 },
	{ "empty", 5, NULL, -1 },
};

/* fill - record i: key k<i> (null when i % 7 == 3), a compressible value or null, headers. */
static void fill(struct kp_record *r, int i, char *key, char *value)
{
	memset(r, 0, sizeof(*r));
	snprintf(key, 16, "k%d", i);
	memset(value, 'a' + i % 26, 200);
	snprintf(value, 200, "value %d ", i);
	value[strlen(value)] = 'z';
	r->timestamp = 1700000000000LL + (i * 37) % 11 * 1000; /* not monotonic */
	r->key = i % 7 == 3 ? NULL : (const uint8_t *)key;
	r->key_len = i % 7 == 3 ? -1 : (int32_t)strlen(key);
	r->value = i % 9 == 5 ? NULL : (const uint8_t *)value;
	r->value_len = i % 9 == 5 ? -1 : 200;
	r->headers = i % 2 ? hdrs : NULL;
	r->header_count = i % 2 ? 2 : 0;
}

/*
 * build - one batch of NRECS records with `codec` into `out`: producer 4242
 * epoch 7 sequence 100, transactional, base offset 55, leader epoch 9.
 */
static void build(int codec, kp_buf *out)
{
	kp_error err;
	kp_batch_builder *b = kp_batch_builder_new(codec, 4242, 7, &err);
	char key[16], value[200];
	struct kp_record r;

	assert_non_null(b);
	for (int i = 0; i < NRECS; i++) {
		fill(&r, i, key, value);
		assert_int_equal(kp_batch_builder_add(b, &r, &err), 0);
	}
	assert_int_equal(kp_batch_builder_finish(b, 100, out, &err), 0);
	kp_batch_builder_free(b);
	kp_batch_set_base_offset(out->data, 55);
	kp_batch_set_partition_leader_epoch(out->data, 9);
	kp_store_u16(out->data + KP_BATCH_ATTRIBUTES_OFFSET,
		     kp_load_u16(out->data + KP_BATCH_ATTRIBUTES_OFFSET) | KP_BATCH_TRANSACTIONAL);
	reseal(out->data);
}

/* check_records - the batch(es) in data[0..len) hold exactly build()'s records, offsets from 55. */
static void check_records(const uint8_t *data, size_t len)
{
	kp_record_iter *it = kp_record_iter_new(data, len, 0);
	char key[16], value[200];
	struct kp_record want, got;
	kp_error err;
	int n = 0;

	assert_non_null(it);
	while (kp_record_iter_next(it, &got, &err) == 1) {
		fill(&want, n, key, value);
		assert_int_equal(got.offset, 55 + n);
		assert_int_equal(got.timestamp, want.timestamp);
		assert_int_equal(got.key_len, want.key_len);
		if (want.key_len > 0)
			assert_memory_equal(got.key, want.key, (size_t)want.key_len);
		assert_int_equal(got.value_len, want.value_len);
		if (want.value_len > 0)
			assert_memory_equal(got.value, want.value, (size_t)want.value_len);
		assert_int_equal(got.header_count, want.header_count);
		for (int h = 0; h < want.header_count; h++) {
			assert_int_equal(got.headers[h].key_len, hdrs[h].key_len);
			assert_memory_equal(got.headers[h].key, hdrs[h].key, (size_t)hdrs[h].key_len);
			assert_int_equal(got.headers[h].value_len, hdrs[h].value_len);
			if (hdrs[h].value_len > 0)
				assert_memory_equal(got.headers[h].value, hdrs[h].value,
						    (size_t)hdrs[h].value_len);
		}
		n++;
	}
	assert_int_equal(n, NRECS);
	kp_record_iter_free(it);
}

static void test_type_names(void **state)
{
	int codec = 99;

	(void)state;
	assert_true(kp_compression_type_parse("producer", &codec));
	assert_int_equal(codec, KP_COMPRESSION_PRODUCER);
	assert_true(kp_compression_type_parse("uncompressed", &codec));
	assert_int_equal(codec, KP_COMPRESSION_NONE);
	assert_true(kp_compression_type_parse(" zstd ", &codec));
	assert_int_equal(codec, KP_COMPRESSION_ZSTD);
	assert_true(kp_compression_type_parse("snappy", &codec));
	assert_int_equal(codec, KP_COMPRESSION_SNAPPY);
	codec = 99;
	assert_false(kp_compression_type_parse("none", &codec)); /* the producer's name, not the topic's */
	assert_false(kp_compression_type_parse("ZSTD", &codec));
	assert_false(kp_compression_type_parse("", &codec));
	assert_false(kp_compression_type_parse(NULL, &codec));
	assert_int_equal(codec, 99);
}

static void test_what_needs_rebuilding(void **state)
{
	(void)state;
	assert_false(kp_batch_needs_recompress(KP_COMPRESSION_GZIP, KP_COMPRESSION_PRODUCER));
	assert_false(kp_batch_needs_recompress(KP_COMPRESSION_ZSTD, KP_COMPRESSION_ZSTD));
	assert_false(kp_batch_needs_recompress(KP_BATCH_TRANSACTIONAL | KP_COMPRESSION_LZ4,
					       KP_COMPRESSION_LZ4));
	assert_true(kp_batch_needs_recompress(KP_COMPRESSION_NONE, KP_COMPRESSION_ZSTD));
	assert_true(kp_batch_needs_recompress(KP_BATCH_TRANSACTIONAL, KP_COMPRESSION_GZIP));
	assert_true(kp_batch_needs_recompress(KP_COMPRESSION_SNAPPY, KP_COMPRESSION_NONE));
	assert_false(kp_batch_needs_recompress(KP_BATCH_CONTROL, KP_COMPRESSION_ZSTD));
}

/* Every codec into every other: records, producer fields, flags kept; CRC valid. */
static void test_every_codec_pair(void **state)
{
	(void)state;
	for (int from = KP_COMPRESSION_NONE; from <= KP_COMPRESSION_ZSTD; from++)
		for (int to = KP_COMPRESSION_NONE; to <= KP_COMPRESSION_ZSTD; to++) {
			struct kp_batch_header a, h;
			kp_buf in, out;
			kp_error err;
			long n;

			kp_buf_init(&in);
			kp_buf_init(&out);
			build(from, &in);
			assert_int_equal(kp_batch_validate(in.data, in.len, &a, &err), (long)in.len);
			kp_buf_append(&out, "junk", 4); /* appended after what is there */
			assert_int_equal(kp_batch_recompress(in.data, in.len, to,
							     kp_compression_level_default(to), &out,
							     &err), 0);
			n = kp_batch_validate(out.data + 4, out.len - 4, &h, &err);
			assert_int_equal(n, (long)(out.len - 4));
			assert_int_equal(h.attributes & KP_BATCH_COMPRESSION_MASK, to);
			assert_true(h.attributes & KP_BATCH_TRANSACTIONAL);
			assert_false(h.attributes & (KP_BATCH_CONTROL | KP_BATCH_TIMESTAMP_TYPE));
			assert_int_equal(h.base_offset, 55);
			assert_int_equal(h.partition_leader_epoch, 9);
			assert_int_equal(h.producer_id, 4242);
			assert_int_equal(h.producer_epoch, 7);
			assert_int_equal(h.base_sequence, 100);
			assert_int_equal(h.record_count, NRECS);
			assert_int_equal(h.last_offset_delta, NRECS - 1);
			assert_int_equal(h.base_timestamp, a.base_timestamp);
			assert_int_equal(h.max_timestamp, a.max_timestamp);
			check_records(out.data + 4, out.len - 4);
			if (from == KP_COMPRESSION_NONE && to == KP_COMPRESSION_NONE) {
				/* a well-formed batch comes out byte for byte as it went in */
				assert_int_equal(out.len - 4, in.len);
				assert_memory_equal(out.data + 4, in.data, in.len);
			}
			kp_buf_free(&in);
			kp_buf_free(&out);
		}
}

/* maxTimestamp is the records' largest: a producer's wrong one is not kept. */
static void test_timestamps_recomputed(void **state)
{
	struct kp_batch_header a, h;
	kp_buf in, out;
	kp_error err;

	(void)state;
	kp_buf_init(&in);
	kp_buf_init(&out);
	build(KP_COMPRESSION_NONE, &in);
	kp_batch_validate(in.data, in.len, &a, &err);
	kp_store_u64(in.data + 35, 5); /* maxTimestamp */
	reseal(in.data);
	assert_int_equal(kp_batch_recompress(in.data, in.len, KP_COMPRESSION_LZ4, 1, &out, &err), 0);
	assert_true(kp_batch_validate(out.data, out.len, &h, &err) > 0);
	assert_int_equal(h.max_timestamp, a.max_timestamp);
	assert_int_equal(h.base_timestamp, a.base_timestamp);
	check_records(out.data, out.len);
	kp_buf_free(&in);
	kp_buf_free(&out);
}

/* kp_records_recompress: nothing to do leaves `out` alone; a mixed set is written out whole. */
static void test_records_set(void **state)
{
	kp_buf in, out, one;
	kp_error err;
	size_t zlen, clen;
	struct kp_batch_header h;

	(void)state;
	kp_buf_init(&in);
	kp_buf_init(&out);
	kp_buf_init(&one);
	build(KP_COMPRESSION_ZSTD, &in);
	zlen = in.len;
	assert_int_equal(kp_records_recompress(in.data, in.len, KP_COMPRESSION_PRODUCER, 0, &out,
					       &err), 0);
	assert_int_equal(kp_records_recompress(in.data, in.len, KP_COMPRESSION_ZSTD, 3, &out, &err),
			 0);
	build(KP_COMPRESSION_NONE, &one); /* then an uncompressed control batch: kept as it is */
	kp_batch_set_control(one.data, one.len);
	clen = one.len;
	kp_buf_append(&in, one.data, one.len);
	assert_int_equal(kp_records_recompress(in.data, in.len, KP_COMPRESSION_ZSTD, 3, &out, &err),
			 0);
	assert_int_equal(out.len, 0);
	kp_buf_reset(&one);
	build(KP_COMPRESSION_SNAPPY, &one); /* and a snappy one: now every batch is written out */
	kp_buf_append(&in, one.data, one.len);
	assert_int_equal(kp_records_recompress(in.data, in.len, KP_COMPRESSION_ZSTD, 3, &out, &err),
			 1);
	assert_true(out.len > zlen + clen);
	assert_memory_equal(out.data, in.data, zlen + clen);
	assert_int_equal(kp_batch_validate(out.data + zlen + clen, out.len - zlen - clen, &h, &err),
			 (long)(out.len - zlen - clen));
	assert_int_equal(h.attributes & KP_BATCH_COMPRESSION_MASK, KP_COMPRESSION_ZSTD);
	check_records(out.data + zlen + clen, out.len - zlen - clen);
	/* a corrupt batch is refused, never resealed, and `out` is restored */
	in.data[in.len - 1] ^= 1;
	out.len = 0;
	assert_int_equal(kp_records_recompress(in.data, in.len, KP_COMPRESSION_ZSTD, 3, &out, &err),
			 -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	assert_int_equal(out.len, 0);
	kp_buf_free(&in);
	kp_buf_free(&out);
	kp_buf_free(&one);
}

/* rebuild_error - the error kp_batch_recompress gives the (resealed) batch in `b`. */
static int rebuild_error(kp_buf *b, int to)
{
	kp_buf out;
	kp_error err;
	int rc;

	reseal(b->data);
	kp_buf_init(&out);
	rc = kp_batch_recompress(b->data, b->len, to, kp_compression_level_default(to), &out, &err);
	assert_int_equal(out.len, 0);
	kp_buf_free(&out);
	return rc < 0 ? err.code : 0;
}

/* Kafka's checks on the records it rebuilds: INVALID_RECORD (KP_EPROTO) or CORRUPT_MESSAGE. */
static void test_malformed_refused(void **state)
{
	kp_buf b;

	(void)state;
	kp_buf_init(&b);
	build(KP_COMPRESSION_NONE, &b); /* lastOffsetDelta does not match recordCount */
	kp_store_u32(b.data + 23, NRECS);
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_GZIP), KP_EPROTO);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_NONE, &b); /* more records declared than present */
	kp_store_u32(b.data + 23, NRECS);
	kp_store_u32(b.data + 57, NRECS + 1);
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_GZIP), KP_EPROTO);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_NONE, &b); /* fewer: records left over */
	kp_store_u32(b.data + 23, NRECS - 2);
	kp_store_u32(b.data + 57, NRECS - 1);
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_GZIP), KP_EPROTO);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_NONE, &b); /* no records at all */
	kp_store_u32(b.data + 23, (uint32_t)-1);
	kp_store_u32(b.data + 57, 0);
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_GZIP), KP_EPROTO);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_NONE, &b); /* a record's length runs past the batch */
	b.data[KP_BATCH_HEADER_SIZE] = 0x7e;
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_ZSTD), KP_EPROTO);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_NONE, &b); /* a record body longer than its fields: bytes left in it */
	b.data[KP_BATCH_HEADER_SIZE] += 2; /* length varint, zigzag: +1 */
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_ZSTD), KP_EPROTO);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_ZSTD, &b); /* a payload that is not zstd */
	memset(b.data + KP_BATCH_HEADER_SIZE, 0x55, 8);
	assert_int_equal(rebuild_error(&b, KP_COMPRESSION_NONE), KP_ECORRUPT);
	kp_buf_reset(&b);
	build(KP_COMPRESSION_NONE, &b); /* an unknown target codec */
	assert_int_equal(rebuild_error(&b, 5), KP_EINVAL);
	kp_buf_free(&b);
}

/* KIP-390 levels: the ranges, and every level's output decodes. */
static void test_levels(void **state)
{
	static const int gzip_ok[] = { -1, 1, 5, 9 }, lz4_ok[] = { 1, 2, 9, 17 },
			 zstd_ok[] = { -131072, -5, 1, 3, 22 };
	kp_buf in;

	(void)state;
	assert_false(kp_compression_level_valid(KP_COMPRESSION_GZIP, 0));
	assert_false(kp_compression_level_valid(KP_COMPRESSION_GZIP, 10));
	assert_false(kp_compression_level_valid(KP_COMPRESSION_GZIP, -2));
	assert_false(kp_compression_level_valid(KP_COMPRESSION_LZ4, 0));
	assert_false(kp_compression_level_valid(KP_COMPRESSION_LZ4, 18));
	assert_false(kp_compression_level_valid(KP_COMPRESSION_ZSTD, 23));
	assert_false(kp_compression_level_valid(KP_COMPRESSION_ZSTD, -131073));
	assert_true(kp_compression_level_valid(KP_COMPRESSION_SNAPPY, 12345));
	assert_int_equal(kp_compression_level_default(KP_COMPRESSION_GZIP), -1);
	assert_int_equal(kp_compression_level_default(KP_COMPRESSION_LZ4), 9);
	assert_int_equal(kp_compression_level_default(KP_COMPRESSION_ZSTD), 3);
	kp_buf_init(&in);
	build(KP_COMPRESSION_NONE, &in);
	for (int c = KP_COMPRESSION_GZIP; c <= KP_COMPRESSION_ZSTD; c++) {
		const int *lv = c == KP_COMPRESSION_GZIP ? gzip_ok : c == KP_COMPRESSION_LZ4 ? lz4_ok
			      : c == KP_COMPRESSION_ZSTD ? zstd_ok : (const int[]){ 0 };
		size_t nl = c == KP_COMPRESSION_GZIP ? 4 : c == KP_COMPRESSION_LZ4 ? 4
			  : c == KP_COMPRESSION_ZSTD ? 5 : 1;

		for (size_t i = 0; i < nl; i++) {
			kp_buf out;
			kp_error err;

			kp_buf_init(&out);
			assert_int_equal(kp_batch_recompress(in.data, in.len, c, lv[i], &out, &err), 0);
			if (lv[i] >= -1) /* zstd's fastest negative levels may not shrink it */
				assert_true(out.len < in.len);
			check_records(out.data, out.len);
			kp_buf_free(&out);
		}
	}
	{
		kp_buf out;
		kp_error err;

		kp_buf_init(&out);
		assert_int_equal(kp_batch_recompress(in.data, in.len, KP_COMPRESSION_LZ4, 0, &out, &err),
				 -1);
		assert_int_equal(err.code, KP_EINVAL);
		assert_int_equal(kp_compress_level(KP_COMPRESSION_GZIP, 10, in.data, in.len, &out, &err),
				 -1);
		assert_int_equal(out.len, 0);
		kp_buf_free(&out);
	}
	kp_buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_what_needs_rebuilding),
		cmocka_unit_test(test_every_codec_pair),
		cmocka_unit_test(test_timestamps_recomputed),
		cmocka_unit_test(test_records_set),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
