/*
 * cleaner_batch.c - the log cleaner's view of one v2 record batch:
 * walking its records (decompressed) and writing what stays of it
 * (Kafka's MemoryRecords.filterTo with the cleaner's RecordFilter).
 *
 * A record, as builder.c writes it; the cleaner keeps `tail` as it is
 * and rewrites only the timestamp delta when the batch's base timestamp
 * changes (the first record went, or a delete horizon is set):
 *
 *   | length | attr | tsDelta | offsetDelta  key  value  headers |
 *   | varint | int8 | varlong |<--------------- tail ----------->|
 *
 * What stays of a batch (offsets never change):
 *
 *   every record kept, no new horizon  the batch as it was, byte for byte
 *   some records kept                  a new batch: same base offset, last
 *                                      offset delta, producer fields,
 *                                      codec; recordCount, timestamps, CRC
 *                                      recomputed (Kafka's
 *                                      buildRetainedRecordsInto)
 *   none kept, retain_empty            the header alone, recordCount 0
 *                                      (Kafka's writeEmptyHeader)
 *   none kept                          nothing
 *
 * KIP-534: attribute bit 6 says baseTimestamp is the batch's delete
 * horizon; the first cleaning that keeps a tombstone in a batch without
 * one sets it to now + delete.retention.ms, and the tombstones of a batch
 * whose horizon has passed are dropped.
 */
#include "log/cleaner_internal.h"

#include <string.h>

#include "record/compress.h"

#define DELETE_HORIZON 0x40

/*
 * kp_clean_batch_open - validate the batch of `len` bytes at `raw` (CRC
 * included) and set `b` to walk its records, decompressed into `scratch`
 * when compressed. A control batch's records are not walked. Returns 0,
 * or -1 with KP_ECORRUPT, KP_EPROTO, KP_EINVAL (codec) or KP_ENOMEM.
 */
int kp_clean_batch_open(struct kp_clean_batch *b, const uint8_t *raw, size_t len, kp_buf *scratch,
			kp_error *err)
{
	const uint8_t *recs = raw + KP_BATCH_HEADER_SIZE;
	size_t n;
	int codec;

	if (kp_batch_validate(raw, len, &b->h, err) < 0)
		return -1;
	b->raw = raw;
	b->len = len;
	n = len - KP_BATCH_HEADER_SIZE;
	b->left = (b->h.attributes & KP_BATCH_CONTROL) ? 0 : b->h.record_count;
	codec = b->h.attributes & KP_BATCH_COMPRESSION_MASK;
	if (codec != KP_COMPRESSION_NONE && b->left > 0) {
		kp_buf_reset(scratch);
		if (kp_decompress(codec, recs, n, KP_DECOMPRESS_LIMIT, scratch, err) < 0)
			return -1;
		recs = scratch->data;
		n = scratch->len;
	}
	kp_reader_init(&b->rd, recs, n);
	return 0;
}

/*
 * kp_clean_batch_next - the next record of `b` into `r` (pointers into
 * the batch or its decompressed copy). Returns 1, 0 after the last, or
 * -1 with KP_ECORRUPT.
 */
int kp_clean_batch_next(struct kp_clean_batch *b, struct kp_clean_rec *r, kp_error *err)
{
	int32_t len, klen, vlen;
	const uint8_t *body;
	int64_t ts_delta;
	kp_reader rd;

	if (b->left == 0)
		return 0;
	b->left--;
	len = kp_read_varint(&b->rd);
	if (b->rd.failed || len < 1 || !(body = kp_read_bytes(&b->rd, (size_t)len)))
		goto bad;
	kp_reader_init(&rd, body, (size_t)len);
	r->attributes = (uint8_t)kp_read_i8(&rd);
	ts_delta = kp_read_varlong(&rd);
	r->tail = body + rd.pos;
	r->tail_len = (size_t)len - rd.pos;
	r->offset = b->h.base_offset + kp_read_varint(&rd);
	klen = kp_read_varint(&rd);
	r->key = klen >= 0 ? kp_read_bytes(&rd, (size_t)klen) : NULL;
	r->key_len = klen;
	vlen = kp_read_varint(&rd);
	if (rd.failed || klen < -1 || vlen < -1 || (vlen >= 0 && !kp_read_skip(&rd, (size_t)vlen)))
		goto bad;
	r->tombstone = vlen < 0;
	r->timestamp = (b->h.attributes & KP_BATCH_TIMESTAMP_TYPE) ? b->h.max_timestamp
			: (int64_t)((uint64_t)b->h.base_timestamp + (uint64_t)ts_delta);
	return 1;
bad:
	return kp_error_set(err, KP_ECORRUPT, "malformed record in batch at offset %lld",
			    (long long)b->h.base_offset);
}

/* keep - the cleaner's rule for one record (Kafka's Cleaner.shouldRetainRecord). */
static bool keep(const struct kp_clean_filter *f, const struct kp_batch_header *h,
		 const struct kp_clean_rec *r)
{
	bool has_horizon = h->attributes & DELETE_HORIZON;

	if (r->offset > f->map->latest || !r->key)
		return true; /* past the map's end; keyless: kept (Kafka drops them) */
	if (r->offset < kp_offset_map_get(f->map, r->key, (size_t)r->key_len))
		return false; /* a later record of its key is in the map */
	return !r->tombstone || !has_horizon || f->now_ms < h->base_timestamp;
}

