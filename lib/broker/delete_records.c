/*
 * delete_records.c - DeleteRecords (key 21), versions 0-2 (KIP-107):
 * move a partition's log start offset forward, so that every record below
 * it is gone for consumers (Fetch below it is OFFSET_OUT_OF_RANGE,
 * ListOffsets earliest answers it) and the segments wholly below it are
 * deleted.
 *
 * On the leader, as Kafka's Partition.deleteRecordsOnLeader: offset -1
 * means the high watermark; an offset above the high watermark, or below
 * -1, is OFFSET_OUT_OF_RANGE; a topic whose cleanup.policy lacks "delete"
 * is POLICY_VIOLATION; an internal topic INVALID_TOPIC_EXCEPTION; an
 * offset at or below the start changes nothing. The new start is kept
 * across restarts (log-start-offset). Then, as Kafka's
 * DelayedDeleteRecords, the answer waits until the partition's low
 * watermark - the least log start offset over the leader and its live
 * followers, which learn the leader's start from their fetches - reaches
 * the offset, or until timeout_ms (REQUEST_TIMED_OUT), and carries that
 * low watermark.
 *
 *   log:  [ deleted segments | 0 ... offset-1 | offset ... HW ... LEO ]
 *                                              ^ new log start offset
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/replica.h"
#include "util/diag.h"

typedef struct kp_delete_records_response_delete_records_topic_result dr_topic;
typedef struct kp_delete_records_response_delete_records_partition_result dr_partition;

/* One partition being waited for: its low watermark must reach `offset`. */
struct dr_item {
	kp_uuid topic_id;
	int32_t partition;
	int64_t offset;
	dr_partition *out;
	bool done;
};

struct dr_wait {
	struct kp_request *rq;
	struct kp_delete_records_response *resp;
	struct dr_item *items;
	size_t n;
};

/* policy_allows - whether t's cleanup.policy includes "delete" (the default). */
static bool policy_allows(const struct kp_broker *b, const struct kp_topic *t)
{
	const char *v = b->cluster ? kp_image_config_value(b->cluster->image,
							   KP_CONFIG_RESOURCE_TOPIC, t->name,
							   "cleanup.policy")
				   : NULL;

	return !v || strstr(v, "delete") != NULL;
}

/*
 * delete_partition - the leader's part for one partition: the checks, then
 * the new log start offset. Returns the offset to wait for, or -1 with
 * out->error_code set (or nothing to wait for: out->low_watermark set).
 */
static int64_t delete_partition(struct kp_request *rq, struct kp_topic *t, struct kp_partition *p,
				int64_t offset, dr_partition *out)
{
	int64_t hw;
	kp_error err;

	if (!p)
		return out->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1;
	if (!p->hosted || p->follower || !p->log)
		return out->error_code = p->log || !p->hosted ? KP_ERR_NOT_LEADER_OR_FOLLOWER
							      : KP_ERR_KAFKA_STORAGE_ERROR, -1;
	if (kp_topic_is_internal(t->name))
		return out->error_code = KP_ERR_INVALID_TOPIC_EXCEPTION, -1;
	if (!policy_allows(rq->broker, t))
		return out->error_code = KP_ERR_POLICY_VIOLATION, -1;
	hw = kp_partition_high_watermark(p);
	if (offset == -1)
		offset = hw;
	if (offset < 0 || offset > hw)
		return out->error_code = KP_ERR_OFFSET_OUT_OF_RANGE, -1;
	if (kp_log_advance_start(p->log, offset, &err) < 0) {
		kp_diag_error("%s-%d: cannot delete records below %lld: %s", t->name, p->index,
			      (long long)offset, err.msg);
		return out->error_code = KP_ERR_KAFKA_STORAGE_ERROR, -1;
	}
	kp_diag_info("%s-%d: log start offset now %lld (DeleteRecords)", t->name, p->index,
		     (long long)kp_log_start_offset(p->log));
	kp_broker_wake_partition(rq->broker, t, p->index); /* followers' parked fetches */
	return offset;
}

/*
 * low_watermark - Kafka's Partition.lowWatermarkIfLeader: the least log
 * start offset over the leader and the followers on live brokers (-1 while
 * one of those has not fetched yet).
 */
