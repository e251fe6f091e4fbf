/*
 * producer_internal.h - what producer.c (accumulating records into
 * batches), produce_request.c (sending batches, reading responses),
 * produce_result.c (acks, retries, splitting) and producer_id.c
 * (InitProducerId) share; not part of the public API.
 *
 *   kp_producer
 *   `-- ptopic[]  one per topic, in first-use order
 *       `-- part[]  one per partition
 *           |-- builder     the open batch (records being added)
 *           `-- head..tail  sealed batches, oldest first, until acknowledged:
 *                           in flight (sent), queued (to be sent, or sent
 *                           again), or acknowledged while an older one is
 *                           not yet (they leave from the head only)
 *   request[]     one slot per Produce request in flight (several per
 *                 broker when idempotent), each naming its batches
 *
 * Idempotence (KIP-98): with a producer id from InitProducerId every
 * batch carries the sequence number of its first record, given when it
 * is sealed (pt->next_seq counts records per partition). Up to
 * max_in_flight requests go to a broker before the oldest response is
 * read; a batch that must be sent again stalls its partition until every
 * batch of it in flight has come back, so retries go out in order and the
 * broker (which remembers a producer's last five batches per partition)
 * answers a batch it already has with its first offsets. When the broker
 * does not know the producer (UNKNOWN_PRODUCER_ID: its state expired) or
 * refuses the oldest unacknowledged batch of a partition as out of
 * sequence (it knows another producer with this id, say after its
 * metadata was lost), nothing of what is unacknowledged was written: the
 * producer gets a new id, as the Java producer does (KIP-360), and numbers
 * those batches again from 0 (producer_id.c). Without
 * idempotence max_in_flight is 1: a partition has at most one batch in
 * flight, so a retry cannot overtake a later batch either.
 */
#ifndef KP_CLIENT_PRODUCER_INTERNAL_H
#define KP_CLIENT_PRODUCER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/producer.h"
#include "util/buf.h"

enum batch_state {
	BATCH_QUEUED,    /* to be sent (again) */
	BATCH_IN_FLIGHT, /* in a request whose response has not been read */
	BATCH_ACKED,     /* acknowledged; freed once it is the head */
};

struct batch {
	struct batch *next;
	kp_buf data;       /* the encoded v2 record batch */
	int64_t first_tag;
	int64_t *tags;     /* every record's tag, in order (owned) */
	int32_t ntags;
	int32_t seq;       /* base sequence when idempotent, else -1 */
	int state;         /* enum batch_state */
	int64_t created_ms;
};

struct part {
	kp_batch_builder *builder;
	int64_t *tags;     /* tags of the open batch's records (owned) */
	size_t ntags, tag_cap;
	struct batch *head, *tail;
	int32_t in_flight; /* batches in BATCH_IN_FLIGHT */
	int32_t next_seq;  /* sequence of the next sealed batch's first record */
	bool stalled;      /* a batch must be resent: send nothing until in_flight is 0 */
};

struct ptopic {
	char *name;
	int32_t count;
	int32_t sticky;
	struct part *parts;
};

struct entry {
	struct ptopic *topic; /* into p->topics: topics are only added with no request in flight */
	int32_t partition;
	struct batch *batch;  /* NULL once its result has been applied */
};

struct request {
	int32_t node;      /* -1: slot free */
	int32_t corr;
	int16_t version;
	uint64_t order;    /* when it was sent: a broker's responses are read oldest first */
	char broker[300];
	struct entry *entries;
	int32_t n;
};

