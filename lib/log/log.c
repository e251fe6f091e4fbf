/*
 * log.c - the public partition log API of log.h over the segment list:
 * append (validate, assign offsets, roll, write; a follower's append keeps
 * the leader's offsets), read, lookup by timestamp, flush, close and
 * truncation, keeping the leader epoch cache (epoch.c) in step.
 *
 *   segs[0]            segs[1]                 segs[nsegs-1] (active)
 *   +----------------+ +---------------------+ +------------------+
 *   | base 0         | | base 1000           | | base 2417        |  <- appends
 *   +----------------+ +---------------------+ +------------------+
 *   ^ log start offset                                            ^ log end offset
 *
 * A read finds its segment by binary search over base offsets, then its
 * batch through the segment's offset index, and may continue into the
 * following segments while max_bytes allows. Each read stamps the
 * segments it touches and then lets the idle closed ones go cold
 * (segment_cold.c).
 */
#include "log/log_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log/flusher.h"
#include "util/clock.h"
#include "util/diag.h"

static struct kp_segment *active(const kp_log *log)
{
	return &log->segs[log->nsegs - 1];
}

int64_t kp_log_start_offset(const kp_log *log)
{
	return log->start_offset;
}

int64_t kp_log_end_offset(const kp_log *log)
{
	return active(log)->next_offset;
}

const char *kp_log_dir(const kp_log *log)
{
	return log->dir;
}

int64_t kp_log_size_bytes(const kp_log *log)
{
	int64_t n = 0;

	for (size_t i = 0; i < log->nsegs; i++)
		n += log->segs[i].size;
	return n;
}

/* what an append carries, gathered while validating */
struct append_info {
	int64_t offsets; /* offsets to assign: sum of lastOffsetDelta + 1 */
	int64_t records; /* sum of recordCount */
	int64_t max_ts;  /* largest maxTimestamp */
};

/* validate_all - kp_batch_validate every batch of the buffer; all or nothing. */
static int validate_all(const uint8_t *p, size_t len, struct append_info *ai, kp_error *err)
{
	struct kp_batch_header h;
	size_t off = 0;
	long n;

	memset(ai, 0, sizeof *ai);
	ai->max_ts = -1;
	if (len == 0)
		return kp_error_set(err, KP_EPROTO, "no record batches to append");
	if (len > INT32_MAX)
		return kp_error_set(err, KP_EPROTO, "append of %zu bytes is too large", len);
	while (off < len) {
		n = kp_batch_validate(p + off, len - off, &h, err);
		if (n < 0)
			return -1;
		ai->offsets += (int64_t)h.last_offset_delta + 1;
		ai->records += h.record_count;
		if (h.max_timestamp > ai->max_ts)
			ai->max_ts = h.max_timestamp;
		off += (size_t)n;
	}
	/* one segment must hold it: relative offsets are int32 (should_roll does the rest) */
	if (ai->offsets - 1 > INT32_MAX)
		return kp_error_set(err, KP_EPROTO, "append of %" PRId64 " offsets is too large", ai->offsets);
	return 0;
}

/* assign - rewrite base offsets from `next` on and set the leader epoch. */
static void assign(uint8_t *p, size_t len, int64_t next, int32_t leader_epoch)
{
	size_t off = 0;

	while (off < len) {
		uint8_t *b = p + off;

		kp_batch_set_base_offset(b, next);
		kp_batch_set_partition_leader_epoch(b, leader_epoch);
		next += (int64_t)(int32_t)kp_load_u32(b + 23) + 1;
		off += KP_BATCH_LOG_OVERHEAD + (size_t)(int32_t)kp_load_u32(b + 8);
	}
}

/*
 * should_roll - Kafka's LogSegment.shouldRoll: the active segment is not
 * empty and would outgrow segment_bytes, its index is full, the relative
 * offsets would overflow, or it is older than segment_ms (measured in
 * message time when its first batch has a timestamp, as Kafka does).
 */
static bool should_roll(const kp_log *log, size_t len, const struct append_info *ai)
{
	const struct kp_segment *s = active(log);
	int64_t waited;

	if (s->size == 0)
		return false;
	if (s->size + (int64_t)len > log->cfg.segment_bytes || kp_segment_index_full(s) ||
	    s->next_offset + ai->offsets - 1 - s->base > INT32_MAX)
		return true;
	waited = s->roll_ts >= 0 ? ai->max_ts - s->roll_ts : kp_wall_ms() - s->created_ms;
	return waited > log->cfg.segment_ms;
}

static int request_flush(kp_log *log, kp_error *err);

