/*
 * snapshot.h - KRaft metadata snapshots on disk (KIP-630), in Kafka's own
 * file format so that a snapshot written here reads there and back:
 *
 *   DIR/00000000000000012345-0000000007.checkpoint     end offset - epoch
 *
 *   +---------------------------------------------------------------+
 *   | control batch: SnapshotHeaderRecord (version 0,                |
 *   |                lastContainedLogTimestamp)         offset 0     |
 *   | data batches:  the image's records, values framed as           |
 *   |                MetadataRecordSerde (record.h), up to            |
 *   |                KP_SNAPSHOT_BATCH_RECORDS a batch  offsets 1..n  |
 *   | control batch: SnapshotFooterRecord (version 0)    offset n + 1 |
 *   +---------------------------------------------------------------+
 *   every batch: RecordBatch v2, partitionLeaderEpoch = the epoch,
 *   CRC-32C checked on read; control record key = (version 0, type)
 *   with types SNAPSHOT_HEADER 3 and SNAPSHOT_FOOTER 4.
 *
 * A snapshot holds the state of every log entry below its end offset; the
 * epoch is that of the last such entry (Kafka's OffsetAndEpoch snapshot
 * id). It is written to NAME.part, fsynced and renamed, so a crash leaves
 * a whole snapshot or none (a stray .part is ignored and replaced).
 */
#ifndef KP_METADATA_SNAPSHOT_H
#define KP_METADATA_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metadata/image.h"
#include "util/buf.h"
#include "util/error.h"

#define KP_SNAPSHOT_BATCH_RECORDS 1000
#define KP_SNAPSHOT_SUFFIX ".checkpoint"

/*
 * kp_snapshot_path - "DIR/%020lld-%010d.checkpoint" for (end_offset,
 * epoch) into `out` (`size` bytes). Returns 0, or -1 with KP_ERANGE when
 * it does not fit.
 */
int kp_snapshot_path(char *out, size_t size, const char *dir, int64_t end_offset, int32_t epoch,
		     kp_error *err);

/*
 * kp_snapshot_parse_name - the snapshot id in a file name (no directory)
 * of the form above; false for any other name (.part files included).
 */
bool kp_snapshot_parse_name(const char *name, int64_t *end_offset, int32_t *epoch);

/*
 * kp_snapshot_encode - append to `out` the snapshot file bytes of `img`
 * (RecordsSnapshotWriter): header, the image's records
 * (kp_image_write_records), footer, all batches with `epoch`.
 * `last_timestamp_ms` is the append time of the last entry it covers.
 * Returns 0, or -1 with KP_ENOMEM / KP_EINVAL in `err`.
 */
int kp_snapshot_encode(const kp_image *img, int32_t epoch, int64_t last_timestamp_ms,
		       kp_buf *out, kp_error *err);

/*
 * kp_snapshot_write - write the snapshot of `img` with id (end_offset,
 * epoch) into `dir` atomically (NAME.part, fsync, rename, fsync of dir).
 * Returns 0, or -1 with KP_EIO / KP_ENOMEM in `err`.
 */
int kp_snapshot_write(const char *dir, const kp_image *img, int64_t end_offset, int32_t epoch,
		      int64_t last_timestamp_ms, kp_error *err);

/*
 * kp_snapshot_write_bytes - write snapshot file bytes data[0..len) (as
 * kp_snapshot_encode makes them, possibly with more control batches) as
 * snapshot (end_offset, epoch) in `dir` atomically, as kp_snapshot_write.
 * Returns 0, or -1 with KP_EIO / KP_ERANGE in `err`.
 */
int kp_snapshot_write_bytes(const char *dir, int64_t end_offset, int32_t epoch,
			    const uint8_t *data, size_t len, kp_error *err);

/*
 * kp_snapshot_decode - apply the records of the snapshot file bytes
 * data[0..len) to `img` (normally empty), each at offset end_offset - 1
 * and `epoch` (so kp_image_last_offset is end_offset - 1 afterwards).
 * Checks every batch's CRC, that the first batch is a SnapshotHeader
 * control batch and the last a SnapshotFooter one. Returns 0, or -1 with
 * KP_ECORRUPT (bad CRC, missing header or footer, trailing bytes),
 * KP_EPROTO (a malformed record) or the image's refusal in `err`; the
 * image may then hold part of the snapshot.
 */
int kp_snapshot_decode(const uint8_t *data, size_t len, int64_t end_offset, int32_t epoch,
		       kp_image *img, kp_error *err);

/*
 * kp_snapshot_load - read `path` (a snapshot file named as above) and
 * kp_snapshot_decode it into `img`. Returns 0 or -1 (KP_EIO, KP_EINVAL
 * for a name that is not a snapshot id, or the decode errors).
 */
int kp_snapshot_load(const char *path, kp_image *img, kp_error *err);

/*
 * kp_snapshot_latest - the newest snapshot in `dir` (largest end offset,
 * then epoch) into *end_offset / *epoch. Returns 1 when there is one, 0
 * when none, -1 with KP_EIO when `dir` cannot be read.
 */
int kp_snapshot_latest(const char *dir, int64_t *end_offset, int32_t *epoch, kp_error *err);

/*
 * kp_snapshot_delete_before - remove every snapshot in `dir` whose end
 * offset is below `end_offset`, and every stray .part file (Kafka keeps
 * only what the log start needs). Returns how many files were removed, or
 * -1 with KP_EIO.
 */
int kp_snapshot_delete_before(const char *dir, int64_t end_offset, kp_error *err);

#endif
