/*
 * metadata_load.c - a metadata log dir read offline into an image: the
 * latest snapshot, then every record of the log after it (Kafka's
 * MetadataShell / MetadataLoader over a log dir), for kcontroller
 * --dump-metadata; see raft_node.h.
 */
#include <stdio.h>

#include "controller/metadata_log.h"
#include "controller/raft_node.h"
#include "metadata/image.h"
#include "metadata/record.h"
#include "metadata/snapshot.h"
#include "record/records.h"
#include "util/arena.h"

#define LOAD_ENTRIES 64

/* apply_entry - the data records of one log entry to `img`. */
static int apply_entry(const struct kp_raft_entry *e, kp_image *img, kp_error *err)
{
	kp_record_iter *it = kp_record_iter_new(e->data, e->len, e->offset);
	struct kp_metadata_record rec;
	struct kp_record r;
	kp_arena arena;
	int rc;

	if (!it)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_arena_init(&arena);
	while ((rc = kp_record_iter_next(it, &r, err)) == 1) {
		if (!r.value)
			continue;
		if (kp_metadata_record_decode(r.value, (size_t)r.value_len, &arena, &rec, err) < 0 ||
		    kp_image_apply(img, &rec, r.offset, e->epoch, err) < 0) {
			rc = -1;
			break;
		}
		kp_arena_free(&arena);
		kp_arena_init(&arena);
	}
	kp_arena_free(&arena);
	kp_record_iter_free(it);
	return rc < 0 ? -1 : 0;
}

/* apply_log - every entry of `l` from `from` to its end. */
static int apply_log(kp_mlog *l, int64_t from, kp_image *img, kp_error *err)
{
	struct kp_raft_entry ents[LOAD_ENTRIES];
	int64_t off = from;
	size_t got;

	while (off < kp_mlog_end_offset(l) && (got = kp_mlog_read(l, off, ents, LOAD_ENTRIES)) > 0) {
		for (size_t i = 0; i < got; i++) {
			if (ents[i].offset + ents[i].count <= off)
				continue;
			if (!ents[i].control && apply_entry(&ents[i], img, err) < 0)
				return -1;
			off = ents[i].offset + ents[i].count;
		}
	}
	if (off < kp_mlog_end_offset(l))
		return kp_error_set(err, KP_ECORRUPT, "cannot read the metadata log at %lld: %s",
				    (long long)off, kp_mlog_error(l)->msg);
	return 0;
}

int kp_raft_node_load_dir(const char *log_dir, kp_image *img, kp_error *err)
{
	kp_mlog *l = NULL;
	int64_t end = 0;
	int32_t epoch = 0, none[1] = { 0 };
	char path[4200];
	int found, rc = -1;

	if (kp_mlog_open(log_dir, -1, none, 0, 0, &l, err) < 0)
		return -1;
	if ((found = kp_snapshot_latest(kp_mlog_dir(l), &end, &epoch, err)) < 0)
		goto out;
	if (found && (kp_snapshot_path(path, sizeof(path), kp_mlog_dir(l), end, epoch, err) < 0 ||
		      kp_snapshot_load(path, img, err) < 0))
		goto out;
	if (found && end < kp_mlog_log_start_offset(l)) {
		kp_error_set(err, KP_ECORRUPT, "%s: the log starts after snapshot %lld",
			     kp_mlog_dir(l), (long long)end);
		goto out;
	}
	rc = apply_log(l, found ? end : kp_mlog_log_start_offset(l), img, err);
out:
	kp_mlog_close(l);
	return rc;
}
