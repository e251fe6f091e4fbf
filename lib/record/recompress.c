/*
 * recompress.c - rebuilding a produced v2 batch with the topic's codec
 * (compression.type; recompress.h says what is kept and what changes).
 *
 * The batch's records are decompressed, each record is read as Kafka's
 * DefaultRecord.readFrom reads it and written again the way
 * MemoryRecordsBuilder.appendWithOffset writes it (record format in
 * builder.c):
 *
 *   in:  length | attr | tsDelta          | offDelta | key | value | headers
 *   out: length | 0    | ts - firstTs     | i        | key | value | headers
 *
 * where ts is the record's timestamp (baseTimestamp + tsDelta, or the
 * batch's maxTimestamp when it says LogAppendTime) and i its index. Then
 * the records are compressed with the target codec behind a new header.
 */
#include "record/recompress.h"

#include <ctype.h>
#include <string.h>

#include "record/compress.h"

static const char *const type_names[] = { "uncompressed", "gzip", "snappy", "lz4", "zstd" };

bool kp_compression_type_parse(const char *name, int *codec)
{
	size_t n;

	if (!name)
		return false;
	while (isspace((unsigned char)*name))
		name++;
	n = strlen(name);
	while (n > 0 && isspace((unsigned char)name[n - 1]))
		n--;
	if (n == 8 && strncmp(name, "producer", 8) == 0) {
		*codec = KP_COMPRESSION_PRODUCER;
		return true;
	}
	for (int i = KP_COMPRESSION_NONE; i <= KP_COMPRESSION_ZSTD; i++)
		if (strlen(type_names[i]) == n && strncmp(name, type_names[i], n) == 0) {
			*codec = i;
			return true;
		}
	return false;
}

bool kp_batch_needs_recompress(int16_t attributes, int target)
{
	if (target == KP_COMPRESSION_PRODUCER || (attributes & KP_BATCH_CONTROL))
		return false;
	return (attributes & KP_BATCH_COMPRESSION_MASK) != target;
}

