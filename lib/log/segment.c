/*
 * segment.c - one log segment: a .log file of record batches plus its
 * offset and time indexes (Kafka's LogSegment).
 *
 *   0000000000000000BASE.log
 *   +-----------------+-----------------+-----+-----------------+
 *   | batch (base=B)  | batch           | ... | batch           |  <- size
 *   +-----------------+-----------------+-----+-----------------+
 *   ^ pos 0           ^ pos p1                                    new
 *                                                                 appends
 *   each batch: | baseOffset int64 | batchLength int32 | ... batchLength bytes |
 *
 *   .index      (lastOffset-BASE, position) every > index.interval.bytes
 *   .timeindex  (max timestamp so far, its batch's lastOffset-BASE)
 *
 * Appends write whole buffers with pwrite(2) at the end of the file and
 * then add index entries; the indexes are therefore never ahead of the
 * log after a process kill, and a short index is completed on recovery
 * by scanning forward from its last entry. Reads use pread(2) only.
 * A closed segment may be cold (segment_cold.c): each reader here
 * reopens it first (kp_segment_ready).
 */
#include "log/log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/file.h"

static char *file_path(const char *dir, int64_t base, const char *ext, const char *suffix)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%020" PRId64 "%s%s", dir, base, ext, suffix) < 0)
		return NULL;
	return p;
}

/* kp_segment_reset - forget what is known of the segment's batches (offsets, timestamps, index position). */
void kp_segment_reset(struct kp_segment *seg)
{
	seg->next_offset = seg->base;
	seg->max_ts = -1;
	seg->max_ts_offset = seg->base;
	seg->roll_ts = -1;
	seg->last_index_pos = 0;
}

/*
 * kp_segment_open - open the segment with base offset `base` in `dir`:
 * its .log, .index and .timeindex files (created when missing; emptied
 * when `create`). Sizes come from the files; offsets and timestamps are
 * only known after kp_segment_recover (or, for a new segment, at once).
 * Returns 0, or -1 (KP_EIO, KP_ENOMEM) with `seg` closed.
 */
int kp_segment_open(struct kp_segment *seg, const char *dir, int64_t base, bool create,
		    const struct kp_log_config *cfg, kp_error *err)
{
	return kp_segment_open_named(seg, dir, base, "", create, cfg, err);
}

/*
 * kp_segment_open_named - kp_segment_open with `suffix` after each file
 * name (BASE.log.cleaned, BASE.index.cleaned, ...: the log cleaner's
 * output, cleaner_swap.c); "" for the segment itself.
 */
int kp_segment_open_named(struct kp_segment *seg, const char *dir, int64_t base, const char *suffix,
			  bool create, const struct kp_log_config *cfg, kp_error *err)
{
	char *ipath = NULL, *tpath = NULL;
	struct stat st;
	int rc = -1;

	memset(seg, 0, sizeof *seg);
	seg->fd = seg->oix.fd = seg->tix.fd = -1;
	seg->base = base;
	seg->created_ms = kp_wall_ms();
	kp_segment_reset(seg);
	seg->path = file_path(dir, base, ".log", suffix);
	ipath = file_path(dir, base, ".index", suffix);
	tpath = file_path(dir, base, ".timeindex", suffix);
	if (!seg->path || !ipath || !tpath) {
		kp_error_set(err, KP_ENOMEM, "%s: out of memory", dir);
		goto out;
	}
	seg->fd = open(seg->path, O_RDWR | O_CREAT | O_CLOEXEC | (create ? O_TRUNC : 0), 0644);
	if (seg->fd < 0 || fstat(seg->fd, &st) < 0) {
		kp_error_errno(err, "%s: open", seg->path);
		goto out;
	}
	seg->size = st.st_size;
	if (kp_index_open(&seg->oix, KP_INDEX_OFFSET, ipath, base, cfg->max_index_bytes, err) < 0 ||
	    kp_index_open(&seg->tix, KP_INDEX_TIME, tpath, base, cfg->max_index_bytes, err) < 0)
		goto out;
	if (create && (kp_index_truncate(&seg->oix, 0, err) < 0 || kp_index_truncate(&seg->tix, 0, err) < 0))
		goto out;
	if (create)
		seg->oix.created = seg->tix.created = false;
	rc = 0;
out:
	free(ipath);
	free(tpath);
	if (rc < 0)
		kp_segment_close(seg);
	return rc;
}

