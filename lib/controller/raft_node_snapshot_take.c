/*
 * raft_node_snapshot_take.c - the owner's side of snapshots (KIP-630):
 * loading the latest one at start and delivering its records, taking one
 * of the owner's image every snapshot_max_bytes of committed batches or
 * snapshot_interval_ms (Kafka's SnapshotGenerator with
 * metadata.log.max.record.bytes.between.snapshots and
 * metadata.log.max.snapshot.interval.ms), then deleting the log segments
 * wholly below it and the snapshots below the log start
 * (KafkaMetadataLog.deleteBeforeSnapshot), and reading a log dir offline.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/raft_node_internal.h"
#include "metadata/image.h"
#include "metadata/snapshot.h"
#include "record/batch.h"
#include "util/clock.h"
#include "util/diag.h"

/* oldest_from - the snapshot with the smallest end offset >= `from` in `dir`; false if none. */
static bool oldest_from(const char *dir, int64_t from, struct kp_raft_snapshot_id *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d))) {
		int64_t off;
		int32_t ep;

		if (!kp_snapshot_parse_name(de->d_name, &off, &ep) || off < from)
			continue;
		if (!found || off < out->end_offset || (off == out->end_offset && ep > out->epoch))
			*out = (struct kp_raft_snapshot_id){ off, ep };
		found = true;
	}
	closedir(d);
	return found;
}

/* start_log_after - the log starts after snapshot `id` (its VotersRecord read from the file). */
static int start_log_after(struct kp_raft_node *n, const struct kp_raft_snapshot_id *id,
			   kp_error *err)
{
	struct kp_voter_set vs;
	char path[4200];
	bool found;

	if (kp_snapshot_path(path, sizeof(path), kp_mlog_dir(n->log), id->end_offset, id->epoch,
			     err) < 0 ||
	    kp_rn_snapshot_voters(path, path, &vs, &found, err) < 0)
		return -1;
	return kp_mlog_start_after(n->log, id->end_offset, id->epoch, found ? &vs : NULL, err) < 0
		       ? -1 : 0;
}

int kp_rn_snapshot_open(struct kp_raft_node *n, kp_error *err)
{
	const char *dir = kp_mlog_dir(n->log);
	struct kp_raft_snapshot_id latest, start;
	int64_t first = kp_mlog_log_start_offset(n->log);
	int found;

	n->snap.end_offset = -1;
	n->part_fd = -1;
	n->snap_ms = kp_rn_now();
	if ((found = kp_snapshot_latest(dir, &latest.end_offset, &latest.epoch, err)) <= 0)
		return found;
	if (latest.end_offset > kp_mlog_end_offset(n->log) || !oldest_from(dir, first, &start))
		start = latest; /* an installed snapshot the log was not yet emptied for */
	if ((first > 0 || start.end_offset > kp_mlog_end_offset(n->log)) &&
	    start_log_after(n, &start, err) < 0)
		return -1;
	kp_rn_snapshot_loaded(n, &latest);
	kp_diag_info("raft: latest snapshot %lld-%d, log start %lld", (long long)latest.end_offset,
		     latest.epoch, (long long)kp_mlog_log_start_offset(n->log));
	return 0;
}

/* deliver_bytes - the data batches of snapshot file bytes to on_record at end - 1. */
static int deliver_bytes(struct kp_raft_node *n, const kp_buf *b, kp_error *err)
{
	struct kp_batch_header h;

	for (size_t pos = 0; pos < b->len && !n->failed;) {
		long size = kp_batch_validate(b->data + pos, b->len - pos, &h, err);

		if (size < 0)
			return -1;
		struct kp_raft_entry e = {
			.offset = h.base_offset, .epoch = h.partition_leader_epoch,
			.count = h.last_offset_delta + 1, .data = b->data + pos, .len = (size_t)size,
		};

		if (!(h.attributes & KP_BATCH_CONTROL))
			kp_rn_deliver_batch(n, &e, n->snap.end_offset - 1);
		pos += (size_t)size;
	}
	return 0;
}

void kp_rn_snapshot_deliver(struct kp_raft_node *n)
{
	char path[4200];
	kp_error err;
	kp_buf b;

	n->snap_deliver = false;
	kp_buf_init(&b);
	if (kp_snapshot_path(path, sizeof(path), kp_mlog_dir(n->log), n->snap.end_offset,
			     n->snap.epoch, &err) < 0 || kp_rn_read_file(path, &b, &err) < 0)
		goto fail;
	if (n->cb.on_snapshot)
		n->cb.on_snapshot(n->cb.opaque, n->snap.end_offset, n->snap.epoch);
	if (deliver_bytes(n, &b, &err) < 0)
		goto fail;
	kp_diag_info("raft: loaded snapshot %lld-%d", (long long)n->snap.end_offset, n->snap.epoch);
	kp_buf_free(&b);
	return;
fail:
	kp_buf_free(&b);
	kp_rn_fail(n, &err);
}

