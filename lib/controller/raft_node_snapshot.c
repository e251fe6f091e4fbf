/*
 * raft_node_snapshot.c - the core's snapshot ops over snapshot files in
 * the metadata log dir (KIP-630; Kafka's KafkaMetadataLog snapshot half
 * with FileRawSnapshotReader / FileRawSnapshotWriter):
 *
 *   DIR/__cluster_metadata-0/00000000000000012345-0000000007.checkpoint
 *
 * The file's bytes are what FetchSnapshot carries. A fetched snapshot is
 * written to NAME.checkpoint.part, and on install checked (every batch's
 * CRC, header, footer), fsynced, renamed, and the log emptied to start at
 * its end offset; the owner then gets its records (on_snapshot, then
 * on_record) from the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controller/raft_node_internal.h"
#include "metadata/image.h"
#include "metadata/snapshot.h"
#include "record/batch.h"
#include "util/diag.h"
#include "util/file.h"

/* id_path - the file of snapshot `id` in the log dir; -1 when the path does not fit. */
static int id_path(const struct kp_raft_node *n, const struct kp_raft_snapshot_id *id, char *out,
		   size_t size, kp_error *err)
{
	return kp_snapshot_path(out, size, kp_mlog_dir(n->log), id->end_offset, id->epoch, err);
}

static bool same_id(const struct kp_raft_snapshot_id *a, const struct kp_raft_snapshot_id *b)
{
	return a->end_offset == b->end_offset && a->epoch == b->epoch;
}

static void op_log_start(void *opaque, int64_t *offset, int32_t *epoch)
{
	kp_mlog_log_start(((struct kp_raft_node *)opaque)->log, offset, epoch);
}

static bool op_latest(void *opaque, struct kp_raft_snapshot_id *id)
{
	const struct kp_raft_node *n = opaque;

	*id = n->snap;
	return n->snap.end_offset > 0;
}

static bool op_voters(void *opaque, int32_t *ids, int *cnt, int64_t *offset)
{
	return kp_mlog_voters(((struct kp_raft_node *)opaque)->log, ids, cnt, offset);
}

/* op_read - ops->snapshot_read: a chunk of the file, -1 when that snapshot is gone. */
static long op_read(void *opaque, const struct kp_raft_snapshot_id *id, int64_t position,
		    uint8_t *buf, size_t max, int64_t *size)
{
	struct kp_raft_node *n = opaque;
	char path[4200];
	struct stat st;
	kp_error err;
	long got = -1;
	int fd;

	if (id_path(n, id, path, sizeof(path), &err) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || position > st.st_size)
		goto out;
	*size = st.st_size;
	size_t len = (size_t)(st.st_size - position) < max ? (size_t)(st.st_size - position) : max;

	if (kp_pread_full(fd, buf, len, position, path, &err) < 0)
		kp_diag_error("raft: %s", err.msg);
	else
		got = (long)len;
out:
	close(fd);
	return got;
}

/* op_write - ops->snapshot_write: fetched bytes into NAME.part (position 0 starts it). */
static int op_write(void *opaque, const struct kp_raft_snapshot_id *id, int64_t position,
		    const uint8_t *data, size_t len)
{
	struct kp_raft_node *n = opaque;
	char path[4200], part[4300];
	kp_error err;

	if (position == 0) {
		kp_rn_snapshot_close(n);
		if (id_path(n, id, path, sizeof(path), &err) < 0)
			goto fail;
		snprintf(part, sizeof(part), "%s.part", path);
		n->part_fd = open(part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (n->part_fd < 0) {
			kp_error_errno(&err, "cannot create %s", part);
			goto fail;
		}
		n->part_id = *id;
		kp_diag_info("raft: fetching snapshot %lld-%d from the leader",
			     (long long)id->end_offset, id->epoch);
	}
	if (n->part_fd < 0 || !same_id(id, &n->part_id)) {
		kp_error_set(&err, KP_EINVAL, "snapshot bytes at %lld of no snapshot being fetched",
			     (long long)position);
		goto fail;
	}
	if (kp_pwrite_full(n->part_fd, data, len, position, "snapshot part", &err) < 0)
		goto fail;
	return 0;
fail:
	kp_diag_error("raft: %s", err.msg);
	return -1;
}

void kp_rn_snapshot_close(struct kp_raft_node *n)
{
	if (n->part_fd >= 0)
		close(n->part_fd);
	n->part_fd = -1;
}

/* check_part - the whole fetched file decodes (CRCs, header, footer) into a scratch image. */
static int check_part(struct kp_raft_node *n, const char *part,
		      const struct kp_raft_snapshot_id *id, kp_error *err)
{
	kp_image *img = kp_image_new();
	kp_buf bytes;
	int rc = -1;

	kp_buf_init(&bytes);
	if (!img) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_rn_read_file(part, &bytes, err) < 0 ||
	    kp_snapshot_decode(bytes.data, bytes.len, id->end_offset, id->epoch, img, err) < 0)
		goto out;
	rc = 0;
out:
	kp_image_free(img);
	kp_buf_free(&bytes);
	(void)n;
	return rc;
}