static int64_t low_watermark(struct kp_broker *b, const struct kp_partition *p)
{
	int64_t low = kp_log_start_offset(p->log);

	for (int32_t i = 0; i < p->remote_count; i++) {
		const struct kp_replica_state *r = &p->remote[i];

		if (b->cluster && kp_broker_cluster_broker_alive(b, r->id) &&
		    r->log_start_offset < low)
			low = r->log_start_offset;
	}
	return low;
}

/* item_check - whether `it` is settled: its low watermark (set in out) reached the offset. */
static bool item_check(struct kp_broker *b, struct dr_item *it)
{
	struct kp_topic *t = kp_topics_find_id(b->topics, &it->topic_id);
	struct kp_partition *p = kp_topic_partition(t, it->partition);

	if (!p || !p->hosted || p->follower || !p->log) {
		it->out->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return true;
	}
	it->out->low_watermark = low_watermark(b, p);
	return it->out->low_watermark >= it->offset;
}

/* settle - check every unsettled item; true when all are. */
static bool settle(struct dr_wait *w)
{
	bool all = true;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->items[i].done)
			w->items[i].done = item_check(w->rq->broker, &w->items[i]);
		all = all && w->items[i].done;
	}
	return all;
}

/* answer - the unsettled items time out; respond (frees rq and w with it). */
static void answer(struct dr_wait *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (!w->items[i].done)
			w->items[i].out->error_code = KP_ERR_REQUEST_TIMED_OUT;
	KP_RESPOND(w->rq, DELETE_RECORDS, w->resp);
}

static bool dr_waiting(void *arg, enum kp_op_reason why)
{
	struct dr_wait *w = arg;

	if (why == KP_OP_CLOSED) {
		kp_request_free(w->rq);
		return true;
	}
	if (!settle(w) && (why == KP_OP_WAKE || why == KP_OP_HANGUP))
		return false;
	answer(w);
	return true;
}

/* delete_topic - every partition of td; the ones to wait for appended to w->items. */
static int delete_topic(struct kp_request *rq, const struct kp_delete_records_request_delete_records_topic *td,
			dr_topic *out, struct dr_wait *w)
{
	struct kp_topic *t = kp_topics_find(rq->broker->topics, td->name);
	int32_t n = td->partitions_count > 0 ? td->partitions_count : 0;

	out->name = td->name;
	if (!(out->partitions = kp_request_alloc(rq, sizeof(dr_partition) * (size_t)(n ? n : 1))))
		return -1;
	out->partitions_count = n;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_delete_records_request_delete_records_partition *pd = &td->partitions[i];
		dr_partition *o = &out->partitions[i];
		struct kp_partition *p = t ? kp_topic_partition(t, pd->partition_index) : NULL;
		int64_t offset;

		o->partition_index = pd->partition_index;
		o->low_watermark = -1;
		if ((offset = delete_partition(rq, t, p, pd->offset, o)) < 0)
			continue;
		w->items[w->n++] = (struct dr_item){ t->id, p->index, offset, o, false };
	}
	return 0;
}

int kp_handle_delete_records(struct kp_request *rq, kp_error *err)
{
	const struct kp_delete_records_request *req = rq->body;
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
	size_t cap = 0;
	struct dr_wait *w = kp_request_alloc(rq, sizeof(*w));
	struct kp_watch_key *keys;

	for (int32_t i = 0; i < nt; i++)
		cap += (size_t)(req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0);
	if (!w || !(w->resp = kp_delete_records_response_new(&rq->arena, 1)) ||
	    !(w->resp->topics = kp_request_alloc(rq, sizeof(dr_topic) * (size_t)(nt ? nt : 1))) ||
	    !(w->items = kp_request_alloc(rq, sizeof(*w->items) * (cap ? cap : 1))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	w->rq = rq;
	w->resp->topics_count = nt;
	for (int32_t i = 0; i < nt; i++)
		if (delete_topic(rq, &req->topics[i], &w->resp->topics[i], w) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (settle(w) || rq->broker->stopping) {
		answer(w);
		return 0;
	}
	if (!(keys = kp_request_alloc(rq, sizeof(*keys) * w->n)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->n; i++)
		kp_watch_key_partition(&keys[i], &w->items[i].topic_id, w->items[i].partition);
	return kp_purgatory_park(rq->broker->purgatory, rq->conn,
				 req->timeout_ms > 0 ? req->timeout_ms : 0, keys, w->n, dr_waiting, w,
				 err);
}
