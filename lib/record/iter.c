/*
 * iter.c - iterating the records of fetched data (consumer side): v2
 * record batches (KIP-98, record format in builder.c) and legacy magic 0
 * and 1 message sets (protocol guide, "Message Sets"; KIP-32 added the
 * magic 1 timestamp, KIP-31 relative inner offsets).
 *
 * Both formats start with offset(8) size(4), and both keep the magic byte
 * at offset 16, which is how each entry's format is told apart:
 *
 *   legacy message (magic 0 / 1), one entry of a message set:
 *   +--------+------+-----+-------+------+-----------+------+-----+------+-------+
 *   | offset | size | crc | magic | attr | timestamp | kLen | key | vLen | value |
 *   |   8    |  4   |  4  |   1   |  1   | 8 (v1 only)|  4  |     |  4   |       |
 *   +--------+------+-----+-------+------+-----------+------+-----+------+-------+
 *   size counts from crc to the end; crc is zlib's CRC-32 of magic..end;
 *   lengths -1 mean null; attr bits 0-2 codec, bit 3 LogAppendTime (v1).
 *
 *   compressed legacy wrapper: attr codec != 0, value = compressed inner
 *   message set. Inner offsets are absolute for magic 0; for magic 1 they
 *   are relative (0..n-1) and the wrapper carries the last absolute one:
 *     absolute = wrapper.offset - last_inner.offset + inner.offset
 *
 * A trailing entry cut short by the fetch size limit is ignored. Every v2
 * batch has its CRC-32C checked, every legacy message its CRC-32. Control
 * batches (attribute bit 5, transaction markers) yield no records but do
 * advance next_offset.
 */
#include "record/records.h"

#include <stdlib.h>
#include <zlib.h>

#include "record/compress.h"

#define LEGACY_MIN_SIZE 14   /* crc, magic, attributes, key and value lengths */
#define LEGACY_ENTRY_MIN 26  /* offset, size and the above */

enum iter_mode {
	MODE_OUTER,        /* between entries of the top-level data */
	MODE_V2,           /* inside a v2 batch */
	MODE_LEGACY_INNER, /* inside a compressed legacy wrapper */
	MODE_FAILED,       /* an error was returned; it is repeated */
};

struct legacy_msg {
	int64_t offset;
	int8_t magic;
	int8_t attributes;
	int64_t timestamp;
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len;
};

struct kp_record_iter {
	const uint8_t *data;   /* borrowed */
	size_t len;
	size_t pos;            /* next top-level entry */
	int64_t start_offset;
	int64_t next_offset;
	int mode;
	kp_buf dbuf;           /* decompressed records of the current entry */
	kp_reader rd;          /* records of the current batch or inner set */
	/* current v2 batch */
	struct kp_batch_header h;
	int32_t remaining;
	/* current legacy wrapper */
	int8_t wrapper_magic;
	int64_t offset_fixup;  /* added to inner offsets (magic 1) */
	int64_t wrapper_ts;    /* used when wrapper_log_append */
	bool wrapper_log_append;
	int64_t entry_next;    /* next_offset once the current entry is done */
	/* headers of the current record */
	struct kp_record_header *hdrs;
	int32_t hdr_cap;
	kp_error failure;      /* the error that stopped the iteration */
};

kp_record_iter *kp_record_iter_new(const uint8_t *data, size_t len, int64_t start_offset)
{
	kp_record_iter *it = calloc(1, sizeof *it);

	if (!it)
		return NULL;
	it->data = data;
	it->len = data ? len : 0;
	it->start_offset = start_offset;
	it->next_offset = start_offset;
	it->mode = MODE_OUTER;
	kp_buf_init(&it->dbuf);
	return it;
}

void kp_record_iter_free(kp_record_iter *it)
{
	if (!it)
		return;
	kp_buf_free(&it->dbuf);
	free(it->hdrs);
	free(it);
}

int64_t kp_record_iter_next_offset(const kp_record_iter *it)
{
	return it->next_offset;
}