/* kp_segment_close - close the files and free the memory of `seg` (idempotent). */
void kp_segment_close(struct kp_segment *seg)
{
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
	kp_index_close(&seg->oix);
	kp_index_close(&seg->tix);
	free(seg->path);
	seg->path = NULL;
}

static int unlink_quiet(const char *path, kp_error *err)
{
	if (path && unlink(path) < 0 && errno != ENOENT)
		return kp_error_errno(err, "%s: unlink", path);
	return 0;
}

/* kp_segment_unlink - delete the three files of `seg`, then close it. */
int kp_segment_unlink(struct kp_segment *seg, kp_error *err)
{
	int rc = 0;

	if (unlink_quiet(seg->oix.path, err) < 0 || unlink_quiet(seg->tix.path, err) < 0 ||
	    unlink_quiet(seg->path, err) < 0)
		rc = -1;
	kp_segment_close(seg);
	return rc;
}

/*
 * tix_catch_up - append a time index entry for the segment's largest
 * timestamp when it is newer than the last entry and the index has room
 * (a failed write only makes the index sparser: logged, not returned).
 */
static void tix_catch_up(struct kp_segment *seg)
{
	struct kp_index *t = &seg->tix;
	kp_error e;

	if (seg->max_ts > (t->n ? t->e[t->n - 1].key : -1) && !kp_index_full(t) &&
	    kp_index_append(t, seg->max_ts, seg->max_ts_offset, &e) < 0)
		kp_diag_warn("%s", e.msg);
}

/*
 * kp_segment_note_batch - account for the batch `h` of `total` bytes at `pos`:
 * offsets, largest timestamp and, per Kafka's interval rule, index
 * entries. Index write failures only make the index sparser (recovery
 * rebuilds it), so they are reported as a warning, not an error.
 */
void kp_segment_note_batch(struct kp_segment *seg, int64_t pos, const struct kp_batch_header *h,
		       const struct kp_log_config *cfg)
{
	int64_t last = h->base_offset + h->last_offset_delta;
	kp_error e;

	if (pos == 0)
		seg->roll_ts = h->max_timestamp;
	if (h->max_timestamp > seg->max_ts) {
		seg->max_ts = h->max_timestamp;
		seg->max_ts_offset = last;
	}
	seg->next_offset = last + 1;
	if (pos - seg->last_index_pos <= cfg->index_interval_bytes || kp_index_full(&seg->oix))
		return;
	if (kp_index_append(&seg->oix, last, pos, &e) < 0)
		goto fail;
	seg->last_index_pos = pos;
	tix_catch_up(seg);
	return;
fail:
	kp_diag_warn("%s", e.msg);
}

/*
 * kp_segment_append - write the `len` bytes of already validated batches
 * at `buf` (offsets assigned) at the end of the segment and index them.
 * On a write error the file is cut back to its old size. Returns 0 or -1
 * (KP_EIO).
 */
int kp_segment_append(struct kp_segment *seg, const uint8_t *buf, size_t len,
		      const struct kp_log_config *cfg, kp_error *err)
{
	int64_t pos0 = seg->size;
	struct kp_batch_header h;
	size_t off = 0;

	if (kp_segment_ready(seg, err) < 0) /* cold: a truncation made it active and failed to warm it */
		return -1;
	if (kp_pwrite_full(seg->fd, buf, len, pos0, seg->path, err) < 0) {
		if (ftruncate(seg->fd, (off_t)pos0) < 0)
			kp_diag_warn("%s: cannot cut back a failed write: %s", seg->path, strerror(errno));
		return -1;
	}
	seg->size = pos0 + (int64_t)len;
	while (off < len && kp_batch_header_parse(buf + off, len - off, &h, NULL) == 0) {
		kp_segment_note_batch(seg, pos0 + (int64_t)off, &h, cfg);
		off += KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;
	}
	return 0;
}