/* put_header - `h` with these attributes, timestamps and count into `out` (kp_batch_header_put). */
static void put_header(kp_buf *out, const struct kp_batch_header *h, int16_t attrs, int64_t base_ts,
		       int64_t max_ts, int32_t count)
{
	struct kp_batch_header nh = *h;

	nh.attributes = attrs;
	nh.base_timestamp = base_ts;
	nh.max_timestamp = max_ts;
	nh.record_count = count;
	kp_batch_header_put(out, &nh);
}

/* empty_header - the batch's header alone, recordCount 0 (Kafka's writeEmptyHeader). */
static int empty_header(const struct kp_batch_header *h, kp_buf *out, kp_error *err)
{
	size_t start = out->len;
	int16_t attrs = h->attributes & (KP_BATCH_TIMESTAMP_TYPE | KP_BATCH_TRANSACTIONAL | KP_BATCH_CONTROL);

	put_header(out, h, attrs, -1, h->max_timestamp, 0);
	return kp_batch_seal(out, start, err);
}

/*
 * rebuild - a new batch of the `n` records kept (`kept`, in order) with
 * the delete horizon `horizon` (-1: none): timestamp deltas against the
 * new base timestamp, recompressed with the batch's codec.
 */
static int rebuild(const struct kp_batch_header *h, const struct kp_clean_rec *kept, size_t n,
		   int64_t horizon, kp_buf *enc, kp_buf *out, kp_error *err)
{
	bool append_time = h->attributes & KP_BATCH_TIMESTAMP_TYPE;
	int64_t base_ts = horizon >= 0 ? horizon : kept[0].timestamp, max_ts = -1;
	int16_t attrs = (int16_t)((h->attributes & ~DELETE_HORIZON) | (horizon >= 0 ? DELETE_HORIZON : 0));
	size_t start = out->len;

	kp_buf_reset(enc);
	for (size_t i = 0; i < n; i++) {
		int64_t delta = (int64_t)((uint64_t)kept[i].timestamp - (uint64_t)base_ts);
		kp_buf_put_varint(enc, (int32_t)(1 + kp_varlong_size(delta) + kept[i].tail_len));
		kp_buf_put_i8(enc, (int8_t)kept[i].attributes);
		kp_buf_put_varlong(enc, delta);
		kp_buf_append(enc, kept[i].tail, kept[i].tail_len);
		if (kept[i].timestamp > max_ts)
			max_ts = kept[i].timestamp;
	}
	if (enc->oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory re-encoding records");
	put_header(out, h, attrs, base_ts, append_time ? h->max_timestamp : max_ts, (int32_t)n);
	if (kp_compress(h->attributes & KP_BATCH_COMPRESSION_MASK, enc->data, enc->len, out, err) < 0) {
		out->len = start;
		return -1;
	}
	return kp_batch_seal(out, start, err);
}

/*
 * kp_clean_filter_batch - what stays of the batch of `len` bytes at
 * `raw` under filter `f`, appended to `out` (see the table above).
 * `scratch`, `kept` and `enc` are work buffers (kept holds struct
 * kp_clean_rec). *read and *kept_n are incremented by the records seen
 * and kept. Returns 0, or -1 (kp_clean_batch_open's errors, KP_ENOMEM,
 * KP_EINVAL for a codec that cannot compress) with `out` unchanged.
 */
int kp_clean_filter_batch(const struct kp_clean_filter *f, const uint8_t *raw, size_t len,
			  struct kp_clean_bufs *bufs, kp_buf *out, int64_t *read, int64_t *kept_n,
			  kp_error *err)
{
	struct kp_clean_batch b;
	struct kp_clean_rec r;
	bool all = true, tombstones = false;
	size_t n = 0;
	int64_t horizon;
	int rc;

	if (kp_clean_batch_open(&b, raw, len, &bufs->dec, err) < 0)
		return -1;
	if (b.h.attributes & KP_BATCH_CONTROL) {
		kp_buf_append(out, raw, len); /* no transactions yet: markers stay */
		return out->oom ? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
	}
	kp_buf_reset(&bufs->kept);
	while ((rc = kp_clean_batch_next(&b, &r, err)) == 1) {
		(*read)++;
		if (!keep(f, &b.h, &r)) {
			all = false;
			continue;
		}
		tombstones |= r.tombstone;
		kp_buf_append(&bufs->kept, &r, sizeof r);
		n++;
	}
	if (rc < 0)
		return -1;
	if (bufs->kept.oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory filtering a batch");
	*kept_n += (int64_t)n;
	horizon = (b.h.attributes & DELETE_HORIZON) ? b.h.base_timestamp
		  : tombstones ? f->now_ms + f->delete_retention_ms : -1;
	if (n == 0)
		return f->retain_empty ? empty_header(&b.h, out, err) : 0;
	if (all && (!tombstones || (b.h.attributes & DELETE_HORIZON))) {
		kp_buf_append(out, raw, len);
		return out->oom ? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
	}
	return rebuild(&b.h, (const struct kp_clean_rec *)(const void *)bufs->kept.data, n, horizon,
		       &bufs->enc, out, err);
}
