/*
 * index.c - a segment's sparse offset index (.index) and time index
 * (.timeindex), in Kafka's on-disk layout (OffsetIndex, TimeIndex):
 *
 *   .index      +------------------------+------------------+
 *   (8 bytes)   | relativeOffset  int32  | position  int32  |  ...
 *               +------------------------+------------------+
 *   .timeindex  +------------------------+------------------------+
 *   (12 bytes)  | timestamp       int64  | relativeOffset  int32  |  ...
 *               +------------------------+------------------------+
 *
 * All integers are big-endian; relativeOffset = offset - segment base.
 * The whole index is kept in memory as an array of (key, val) pairs
 * (offset index: key offset, val position; time index: key timestamp,
 * val offset) and every new entry is also written at the end of the file
 * with pwrite(2). Files hold only whole entries; nothing is preallocated.
 * A missing file is an empty index and is only made when the first entry
 * is written (kp_index_ensure): a new partition's empty segment costs one
 * file and one descriptor, not three (many partitions, most of them idle).
 */
#include "log/log_internal.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

static size_t entry_size(const struct kp_index *ix)
{
	return ix->kind == KP_INDEX_OFFSET ? 8 : 12;
}

static void encode(const struct kp_index *ix, int64_t key, int64_t val, uint8_t *p)
{
	if (ix->kind == KP_INDEX_OFFSET) {
		kp_store_u32(p, (uint32_t)(key - ix->base));
		kp_store_u32(p + 4, (uint32_t)val);
	} else {
		kp_store_u64(p, (uint64_t)key);
		kp_store_u32(p + 8, (uint32_t)(val - ix->base));
	}
}

static struct kp_index_entry decode(const struct kp_index *ix, const uint8_t *p)
{
	struct kp_index_entry e;

	if (ix->kind == KP_INDEX_OFFSET) {
		e.key = ix->base + (int32_t)kp_load_u32(p);
		e.val = (int32_t)kp_load_u32(p + 4);
	} else {
		e.key = (int64_t)kp_load_u64(p);
		e.val = ix->base + (int32_t)kp_load_u32(p + 8);
	}
	return e;
}

