/*
 * cleaner_finish.c - a cleaning comes back to the log's thread (Kafka's
 * Cleaner.cleanSegments end and LocalLog.replaceSegments): check that
 * the log still has every segment the job cleaned, as it was, then swap
 * the cleaned segments in, on disk (cleaner_swap.c) and in the segment
 * list, and advance the cleaner checkpoint.
 *
 *   before:  segs [B0][B1][B2][B3][B4 active]   group {B0,B1,B2} -> C0
 *   after:   segs [C0        ][B3][B4 active]   (C0 is based at B0)
 *
 * A follower truncation or retention may have removed or cut a segment
 * meanwhile: its base, size, end or last batch header differ, and the
 * cleaned files are thrown away. Old segments are closed; readers with
 * duplicates of their fds keep their bytes (unlinked files live on).
 */
#include "log/cleaner_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/diag.h"
#include "util/file.h"

/* unchanged - whether segs[i] of `log` is the closed segment `c` the job saw. */
static bool unchanged(kp_log *log, size_t i, const struct kp_clean_seg *c)
{
	struct kp_segment *s = &log->segs[i];
	uint8_t last[KP_BATCH_HEADER_SIZE];
	kp_error err;

	if (i + 1 >= log->nsegs || s->base != c->base || s->size != c->size ||
	    s->next_offset != c->next_offset)
		return false;
	if (s->size == 0)
		return true;
	/* the last batch header, found from the last index entry on */
	for (int64_t pos = s->last_index_pos; pos < s->size;) {
		struct kp_batch_header h;

		if (kp_segment_read_header(s, pos, &h, &err) < 0)
			return false;
		if (pos + KP_BATCH_LOG_OVERHEAD + h.batch_length == s->size)
			return kp_pread_full(s->fd, last, sizeof last, pos, s->path, &err) == 0 &&
			       memcmp(last, c->last, sizeof last) == 0;
		pos += KP_BATCH_LOG_OVERHEAD + h.batch_length;
	}
	return false;
}

/* verify - every segment of every group is in the log, in place and unchanged. */
static bool verify(kp_log *log, const struct kp_clean_job *j)
{
	size_t first;

	if (j->ngroups == 0)
		return true;
	first = kp_log_find_segment(log, j->segs[0].base);
	for (size_t g = 0; g < j->ngroups; g++)
		for (size_t k = j->groups[g].first; k < j->groups[g].first + j->groups[g].n; k++)
			if (first + k >= log->nsegs || !unchanged(log, first + k, &j->segs[k]))
				return false;
	return true;
}

/* replace - segs[i .. i+n) of `log` become the one segment `ns`. */
static void replace(kp_log *log, size_t i, size_t n, struct kp_segment *ns)
{
	for (size_t k = i; k < i + n; k++)
		kp_segment_close(&log->segs[k]);
	log->segs[i] = *ns;
	memmove(&log->segs[i + 1], &log->segs[i + n], (log->nsegs - i - n) * sizeof *log->segs);
	log->nsegs -= n - 1;
}

/* swap_group - group `g` (at segs[i] of the log) on disk, then in memory. */
static int swap_group(kp_log *log, struct kp_clean_job *j, struct kp_clean_group *g, size_t i,
		      kp_error *err)
{
	int64_t *bases = malloc(g->n * sizeof *bases);
	struct kp_segment ns;
	bool cut;
	int rc = -1;

	if (!bases)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
	for (size_t k = 0; k < g->n; k++)
		bases[k] = j->segs[g->first + k].base;
	if (kp_clean_swap_files(log->dir, bases, g->n, err) < 0)
		goto out;
	g->swapped = true;
	/* the old segments stay readable through their fds if the new one cannot open */
	if (kp_segment_open(&ns, log->dir, bases[0], false, &log->cfg, err) < 0)
		goto out;
	if (kp_segment_recover(&ns, INT64_MAX, &log->cfg, NULL, &cut, err) < 0) {
		kp_segment_close(&ns);
		goto out;
	}
	replace(log, i, g->n, &ns);
	rc = 0;
out:
	free(bases);
	return rc;
}

int kp_log_clean_finish(kp_log *log, struct kp_clean_job *j, kp_error *err)
{
	size_t i;
	int64_t cp;

	if (!j->ran || strcmp(j->dir, log->dir) != 0 || !verify(log, j)) {
		kp_diag_info("%s: the log changed while it was cleaned; discarding the cleaned segments",
			     log->dir);
		return 0;
	}
	i = kp_log_find_segment(log, j->segs[0].base);
	for (size_t g = 0; g < j->ngroups; g++, i++)
		if (swap_group(log, j, &j->groups[g], i, err) < 0)
			return -1;
	cp = j->result.end_offset > log->start_offset ? j->result.end_offset : log->start_offset;
	if (kp_cleaner_checkpoint_write(log->dir, cp, kp_log_batch_crc_before(log, cp), err) < 0)
		return -1;
	return 1;
}
