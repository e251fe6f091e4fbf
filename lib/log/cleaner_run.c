/*
 * cleaner_run.c - one cleaning, off the log's thread (Kafka's
 * Cleaner.doClean): map the dirty section, then rewrite the segments
 * below the map's end, grouped, into cleaned segments.
 *
 *   job->segs:  [0] [1] [2] [3] [4] [5]          first uncleanable
 *   dirty:              |-- map: key -> last offset --|
 *   end:                        ^ map full here: end = its last offset + 1
 *   groups:     [0 1 2] [3 4]       (<= segment.bytes, index capacity,
 *                                    2^31 offsets each; Kafka's
 *                                    groupSegmentsBySize)
 *   output:     BASE0.log.cleaned   BASE3.log.cleaned  (+ .index/.timeindex)
 *
 * The source bytes are read through the job's own fds, in chunks of
 * whole batches; nothing of the log is touched.
 */
#include "log/cleaner_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"

#define CHUNK ((size_t)1 << 20)

/* Sequential reader of the whole batches of one source segment. */
struct seg_reader {
	const struct kp_clean_seg *seg;
	const char *dir;
	int64_t pos;  /* file position of buf's end */
	kp_buf buf;   /* bytes read, [off, len) not consumed */
	size_t off;
};

/* fill - make at least `n` unconsumed bytes present; 0, or -1 (KP_EIO, KP_ECORRUPT, KP_ENOMEM). */
static int fill(struct seg_reader *r, size_t n, kp_error *err)
{
	size_t have = r->buf.len - r->off, want;

	if (have >= n)
		return 0;
	if (have > 0)
		memmove(r->buf.data, r->buf.data + r->off, have);
	r->buf.len = have;
	r->off = 0;
	want = n - have > CHUNK ? n - have : CHUNK;
	if ((int64_t)want > r->seg->size - r->pos)
		want = (size_t)(r->seg->size - r->pos);
	if (have + want < n)
		return kp_error_set(err, KP_ECORRUPT, "%s: segment %" PRId64 " ends inside a batch",
				    r->dir, r->seg->base);
	if (!kp_buf_reserve(&r->buf, want))
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", r->dir);
	if (kp_pread_full(r->seg->fd, r->buf.data + have, want, r->pos, r->dir, err) < 0)
		return -1;
	r->buf.len += want;
	r->pos += (int64_t)want;
	return 0;
}

/* next_batch - the next whole batch: 1 with *p and *len, 0 at the end of the segment, -1. */
static int next_batch(struct seg_reader *r, const uint8_t **p, size_t *len, kp_error *err)
{
	int32_t blen;

	if (r->buf.len == r->off && r->pos >= r->seg->size)
		return 0;
	if (fill(r, KP_BATCH_LOG_OVERHEAD, err) < 0)
		return -1;
	blen = (int32_t)kp_load_u32(r->buf.data + r->off + 8);
	if (blen < KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD)
		return kp_error_set(err, KP_ECORRUPT, "%s: bad batch length in segment %" PRId64,
				    r->dir, r->seg->base);
	*len = KP_BATCH_LOG_OVERHEAD + (size_t)blen;
	if (fill(r, *len, err) < 0)
		return -1;
	*p = r->buf.data + r->off;
	r->off += *len;
	return 1;
}

static bool aborted(struct kp_clean_job *j, kp_error *err)
{
	if (!atomic_load(&j->abort))
		return false;
	kp_error_set(err, KP_EINVAL, "%s: cleaning aborted", j->dir);
	return true;
}

/* map_batch - put the keys of one batch at or past first_dirty; false when the map filled. */
static int map_batch(struct kp_clean_job *j, struct kp_offset_map *m, const uint8_t *p, size_t len,
		     kp_buf *scratch, kp_error *err)
{
	struct kp_clean_batch b;
	struct kp_clean_rec r;
	int rc;

	if (kp_clean_batch_open(&b, p, len, scratch, err) < 0)
		return -1;
	while ((rc = kp_clean_batch_next(&b, &r, err)) == 1) {
		if (!r.key || r.offset < j->first_dirty)
			continue;
		if (kp_offset_map_full(m))
			return 1;
		kp_offset_map_put(m, r.key, (size_t)r.key_len, r.offset);
	}
	return rc;
}

