/*
 * cleaner_begin.c - which part of a log the cleaner may clean, how dirty
 * it is, and the job that snapshots it (Kafka's
 * LogCleanerManager.cleanableOffsets / grabFilthiestCompactedLog and
 * LogToClean), on the log's thread.
 *
 *   segs:  [0]      [1]      [2]  ...  [k]          ...   [nsegs-1]
 *          |<- clean ->|<------ dirty ------>|<- uncleanable: active,
 *                      ^ first dirty         ^ first uncleanable   HW, lag
 *                        (checkpoint)          (a segment base)
 *
 *   ratio = bytes(segments overlapping [first dirty, first uncleanable))
 *           / (that + bytes(segments below first dirty))
 *
 * The cleaner checkpoint is DIR/cleaner-offset-checkpoint, "<offset>\n".
 */
#include "log/cleaner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"

/*
 * kp_cleaner_checkpoint_read - DIR/cleaner-offset-checkpoint: "<offset>
 * <crc>\n", the first dirty offset and the CRC of the batch holding the
 * offset before it (-1: none to check). *crc (may be NULL) gets the CRC.
 * Returns the offset, -1 when the file is absent or malformed.
 */
int64_t kp_cleaner_checkpoint_read(const char *dir, int64_t *crc)
{
	char path[PATH_MAX], text[64] = "", *end;
	long long v, c = -1;
	FILE *f;

	if (snprintf(path, sizeof path, "%s/%s", dir, KP_CLEANER_CHECKPOINT) >= (int)sizeof path ||
	    !(f = fopen(path, "re")))
		return -1;
	if (!fgets(text, sizeof text, f))
		text[0] = 0;
	fclose(f);
	errno = 0;
	v = strtoll(text, &end, 10);
	if (*end == ' ')
		c = strtoll(end + 1, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || v < 0)
		return -1;
	if (crc)
		*crc = c;
	return v;
}

/* kp_cleaner_checkpoint_write - store "`offset` `crc`" in DIR/cleaner-offset-checkpoint durably. */
int kp_cleaner_checkpoint_write(const char *dir, int64_t offset, int64_t crc, kp_error *err)
{
	char path[PATH_MAX], text[64];

	snprintf(text, sizeof text, "%" PRId64 " %" PRId64 "\n", offset, crc);
	if (snprintf(path, sizeof path, "%s/%s", dir, KP_CLEANER_CHECKPOINT) >= (int)sizeof path)
		return kp_error_set(err, KP_EINVAL, "%s: path too long", dir);
	return kp_write_file_atomic(path, text, err);
}

/*
 * kp_log_batch_crc_before - the CRC of the batch holding `offset` - 1 in
 * `log`, -1 when there is none (or it cannot be read): what the cleaner
 * checkpoint remembers to notice a truncation that rewrote the clean
 * section (Kafka lowers its checkpoint in maybeTruncateCheckpoint).
 */
int64_t kp_log_batch_crc_before(const kp_log *log, int64_t offset)
{
	struct kp_segment *s;
	struct kp_batch_header h;
	int64_t pos;
	kp_error err;

	if (offset <= log->start_offset || offset > kp_log_end_offset(log))
		return -1;
	s = &log->segs[kp_log_find_segment(log, offset - 1)];
	if (kp_segment_find(s, offset - 1, &pos, &err) < 0 || pos >= s->size ||
	    kp_segment_read_header(s, pos, &h, &err) < 0 || h.base_offset > offset - 1)
		return -1;
	return h.crc;
}

int64_t kp_log_cleaner_checkpoint(const kp_log *log)
{
	int64_t crc = -1, c = kp_cleaner_checkpoint_read(log->dir, &crc);

	/* Kafka resets an offset below the start or past the end to the start */
	if (c < log->start_offset || c > kp_log_end_offset(log))
		return log->start_offset;
	/* a truncation below it, and other batches written since: all dirty again */
	if (crc >= 0 && kp_log_batch_crc_before(log, c) != crc)
		return log->start_offset;
	return c;
}

/*
 * first_uncleanable - the base offset of the first segment the cleaner
 * may not touch: the active one, the one holding `limit`, or the first
 * dirty one with a record newer than min.compaction.lag.ms.
 */
static int64_t first_uncleanable(const kp_log *log, int64_t first_dirty, int64_t now_ms, int64_t limit)
{
	size_t last = log->nsegs - 1, i;
	int64_t lag = log->cfg.min_compaction_lag_ms > 0 ? log->cfg.min_compaction_lag_ms : 0;

	i = kp_log_find_segment(log, limit < 0 ? 0 : limit); /* the segment holding the limit */
	if (i < last)
		last = i;
	if (lag > 0)
		for (i = kp_log_find_segment(log, first_dirty); i < last; i++)
			if (log->segs[i].max_ts > now_ms - lag) {
				last = i;
				break;
			}
	return log->segs[last].base;
}

/* must_clean - max.compaction.lag.ms: a dirty closed segment's first batch is older than allowed. */
static bool must_clean(const kp_log *log, int64_t first_dirty, int64_t now_ms)
{
	int64_t lag = log->cfg.max_compaction_lag_ms > 0 ? log->cfg.max_compaction_lag_ms : 0;

	if (lag == INT64_MAX)
		return false;
	for (size_t i = kp_log_find_segment(log, first_dirty); i + 1 < log->nsegs; i++)
		if (log->segs[i].roll_ts > 0 && log->segs[i].roll_ts < now_ms - lag)
			return true;
	return false;
}

