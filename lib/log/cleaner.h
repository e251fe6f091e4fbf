/*
 * cleaner.h - log compaction (cleanup.policy=compact): keep only the
 * last record of each key in the closed segments of a log (Kafka's
 * LogCleaner, Cleaner, LogCleanerManager and SkimpyOffsetMap).
 *
 *   log start          cleaner checkpoint   first uncleanable      log end
 *   |   clean section  |   dirty section    |  uncleanable ...     |
 *   +------------------+--------------------+----------------------+
 *   | cleaned before   | keys -> last offset| active segment, above |
 *   |                  | (the offset map)   | the high watermark or |
 *   |                  |                    | min.compaction.lag.ms |
 *   +------------------+--------------------+----------------------+
 *   <---- rewritten: a record stays if the map has no later offset ---->
 *                       for its key (and a tombstone until its horizon)
 *
 * A log is only touched on its own thread (the event loop), so one
 * cleaning is three calls:
 *
 *   loop:     kp_log_clean_begin   pick the range, snapshot it into a job
 *                                   (dup'd fds, sizes: no pointer into the log)
 *   cleaner:  kp_clean_job_run     build the offset map, write BASE.log.cleaned
 *                                   (+ indexes) for each group of segments
 *   loop:     kp_log_clean_finish  check the segments are unchanged, swap the
 *                                   cleaned ones in (crash-safe), checkpoint
 *
 * Offsets never change: a filtered batch keeps its base offset and last
 * offset delta, its records their offset deltas. The cleaner checkpoint
 * (the first dirty offset) lives in the partition directory, in
 * `cleaner-offset-checkpoint` ("<offset> <crc>\n", written atomically;
 * crc: of the batch holding offset - 1, -1 for none); Kafka keeps one
 * such file per log dir for all its partitions. A checkpoint whose batch
 * CRC no longer matches (a follower truncated below it and wrote other
 * batches) counts as the log start, as one past the log end does: Kafka
 * lowers its checkpoint at truncation (maybeTruncateCheckpoint).
 */
#ifndef KP_LOG_CLEANER_H
#define KP_LOG_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"
#include "util/error.h"

#define KP_CLEANER_CHECKPOINT "cleaner-offset-checkpoint"

/* Kafka's log.cleaner.dedupe.buffer.size default: 128 MiB of offset map. */
#define KP_CLEANER_DEDUPE_DEFAULT ((int64_t)134217728)

struct kp_clean_job;

/* How dirty a compacted log is (Kafka's LogToClean). */
struct kp_clean_stats {
	int64_t first_dirty;       /* the cleaner checkpoint, within [log start, log end] */
	int64_t first_uncleanable; /* base offset of the first segment that cannot be cleaned */
	int64_t clean_bytes;       /* bytes of the segments below first_dirty */
	int64_t cleanable_bytes;   /* bytes of the segments in [first_dirty, first_uncleanable) */
	double ratio;              /* cleanable / (clean + cleanable), 0 when both are 0 */
	bool must_clean;           /* max.compaction.lag.ms passed for some dirty segment */
	bool eligible;             /* compacted, and ratio > min.cleanable.dirty.ratio or must_clean */
};

/*
 * kp_log_clean_stats - how dirty `log` is at wall clock `now_ms`
 * (Kafka's LogCleanerManager.cleanableOffsets and LogToClean): the
 * cleanable section ends before the active segment, before the segment
 * holding `first_uncleanable_limit` (the high watermark; Kafka's last
 * stable offset), and before the first dirty segment whose largest
 * timestamp is within min.compaction.lag.ms of `now_ms`. A log not
 * compacted (cfg.cleanup_compact false) is never eligible. Never fails:
 * a missing or malformed checkpoint counts as the log start offset.
 */
void kp_log_clean_stats(const kp_log *log, int64_t now_ms, int64_t first_uncleanable_limit,
			struct kp_clean_stats *st);

/*
 * kp_log_clean_begin - on the log's thread: when kp_log_clean_stats finds
 * `log` eligible, *job gets a cleaning of every closed segment below the
 * first uncleanable offset (owned by the caller: run it, then finish or
 * free it). Otherwise *job is NULL. The job holds its own duplicates of
 * the segments' fds, the directory path, the segments' identities (base,
 * size, last batch header) and the idempotent producers' last data
 * offsets, and no pointer into `log`. Returns 0, or -1 with KP_ENOMEM or
 * KP_EIO (dup, a read of a batch header).
 */