static int reserve(struct kp_index *ix, size_t n, kp_error *err)
{
	struct kp_index_entry *e;
	size_t cap = ix->cap ? ix->cap : 64;

	if (n <= ix->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	e = realloc(ix->e, cap * sizeof *e);
	if (!e)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", ix->path);
	ix->e = e;
	ix->cap = cap;
	return 0;
}

/* load - read the whole file into ix->e; a trailing partial entry is dropped. */
static int load(struct kp_index *ix, kp_error *err)
{
	size_t es = entry_size(ix), n, i;
	uint8_t *raw = NULL;
	struct stat st;
	ssize_t got;
	int rc = -1;

	if (fstat(ix->fd, &st) < 0)
		return kp_error_errno(err, "%s: fstat", ix->path);
	n = (size_t)st.st_size / es;
	if (n == 0)
		return 0;
	raw = malloc(n * es);
	if (!raw || reserve(ix, n, err) < 0) {
		kp_error_set(err, KP_ENOMEM, "%s: out of memory", ix->path);
		goto out;
	}
	got = pread(ix->fd, raw, n * es, 0);
	if (got < 0) {
		kp_error_errno(err, "%s: read", ix->path);
		goto out;
	}
	ix->n = (size_t)got / es;
	for (i = 0; i < ix->n; i++)
		ix->e[i] = decode(ix, raw + i * es);
	rc = 0;
out:
	free(raw);
	return rc;
}

/*
 * kp_index_open - open (creating) the index file at `path` (copied) of
 * the segment with base offset `base` and load its entries. `kind` is an
 * enum kp_index_kind; `max_bytes` bounds the file (kp_index_full).
 * A missing file is not made (kp_index_ensure does, for the first entry):
 * ix->created is set and ix->fd is -1. Returns 0, or -1 (KP_EIO,
 * KP_ENOMEM) with `ix` closed.
 */
int kp_index_open(struct kp_index *ix, int kind, const char *path, int64_t base,
		  int32_t max_bytes, kp_error *err)
{
	memset(ix, 0, sizeof *ix);
	ix->kind = kind;
	ix->base = base;
	ix->fd = -1;
	ix->max_entries = (size_t)max_bytes / entry_size(ix);
	ix->path = strdup(path);
	if (!ix->path)
		return kp_error_set(err, KP_ENOMEM, "%s: out of memory", path);
	ix->fd = open(path, O_RDWR | O_CLOEXEC);
	if (ix->fd < 0 && errno == ENOENT) {
		ix->created = true; /* made by kp_index_ensure when an entry comes */
		return 0;
	}
	if (ix->fd < 0) {
		kp_error_errno(err, "%s: open", path);
		goto fail;
	}
	if (load(ix, err) < 0)
		goto fail;
	return 0;
fail:
	kp_index_close(ix);
	return -1;
}

/*
 * kp_index_ensure - make the index file when it does not exist yet (an
 * empty index has none), holding the entries in memory. Returns 0, or -1
 * with KP_EIO.
 */
int kp_index_ensure(struct kp_index *ix, kp_error *err)
{
	size_t es = entry_size(ix);
	uint8_t raw[12];

	if (ix->fd >= 0)
		return 0;
	ix->fd = open(ix->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ix->fd < 0)
		return kp_error_errno(err, "%s: open", ix->path);
	for (size_t i = 0; i < ix->n; i++) {
		encode(ix, ix->e[i].key, ix->e[i].val, raw);
		if (kp_pwrite_full(ix->fd, raw, es, (int64_t)(i * es), ix->path, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * kp_index_cool - close the file and free the entries of a closed
 * segment's index, keeping what reopens it (path, kind, base, capacity):
 * kp_index_reopen. The file is left as it is.
 */
void kp_index_cool(struct kp_index *ix)
{
	if (ix->fd >= 0)
		close(ix->fd);
	ix->fd = -1;
	free(ix->e);
	ix->e = NULL;
	ix->n = ix->cap = 0;
}

/*
 * kp_index_reopen - reopen and load a cooled index (kp_index_cool). A
 * missing file, or entries that kp_index_sane rejects for a .log of
 * `log_size` bytes, leave the index empty (lookups then scan the segment
 * from its start: slower, still right). Returns 0, or -1 (KP_EIO,
 * KP_ENOMEM) with the index still cooled.
 */
int kp_index_reopen(struct kp_index *ix, int64_t log_size, kp_error *err)
{
	if (ix->fd >= 0)
		return 0;
	ix->fd = open(ix->path, O_RDWR | O_CLOEXEC);
	if (ix->fd < 0 && errno == ENOENT)
		return 0;
	if (ix->fd < 0)
		return kp_error_errno(err, "%s: open", ix->path);
	if (load(ix, err) < 0) {
		kp_index_cool(ix);
		return -1;
	}
	if (!kp_index_sane(ix, log_size))
		ix->n = 0;
	return 0;
}

/* kp_index_close - close the file and free the entries (idempotent). */
void kp_index_close(struct kp_index *ix)
{
	if (ix->fd >= 0)
		close(ix->fd);
	ix->fd = -1;
	free(ix->e);
	free(ix->path);
	ix->e = NULL;
	ix->path = NULL;
	ix->n = ix->cap = 0;
}

/*
 * kp_index_sane - whether the loaded entries can be trusted for a segment
 * whose .log file has `log_size` bytes: keys strictly increasing (time
 * index: offsets non-decreasing), offsets within int32 of the base and
 * not below it, positions strictly increasing and inside the log.
 */
bool kp_index_sane(const struct kp_index *ix, int64_t log_size)
{
	size_t i;

	for (i = 0; i < ix->n; i++) {
		const struct kp_index_entry *e = &ix->e[i], *p = i ? &ix->e[i - 1] : NULL;
		int64_t off = ix->kind == KP_INDEX_OFFSET ? e->key : e->val;

		if (off < ix->base || off - ix->base > INT32_MAX)
			return false;
		if (p && e->key <= p->key)
			return false;
		if (ix->kind == KP_INDEX_OFFSET && (e->val >= log_size || (p && e->val <= p->val)))
			return false;
		if (ix->kind == KP_INDEX_TIME && p && e->val < p->val)
			return false;
	}
	return true;
}

/* kp_index_truncate - keep the first `n` entries, in memory and on disk. */
int kp_index_truncate(struct kp_index *ix, size_t n, kp_error *err)
{
	if (n > ix->n)
		n = ix->n;
	if (ix->fd < 0) { /* no file: the entries are in memory only (none, in practice) */
		ix->n = n;
		return 0;
	}
	if (ftruncate(ix->fd, (off_t)(n * entry_size(ix))) < 0)
		return kp_error_errno(err, "%s: truncate", ix->path);
	ix->n = n;
	return 0;
}

/* kp_index_append - add (key, val) at the end, in memory and on disk. */
int kp_index_append(struct kp_index *ix, int64_t key, int64_t val, kp_error *err)
{
	size_t es = entry_size(ix);
	uint8_t raw[12];

	if (reserve(ix, ix->n + 1, err) < 0 || kp_index_ensure(ix, err) < 0)
		return -1;
	encode(ix, key, val, raw);
	if (kp_pwrite_full(ix->fd, raw, es, (int64_t)(ix->n * es), ix->path, err) < 0)
		return -1;
	ix->e[ix->n].key = key;
	ix->e[ix->n].val = val;
	ix->n++;
	return 0;
}

/* kp_index_full - whether another entry would exceed log.index.size.max.bytes. */
bool kp_index_full(const struct kp_index *ix)
{
	return ix->n >= ix->max_entries;
}

/*
 * kp_index_floor - the position in ix->e of the last entry whose key is
 * <= `key` (binary search), or -1 when every key is larger.
 */
long kp_index_floor(const struct kp_index *ix, int64_t key)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->e[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/* kp_index_sync - fsync the index file (none yet: nothing to make durable). */
int kp_index_sync(struct kp_index *ix, kp_error *err)
{
	if (ix->fd < 0 && ix->n == 0)
		return 0;
	if (kp_index_ensure(ix, err) < 0)
		return -1;
	if (fsync(ix->fd) < 0)
		return kp_error_errno(err, "%s: fsync", ix->path);
	return 0;
}
