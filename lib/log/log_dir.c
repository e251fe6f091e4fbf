/*
 * log_dir.c - the partition directory: listing segments, opening and
 * recovering the log, the segment list and the recovery-point file.
 *
 *   TOPIC-PARTITION/
 *   |-- 00000000000000000000.log / .index / .timeindex   segment 0
 *   |-- 00000000000000001000.log / .index / .timeindex   segment 1
 *   |-- ...                                              active segment last
 *   |-- recovery-point      "<offset>\n": everything below was fsynced
 *   |                       (written via recovery-point.tmp + rename)
 *   `-- leader-epoch-checkpoint   the leader epoch cache (epoch.c)
 *
 * Recovery on open (Kafka's LogLoader): segments are sorted by base
 * offset; segments at or after the recovery point are fully validated
 * (kp_segment_recover), earlier ones only from their last index entry;
 * at the first torn or corrupt batch that segment is cut and every later
 * segment is deleted. Without a recovery-point file everything is
 * validated.
 *
 * The leader epoch cache is loaded from its checkpoint, whose entries
 * below the recovery point are durable; those at or above it are dropped
 * and re-learnt from the batches recovery validates (they start at or
 * after the recovery point), then cut to the log's [start, end). With no
 * usable checkpoint (a log older than it, or a torn write) every batch
 * header is read once to rebuild it.
 */
#include "log/log_internal.h"
#include "log/cleaner_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/clock.h"
#include "util/diag.h"
#include "util/file.h"

#define RECOVERY_POINT "recovery-point"
#define LOG_START "log-start-offset"

void kp_log_config_default(struct kp_log_config *cfg)
{
	cfg->segment_bytes = 1073741824;
	cfg->segment_ms = 7LL * 24 * 60 * 60 * 1000;
	cfg->index_interval_bytes = 4096;
	cfg->max_index_bytes = 10485760;
	cfg->flush_messages = INT64_MAX;
	cfg->flush_ms = INT64_MAX;
	cfg->flusher = NULL;
	cfg->producer_state = true;
	cfg->persist_start = true;
	cfg->retention_ms = 7LL * 24 * 60 * 60 * 1000;
	cfg->retention_bytes = -1;
	cfg->cleanup_delete = true;
	cfg->cleanup_compact = false;
	cfg->delete_retention_ms = 24LL * 60 * 60 * 1000;
	cfg->min_cleanable_dirty_ratio = 0.5;
	cfg->min_compaction_lag_ms = 0;
	cfg->max_compaction_lag_ms = INT64_MAX;
}

/* kp_log_find_segment - index of the last segment whose base offset is <= `offset` (0 if none). */
size_t kp_log_find_segment(const kp_log *log, int64_t offset)
{
	size_t lo = 0, hi = log->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (log->segs[mid].base <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

/* kp_log_add_segment - open the segment at `base` (emptied if `create`) as the last one. */
int kp_log_add_segment(kp_log *log, int64_t base, bool create, kp_error *err)
{
	struct kp_segment *s;

	if (log->nsegs == log->cap) {
		s = realloc(log->segs, (log->cap ? log->cap * 2 : 8) * sizeof *s);
		if (!s)
			return kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
		log->segs = s;
		log->cap = log->cap ? log->cap * 2 : 8;
	}
	if (kp_segment_open(&log->segs[log->nsegs], log->dir, base, create, &log->cfg, err) < 0)
		return -1;
	log->nsegs++;
	return 0;
}

/* kp_log_drop_segments - delete the files of segments `from` .. last. */
int kp_log_drop_segments(kp_log *log, size_t from, kp_error *err)
{
	int rc = 0;

	while (log->nsegs > from) {
		struct kp_segment *s = &log->segs[--log->nsegs];

		kp_diag_warn("%s: deleting segment", s->path);
		if (kp_segment_unlink(s, err) < 0)
			rc = -1;
	}
	return rc;
}

/* parse_name - base offset from "<20 digits>.log", or -1. */
static int64_t parse_name(const char *name)
{
	int64_t v = 0;
	int i;

	if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0)
		return -1;
	for (i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* list_segments - sorted base offsets of the *.log files in `dir` (*bases: free()). */
static int list_segments(const char *dir, int64_t **bases, size_t *n, kp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int64_t *v = NULL, *nv, b;

	*n = 0;
	if (!d)
		return kp_error_errno(err, "%s: opendir", dir);
	while ((de = readdir(d))) {
		if ((b = parse_name(de->d_name)) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				closedir(d);
				free(v);
				return kp_error_set(err, KP_ENOMEM, "%s: out of memory", dir);
			}
			v = nv;
		}
		v[(*n)++] = b;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, cmp_i64);
	*bases = v;
	return 0;
}

/* read_offset_file - the offset in `dir`/`name`, or -1 when absent or unreadable. */
static int64_t read_offset_file(const char *dir, const char *name)
{
	char path[4096], text[32] = "", *end;
	long long v;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(text, sizeof text, f))
		text[0] = 0;
	fclose(f);
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || v < 0) {
		kp_diag_warn("%s: ignoring a malformed offset", path);
		return -1;
	}
	return v;
}

