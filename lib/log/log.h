/*
 * log.h - one partition's log: an ordered sequence of record batches kept
 * in segment files in the partition's directory (TOPIC-PARTITION/):
 *
 *   00000000000000000000.log        batches exactly as appended (offsets assigned)
 *   00000000000000000000.index      sparse offset -> file position index
 *   00000000000000000000.timeindex  sparse timestamp -> offset index
 *   00000000000000001234.log ...    next segment, named by its base offset
 *   recovery-point                  offset below which everything is fsynced
 *   log-start-offset                the log start offset, when above the first segment's base
 *   leader-epoch-checkpoint         the leader epoch cache, in Kafka's format
 *   00000000000000001234.snapshot   idempotent producers' state at that offset
 *
 * The log assigns offsets by rewriting each appended batch's base offset,
 * and never reorders or re-encodes batches (a follower's append keeps the
 * leader's offsets). Opening a log recovers it: every batch after the
 * recovery point is checked (sizes, CRC-32C) and a torn or corrupt tail is
 * truncated to the last good batch.
 *
 * Each log keeps a leader epoch cache (Kafka's LeaderEpochFileCache,
 * KIP-101/KIP-279): for each leader epoch that wrote batches still in the
 * log, the first offset it wrote. Appends, truncations and start moves
 * keep it in step; OffsetForLeaderEpoch and Fetch's diverging-epoch check
 * read it (kp_log_epoch_end_offset).
 *
 * Each log also keeps the state of the idempotent producers writing it
 * (Kafka's ProducerStateManager, KIP-98): per producer id its epoch and
 * its last five batches' sequence numbers and offsets, snapshotted at
 * every roll and at close and rebuilt from the last snapshot and the
 * batches after it when the log opens or is truncated.
 *
 * Memory: a kp_log owns its file descriptors and index state; callers own
 * every buffer they pass in. Not thread-safe: one thread per log.
 */
#ifndef KP_LOG_LOG_H
#define KP_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

struct kp_log_config {
	int64_t segment_bytes;        /* log.segment.bytes: roll when the active segment would exceed it (default 1 GiB) */
	int64_t segment_ms;           /* log.roll.ms: roll when the active segment is older (default 7 days) */
	int32_t index_interval_bytes; /* log.index.interval.bytes: bytes between index entries (default 4096) */
	int32_t max_index_bytes;      /* log.index.size.max.bytes: index file capacity (default 10 MiB) */
	int64_t flush_messages;       /* log.flush.interval.messages: fsync after this many records (default INT64_MAX: never) */
	int64_t flush_ms;             /* log.flush.interval.ms: fsync unflushed data this old, via kp_log_flush_tick (default INT64_MAX: never) */
	struct kp_flusher *flusher;   /* borrowed (flusher.h): policy fsyncs run there; NULL: inline in kp_log_append */
	bool producer_state;          /* keep idempotent producers' state and its snapshots (default true; the metadata log: false) */
	bool persist_start;           /* keep the log start offset in log-start-offset across restarts (default true; the metadata log: false, its snapshot says) */
	/* Retention and compaction (topic configs over the broker's log.* defaults; lib/log reads
	 * them, the broker's retention task and log cleaner act on them): */
	int64_t retention_ms;         /* retention.ms / log.retention.{ms,minutes,hours}: -1 unlimited (default 7 days) */
	int64_t retention_bytes;      /* retention.bytes / log.retention.bytes: -1 unlimited (default) */
	bool cleanup_delete;          /* cleanup.policy has "delete": retention applies (default true) */
	bool cleanup_compact;         /* cleanup.policy has "compact": the log cleaner keeps the last record per key */
	int64_t delete_retention_ms;  /* delete.retention.ms: how long a cleaned tombstone stays readable (default 1 day) */
	double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio: dirty bytes / total before cleaning (default 0.5) */
	int64_t min_compaction_lag_ms;    /* min.compaction.lag.ms: a record stays uncompacted at least this long (default 0) */
	int64_t max_compaction_lag_ms;    /* max.compaction.lag.ms: a dirty record is cleaned within this long (default INT64_MAX) */
};

/* kp_log_config_default - Kafka's defaults for every field of `cfg`. */
void kp_log_config_default(struct kp_log_config *cfg);

typedef struct kp_log kp_log;

