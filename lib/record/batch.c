/*
 * batch.c - RecordBatch v2 headers: CRC-32C, parsing, validation and the
 * in-place rewrites of baseOffset and partitionLeaderEpoch (KIP-98;
 * protocol guide, "Record Batch"). See batch.h for the header layout.
 *
 * The CRC-32C covers the bytes from attributes (offset 21) to the end of
 * the batch, so the broker can assign offsets and leader epochs without
 * recomputing it:
 *
 *   | baseOffset | batchLength | partitionLeaderEpoch | magic | crc | attributes ... records |
 *   |<------------- not covered by the CRC ---------------------->|<--- CRC-32C covers --->|
 *
 * The CRC itself comes from Intel ISA-L (crc32_iscsi), which takes and
 * returns the raw register without the initial and final inversion; the
 * inversions are done here so that kp_crc32c chains like zlib's crc32().
 */
#include "record/batch.h"

#include <isa-l/crc.h>
#include <limits.h>

#include "record/records.h"
#include "util/buf.h"

uint32_t kp_crc32c(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *q = p;
	unsigned int reg = ~crc;
	size_t chunk;

	while (n > 0) {
		chunk = n > (size_t)INT_MAX ? (size_t)INT_MAX : n;
		reg = crc32_iscsi((unsigned char *)q, (int)chunk, reg);
		q += chunk;
		n -= chunk;
	}
	return ~reg;
}

int kp_batch_header_parse(const uint8_t *p, size_t len, struct kp_batch_header *h, kp_error *err)
{
	if (len < KP_BATCH_CRC_OFFSET)
		return kp_error_set(err, KP_EPROTO, "record batch too short: %zu bytes", len);
	h->base_offset = (int64_t)kp_load_u64(p);
	h->batch_length = (int32_t)kp_load_u32(p + 8);
	h->partition_leader_epoch = (int32_t)kp_load_u32(p + 12);
	h->magic = (int8_t)p[16];
	if (h->magic != 2)
		return kp_error_set(err, KP_EPROTO, "unsupported record batch magic %d", h->magic);
	if (len < KP_BATCH_HEADER_SIZE)
		return kp_error_set(err, KP_EPROTO, "record batch header too short: %zu bytes", len);
	h->crc = kp_load_u32(p + 17);
	h->attributes = (int16_t)kp_load_u16(p + 21);
	h->last_offset_delta = (int32_t)kp_load_u32(p + 23);
	h->base_timestamp = (int64_t)kp_load_u64(p + 27);
	h->max_timestamp = (int64_t)kp_load_u64(p + 35);
	h->producer_id = (int64_t)kp_load_u64(p + 43);
	h->producer_epoch = (int16_t)kp_load_u16(p + 51);
	h->base_sequence = (int32_t)kp_load_u32(p + 53);
	h->record_count = (int32_t)kp_load_u32(p + 57);
	return 0;
}

/* check_sizes - batchLength against the header size and the bytes present. */
static int check_sizes(const struct kp_batch_header *h, size_t len, kp_error *err)
{
	if (h->batch_length < KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD)
		return kp_error_set(err, KP_EPROTO, "record batch length %d below header size",
				    h->batch_length);
	if ((size_t)h->batch_length > len - KP_BATCH_LOG_OVERHEAD)
		return kp_error_set(err, KP_EPROTO, "record batch truncated: length %d, %zu bytes present",
				    h->batch_length, len - KP_BATCH_LOG_OVERHEAD);
	if (h->last_offset_delta < 0 || h->record_count < 0)
		return kp_error_set(err, KP_EPROTO, "record batch with negative lastOffsetDelta or recordCount");
	return 0;
}

long kp_batch_validate(const uint8_t *p, size_t len, struct kp_batch_header *h, kp_error *err)
{
	struct kp_batch_header local;
	size_t total;
	uint32_t crc;

	if (!h)
		h = &local;
	if (kp_batch_header_parse(p, len, h, err) < 0 || check_sizes(h, len, err) < 0)
		return -1;
	total = KP_BATCH_LOG_OVERHEAD + (size_t)h->batch_length;
	crc = kp_crc32c(0, p + KP_BATCH_ATTRIBUTES_OFFSET, total - KP_BATCH_ATTRIBUTES_OFFSET);
	if (crc != h->crc)
		return kp_error_set(err, KP_ECORRUPT, "record batch crc mismatch: stored %08x, computed %08x",
				    h->crc, crc);
	return (long)total;
}