/*
 * roll - seal the active segment and start a new one at the log end
 * offset, with a producer state snapshot there (Kafka's roll; not
 * fsynced: a lost or torn one is replaced by an older one and a replay).
 * With a flusher, the sealed segment is flushed there at once, which
 * moves the recovery point up to the new segment (Kafka's roll schedules
 * flushUptoOffsetExclusive(newSegment.baseOffset)): recovery after a
 * crash rescans only the active segment, and closed segments may go
 * cold (segment_cold.c).
 */
static int roll(kp_log *log, kp_error *err)
{
	int64_t base = kp_log_end_offset(log);
	kp_error why;

	kp_segment_seal(active(log));
	if (kp_producer_snapshot_write(log, false, &why) < 0)
		kp_diag_warn("%s", why.msg);
	if (kp_log_add_segment(log, base, true, err) < 0)
		return -1;
	if (log->cfg.flusher && request_flush(log, &why) < 0)
		kp_diag_warn("%s", why.msg); /* the next flush covers it */
	log->use_clock++;
	log->cool_due = true;
	kp_log_cool_idle(log);
	return 0;
}

/*
 * request_flush - the flush policy triggered: hand the flush to the
 * flusher (or, while one is in flight, ask for another after it), or
 * flush inline without one.
 */
static int request_flush(kp_log *log, kp_error *err)
{
	log->unflushed = 0;
	log->last_flush_ms = kp_wall_ms();
	if (!log->cfg.flusher)
		return kp_log_flush(log, err);
	if (log->flushing) {
		log->flush_again = true;
		return 0;
	}
	return kp_flusher_submit(log->cfg.flusher, log, err);
}

int kp_log_flush_tick(kp_log *log, int64_t now_ms, kp_error *err)
{
	if (log->cfg.flush_ms == INT64_MAX || kp_log_end_offset(log) <= log->recovery_point ||
	    now_ms - log->last_flush_ms < log->cfg.flush_ms)
		return 0;
	return request_flush(log, err);
}

int64_t kp_log_recovery_point(const kp_log *log)
{
	return log->recovery_point;
}

/* flush_due - whether appending `ai` makes log.flush.interval.messages (cfg.flush_messages) ask for a flush. */
static bool flush_due(const kp_log *log, const struct append_info *ai)
{
	return log->unflushed + ai->records >= log->cfg.flush_messages;
}

/*
 * write_batches - write the `len` bytes at `batches` to the active
 * segment, with the flusher job of the flush the write will trigger made
 * first (*job, NULL when none is needed: no flusher, one in flight, or
 * not due), so that failing to make it refuses the append before anything
 * is written and queueing it after (appended) cannot fail. Returns 0 or
 * -1 (KP_EIO, KP_ENOMEM) having written nothing.
 */
static int write_batches(kp_log *log, const uint8_t *batches, size_t len, const struct append_info *ai,
			 struct kp_flush_job **job, kp_error *err)
{
	*job = NULL;
	if (log->cfg.flusher && !log->flushing && flush_due(log, ai) &&
	    kp_flusher_prepare(log, job, err) < 0)
		return -1;
	if (kp_segment_append(active(log), batches, len, &log->cfg, err) == 0)
		return 0;
	kp_flusher_discard(log, *job);
	*job = NULL;
	return -1;
}

/*
 * appended - after a write: count the records for the flush policy, and
 * apply it: queue `job` (write_batches made it; then this cannot fail),
 * or ask for a flush after the one in flight, or flush inline without a
 * flusher (which may fail: KP_EIO).
 */
static int appended(kp_log *log, const struct append_info *ai, struct kp_flush_job *job, kp_error *err)
{
	log->unflushed += ai->records;
	if (!job)
		return log->unflushed >= log->cfg.flush_messages ? request_flush(log, err) : 0;
	log->unflushed = 0;
	log->last_flush_ms = kp_wall_ms();
	kp_flusher_commit(log->cfg.flusher, job);
	return 0;
}

/*
 * undo_epoch - a failed write takes back the epoch it started at `base`
 * (assigned before the write, so that a flusher job made for the write
 * carries it in its checkpoint text).
 */
static void undo_epoch(kp_log *log, bool added, int64_t base)
{
	if (added && kp_epoch_truncate_end(&log->epochs, base))
		kp_log_epochs_changed(log);
}

/* append_duplicate - a retried batch: nothing written, its offsets in the log answer. */
static int append_duplicate(const struct kp_producer_append *pa, int64_t *base_offset,
			    int64_t *last_offset, int64_t *duplicate_ts)
{
	if (base_offset)
		*base_offset = pa->dup_first;
	if (last_offset)
		*last_offset = pa->dup_last;
	if (duplicate_ts)
		*duplicate_ts = pa->dup_timestamp;
	return 1;
}

