/*
 * segment_cold.c - closed segments nobody reads keep no descriptors and
 * no index memory, so that a broker's open files and index memory depend
 * on its partitions, not on how much history their logs hold (Kafka keeps
 * every segment's files open and its indexes mapped; operators raise
 * ulimit -n for it).
 *
 *   segs[0]   segs[1]   segs[2]   segs[3]   ...   segs[n-2]   segs[n-1]
 *   cold      cold      warm      cold            warm        active
 *   (path,    (path,    (fd, index                (unflushed: (always
 *    sizes)    sizes)    entries)                  stays warm)  warm)
 *
 * A cold segment keeps its paths and what the log knows of it (base,
 * next offset, size, largest timestamp); every reader in segment.c makes
 * it warm again first (kp_segment_ready): the .log reopened, the indexes
 * reloaded. The log stamps each segment a read touches with its use
 * clock (kp_log_seg_use) and, after a read that warmed one or after a
 * roll, cools the least recently read closed segments wholly below the
 * recovery point beyond KP_LOG_WARM_CLOSED (kp_log_cool_idle). Segments
 * above the recovery point stay warm until a flush covers them, so an
 * fsync always goes through the descriptor that wrote the data (a
 * writeback error is reported to the descriptors open when it happened).
 *
 * Everything here runs on the log's thread; the flusher and the cleaner
 * work on their own duplicates of the descriptors, which cooling does not
 * touch.
 */
#include "log/log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Closed segments a log keeps open besides the active one (and the unflushed). */
#define KP_LOG_WARM_CLOSED 4

/*
 * kp_segment_cool - close the files of `seg` and free its index entries,
 * keeping its paths and offsets (the segment must be closed: no appends
 * come to it). Idempotent.
 */
void kp_segment_cool(struct kp_segment *seg)
{
	if (seg->cold || !seg->path)
		return;
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
	kp_index_cool(&seg->oix);
	kp_index_cool(&seg->tix);
	seg->cold = true;
}

/*
 * kp_segment_warm - reopen a cooled segment's .log and reload its indexes.
 * The .log must still have the size the log knows (nothing but the log
 * writes it): another size is KP_ECORRUPT. Returns 0, or -1 (KP_EIO,
 * KP_ENOMEM, KP_ECORRUPT) with `seg` still cold.
 */
int kp_segment_warm(struct kp_segment *seg, kp_error *err)
{
	struct stat st;

	if (!seg->cold)
		return 0;
	seg->fd = open(seg->path, O_RDWR | O_CLOEXEC);
	if (seg->fd < 0 || fstat(seg->fd, &st) < 0) {
		kp_error_errno(err, "%s: reopen", seg->path);
		goto fail;
	}
	if (st.st_size != seg->size) {
		kp_error_set(err, KP_ECORRUPT, "%s: %" PRId64 " bytes, the log knew %" PRId64, seg->path,
			     (int64_t)st.st_size, seg->size);
		goto fail;
	}
	if (kp_index_reopen(&seg->oix, seg->size, err) < 0 || kp_index_reopen(&seg->tix, seg->size, err) < 0)
		goto fail;
	seg->cold = false;
	return 0;
fail:
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
	kp_index_cool(&seg->oix);
	kp_index_cool(&seg->tix);
	return -1;
}

/*
 * kp_log_seg_use - segment `i` of `log`, stamped as read by the current
 * read operation (the caller ticks log->use_clock once per operation);
 * a cold one is due to be made room for (kp_log_cool_idle). The segment
 * is warmed by the segment.c reader that reads it.
 */
struct kp_segment *kp_log_seg_use(kp_log *log, size_t i)
{
	struct kp_segment *s = &log->segs[i];

	if (s->cold)
		log->cool_due = true;
	s->used = log->use_clock;
	return s;
}

/* coolable - whether segment `i` is warm, closed, wholly below the recovery point and not read by this operation. */
static bool coolable(const kp_log *log, size_t i)
{
	const struct kp_segment *s = &log->segs[i];

	return !s->cold && i + 1 < log->nsegs && s->next_offset <= log->recovery_point &&
	       s->used < log->use_clock;
}

static int cmp_used(const void *a, const void *b)
{
	uint64_t x = (*(struct kp_segment *const *)a)->used, y = (*(struct kp_segment *const *)b)->used;

	return (x > y) - (x < y);
}

/*
 * kp_log_cool_idle - when due (a segment was warmed or rolled since the
 * last call), cool the least recently read closed segments below the
 * recovery point until KP_LOG_WARM_CLOSED of them stay warm. Segments the
 * current read operation touched are kept: their descriptors may be in
 * the caller's hands (kp_log_read_ranges). Out of memory for the list of
 * candidates, nothing is cooled (until the next call).
 */
void kp_log_cool_idle(kp_log *log)
{
	struct kp_segment **c;
	size_t warm = 0, n = 0, i;

	if (!log->cool_due)
		return;
	log->cool_due = false;
	for (i = 0; i + 1 < log->nsegs; i++)
		warm += !log->segs[i].cold;
	if (warm <= KP_LOG_WARM_CLOSED || !(c = malloc(warm * sizeof *c)))
		return;
	for (i = 0; i + 1 < log->nsegs; i++)
		if (coolable(log, i))
			c[n++] = &log->segs[i];
	qsort(c, n, sizeof *c, cmp_used);
	for (i = 0; i < n && warm > KP_LOG_WARM_CLOSED; i++, warm--)
		kp_segment_cool(c[i]);
	free(c);
}
