/*
 * epoch.c - a partition's leader epoch cache (Kafka's LeaderEpochFileCache,
 * KIP-101/KIP-279): for every leader epoch that wrote batches still in the
 * log, the first offset it wrote, and its checkpoint file in the partition
 * directory, in Kafka's format exactly:
 *
 *   leader-epoch-checkpoint
 *   +--------+
 *   | 0      |   version
 *   | 3      |   number of entries
 *   | 0 0    |   epoch startOffset, epochs and offsets strictly increasing
 *   | 2 1500 |
 *   | 5 4711 |   the latest epoch: the one of the last batch appended
 *   +--------+
 *
 * Durability. A change is written at once (temporary file + rename, no
 * fsync: the append path runs on the event loop), and the file is then
 * "unsynced". Whoever advances the recovery point makes it durable first:
 * kp_log_flush inline, or the flusher job, which takes a copy of the text
 * (kp_log_epochs_take) and writes it with fsync on its thread. While that
 * job runs the loop defers its own writes (they would race on the
 * temporary file) and catches up when the job is applied. So the
 * checkpoint on disk always holds every entry for offsets below the
 * durable recovery point; entries at or above it may be stale, which is
 * why kp_log_open drops them and re-learns them from the batches that
 * recovery scans anyway (log_dir.c).
 */
#include "log/log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"

#define ENTRY_TEXT_MAX 40 /* "-2147483648 -9223372036854775808\n" and some */

/* kp_epoch_reserve - room for `more` entries beyond the current ones. Returns 0 or -1 (KP_ENOMEM). */
int kp_epoch_reserve(struct kp_epoch_cache *c, size_t more, kp_error *err)
{
	size_t cap = c->cap ? c->cap : 8;
	struct kp_epoch_entry *e;

	if (c->n + more <= c->cap)
		return 0;
	while (cap < c->n + more)
		cap *= 2;
	e = realloc(c->e, cap * sizeof(*e));
	if (!e)
		return kp_error_set(err, KP_ENOMEM, "out of memory for %zu leader epochs", cap);
	c->e = e;
	c->cap = cap;
	return 0;
}

/*
 * kp_epoch_assign - Kafka's assign(epoch, startOffset) restricted to what
 * an append can bring: an epoch greater than the latest (or the first
 * epoch) starts at `start`, replacing the latest entry if that starts at
 * `start` too (it wrote nothing: Kafka's maybeTruncateNonMonotonicEntries).
 * A negative epoch or offset (a batch without partition leader epoch), an
 * epoch not above the latest and a start below the latest's are ignored
 * (Kafka warns and rewrites history; a log is only written in increasing
 * epochs here). Returns 1 when the cache changed, 0 when not, -1 when out
 * of memory (never after kp_epoch_reserve made room).
 */
int kp_epoch_assign(struct kp_epoch_cache *c, int32_t epoch, int64_t start)
{
	struct kp_epoch_entry *last = c->n ? &c->e[c->n - 1] : NULL;

	if (epoch < 0 || start < 0 || (last && (epoch <= last->epoch || start < last->start)))
		return 0;
	if (last && start == last->start) {
		last->epoch = epoch;
		return 1;
	}
	if (kp_epoch_reserve(c, 1, NULL) < 0)
		return -1;
	c->e[c->n++] = (struct kp_epoch_entry){ epoch, start };
	return 1;
}

/* kp_epoch_truncate_end - drop the entries starting at or past `end` (truncateFromEnd). Whether any went. */
bool kp_epoch_truncate_end(struct kp_epoch_cache *c, int64_t end)
{
	size_t n = c->n;

	while (c->n > 0 && c->e[c->n - 1].start >= end)
		c->n--;
	return c->n != n;
}

/*
 * kp_epoch_truncate_start - Kafka's truncateFromStart(start): the entries
 * starting at or below `start` go, except that the last of them stays,
 * moved to start at `start`. Whether the cache changed.
 */
bool kp_epoch_truncate_start(struct kp_epoch_cache *c, int64_t start)
{
	size_t k = 0;

	while (k < c->n && c->e[k].start <= start)
		k++;
	if (k == 0 || (k == 1 && c->e[0].start == start))
		return false;
	c->e[k - 1].start = start;
	memmove(c->e, c->e + k - 1, (c->n - k + 1) * sizeof(*c->e));
	c->n -= k - 1;
	return true;
}

/* kp_epoch_clear - forget every entry (the file is the caller's to rewrite). */
void kp_epoch_clear(struct kp_epoch_cache *c)
{
	c->n = 0;
}

/* kp_epoch_free - free the entries (the cache stays usable, empty). */
void kp_epoch_free(struct kp_epoch_cache *c)
{
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
}