/*
 * kp_log_open - open (creating `dir` if missing) the partition log in
 * `dir`, recovering it as described above. `cfg` is copied. Returns 0 and
 * *out, or -1 with KP_EIO (filesystem) or KP_ECORRUPT (unrecoverable
 * layout) in `err` (KP_EINVAL for an invalid `cfg`). The leader epoch
 * cache is read from leader-epoch-checkpoint and completed from the
 * batches recovery scans; without a usable checkpoint (missing: a log
 * written before it existed; malformed) it is rebuilt from every batch
 * header, silently.
 */
int kp_log_open(const char *dir, const struct kp_log_config *cfg, kp_log **out, kp_error *err);

/* kp_log_close - flush and close `log` (NULL is fine); marks a clean shutdown. */
void kp_log_close(kp_log *log);

/* kp_log_start_offset / kp_log_end_offset - first offset kept; next offset to assign. */
int64_t kp_log_start_offset(const kp_log *log);
int64_t kp_log_end_offset(const kp_log *log);
/* kp_log_dir - the partition directory the log was opened in (owned by the log). */
const char *kp_log_dir(const kp_log *log);

/* kp_log_size_bytes - total bytes of all segments. */
int64_t kp_log_size_bytes(const kp_log *log);

/*
 * kp_log_append - append the record batches in `len` bytes at `batches`
 * (one or more v2 batches, as in a Produce request's Records field).
 * Every batch is validated first (kp_batch_validate); if any fails,
 * nothing is written and -1 is returned with KP_ECORRUPT (CRC: Kafka's
 * CORRUPT_MESSAGE) or KP_EPROTO (bad framing, or lastOffsetDeltas adding
 * up to more than 2^31 offsets, which no segment can hold: INVALID_RECORD).
 * Otherwise each batch's base offset is rewritten in place (the buffer is modified)
 * to the next offsets and its partition leader epoch set to
 * `leader_epoch`, the bytes are written to the active segment (rolling
 * first if needed), and *base_offset (may be NULL) gets the first
 * assigned offset; *last_offset (may be NULL) the last. The data is in
 * the page cache on return; fsync follows the flush policy.
 *
 * Batches with a producer id are an idempotent producer's and checked
 * against the producer state first (Kafka's checks for a client append,
 * KIP-98/KIP-360): a batch with the epoch and exact sequence range of one
 * of the producer's last five batches is a retry, and the append writes
 * nothing and returns 1 with *base_offset and *last_offset those of the
 * batch in the log and *duplicate_ts (may be NULL) its max timestamp,
 * which Kafka answers as the log append time; an older epoch fails
 * with KP_EKAFKA INVALID_PRODUCER_EPOCH, a sequence that does not follow
 * the producer's last one (or a new epoch not starting at 0) with KP_EKAFKA
 * OUT_OF_ORDER_SEQUENCE_NUMBER, nothing written; a producer id the state
 * does not know may start at any sequence.
 *
 * A `leader_epoch` greater than the latest in the epoch cache starts a new
 * epoch at the first assigned offset (Kafka's assign(epoch, startOffset));
 * a lower or negative one is written into the batches all the same but not
 * recorded. The checkpoint file is then rewritten, not fsynced (the flush
 * that advances the recovery point fsyncs it first); failing to write it
 * does not fail the append: the next flush writes it, or fails.
 */
int kp_log_append(kp_log *log, uint8_t *batches, size_t len, int32_t leader_epoch,
		  int64_t *base_offset, int64_t *last_offset, int64_t *duplicate_ts, kp_error *err);

/*
 * kp_log_append_replica - a follower's append (Kafka's appendAsFollower):
 * the record batches in `len` bytes at `batches`, as fetched from the
 * leader, are written exactly as they are (offsets and partition leader
 * epochs are the leader's; nothing is rewritten, the buffer is not
 * modified). Every batch is validated first, as by kp_log_append
 * (KP_ECORRUPT, KP_EPROTO; `len` 0 is KP_EPROTO). The first batch's base
 * offset must equal the log end offset and each next batch must start
 * right after the previous one's last offset, else -1 with KP_ERANGE and
 * nothing written: batches the log has already (an overlap, whether or not
 * their last offset is below the log end offset) are refused like a gap;
 * the caller fetches from the log end offset, or truncates first. The
 * epoch cache learns every new epoch seen: a batch whose epoch is greater
 * than the latest starts it at its base offset (a lower or negative
 * epoch is not recorded), and the producer state every batch with a
 * producer id, unchecked. *last_offset (may be NULL) gets the last offset
 * appended. fsync follows the flush policy. Returns 0 or -1 (KP_ECORRUPT,
 * KP_EPROTO, KP_ERANGE, KP_EIO, KP_ENOMEM).
 */