/*
 * kp_segment_read_header - parse the header of the batch at `pos` and
 * check that the whole batch lies inside the segment. Returns 0 or -1
 * (KP_EIO, KP_ECORRUPT).
 */
int kp_segment_read_header(struct kp_segment *seg, int64_t pos, struct kp_batch_header *h,
			   kp_error *err)
{
	uint8_t raw[KP_BATCH_HEADER_SIZE];

	if (kp_segment_ready(seg, err) < 0)
		return -1;
	if (seg->size - pos < KP_BATCH_HEADER_SIZE)
		return kp_error_set(err, KP_ECORRUPT, "%s: batch header at %" PRId64 " past end of file",
				    seg->path, pos);
	if (kp_pread_full(seg->fd, raw, sizeof raw, pos, seg->path, err) < 0)
		return -1;
	if (kp_batch_header_parse(raw, sizeof raw, h, err) < 0 ||
	    h->batch_length < KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD ||
	    h->batch_length > seg->size - pos - KP_BATCH_LOG_OVERHEAD)
		return kp_error_set(err, KP_ECORRUPT, "%s: bad batch header at %" PRId64, seg->path, pos);
	return 0;
}

/*
 * kp_segment_find - *pos gets the position of the first batch whose last
 * offset is >= `offset` (seg->size when there is none), found through
 * the offset index and a forward scan of batch headers.
 */
int kp_segment_find(struct kp_segment *seg, int64_t offset, int64_t *pos, kp_error *err)
{
	struct kp_batch_header h;
	int64_t p;
	long i;

	if (kp_segment_ready(seg, err) < 0)
		return -1;
	i = kp_index_floor(&seg->oix, offset);
	p = i >= 0 ? seg->oix.e[i].val : 0;
	while (p < seg->size) {
		if (kp_segment_read_header(seg, p, &h, err) < 0)
			return -1;
		if (h.base_offset + h.last_offset_delta >= offset)
			break;
		p += KP_BATCH_LOG_OVERHEAD + h.batch_length;
	}
	*pos = p;
	return 0;
}

/*
 * kp_segment_scan - walk the whole batches from `pos` on, stopping before
 * a batch with base offset >= `max_offset` or one that would take *taken
 * (bytes already returned by this fetch, updated) past `max_bytes` unless
 * *taken is 0 (KIP-74); *end gets the file position after the last batch
 * taken (`pos` when none). Returns 1 when a limit stopped it, 0 at the
 * end of the segment, -1 on error (KP_EIO, KP_ECORRUPT).
 */
int kp_segment_scan(struct kp_segment *seg, int64_t pos, int64_t max_offset, size_t max_bytes,
		    size_t *taken, int64_t *end, kp_error *err)
{
	struct kp_batch_header h;
	size_t total;

	*end = pos;
	while (*end < seg->size) {
		if (kp_segment_read_header(seg, *end, &h, err) < 0)
			return -1;
		total = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;
		if (h.base_offset >= max_offset || (*taken > 0 && *taken + total > max_bytes))
			return 1;
		*taken += total;
		*end += (int64_t)total;
	}
	return 0;
}

/*
 * kp_segment_read - append to `out` the batches kp_segment_scan selects
 * from `pos` on. Returns as kp_segment_scan, or -1 with KP_ENOMEM.
 */
