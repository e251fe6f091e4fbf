/*
 * log_start.c - moving a log's start forward: past a snapshot (Kafka's
 * UnifiedLog.maybeIncrementLogStartOffset followed by deleteOldSegments,
 * which deletes only whole segments), or to an empty log at any offset
 * (UnifiedLog.truncateFullyAndStartAt, after a snapshot is installed).
 *
 *   segs:  [base 0 ........][base 700 ......][base 1400 ... active]
 *   advance_start(900):     deleted  ^ start 900 (reads below fail)
 *
 * The leader epoch cache follows: truncateFromStartAsyncFlush(900) (the
 * epoch holding 900 now starts there), or emptied on a reset. Producer
 * snapshots below the first segment kept go with the segments (the
 * producers stay until they expire, as in Kafka); a reset forgets every
 * producer (truncateFullyAndStartAt).
 */
#include "log/log_internal.h"

#include <inttypes.h>
#include <string.h>

int kp_log_advance_start(kp_log *log, int64_t offset, kp_error *err)
{
	int deleted = 0;
	int64_t old;

	if (offset > kp_log_end_offset(log))
		return kp_error_set(err, KP_ERANGE, "%s: log start %" PRId64 " past the end %" PRId64,
				    log->dir, offset, kp_log_end_offset(log));
	if (offset <= log->start_offset)
		return 0;
	old = log->start_offset;
	log->start_offset = offset;
	if (kp_log_write_start(log, err) < 0) {
		log->start_offset = old;
		return -1;
	}
	if (kp_epoch_truncate_start(&log->epochs, offset))
		kp_log_epochs_changed(log);
	while (log->nsegs > 1 && log->segs[1].base <= offset) {
		if (kp_segment_unlink(&log->segs[0], err) < 0)
			return -1;
		memmove(&log->segs[0], &log->segs[1], (log->nsegs - 1) * sizeof(log->segs[0]));
		log->nsegs--;
		deleted++;
	}
	if (deleted > 0)
		kp_producer_snapshots_delete(log, log->segs[0].base, INT64_MAX);
	if (log->producers.map_end < offset)
		log->producers.map_end = offset;
	if (log->recovery_point < offset)
		log->recovery_point = offset;
	return deleted;
}

int kp_log_reset_at(kp_log *log, int64_t offset, kp_error *err)
{
	if (offset < 0)
		return kp_error_set(err, KP_EINVAL, "%s: cannot start at %" PRId64, log->dir, offset);
	if (log->cfg.flusher)
		kp_flusher_wait(log->cfg.flusher, log);
	if (kp_log_drop_segments(log, 0, err) < 0 || kp_log_add_segment(log, offset, true, err) < 0)
		return -1;
	log->start_offset = offset;
	log->recovery_point = offset;
	log->unflushed = 0;
	if (kp_log_write_start(log, err) < 0)
		return -1;
	kp_producer_state_clear(&log->producers);
	kp_producer_snapshots_delete(log, INT64_MAX, -1);
	log->producers.map_end = offset;
	kp_epoch_clear(&log->epochs); /* Kafka's clearAndFlush: durable before the recovery point */
	log->epochs.unwritten = true;
	if (kp_log_epochs_sync(log, err) < 0)
		return -1;
	return kp_log_write_recovery_point(log, err);
}

size_t kp_log_segments_below(const kp_log *log, int64_t offset)
{
	size_t n = 0;

	while (n + 1 < log->nsegs && log->segs[n + 1].base <= offset)
		n++;
	return n;
}
