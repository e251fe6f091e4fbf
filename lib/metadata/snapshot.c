/*
 * snapshot.c - KRaft metadata snapshot files (KIP-630): writing the image
 * as Kafka's RecordsSnapshotWriter does, reading one back into an image,
 * and finding and pruning them in a directory. Layout in snapshot.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metadata/record.h"
#include "metadata/snapshot.h"
#include "record/batch.h"
#include "record/records.h"
#include "util/arena.h"
#include "util/file.h"

#define CONTROL_SNAPSHOT_HEADER 3 /* ControlRecordType.SNAPSHOT_HEADER */
#define CONTROL_SNAPSHOT_FOOTER 4 /* ControlRecordType.SNAPSHOT_FOOTER */

int kp_snapshot_path(char *out, size_t size, const char *dir, int64_t end_offset, int32_t epoch,
		     kp_error *err)
{
	int n = snprintf(out, size, "%s/%020" PRId64 "-%010" PRId32 "%s", dir, end_offset, epoch,
			 KP_SNAPSHOT_SUFFIX);
	if (n < 0 || (size_t)n >= size)
		return kp_error_set(err, KP_ERANGE, "snapshot path in %s too long", dir);
	return 0;
}

bool kp_snapshot_parse_name(const char *name, int64_t *end_offset, int32_t *epoch)
{
	char *end;
	long long off, ep;
	if (strlen(name) != 20 + 1 + 10 + strlen(KP_SNAPSHOT_SUFFIX) || name[20] != '-' ||
	    strcmp(name + 31, KP_SNAPSHOT_SUFFIX) != 0)
		return false;
	off = strtoll(name, &end, 10);
	if (end != name + 20 || off < 0)
		return false;
	ep = strtoll(name + 21, &end, 10);
	if (end != name + 31 || ep < 0 || ep > INT32_MAX)
		return false;
	*end_offset = off;
	*epoch = (int32_t)ep;
	return true;
}

/* One snapshot being encoded: the batch builder and where offsets are. */
struct encoder {
	kp_batch_builder *b;
	kp_buf *out;
	int32_t epoch;
	int64_t next_offset;
	int64_t timestamp;
};

/* Closes the open batch: base offset, epoch, and control if asked. */
static int flush_batch(struct encoder *e, bool control, kp_error *err)
{
	size_t at = e->out->len;
	int32_t n = kp_batch_builder_count(e->b);
	if (n == 0)
		return 0;
	if (kp_batch_builder_finish(e->b, -1, e->out, err) < 0)
		return -1;
	kp_batch_set_base_offset(e->out->data + at, e->next_offset);
	kp_batch_set_partition_leader_epoch(e->out->data + at, e->epoch);
	if (control)
		kp_batch_set_control(e->out->data + at, e->out->len - at);
	e->next_offset += n;
	return 0;
}

/* A control batch of one record of `type` whose value is `msg` in version 0. */
static int control_record(struct encoder *e, int type, const struct kp_msg_desc *desc,
			  const void *msg, kp_error *err)
{
	uint8_t key[4] = { 0, 0, 0, (uint8_t)type };
	kp_buf value;
	int rc = -1;
	kp_buf_init(&value);
	if (kp_msg_encode(desc, 0, msg, &value, err) < 0)
		goto out;
	struct kp_record rec = { .timestamp = e->timestamp, .key = key, .key_len = 4,
				 .value = value.data, .value_len = (int32_t)value.len };
	if (kp_batch_builder_add(e->b, &rec, err) < 0 || flush_batch(e, true, err) < 0)
		goto out;
	rc = 0;
out:
	kp_buf_free(&value);
	return rc;
}

static int add_record(void *arg, const struct kp_metadata_record *r, kp_error *err)
{
	struct encoder *e = arg;
	kp_buf value;
	int rc = -1;
	kp_buf_init(&value);
	if (kp_metadata_record_encode(r, &value, err) < 0)
		goto out;
	struct kp_record rec = { .timestamp = e->timestamp, .key_len = -1,
				 .value = value.data, .value_len = (int32_t)value.len };
	if (kp_batch_builder_add(e->b, &rec, err) < 0)
		goto out;
	if (kp_batch_builder_count(e->b) >= KP_SNAPSHOT_BATCH_RECORDS &&
	    flush_batch(e, false, err) < 0)
		goto out;
	rc = 0;
out:
	kp_buf_free(&value);
	return rc;
}