/* build_map - the keys of the dirty section; *full when the map filled before its end. */
static int build_map(struct kp_clean_job *j, struct kp_offset_map *m, bool *full, kp_error *err)
{
	struct seg_reader r = { .dir = j->dir };
	kp_buf scratch = { 0 };
	const uint8_t *p;
	size_t len;
	int rc = 0;

	*full = false;
	for (size_t i = 0; i < j->nsegs && rc == 0 && !*full; i++) {
		if (j->segs[i].next_offset <= j->first_dirty)
			continue;
		r.seg = &j->segs[i];
		r.pos = 0;
		r.off = r.buf.len = 0;
		for (;;) {
			if (aborted(j, err)) {
				rc = -1;
				break;
			}
			if ((rc = next_batch(&r, &p, &len, err)) <= 0)
				break;
			rc = 0;
			if ((int64_t)kp_load_u64(p) + (int32_t)kp_load_u32(p + 23) < j->first_dirty)
				continue;
			if ((rc = map_batch(j, m, p, len, &scratch, err)) != 0)
				break;
		}
		if (rc == 1) {
			*full = true;
			rc = 0;
		}
	}
	kp_buf_free(&r.buf);
	kp_buf_free(&scratch);
	return rc < 0 ? -1 : 0;
}

/* group_segments - Kafka's groupSegmentsBySize over segs[0..m). */
static int group_segments(struct kp_clean_job *j, size_t m, kp_error *err)
{
	const struct kp_clean_seg *s = j->segs;
	size_t i = 0;

	j->groups = calloc(m ? m : 1, sizeof *j->groups);
	if (!j->groups)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", j->dir);
	while (i < m) {
		struct kp_clean_group *g = &j->groups[j->ngroups++];
		int64_t size = s[i].size, ix = s[i].index_bytes, tix = s[i].timeindex_bytes;

		g->first = i++;
		while (i < m && size + s[i].size <= j->cfg.segment_bytes &&
		       ix + s[i].index_bytes <= j->cfg.max_index_bytes &&
		       tix + s[i].timeindex_bytes <= j->cfg.max_index_bytes &&
		       (s[i].size == 0 || s[i].next_offset - 1 - s[g->first].base <= INT32_MAX)) {
			size += s[i].size;
			ix += s[i].index_bytes;
			tix += s[i].timeindex_bytes;
			i++;
		}
		g->n = i - g->first;
	}
	return 0;
}

/* last_of_producer - whether the batch is its idempotent producer's last one in the log. */
static bool last_of_producer(const struct kp_clean_job *j, const uint8_t *p)
{
	int64_t pid = (int64_t)kp_load_u64(p + 43);
	int64_t last = (int64_t)kp_load_u64(p) + (int32_t)kp_load_u32(p + 23);
	size_t lo = 0, hi = j->nproducers;

	if (pid < 0)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->producers[mid].producer_id < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < j->nproducers && j->producers[lo].producer_id == pid &&
	       j->producers[lo].last_offset == last;
}

/* Output state of one group. */
struct writer {
	struct kp_segment out;
	kp_buf pending;           /* filtered batches not yet appended */
	struct kp_clean_bufs bufs;
};

static int flush_pending(struct kp_clean_job *j, struct writer *w, kp_error *err)
{
	if (w->pending.len == 0)
		return 0;
	if (kp_segment_append(&w->out, w->pending.data, w->pending.len, &j->cfg, err) < 0)
		return -1;
	kp_buf_reset(&w->pending);
	return 0;
}

/* clean_segment - filter every batch of one source segment into the writer. */
static int clean_segment(struct kp_clean_job *j, const struct kp_clean_seg *seg,
			 struct kp_clean_filter *f, struct writer *w, kp_error *err)
{
	struct seg_reader r = { .seg = seg, .dir = j->dir };
	const uint8_t *p;
	int64_t next;
	size_t len;
	int rc;

