/*
 * log_internal.h - declarations shared by the files of lib/log (index.c,
 * segment.c, recover.c, log_dir.c, log.c); not part of the public API.
 * Each function is documented where it is defined.
 *
 * A partition directory holds one triple of files per segment, each named
 * by the segment's base offset as 20 zero-padded digits:
 *
 *   TOPIC-PARTITION/
 *     00000000000000000000.log        batches, back to back, as appended
 *     00000000000000000000.index      offset index  (8-byte entries)
 *     00000000000000000000.timeindex  time index   (12-byte entries)
 *     00000000000000004711.log ...    the next segment (base offset 4711)
 *     recovery-point                  "<offset>\n": data below is fsynced
 *     log-start-offset                "<offset>\n": reads below fail (DeleteRecords)
 *     leader-epoch-checkpoint         the leader epoch cache (epoch.c)
 *     00000000000000004711.snapshot   producer state (producer_snapshot.c)
 *
 * Index files hold only whole entries (no preallocation), big-endian:
 *
 *   .index      | relativeOffset int32 | position int32 |
 *   .timeindex  | timestamp int64 | relativeOffset int32 |
 *
 * relativeOffset is absolute offset - segment base offset. An offset
 * index entry (lastOffset of a batch, position of that batch) is added
 * when a batch starts more than log.index.interval.bytes after the batch
 * of the previous entry (Kafka's LogSegment rule); a time index entry
 * (largest timestamp so far, last offset of the batch holding it) is
 * added at the same moment when the timestamp grew.
 */
#ifndef KP_LOG_LOG_INTERNAL_H
#define KP_LOG_LOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"
#include "log/producer_state.h"
#include "record/batch.h"
#include "util/error.h"

enum kp_index_kind {
	KP_INDEX_OFFSET = 0, /* key: absolute offset, val: file position */
	KP_INDEX_TIME = 1,   /* key: timestamp (ms), val: absolute offset */
};

struct kp_index_entry {
	int64_t key;
	int64_t val;
};

struct kp_index {
	int kind;                  /* enum kp_index_kind */
	int fd;                    /* -1 when closed, or while the file does not exist (empty) */
	char *path;                /* owned */
	bool created;              /* the file did not exist when opened */
	int64_t base;              /* segment base offset */
	size_t max_entries;        /* from log.index.size.max.bytes */
	struct kp_index_entry *e;  /* owned, n used of cap */
	size_t n, cap;
};

/* index.c */
int kp_index_open(struct kp_index *ix, int kind, const char *path, int64_t base,
		  int32_t max_bytes, kp_error *err);
void kp_index_close(struct kp_index *ix);
bool kp_index_sane(const struct kp_index *ix, int64_t log_size);
int kp_index_truncate(struct kp_index *ix, size_t n, kp_error *err);
int kp_index_append(struct kp_index *ix, int64_t key, int64_t val, kp_error *err);
bool kp_index_full(const struct kp_index *ix);
long kp_index_floor(const struct kp_index *ix, int64_t key);
int kp_index_sync(struct kp_index *ix, kp_error *err);
int kp_index_ensure(struct kp_index *ix, kp_error *err);
void kp_index_cool(struct kp_index *ix);
int kp_index_reopen(struct kp_index *ix, int64_t log_size, kp_error *err);

struct kp_segment {
	int64_t base;           /* base offset, the name of the files */
	int64_t next_offset;    /* offset after the last batch; base when empty */
	int64_t size;           /* bytes in the .log file */
	int64_t max_ts;         /* largest batch maxTimestamp, -1 when none */
	int64_t max_ts_offset;  /* last offset of the batch holding max_ts */
	int64_t roll_ts;        /* first batch's maxTimestamp, -1 when none */
	int64_t created_ms;     /* wall clock when created or loaded */
	int64_t last_index_pos; /* position of the last offset index entry, 0 when none */
	int fd;                 /* the .log file, -1 when closed or cold */
	bool cold;              /* files closed and index entries freed until next used (segment_cold.c) */
	uint64_t used;          /* kp_log.use_clock when the log last read it */
	char *path;             /* owned path of the .log file */
	struct kp_index oix, tix;
};

/* segment.c */
int kp_segment_open(struct kp_segment *seg, const char *dir, int64_t base, bool create,
		    const struct kp_log_config *cfg, kp_error *err);
int kp_segment_open_named(struct kp_segment *seg, const char *dir, int64_t base, const char *suffix,
			  bool create, const struct kp_log_config *cfg, kp_error *err);
void kp_segment_close(struct kp_segment *seg);
void kp_segment_reset(struct kp_segment *seg);
void kp_segment_note_batch(struct kp_segment *seg, int64_t pos, const struct kp_batch_header *h,
			   const struct kp_log_config *cfg);
int kp_segment_unlink(struct kp_segment *seg, kp_error *err);
int kp_segment_append(struct kp_segment *seg, const uint8_t *buf, size_t len,
		      const struct kp_log_config *cfg, kp_error *err);
int kp_segment_read_header(struct kp_segment *seg, int64_t pos, struct kp_batch_header *h,
			   kp_error *err);
int kp_segment_find(struct kp_segment *seg, int64_t offset, int64_t *pos, kp_error *err);
int kp_segment_read(struct kp_segment *seg, int64_t pos, int64_t max_offset, size_t max_bytes,
		    size_t *taken, kp_buf *out, kp_error *err);
