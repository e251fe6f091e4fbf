/*
 * builder.c - building v2 record batches on the producer side (KIP-98;
 * protocol guide, "Record Batch" and "Record").
 *
 * Records are encoded as they are added into an uncompressed buffer; the
 * finish step writes the 61-byte header (batch.h), the records (compressed
 * as configured), then fills batchLength and the CRC-32C. One record:
 *
 *   +--------+------+---------+---------+------+-----+------+-------+-------+---------+
 *   | length | attr | tsDelta | offDelta| kLen | key | vLen | value | hdrCnt| headers |
 *   | varint | int8 | varlong | varint  |varint|     |varint|       | varint|   ...   |
 *   +--------+------+---------+---------+------+-----+------+-------+-------+---------+
 *   header: hKeyLen varint, hKey, hValLen varint, hVal   (lengths -1 = null)
 *
 * length counts the bytes after itself. timestampDelta is relative to the
 * first record's timestamp (the batch's baseTimestamp), offsetDelta runs
 * 0..n-1, record attributes are 0.
 */
#include "record/records.h"

#include <stdlib.h>

#include "record/compress.h"

struct kp_batch_builder {
	int compression;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t count;
	int64_t base_timestamp;
	int64_t max_timestamp;
	kp_buf records; /* encoded, uncompressed records of the open batch */
	kp_buf scratch; /* one record body while it is encoded */
};

kp_batch_builder *kp_batch_builder_new(int compression, int64_t producer_id,
				       int16_t producer_epoch, kp_error *err)
{
	kp_batch_builder *b;

	if (compression < KP_COMPRESSION_NONE || compression > KP_COMPRESSION_ZSTD) {
		kp_error_set(err, KP_EINVAL, "unknown compression codec %d", compression);
		return NULL;
	}
	b = calloc(1, sizeof *b);
	if (!b) {
		kp_error_set(err, KP_ENOMEM, "out of memory for batch builder");
		return NULL;
	}
	b->compression = compression;
	b->producer_id = producer_id;
	b->producer_epoch = producer_epoch;
	kp_buf_init(&b->records);
	kp_buf_init(&b->scratch);
	return b;
}

void kp_batch_builder_free(kp_batch_builder *b)
{
	if (!b)
		return;
	kp_buf_free(&b->records);
	kp_buf_free(&b->scratch);
	free(b);
}

/* put_bytes - a varint length (-1 for null) and the bytes. */
static void put_bytes(kp_buf *o, const void *p, int32_t len)
{
	if (len < 0) {
		kp_buf_put_varint(o, -1);
		return;
	}
	kp_buf_put_varint(o, len);
	kp_buf_append(o, p, (size_t)len);
}

/* check_record - pointers present wherever a length says there are bytes. */
static int check_record(const struct kp_record *rec, kp_error *err)
{
	int32_t i;

	if ((rec->key_len > 0 && !rec->key) || (rec->value_len > 0 && !rec->value) ||
	    rec->header_count < 0 || (rec->header_count > 0 && !rec->headers))
		return kp_error_set(err, KP_EINVAL, "record with length but no data");
	for (i = 0; i < rec->header_count; i++) {
		const struct kp_record_header *h = &rec->headers[i];
		if (h->key_len < 0 || (h->key_len > 0 && !h->key) ||
		    (h->value_len > 0 && !h->value))
			return kp_error_set(err, KP_EINVAL, "record header %d malformed", (int)i);
	}
	return 0;
}

/* encode_body - the record after its length field into `o`. */
static void encode_body(kp_buf *o, const struct kp_record *rec, int64_t ts_delta, int32_t off_delta)
{
	int32_t i;

	kp_buf_put_i8(o, 0);
	kp_buf_put_varlong(o, ts_delta);
	kp_buf_put_varint(o, off_delta);
	put_bytes(o, rec->key, rec->key_len);
	put_bytes(o, rec->value, rec->value_len);
	kp_buf_put_varint(o, rec->header_count);
	for (i = 0; i < rec->header_count; i++) {
		put_bytes(o, rec->headers[i].key, rec->headers[i].key_len);
		put_bytes(o, rec->headers[i].value, rec->headers[i].value_len);
	}
}

