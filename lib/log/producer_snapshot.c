/*
 * producer_snapshot.c - producer state snapshots of a partition log and
 * how the state is rebuilt when a log opens or is truncated (Kafka's
 * ProducerStateManager snapshots, in Kafka's file format, so that the
 * files of a partition directory read the same to Kafka's tools).
 *
 * A snapshot is taken when a segment rolls and when the log closes,
 * named by the offset the map reaches (exclusive), next to the segments:
 *
 *   TOPIC-PARTITION/00000000000000004711.snapshot
 *
 *   +---------+-----------+-------+----------------------------------+
 *   | version | crc       | count | count entries, 46 bytes each ... |
 *   | int16=1 | uint32    | int32 |                                  |
 *   +---------+-----------+-------+----------------------------------+
 *   crc: CRC-32C of everything after it (count and entries)
 *
 *   entry: producerId int64 | epoch int16 | lastSequence int32 |
 *          lastOffset int64 | offsetDelta int32 | timestamp int64 |
 *          coordinatorEpoch int32 | currentTxnFirstOffset int64
 *
 * (all big-endian; lastOffset -1 when the entry has no batch). Only each
 * producer's last batch is in a snapshot, as in Kafka. Opening a log loads
 * the latest snapshot at or below the log end offset whose CRC holds
 * (others above the end, stray ones not at a segment base, and corrupt
 * ones are deleted) and replays the batch headers from it to the log end
 * offset; without one, from the log start offset.
 */
#include "log/log_internal.h"
#include "log/producer_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/diag.h"
#include "util/file.h"

#define SNAP_SUFFIX ".snapshot"
#define SNAP_VERSION 1
#define SNAP_HEADER 10 /* version, crc, count */
#define SNAP_ENTRY 46
#define SNAP_CRC_FROM 6 /* the CRC covers the bytes from here on */

/* snap_path - DIR/OFFSET.snapshot into path; -1 with KP_EINVAL when too long. */
static int snap_path(const kp_log *log, int64_t offset, char *path, size_t n, kp_error *err)
{
	if (snprintf(path, n, "%s/%020" PRId64 SNAP_SUFFIX, log->dir, offset) >= (int)n)
		return kp_error_set(err, KP_EINVAL, "%s: path too long", log->dir);
	return 0;
}

/* encode - the snapshot of ps into out. */
static int encode(const struct kp_producer_state *ps, kp_buf *out, kp_error *err)
{
	const struct kp_producer_entry *e;
	uint32_t count = HASH_COUNT(ps->map);
	uint8_t *p;

	if (!kp_buf_reserve(out, SNAP_HEADER + (size_t)count * SNAP_ENTRY))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	p = out->data;
	kp_store_u16(p, SNAP_VERSION);
	kp_store_u32(p + 6, count);
	p += SNAP_HEADER;
	for (e = ps->map; e; e = e->hh.next, p += SNAP_ENTRY) {
		const struct kp_producer_batch *b = e->nbatches ? &e->batches[e->nbatches - 1] : NULL;

		kp_store_u64(p, (uint64_t)e->producer_id);
		kp_store_u16(p + 8, (uint16_t)e->epoch);
		kp_store_u32(p + 10, (uint32_t)(b ? b->last_seq : -1));
		kp_store_u64(p + 14, (uint64_t)(b ? b->last_offset : -1));
		kp_store_u32(p + 22, (uint32_t)(b ? (int32_t)(b->last_offset - b->first_offset) : 0));
		kp_store_u64(p + 26, (uint64_t)e->last_timestamp);
		kp_store_u32(p + 34, (uint32_t)e->coordinator_epoch);
		kp_store_u64(p + 38, (uint64_t)e->txn_first_offset);
	}
	out->len = SNAP_HEADER + (size_t)count * SNAP_ENTRY;
	kp_store_u32(out->data + 2, kp_crc32c(0, out->data + SNAP_CRC_FROM, out->len - SNAP_CRC_FROM));
	return 0;
}

/*
 * write_file - `len` bytes at `p` to path (through path.tmp and a
 * rename), the file fsynced when `sync` but not the directory, as Kafka
 * writes them: a snapshot lost to a power failure only means a longer
 * replay from an older one.
 */
