/*
 * legacy.h - converting between legacy message sets (magic 0 and 1, as in
 * Produce v0-v2 and Fetch v0-v3) and v2 record batches, so the broker can
 * store one format and still serve old clients (protocol guide, "Message
 * Sets"; KIP-32 for the magic 1 timestamp; KIP-98 for v2 batches).
 *
 * Legacy message, one entry of a message set (ints big-endian):
 *
 *   +--------+------+-----+-------+------+------------+------+-----+------+-------+
 *   | offset | size | crc | magic | attr | timestamp  | kLen | key | vLen | value |
 *   |   8    |  4   |  4  |   1   |  1   | 8 (v1 only)|  4   |     |  4   |       |
 *   +--------+------+-----+-------+------+------------+------+-----+------+-------+
 *
 * size counts the bytes after itself; crc is zlib's CRC-32 of magic..end;
 * key/value length -1 means null; attr bits 0-2 are the codec (a
 * compressed "wrapper" carries an inner message set as its value) and bit
 * 3 the timestamp type (magic 1). Legacy messages have no headers.
 */
#ifndef KP_RECORD_LEGACY_H
#define KP_RECORD_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/*
 * kp_legacy_to_batch - convert the legacy message set of `len` bytes at
 * `data` (magic 0 and/or 1 entries, compressed wrappers allowed, no
 * trailing partial entry) into one uncompressed v2 batch appended to
 * `out` (caller-owned): base offset 0, offset deltas 0..n-1, timestamps
 * from magic 1 messages or -1 for magic 0, producer id/epoch and base
 * sequence -1, partitionLeaderEpoch -1, CRC set. Every legacy CRC is
 * checked first. Returns 0, or -1 with KP_ECORRUPT (CRC mismatch or
 * malformed message), KP_EPROTO (empty set, truncated entry, other
 * magic), KP_EINVAL (unsupported codec), KP_ERANGE (decompression bomb)
 * or KP_ENOMEM in `err`; on failure nothing is appended.
 */
int kp_legacy_to_batch(const uint8_t *data, size_t len, kp_buf *out, kp_error *err);

/*
 * kp_batch_to_legacy - convert the records in `len` bytes at `data` (v2
 * batches, possibly compressed, or legacy entries; a trailing partial
 * batch is ignored as in a fetch) into an uncompressed message set of
 * `magic` 0 or 1 with absolute offsets, appended to `out` (caller-owned),
 * for Fetch v0-v3 responses. Control batches are skipped and record
 * headers dropped; magic 1 messages carry the record timestamp with
 * attributes 0. Returns 0, or -1 with KP_EINVAL (magic not 0 or 1,
 * unsupported codec), KP_ECORRUPT/KP_EPROTO (bad input, as
 * kp_record_iter_next) or KP_ENOMEM in `err`; on failure nothing is
 * appended.
 */
int kp_batch_to_legacy(const uint8_t *data, size_t len, int8_t magic, kp_buf *out, kp_error *err);

#endif
