/*
 * cleaner_internal.h - what the files of the log cleaner share (cleaner.h
 * is the API): the job, the offset map, the batch filter and the swap.
 *
 *   cleaner_begin.c   kp_log_clean_stats / kp_log_clean_begin, the checkpoint file
 *   cleaner_map.c     the bounded key -> last offset map (Kafka's SkimpyOffsetMap)
 *   cleaner_batch.c   one batch's records: decompress, walk, filter, re-encode
 *   cleaner_run.c     kp_clean_job_run: map the dirty section, write cleaned groups
 *   cleaner_finish.c  kp_log_clean_finish: verify and swap in memory
 *   cleaner_swap.c    the file renames of a swap, and their recovery on open
 *
 * A job describes segs[0..nsegs): every closed segment from the log's
 * first up to the first uncleanable offset, as they were at begin.
 */
#ifndef KP_LOG_CLEANER_INTERNAL_H
#define KP_LOG_CLEANER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/cleaner.h"
#include "log/log_internal.h"
#include "record/batch.h"
#include "util/buf.h"

#define KP_CLEANED_SUFFIX ".cleaned"
#define KP_SWAP_SUFFIX ".swap"

/* One source segment as it was at begin: what the run reads and finish checks. */
struct kp_clean_seg {
	int64_t base, next_offset, size;
	int64_t max_ts;                      /* largest batch timestamp, -1 none */
	int64_t index_bytes, timeindex_bytes; /* index sizes, for grouping */
	int fd;                              /* owned dup of the .log fd */
	uint8_t last[KP_BATCH_HEADER_SIZE];  /* header of its last batch (zeros when empty) */
};

/* An idempotent producer's last data batch (Kafka's lastRecordsOfActiveProducers). */
struct kp_clean_producer {
	int64_t producer_id;
	int64_t last_offset; /* last offset of its last batch in the log */
};

/* One group of source segments cleaned into one segment based at segs[first].base. */
struct kp_clean_group {
	size_t first, n;
	bool written;     /* BASE.*.cleaned exist (removed by kp_clean_job_free unless swapped) */
	bool swapped;
	int64_t out_size;
};

struct kp_clean_job {
	char *dir;                       /* owned: the partition directory */
	struct kp_log_config cfg;        /* copy; cfg.flusher cleared */
	int64_t first_dirty, first_uncleanable, log_start;
	struct kp_clean_seg *segs;       /* owned, nsegs */
	size_t nsegs;
	struct kp_clean_producer *producers; /* owned, sorted by id, nproducers */
	size_t nproducers;
	struct kp_clean_group *groups;   /* owned, after the run */
	size_t ngroups;
	bool ran;                        /* the run succeeded */
	atomic_bool abort;               /* kp_clean_job_abort */
	struct kp_clean_result result;
};

/* cleaner_map.c: key hash -> last offset, bounded (24 bytes a slot, as Kafka's). */
struct kp_offset_map {
	uint8_t *slots;   /* owned: nslots * 24 bytes: hash (16), offset + 1 (8; 0 = empty) */
	size_t nslots, used, max_used;
	int64_t latest;   /* largest offset put, -1 none */
};

int kp_offset_map_init(struct kp_offset_map *m, int64_t bytes, kp_error *err);
void kp_offset_map_free(struct kp_offset_map *m);
bool kp_offset_map_full(const struct kp_offset_map *m);
void kp_offset_map_put(struct kp_offset_map *m, const uint8_t *key, size_t len, int64_t offset);
int64_t kp_offset_map_get(const struct kp_offset_map *m, const uint8_t *key, size_t len);

/* cleaner_batch.c: the records of one v2 batch. */
struct kp_clean_rec {
	int64_t offset, timestamp;
	const uint8_t *key;       /* NULL for a null key */
	int32_t key_len;
	bool tombstone;           /* null value */
	const uint8_t *tail;      /* the record from offsetDelta to its end */
	size_t tail_len;
	uint8_t attributes;
};

struct kp_clean_batch {
	const uint8_t *raw;       /* the batch (borrowed) */
	size_t len;
	struct kp_batch_header h;
	kp_reader rd;             /* its (decompressed) records */
	int32_t left;
};

int kp_clean_batch_open(struct kp_clean_batch *b, const uint8_t *raw, size_t len, kp_buf *scratch,
			kp_error *err);
int kp_clean_batch_next(struct kp_clean_batch *b, struct kp_clean_rec *r, kp_error *err);

/* What the filter decides for one batch (Kafka's RecordFilter for the cleaner). */
struct kp_clean_filter {
	const struct kp_offset_map *map;
	int64_t now_ms, delete_retention_ms;
	bool retain_empty;        /* keep the header even with no record (producer state, round end) */
};

/* Work buffers of the filter, reused from batch to batch. */
struct kp_clean_bufs {
	kp_buf dec;  /* decompressed records */
	kp_buf kept; /* struct kp_clean_rec of the records kept */
	kp_buf enc;  /* re-encoded records before compression */
};

int kp_clean_filter_batch(const struct kp_clean_filter *f, const uint8_t *raw, size_t len,
			  struct kp_clean_bufs *bufs, kp_buf *out, int64_t *read, int64_t *kept_n,
			  kp_error *err);

/* cleaner_begin.c */
int64_t kp_cleaner_checkpoint_read(const char *dir, int64_t *crc);
int kp_cleaner_checkpoint_write(const char *dir, int64_t offset, int64_t crc, kp_error *err);
int64_t kp_log_batch_crc_before(const kp_log *log, int64_t offset);

/* cleaner_swap.c */
int kp_clean_swap_files(const char *dir, const int64_t *old_bases, size_t n, kp_error *err);
void kp_clean_remove_files(const char *dir, int64_t base, const char *suffix);
int kp_clean_swap_recover(const char *dir, kp_error *err);

#endif
