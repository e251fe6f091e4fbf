/*
 * produce_wait.c - acks=all: a produce answered once the ISR has its
 * batches (Kafka's DelayedProduce over Partition.checkEnoughReplicasReachOffset).
 *
 * The leader appended; each partition now waits for its high watermark
 * (the least log end offset over the ISR, replica.h) to pass the last
 * offset appended. The request is parked in the purgatory under its
 * partitions' keys, which the leader wakes whenever a high watermark, an
 * ISR or a leadership changes; the whole answer goes once every partition
 * is done, or at the request's timeout_ms with REQUEST_TIMED_OUT for the
 * ones still short.
 */
#include <string.h>

#include "broker/internal.h"
#include "broker/replica.h"

typedef struct kp_produce_response_partition_produce_response pr_partition;

struct produce_wait {
	struct kp_request *rq;
	struct kp_produce_response *resp;
	struct kp_produce_wait_item *items;
	size_t n;
	bool *done;
};

/*
 * item_check - whether item `it` is settled, its answer's error code set
 * when it is: the partition's high watermark reached the required offset
 * (NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND with a maximal ISR below
 * min.insync.replicas), or this broker does not lead it any more.
 */
static bool item_check(struct kp_broker *b, const struct kp_produce_wait_item *it)
{
	struct kp_topic *t = kp_topics_find_id(b->topics, &it->topic_id);
	struct kp_partition *p = kp_topic_partition(t, it->partition);
	pr_partition *out = it->out;

	if (!p || !p->hosted || p->follower || !p->log) {
		out->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return true;
	}
	if (kp_partition_high_watermark(p) < it->required_offset)
		return false;
	out->error_code = kp_replica_maximal_isr_count(p) < kp_replica_min_isr(b, t)
				  ? KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND
				  : KP_ERR_NONE;
	return true;
}

/* check_all - settle what can be; true when every item is. */
static bool check_all(struct produce_wait *w)
{
	bool all = true;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->done[i])
			w->done[i] = item_check(w->rq->broker, &w->items[i]);
		all = all && w->done[i];
	}
	return all;
}

/* answer - the unsettled items time out; respond (frees rq and w with it). */
static void answer(struct produce_wait *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (!w->done[i])
			((pr_partition *)w->items[i].out)->error_code = KP_ERR_REQUEST_TIMED_OUT;
	KP_RESPOND(w->rq, PRODUCE, w->resp);
}

static bool produce_waiting(void *arg, enum kp_op_reason why)
{
	struct produce_wait *w = arg;

	if (why == KP_OP_CLOSED) {
		kp_request_free(w->rq);
		return true;
	}
	if (!check_all(w) && (why == KP_OP_WAKE || why == KP_OP_HANGUP))
		return false;
	answer(w);
	return true;
}

int kp_produce_wait(struct kp_request *rq, void *resp, struct kp_produce_wait_item *items,
		    size_t n, kp_error *err)
{
	const struct kp_produce_request *req = rq->body;
	struct produce_wait *w = kp_request_alloc(rq, sizeof(*w));
	struct kp_watch_key *keys = kp_request_alloc(rq, sizeof(*keys) * (n ? n : 1));

	if (!w || !keys || !(w->done = kp_request_alloc(rq, sizeof(bool) * (n ? n : 1))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	w->rq = rq;
	w->resp = resp;
	w->items = items;
	w->n = n;
	if (check_all(w) || rq->broker->stopping) {
		answer(w);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		kp_watch_key_partition(&keys[i], &items[i].topic_id, items[i].partition);
	return kp_purgatory_park(rq->broker->purgatory, rq->conn,
				 req->timeout_ms > 0 ? req->timeout_ms : 0, keys, n,
				 produce_waiting, w, err);
}