int kp_log_append(kp_log *log, uint8_t *batches, size_t len, int32_t leader_epoch,
		  int64_t *base_offset, int64_t *last_offset, int64_t *duplicate_ts, kp_error *err)
{
	struct append_info ai;
	struct kp_producer_append pa = { 0 };
	struct kp_flush_job *job;
	bool new_epoch = leader_epoch >= 0 && leader_epoch > kp_log_latest_epoch(log);
	int64_t base;
	int rc = -1;

	if (duplicate_ts)
		*duplicate_ts = -1;
	if (validate_all(batches, len, &ai, err) < 0 ||
	    (log->cfg.producer_state &&
	     kp_producer_check(&log->producers, batches, len, kp_log_end_offset(log), &pa, err) < 0))
		goto out;
	if (pa.duplicate) {
		rc = append_duplicate(&pa, base_offset, last_offset, duplicate_ts);
		goto out;
	}
	if ((new_epoch && kp_epoch_reserve(&log->epochs, 1, err) < 0) ||
	    (should_roll(log, len, &ai) && roll(log, err) < 0))
		goto out;
	base = kp_log_end_offset(log);
	new_epoch = new_epoch && kp_epoch_assign(&log->epochs, leader_epoch, base) > 0;
	if (new_epoch)
		kp_log_epochs_changed(log);
	assign(batches, len, base, leader_epoch);
	if (write_batches(log, batches, len, &ai, &job, err) < 0) {
		undo_epoch(log, new_epoch, base);
		goto out;
	}
	kp_producer_commit(&log->producers, &pa, kp_log_end_offset(log));
	if (base_offset)
		*base_offset = base;
	if (last_offset)
		*last_offset = base + ai.offsets - 1;
	rc = appended(log, &ai, job, err);
out:
	kp_producer_append_free(&pa);
	return rc;
}

/*
 * replica_check - the batches (validated) must continue the log: the first
 * at the log end offset, each next one right after the previous one's last
 * offset. *new_epochs gets how many new epochs they bring. Returns 0 or -1
 * (KP_ERANGE).
 */
static int replica_check(const kp_log *log, const uint8_t *p, size_t len, size_t *new_epochs,
			 kp_error *err)
{
	int64_t next = kp_log_end_offset(log), base;
	int32_t latest = kp_log_latest_epoch(log), epoch;
	size_t off = 0;

	*new_epochs = 0;
	while (off < len) {
		base = (int64_t)kp_load_u64(p + off);
		epoch = (int32_t)kp_load_u32(p + off + 12);
		if (base != next)
			return kp_error_set(err, KP_ERANGE, "%s: replica batch at offset %" PRId64 ", expected %"
					    PRId64, log->dir, base, next);
		if (epoch >= 0 && epoch > latest) {
			latest = epoch;
			(*new_epochs)++;
		}
		next = base + (int32_t)kp_load_u32(p + off + 23) + 1;
		off += KP_BATCH_LOG_OVERHEAD + (size_t)(int32_t)kp_load_u32(p + off + 8);
	}
	return 0;
}

/* note_producers - the producer state learns the appended batches (unchecked: the leader checked them). */
static int note_producers(kp_log *log, const uint8_t *p, size_t len, kp_error *err)
{
	struct kp_batch_header h;

	if (!log->cfg.producer_state)
		return 0;
	for (size_t off = 0; off < len; off += KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length)
		if (kp_batch_header_parse(p + off, len - off, &h, err) < 0 ||
		    kp_producer_replay(&log->producers, &h, err) < 0)
			return -1;
	return 0;
}

/* note_epochs - the cache learns the new epochs of appended batches (room reserved). */
static void note_epochs(kp_log *log, const uint8_t *p, size_t len)
{
	bool changed = false;
	size_t off = 0;

	while (off < len) {
		if (kp_epoch_assign(&log->epochs, (int32_t)kp_load_u32(p + off + 12),
				    (int64_t)kp_load_u64(p + off)) > 0)
			changed = true;
		off += KP_BATCH_LOG_OVERHEAD + (size_t)(int32_t)kp_load_u32(p + off + 8);
	}
	if (changed)
		kp_log_epochs_changed(log);
}

