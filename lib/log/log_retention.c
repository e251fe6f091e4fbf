/*
 * log_retention.c - retention by time and by size (cleanup.policy
 * "delete"): whole closed segments go from the front of the log and the
 * log start offset moves to the first segment kept (Kafka's
 * UnifiedLog.deleteRetentionMsBreachedSegments and
 * deleteRetentionSizeBreachedSegments, run by LogManager's
 * "kafka-log-retention" task every log.retention.check.interval.ms).
 *
 *   segs:  [base 0 ..][base 700 ..][base 1400 ..][base 2100 ... active]
 *           expired    expired     kept          never deleted
 *                                  ^ new log start offset 1400
 *
 * A segment is deletable only when it is not the active one and every
 * offset in it is below the high watermark (Kafka's upperBoundOffset <=
 * highWatermark): a record consumers cannot read yet is never deleted.
 * By time, the segment's largest record timestamp (its file's mtime when
 * no batch carries one, as Kafka's LogSegment.largestTimestamp) must be
 * more than retention.ms before now; by size, the oldest segments go
 * while what stays is still at least retention.bytes. Deletion stops at
 * the first segment that must stay, as in Kafka.
 */
#include "log/log_internal.h"

#include <sys/stat.h>

/* largest_ts - the segment's largest record timestamp, else its file's mtime (ms). */
static int64_t largest_ts(const struct kp_segment *seg)
{
	struct stat st;

	if (seg->max_ts >= 0)
		return seg->max_ts;
	if (stat(seg->path, &st) < 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* deletable - how many segments from the front may go at all: closed and below `high_watermark`. */
static size_t deletable(const kp_log *log, int64_t high_watermark)
{
	size_t n = 0;

	while (n + 1 < log->nsegs && log->segs[n + 1].base <= high_watermark)
		n++;
	return n;
}

/* by_time - how many of the first `max` segments are wholly older than retention.ms. */
static size_t by_time(const kp_log *log, size_t max, int64_t now_ms)
{
	size_t n = 0;

	if (log->cfg.retention_ms < 0)
		return 0;
	while (n < max) {
		int64_t ts = largest_ts(&log->segs[n]);

		if (ts < 0 || now_ms - ts <= log->cfg.retention_ms)
			break;
		n++;
	}
	return n;
}

/* by_size - how many of the first `max` segments may go with retention.bytes still kept. */
static size_t by_size(const kp_log *log, size_t max)
{
	int64_t over;
	size_t n = 0;

	if (log->cfg.retention_bytes < 0)
		return 0;
	over = kp_log_size_bytes(log) - log->cfg.retention_bytes;
	while (n < max && over - log->segs[n].size >= 0) {
		over -= log->segs[n].size;
		n++;
	}
	return n;
}

int kp_log_retention(kp_log *log, int64_t now_ms, int64_t high_watermark,
		     struct kp_log_retention_result *res, kp_error *err)
{
	size_t max, t, s, n;
	int deleted;

	res->segments = 0;
	res->bytes = 0;
	res->by_time = false;
	if (!log->cfg.cleanup_delete)
		return 0;
	max = deletable(log, high_watermark);
	t = by_time(log, max, now_ms);
	s = by_size(log, max);
	n = t > s ? t : s;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		res->bytes += log->segs[i].size;
	res->by_time = t >= s;
	/* Never below the log start offset already reached (DeleteRecords may be past segs[n].base). */
	if (log->segs[n].base <= log->start_offset) {
		res->bytes = 0;
		return 0;
	}
	if ((deleted = kp_log_advance_start(log, log->segs[n].base, err)) < 0)
		return -1;
	res->segments = (size_t)deleted;
	return 0;
}