/* with_voters - splice the VotersRecord batch of `vs` after the header of snapshot bytes `b`. */
static int with_voters(struct kp_raft_node *n, kp_buf *b, const struct kp_voter_set *vs,
		       int32_t epoch, kp_error *err)
{
	struct kp_batch_header h;
	kp_buf out;
	int rc = -1;

	kp_buf_init(&out);
	if (kp_batch_header_parse(b->data, b->len, &h, err) < 0)
		goto out;
	size_t first = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;

	kp_buf_append(&out, b->data, first);
	if (kp_voters_record_batch(vs, n->cfg.listener_name, epoch, true, &out, err) < 0)
		goto out;
	kp_buf_append(&out, b->data + first, b->len - first);
	if (out.oom) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	int64_t next = 0;

	for (size_t pos = 0; pos < out.len;) { /* renumber: base offsets are outside the CRC */
		if (kp_batch_header_parse(out.data + pos, out.len - pos, &h, err) < 0)
			goto out;
		kp_batch_set_base_offset(out.data + pos, next);
		next += h.last_offset_delta + 1;
		pos += KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;
	}
	kp_buf_free(b);
	*b = out;
	return 0;
out:
	kp_buf_free(&out);
	return rc;
}

/* trim_log - after a snapshot at `id`: delete whole segments below it, older snapshots. */
static void trim_log(struct kp_raft_node *n, const struct kp_raft_snapshot_id *id,
		     const struct kp_voter_set *vs)
{
	int64_t start, deleted = 0;
	int32_t ep;
	kp_error err;

	if (kp_mlog_segments_below(n->log, id->end_offset) > 0 &&
	    (deleted = kp_mlog_start_after(n->log, id->end_offset, id->epoch, vs, &err)) < 0) {
		kp_diag_warn("raft: cannot delete the log below %lld: %s",
			     (long long)id->end_offset, err.msg);
		return;
	}
	kp_mlog_log_start(n->log, &start, &ep);
	if (deleted > 0)
		kp_diag_info("raft: deleted %lld log segments below %lld; log start %lld",
			     (long long)deleted, (long long)id->end_offset, (long long)start);
	if (n->part_fd < 0 && kp_snapshot_delete_before(kp_mlog_dir(n->log), start, &err) < 0)
		kp_diag_warn("raft: %s", err.msg);
}

int kp_raft_node_snapshot_now(kp_raft_node *n, kp_error *err)
{
	struct kp_raft_snapshot_id id = { n->apply_next, n->applied_epoch };
	const kp_image *img = n->cb.image ? n->cb.image(n->cb.opaque) : NULL;
	struct kp_voter_set vs;
	int64_t voff;
	bool has_vs;
	kp_buf b;
	int rc = -1;

	if (!img || n->failed || n->snap_deliver || id.end_offset <= 0 ||
	    id.end_offset <= n->snap.end_offset)
		return 0;
	kp_buf_init(&b);
	has_vs = kp_mlog_voter_set(n->log, id.end_offset, &vs, &voff);
	if (kp_snapshot_encode(img, id.epoch, kp_wall_ms(), &b, err) < 0 ||
	    (has_vs && with_voters(n, &b, &vs, id.epoch, err) < 0) ||
	    kp_snapshot_write_bytes(kp_mlog_dir(n->log), id.end_offset, id.epoch, b.data, b.len,
				    err) < 0)
		goto out;
	n->snap = id;
	n->snap_bytes = 0;
	n->snap_ms = kp_rn_now();
	kp_diag_info("raft: snapshot %lld-%d written (%zu bytes)", (long long)id.end_offset,
		     id.epoch, b.len);
	trim_log(n, &id, has_vs ? &vs : NULL);
	rc = 1;
out:
	kp_buf_free(&b);
	return rc;
}

void kp_rn_snapshot_maybe(struct kp_raft_node *n)
{
	int64_t now = kp_rn_now();
	kp_error err;

	if (!n->cb.image || n->failed || n->snap_bytes == 0)
		return;
	if (n->snap_bytes < n->cfg.snapshot_max_bytes &&
	    (n->cfg.snapshot_interval_ms <= 0 || now - n->snap_ms < n->cfg.snapshot_interval_ms))
		return;
	if (kp_raft_node_snapshot_now(n, &err) < 0) {
		kp_diag_warn("raft: cannot write a snapshot: %s", err.msg);
		n->snap_bytes = 0; /* try again after as many bytes */
	}
}