int kp_log_append_replica(kp_log *log, const uint8_t *batches, size_t len, int64_t *last_offset,
			  kp_error *err)
{
	struct append_info ai;
	struct kp_flush_job *job;
	size_t new_epochs;
	int64_t base;

	if (validate_all(batches, len, &ai, err) < 0 ||
	    replica_check(log, batches, len, &new_epochs, err) < 0 ||
	    kp_epoch_reserve(&log->epochs, new_epochs, err) < 0 ||
	    (should_roll(log, len, &ai) && roll(log, err) < 0))
		return -1;
	base = kp_log_end_offset(log);
	if (new_epochs > 0)
		note_epochs(log, batches, len);
	if (write_batches(log, batches, len, &ai, &job, err) < 0) {
		undo_epoch(log, new_epochs > 0, base);
		return -1;
	}
	if (note_producers(log, batches, len, err) < 0) {
		kp_flusher_discard(log, job);
		return -1;
	}
	if (last_offset)
		*last_offset = base + ai.offsets - 1;
	return appended(log, &ai, job, err);
}

/*
 * log_read_start - where a read of `offset` begins: *seg gets the segment
 * index and *pos the file position of the batch holding `offset`. Returns
 * 0, 1 when there is nothing to read (offset is the log end offset), or -1
 * with KP_ERANGE (outside [log start offset, log end offset]) or KP_EIO.
 */
static int log_read_start(kp_log *log, int64_t offset, size_t *seg, int64_t *pos, kp_error *err)
{
	int64_t end = kp_log_end_offset(log);

	if (offset < log->start_offset || offset > end)
		return kp_error_set(err, KP_ERANGE, "%s: offset %" PRId64 " out of range [%" PRId64
				    ", %" PRId64 "]", log->dir, offset, log->start_offset, end);
	if (offset == end)
		return 1;
	*seg = kp_log_find_segment(log, offset);
	return kp_segment_find(kp_log_seg_use(log, *seg), offset, pos, err);
}

int kp_log_read(kp_log *log, int64_t offset, int64_t max_offset, size_t max_bytes,
		kp_buf *out, kp_error *err)
{
	size_t i = 0, taken = 0, len0 = out->len;
	int64_t pos = 0;
	int rc;

	log->use_clock++;
	rc = log_read_start(log, offset, &i, &pos, err);
	if (rc != 0)
		goto out;
	for (; i < log->nsegs; i++, pos = 0) {
		rc = kp_segment_read(kp_log_seg_use(log, i), pos, max_offset, max_bytes, &taken, out, err);
		if (rc != 0)
			break;
	}
out:
	if (rc < 0)
		out->len = len0;
	kp_log_cool_idle(log);
	return rc < 0 ? -1 : 0;
}

int kp_log_read_ranges(kp_log *log, int64_t offset, int64_t max_offset, size_t max_bytes,
		       struct kp_log_range *out, size_t max_ranges, size_t *n, kp_error *err)
{
	size_t i = 0, taken = 0;
	int64_t pos = 0, stop;
	int rc;

	*n = 0;
	log->use_clock++;
	rc = log_read_start(log, offset, &i, &pos, err);
	if (rc != 0)
		goto out;
	for (; i < log->nsegs && *n < max_ranges; i++, pos = 0) {
		rc = kp_segment_scan(kp_log_seg_use(log, i), pos, max_offset, max_bytes, &taken, &stop, err);
		if (rc < 0)
			break;
		if (stop > pos)
			out[(*n)++] = (struct kp_log_range){ log->segs[i].fd, pos, stop - pos };
		if (rc == 1)
			break;
	}
out:
	if (rc < 0)
		*n = 0;
	return rc < 0 ? -1 : 0; /* no cooling here: the caller cools once it holds dups (log.h) */
}

int64_t kp_log_offset_for_timestamp(kp_log *log, int64_t timestamp_ms, int64_t *found_timestamp,
				    kp_error *err)
{
	int64_t off = -1;

	kp_error_clear(err);
	log->use_clock++;
	for (size_t i = 0; i < log->nsegs; i++) {
		if (log->segs[i].max_ts < timestamp_ms)
			continue;
		if (kp_segment_find_timestamp(kp_log_seg_use(log, i), timestamp_ms, &off, found_timestamp,
					      err) < 0) {
			off = -1;
			break;
		}
		if (off >= 0)
			break;
	}
	kp_log_cool_idle(log);
	return off;
}

bool kp_log_max_timestamp(const kp_log *log, int64_t *timestamp_ms, int64_t *offset)
{
	const struct kp_segment *best = NULL;

	for (size_t i = 0; i < log->nsegs; i++)
		if (log->segs[i].max_ts >= 0 && (!best || log->segs[i].max_ts > best->max_ts))
			best = &log->segs[i];
	if (!best)
		return false;
	*timestamp_ms = best->max_ts;
	*offset = best->max_ts_offset;
	return true;
}