/* wadd, wsub - a + b, a - b wrapping like Java's long, since corrupt input can overflow. */
static int64_t wadd(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t wsub(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

static void advance_next(kp_record_iter *it, int64_t next)
{
	if (next > it->next_offset)
		it->next_offset = next;
}

/* ---- v2 records ---- */

/* read_varbytes - a varint length (-1 = null) and the bytes it covers. */
static bool read_varbytes(kp_reader *r, const uint8_t **p, int32_t *len)
{
	*len = kp_read_varint(r);
	*p = NULL;
	if (r->failed || *len < -1)
		return kp_reader_fail(r);
	if (*len >= 0)
		*p = kp_read_bytes(r, (size_t)*len);
	return !r->failed;
}

static int grow_headers(kp_record_iter *it, int32_t n, kp_error *err)
{
	struct kp_record_header *nh;

	if (n <= it->hdr_cap)
		return 0;
	nh = realloc(it->hdrs, (size_t)n * sizeof *nh);
	if (!nh)
		return kp_error_set(err, KP_ENOMEM, "out of memory for record headers");
	it->hdrs = nh;
	it->hdr_cap = n;
	return 0;
}

static int read_headers(kp_record_iter *it, kp_reader *r, struct kp_record *rec, kp_error *err)
{
	int32_t i, n = kp_read_varint(r);
	const uint8_t *k;

	/* every header takes at least two bytes */
	if (r->failed || n < 0 || (size_t)n > kp_reader_left(r) / 2)
		return kp_error_set(err, KP_ECORRUPT, "bad record header count %d", (int)n);
	if (grow_headers(it, n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!read_varbytes(r, &k, &it->hdrs[i].key_len) || it->hdrs[i].key_len < 0 ||
		    !read_varbytes(r, &it->hdrs[i].value, &it->hdrs[i].value_len))
			return kp_error_set(err, KP_ECORRUPT, "truncated record header");
		it->hdrs[i].key = (const char *)k;
	}
	rec->headers = n ? it->hdrs : NULL;
	rec->header_count = n;
	return 0;
}

/* parse_record - one v2 record from it->rd into `rec`. */
static int parse_record(kp_record_iter *it, struct kp_record *rec, kp_error *err)
{
	int32_t len = kp_read_varint(&it->rd), off_delta;
	const uint8_t *body;
	int64_t ts_delta;
	kp_reader r;

	if (it->rd.failed || len < 0 || !(body = kp_read_bytes(&it->rd, (size_t)len)))
		return kp_error_set(err, KP_ECORRUPT, "truncated record in batch at offset %lld",
				    (long long)it->h.base_offset);
	kp_reader_init(&r, body, (size_t)len);
	kp_read_i8(&r);
	ts_delta = kp_read_varlong(&r);
	off_delta = kp_read_varint(&r);
	if (!read_varbytes(&r, &rec->key, &rec->key_len) ||
	    !read_varbytes(&r, &rec->value, &rec->value_len))
		return kp_error_set(err, KP_ECORRUPT, "malformed record in batch at offset %lld",
				    (long long)it->h.base_offset);
	if (read_headers(it, &r, rec, err) < 0)
		return -1;
	rec->offset = wadd(it->h.base_offset, off_delta);
	if (it->h.attributes & KP_BATCH_TIMESTAMP_TYPE)
		rec->timestamp = it->h.max_timestamp;
	else
		rec->timestamp = wadd(it->h.base_timestamp, ts_delta);
	return 0;
}

/* next_v2 - the next wanted record of the current batch: 1, 0 when done, -1. */
static int next_v2(kp_record_iter *it, struct kp_record *rec, kp_error *err)
{
	while (it->remaining > 0) {
		it->remaining--;
		if (parse_record(it, rec, err) < 0)
			return -1;
		if (rec->offset >= it->start_offset)
			return 1;
	}
	return 0;
}

/* open_v2 - validate the batch at it->pos and set up its records. */
static int open_v2(kp_record_iter *it, size_t total, kp_error *err)
{
	const uint8_t *p = it->data + it->pos;
	const uint8_t *recs = p + KP_BATCH_HEADER_SIZE;
	size_t recs_len = total - KP_BATCH_HEADER_SIZE;
	int codec;

	if (kp_batch_validate(p, total, &it->h, err) < 0)
		return -1;
	it->pos += total;
	it->entry_next = wadd(it->h.base_offset, (int64_t)it->h.last_offset_delta + 1);
	if (it->h.attributes & KP_BATCH_CONTROL) {
		advance_next(it, it->entry_next);
		return 0;
	}
	codec = it->h.attributes & KP_BATCH_COMPRESSION_MASK;
	if (codec != KP_COMPRESSION_NONE) {
		kp_buf_reset(&it->dbuf);
		if (kp_decompress(codec, recs, recs_len, KP_DECOMPRESS_LIMIT, &it->dbuf, err) < 0)
			return -1;
		recs = it->dbuf.data;
		recs_len = it->dbuf.len;
	}
	kp_reader_init(&it->rd, recs, recs_len);
	it->remaining = it->h.record_count;
	it->mode = MODE_V2;
	return 0;
}

/* ---- legacy messages ---- */

/* legacy_parse - the legacy entry of `total` bytes at `p`, CRC checked. */
static int legacy_parse(const uint8_t *p, size_t total, struct legacy_msg *m, kp_error *err)
{
	kp_reader r;
	uint32_t crc;

	if (total < LEGACY_ENTRY_MIN)
		return kp_error_set(err, KP_ECORRUPT, "legacy message of %zu bytes too short", total);
	crc = (uint32_t)crc32(0, p + 16, (uInt)(total - 16));
	if (crc != kp_load_u32(p + 12))
		return kp_error_set(err, KP_ECORRUPT, "legacy message crc mismatch at offset %lld",
				    (long long)kp_load_u64(p));
	kp_reader_init(&r, p, total);
	m->offset = kp_read_i64(&r);
	kp_read_skip(&r, 8); /* size, crc */
	m->magic = kp_read_i8(&r);
	m->attributes = kp_read_i8(&r);
	if (m->magic < 0 || m->magic > 1)
		return kp_error_set(err, KP_EPROTO, "unsupported message magic %d", m->magic);
	m->timestamp = m->magic == 1 ? kp_read_i64(&r) : -1;
	m->key_len = kp_read_i32(&r);
	m->key = m->key_len >= 0 ? kp_read_bytes(&r, (size_t)m->key_len) : NULL;
	m->value_len = kp_read_i32(&r);
	m->value = m->value_len >= 0 ? kp_read_bytes(&r, (size_t)m->value_len) : NULL;
	if (r.failed || m->key_len < -1 || m->value_len < -1)
		return kp_error_set(err, KP_ECORRUPT, "malformed legacy message at offset %lld",
				    (long long)m->offset);
	return 0;
}

static void legacy_record(const struct legacy_msg *m, int64_t offset, int64_t ts,
			  struct kp_record *rec)
{
	rec->offset = offset;
	rec->timestamp = ts;
	rec->key = m->key;
	rec->key_len = m->key_len;
	rec->value = m->value;
	rec->value_len = m->value_len;
	rec->headers = NULL;
	rec->header_count = 0;
}

/* entry_size - size of the complete entry at `p` (`left` bytes), or 0. */
static size_t entry_size(const uint8_t *p, size_t left)
{
	int32_t size;

	if (left < KP_BATCH_CRC_OFFSET)
		return 0;
	size = (int32_t)kp_load_u32(p + 8);
	if (size < 0 || (size_t)size > left - KP_BATCH_LOG_OVERHEAD)
		return 0;
	return KP_BATCH_LOG_OVERHEAD + (size_t)size;
}

/* last_inner_offset - the offset of the last entry of an inner message set. */
static int last_inner_offset(const uint8_t *p, size_t len, int64_t *last, kp_error *err)
{
	size_t pos = 0, n;

	*last = 0;
	while (pos < len) {
		if (!(n = entry_size(p + pos, len - pos)))
			return kp_error_set(err, KP_ECORRUPT, "truncated inner message set");
		*last = (int64_t)kp_load_u64(p + pos);
		pos += n;
	}
	return 0;
}

/* open_wrapper - decompress a legacy wrapper's inner set and set it up. */
static int open_wrapper(kp_record_iter *it, const struct legacy_msg *m, kp_error *err)
{
	int codec = m->attributes & KP_BATCH_COMPRESSION_MASK;
	int64_t last;

	if (!m->value)
		return kp_error_set(err, KP_ECORRUPT, "compressed legacy message without value");
	kp_buf_reset(&it->dbuf);
	/* magic 0 lz4 may carry the pre-KIP-57 frame header checksum */
	if ((m->magic == 0 ? kp_decompress_v0 : kp_decompress)(codec, m->value, (size_t)m->value_len,
								KP_DECOMPRESS_LIMIT, &it->dbuf, err) < 0)
		return -1;
	if (last_inner_offset(it->dbuf.data, it->dbuf.len, &last, err) < 0)
		return -1;
	it->wrapper_magic = m->magic;
	it->offset_fixup = m->magic == 1 ? wsub(m->offset, last) : 0;
	it->wrapper_ts = m->timestamp;
	it->wrapper_log_append = m->magic == 1 && (m->attributes & KP_BATCH_TIMESTAMP_TYPE);
	it->entry_next = wadd(m->offset, 1);
	kp_reader_init(&it->rd, it->dbuf.data, it->dbuf.len);
	it->mode = MODE_LEGACY_INNER;
	return 0;
}

/* next_inner - the next wanted record of the current wrapper: 1, 0, -1. */
static int next_inner(kp_record_iter *it, struct kp_record *rec, kp_error *err)
{
	struct legacy_msg m;
	const uint8_t *p;
	size_t n;

	while (kp_reader_left(&it->rd) > 0) {
		p = it->rd.data + it->rd.pos;
		n = entry_size(p, kp_reader_left(&it->rd));
		kp_read_skip(&it->rd, n);
		if (legacy_parse(p, n, &m, err) < 0)
			return -1;
		if (m.attributes & KP_BATCH_COMPRESSION_MASK)
			return kp_error_set(err, KP_ECORRUPT, "nested compressed legacy message");
		legacy_record(&m, wadd(m.offset, it->offset_fixup),
			      it->wrapper_log_append ? it->wrapper_ts : m.timestamp, rec);
		if (rec->offset >= it->start_offset)
			return 1;
	}
	return 0;
}

/*
 * open_legacy - the legacy entry at it->pos: 1 with an uncompressed
 * record in `rec`, 0 when a wrapper was opened or the record skipped, -1.
 */
static int open_legacy(kp_record_iter *it, size_t total, struct kp_record *rec, kp_error *err)
{
	struct legacy_msg m;

	if (legacy_parse(it->data + it->pos, total, &m, err) < 0)
		return -1;
	it->pos += total;
	if (m.attributes & KP_BATCH_COMPRESSION_MASK)
		return open_wrapper(it, &m, err);
	advance_next(it, wadd(m.offset, 1));
	if (m.offset < it->start_offset)
		return 0;
	legacy_record(&m, m.offset, m.timestamp, rec);
	return 1;
}

/* ---- driver ---- */

/* open_entry - the next top-level entry: 1 record, 0 continue, 2 end, -1. */
static int open_entry(kp_record_iter *it, struct kp_record *rec, kp_error *err)
{
	const uint8_t *p;
	size_t total;
	int8_t magic;

	if (it->pos >= it->len)
		return 2; /* end (data may be NULL) */
	p = it->data + it->pos;
	total = entry_size(p, it->len - it->pos);
	if (total == 0)
		return 2; /* end, or a partial trailing entry */
	magic = (int8_t)p[16];
	if (magic == 2)
		return open_v2(it, total, err);
	if (magic == 0 || magic == 1)
		return open_legacy(it, total, rec, err);
	return kp_error_set(err, KP_EPROTO, "unsupported record magic %d", magic);
}

/* iterate - one step of kp_record_iter_next, without the sticky failure. */
static int iterate(kp_record_iter *it, struct kp_record *rec, kp_error *err)
{
	int rc;

	for (;;) {
		switch (it->mode) {
		case MODE_V2:
			rc = next_v2(it, rec, err);
			break;
		case MODE_LEGACY_INNER:
			rc = next_inner(it, rec, err);
			break;
		default:
			rc = open_entry(it, rec, err);
			if (rc == 2)
				return 0;
			if (rc != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return rc;
		advance_next(it, it->entry_next);
		it->mode = MODE_OUTER;
	}
}

int kp_record_iter_next(kp_record_iter *it, struct kp_record *rec, kp_error *err)
{
	int rc;

	if (it->mode == MODE_FAILED)
		return kp_error_set(err, it->failure.code, "%s", it->failure.msg);
	rc = iterate(it, rec, &it->failure);
	if (rc >= 0)
		return rc;
	it->mode = MODE_FAILED;
	return kp_error_set(err, it->failure.code, "%s", it->failure.msg);
}