int kp_segment_scan(struct kp_segment *seg, int64_t pos, int64_t max_offset, size_t max_bytes,
		    size_t *taken, int64_t *end, kp_error *err);
int kp_segment_find_timestamp(struct kp_segment *seg, int64_t ts, int64_t *offset, int64_t *found_ts,
			      kp_error *err);
void kp_segment_seal(struct kp_segment *seg);
void kp_segment_ensure_indexes(struct kp_segment *seg);
int kp_segment_sync(struct kp_segment *seg, kp_error *err);
int kp_segment_sync_data(struct kp_segment *seg, kp_error *err);
bool kp_segment_index_full(const struct kp_segment *seg);

/* segment_cold.c */
void kp_segment_cool(struct kp_segment *seg);
int kp_segment_warm(struct kp_segment *seg, kp_error *err);
/* kp_segment_ready - kp_segment_warm when `seg` is cold (every segment.c reader calls it first). */
static inline int kp_segment_ready(struct kp_segment *seg, kp_error *err)
{
	return seg->cold ? kp_segment_warm(seg, err) : 0;
}
struct kp_segment *kp_log_seg_use(kp_log *log, size_t i);

/* recover.c */
struct kp_epoch_cache;
int kp_segment_recover(struct kp_segment *seg, int64_t trust_below, const struct kp_log_config *cfg,
		       struct kp_epoch_cache *ec, bool *truncated, kp_error *err);
int kp_segment_truncate_to(struct kp_segment *seg, int64_t offset, const struct kp_log_config *cfg,
			   kp_error *err);

#define KP_EPOCH_CHECKPOINT "leader-epoch-checkpoint"

/* One leader epoch and the first offset written in it (Kafka's EpochEntry). */
struct kp_epoch_entry {
	int32_t epoch;
	int64_t start;
};

/*
 * The leader epoch cache (Kafka's LeaderEpochFileCache): entries with
 * strictly increasing epochs and start offsets, one per epoch that wrote
 * batches still in the log, so a handful (one per leader election).
 */
struct kp_epoch_cache {
	struct kp_epoch_entry *e; /* owned, n used of cap */
	size_t n, cap;
	bool unwritten;           /* the checkpoint file is older than e[] (write deferred or failed) */
	bool unsynced;            /* the checkpoint file was written but not fsynced */
	bool flushing;            /* a flusher job is writing it: loop-side writes wait (flusher.c) */
};

/* epoch.c */
int kp_epoch_reserve(struct kp_epoch_cache *c, size_t more, kp_error *err);
int kp_epoch_assign(struct kp_epoch_cache *c, int32_t epoch, int64_t start);
bool kp_epoch_truncate_end(struct kp_epoch_cache *c, int64_t end);
bool kp_epoch_truncate_start(struct kp_epoch_cache *c, int64_t start);
void kp_epoch_clear(struct kp_epoch_cache *c);
void kp_epoch_free(struct kp_epoch_cache *c);
char *kp_epoch_format(const struct kp_epoch_cache *c);
bool kp_epoch_load(struct kp_epoch_cache *c, const char *dir);
int kp_epoch_write_file(const char *dir, const char *text, bool sync, kp_error *err);

struct kp_log {
	char *dir;                  /* owned */
	struct kp_log_config cfg;
	struct kp_segment *segs;    /* owned, sorted by base offset, nsegs >= 1 */
	size_t nsegs, cap;
	int64_t start_offset;
	int64_t recovery_point;     /* data below is fsynced */
	int64_t unflushed;          /* records appended since the last flush */
	int64_t last_flush_ms;      /* wall clock of the last flush (request), for flush_ms */
	struct kp_flush_job *flushing; /* the job in flight (flusher.c), or NULL */
	bool flush_again;           /* a flush was asked for while one was in flight */
	struct kp_epoch_cache epochs; /* leader epoch cache, persisted in KP_EPOCH_CHECKPOINT */
	struct kp_producer_state producers; /* idempotent producers (producer_state.h) */
	uint64_t use_clock;         /* ticks once per read operation (kp_log_seg_use) */
	bool cool_due;              /* a segment was warmed or rolled since the last kp_log_cool_idle */
};

/* epoch.c, the cache of a log and its checkpoint file */
void kp_log_epochs_changed(kp_log *log);
int kp_log_epochs_sync(kp_log *log, kp_error *err);
int kp_log_epochs_take(kp_log *log, char **text, kp_error *err);
void kp_log_epochs_flushed(kp_log *log, bool ok);
int kp_log_epochs_rebuild(kp_log *log, kp_error *err);

/* flusher.c */
struct kp_flusher;
int kp_flusher_submit(struct kp_flusher *f, kp_log *log, kp_error *err);
void kp_flusher_wait(struct kp_flusher *f, kp_log *log);

/* log_dir.c */
int kp_log_add_segment(kp_log *log, int64_t base, bool create, kp_error *err);
int kp_log_drop_segments(kp_log *log, size_t from, kp_error *err);
int kp_log_write_recovery_point(kp_log *log, kp_error *err);
int kp_log_write_start(kp_log *log, kp_error *err);
int kp_write_recovery_point(const char *dir, int64_t rp, kp_error *err);
size_t kp_log_find_segment(const kp_log *log, int64_t offset);

#endif