/* wadd, wsub - a + b, a - b wrapping like Java's long. */
static int64_t wadd(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t wsub(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

/*
 * copy_varbytes - a varint length and its bytes from `r` to `o`; a
 * negative length is null (-1 written), as DefaultRecord.readFrom takes
 * it, unless `nullable` is false. False when malformed.
 */
static bool copy_varbytes(kp_reader *r, kp_buf *o, bool nullable)
{
	int32_t n = kp_read_varint(r);
	const uint8_t *p;

	if (r->failed || (n < 0 && !nullable))
		return false;
	if (n < 0) {
		kp_buf_put_varint(o, -1);
		return true;
	}
	if (!(p = kp_read_bytes(r, (size_t)n)))
		return false;
	kp_buf_put_varint(o, n);
	kp_buf_append(o, p, (size_t)n);
	return true;
}

/* What re-encoding the records of one batch collects. */
struct rebuild {
	const struct kp_batch_header *h;
	kp_buf records;      /* the re-encoded, uncompressed records */
	kp_buf body;         /* one record's body while it is re-encoded */
	int64_t first_ts;    /* the new baseTimestamp */
	int64_t max_ts;      /* the new maxTimestamp (-1: Kafka's NO_TIMESTAMP) */
};

/* copy_record - record `i` at `rd` re-encoded into rb->records; -1 (KP_EPROTO: malformed). */
static int copy_record(struct rebuild *rb, kp_reader *rd, int32_t i, kp_error *err)
{
	int32_t size = kp_read_varint(rd), headers;
	const uint8_t *p;
	kp_reader r;
	int64_t ts;

	if (rd->failed || size < 0 || !(p = kp_read_bytes(rd, (size_t)size)))
		return kp_error_set(err, KP_EPROTO, "record %d of batch: invalid record size", (int)i);
	kp_reader_init(&r, p, (size_t)size);
	kp_buf_reset(&rb->body);
	kp_read_i8(&r); /* attributes: unused, written 0 */
	ts = wadd(rb->h->base_timestamp, kp_read_varlong(&r));
	kp_read_varint(&r); /* offsetDelta: renumbered */
	if (rb->h->attributes & KP_BATCH_TIMESTAMP_TYPE)
		ts = rb->h->max_timestamp;
	if (i == 0)
		rb->first_ts = ts;
	if (ts > rb->max_ts)
		rb->max_ts = ts;
	kp_buf_put_i8(&rb->body, 0);
	kp_buf_put_varlong(&rb->body, wsub(ts, rb->first_ts));
	kp_buf_put_varint(&rb->body, i);
	if (r.failed || !copy_varbytes(&r, &rb->body, true) || !copy_varbytes(&r, &rb->body, true))
		goto bad;
	headers = kp_read_varint(&r);
	if (r.failed || headers < 0)
		goto bad;
	kp_buf_put_varint(&rb->body, headers);
	for (int32_t k = 0; k < headers; k++)
		if (!copy_varbytes(&r, &rb->body, false) || !copy_varbytes(&r, &rb->body, true))
			goto bad;
	if (kp_reader_left(&r) != 0) /* DefaultRecord: "Invalid record size: expected to read" */
		goto bad;
	if (rb->body.len > INT32_MAX)
		return kp_error_set(err, KP_ERANGE, "record %d of batch too large", (int)i);
	kp_buf_put_varint(&rb->records, (int32_t)rb->body.len);
	kp_buf_append(&rb->records, rb->body.data, rb->body.len);
	return 0;
bad:
	return kp_error_set(err, KP_EPROTO, "record %d of batch: invalid record structure", (int)i);
}

/* copy_records - every record of the uncompressed records section recs[0..n) into rb->records. */
static int copy_records(struct rebuild *rb, const uint8_t *recs, size_t n, kp_error *err)
{
	kp_reader rd;

	kp_reader_init(&rd, recs, n);
	for (int32_t i = 0; i < rb->h->record_count; i++)
		if (copy_record(rb, &rd, i, err) < 0)
			return -1;
	if (kp_reader_left(&rd) != 0)
		return kp_error_set(err, KP_EPROTO,
				    "incorrect declared batch size, records still remaining");
	if (rb->records.oom || rb->body.oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory re-encoding records");
	return 0;
}

/* put_header - the rebuilt batch's header into `out` (kp_batch_header_put). */
static void put_header(const struct rebuild *rb, int codec, kp_buf *out)
{
	struct kp_batch_header nh = *rb->h;

	nh.attributes = (int16_t)(codec | (nh.attributes & (KP_BATCH_TRANSACTIONAL | KP_BATCH_CONTROL)));
	nh.last_offset_delta = nh.record_count - 1;
	nh.base_timestamp = rb->first_ts;
	nh.max_timestamp = rb->max_ts;
	kp_batch_header_put(out, &nh);
}

/* check_count - Kafka's LogValidator.validateBatch on a client's v2 batch. */
static int check_count(const struct kp_batch_header *h, kp_error *err)
{
	if (h->record_count <= 0)
		return kp_error_set(err, KP_EPROTO, "invalid reported count for record batch: %d",
				    (int)h->record_count);
	if ((int64_t)h->last_offset_delta + 1 != h->record_count)
		return kp_error_set(err, KP_EPROTO, "inconsistent batch offset range [0, %d] and "
				    "count of records %d", (int)h->last_offset_delta,
				    (int)h->record_count);
	return 0;
}

int kp_batch_recompress(const uint8_t *p, size_t len, int codec, int level, kp_buf *out,
			kp_error *err)
{
	struct kp_batch_header h;
	struct rebuild rb = { .h = &h, .first_ts = -1, .max_ts = -1 };
	kp_buf plain;
	const uint8_t *recs;
	size_t start = out->len, n;
	long size;
	int src, rc = -1;

	kp_buf_init(&plain);
	kp_buf_init(&rb.records);
	kp_buf_init(&rb.body);
	if ((size = kp_batch_validate(p, len, &h, err)) < 0 || check_count(&h, err) < 0)
		goto out;
	if (!kp_compression_level_valid(codec, level) || codec < KP_COMPRESSION_NONE ||
	    codec > KP_COMPRESSION_ZSTD) {
		kp_error_set(err, KP_EINVAL, "compression %d at level %d not supported", codec, level);
		goto out;
	}
	src = h.attributes & KP_BATCH_COMPRESSION_MASK;
	recs = p + KP_BATCH_HEADER_SIZE;
	n = (size_t)size - KP_BATCH_HEADER_SIZE;
	if (src != KP_COMPRESSION_NONE) {
		if (kp_decompress(src, recs, n, KP_DECOMPRESS_LIMIT, &plain, err) < 0)
			goto out;
		recs = plain.data;
		n = plain.len;
	}
	if (copy_records(&rb, recs, n, err) < 0)
		goto out;
	put_header(&rb, codec, out);
	if (out->oom) {
		kp_error_set(err, KP_ENOMEM, "out of memory writing batch header");
		goto out;
	}
	if (kp_compress_level(codec, level, rb.records.data, rb.records.len, out, err) < 0 ||
	    kp_batch_seal(out, start, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && out->len > start)
		out->len = start;
	kp_buf_free(&plain);
	kp_buf_free(&rb.records);
	kp_buf_free(&rb.body);
	return rc;
}

/* any_needs - whether some batch of data[0..len) is to be rebuilt for `target`. */
static bool any_needs(const uint8_t *data, size_t len, int target)
{
	size_t pos = 0;

	while (pos + KP_BATCH_HEADER_SIZE <= len) {
		int32_t blen = (int32_t)kp_load_u32(data + pos + 8);

		if (kp_batch_needs_recompress((int16_t)kp_load_u16(data + pos + KP_BATCH_ATTRIBUTES_OFFSET),
					      target))
			return true;
		if (blen < 0)
			return false;
		pos += KP_BATCH_LOG_OVERHEAD + (size_t)blen;
	}
	return false;
}

int kp_records_recompress(const uint8_t *data, size_t len, int target, int level, kp_buf *out,
			  kp_error *err)
{
	size_t start = out->len, pos = 0;
	struct kp_batch_header h;

	if (!any_needs(data, len, target))
		return 0;
	while (pos < len) {
		long n = kp_batch_validate(data + pos, len - pos, &h, err);

		if (n < 0)
			goto fail;
		if (kp_batch_needs_recompress(h.attributes, target)) {
			if (kp_batch_recompress(data + pos, (size_t)n, target, level, out, err) < 0)
				goto fail;
		} else {
			kp_buf_append(out, data + pos, (size_t)n);
			if (out->oom) {
				kp_error_set(err, KP_ENOMEM, "out of memory copying a batch");
				goto fail;
			}
		}
		pos += (size_t)n;
	}
	return 1;
fail:
	if (out->len > start)
		out->len = start;
	return -1;
}
