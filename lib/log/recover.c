/*
 * recover.c - bring one segment back to a known good state after open or
 * truncation (Kafka's LogSegment.recover / sanityCheck).
 *
 *   .log   | batch | batch | batch | batch | torn/corrupt ... |
 *          ^ trusted prefix        ^ scan: full kp_batch_validate
 *          (index entries kept)      (CRC-32C), offsets monotonic,
 *                                    index entries re-added; the file
 *                                    is cut (ftruncate) at the first
 *                                    bad batch
 *
 * Offset index entries whose offsets lie below the recovery point are
 * trusted (after a sanity check) and the scan starts at the last of
 * them; a missing, insane or mismatching index is dropped and rebuilt
 * from position 0. The batch at the last trusted entry is checked
 * against the entry, so a stale index cannot go unnoticed. On open the
 * scan also teaches the leader epoch cache the epochs of the batches it
 * keeps (Kafka's LogSegment.recover does the same).
 */
#include "log/log_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/diag.h"
#include "util/file.h"

/*
 * index_damage - why the segment's indexes cannot be trusted at all (a
 * file missing while the .log has batches, or entries that fail
 * kp_index_sane), or NULL.
 */
static const char *index_damage(const struct kp_segment *seg)
{
	if (seg->size > 0 && seg->oix.created)
		return "offset index missing";
	if (seg->size > 0 && seg->tix.created)
		return "time index missing";
	if (!kp_index_sane(&seg->oix, seg->size))
		return "offset index corrupt";
	if (!kp_index_sane(&seg->tix, seg->size))
		return "time index corrupt";
	return NULL;
}

/*
 * trusted_entries - how many offset index entries may be kept: those below
 * `trust_below`, none when the indexes are damaged (reported: both are
 * rebuilt from the .log, as Kafka does for a corrupt index).
 */
static size_t trusted_entries(struct kp_segment *seg, int64_t trust_below)
{
	const char *damage = index_damage(seg);

	if (damage) {
		kp_diag_warn("%s: %s, rebuilding the indexes from the log", seg->path, damage);
		return 0;
	}
	if (trust_below <= seg->base)
		return 0;
	return (size_t)(kp_index_floor(&seg->oix, trust_below - 1) + 1);
}

/* keep_entries - cut both indexes to the first `n` offset entries and what precedes them. */
static int keep_entries(struct kp_segment *seg, size_t n, kp_error *err)
{
	struct kp_index *t = &seg->tix;
	size_t tn = 0;

	kp_segment_reset(seg);
	if (n > 0) {
		tn = t->n;
		while (tn > 0 && t->e[tn - 1].val > seg->oix.e[n - 1].key)
			tn--;
		seg->last_index_pos = seg->oix.e[n - 1].val;
	}
	if (kp_index_truncate(&seg->oix, n, err) < 0 || kp_index_truncate(t, tn, err) < 0)
		return -1;
	if (tn > 0) {
		seg->max_ts = t->e[tn - 1].key;
		seg->max_ts_offset = t->e[tn - 1].val;
	}
	return 0;
}

/*
 * read_batch - read and fully validate the batch at `pos` into *buf
 * (grown as needed). Returns 1 and fills `h`, 0 for a torn or corrupt
 * batch (reason in `why`), -1 on an I/O error.
 */
static int read_batch(struct kp_segment *seg, int64_t pos, uint8_t **buf, size_t *cap,
		      struct kp_batch_header *h, kp_error *why, kp_error *err)
{
	int64_t left = seg->size - pos;
	size_t total;
	uint8_t *p;

	if (left < KP_BATCH_HEADER_SIZE)
		return kp_error_set(why, KP_ECORRUPT, "torn batch header (%" PRId64 " bytes)", left) + 1;
	if (kp_pread_full(seg->fd, *buf, KP_BATCH_LOG_OVERHEAD, pos, seg->path, err) < 0)
		return -1;
	total = KP_BATCH_LOG_OVERHEAD + (size_t)(int32_t)kp_load_u32(*buf + 8);
	if ((int32_t)kp_load_u32(*buf + 8) < KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD || (int64_t)total > left)
		return kp_error_set(why, KP_ECORRUPT, "torn or bad batch length") + 1;
	if (total > *cap) {
		p = realloc(*buf, total);
		if (!p)
			return kp_error_set(err, KP_ENOMEM, "%s: out of memory", seg->path);
		*buf = p;
		*cap = total;
	}
	if (kp_pread_full(seg->fd, *buf, total, pos, seg->path, err) < 0)
		return -1;
	if (kp_batch_validate(*buf, total, h, why) < 0)
		return 0;
	return 1;
}

/*
 * cut - truncate the .log at `pos` after a bad batch, reported with the
 * bytes dropped, their position and the last offset kept (the log end
 * offset becomes that + 1; base - 1 when the segment is left empty).
 */
static int cut(struct kp_segment *seg, int64_t pos, const kp_error *why, kp_error *err)
{
	kp_diag_warn("%s: truncating %" PRId64 " bytes at position %" PRId64 " after offset %" PRId64
		     " (the log now ends there): %s", seg->path, seg->size - pos, pos, seg->next_offset - 1,
		     why->msg);
	if (ftruncate(seg->fd, (off_t)pos) < 0)
		return kp_error_errno(err, "%s: truncate", seg->path);
	seg->size = pos;
	return 0;
}