struct kp_producer {
	kp_cluster *cluster;
	int16_t acks;
	int compression;
	size_t batch_size;
	size_t max_request;
	size_t buffer_memory; /* buffer.memory: kp_producer_send waits above it */
	size_t queued;        /* bytes of sealed, unacknowledged batches */
	int linger_ms;
	int delivery_timeout_ms;
	int max_in_flight;    /* requests in flight per broker (1 unless idempotent) */
	bool idempotent;      /* batches carry producer id, epoch and sequence */
	bool idem_explicit;   /* enable.idempotence=true was set: no quiet fallback */
	int64_t producer_id;  /* -1 until InitProducerId answered */
	int16_t producer_epoch;
	uint64_t next_order;
	struct ptopic *topics;
	size_t ntopics;
	struct request *reqs; /* slots of requests in flight */
	size_t nreqs;
	bool need_refresh;
	bool need_reset;      /* a new producer id is needed before anything more is sent */
	int resets;           /* new ids taken since the last acknowledgement */
	kp_error retry_why;   /* why the last retry was needed (empty msg: none) */
	bool failed;
	kp_error fail;
	int64_t fail_tag;
};

/*
 * kp_producer_fail - record the producer's first fatal failure `e` with
 * the tag of the record it concerns (-1: none) and copy the first failure
 * into `err` (may be NULL). Returns -1.
 */
int kp_producer_fail(kp_producer *p, const kp_error *e, int64_t tag, kp_error *err);

/* kp_producer_seal - seal the open batch of `pt` (if it has records) onto its queue. */
int kp_producer_seal(kp_producer *p, struct part *pt, kp_error *err);

/* kp_producer_batch_free - free sealed batch `b` and take it off p->queued. */
void kp_producer_batch_free(kp_producer *p, struct batch *b);

/* kp_producer_retry_because - a retry is needed (metadata refresh first); `why` (may be NULL) says why. */
void kp_producer_retry_because(kp_producer *p, const kp_error *why);

/*
 * kp_producer_result - apply the answer `code` (a Kafka error code) for
 * the batch of entry `e` of request `r` to its partition: acknowledge it,
 * queue it again (stalling the partition), split it, or fail the
 * producer. Returns 0, or -1 with the producer's failure.
 */
int kp_producer_result(kp_producer *p, struct request *r, struct entry *e, int16_t code,
		       kp_error *err);

/*
 * kp_producer_init_id - get a producer id and epoch (InitProducerId, no
 * transactional id) through a leader of `t`, retrying while the broker
 * is not ready, up to max.block.ms. A broker without InitProducerId (or
 * refusing it for lack of authorisation) turns idempotence off, unless
 * it was asked for explicitly. Returns 0, or -1 with the producer's
 * failure.
 */
int kp_producer_init_id(kp_producer *p, const struct ptopic *t, kp_error *err);

/*
 * kp_producer_reset_id - with nothing in flight (it completes what is):
 * seal the open batches, get a new producer id, and write it, epoch 0 and
 * sequences counted again from 0 into every unacknowledged batch, in
 * queue order per partition. Returns 0, or -1 with the producer's failure.
 */
int kp_producer_reset_id(kp_producer *p, kp_error *err);

/*
 * kp_producer_step - one round of delivery: send every sendable batch
 * (first reading the oldest responses of a broker with max_in_flight
 * requests out), read the responses of every request in flight, then, if
 * a retry is due, back off for retry.backoff.ms and refresh metadata.
 * *pending gets whether any sealed batch is still unacknowledged. Returns
 * 0, or -1 with the producer's failure (a rejected batch,
 * delivery.timeout.ms, out of memory).
 */
int kp_producer_step(kp_producer *p, bool *pending, kp_error *err);

/*
 * kp_producer_pump - send every sendable batch, one request per leader
 * carrying the next batch of each of its partitions; a broker that has
 * max_in_flight requests out first has its oldest response read.
 * Batches whose leader is unknown wait for a refresh; those older than
 * delivery.timeout.ms fail. *pending as for kp_producer_step. Returns 0
 * or -1.
 */
int kp_producer_pump(kp_producer *p, bool *pending, kp_error *err);

/*
 * kp_producer_complete_all - read and apply the response of every request
 * in flight (before anything else uses the connections: Metadata may share
 * a broker's). Returns 0, or -1 with the producer's failure.
 */
int kp_producer_complete_all(kp_producer *p, kp_error *err);

/* kp_producer_backoff_refresh - complete requests in flight, sleep retry.backoff.ms, refresh metadata. */
int kp_producer_backoff_refresh(kp_producer *p, kp_error *err);

#endif