int kp_batch_builder_add(kp_batch_builder *b, const struct kp_record *rec, kp_error *err)
{
	if (check_record(rec, err) < 0)
		return -1;
	if (b->count == INT32_MAX)
		return kp_error_set(err, KP_ERANGE, "too many records in one batch");
	if (b->count == 0) {
		b->base_timestamp = rec->timestamp;
		b->max_timestamp = rec->timestamp;
	}
	kp_buf_reset(&b->scratch);
	/* wrapping subtraction, as Java's long arithmetic */
	encode_body(&b->scratch, rec, (int64_t)((uint64_t)rec->timestamp - (uint64_t)b->base_timestamp),
		    b->count);
	if (b->scratch.oom || b->scratch.len > INT32_MAX)
		return kp_error_set(err, KP_ENOMEM, "out of memory encoding record");
	kp_buf_put_varint(&b->records, (int32_t)b->scratch.len);
	kp_buf_append(&b->records, b->scratch.data, b->scratch.len);
	if (b->records.oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory adding record");
	if (rec->timestamp > b->max_timestamp)
		b->max_timestamp = rec->timestamp;
	b->count++;
	return 0;
}

int32_t kp_batch_builder_count(const kp_batch_builder *b)
{
	return b->count;
}

size_t kp_batch_builder_size(const kp_batch_builder *b)
{
	return KP_BATCH_HEADER_SIZE + b->records.len;
}

/* put_header - the 61-byte header with batchLength and crc left 0. */
static void put_header(kp_batch_builder *b, int32_t base_sequence, kp_buf *out)
{
	kp_buf_put_i64(out, 0);                 /* baseOffset */
	kp_buf_put_i32(out, 0);                 /* batchLength, set later */
	kp_buf_put_i32(out, -1);                /* partitionLeaderEpoch */
	kp_buf_put_i8(out, 2);                  /* magic */
	kp_buf_put_u32(out, 0);                 /* crc, set later */
	kp_buf_put_i16(out, (int16_t)b->compression); /* CreateTime, not transactional */
	kp_buf_put_i32(out, b->count - 1);      /* lastOffsetDelta */
	kp_buf_put_i64(out, b->base_timestamp);
	kp_buf_put_i64(out, b->max_timestamp);
	kp_buf_put_i64(out, b->producer_id);
	kp_buf_put_i16(out, b->producer_epoch);
	kp_buf_put_i32(out, base_sequence);
	kp_buf_put_i32(out, b->count);
}

int kp_batch_builder_finish(kp_batch_builder *b, int32_t base_sequence, kp_buf *out, kp_error *err)
{
	size_t start = out->len, total;
	uint8_t *p;

	if (b->count == 0)
		return kp_error_set(err, KP_EINVAL, "empty record batch");
	put_header(b, base_sequence, out);
	if (out->oom) {
		kp_error_set(err, KP_ENOMEM, "out of memory writing batch header");
		goto fail;
	}
	if (kp_compress(b->compression, b->records.data, b->records.len, out, err) < 0)
		goto fail;
	total = out->len - start;
	if (total - KP_BATCH_LOG_OVERHEAD > INT32_MAX) {
		kp_error_set(err, KP_ERANGE, "record batch of %zu bytes too large", total);
		goto fail;
	}
	p = out->data + start;
	kp_store_u32(p + 8, (uint32_t)(total - KP_BATCH_LOG_OVERHEAD));
	kp_store_u32(p + KP_BATCH_CRC_OFFSET,
		     kp_crc32c(0, p + KP_BATCH_ATTRIBUTES_OFFSET, total - KP_BATCH_ATTRIBUTES_OFFSET));
	kp_buf_reset(&b->records);
	b->count = 0;
	return 0;
fail:
	if (out->len > start)
		out->len = start;
	return -1;
}
