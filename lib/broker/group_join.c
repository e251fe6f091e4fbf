/*
 * group_join.c - JoinGroup (key 11, v0-9) and SyncGroup (key 14, v0-5).
 *
 * Both go to lib/group's state machine; an answer that is not ready
 * (the join phase or the leader's assignment is awaited) parks the
 * request in the purgatory under the group's key, woken by the
 * coordinator's notify. A closed connection frees the waiting operation
 * (its member stays until its session times out, as in Kafka); shutdown
 * answers NOT_COORDINATOR so clients look for the new coordinator.
 *
 * A successful SyncGroup answer (the leader's and every follower's) goes
 * out once the ISR of the group's __consumer_offsets partition has the
 * group metadata the leader's assignment wrote (group_replicated.c), as
 * Kafka hands the assignment out only after storing it; a JoinGroup that
 * wrote (a static member's new member id) waits for its write likewise.
 * The answer is copied into the request's arena first, so a connection
 * closing meanwhile frees everything with the request. A write that
 * fails answers only its error: COORDINATOR_NOT_AVAILABLE (not
 * replicated within offsets.commit.timeout.ms, ISR below
 * min.insync.replicas) or NOT_COORDINATOR (leadership lost), Kafka's
 * appendGroupMetadataErrorToResponseError, and a failed SyncGroup puts a
 * group still Stable in its generation back to rebalancing
 * (kp_group_sync_failed), as Kafka's storeGroup callback does.
 */
#include <string.h>

#include <event2/event.h>

#include "broker/internal.h"

/* What a parked request allows past the coordinator's own deadline (a tick, and slack). */
#define PARK_MARGIN_MS 5000

/* A parked request and its operation in the coordinator. */
struct group_wait {
	struct kp_request *rq;
	struct kp_group_pending *p;
};

/* copy - n bytes of src in rq's arena (src NULL: NULL); *failed when memory runs out. */
static void *copy(struct kp_request *rq, const void *src, size_t n, bool *failed)
{
	void *c;

	if (!src)
		return NULL;
	if (!(c = kp_request_alloc(rq, n ? n : 1))) {
		*failed = true;
		return NULL;
	}
	if (n)
		memcpy(c, src, n);
	return c;
}

static char *copy_str(struct kp_request *rq, const char *s, bool *failed)
{
	return s ? copy(rq, s, strlen(s) + 1, failed) : NULL;
}

static kp_bytes copy_bytes(struct kp_request *rq, const uint8_t *data, size_t len, bool *failed)
{
	kp_bytes b = { copy(rq, data ? data : (const uint8_t *)"", len, failed), (int32_t)len };

	return b;
}

/* join_build - a JoinGroup answer from its done pending p, in rq's arena; NULL when out of memory. */
static struct kp_join_group_response *join_build(struct kp_request *rq,
						 const struct kp_group_pending *p)
{
	struct kp_join_group_response *resp = kp_join_group_response_new(&rq->arena, 1);
	struct kp_join_group_response_join_group_response_member *ms =
		kp_join_group_response_join_group_response_member_new(&rq->arena,
								       (size_t)p->member_count);
	bool failed = !resp || !ms;

	if (failed)
		return NULL;
	resp->error_code = p->error;
	resp->generation_id = p->error ? -1 : p->generation_id;
	resp->protocol_type = copy_str(rq, p->protocol_type, &failed);
	resp->protocol_name = p->protocol_name ? copy_str(rq, p->protocol_name, &failed)
					       : (rq->version >= 7 ? NULL : "");
	resp->leader = p->leader ? copy_str(rq, p->leader, &failed) : "";
	resp->skip_assignment = p->skip_assignment;
	resp->member_id = p->member_id ? copy_str(rq, p->member_id, &failed) : "";
	for (int32_t i = 0; i < p->member_count; i++) {
		ms[i].member_id = copy_str(rq, p->members[i].member_id, &failed);
		ms[i].group_instance_id = copy_str(rq, p->members[i].group_instance_id, &failed);
		ms[i].metadata = copy_bytes(rq, p->members[i].metadata, p->members[i].metadata_len,
					    &failed);
	}
	resp->members = ms;
	resp->members_count = p->member_count;
	return failed ? NULL : resp;
}

/* sync_build - a SyncGroup answer from its done pending p, in rq's arena; NULL when out of memory. */
static struct kp_sync_group_response *sync_build(struct kp_request *rq,
						 const struct kp_group_pending *p)
{
	struct kp_sync_group_response *resp = kp_sync_group_response_new(&rq->arena, 1);
	bool failed = !resp;

	if (failed)
		return NULL;
	resp->error_code = p->error;
	resp->protocol_type = p->error ? NULL : copy_str(rq, p->protocol_type, &failed);
	resp->protocol_name = p->error ? NULL : copy_str(rq, p->protocol_name, &failed);
	resp->assignment = copy_bytes(rq, p->assignment, p->error ? 0 : p->assignment_len, &failed);
	return failed ? NULL : resp;
}

