/*
 * fuzz_records.c - libFuzzer target: the Records bytes of a Produce request
 * or a Fetch response (v2 batches, legacy magic 0/1 message sets, any
 * codec), as lib/record reads and converts them.
 *
 * Input: 8-byte big-endian start offset, a flags byte (bit 0: recompute the
 * CRCs of the top-level entries first, so that mutations inside batches get
 * past the CRC check: fuzz_fix_crcs), then the records. Checked:
 *   - kp_record_iter_* over them from that offset: every byte of every
 *     record is readable (ASan), no record lies below the start offset,
 *     next_offset never goes back, the end and errors are sticky;
 *   - kp_legacy_to_batch: on success the output is one batch that passes
 *     kp_batch_validate and iterates to the same keys, values and
 *     timestamps, with offsets 0..n-1, as the input itself;
 *   - kp_batch_to_legacy (magic 0 and 1): on success the output iterates
 *     to the same offsets, keys and values as the input.
 */
#include <string.h>

#include "fuzz.h"
#include "record/batch.h"
#include "record/legacy.h"
#include "record/records.h"

static volatile uint8_t sink;

static void touch(const void *p, int32_t len)
{
	const uint8_t *b = p;
	uint8_t x = 0;

	FUZZ_CHECK(len >= -1 && (len <= 0 || p));
	for (int32_t i = 0; i < len; i++)
		x ^= b[i];
	sink ^= x;
}

static bool same_bytes(const uint8_t *x, int32_t xlen, const uint8_t *y, int32_t ylen)
{
	return xlen == ylen && (xlen <= 0 || memcmp(x, y, (size_t)xlen) == 0);
}

/* iterate - every record from `start`, checking what can be checked alone. */
static void iterate(const uint8_t *p, size_t len, int64_t start)
{
	kp_record_iter *it = kp_record_iter_new(p, len, start);
	struct kp_record rec;
	int64_t next = start;
	kp_error err;
	int rc;

	FUZZ_CHECK(it != NULL);
	while ((rc = kp_record_iter_next(it, &rec, &err)) == 1) {
		FUZZ_CHECK(rec.offset >= start);
		touch(rec.key, rec.key_len);
		touch(rec.value, rec.value_len);
		FUZZ_CHECK(rec.header_count >= 0 && (rec.header_count == 0 || rec.headers));
		for (int32_t i = 0; i < rec.header_count; i++) {
			FUZZ_CHECK(rec.headers[i].key_len >= 0);
			touch(rec.headers[i].key, rec.headers[i].key_len);
			touch(rec.headers[i].value, rec.headers[i].value_len);
		}
		FUZZ_CHECK(kp_record_iter_next_offset(it) >= next);
		next = kp_record_iter_next_offset(it);
	}
	FUZZ_CHECK(kp_record_iter_next_offset(it) >= next);
	if (rc < 0)
		FUZZ_CHECK(err.code == KP_ECORRUPT || err.code == KP_EPROTO || err.code == KP_EINVAL ||
			   err.code == KP_ERANGE);
	FUZZ_CHECK(kp_record_iter_next(it, &rec, &err) == rc);
	kp_record_iter_free(it);
}

/*
 * same_records - iterate `a` and `b` (from the beginning) in step: same
 * keys and values; same offsets unless `b_offsets_from_0` (then 0..n-1);
 * timestamps equal, or all -1 in b when `b_no_ts`. Both must end together.
 */
static void same_records(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			 bool b_offsets_from_0, bool b_no_ts)
{
	kp_record_iter *ia = kp_record_iter_new(a, alen, INT64_MIN);
	kp_record_iter *ib = kp_record_iter_new(b, blen, INT64_MIN);
	struct kp_record ra, rb;
	int64_t n = 0;
	kp_error err;
	int x, y;

	FUZZ_CHECK(ia && ib);
	do {
		x = kp_record_iter_next(ia, &ra, &err);
		y = kp_record_iter_next(ib, &rb, &err);
		FUZZ_CHECK(x == y && x >= 0);
		if (x == 0)
			break;
		FUZZ_CHECK(same_bytes(ra.key, ra.key_len, rb.key, rb.key_len));
		FUZZ_CHECK(same_bytes(ra.value, ra.value_len, rb.value, rb.value_len));
		FUZZ_CHECK(rb.offset == (b_offsets_from_0 ? n : ra.offset));
		FUZZ_CHECK(rb.timestamp == (b_no_ts ? -1 : ra.timestamp));
		n++;
	} while (1);
	kp_record_iter_free(ia);
	kp_record_iter_free(ib);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kp_error err;
	kp_buf out;
	uint8_t *p;
	size_t len;
	long n;

	if (size < 9)
		return 0;
	len = size - 9;
	p = malloc(len ? len : 1);
	FUZZ_CHECK(p != NULL);
	memcpy(p, data + 9, len);
	if (data[8] & 1)
		fuzz_fix_crcs(p, len);
	iterate(p, len, (int64_t)kp_load_u64(data));
	iterate(p, len, INT64_MIN);

	kp_buf_init(&out);
	if (kp_legacy_to_batch(p, len, &out, &err) == 0) {
		n = kp_batch_validate(out.data, out.len, NULL, &err);
		FUZZ_CHECK(n > 0 && (size_t)n == out.len);
		same_records(p, len, out.data, out.len, true, false);
	} else {
		FUZZ_CHECK(out.len == 0);
	}
	for (int8_t magic = 0; magic <= 1; magic++) {
		kp_buf_reset(&out);
		if (kp_batch_to_legacy(p, len, magic, &out, &err) == 0)
			same_records(p, len, out.data, out.len, false, magic == 0);
		else
			FUZZ_CHECK(out.len == 0);
	}
	kp_buf_free(&out);
	free(p);
	return 0;
}
