/*
 * replica_out_of_range.c - a follower whose fetch offset the leader
 * answered OFFSET_OUT_OF_RANGE finds where to fetch from, as Kafka's
 * AbstractFetcherThread.fetchOffsetAndTruncate does: it asks the leader
 * (ListOffsets with its replica id, so "latest" is the leader's log end
 * offset, not its high watermark) and
 *
 *   leader's log end < ours        (it lost what we have: an unclean
 *                                   election) truncate to the leader's end
 *   leader's log start > our end   (we were away while the leader deleted
 *                                   what we miss: retention, DeleteRecords)
 *                                   empty our log and start at the leader's
 *                                   start (kp_log_reset_at)
 *   otherwise                      fetch again from where we are
 *
 * The partition stays out of fetches while the questions are out; every
 * answer is applied only if this broker still follows the same leader in
 * the same leader epoch.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "broker/replica.h"
#include "util/clock.h"
#include "util/diag.h"

#define LIST_OFFSETS_VERSION 7

struct oor_ctx {
	struct kp_broker *b;
	kp_outconn *conn;  /* the fetcher's connection to the leader (borrowed) */
	kp_uuid topic_id;
	int32_t partition, leader, leader_epoch;
	int64_t timestamp; /* -1 latest, then -2 earliest */
};

static int ask(struct oor_ctx *x, const char *topic, kp_error *err);

/* partition_of - x's partition if this broker still follows x->leader in x's epoch, else NULL. */
static struct kp_partition *partition_of(const struct oor_ctx *x, struct kp_topic **t)
{
	struct kp_partition *p;

	*t = kp_topics_find_id(x->b->topics, &x->topic_id);
	p = kp_topic_partition(*t, x->partition);
	if (!p || !p->hosted || !p->follower || !p->log || p->leader != x->leader ||
	    p->leader_epoch != x->leader_epoch)
		return NULL;
	return p;
}

/* resume - p may be fetched again at once (or after the backoff, after a failure). */
static void resume(struct kp_broker *b, struct kp_partition *p, bool failed)
{
	p->fetch_delay_until_ms = failed ? kp_mono_ms() + b->cfg.replica.fetch_backoff_ms : 0;
}

/* apply_latest - the leader's log end offset: truncate to it, or ask for its start. */
static bool apply_latest(struct oor_ctx *x, struct kp_topic *t, struct kp_partition *p,
			 int64_t leader_end)
{
	int64_t ours = kp_log_end_offset(p->log);
	kp_error err;

	if (leader_end >= ours) {
		x->timestamp = -2;
		return ask(x, t->name, &err) == 0;
	}
	kp_diag_warn("%s-%d: the leader's log ends at %lld, before ours (%lld): truncating to it",
		     t->name, p->index, (long long)leader_end, (long long)ours);
	if (kp_log_truncate_to(p->log, leader_end, &err) < 0) {
		kp_diag_error("%s-%d: cannot truncate to %lld: %s", t->name, p->index,
			      (long long)leader_end, err.msg);
		return false;
	}
	if (p->high_watermark > kp_log_end_offset(p->log))
		p->high_watermark = kp_log_end_offset(p->log);
	return false; /* done: resume */
}

/* apply_earliest - the leader's log start offset: start our log there when we end before it. */
static void apply_earliest(struct kp_topic *t, struct kp_partition *p, int64_t leader_start)
{
	int64_t ours = kp_log_end_offset(p->log);
	kp_error err;

	if (leader_start <= ours)
		return;
	kp_diag_warn("%s-%d: the leader's log starts at %lld, after our end (%lld): starting our "
		     "log there", t->name, p->index, (long long)leader_start, (long long)ours);
	if (kp_log_reset_at(p->log, leader_start, &err) < 0) {
		kp_diag_error("%s-%d: cannot start the log at %lld: %s", t->name, p->index,
			      (long long)leader_start, err.msg);
		return;
	}
	p->high_watermark = leader_start;
}

static void answered(void *arg, const void *resp_, const kp_error *err)
{
	struct oor_ctx *x = arg;
	const struct kp_list_offsets_response *resp = resp_;
	const struct kp_list_offsets_response_list_offsets_partition_response *r = NULL;
	struct kp_topic *t;
	struct kp_partition *p = partition_of(x, &t);
	bool failed = false, more = false;

	if (!p)
		goto out;
	if (!err && resp->topics_count == 1 && resp->topics[0].partitions_count == 1)
		r = &resp->topics[0].partitions[0];
	if (!r || r->error_code != KP_ERR_NONE || r->offset < 0) {
		kp_diag_debug("%s-%d: ListOffsets to leader %d failed: %s", t->name, p->index,
			      x->leader, err ? err->msg : r ? kp_kafka_error_name(r->error_code)
							: "malformed answer");
		failed = true;
	} else if (x->timestamp == -1) {
		more = apply_latest(x, t, p, r->offset);
	} else {
		apply_earliest(t, p, r->offset);
	}
	if (!more)
		resume(x->b, p, failed);
out:
	if (!more)
		free(x);
}

/* ask - ListOffsets for x's partition at x->timestamp, answered to `answered`. */
static int ask(struct oor_ctx *x, const char *topic, kp_error *err)
{
	struct kp_list_offsets_request req;
	struct kp_list_offsets_request_list_offsets_topic lt;
	struct kp_list_offsets_request_list_offsets_partition lp;

	kp_list_offsets_request_init(&req);
	kp_list_offsets_request_list_offsets_topic_init(&lt);
	kp_list_offsets_request_list_offsets_partition_init(&lp);
	lp.partition_index = x->partition;
	lp.current_leader_epoch = x->leader_epoch;
	lp.timestamp = x->timestamp;
	lt.name = (char *)topic;
	lt.partitions = &lp;
	lt.partitions_count = 1;
	req.replica_id = x->b->cfg.node_id;
	req.topics = &lt;
	req.topics_count = 1;
	return kp_outconn_send(x->conn, KP_API_LIST_OFFSETS, LIST_OFFSETS_VERSION, &req,
			       x->b->cfg.replica.socket_timeout_ms, answered, x, err);
}

void kp_replica_out_of_range(struct kp_broker *b, kp_outconn *conn, struct kp_topic *t,
			     struct kp_partition *p, int32_t leader)
{
	struct oor_ctx *x = malloc(sizeof(*x));
	kp_error err;

	if (!x)
		return;
	*x = (struct oor_ctx){ b, conn, t->id, p->index, leader, p->leader_epoch, -1 };
	if (ask(x, t->name, &err) < 0) {
		kp_diag_debug("%s-%d: ListOffsets to leader %d not sent: %s", t->name, p->index,
			      leader, err.msg);
		free(x);
		resume(b, p, true);
		return;
	}
	/* out of fetches until answered, or the questions time out */
	p->fetch_delay_until_ms = kp_mono_ms() + 2 * b->cfg.replica.socket_timeout_ms;
}