/*
 * wrapping_last - the batch's last offset, wrapping on overflow (a corrupt
 * header can overflow it; the wrapped value is negative, so it never
 * equals a valid offset).
 */
static int64_t wrapping_last(const struct kp_batch_header *h)
{
	return (int64_t)((uint64_t)h->base_offset + (uint64_t)h->last_offset_delta);
}

/*
 * scan - validate and index every batch from `pos` to the end, noting
 * each kept batch's epoch in `ec` (may be NULL). When `expect_last` >= 0
 * the first batch must be valid and end at that offset (it is the last
 * trusted index entry); returns 1 if not, so that a bad index never cuts
 * the log. Returns 0 or -1.
 */
static int scan(struct kp_segment *seg, int64_t pos, int64_t expect_last, const struct kp_log_config *cfg,
		struct kp_epoch_cache *ec, bool *truncated, kp_error *err)
{
	size_t cap = KP_BATCH_HEADER_SIZE;
	uint8_t *buf = malloc(cap);
	struct kp_batch_header h;
	kp_error why;
	int rc = -1, ok;

	if (!buf)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", seg->path);
	for (; pos < seg->size; pos += KP_BATCH_LOG_OVERHEAD + h.batch_length, expect_last = -1) {
		ok = read_batch(seg, pos, &buf, &cap, &h, &why, err);
		if (ok < 0)
			goto out;
		if (expect_last >= 0 && (!ok || wrapping_last(&h) != expect_last)) {
			rc = 1;
			goto out;
		}
		if (ok && (h.base_offset < seg->next_offset ||
			   h.base_offset - seg->base > INT32_MAX - h.last_offset_delta))
			ok = kp_error_set(&why, KP_ECORRUPT, "batch base offset %" PRId64 " out of order",
					  h.base_offset) + 1;
		if (!ok) {
			*truncated = true;
			rc = cut(seg, pos, &why, err);
			goto out;
		}
		kp_segment_note_batch(seg, pos, &h, cfg);
		if (ec && kp_epoch_assign(ec, h.partition_leader_epoch, h.base_offset) < 0) {
			kp_error_set(err, KP_ENOMEM, "%s: out of memory", seg->path);
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/*
 * kp_segment_recover - validate the segment's batches from the last
 * offset index entry below `trust_below` (INT64_MIN: from the start),
 * rebuilding the indexes from there and cutting the .log at the first
 * torn or corrupt batch (*truncated is then true; later segments are the
 * caller's to delete). Fills next_offset, max_ts and roll_ts. The epoch
 * cache `ec` (may be NULL) learns every epoch, above its latest, of the
 * batches scanned (kp_epoch_assign). Returns 0 or -1 (KP_EIO, KP_ENOMEM).
 */
int kp_segment_recover(struct kp_segment *seg, int64_t trust_below, const struct kp_log_config *cfg,
		       struct kp_epoch_cache *ec, bool *truncated, kp_error *err)
{
	size_t n = trusted_entries(seg, trust_below);
	struct kp_batch_header h;
	int rc;

	*truncated = false;
	if (keep_entries(seg, n, err) < 0)
		return -1;
	rc = scan(seg, seg->last_index_pos, n ? seg->oix.e[n - 1].key : -1, cfg, ec, truncated, err);
	if (rc == 1) {
		kp_diag_warn("%s: offset index does not match the log, rebuilding it", seg->oix.path);
		if (keep_entries(seg, 0, err) < 0)
			return -1;
		rc = scan(seg, 0, -1, cfg, ec, truncated, err);
	}
	if (rc < 0)
		return -1;
	if (seg->size > 0 && seg->last_index_pos > 0) {
		if (kp_segment_read_header(seg, 0, &h, err) < 0)
			return -1;
		seg->roll_ts = h.max_timestamp;
	}
	seg->oix.created = seg->tix.created = false;
	return 0;
}

/*
 * kp_segment_truncate_to - remove the batch containing `offset` and all
 * later ones (Kafka's LogSegment.truncateTo: batches are never split, so
 * the new next offset may be below `offset`). Returns 0 or -1.
 */
int kp_segment_truncate_to(struct kp_segment *seg, int64_t offset, const struct kp_log_config *cfg,
			   kp_error *err)
{
	size_t n;
	int64_t pos;
	bool cut_again;

	if (kp_segment_find(seg, offset, &pos, err) < 0)
		return -1;
	if (pos >= seg->size)
		return 0;
	if (ftruncate(seg->fd, (off_t)pos) < 0)
		return kp_error_errno(err, "%s: truncate", seg->path);
	seg->size = pos;
	for (n = seg->oix.n; n > 0 && seg->oix.e[n - 1].val >= pos; n--)
		;
	if (kp_index_truncate(&seg->oix, n, err) < 0)
		return -1;
	return kp_segment_recover(seg, INT64_MAX, cfg, NULL, &cut_again, err);
}