int kp_log_append_replica(kp_log *log, const uint8_t *batches, size_t len, int64_t *last_offset,
			  kp_error *err);

/* kp_log_latest_epoch - the latest leader epoch in the cache (that of the last batch appended), -1 when none. */
int32_t kp_log_latest_epoch(const kp_log *log);

/*
 * kp_log_epoch_end_offset - Kafka's LeaderEpochFileCache.endOffsetFor(epoch,
 * logEndOffset), what OffsetForLeaderEpoch answers and what a leader
 * compares a follower's last fetched epoch with (Fetch v12+ diverging
 * epoch). *found_epoch gets the largest epoch <= `epoch` the cache holds
 * and *end_offset the end of that epoch: the start offset of the first
 * epoch above `epoch`. Kafka's special cases, exactly:
 *
 *   `epoch`                                  *found_epoch   *end_offset
 *   -1 (UNDEFINED_EPOCH), or the cache empty  -1             -1
 *   the latest epoch                          `epoch`        the log end offset
 *   above the latest                          -1             -1
 *   below every epoch kept (and any other     `epoch`        the first epoch's start
 *   negative epoch)
 *
 * The last is Kafka's code (its javadoc says UNDEFINED_EPOCH_OFFSET): the
 * older epochs' data is gone, so a follower should replicate from the
 * first epoch kept on.
 */
void kp_log_epoch_end_offset(const kp_log *log, int32_t epoch, int32_t *found_epoch, int64_t *end_offset);

/*
 * kp_log_epoch_start_offset - the first offset of the latest epoch (Kafka's
 * leader epoch start offset), -1 when the cache is empty.
 */
int64_t kp_log_epoch_start_offset(const kp_log *log);

/*
 * kp_log_read - append to `out` whole batches starting with the one that
 * contains `offset`, stopping before any batch whose base offset is at or
 * past `max_offset` (exclusive; the high watermark, or INT64_MAX), and once
 * `max_bytes` would be exceeded, except that the first batch is always
 * returned whole even if larger (KIP-74). Appends nothing when `offset`
 * equals the log end offset. Returns 0, or -1 with KP_ERANGE (offset below
 * the log start offset or above the log end offset: Kafka's
 * OFFSET_OUT_OF_RANGE) or KP_EIO.
 */
int kp_log_read(kp_log *log, int64_t offset, int64_t max_offset, size_t max_bytes,
		kp_buf *out, kp_error *err);

/* One contiguous byte range of a segment file (kp_log_read_ranges). */
struct kp_log_range {
	int fd;      /* the segment's .log file; borrowed from the log, do not close */
	int64_t pos; /* file position of the first byte */
	int64_t len; /* bytes, > 0 */
};

/*
 * kp_log_read_ranges - like kp_log_read, but instead of copying the bytes
 * it fills out[0..*n) with the file ranges that hold them, one per segment
 * touched, in log order (at most `max_ranges`; the read stops early at a
 * segment boundary when they run out, which only shortens the answer).
 * *n is 0 when there is nothing to return. Errors as kp_log_read.
 *
 * The fds stay owned by the log. A range is valid while the log is open
 * and the segment is neither deleted nor truncated below pos + len
 * (kp_log_truncate_to, kp_log_advance_start, kp_log_reset_at,
 * kp_log_close) nor cooled (kp_log_cool_idle, which this call does not
 * do, so that several reads of one log for one answer all stay valid): a
 * caller that keeps ranges holds its own duplicate of the fd, as the
 * network layer does for queued responses (kp_net_conn_reply_files),
 * then calls kp_log_cool_idle; a deleted segment's bytes stay readable
 * through the duplicate.
 */
int kp_log_read_ranges(kp_log *log, int64_t offset, int64_t max_offset, size_t max_bytes,
		       struct kp_log_range *out, size_t max_ranges, size_t *n, kp_error *err);