	for (;;) {
		if (aborted(j, err)) {
			rc = -1;
			break;
		}
		if ((rc = next_batch(&r, &p, &len, err)) <= 0)
			break;
		next = (int64_t)kp_load_u64(p) + (int32_t)kp_load_u32(p + 23) + 1;
		f->retain_empty = last_of_producer(j, p) || next == j->first_uncleanable;
		if (kp_clean_filter_batch(f, p, len, &w->bufs, &w->pending, &j->result.records_read,
					  &j->result.records_kept, err) < 0 ||
		    (w->pending.len >= CHUNK && flush_pending(j, w, err) < 0)) {
			rc = -1;
			break;
		}
	}
	kp_buf_free(&r.buf);
	return rc;
}

/* clean_group - write group `g` into BASE.*.cleaned, fsynced. */
static int clean_group(struct kp_clean_job *j, struct kp_clean_group *g, struct kp_clean_filter *f,
		       kp_error *err)
{
	struct writer w = { 0 };
	int rc = -1;

	if (kp_segment_open_named(&w.out, j->dir, j->segs[g->first].base, KP_CLEANED_SUFFIX, true,
				  &j->cfg, err) < 0)
		return -1;
	g->written = true;
	for (size_t i = g->first; i < g->first + g->n; i++) {
		if (clean_segment(j, &j->segs[i], f, &w, err) < 0)
			goto out;
		j->result.bytes_read += j->segs[i].size;
	}
	if (flush_pending(j, &w, err) < 0)
		goto out;
	kp_segment_seal(&w.out);
	if (kp_segment_sync(&w.out, err) < 0)
		goto out;
	g->out_size = w.out.size;
	j->result.bytes_written += w.out.size;
	rc = 0;
out:
	kp_segment_close(&w.out);
	kp_buf_free(&w.pending);
	kp_buf_free(&w.bufs.dec);
	kp_buf_free(&w.bufs.kept);
	kp_buf_free(&w.bufs.enc);
	return rc;
}

int kp_clean_job_run(struct kp_clean_job *j, int64_t dedupe_buffer_bytes, int64_t now_ms,
		     kp_error *err)
{
	struct kp_offset_map map;
	struct kp_clean_filter f = { .map = &map, .now_ms = now_ms };
	size_t m = 0;
	bool full;
	int rc = -1;

	if (kp_offset_map_init(&map, dedupe_buffer_bytes, err) < 0)
		return -1;
	if (build_map(j, &map, &full, err) < 0)
		goto out;
	/* Kafka cleans up to the last offset mapped; with every dirty key mapped, up to the end */
	j->result.end_offset = full ? map.latest + 1 : j->first_uncleanable;
	if (j->result.end_offset < j->first_dirty)
		j->result.end_offset = j->first_dirty;
	while (m < j->nsegs && j->segs[m].base < j->result.end_offset)
		m++;
	if (group_segments(j, m, err) < 0)
		goto out;
	f.delete_retention_ms = j->cfg.delete_retention_ms;
	for (size_t g = 0; g < j->ngroups; g++)
		if (clean_group(j, &j->groups[g], &f, err) < 0)
			goto out;
	j->result.segments_in = m;
	j->result.segments_out = j->ngroups;
	j->ran = true;
	rc = 0;
out:
	kp_offset_map_free(&map);
	return rc;
}

void kp_clean_job_abort(struct kp_clean_job *j)
{
	atomic_store(&j->abort, true);
}

const char *kp_clean_job_dir(const struct kp_clean_job *j)
{
	return j->dir;
}

void kp_clean_job_result(const struct kp_clean_job *j, struct kp_clean_result *out)
{
	*out = j->result;
}

void kp_clean_job_free(struct kp_clean_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nsegs; i++)
		if (j->segs[i].fd >= 0)
			close(j->segs[i].fd);
	for (size_t g = 0; g < j->ngroups; g++)
		if (j->groups[g].written && !j->groups[g].swapped)
			kp_clean_remove_files(j->dir, j->segs[j->groups[g].first].base, KP_CLEANED_SUFFIX);
	free(j->segs);
	free(j->producers);
	free(j->groups);
	free(j->dir);
	free(j);
}