int kp_log_flush(kp_log *log, kp_error *err)
{
	int64_t end = kp_log_end_offset(log);

	if (log->cfg.flusher)
		kp_flusher_wait(log->cfg.flusher, log);
	log->flush_again = false;
	log->last_flush_ms = kp_wall_ms();
	if (kp_log_epochs_sync(log, err) < 0) /* durable before the recovery point passes its entries */
		return -1;
	if (end == log->recovery_point) {
		log->unflushed = 0; /* everything below the recovery point is durable already */
		return 0;
	}
	for (size_t i = kp_log_find_segment(log, log->recovery_point); i < log->nsegs; i++)
		if (kp_segment_sync(&log->segs[i], err) < 0)
			return -1;
	log->unflushed = 0;
	log->recovery_point = end;
	log->cool_due = true; /* closed segments below it may go cold */
	return kp_log_write_recovery_point(log, err);
}

int kp_log_sync_data(kp_log *log, kp_error *err)
{
	size_t first = kp_log_find_segment(log, log->recovery_point);

	if (first + 1 < log->nsegs) /* a segment was rolled since: make its file and the */
		return kp_log_flush(log, err); /* recovery point durable the full way */
	if (log->cfg.flusher)
		kp_flusher_wait(log->cfg.flusher, log);
	for (size_t i = first; i < log->nsegs; i++)
		if (kp_segment_sync_data(&log->segs[i], err) < 0)
			return -1;
	return 0;
}

/*
 * kp_log_truncate_to - remove every batch at or past `offset` (a follower
 * truncating to its leader's epoch boundary; Kafka's UnifiedLog.truncateTo).
 * Batches are never split: a batch containing `offset` goes entirely,
 * so the log end offset afterwards is <= `offset`. Segments past it are
 * deleted; the first segment is kept (possibly empty). The epoch cache
 * drops the entries starting at or past the new log end offset (Kafka's
 * truncateFromEndAsyncFlush: written now, fsynced by the next flush).
 * Does nothing when `offset` >= the log end offset. Returns 0, or -1 with
 * KP_ERANGE (`offset` below the log start offset), KP_EIO or KP_ECORRUPT.
 */
int kp_log_truncate_to(kp_log *log, int64_t offset, kp_error *err)
{
	size_t i = kp_log_find_segment(log, offset);

	if (offset < log->start_offset)
		return kp_error_set(err, KP_ERANGE, "%s: cannot truncate to %" PRId64 " below the log start %"
				    PRId64, log->dir, offset, log->start_offset);
	if (offset >= kp_log_end_offset(log))
		return 0;
	if (log->cfg.flusher) /* its recovery-point write must not follow ours */
		kp_flusher_wait(log->cfg.flusher, log);
	if (i > 0 && log->segs[i].base == offset)
		i--;
	if (kp_log_drop_segments(log, i + 1, err) < 0 ||
	    kp_segment_truncate_to(&log->segs[i], offset, &log->cfg, err) < 0)
		return -1;
	if (kp_epoch_truncate_end(&log->epochs, kp_log_end_offset(log)))
		kp_log_epochs_changed(log);
	if (kp_producer_state_reload(log, err) < 0)
		return -1;
	if (log->recovery_point <= kp_log_end_offset(log))
		return 0;
	log->recovery_point = kp_log_end_offset(log);
	return kp_log_write_recovery_point(log, err);
}

void kp_log_close(kp_log *log)
{
	kp_error err;

	if (!log)
		return;
	if (log->nsegs > 0) {
		kp_segment_seal(active(log));
		if (kp_log_flush(log, &err) < 0 || kp_producer_snapshot_write(log, true, &err) < 0)
			kp_diag_warn("%s", err.msg);
	}
	kp_log_abandon(log);
}

void kp_log_abandon(kp_log *log)
{
	if (!log)
		return;
	if (log->cfg.flusher)
		kp_flusher_wait(log->cfg.flusher, log); /* the job points at the log */
	for (size_t i = 0; i < log->nsegs; i++)
		kp_segment_close(&log->segs[i]);
	kp_epoch_free(&log->epochs);
	kp_producer_state_free(&log->producers);
	free(log->segs);
	free(log->dir);
	free(log);
}

size_t kp_log_expire_producers(kp_log *log, int64_t now_ms, int64_t expiration_ms)
{
	return kp_producer_expire(&log->producers, now_ms, expiration_ms);
}

size_t kp_log_producer_count(const kp_log *log)
{
	return HASH_COUNT(log->producers.map);
}