/* op_install - ops->snapshot_install: check, rename, empty the log to start after it. */
static int op_install(void *opaque, const struct kp_raft_snapshot_id *id)
{
	struct kp_raft_node *n = opaque;
	char path[4200], part[4300];
	struct kp_voter_set vs;
	bool has_voters;
	kp_error err;

	if (n->part_fd < 0 || !same_id(id, &n->part_id)) {
		kp_error_set(&err, KP_EINVAL, "no snapshot %lld-%d being fetched",
			     (long long)id->end_offset, id->epoch);
		goto fail;
	}
	if (id_path(n, id, path, sizeof(path), &err) < 0)
		goto fail;
	snprintf(part, sizeof(part), "%s.part", path);
	if (fsync(n->part_fd) < 0) {
		kp_error_errno(&err, "cannot fsync %s", part);
		goto fail;
	}
	kp_rn_snapshot_close(n);
	if (check_part(n, part, id, &err) < 0 || kp_rn_snapshot_voters(path, part, &vs, &has_voters,
								      &err) < 0)
		goto fail;
	if (rename(part, path) < 0) {
		kp_error_errno(&err, "cannot rename %s", part);
		goto fail;
	}
	if (kp_fsync_dir(kp_mlog_dir(n->log), &err) < 0 ||
	    kp_mlog_reset_at(n->log, id->end_offset, id->epoch, has_voters ? &vs : NULL, &err) < 0)
		goto fail;
	kp_rn_snapshot_loaded(n, id);
	if (kp_snapshot_delete_before(kp_mlog_dir(n->log), id->end_offset, &err) < 0)
		kp_diag_warn("raft: %s", err.msg);
	kp_diag_info("raft: installed snapshot %lld-%d; the log starts there",
		     (long long)id->end_offset, id->epoch);
	return 0;
fail:
	kp_diag_error("raft: cannot install snapshot %lld-%d: %s", (long long)id->end_offset,
		      id->epoch, err.msg);
	return -1;
}

void kp_rn_snapshot_ops(struct kp_raft_ops *ops)
{
	ops->log_start = op_log_start;
	ops->latest_snapshot = op_latest;
	ops->voters = op_voters;
	ops->snapshot_read = op_read;
	ops->snapshot_write = op_write;
	ops->snapshot_install = op_install;
}

void kp_rn_snapshot_loaded(struct kp_raft_node *n, const struct kp_raft_snapshot_id *id)
{
	n->snap = *id;
	n->apply_next = id->end_offset;
	n->last_applied = id->end_offset - 1;
	n->applied_epoch = id->epoch;
	n->snap_bytes = 0;
	n->snap_ms = kp_rn_now();
	n->snap_deliver = true;
}

int kp_rn_read_file(const char *path, kp_buf *out, kp_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return kp_error_errno(err, "cannot open %s", path);
	if (fstat(fd, &st) < 0) {
		kp_error_errno(err, "cannot stat %s", path);
		goto out;
	}
	kp_buf_reset(out);
	if (!kp_buf_reserve(out, (size_t)st.st_size + 1)) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_pread_full(fd, out->data, (size_t)st.st_size, 0, path, err) < 0)
		goto out;
	out->len = (size_t)st.st_size;
	rc = 0;
out:
	close(fd);
	return rc;
}

int kp_rn_snapshot_voters(const char *name, const char *path, struct kp_voter_set *out,
			  bool *found, kp_error *err)
{
	struct kp_batch_header h;
	kp_buf b;
	int rc = 0;

	*found = false;
	kp_buf_init(&b);
	if (kp_rn_read_file(path, &b, err) < 0) {
		kp_buf_free(&b);
		return -1;
	}
	for (size_t pos = 0; rc == 0 && pos + KP_BATCH_HEADER_SIZE <= b.len;) {
		if (kp_batch_header_parse(b.data + pos, b.len - pos, &h, err) < 0) {
			rc = -1;
			break;
		}
		size_t size = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;

		if (pos + size > b.len)
			break;
		int got = kp_voters_record_parse(b.data + pos, size, out, err);

		if (got < 0)
			kp_diag_warn("raft: %s: %s", name, err->msg);
		if (got > 0)
			*found = true;
		pos += size;
	}
	kp_buf_free(&b);
	return rc;
}