int kp_snapshot_encode(const kp_image *img, int32_t epoch, int64_t last_timestamp_ms,
		       kp_buf *out, kp_error *err)
{
	struct encoder e = { .out = out, .epoch = epoch, .timestamp = last_timestamp_ms };
	struct kp_snapshot_header_record header;
	struct kp_snapshot_footer_record footer;
	int rc = -1;
	if (!(e.b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, err)))
		return -1;
	kp_snapshot_header_record_init(&header);
	header.last_contained_log_timestamp = last_timestamp_ms;
	kp_snapshot_footer_record_init(&footer);
	if (control_record(&e, CONTROL_SNAPSHOT_HEADER, &kp_snapshot_header_record_desc, &header,
			   err) < 0 ||
	    kp_image_write_records(img, add_record, &e, err) < 0 || flush_batch(&e, false, err) < 0 ||
	    control_record(&e, CONTROL_SNAPSHOT_FOOTER, &kp_snapshot_footer_record_desc, &footer,
			   err) < 0)
		goto out;
	rc = 0;
out:
	kp_batch_builder_free(e.b);
	return rc;
}

/* Writes `len` bytes to `path` and fsyncs it. */
static int write_synced(const char *path, const uint8_t *p, size_t len, kp_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = -1;
	if (fd < 0)
		return kp_error_errno(err, "cannot create %s", path);
	if (kp_pwrite_full(fd, p, len, 0, path, err) < 0)
		goto out;
	if (fsync(fd) < 0) {
		kp_error_errno(err, "cannot fsync %s", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int kp_snapshot_write_bytes(const char *dir, int64_t end_offset, int32_t epoch,
			    const uint8_t *data, size_t len, kp_error *err)
{
	char path[4096], part[4200];

	if (kp_snapshot_path(path, sizeof(path), dir, end_offset, epoch, err) < 0)
		return -1;
	snprintf(part, sizeof(part), "%s.part", path);
	if (write_synced(part, data, len, err) < 0)
		return -1;
	if (rename(part, path) < 0)
		return kp_error_errno(err, "cannot rename %s", part);
	return kp_fsync_dir(dir, err);
}

int kp_snapshot_write(const char *dir, const kp_image *img, int64_t end_offset, int32_t epoch,
		      int64_t last_timestamp_ms, kp_error *err)
{
	kp_buf bytes;
	int rc = -1;
	kp_buf_init(&bytes);
	if (kp_snapshot_encode(img, epoch, last_timestamp_ms, &bytes, err) < 0)
		goto out;
	rc = kp_snapshot_write_bytes(dir, end_offset, epoch, bytes.data, bytes.len, err);
out:
	kp_buf_free(&bytes);
	return rc;
}

/* The control record type of the control batch at p (sz bytes), or -1. */
static int control_type(const uint8_t *p, size_t sz)
{
	const uint8_t *q = p + KP_BATCH_HEADER_SIZE;
	struct kp_record r;
	if (sz < KP_BATCH_HEADER_SIZE || !kp_batch_control_record_next(&q, p + sz, &r) ||
	    r.key_len != 4)
		return -1;
	return kp_load_u16(r.key + 2);
}

/* Applies the records of the data batch at p (sz bytes) to `img`. */
static int apply_batch(const uint8_t *p, size_t sz, int64_t offset, int32_t epoch, kp_image *img,
		       kp_error *err)
{
	kp_record_iter *it = kp_record_iter_new(p, sz, 0);
	struct kp_record rec;
	kp_arena arena;
	int rc = -1, more;
	if (!it)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_arena_init(&arena);
	while ((more = kp_record_iter_next(it, &rec, err)) > 0) {
		struct kp_metadata_record m;
		if (rec.value_len < 0) {
			kp_error_set(err, KP_EPROTO, "snapshot record at %lld has no value",
				     (long long)rec.offset);
			goto out;
		}
		if (kp_metadata_record_decode(rec.value, (size_t)rec.value_len, &arena, &m, err) < 0 ||
		    kp_image_apply(img, &m, offset, epoch, err) < 0)
			goto out;
		kp_arena_free(&arena);
	}
	rc = more;
out:
	kp_arena_free(&arena);
	kp_record_iter_free(it);
	return rc;
}

int kp_snapshot_decode(const uint8_t *data, size_t len, int64_t end_offset, int32_t epoch,
		       kp_image *img, kp_error *err)
{
	struct kp_batch_header h;
	size_t pos = 0;
	int batches = 0;
	int64_t next = 0;
	bool footer = false;
	while (pos < len) {
		long sz = kp_batch_validate(data + pos, len - pos, &h, err);
		bool control;
		if (sz < 0)
			return -1;
		if (footer)
			return kp_error_set(err, KP_ECORRUPT, "snapshot has bytes after its footer");
		control = (h.attributes & KP_BATCH_CONTROL) != 0;
		if (batches == 0 && (!control ||
				     control_type(data + pos, (size_t)sz) != CONTROL_SNAPSHOT_HEADER))
			return kp_error_set(err, KP_ECORRUPT, "snapshot does not start with its header");
		if (h.base_offset != next) /* outside the CRC: checked here */
			return kp_error_set(err, KP_ECORRUPT, "snapshot batch at %zu has offset %lld, not %lld",
					    pos, (long long)h.base_offset, (long long)next);
		next = h.base_offset + h.last_offset_delta + 1;
		if (control && control_type(data + pos, (size_t)sz) == CONTROL_SNAPSHOT_FOOTER)
			footer = true;
		if (!control && apply_batch(data + pos, (size_t)sz, end_offset - 1, epoch, img, err) < 0)
			return -1;
		pos += (size_t)sz;
		batches++;
	}
	if (!footer)
		return kp_error_set(err, KP_ECORRUPT, "snapshot ends without its footer");
	return 0;
}

int kp_snapshot_load(const char *path, kp_image *img, kp_error *err)
{
	const char *base = strrchr(path, '/');
	int64_t end_offset;
	int32_t epoch;
	struct stat st;
	uint8_t *data = NULL;
	int fd, rc = -1;
	if (!kp_snapshot_parse_name(base ? base + 1 : path, &end_offset, &epoch))
		return kp_error_set(err, KP_EINVAL, "%s is not named as a snapshot", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kp_error_errno(err, "cannot open %s", path);
	if (fstat(fd, &st) < 0) {
		kp_error_errno(err, "cannot stat %s", path);
		goto out;
	}
	if (!(data = malloc((size_t)st.st_size + 1))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_pread_full(fd, data, (size_t)st.st_size, 0, path, err) < 0)
		goto out;
	rc = kp_snapshot_decode(data, (size_t)st.st_size, end_offset, epoch, img, err);
out:
	free(data);
	close(fd);
	return rc;
}

int kp_snapshot_latest(const char *dir, int64_t *end_offset, int32_t *epoch, kp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;
	if (!d)
		return kp_error_errno(err, "cannot read %s", dir);
	while ((de = readdir(d))) {
		int64_t off;
		int32_t ep;
		if (!kp_snapshot_parse_name(de->d_name, &off, &ep))
			continue;
		if (!found || off > *end_offset || (off == *end_offset && ep > *epoch)) {
			*end_offset = off;
			*epoch = ep;
		}
		found = 1;
	}
	closedir(d);
	return found;
}

/* Whether `name` is a snapshot being written (NAME.checkpoint.part). */
static bool is_part(const char *name)
{
	size_t n = strlen(name), s = strlen(KP_SNAPSHOT_SUFFIX ".part");
	return n > s && strcmp(name + n - s, KP_SNAPSHOT_SUFFIX ".part") == 0;
}

int kp_snapshot_delete_before(const char *dir, int64_t end_offset, kp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int removed = 0;
	if (!d)
		return kp_error_errno(err, "cannot read %s", dir);
	while ((de = readdir(d))) {
		int64_t off;
		int32_t ep;
		bool old = kp_snapshot_parse_name(de->d_name, &off, &ep) && off < end_offset;
		if (!old && !is_part(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT) {
			closedir(d);
			return kp_error_errno(err, "cannot remove %s", path);
		}
		removed++;
	}
	closedir(d);
	return removed;
}