void kp_batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
	kp_store_u64(p, (uint64_t)base_offset);
}

void kp_batch_set_partition_leader_epoch(uint8_t *p, int32_t epoch)
{
	kp_store_u32(p + 12, (uint32_t)epoch);
}

void kp_batch_set_control(uint8_t *p, size_t len)
{
	uint16_t attrs = kp_load_u16(p + KP_BATCH_ATTRIBUTES_OFFSET) | KP_BATCH_CONTROL;

	kp_store_u16(p + KP_BATCH_ATTRIBUTES_OFFSET, attrs);
	kp_store_u32(p + KP_BATCH_CRC_OFFSET,
		     kp_crc32c(0, p + KP_BATCH_ATTRIBUTES_OFFSET, len - KP_BATCH_ATTRIBUTES_OFFSET));
}

void kp_batch_header_put(kp_buf *out, const struct kp_batch_header *h)
{
	kp_buf_put_i64(out, h->base_offset);
	kp_buf_put_i32(out, 0); /* batchLength: kp_batch_seal */
	kp_buf_put_i32(out, h->partition_leader_epoch);
	kp_buf_put_i8(out, 2);
	kp_buf_put_u32(out, 0); /* crc: kp_batch_seal */
	kp_buf_put_i16(out, h->attributes);
	kp_buf_put_i32(out, h->last_offset_delta);
	kp_buf_put_i64(out, h->base_timestamp);
	kp_buf_put_i64(out, h->max_timestamp);
	kp_buf_put_i64(out, h->producer_id);
	kp_buf_put_i16(out, h->producer_epoch);
	kp_buf_put_i32(out, h->base_sequence);
	kp_buf_put_i32(out, h->record_count);
}

int kp_batch_seal(kp_buf *out, size_t start, kp_error *err)
{
	size_t total;
	uint8_t *p;

	if (out->oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory writing a record batch");
	total = out->len - start;
	if (total - KP_BATCH_LOG_OVERHEAD > INT32_MAX)
		return kp_error_set(err, KP_ERANGE, "record batch of %zu bytes too large", total);
	p = out->data + start;
	kp_store_u32(p + 8, (uint32_t)(total - KP_BATCH_LOG_OVERHEAD));
	kp_store_u32(p + KP_BATCH_CRC_OFFSET,
		     kp_crc32c(0, p + KP_BATCH_ATTRIBUTES_OFFSET, total - KP_BATCH_ATTRIBUTES_OFFSET));
	return 0;
}

void kp_batch_set_log_append_time(uint8_t *p, size_t len, int64_t now_ms)
{
	uint16_t attrs = kp_load_u16(p + KP_BATCH_ATTRIBUTES_OFFSET) | KP_BATCH_TIMESTAMP_TYPE;

	kp_store_u16(p + KP_BATCH_ATTRIBUTES_OFFSET, attrs);
	kp_store_u64(p + 35, (uint64_t)now_ms);
	kp_store_u32(p + KP_BATCH_CRC_OFFSET,
		     kp_crc32c(0, p + KP_BATCH_ATTRIBUTES_OFFSET, len - KP_BATCH_ATTRIBUTES_OFFSET));
}

bool kp_batch_control_record_next(const uint8_t **p, const uint8_t *end, struct kp_record *r)
{
	kp_reader rd;
	int32_t len, key_len, value_len;

	kp_reader_init(&rd, *p, (size_t)(end - *p));
	len = kp_read_varint(&rd);
	if (rd.failed || len < 1 || (size_t)len > kp_reader_left(&rd))
		return false;
	kp_reader_init(&rd, rd.data + rd.pos, (size_t)len);
	kp_read_i8(&rd);      /* attributes */
	kp_read_varlong(&rd); /* timestampDelta */
	kp_read_varint(&rd);  /* offsetDelta */
	if ((key_len = kp_read_varint(&rd)) < 0 || !(r->key = kp_read_bytes(&rd, (size_t)key_len)) ||
	    (value_len = kp_read_varint(&rd)) < 0 ||
	    !(r->value = kp_read_bytes(&rd, (size_t)value_len)))
		return false;
	r->key_len = key_len;
	r->value_len = value_len;
	*p = rd.data + rd.len;
	return true;
}