static int write_file(const kp_log *log, const char *path, const uint8_t *p, size_t len, bool sync,
		      kp_error *err)
{
	char tmp[PATH_MAX];
	int fd, rc = -1;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return kp_error_set(err, KP_EINVAL, "%s: path too long", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return kp_error_errno(err, "%s: open", tmp);
	if (kp_pwrite_full(fd, p, len, 0, tmp, err) < 0)
		goto out;
	if (sync && fsync(fd) < 0) {
		kp_error_errno(err, "%s: fsync", tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		kp_error_errno(err, "%s: rename", tmp);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/*
 * kp_producer_snapshot_write - write the producer state of `log` as the
 * snapshot at its map end offset (Kafka's takeSnapshot), unless the
 * latest snapshot is there already; fsynced when `sync`. Returns 0 or -1
 * (KP_EIO, KP_ENOMEM).
 */
int kp_producer_snapshot_write(kp_log *log, bool sync, kp_error *err)
{
	struct kp_producer_state *ps = &log->producers;
	char path[PATH_MAX];
	kp_buf b;
	int rc = -1;

	if (!log->cfg.producer_state || ps->map_end <= ps->snap_end ||
	    (!ps->map && ps->map_end <= log->start_offset)) /* nothing a replay would not find at once */
		return 0;
	kp_buf_init(&b);
	if (snap_path(log, ps->map_end, path, sizeof path, err) < 0 || encode(ps, &b, err) < 0 ||
	    write_file(log, path, b.data, b.len, sync, err) < 0)
		goto out;
	ps->snap_end = ps->map_end;
	rc = 0;
out:
	kp_buf_free(&b);
	return rc;
}

/* snap_offset - the offset a snapshot file's name gives, -1 when `name` is not one. */
static int64_t snap_offset(const char *name)
{
	size_t n = strlen(name), k = strlen(SNAP_SUFFIX);
	char *end;
	long long v;

	if (n != 20 + k || strcmp(name + 20, SNAP_SUFFIX) != 0)
		return -1;
	errno = 0;
	v = strtoll(name, &end, 10);
	return errno || end != name + 20 || v < 0 ? -1 : (int64_t)v;
}

/* list_snapshots - the offsets of log's snapshot files, ascending (*out owned by the caller). */
static int list_snapshots(const kp_log *log, int64_t **out, size_t *n, kp_error *err)
{
	DIR *d = opendir(log->dir);
	struct dirent *de;
	size_t cap = 0;
	int64_t *v = NULL, *nv, off;

	*out = NULL;
	*n = 0;
	if (!d)
		return kp_error_errno(err, "%s: opendir", log->dir);
	while ((de = readdir(d))) {
		if ((off = snap_offset(de->d_name)) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(nv = realloc(v, cap * sizeof(*v)))) {
				free(v);
				closedir(d);
				return kp_error_set(err, KP_ENOMEM, "out of memory");
			}
			v = nv;
		}
		v[(*n)++] = off;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++) /* a handful: insertion sort */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			off = v[j];
			v[j] = v[j - 1];
			v[j - 1] = off;
		}
	*out = v;
	return 0;
}

/* snap_unlink - remove the snapshot at `offset` (a missing one is fine). */
static void snap_unlink(const kp_log *log, int64_t offset)
{
	char path[PATH_MAX];

	if (snap_path(log, offset, path, sizeof path, NULL) == 0 && unlink(path) < 0 &&
	    errno != ENOENT)
		kp_diag_warn("%s: cannot remove: %s", path, strerror(errno));
}

/*
 * kp_producer_snapshots_delete - remove log's snapshots below `below` and
 * above `above` (segments deleted; a truncation). Failures are logged.
 */
void kp_producer_snapshots_delete(kp_log *log, int64_t below, int64_t above)
{
	int64_t *v;
	size_t n;

	if (!log->cfg.producer_state || list_snapshots(log, &v, &n, NULL) < 0)
		return;
	log->producers.snap_end = -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < below || v[i] > above)
			snap_unlink(log, v[i]);
		else
			log->producers.snap_end = v[i]; /* ascending: the latest kept */
	}
	free(v);
}

/* decode - the entries of the snapshot bytes into ps; -1 with KP_ECORRUPT or KP_ENOMEM. */
static int decode(struct kp_producer_state *ps, const uint8_t *p, size_t len, kp_error *err)
{
	uint32_t count;

	if (len < SNAP_HEADER || kp_load_u16(p) != SNAP_VERSION)
		return kp_error_set(err, KP_ECORRUPT, "not a version %d producer snapshot", SNAP_VERSION);
	if (kp_load_u32(p + 2) != kp_crc32c(0, p + SNAP_CRC_FROM, len - SNAP_CRC_FROM))
		return kp_error_set(err, KP_ECORRUPT, "CRC mismatch");
	count = kp_load_u32(p + 6);
	if ((len - SNAP_HEADER) / SNAP_ENTRY != count || (len - SNAP_HEADER) % SNAP_ENTRY)
		return kp_error_set(err, KP_ECORRUPT, "%u entries do not fill %zu bytes", count, len);
	for (p += SNAP_HEADER; count-- > 0; p += SNAP_ENTRY) {
		struct kp_batch_header h = { 0 };
		int64_t last_offset = (int64_t)kp_load_u64(p + 14);
		int32_t delta = (int32_t)kp_load_u32(p + 22), seq = (int32_t)kp_load_u32(p + 10);
		struct kp_producer_entry *e;

		h.producer_id = (int64_t)kp_load_u64(p);
		if (h.producer_id < 0 || delta < 0 || seq < -1 || last_offset < -1 ||
		    (last_offset >= 0 && last_offset < delta))
			return kp_error_set(err, KP_ECORRUPT, "bad entry for producer %" PRId64,
					    h.producer_id);
		h.producer_epoch = (int16_t)kp_load_u16(p + 8);
		h.base_offset = last_offset - delta;
		h.last_offset_delta = delta;
		h.base_sequence = (int32_t)(seq >= delta ? (int64_t)seq - delta
							 : (int64_t)INT32_MAX - (delta - seq) + 1);
		h.max_timestamp = (int64_t)kp_load_u64(p + 26);
		if (last_offset >= 0 ? kp_producer_replay(ps, &h, err) < 0 : 0)
			return -1;
		HASH_FIND(hh, ps->map, &h.producer_id, sizeof(h.producer_id), e);
		if (!e) { /* no batch: only its epoch (replay makes the entry) */
			h.attributes = KP_BATCH_CONTROL;
			if (kp_producer_replay(ps, &h, err) < 0)
				return -1;
			HASH_FIND(hh, ps->map, &h.producer_id, sizeof(h.producer_id), e);
		}
		e->coordinator_epoch = (int32_t)kp_load_u32(p + 34);
		e->txn_first_offset = (int64_t)kp_load_u64(p + 38);
		e->last_timestamp = h.max_timestamp;
	}
	return 0;
}