static void respond_error(struct kp_request *rq, int16_t error);

/* sync_failed - a SyncGroup's write failed: its group rebalances (kp_group_sync_failed). */
static void sync_failed(struct kp_request *rq)
{
	const struct kp_sync_group_request *req = rq->body;

	if (!rq->broker->stopping)
		kp_group_sync_failed(rq->broker->groups, req->group_id, req->generation_id,
				     kp_broker_group_now());
}

/* answer_done - kp_replicated_done of a built answer: it, or only the write's error. */
static void answer_done(struct kp_request *rq, void *resp, int16_t error)
{
	if (error && rq->api_key == KP_API_SYNC_GROUP)
		sync_failed(rq);
	if (error)
		respond_error(rq, error);
	else if (rq->api_key == KP_API_JOIN_GROUP)
		KP_RESPOND(rq, JOIN_GROUP, (const struct kp_join_group_response *)resp);
	else
		KP_RESPOND(rq, SYNC_GROUP, (const struct kp_sync_group_response *)resp);
}

/* group_of - the group id of rq, a JoinGroup or SyncGroup. */
static const char *group_of(const struct kp_request *rq)
{
	if (rq->api_key == KP_API_JOIN_GROUP)
		return ((const struct kp_join_group_request *)rq->body)->group_id;
	return ((const struct kp_sync_group_request *)rq->body)->group_id;
}

/*
 * respond - answer rq from its done pending p (copied into rq's arena, so
 * p may go after): an error at once, a success once the group's
 * partition is replicated past `since` (kp_group_respond_written).
 * Returns 0, or -1 with KP_ENOMEM (rq is then still the caller's).
 */
static int respond(struct kp_request *rq, const struct kp_group_pending *p, int64_t since,
		   kp_error *err)
{
	void *resp = p->kind == KP_GROUP_PENDING_JOIN ? (void *)join_build(rq, p)
						      : (void *)sync_build(rq, p);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (p->error) {
		answer_done(rq, resp, KP_ERR_NONE);
		return 0;
	}
	return kp_group_respond_written(rq, group_of(rq), since, answer_done, resp, err);
}

/* fail - rq cannot be answered (out of memory): close its connection and free it. */
static void fail(struct kp_request *rq, const kp_error *err)
{
	kp_net_conn_fail(rq->conn, err->msg);
	kp_request_free(rq);
}

/* respond_error - answer rq with only `error` (an operation not finished, or its write failed). */
static void respond_error(struct kp_request *rq, int16_t error)
{
	struct kp_group_pending p = {
		.kind = rq->api_key == KP_API_JOIN_GROUP ? KP_GROUP_PENDING_JOIN : KP_GROUP_PENDING_SYNC,
		.done = true,
		.error = error,
	};
	kp_error err;

	if (respond(rq, &p, INT64_MAX, &err) < 0)
		fail(rq, &err);
}

/*
 * later_since - what an answer completed after parking waits for besides
 * the coordinator (kp_group_respond_written's `since`): a SyncGroup
 * whatever its group's partition holds, the leader's assignment among it
 * (Kafka hands the assignment out once it is written); a JoinGroup
 * nothing, as Kafka completes a join phase without a write.
 */
static int64_t later_since(const struct kp_request *rq)
{
	return rq->api_key == KP_API_SYNC_GROUP ? -1 : INT64_MAX;
}

/* waiting - the purgatory's callback for a parked JoinGroup or SyncGroup. */
static bool waiting(void *arg, enum kp_op_reason why)
{
	struct group_wait *w = arg; /* in rq's arena: gone once rq is answered or freed */
	struct kp_request *rq = w->rq;
	struct kp_group_pending *p = w->p;
	kp_error err;

	switch (why) {
	case KP_OP_CLOSED:
		kp_group_pending_free(p);
		kp_request_free(rq);
		return true;
	case KP_OP_WAKE:
	case KP_OP_HANGUP:
		if (!p->done)
			return false;
		break;
	case KP_OP_EXPIRE:
	case KP_OP_SHUTDOWN:
		break;
	}
	if (!p->done)
		respond_error(rq, why == KP_OP_SHUTDOWN ? KP_ERR_NOT_COORDINATOR
			      : KP_ERR_REBALANCE_IN_PROGRESS);
	else if (respond(rq, p, later_since(rq), &err) < 0)
		fail(rq, &err);
	kp_group_pending_free(p);
	return true;
}

