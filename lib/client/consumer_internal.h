/*
 * consumer_internal.h - what consumer.c (assignment, the Fetch loop),
 * consumer_resolve.c (start positions with ListOffsets) and
 * consumer_txn.c (read_committed) share; not part of the public API.
 *
 * Each partition keeps its next offset ("position"; -1 until resolved),
 * the end seen when it was first resolved ("stop_at", where -e ends even
 * if records keep arriving), the last high watermark (or, with
 * read_committed, last stable offset), its own partition_max_bytes and
 * whether its end was reached.
 */
#ifndef KP_CLIENT_CONSUMER_INTERNAL_H
#define KP_CLIENT_CONSUMER_INTERNAL_H

#include "client/consumer.h"
#include "protocol/codec.h"
#include "record/batch.h"

#define MAX_PARTITION_BYTES (64 * 1024 * 1024)

struct cpart {
	char *topic;
	int32_t partition;
	int whence;
	int64_t value;
	int64_t position;  /* -1: resolve with ListOffsets */
	int64_t stop_at;   /* log end offset at the first resolve; -1 before */
	int64_t hw;
	int32_t max_bytes;
	bool at_end;
};

struct kp_consumer {
	kp_cluster *cluster;
	int max_wait_ms;
	int32_t max_bytes;
	int32_t partition_max_bytes;
	int8_t isolation;      /* isolation.level: 0 read_uncommitted, 1 read_committed */
	struct cpart *parts;
	size_t nparts;
	int64_t failing_since; /* first of consecutive connection failures, or 0 */
};

/*
 * kp_consumer_resolve - set the position of `p` from its whence/value and
 * the log start and end offsets (ListOffsets at its leader), clamped into
 * [start, end]; an absolute offset outside that range is reported with a
 * warning (Kafka: OFFSET_OUT_OF_RANGE, here resolved like
 * auto.offset.reset=earliest below the start and =latest past the end).
 * Returns 0, or -1 with a Kafka error, a connection error, or KP_ERANGE
 * for KP_SEEK_NONE.
 */
int kp_consumer_resolve(kp_consumer *c, struct cpart *p, kp_error *err);

/*
 * read_committed: which batches of a fetched partition belong to aborted
 * transactions (the Java consumer's rule). The response lists each aborted
 * transaction by producer id and first offset; a transactional batch of a
 * producer with an aborted transaction begun at or before the batch's last
 * offset is left out, until that producer's abort marker.
 */
struct kp_txn_filter {
	struct kp_fetch_response_aborted_transaction *aborted; /* sorted by first offset (owned) */
	int32_t naborted, next;
	int64_t *pids;         /* producers whose current transaction is aborted (owned) */
	size_t npids, cap;
};

/*
 * kp_txn_filter_init - a filter for partition data `d`. Returns 0, or -1
 * with KP_ENOMEM. kp_txn_filter_free releases it.
 */
int kp_txn_filter_init(struct kp_txn_filter *f, const struct kp_fetch_response_partition_data *d,
		       kp_error *err);
void kp_txn_filter_free(struct kp_txn_filter *f);

/*
 * kp_txn_filter_skip - whether the batch with header `h` at `batch`
 * (`len` bytes, whole) is to be left out: aborted data, or a control
 * batch (whose abort marker ends the producer's aborted transaction).
 * Batches must be given in offset order.
 */
bool kp_txn_filter_skip(struct kp_txn_filter *f, const struct kp_batch_header *h,
			const uint8_t *batch, size_t len);

#endif
