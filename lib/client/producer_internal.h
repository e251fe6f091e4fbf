/*
 * producer_internal.h - what producer.c (accumulating records into
 * batches) and produce_request.c (sending batches, acks, retries) share;
 * not part of the public API.
 *
 *   kp_producer
 *   `-- ptopic[]  one per topic, in first-use order
 *       `-- part[]  one per partition
 *           |-- builder     the open batch (records being added)
 *           `-- head..tail  sealed batches, oldest first; the head is the
 *                           one sent (in_flight) or to be sent next
 *   request[]     one slot per broker with a Produce request in flight
 */
#ifndef KP_CLIENT_PRODUCER_INTERNAL_H
#define KP_CLIENT_PRODUCER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/producer.h"
#include "util/buf.h"

struct batch {
	struct batch *next;
	kp_buf data;       /* the encoded v2 record batch */
	int64_t first_tag;
	int64_t *tags;     /* every record's tag, in order (owned) */
	int32_t ntags;
	int64_t created_ms;
};

struct part {
	kp_batch_builder *builder;
	int64_t *tags;     /* tags of the open batch's records (owned) */
	size_t ntags, tag_cap;
	struct batch *head, *tail;
	bool in_flight;    /* head was sent and is not yet acknowledged */
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
};

struct request {
	int32_t node;      /* -1: slot free */
	int32_t corr;
	int16_t version;
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
	struct ptopic *topics;
	size_t ntopics;
	struct request *reqs; /* one slot per broker with a request in flight */
	size_t nreqs;
	bool need_refresh;
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

/* kp_producer_batch_free - free sealed batch `b` and take it off p->queued. */
void kp_producer_batch_free(kp_producer *p, struct batch *b);

/*
 * kp_producer_step - one round of delivery: send every sendable batch
 * (first reading the response of a broker's request in flight), read the
 * responses of every request in flight, then, if a retry is due, back off
 * for retry.backoff.ms and refresh metadata. *pending gets whether any
 * sealed batch is still unacknowledged. Returns 0, or -1 with the
 * producer's failure (a rejected batch, delivery.timeout.ms, out of memory).
 */
int kp_producer_step(kp_producer *p, bool *pending, kp_error *err);

/*
 * kp_producer_pump - send every sendable head batch, one request per
 * leader; a broker's request in flight is completed first, so a sealed
 * batch waiting behind one in flight goes out now. Batches whose leader is
 * unknown wait for a refresh; those older than delivery.timeout.ms fail.
 * *pending as for kp_producer_step. Returns 0 or -1.
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