int kp_log_clean_begin(kp_log *log, int64_t now_ms, int64_t first_uncleanable_limit,
		       struct kp_clean_job **job, kp_error *err);

/*
 * kp_clean_job_run - on any thread, touching nothing but `job`: build
 * the offset map (key -> last offset) of the dirty section in at most
 * `dedupe_buffer_bytes` (log.cleaner.dedupe.buffer.size: 24 bytes a key;
 * when it fills, only the offsets it covers are cleaned this time, as
 * Kafka does), then write each group of segments below the map's end
 * (Kafka's groupSegmentsBySize: at most segment.bytes and index capacity
 * together) into DIR/BASE.log.cleaned (+ .index.cleaned, .timeindex.cleaned),
 * fsynced. Records kept: the latest of their key, those past the map's
 * end, those without a key (Kafka drops them; kpipe refuses them at
 * produce time instead), tombstones until their batch's delete horizon
 * (KIP-534: the first cleaning that keeps a tombstone sets the horizon to
 * `now_ms` + delete.retention.ms; a later cleaning after it drops them).
 * An idempotent producer's last batch and the last batch before the first
 * uncleanable offset stay, emptied if need be (header only). Control
 * batches stay whole (kpipe has no transactions yet). Compressed batches
 * are re-compressed with their codec. Returns 0, or -1 with KP_EIO,
 * KP_ENOMEM, KP_ECORRUPT (a bad batch: the log is not cleaned) or
 * KP_ECANCELED-like KP_EINVAL when kp_clean_job_abort stopped it; the
 * files written are removed by kp_clean_job_free.
 */
int kp_clean_job_run(struct kp_clean_job *job, int64_t dedupe_buffer_bytes, int64_t now_ms,
		     kp_error *err);

/*
 * kp_clean_job_abort - ask a running kp_clean_job_run to stop soon (any
 * thread; Kafka's checkDone). The run then fails with KP_EINVAL.
 */
void kp_clean_job_abort(struct kp_clean_job *job);

/*
 * kp_log_clean_finish - on the log's thread, after a successful run:
 * when every segment the job cleaned is still in `log`, closed and
 * unchanged (base, size, end, last batch header), swap each group's
 * cleaned segment in for it (Kafka's replaceSegments: rename .cleaned ->
 * .swap, delete the old files, rename .swap -> final; an interrupted swap
 * is completed or discarded when the log next opens), load its indexes,
 * and move the cleaner checkpoint to the first offset not cleaned.
 * Otherwise (a truncation or retention changed the log meanwhile) the
 * cleaned files are deleted and the log left alone. Readers holding
 * duplicates of an old segment's fd keep reading its old bytes. The job
 * stays the caller's (kp_clean_job_free). Returns 1 when swapped, 0 when
 * discarded, -1 with KP_EIO or KP_ENOMEM (the log stays readable; what
 * was renamed is completed by recovery at the next open).
 */
int kp_log_clean_finish(kp_log *log, struct kp_clean_job *job, kp_error *err);

/* kp_clean_job_free - close the job's fds, delete the cleaned files it still owns, free it (NULL is fine). */
void kp_clean_job_free(struct kp_clean_job *job);

/* kp_clean_job_dir - the partition directory the job cleans (owned by the job). */
const char *kp_clean_job_dir(const struct kp_clean_job *job);

/* What a run did (for logs and the benchmark). */
struct kp_clean_result {
	int64_t end_offset;    /* the new checkpoint: first offset not cleaned */
	int64_t bytes_read;    /* of the segments rewritten */
	int64_t bytes_written; /* of the cleaned segments */
	int64_t records_read, records_kept;
	size_t segments_in, segments_out;
};

/* kp_clean_job_result - what the run of `job` did (zeros before). */
void kp_clean_job_result(const struct kp_clean_job *job, struct kp_clean_result *out);

/*
 * kp_log_cleaner_checkpoint - the cleaner checkpoint of `log` (the first
 * dirty offset); the log start offset when none was written, when it is
 * outside [log start, log end], or when the batch before it changed.
 */
int64_t kp_log_cleaner_checkpoint(const kp_log *log);

#endif