int kp_segment_read(struct kp_segment *seg, int64_t pos, int64_t max_offset, size_t max_bytes,
		    size_t *taken, kp_buf *out, kp_error *err)
{
	int64_t end;
	int stopped = kp_segment_scan(seg, pos, max_offset, max_bytes, taken, &end, err);

	if (stopped < 0 || end == pos)
		return stopped;
	if (!kp_buf_reserve(out, (size_t)(end - pos)))
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory for %" PRId64 " bytes", seg->path,
				    end - pos);
	if (kp_pread_full(seg->fd, out->data + out->len, (size_t)(end - pos), pos, seg->path, err) < 0)
		return -1;
	out->len += (size_t)(end - pos);
	return stopped;
}

/*
 * kp_segment_find_timestamp - *offset gets the base offset of the first
 * batch with maxTimestamp >= `ts` (-1 when none) and *found_ts (may be
 * NULL) its maxTimestamp. Starts from the last time index entry below
 * `ts`: every batch up to the one holding it has smaller timestamps.
 */
int kp_segment_find_timestamp(struct kp_segment *seg, int64_t ts, int64_t *offset, int64_t *found_ts,
			      kp_error *err)
{
	struct kp_batch_header h;
	int64_t from, p;
	long i, j;

	*offset = -1;
	if (kp_segment_ready(seg, err) < 0)
		return -1;
	i = ts == INT64_MIN ? -1 : kp_index_floor(&seg->tix, ts - 1);
	from = i >= 0 ? seg->tix.e[i].val : seg->base;
	j = kp_index_floor(&seg->oix, from);
	p = j >= 0 ? seg->oix.e[j].val : 0;
	for (; p < seg->size; p += KP_BATCH_LOG_OVERHEAD + h.batch_length) {
		if (kp_segment_read_header(seg, p, &h, err) < 0)
			return -1;
		if (h.max_timestamp >= ts) {
			*offset = h.base_offset;
			if (found_ts)
				*found_ts = h.max_timestamp;
			break;
		}
	}
	return 0;
}

/*
 * kp_segment_seal - on roll: a last time index entry for the largest
 * timestamp (Kafka's onBecomeInactiveSegment); its index files exist
 * from then on (kp_segment_ensure_indexes).
 */
void kp_segment_seal(struct kp_segment *seg)
{
	tix_catch_up(seg);
	kp_segment_ensure_indexes(seg);
}

/*
 * kp_segment_ensure_indexes - a segment with batches gets its index files,
 * even empty ones (they are made lazily, index.c): at a roll and at a
 * clean close, so that only a crash leaves batches without an index,
 * which recovery then rebuilds. Failures are left to that rebuild.
 */
void kp_segment_ensure_indexes(struct kp_segment *seg)
{
	kp_error err;

	if (seg->size > 0 && !seg->cold && seg->oix.path && seg->tix.path)
		(void)(kp_index_ensure(&seg->oix, &err) || kp_index_ensure(&seg->tix, &err));
}

/* kp_segment_sync - fsync the .log, .index and .timeindex files. */
int kp_segment_sync(struct kp_segment *seg, kp_error *err)
{
	if (kp_segment_ready(seg, err) < 0)
		return -1;
	if (fsync(seg->fd) < 0)
		return kp_error_errno(err, "%s: fsync", seg->path);
	if (kp_index_sync(&seg->oix, err) < 0 || kp_index_sync(&seg->tix, err) < 0)
		return -1;
	return 0;
}

/* kp_segment_sync_data - fdatasync the .log file only (kp_log_sync_data). */
int kp_segment_sync_data(struct kp_segment *seg, kp_error *err)
{
	if (kp_segment_ready(seg, err) < 0)
		return -1;
	if (fdatasync(seg->fd) < 0)
		return kp_error_errno(err, "%s: fdatasync", seg->path);
	return 0;
}

/* kp_segment_index_full - whether either index reached log.index.size.max.bytes. */
bool kp_segment_index_full(const struct kp_segment *seg)
{
	return kp_index_full(&seg->oix) || kp_index_full(&seg->tix);
}
