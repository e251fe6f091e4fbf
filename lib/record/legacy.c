/*
 * legacy.c - legacy message sets <-> v2 record batches; see legacy.h for
 * the legacy message layout and records.h / builder.c for the v2 one.
 *
 * Both directions reuse the record iterator (iter.c), which already reads
 * legacy sets (checking each CRC-32 and unpacking compressed wrappers) and
 * v2 batches; legacy -> v2 feeds its records into an uncompressed batch
 * builder, v2 -> legacy writes one legacy message per record.
 */
#include "record/legacy.h"

#include <zlib.h>

#include "record/records.h"

/*
 * scan_legacy - `data` is a non-empty sequence of complete magic 0/1
 * entries: offset(8) size(4) then size bytes with the magic at offset 16.
 */
static int scan_legacy(const uint8_t *data, size_t len, kp_error *err)
{
	size_t pos = 0, left;
	int32_t size;

	if (len == 0)
		return kp_error_set(err, KP_EPROTO, "empty message set");
	while (pos < len) {
		left = len - pos;
		if (left < 17)
			return kp_error_set(err, KP_EPROTO, "truncated message set entry");
		size = (int32_t)kp_load_u32(data + pos + 8);
		if (size < 0 || (size_t)size > left - 12)
			return kp_error_set(err, KP_EPROTO, "truncated message set entry");
		if (data[pos + 16] > 1)
			return kp_error_set(err, KP_EPROTO, "message magic %d in a legacy message set",
					    (int8_t)data[pos + 16]);
		pos += 12 + (size_t)size;
	}
	return 0;
}

int kp_legacy_to_batch(const uint8_t *data, size_t len, kp_buf *out, kp_error *err)
{
	kp_batch_builder *b = NULL;
	kp_record_iter *it = NULL;
	struct kp_record rec;
	int rc = -1, n;

	if (scan_legacy(data, len, err) < 0)
		return -1;
	b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, err);
	it = kp_record_iter_new(data, len, INT64_MIN);
	if (!b || !it) {
		kp_error_set(err, KP_ENOMEM, "out of memory converting message set");
		goto out;
	}
	while ((n = kp_record_iter_next(it, &rec, err)) == 1)
		if (kp_batch_builder_add(b, &rec, err) < 0)
			goto out;
	if (n < 0)
		goto out;
	if (kp_batch_builder_count(b) == 0) {
		kp_error_set(err, KP_EPROTO, "message set without messages");
		goto out;
	}
	rc = kp_batch_builder_finish(b, -1, out, err);
out:
	kp_record_iter_free(it);
	kp_batch_builder_free(b);
	return rc;
}

/* put_legacy_bytes - int32 length (-1 for null) and the bytes. */
static void put_legacy_bytes(kp_buf *out, const uint8_t *p, int32_t len)
{
	kp_buf_put_i32(out, len < 0 ? -1 : len);
	if (len > 0)
		kp_buf_append(out, p, (size_t)len);
}

/* put_legacy - one uncompressed legacy message for `rec`. */
static void put_legacy(kp_buf *out, const struct kp_record *rec, int8_t magic)
{
	size_t start = out->len;
	uint32_t crc;

	kp_buf_put_i64(out, rec->offset);
	kp_buf_put_i32(out, 0); /* size, set below */
	kp_buf_put_u32(out, 0); /* crc, set below */
	kp_buf_put_i8(out, magic);
	kp_buf_put_i8(out, 0);  /* attributes: no codec, CreateTime */
	if (magic == 1)
		kp_buf_put_i64(out, rec->timestamp);
	put_legacy_bytes(out, rec->key, rec->key_len);
	put_legacy_bytes(out, rec->value, rec->value_len);
	if (out->oom)
		return;
	kp_buf_set_i32(out, start + 8, (int32_t)(out->len - start - 12));
	crc = (uint32_t)crc32(0, out->data + start + 16, (uInt)(out->len - start - 16));
	kp_buf_set_i32(out, start + 12, (int32_t)crc);
}

int kp_batch_to_legacy(const uint8_t *data, size_t len, int8_t magic, kp_buf *out, kp_error *err)
{
	kp_record_iter *it;
	struct kp_record rec;
	size_t start = out->len;
	int n;

	if (magic != 0 && magic != 1)
		return kp_error_set(err, KP_EINVAL, "cannot convert to message magic %d", magic);
	if (!(it = kp_record_iter_new(data, len, INT64_MIN)))
		return kp_error_set(err, KP_ENOMEM, "out of memory converting batches");
	while ((n = kp_record_iter_next(it, &rec, err)) == 1)
		put_legacy(out, &rec, magic);
	kp_record_iter_free(it);
	if (n == 0 && out->oom)
		n = kp_error_set(err, KP_ENOMEM, "out of memory converting batches");
	if (n < 0 && out->len > start)
		out->len = start;
	return n;
}