/* read_recovery_point - the offset in `dir`/recovery-point, or -1. */
static int64_t read_recovery_point(const char *dir)
{
	return read_offset_file(dir, RECOVERY_POINT);
}

/*
 * kp_log_write_start - store log->start_offset in DIR/log-start-offset
 * durably (kp_write_file_atomic), for logs whose start is their own
 * (cfg.persist_start). Returns 0 or -1 (KP_EIO, KP_EINVAL).
 */
int kp_log_write_start(kp_log *log, kp_error *err)
{
	char path[PATH_MAX], text[32];

	if (!log->cfg.persist_start)
		return 0;
	snprintf(text, sizeof text, "%" PRId64 "\n", log->start_offset);
	if (snprintf(path, sizeof path, "%s/%s", log->dir, LOG_START) >= (int)sizeof path)
		return kp_error_set(err, KP_EINVAL, "%s: path too long", log->dir);
	return kp_write_file_atomic(path, text, err);
}

/*
 * restore_start - a log start offset stored by an earlier kp_log_advance_start
 * (DeleteRecords, retention) within the first segment: reads below it fail
 * again after a restart, as Kafka's log-start-offset-checkpoint keeps them.
 */
static void restore_start(kp_log *log)
{
	int64_t start = log->cfg.persist_start ? read_offset_file(log->dir, LOG_START) : -1;

	if (start > log->start_offset && start <= kp_log_end_offset(log)) {
		log->start_offset = start;
		if (kp_epoch_truncate_start(&log->epochs, start))
			kp_log_epochs_changed(log);
	}
}

/*
 * kp_write_recovery_point - store `rp` in DIR/recovery-point durably
 * (kp_write_file_atomic). Touches no kp_log, so the flusher thread may call it.
 */
int kp_write_recovery_point(const char *dir, int64_t rp, kp_error *err)
{
	char path[PATH_MAX], text[32];

	snprintf(text, sizeof text, "%" PRId64 "\n", rp);
	if (snprintf(path, sizeof path, "%s/%s", dir, RECOVERY_POINT) >= (int)sizeof path)
		return kp_error_set(err, KP_EINVAL, "%s: path too long", dir);
	return kp_write_file_atomic(path, text, err);
}

/* kp_log_write_recovery_point - store log->recovery_point durably. */
int kp_log_write_recovery_point(kp_log *log, kp_error *err)
{
	return kp_write_recovery_point(log->dir, log->recovery_point, err);
}

/*
 * recover_all - recover every segment; cut the log at the first bad batch.
 * The epochs of the batches scanned go into `ec` (may be NULL).
 */
static int recover_all(kp_log *log, int64_t rp, struct kp_epoch_cache *ec, kp_error *err)
{
	int64_t trust = rp < 0 ? INT64_MIN : rp;
	bool cut = false;
	size_t i;

	for (i = 0; i < log->nsegs && !cut; i++) {
		struct kp_segment *s = &log->segs[i];

		if (i > 0 && s->base < s[-1].next_offset)
			return kp_error_set(err, KP_ECORRUPT, "%s: base offset below the end %" PRId64
					    " of the previous segment", s->path, s[-1].next_offset);
		if (kp_segment_recover(s, trust, &log->cfg, ec, &cut, err) < 0)
			return -1;
	}
	return kp_log_drop_segments(log, i, err);
}

static int check_config(const struct kp_log_config *c, kp_error *err)
{
	if (c->segment_bytes < KP_BATCH_HEADER_SIZE || c->segment_ms < 1 || c->index_interval_bytes < 0 ||
	    c->max_index_bytes < 12 || c->flush_messages < 1 || c->flush_ms < 0)
		return kp_error_set(err, KP_EINVAL, "invalid log configuration");
	return 0;
}