/*
 * answer_or_park - answer rq now when p is done (after what its call
 * wrote since `since`, a kp_group_log_mark), else park it under
 * group_id's key for as long as the coordinator may take (p->wait_ms)
 * and a margin: the coordinator answers first, the deadline is a safety net.
 */
static int answer_or_park(struct kp_request *rq, struct kp_group_pending *p, const char *group_id,
			  int64_t since, kp_error *err)
{
	struct kp_watch_key key;
	struct group_wait *w;
	int rc;

	if (!p)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (p->done) {
		rc = respond(rq, p, since, err);
		kp_group_pending_free(p);
		return rc;
	}
	if (!(w = kp_request_alloc(rq, sizeof(*w)))) {
		kp_group_pending_free(p);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	*w = (struct group_wait){ rq, p };
	kp_watch_key_group(&key, group_id);
	if (kp_purgatory_park(rq->broker->purgatory, rq->conn, p->wait_ms + PARK_MARGIN_MS, &key, 1,
			      waiting, w, err) < 0) {
		kp_group_pending_free(p);
		return -1;
	}
	/*
	 * A deadline may already be due (group.initial.rebalance.delay.ms=0
	 * ends the join phase at the next tick): tick once more right after
	 * this request instead of up to KP_GROUP_TICK_MS later, as Kafka's
	 * timer would fire at once.
	 */
	if (rq->broker->group_tick)
		event_active(rq->broker->group_tick, EV_TIMEOUT, 0);
	return 0;
}

int kp_handle_join_group(struct kp_request *rq, kp_error *err)
{
	const struct kp_join_group_request *req = rq->body;
	int32_t n = req->protocols_count > 0 ? req->protocols_count : 0;
	struct kp_group_protocol *ps = kp_request_alloc(rq, sizeof(*ps) * (size_t)(n ? n : 1));
	struct kp_group_join_args a = {
		.group_id = req->group_id,
		.member_id = req->member_id ? req->member_id : "",
		.group_instance_id = req->group_instance_id,
		.protocol_type = req->protocol_type,
		.client_id = rq->hdr.client_id ? rq->hdr.client_id : "",
		.client_host = kp_broker_client_host(rq),
		.session_timeout_ms = req->session_timeout_ms,
		.rebalance_timeout_ms = rq->version >= 1 ? req->rebalance_timeout_ms
			: req->session_timeout_ms,
		.require_known_member = rq->version >= 4,
		.protocols = ps,
		.protocol_count = n,
	};
	int64_t since;

	if (!ps)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++) {
		ps[i].name = req->protocols[i].name ? req->protocols[i].name : "";
		ps[i].metadata = req->protocols[i].metadata.data;
		ps[i].metadata_len = req->protocols[i].metadata.len > 0
			? (size_t)req->protocols[i].metadata.len : 0;
	}
	/* a join that writes (a static member's new id) is answered once that is replicated */
	since = kp_group_log_mark(rq->broker, req->group_id);
	return answer_or_park(rq, kp_group_join(rq->broker->groups, &a, kp_broker_group_now()),
			      req->group_id, since, err);
}

int kp_handle_sync_group(struct kp_request *rq, kp_error *err)
{
	const struct kp_sync_group_request *req = rq->body;
	int32_t n = req->assignments_count > 0 ? req->assignments_count : 0;
	struct kp_group_assignment *as = kp_request_alloc(rq, sizeof(*as) * (size_t)(n ? n : 1));
	struct kp_group_sync_args a = {
		.group_id = req->group_id,
		.member_id = req->member_id ? req->member_id : "",
		.group_instance_id = req->group_instance_id,
		.generation_id = req->generation_id,
		.protocol_type = rq->version >= 5 ? req->protocol_type : NULL,
		.protocol_name = rq->version >= 5 ? req->protocol_name : NULL,
		.assignments = as,
		.assignment_count = n,
	};

	if (!as)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++) {
		as[i].member_id = req->assignments[i].member_id ? req->assignments[i].member_id : "";
		as[i].data = req->assignments[i].assignment.data;
		as[i].len = req->assignments[i].assignment.len > 0
			? (size_t)req->assignments[i].assignment.len : 0;
	}
	/*
	 * a follower waits for the leader, who has the rebalance timeout to
	 * answer; every assignment goes out once the group's partition has
	 * the leader's write replicated (-1: whatever the partition holds)
	 */
	return answer_or_park(rq, kp_group_sync(rq->broker->groups, &a, kp_broker_group_now()),
			      req->group_id ? req->group_id : "", -1, err);
}