void kp_log_clean_stats(const kp_log *log, int64_t now_ms, int64_t first_uncleanable_limit,
			struct kp_clean_stats *st)
{
	int64_t dirty = kp_log_cleaner_checkpoint(log), un;

	memset(st, 0, sizeof *st);
	st->first_dirty = dirty;
	un = first_uncleanable(log, dirty, now_ms, first_uncleanable_limit);
	st->first_uncleanable = un > dirty ? un : dirty;
	for (size_t i = 0; i < log->nsegs; i++) {
		const struct kp_segment *s = &log->segs[i];
		int64_t end = i + 1 < log->nsegs ? log->segs[i + 1].base : INT64_MAX;

		if (s->base < dirty)
			st->clean_bytes += s->size;
		if (s->base < un && end > dirty)
			st->cleanable_bytes += s->size;
	}
	if (st->clean_bytes + st->cleanable_bytes > 0)
		st->ratio = (double)st->cleanable_bytes / (double)(st->clean_bytes + st->cleanable_bytes);
	st->must_clean = must_clean(log, dirty, now_ms);
	st->eligible = log->cfg.cleanup_compact && log->nsegs > 1 &&
		       ((st->must_clean && st->cleanable_bytes > 0) ||
			st->ratio > log->cfg.min_cleanable_dirty_ratio);
}

/* snap_segment - segment `s` (warmed: segment_cold.c) into `c`: its identity and a dup of its fd. */
static int snap_segment(struct kp_segment *s, struct kp_clean_seg *c, kp_error *err)
{
	struct kp_batch_header h;
	int64_t pos = s->last_index_pos;

	if (kp_segment_ready(s, err) < 0)
		return -1;
	c->base = s->base;
	c->next_offset = s->next_offset;
	c->size = s->size;
	c->max_ts = s->max_ts;
	c->index_bytes = (int64_t)s->oix.n * 8;
	c->timeindex_bytes = (int64_t)s->tix.n * 12;
	c->fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (c->fd < 0)
		return kp_error_errno(err, "%s: dup", s->path);
	/* the last batch header: scan on from the last index entry */
	for (; pos < s->size; pos += KP_BATCH_LOG_OVERHEAD + h.batch_length) {
		if (kp_segment_read_header(s, pos, &h, err) < 0 ||
		    kp_pread_full(s->fd, c->last, sizeof c->last, pos, s->path, err) < 0)
			return -1;
	}
	return 0;
}

static int cmp_producer(const void *a, const void *b)
{
	int64_t x = ((const struct kp_clean_producer *)a)->producer_id;
	int64_t y = ((const struct kp_clean_producer *)b)->producer_id;

	return (x > y) - (x < y);
}

/* snap_producers - every producer's last data offset, sorted by id. */
static int snap_producers(const kp_log *log, struct kp_clean_job *j, kp_error *err)
{
	struct kp_producer_entry *e, *tmp;
	size_t n = HASH_COUNT(log->producers.map);

	j->producers = calloc(n ? n : 1, sizeof *j->producers);
	if (!j->producers)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
	HASH_ITER(hh, log->producers.map, e, tmp) {
		if (e->nbatches == 0)
			continue;
		j->producers[j->nproducers].producer_id = e->producer_id;
		j->producers[j->nproducers++].last_offset = e->batches[e->nbatches - 1].last_offset;
	}
	qsort(j->producers, j->nproducers, sizeof *j->producers, cmp_producer);
	return 0;
}

int kp_log_clean_begin(kp_log *log, int64_t now_ms, int64_t first_uncleanable_limit,
		       struct kp_clean_job **job, kp_error *err)
{
	struct kp_clean_stats st;
	struct kp_clean_job *j;
	size_t n = 0;

	*job = NULL;
	kp_log_clean_stats(log, now_ms, first_uncleanable_limit, &st);
	if (!st.eligible)
		return 0;
	while (n + 1 < log->nsegs && log->segs[n].base < st.first_uncleanable)
		n++;
	if (n == 0)
		return 0;
	if (!(j = calloc(1, sizeof *j)) || !(j->dir = strdup(log->dir)) ||
	    !(j->segs = calloc(n, sizeof *j->segs))) {
		kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
		goto fail;
	}
	j->cfg = log->cfg;
	j->cfg.flusher = NULL;
	j->first_dirty = st.first_dirty;
	j->first_uncleanable = st.first_uncleanable;
	j->log_start = log->start_offset;
	atomic_init(&j->abort, false);
	for (; j->nsegs < n; j->nsegs++) {
		j->segs[j->nsegs].fd = -1;
		if (snap_segment(&log->segs[j->nsegs], &j->segs[j->nsegs], err) < 0) {
			j->nsegs++;
			goto fail;
		}
	}
	log->use_clock++; /* the job has its own fds: the log's may go cold again */
	log->cool_due = true;
	kp_log_cool_idle(log);
	if (snap_producers(log, j, err) < 0)
		goto fail;
	*job = j;
	return 0;
fail:
	kp_clean_job_free(j);
	return -1;
}
