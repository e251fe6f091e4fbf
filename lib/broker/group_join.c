/*
 * group_join.c - JoinGroup (key 11, v0-9) and SyncGroup (key 14, v0-5).
 *
 * Both go to lib/group's state machine; an answer that is not ready
 * (the join phase or the leader's assignment is awaited) parks the
 * request in the purgatory under the group's key, woken by the
 * coordinator's notify. A closed connection frees the waiting operation
 * (its member stays until its session times out, as in Kafka); shutdown
 * answers NOT_COORDINATOR so clients look for the new coordinator.
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

static kp_bytes bytes_of(const uint8_t *data, size_t len)
{
	kp_bytes b = { data, (int32_t)len };

	return b;
}

/* join_respond - answer a JoinGroup from its done pending p (the caller frees p). */
static void join_respond(struct kp_request *rq, struct kp_group_pending *p)
{
	struct kp_join_group_response *resp = kp_join_group_response_new(&rq->arena, 1);
	struct kp_join_group_response_join_group_response_member *ms =
		kp_join_group_response_join_group_response_member_new(&rq->arena,
								       (size_t)p->member_count);

	if (!resp || !ms) {
		kp_net_conn_fail(rq->conn, "out of memory");
		kp_request_free(rq);
		return;
	}
	resp->error_code = p->error;
	resp->generation_id = p->error ? -1 : p->generation_id;
	resp->protocol_type = p->protocol_type;
	resp->protocol_name = p->protocol_name ? p->protocol_name : (rq->version >= 7 ? NULL : "");
	resp->leader = p->leader ? p->leader : "";
	resp->skip_assignment = p->skip_assignment;
	resp->member_id = p->member_id ? p->member_id : "";
	for (int32_t i = 0; i < p->member_count; i++) {
		ms[i].member_id = p->members[i].member_id;
		ms[i].group_instance_id = p->members[i].group_instance_id;
		ms[i].metadata = bytes_of(p->members[i].metadata, p->members[i].metadata_len);
	}
	resp->members = ms;
	resp->members_count = p->member_count;
	KP_RESPOND(rq, JOIN_GROUP, resp);
}

/* sync_respond - answer a SyncGroup from its done pending p (the caller frees p). */
static void sync_respond(struct kp_request *rq, struct kp_group_pending *p)
{
	struct kp_sync_group_response *resp = kp_sync_group_response_new(&rq->arena, 1);

	if (!resp) {
		kp_net_conn_fail(rq->conn, "out of memory");
		kp_request_free(rq);
		return;
	}
	resp->error_code = p->error;
	resp->protocol_type = p->error ? NULL : p->protocol_type;
	resp->protocol_name = p->error ? NULL : p->protocol_name;
	resp->assignment = bytes_of(p->assignment ? p->assignment : (const uint8_t *)"",
				    p->error ? 0 : p->assignment_len);
	KP_RESPOND(rq, SYNC_GROUP, resp);
}

/* respond - answer rq from p (encoded at once, so p may go after). */
static void respond(struct kp_request *rq, struct kp_group_pending *p)
{
	if (p->kind == KP_GROUP_PENDING_JOIN)
		join_respond(rq, p);
	else
		sync_respond(rq, p);
}

/* respond_error - answer rq with only `error` (an operation the coordinator did not finish). */
static void respond_error(struct kp_request *rq, int16_t error)
{
	struct kp_group_pending p = {
		.kind = rq->api_key == KP_API_JOIN_GROUP ? KP_GROUP_PENDING_JOIN : KP_GROUP_PENDING_SYNC,
		.done = true,
		.error = error,
	};

	respond(rq, &p);
}

/* waiting - the purgatory's callback for a parked JoinGroup or SyncGroup. */
static bool waiting(void *arg, enum kp_op_reason why)
{
	struct group_wait *w = arg; /* in rq's arena: gone once rq is answered or freed */
	struct kp_request *rq = w->rq;
	struct kp_group_pending *p = w->p;

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
	if (p->done)
		respond(rq, p);
	else
		respond_error(rq, why == KP_OP_SHUTDOWN ? KP_ERR_NOT_COORDINATOR
			      : KP_ERR_REBALANCE_IN_PROGRESS);
	kp_group_pending_free(p);
	return true;
}

/*
 * answer_or_park - answer rq now when p is done, else park it under
 * group_id's key for as long as the coordinator may take (p->wait_ms)
 * and a margin: the coordinator answers first, the deadline is a safety net.
 */
static int answer_or_park(struct kp_request *rq, struct kp_group_pending *p, const char *group_id,
			  kp_error *err)
{
	struct kp_watch_key key;
	struct group_wait *w;

	if (!p)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (p->done) {
		respond(rq, p);
		kp_group_pending_free(p);
		return 0;
	}
	if (!(w = kp_request_alloc(rq, sizeof(*w)))) {
		kp_group_pending_free(p);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	w->rq = rq;
	w->p = p;
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

	if (!ps)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++) {
		ps[i].name = req->protocols[i].name ? req->protocols[i].name : "";
		ps[i].metadata = req->protocols[i].metadata.data;
		ps[i].metadata_len = req->protocols[i].metadata.len > 0
			? (size_t)req->protocols[i].metadata.len : 0;
	}
	return answer_or_park(rq, kp_group_join(rq->broker->groups, &a, kp_broker_group_now()),
			      req->group_id, err);
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
	/* a follower waits for the leader, who has the rebalance timeout to answer */
	return answer_or_park(rq, kp_group_sync(rq->broker->groups, &a, kp_broker_group_now()),
			      req->group_id ? req->group_id : "", err);
}