/* read_snapshot - load the snapshot at `offset` into the (empty) state of log. */
static int read_snapshot(kp_log *log, int64_t offset, kp_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *p = NULL;
	int fd = -1, rc = -1;

	if (snap_path(log, offset, path, sizeof path, err) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		kp_error_errno(err, "%s", path);
		goto out;
	}
	if (!(p = malloc((size_t)st.st_size + 1))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_pread_full(fd, p, (size_t)st.st_size, 0, path, err) < 0)
		goto out;
	rc = decode(&log->producers, p, (size_t)st.st_size, err);
	if (rc < 0 && err->code == KP_ECORRUPT)
		kp_diag_warn("%s: %s: deleting it", path, err->msg);
out:
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

/* replay_from - every batch header of log from the batch holding `from` on into the state. */
static int replay_from(kp_log *log, int64_t from, kp_error *err)
{
	struct kp_batch_header h;
	int64_t pos;

	for (size_t i = kp_log_find_segment(log, from); i < log->nsegs; i++) {
		struct kp_segment *s = &log->segs[i];

		if (kp_segment_find(s, from, &pos, err) < 0)
			return -1;
		for (; pos < s->size; pos += KP_BATCH_LOG_OVERHEAD + h.batch_length)
			if (kp_segment_read_header(s, pos, &h, err) < 0 ||
			    kp_producer_replay(&log->producers, &h, err) < 0)
				return -1;
	}
	return 0;
}

/* is_segment_base - whether a segment of log starts at `offset`. */
static bool is_segment_base(const kp_log *log, int64_t offset)
{
	size_t i = kp_log_find_segment(log, offset);

	return log->segs[i].base == offset;
}

/*
 * kp_producer_state_reload - rebuild log's producer state from scratch:
 * drop snapshots above the log end offset, stray ones (not at a segment
 * base, except the latest) and corrupt ones; load the latest good one and
 * replay the log from it (Kafka's loadProducerState / truncateAndReload).
 * Returns 0 or -1 (KP_EIO, KP_ENOMEM).
 */
int kp_producer_state_reload(kp_log *log, kp_error *err)
{
	struct kp_producer_state *ps = &log->producers;
	int64_t end = kp_log_end_offset(log), from = log->start_offset, *v;
	size_t n;
	int rc = -1;

	kp_producer_state_clear(ps);
	ps->map_end = from;
	ps->snap_end = -1;
	if (!log->cfg.producer_state)
		return 0;
	if (list_snapshots(log, &v, &n, err) < 0)
		return -1;
	while (n > 0 && v[n - 1] > end)
		snap_unlink(log, v[--n]);
	for (; n > 0; n--) {
		kp_error why;

		if (v[n - 1] < log->start_offset) {
			snap_unlink(log, v[n - 1]);
			continue;
		}
		if (read_snapshot(log, v[n - 1], &why) == 0)
			break;
		if (why.code != KP_ECORRUPT) {
			kp_error_set(err, why.code, "%s", why.msg);
			goto out;
		}
		snap_unlink(log, v[n - 1]);
		kp_producer_state_clear(ps);
	}
	if (n > 0) {
		from = ps->map_end = ps->snap_end = v[n - 1];
		for (size_t i = 0; i + 1 < n; i++)
			if (!is_segment_base(log, v[i]))
				snap_unlink(log, v[i]);
	}
	if (from < end && replay_from(log, from, err) < 0)
		goto out;
	ps->map_end = end;
	rc = 0;
out:
	free(v);
	return rc;
}
