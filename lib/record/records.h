/*
 * records.h - records inside batches: building batches (producer side)
 * and iterating the records of fetched data (consumer side).
 *
 * A record inside a v2 batch (all ints varint/varlong, zigzag):
 *   length, attributes(int8), timestampDelta(varlong), offsetDelta(varint),
 *   keyLength, key, valueLength, value, headerCount,
 *   [headerKeyLength, headerKey, headerValueLength, headerValue]...
 * Lengths of -1 mean null (protocol guide, "Record").
 */
#ifndef KP_RECORD_RECORDS_H
#define KP_RECORD_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/batch.h"
#include "util/buf.h"
#include "util/error.h"

struct kp_record_header {
	const char *key;       /* not NUL-terminated */
	int32_t key_len;
	const uint8_t *value;  /* NULL with value_len -1 for a null value */
	int32_t value_len;
};

struct kp_record {
	int64_t offset;        /* absolute offset (iterator); ignored by the builder */
	int64_t timestamp;     /* ms since the epoch */
	const uint8_t *key;    /* NULL with key_len -1 for a null key */
	int32_t key_len;
	const uint8_t *value;  /* NULL with value_len -1 for a null value */
	int32_t value_len;
	const struct kp_record_header *headers;
	int32_t header_count;
};

typedef struct kp_batch_builder kp_batch_builder;

/*
 * kp_batch_builder_new - a builder of one v2 batch at a time with
 * `compression` (enum kp_compression). producer_id -1 / epoch -1 /
 * base_sequence -1 for a non-idempotent producer. Returns NULL when memory
 * runs out or the codec is unknown (err filled).
 */
kp_batch_builder *kp_batch_builder_new(int compression, int64_t producer_id,
				       int16_t producer_epoch, kp_error *err);
/* kp_batch_builder_free - free `b` (NULL is fine). */
void kp_batch_builder_free(kp_batch_builder *b);
/*
 * kp_batch_builder_add - append a copy of `rec` (key, value, headers are
 * copied) to the open batch. Returns 0 or -1 (KP_ENOMEM).
 */
int kp_batch_builder_add(kp_batch_builder *b, const struct kp_record *rec, kp_error *err);
/* kp_batch_builder_count - records added since the last finish. */
int32_t kp_batch_builder_count(const kp_batch_builder *b);
/* kp_batch_builder_size - uncompressed bytes the open batch would take. */
size_t kp_batch_builder_size(const kp_batch_builder *b);
/*
 * kp_batch_builder_finish - append the open batch (base offset 0, CRC set,
 * compressed as configured) to `out` and start a new empty one.
 * `base_sequence` is written as given. Returns 0, or -1 (KP_ENOMEM, or
 * KP_EINVAL for an empty batch).
 */
int kp_batch_builder_finish(kp_batch_builder *b, int32_t base_sequence, kp_buf *out, kp_error *err);

typedef struct kp_record_iter kp_record_iter;

/*
 * kp_record_iter_new - iterate the records in `len` bytes at `data` (the
 * Records field of a Fetch response partition: zero or more batches, v2
 * or legacy magic 0/1 message sets, possibly ending in a partial batch,
 * which is ignored). `data` is borrowed and must outlive the iterator.
 * Records with offsets below `start_offset` are skipped (a fetch returns
 * whole batches). Control batches yield no records. Returns NULL on OOM.
 */
kp_record_iter *kp_record_iter_new(const uint8_t *data, size_t len, int64_t start_offset);
/* kp_record_iter_free - free `it` (NULL is fine). */
void kp_record_iter_free(kp_record_iter *it);
/*
 * kp_record_iter_next - the next record into `rec`; its pointers stay valid
 * until the next call or the free. Returns 1 for a record, 0 at the end,
 * -1 with KP_ECORRUPT/KP_EPROTO (bad CRC, truncated record, decompression
 * failure) or KP_EINVAL (unsupported codec) in `err`.
 */
int kp_record_iter_next(kp_record_iter *it, struct kp_record *rec, kp_error *err);
/*
 * kp_record_iter_next_offset - the offset after the last complete batch
 * read so far (lastOffset + 1), or start_offset if none: where the next
 * fetch should begin even when the batches held no records to return.
 */
int64_t kp_record_iter_next_offset(const kp_record_iter *it);

/*
 * kp_murmur2 - the Java client's murmur2 hash of `len` bytes (seed
 * 0x9747b28c), as used by its default partitioner.
 */
int32_t kp_murmur2(const void *data, size_t len);
/*
 * kp_partition_for_key - the Java client's partition for a key:
 * (murmur2(key) & 0x7fffffff) % partition_count.
 */
int32_t kp_partition_for_key(const void *key, size_t len, int32_t partition_count);

#endif