/*
 * kp_log_cool_idle - close the files of the least recently read closed
 * segments below the recovery point beyond the few a log keeps open
 * (segment_cold.c), when a read warmed one or a roll or flush happened
 * since the last call; for callers of kp_log_read_ranges once the fds
 * they keep are duplicated (other reads, rolls and opens call it
 * themselves). Never fails: a segment is reopened by its next read.
 */
void kp_log_cool_idle(kp_log *log);

/*
 * kp_log_abandon - free `log` (NULL is fine) without writing anything: no
 * seal, flush, snapshot or checkpoint, only its flusher job waited for
 * and its files closed (Kafka's closeHandlers for a failed log dir, where
 * a write could block, fail, or record a recovery point over data the
 * disk lost). The next open recovers it from its last recovery point.
 */
void kp_log_abandon(kp_log *log);

/*
 * kp_log_offset_for_timestamp - the first offset whose batch's max
 * timestamp is >= `timestamp_ms` (ListOffsets by time, KIP-79), or -1 when
 * there is none. Sets *found_timestamp (may be NULL) to that batch's max
 * timestamp. A read error also returns -1, with err->code set (KP_EIO,
 * KP_ECORRUPT); "none" leaves err->code KP_EOK.
 */
int64_t kp_log_offset_for_timestamp(kp_log *log, int64_t timestamp_ms, int64_t *found_timestamp,
				    kp_error *err);

/*
 * kp_log_max_timestamp - the largest batch max timestamp in the log
 * (*timestamp_ms) and the last offset of the (first) batch holding it
 * (*offset): ListOffsets MAX_TIMESTAMP (-3, KIP-734). Returns false, with
 * both left alone, when no batch carries a timestamp (an empty log).
 */
bool kp_log_max_timestamp(const kp_log *log, int64_t *timestamp_ms, int64_t *offset);

/*
 * kp_log_flush - fsync every segment and index at or past the recovery
 * point, and the leader epoch checkpoint when it changed since its last
 * fsync, now, on the calling thread, then advance the recovery point to
 * the log end offset (Kafka's UnifiedLog.flush). Waits first for a flush
 * in flight on the flusher. For shutdown and tests, not the hot path.
 * Returns 0 or -1 (KP_EIO).
 */
int kp_log_flush(kp_log *log, kp_error *err);

/*
 * kp_log_sync_data - make every batch appended so far durable, cheaply:
 * fdatasync the .log file of each segment at or past the recovery point,
 * and nothing else - not the indexes, which recovery rebuilds above the
 * recovery point, nor the recovery-point checkpoint, which stays where it
 * was (a crash rescans a little more); once a segment was rolled since the
 * recovery point, a full kp_log_flush. For the KRaft metadata log, where
 * each append must be on disk before the replica reports it (KIP-595) and
 * a full kp_log_flush (five fsyncs) would dominate a controller's start.
 * Waits first for a flush in flight on the flusher. Returns 0 or -1
 * (KP_EIO).
 */
int kp_log_sync_data(kp_log *log, kp_error *err);

/*
 * kp_log_flush_tick - the time policy (Kafka's LogManager.flushDirtyLogs):
 * when the log has unflushed data and log.flush.interval.ms (cfg.flush_ms)
 * have passed since its last flush at wall clock `now_ms`, request a
 * flush (on the flusher when configured, else inline). Returns 0 or -1
 * (KP_EIO, KP_ENOMEM).
 */
int kp_log_flush_tick(kp_log *log, int64_t now_ms, kp_error *err);

/*
 * kp_log_recovery_point - the offset below which the data is known to be
 * on disk (fsynced); what the recovery-point file holds.
 */
int64_t kp_log_recovery_point(const kp_log *log);

/*
 * kp_log_truncate_to - remove every batch at or past `offset` (a follower
 * truncating to its leader's epoch boundary; Kafka's UnifiedLog.truncateTo).
 * Batches are never split: a batch containing `offset` goes entirely, so
 * the log end offset afterwards is <= `offset`. Later segments are
 * deleted. The epoch cache drops every entry starting at or past the new
 * log end offset (Kafka's truncateFromEndAsyncFlush(offset), which is the
 * same when `offset` is a batch boundary; the checkpoint is fsynced by
 * the next flush). Does nothing when `offset` >= the log end offset. Returns 0,
 * or -1 with KP_ERANGE (`offset` below the log start offset), KP_EIO or
 * KP_ECORRUPT.
 */
