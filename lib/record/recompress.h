/*
 * recompress.h - a broker's compression.type (Kafka's topic config and
 * its broker default of the same name): batches produced with another
 * codec are rebuilt with the topic's before they are appended, as Kafka's
 * LogValidator.validateMessagesAndAssignOffsetsCompressed does when
 * source and target codecs differ (buildRecordsAndAssignOffsets).
 *
 *   compression.type   batches are stored
 *   producer           as produced (the default; Kafka's in-place path)
 *   uncompressed       without compression
 *   gzip, snappy,      with that codec, at compression.gzip.level,
 *   lz4, zstd          compression.lz4.level, compression.zstd.level
 *                      (KIP-390; compress.h has the ranges)
 *
 * A rebuilt batch keeps what Kafka's MemoryRecordsBuilder keeps: base
 * offset, partition leader epoch, producer id, epoch and base sequence,
 * the transactional flag, every record's key, value, headers and
 * timestamp. Like Kafka it gets record attributes 0, offset deltas
 * 0..n-1, the first record's timestamp as baseTimestamp, the largest
 * record timestamp as maxTimestamp (CreateTime: the caller sets
 * LogAppendTime afterwards, kp_batch_set_log_append_time), a new
 * batchLength and CRC.
 */
#ifndef KP_RECORD_RECOMPRESS_H
#define KP_RECORD_RECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/batch.h"
#include "util/buf.h"
#include "util/error.h"

/* compression.type=producer: no codec of its own (Kafka's BrokerCompressionType.PRODUCER). */
#define KP_COMPRESSION_PRODUCER (-1)

/*
 * kp_compression_type_parse - the codec of compression.type value `name`
 * (Kafka's BrokerCompressionType names: "uncompressed", "gzip", "snappy",
 * "lz4", "zstd", or "producer" for KP_COMPRESSION_PRODUCER; exact case,
 * blanks around it ignored, as ConfigDef trims) into *codec. Returns false,
 * *codec untouched, for any other value or NULL.
 */
bool kp_compression_type_parse(const char *name, int *codec);

/*
 * kp_batch_needs_recompress - whether a v2 batch with `attributes` is
 * rebuilt for target codec `target` (KP_COMPRESSION_PRODUCER or enum
 * kp_compression): not for "producer", nor when it already has the target
 * codec (Kafka's in-place assignment), nor for a control batch (Kafka
 * never compresses an uncompressed control batch, and clients may not
 * write control batches at all). Idempotent and transactional batches are
 * rebuilt like any other, as in Kafka.
 */
bool kp_batch_needs_recompress(int16_t attributes, int target);

/*
 * kp_batch_recompress - rebuild the v2 batch at `p` (`len` bytes: exactly
 * the batch, CRC-valid) with its records compressed by `codec` (enum
 * kp_compression, not KP_COMPRESSION_PRODUCER) at `level` (ignored for
 * none and snappy), appending it to `out` (caller-owned; on failure its
 * length is restored). The records are decompressed (at most
 * KP_DECOMPRESS_LIMIT bytes), checked as Kafka's DefaultRecord.readFrom
 * and LogValidator.validateBatch check them (recordCount positive and
 * equal to lastOffsetDelta + 1, exactly that many well-formed records, no
 * bytes left over) and re-encoded (see the top of this file). Returns 0,
 * or -1 with in `err`: KP_ECORRUPT (CRC mismatch, undecodable compressed
 * records: Kafka's CORRUPT_MESSAGE), KP_EPROTO (malformed batch or records:
 * INVALID_RECORD), KP_EINVAL (unknown codec or level:
 * UNSUPPORTED_COMPRESSION_TYPE), KP_ERANGE (over KP_DECOMPRESS_LIMIT or
 * 2 GiB), KP_ENOMEM.
 */
int kp_batch_recompress(const uint8_t *p, size_t len, int codec, int level, kp_buf *out,
			kp_error *err);

/*
 * kp_records_recompress - the batches in data[0..len) (one partition's
 * produced records, v2 batches only) for a topic whose compression.type is
 * `target` at `level`: when no batch needs rebuilding
 * (kp_batch_needs_recompress) returns 0 and leaves `out` alone; else
 * appends every batch to `out` (caller-owned), rebuilt or copied as it is,
 * and returns 1. Every batch is checked whole (kp_batch_validate) first,
 * so a corrupt one is never given a fresh CRC. Returns -1 with
 * kp_batch_validate's or kp_batch_recompress's error (`out` restored).
 */
int kp_records_recompress(const uint8_t *data, size_t len, int target, int level, kp_buf *out,
			  kp_error *err);

#endif