/* open_segments - open every listed segment, or create segment 0 in an empty directory. */
static int open_segments(kp_log *log, kp_error *err)
{
	int64_t *bases = NULL;
	size_t n, i;
	int rc = 0;

	if (list_segments(log->dir, &bases, &n, err) < 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = kp_log_add_segment(log, bases[i], false, err);
	free(bases);
	if (rc == 0 && n == 0)
		rc = kp_log_add_segment(log, 0, true, err);
	return rc;
}

/*
 * load_epochs - before recovery: the checkpoint's entries below the
 * recovery point `rp` (-1: none). Returns the cache for recovery to
 * teach, or NULL when the checkpoint is unusable and recovery will not
 * see every batch (finish_epochs rebuilds it then).
 */
static struct kp_epoch_cache *load_epochs(kp_log *log, int64_t rp)
{
	bool ok = kp_epoch_load(&log->epochs, log->dir);

	log->epochs.unwritten = !ok;
	if (!ok && rp >= 0)
		return NULL;
	if (kp_epoch_truncate_end(&log->epochs, rp < 0 ? 0 : rp))
		log->epochs.unwritten = true;
	return &log->epochs;
}

/* checkpoint_exists - whether DIR/leader-epoch-checkpoint exists (a missing one reads as empty). */
static bool checkpoint_exists(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, KP_EPOCH_CHECKPOINT);
	return stat(path, &st) == 0;
}

/*
 * finish_epochs - after recovery: rebuild the cache when load_epochs gave
 * none, keep only entries inside the log (`n_loaded`: the count recovery
 * started from, to see whether it added any), and write the checkpoint
 * if it changed (fsynced by the next flush).
 */
static int finish_epochs(kp_log *log, bool rebuild, size_t n_loaded, kp_error *err)
{
	struct kp_epoch_cache *c = &log->epochs;

	if (rebuild && kp_log_epochs_rebuild(log, err) < 0)
		return -1;
	if (c->n != n_loaded)
		c->unwritten = true;
	if (kp_epoch_truncate_end(c, kp_log_end_offset(log)))
		c->unwritten = true;
	if (kp_epoch_truncate_start(c, log->start_offset))
		c->unwritten = true;
	if (c->unwritten && c->n == 0 && !checkpoint_exists(log->dir))
		c->unwritten = false; /* nothing to keep: a new log makes no file (one inode less) */
	if (c->unwritten)
		kp_log_epochs_changed(log);
	return 0;
}

int kp_log_open(const char *dir, const struct kp_log_config *cfg, kp_log **out, kp_error *err)
{
	struct kp_epoch_cache *ec;
	kp_log *log;
	int64_t rp, end;
	size_t n_loaded;

	*out = NULL;
	if (check_config(cfg, err) < 0)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return kp_error_errno(err, "%s: mkdir", dir);
	if (kp_clean_swap_recover(dir, err) < 0) /* an interrupted log cleaning (cleaner_swap.c) */
		return -1;
	log = calloc(1, sizeof *log);
	if (!log || !(log->dir = strdup(dir))) {
		free(log);
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", dir);
	}
	log->cfg = *cfg;
	kp_producer_state_init(&log->producers);
	if (log->cfg.segment_bytes > INT32_MAX)
		log->cfg.segment_bytes = INT32_MAX;
	rp = read_recovery_point(dir);
	ec = load_epochs(log, rp);
	n_loaded = log->epochs.n;
	if (open_segments(log, err) < 0 || recover_all(log, rp, ec, err) < 0)
		goto fail;
	log->start_offset = log->segs[0].base;
	end = kp_log_end_offset(log);
	log->recovery_point = rp < log->start_offset ? log->start_offset : rp > end ? end : rp;
	log->last_flush_ms = kp_wall_ms();
	if (finish_epochs(log, ec == NULL, n_loaded, err) < 0)
		goto fail;
	restore_start(log);
	if (log->recovery_point < log->start_offset)
		log->recovery_point = log->start_offset;
	if (kp_producer_state_reload(log, err) < 0)
		goto fail;
	log->use_clock++; /* what recovery opened and nobody reads yet goes cold */
	log->cool_due = true;
	kp_log_cool_idle(log);
	*out = log;
	return 0;
fail:
	for (size_t i = 0; i < log->nsegs; i++)
		kp_segment_close(&log->segs[i]);
	log->nsegs = 0;
	kp_log_close(log);
	return -1;
}