int kp_log_truncate_to(kp_log *log, int64_t offset, kp_error *err);

/*
 * kp_log_advance_start - raise the log start offset to `offset` (reads
 * and truncations below it fail from now on) and delete every segment
 * wholly below it (Kafka's maybeIncrementLogStartOffset then
 * deleteOldSegments: the segment holding `offset` stays whole). The
 * epoch cache drops the entries wholly below `offset` and the epoch
 * holding it now starts at `offset` (truncateFromStartAsyncFlush). Nothing
 * when `offset` is not above the start. With cfg.persist_start the start is
 * written durably to log-start-offset first and a reopened log starts
 * there (Kafka keeps it in log-start-offset-checkpoint); without, a
 * reopened log starts at its first segment's base, and the owner (the
 * metadata log, from its snapshot) raises it again. A segment's file
 * ranges (kp_log_read_ranges) die with it. Returns how many segments were
 * deleted, or -1 with KP_ERANGE (`offset` past the log end) or KP_EIO.
 */
int kp_log_advance_start(kp_log *log, int64_t offset, kp_error *err);

/*
 * kp_log_reset_at - delete every segment and start an empty log at
 * `offset` (start = end = `offset`; Kafka's truncateFullyAndStartAt, for
 * a replica that installed a snapshot ending there). The epoch cache is
 * emptied and its checkpoint fsynced (Kafka's clearAndFlush). Returns 0
 * or -1 with KP_EINVAL (negative offset) or KP_EIO.
 */
int kp_log_reset_at(kp_log *log, int64_t offset, kp_error *err);

/*
 * kp_log_expire_producers - forget the idempotent producers whose last
 * batch's timestamp is `expiration_ms` or more before wall clock `now_ms`
 * (producer.id.expiration.ms; Kafka's removeExpiredProducers), except
 * those with an open transaction. Returns how many were removed.
 */
size_t kp_log_expire_producers(kp_log *log, int64_t now_ms, int64_t expiration_ms);

/* kp_log_producer_count - how many producer ids the producer state holds. */
size_t kp_log_producer_count(const kp_log *log);

/* What one kp_log_retention pass deleted. */
struct kp_log_retention_result {
	size_t segments; /* segments deleted */
	int64_t bytes;   /* their bytes */
	bool by_time;    /* retention.ms decided it (else retention.bytes) */
};

/*
 * kp_log_retention - retention by time and size (log_retention.c; Kafka's
 * deleteRetentionMsBreachedSegments / deleteRetentionSizeBreachedSegments)
 * when cfg.cleanup_delete: deletes the oldest closed segments wholly
 * below `high_watermark` (offsets) whose largest timestamp is more than
 * cfg.retention_ms before wall clock `now_ms`, or while the log stays at
 * least cfg.retention_bytes without them, and advances the log start
 * offset to the first segment kept (kp_log_advance_start: persisted, the
 * epoch cache and producer snapshots follow). Never the active segment.
 * Fills *res (what went). Returns 0, or -1 with KP_EIO (nothing more is
 * deleted; what was deleted before the error stays deleted).
 */
int kp_log_retention(kp_log *log, int64_t now_ms, int64_t high_watermark,
		     struct kp_log_retention_result *res, kp_error *err);

/*
 * kp_log_set_config - apply changed settings to an open log (a topic's
 * configs altered: IncrementalAlterConfigs, Kafka's
 * UnifiedLog.updateConfig). Every field of `cfg` but flusher,
 * producer_state and persist_start (fixed at open) is copied; sizes take
 * effect at the next roll (segment.bytes, segment.index.bytes), the rest
 * at once. Returns whether anything changed.
 */
bool kp_log_set_config(kp_log *log, const struct kp_log_config *cfg);

/* kp_log_get_config - the log's settings (owned by the log, valid until it changes or closes). */
const struct kp_log_config *kp_log_get_config(const kp_log *log);

/* kp_log_segments_below - how many segments hold only offsets below `offset`. */
size_t kp_log_segments_below(const kp_log *log, int64_t offset);

#endif