/* kp_epoch_format - the checkpoint text of `c` (free()), NULL when out of memory. */
char *kp_epoch_format(const struct kp_epoch_cache *c)
{
	size_t cap = 32 + c->n * ENTRY_TEXT_MAX, len;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "0\n%zu\n", c->n);
	for (size_t i = 0; i < c->n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%" PRId32 " %" PRId64 "\n", c->e[i].epoch,
					c->e[i].start);
	return s;
}

/* parse_i64 - a decimal integer at *p (leading blanks skipped) within [lo, hi]; moves *p past it. */
static bool parse_i64(char **p, int64_t lo, int64_t hi, int64_t *v)
{
	char *end;
	long long x;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (!(**p >= '0' && **p <= '9') && **p != '-')
		return false;
	errno = 0;
	x = strtoll(*p, &end, 10);
	if (errno || end == *p || x < lo || x > hi)
		return false;
	*p = end;
	*v = x;
	return true;
}

/* parse_line - one whole line of the file holding one number, or two (`b` non-NULL). */
static bool parse_line(char *line, int64_t *a, int64_t *b)
{
	char *p = line;

	if (!parse_i64(&p, 0, INT32_MAX, a) || (b && !parse_i64(&p, 0, INT64_MAX, b)))
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\n' || *p == 0;
}

/* parse - the whole checkpoint in `f` into `c` (emptied first). false when malformed. */
static bool parse(struct kp_epoch_cache *c, FILE *f)
{
	char line[64];
	int64_t version, count, epoch, start;

	c->n = 0;
	if (!fgets(line, sizeof line, f) || !parse_line(line, &version, NULL) || version != 0 ||
	    !fgets(line, sizeof line, f) || !parse_line(line, &count, NULL))
		return false;
	while (fgets(line, sizeof line, f)) {
		if ((int64_t)c->n == count || (!strchr(line, '\n') && !feof(f)))
			return false;
		if (!parse_line(line, &epoch, &start) || kp_epoch_assign(c, (int32_t)epoch, start) != 1)
			return false;
	}
	return !ferror(f) && (int64_t)c->n == count;
}

/*
 * kp_epoch_load - read DIR/leader-epoch-checkpoint into `c`. Returns false,
 * with `c` empty, when the file is missing, unreadable or malformed (an
 * empty file too: we never write one, so it is a torn write), which the
 * caller answers by rebuilding the cache from the batches.
 */
bool kp_epoch_load(struct kp_epoch_cache *c, const char *dir)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	if (snprintf(path, sizeof path, "%s/%s", dir, KP_EPOCH_CHECKPOINT) >= (int)sizeof path)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = parse(c, f);
	fclose(f);
	if (!ok)
		c->n = 0;
	return ok;
}

