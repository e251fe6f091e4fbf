/*
 * producer_state.h - a partition's idempotent producers (Kafka's
 * ProducerStateManager, KIP-98): for each producer id whose batches are
 * in the log, its epoch and the sequence numbers and offsets of its last
 * five batches, so that the leader can refuse a batch out of sequence or
 * from an older epoch and answer a retried batch with the offsets it was
 * first written at instead of writing it twice.
 *
 * Internal to lib/log: log.c keeps one per log, checks a client's
 * batches before writing them (kp_producer_check), commits them after
 * (kp_producer_commit), and feeds every other batch that enters the log
 * (a follower's append, recovery's replay) to kp_producer_replay, which
 * checks nothing (Kafka's AppendOrigin.REPLICATION). Snapshot files
 * (producer_snapshot.c) spare recovery a scan of the whole log.
 *
 * Memory: the state owns its entries (a uthash table); a
 * kp_producer_append owns its staged copies until commit or free. Not
 * thread-safe: the log's thread.
 */
#ifndef KP_LOG_PRODUCER_STATE_H
#define KP_LOG_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "record/batch.h"
#include "util/error.h"

#define KP_PRODUCER_BATCHES 5 /* Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN */

/* One batch a producer wrote (Kafka's BatchMetadata). */
struct kp_producer_batch {
	int32_t first_seq, last_seq;
	int64_t first_offset, last_offset;
	int64_t timestamp; /* the batch's max timestamp (ms) */
};

/* One producer id (Kafka's ProducerStateEntry). */
struct kp_producer_entry {
	int64_t producer_id;
	int16_t epoch;             /* -1: none yet */
	int32_t coordinator_epoch; /* of the last transaction marker, -1 */
	int64_t last_timestamp;    /* max timestamp of its last batch (ms), for expiry */
	int64_t txn_first_offset;  /* first offset of its open transaction, -1 */
	int nbatches;              /* batches[0..nbatches), oldest first */
	struct kp_producer_batch batches[KP_PRODUCER_BATCHES];
	UT_hash_handle hh;
};

struct kp_producer_state {
	struct kp_producer_entry *map; /* by producer_id, owned */
	int64_t map_end;               /* the map reflects the log below this offset */
	int64_t snap_end;              /* offset of the latest snapshot file, -1 none */
};

/* What a client append would change, staged until it is written. */
struct kp_producer_append {
	struct kp_producer_entry *staged; /* copies, by producer_id, owned */
	bool duplicate;                   /* a batch is a retry of one in the log: */
	int64_t dup_first, dup_last;      /* its offsets there */
	int64_t dup_timestamp;            /* and its max timestamp */
};

/* kp_producer_state_init / _clear / _free - an empty state; drop every entry; free them. */
void kp_producer_state_init(struct kp_producer_state *ps);
void kp_producer_state_clear(struct kp_producer_state *ps);
void kp_producer_state_free(struct kp_producer_state *ps);

/*
 * kp_producer_check - the client batches in `len` bytes at `p` (validated,
 * about to be written from offset `base` on) against `ps`, as Kafka's
 * analyzeAndValidateProducerState and ProducerAppendInfo do for
 * AppendOrigin.CLIENT: a batch of the epoch the producer is at whose
 * sequence range is one of its last five batches is a duplicate (pa->
 * duplicate, with that batch's offsets; the rest is not looked at); else
 * every idempotent batch must not come from an older epoch
 * (INVALID_PRODUCER_EPOCH), a new epoch must start at sequence 0 and the
 * same epoch continue the last sequence (OUT_OF_ORDER_SEQUENCE_NUMBER),
 * except for a producer the state does not know, which may start anywhere.
 * `pa` must be zeroed; kp_producer_append_free it in any case. Returns 0,
 * or -1 with KP_EKAFKA (those codes) or KP_ENOMEM.
 */
int kp_producer_check(const struct kp_producer_state *ps, const uint8_t *p, size_t len,
		      int64_t base, struct kp_producer_append *pa, kp_error *err);

/* kp_producer_commit - the staged entries of `pa` replace theirs in `ps` (pa is emptied); the map now reaches `end`. */
void kp_producer_commit(struct kp_producer_state *ps, struct kp_producer_append *pa, int64_t end);

/* kp_producer_append_free - free what `pa` still stages. */
void kp_producer_append_free(struct kp_producer_append *pa);

/*
 * kp_producer_replay - the batch with header `h` (its base offset final)
 * enters the log without checks (a follower's append, recovery): its
 * producer's entry learns it. Batches without a producer id only move
 * map_end. Returns 0 or -1 (KP_ENOMEM).
 */
int kp_producer_replay(struct kp_producer_state *ps, const struct kp_batch_header *h,
		       kp_error *err);

/* kp_producer_expire - remove the producers idle for `expiration_ms` at wall clock `now_ms` (no open transaction); returns how many. */
size_t kp_producer_expire(struct kp_producer_state *ps, int64_t now_ms, int64_t expiration_ms);

/* producer_snapshot.c */
struct kp_log;
int kp_producer_snapshot_write(struct kp_log *log, bool sync, kp_error *err);
int kp_producer_state_reload(struct kp_log *log, kp_error *err);
void kp_producer_snapshots_delete(struct kp_log *log, int64_t below, int64_t above);

#endif
