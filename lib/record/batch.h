/*
 * batch.h - RecordBatch v2 (magic 2) headers: parsing, validation and the
 * in-place rewrites the broker does on append (KIP-98; protocol guide,
 * "Record Batch").
 *
 *   offset  size  field
 *        0     8  baseOffset
 *        8     4  batchLength            (bytes after this field)
 *       12     4  partitionLeaderEpoch
 *       16     1  magic (2)
 *       17     4  crc (CRC-32C of attributes .. end of batch)
 *       21     2  attributes             bits 0-2 compression, 3 timestamp type,
 *                                        4 transactional, 5 control
 *       23     4  lastOffsetDelta
 *       27     8  baseTimestamp
 *       35     8  maxTimestamp
 *       43     8  producerId
 *       51     2  producerEpoch
 *       53     4  baseSequence
 *       57     4  recordCount
 *       61     -  records (possibly compressed)
 */
#ifndef KP_RECORD_BATCH_H
#define KP_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define KP_BATCH_HEADER_SIZE 61   /* bytes from baseOffset to the first record */
#define KP_BATCH_LOG_OVERHEAD 12  /* baseOffset + batchLength */
#define KP_BATCH_CRC_OFFSET 17
#define KP_BATCH_ATTRIBUTES_OFFSET 21

#define KP_BATCH_COMPRESSION_MASK 0x07
#define KP_BATCH_TIMESTAMP_TYPE 0x08
#define KP_BATCH_TRANSACTIONAL 0x10
#define KP_BATCH_CONTROL 0x20

enum kp_compression {
	KP_COMPRESSION_NONE = 0,
	KP_COMPRESSION_GZIP = 1,
	KP_COMPRESSION_SNAPPY = 2,
	KP_COMPRESSION_LZ4 = 3,
	KP_COMPRESSION_ZSTD = 4,
};

struct kp_batch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/*
 * kp_crc32c - CRC-32C (Castagnoli) of `n` bytes at `p`, continuing from
 * `crc` (0 to start). kp_crc32c(0, "123456789", 9) == 0xe3069283.
 */
uint32_t kp_crc32c(uint32_t crc, const void *p, size_t n);

/*
 * kp_batch_header_put - append the 61-byte v2 header `h` to `out` (magic
 * 2; batchLength and crc written as 0, for kp_batch_seal once the records
 * follow). `out` grows as kp_buf does (out->oom on failure).
 */
void kp_batch_header_put(kp_buf *out, const struct kp_batch_header *h);

/*
 * kp_batch_seal - set batchLength and the CRC-32C of the batch that starts
 * at out->data[start] and ends at out->len (a header by
 * kp_batch_header_put, then its records). Returns 0, or -1 with KP_ENOMEM
 * (out->oom) or KP_ERANGE (larger than a batchLength can say).
 */
int kp_batch_seal(kp_buf *out, size_t start, kp_error *err);

/*
 * kp_batch_header_parse - parse the fixed header at `p` (`len` bytes
 * available, at least KP_BATCH_HEADER_SIZE) into `h`. Checks only that the
 * bytes are there and magic is 2. Returns 0, or -1 with KP_EPROTO
 * (too short, or another magic: h->magic is still filled when len >= 17).
 */
int kp_batch_header_parse(const uint8_t *p, size_t len, struct kp_batch_header *h, kp_error *err);

/*
 * kp_batch_validate - check the batch at `p` completely: header parses,
 * batchLength covers at least the header and fits in `len`, the CRC-32C
 * matches, lastOffsetDelta and recordCount are not negative. On success
 * fills `h` (may be NULL) and returns the batch's total size in bytes
 * (KP_BATCH_LOG_OVERHEAD + batchLength). Returns -1 with KP_ECORRUPT (CRC
 * mismatch: Kafka's CORRUPT_MESSAGE) or KP_EPROTO (bad sizes, magic) in
 * `err`.
 */
long kp_batch_validate(const uint8_t *p, size_t len, struct kp_batch_header *h, kp_error *err);

/*
 * kp_batch_set_base_offset / kp_batch_set_partition_leader_epoch - rewrite
 * those header fields of the batch at `p` in place. Neither is covered by
 * the CRC, so the batch stays valid (CLIENT-NOTES rule 10).
 */
void kp_batch_set_base_offset(uint8_t *p, int64_t base_offset);
void kp_batch_set_partition_leader_epoch(uint8_t *p, int32_t epoch);

/*
 * kp_batch_set_control - mark the whole batch at `p` (`len` bytes, as
 * built) a control batch (attribute bit 5) and recompute its CRC: how
 * LeaderChange, SnapshotHeader and SnapshotFooter batches are made
 * (Kafka's MemoryRecords.withLeaderChangeMessage and friends).
 */
void kp_batch_set_control(uint8_t *p, size_t len);

/*
 * kp_batch_set_log_append_time - the batch at `p` (`len` bytes, whole and
 * CRC-valid) gets maxTimestamp `now_ms` (wall clock ms) and the
 * timestamp-type attribute LogAppendTime, and a recomputed CRC: what a
 * leader does to a topic with message.timestamp.type=LogAppendTime
 * (Kafka's DefaultRecordBatch.setMaxTimestamp from LogValidator; the
 * records' own timestamps stay, consumers read the batch's).
 */
void kp_batch_set_log_append_time(uint8_t *p, size_t len, int64_t now_ms);

struct kp_record;

/*
 * kp_batch_control_record_next - the key and value of the record at *p in
 * the uncompressed records section of a control batch, which ends at
 * `end`: length, attributes, timestampDelta, offsetDelta, key, value and
 * headers (skipped), as KafkaRaftClient's control records are laid out.
 * Fills r->key, r->key_len, r->value and r->value_len (borrowed: they point
 * into the batch) and moves *p past the record; the other fields of `r`
 * are left alone. Returns false (*p unchanged, those fields of `r` not to
 * be used) when the record is malformed, has a null key or value, or runs
 * past `end`.
 */
bool kp_batch_control_record_next(const uint8_t **p, const uint8_t *end, struct kp_record *r);

#endif