/* write_nosync - replace `path` by `text` through `tmp` and rename(2), without fsync. */
static int write_nosync(const char *path, const char *tmp, const char *text, kp_error *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return kp_error_errno(err, "cannot write %s", tmp);
	rc = kp_pwrite_full(fd, (const uint8_t *)text, strlen(text), 0, tmp, err);
	if (close(fd) < 0 && rc == 0)
		rc = kp_error_errno(err, "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = kp_error_errno(err, "cannot rename %s to %s", tmp, path);
	return rc;
}

/*
 * kp_epoch_write_file - replace DIR/leader-epoch-checkpoint by `text`
 * atomically (DIR/leader-epoch-checkpoint.tmp, then rename); with `sync`
 * the file and then the directory are fsynced (kp_write_file_atomic).
 * Touches no kp_log, so the flusher thread may call it. Returns 0 or -1
 * (KP_EIO, KP_EINVAL for a too long path).
 */
int kp_epoch_write_file(const char *dir, const char *text, bool sync, kp_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", dir, KP_EPOCH_CHECKPOINT) >= (int)sizeof path ||
	    snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return kp_error_set(err, KP_EINVAL, "%s: path too long", dir);
	if (sync)
		return kp_write_file_atomic(path, text, err);
	return write_nosync(path, tmp, text, err);
}

/* write_log - write log's cache to its file, fsynced when `sync`; clears the flags it settles. */
static int write_log(kp_log *log, bool sync, kp_error *err)
{
	char *text = kp_epoch_format(&log->epochs);
	int rc;

	if (!text)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
	rc = kp_epoch_write_file(log->dir, text, sync, err);
	free(text);
	if (rc < 0)
		return -1;
	log->epochs.unwritten = false;
	log->epochs.unsynced = !sync;
	return 0;
}

/*
 * kp_log_epochs_changed - the cache of `log` changed (on the loop thread):
 * write the checkpoint now without fsync, or, while the flusher is
 * writing it, once its job is applied. A failed write is not an error
 * here (the batches are appended already): the file stays marked
 * unwritten and the next flush writes it, or fails and keeps the recovery
 * point where it is.
 */
void kp_log_epochs_changed(kp_log *log)
{
	log->epochs.unwritten = true;
	if (!log->epochs.flushing)
		(void)write_log(log, false, NULL);
}

/*
 * kp_log_epochs_sync - make the checkpoint durable (written and fsynced,
 * the directory too) if it is not: before a recovery point at or past
 * these entries is written (kp_log_flush). Returns 0 or -1 (KP_EIO,
 * KP_ENOMEM).
 */
int kp_log_epochs_sync(kp_log *log, kp_error *err)
{
	if (!log->epochs.unwritten && !log->epochs.unsynced)
		return 0;
	return write_log(log, true, err);
}

/*
 * kp_log_epochs_take - for a flusher job (flusher.c): *text gets the
 * checkpoint text to write durably on the flusher thread (free()), or
 * NULL when the file is durable already. Until kp_log_epochs_flushed the
 * loop defers its own writes. Returns 0 or -1 (KP_ENOMEM: no job then,
 * since its recovery point would outrun the checkpoint).
 */
int kp_log_epochs_take(kp_log *log, char **text, kp_error *err)
{
	*text = NULL;
	if (log->epochs.flushing || (!log->epochs.unwritten && !log->epochs.unsynced))
		return 0;
	*text = kp_epoch_format(&log->epochs);
	if (!*text)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
	log->epochs.unwritten = log->epochs.unsynced = false;
	log->epochs.flushing = true;
	return 0;
}

/*
 * kp_log_epochs_flushed - the flusher job that took the text finished
 * (`ok`: written durably): write what changed meanwhile, without fsync.
 */
void kp_log_epochs_flushed(kp_log *log, bool ok)
{
	log->epochs.flushing = false;
	if (!ok)
		log->epochs.unwritten = true;
	if (log->epochs.unwritten)
		kp_log_epochs_changed(log);
}

/* scan_segment - note the epoch of every batch header of `seg` in `c`. */
static int scan_segment(struct kp_segment *seg, struct kp_epoch_cache *c, kp_error *err)
{
	struct kp_batch_header h;
	kp_error why;

	for (int64_t pos = 0; pos < seg->size; pos += KP_BATCH_LOG_OVERHEAD + h.batch_length) {
		if (kp_segment_read_header(seg, pos, &h, &why) < 0) {
			if (why.code != KP_ECORRUPT) /* a bad header below the recovery point: */
				return kp_error_set(err, why.code, "%s", why.msg);
			return 0; /* the cache only misses epochs reads would fail on anyway */
		}
		if (kp_epoch_assign(c, h.partition_leader_epoch, h.base_offset) < 0)
			return kp_error_set(err, KP_ENOMEM, "%s: out of memory", seg->path);
	}
	return 0;
}

/*
 * kp_log_epochs_rebuild - rebuild the cache of `log` from the partition
 * leader epochs of all its batches (a header read each), as when the
 * checkpoint is missing (a log written before it existed) or malformed.
 * Returns 0 or -1 (KP_EIO, KP_ENOMEM).
 */
int kp_log_epochs_rebuild(kp_log *log, kp_error *err)
{
	kp_epoch_clear(&log->epochs);
	for (size_t i = 0; i < log->nsegs; i++)
		if (scan_segment(&log->segs[i], &log->epochs, err) < 0)
			return -1;
	log->epochs.unwritten = true;
	return 0;
}

int32_t kp_log_latest_epoch(const kp_log *log)
{
	const struct kp_epoch_cache *c = &log->epochs;

	return c->n ? c->e[c->n - 1].epoch : -1;
}

int64_t kp_log_epoch_start_offset(const kp_log *log)
{
	const struct kp_epoch_cache *c = &log->epochs;

	return c->n ? c->e[c->n - 1].start : -1;
}

void kp_log_epoch_end_offset(const kp_log *log, int32_t epoch, int32_t *found_epoch, int64_t *end_offset)
{
	const struct kp_epoch_cache *c = &log->epochs;
	size_t hi = 0; /* the first entry with an epoch above `epoch` */

	*found_epoch = -1;
	*end_offset = -1;
	if (epoch == -1 || c->n == 0)
		return;
	if (c->e[c->n - 1].epoch == epoch) { /* the latest: it ends at the log end */
		*found_epoch = epoch;
		*end_offset = kp_log_end_offset(log);
		return;
	}
	while (hi < c->n && c->e[hi].epoch <= epoch)
		hi++;
	if (hi == c->n) /* above every epoch */
		return;
	*found_epoch = hi == 0 ? epoch : c->e[hi - 1].epoch; /* below every epoch: Kafka answers */
	*end_offset = c->e[hi].start;                        /* the epoch asked, as it is */
}
