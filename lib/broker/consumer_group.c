/*
 * consumer_group.c - ConsumerGroupHeartbeat (key 68, v0-1) and
 * ConsumerGroupDescribe (key 69, v0-1), the KIP-848 consumer protocol:
 * topic ids on the wire mapped to the names lib/group works with, and the
 * answers of lib/group's consumer groups (consumer_group.h). Describe
 * answers at once; a heartbeat that changed its group once the group's
 * records are replicated (group_replicated.c).
 */
#include <string.h>

#include "broker/internal.h"
#include "group/consumer_group.h"
#include "util/diag.h"

typedef struct kp_consumer_group_heartbeat_request_topic_partitions hb_req_tp;
typedef struct kp_consumer_group_heartbeat_response_topic_partitions hb_resp_tp;
typedef struct kp_consumer_group_describe_response_topic_partitions cgd_tp;

/* owned_names - the request's owned partitions by topic name; *unknown when an id is not a topic. */
static struct kp_cg_topic_partitions *owned_names(struct kp_request *rq, const hb_req_tp *tps,
						  int32_t n, int32_t *count, bool *unknown)
{
	struct kp_cg_topic_partitions *out = kp_request_alloc(rq, ((size_t)n + 1) * sizeof(*out));

	*count = 0;
	for (int32_t i = 0; out && i < n; i++) {
		struct kp_topic *t = kp_topics_find_id(rq->broker->topics, &tps[i].topic_id);

		if (!t) {
			*unknown |= tps[i].partitions_count > 0;
			continue;
		}
		out[*count] = (struct kp_cg_topic_partitions){ t->name, tps[i].partitions,
							       tps[i].partitions_count };
		(*count)++;
	}
	return out;
}

/* copy_partitions - tp's topic (into *t) and a copy of its partitions in the request's
 * arena; NULL when the topic is gone since or memory runs out. */
static int32_t *copy_partitions(struct kp_request *rq, const struct kp_cg_topic_partitions *tp,
				struct kp_topic **t)
{
	int32_t *p;

	*t = kp_topics_find(rq->broker->topics, tp->topic);
	p = *t ? kp_request_alloc(rq, (size_t)tp->count * sizeof(*p) + 1) : NULL;
	if (p && tp->count)
		memcpy(p, tp->partitions, (size_t)tp->count * sizeof(*p));
	return p;
}

/* to_ids - an assignment by name as the response's topic ids (topics gone since are left out). */
static hb_resp_tp *to_ids(struct kp_request *rq, const struct kp_cg_topic_partitions *tps,
			  int32_t n, int32_t *count)
{
	hb_resp_tp *out = kp_consumer_group_heartbeat_response_topic_partitions_new(&rq->arena,
										    (size_t)n + 1);

	*count = 0;
	for (int32_t i = 0; out && i < n; i++) {
		struct kp_topic *t;
		int32_t *p = copy_partitions(rq, &tps[i], &t);

		if (!p)
			continue;
		out[*count].topic_id = t->id;
		out[*count].partitions = p;
		out[*count].partitions_count = tps[i].count;
		(*count)++;
	}
	return out;
}

static char *arena_str(struct kp_request *rq, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *c = s ? kp_request_alloc(rq, n + 1) : NULL;

	if (c)
		memcpy(c, s, n + 1);
	return c;
}

static int count_partitions(const struct kp_cg_heartbeat_result *r)
{
	int n = 0;

	for (int32_t i = 0; i < r->assignment_count; i++)
		n += r->assignment[i].count;
	return n;
}

/* heartbeat_done - kp_replicated_done: the answer, or only the error of a failed write. */
static void heartbeat_done(struct kp_request *rq, void *arg, int16_t error)
{
	struct kp_consumer_group_heartbeat_response *resp = arg;

	if (error) {
		kp_consumer_group_heartbeat_response_init(resp);
		resp->error_code = error;
	}
	KP_RESPOND(rq, CONSUMER_GROUP_HEARTBEAT, resp);
}

/*
 * kp_handle_consumer_group_heartbeat - one heartbeat through lib/group;
 * when it changed the group (the cstore hook wrote its records), the
 * answer waits until the ISR of the group's partition has them
 * (kp_group_respond_written), as Kafka 4's coordinator completes the
 * heartbeat once its records are committed; a failed write is answered
 * with only its error (COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR).
 */
int kp_handle_consumer_group_heartbeat(struct kp_request *rq, kp_error *err)
{
	const struct kp_consumer_group_heartbeat_request *req = rq->body;
	struct kp_consumer_group_heartbeat_response *resp =
		kp_consumer_group_heartbeat_response_new(&rq->arena, 1);
	struct kp_cg_heartbeat_args a = {
		.version = rq->version,
		.group_id = req->group_id, .member_id = req->member_id ? req->member_id : "",
		.instance_id = req->instance_id, .rack_id = req->rack_id,
		.client_id = rq->hdr.client_id ? rq->hdr.client_id : "",
		.client_host = kp_broker_client_host(rq),
		.member_epoch = req->member_epoch, .rebalance_timeout_ms = req->rebalance_timeout_ms,
		.topics = (const char *const *)req->subscribed_topic_names,
		.topic_count = req->subscribed_topic_names_count,
		.topics_set = req->subscribed_topic_names_count >= 0,
		.regex = req->subscribed_topic_regex, .server_assignor = req->server_assignor,
		.owned_set = req->topic_partitions_count >= 0,
	};
	struct kp_cg_heartbeat_result r;
	int64_t since = kp_group_log_mark(rq->broker, req->group_id);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (a.owned_set)
		a.owned = owned_names(rq, req->topic_partitions, req->topic_partitions_count,
				      &a.owned_count, &a.owned_unknown);
	kp_cg_heartbeat(rq->broker->groups, &a, kp_broker_group_now(), &r);
	kp_diag_debug("ConsumerGroupHeartbeat group %s member %s epoch %d owned %d%s: %s %s epoch %d "
		      "assignment of %d partition(s)", a.group_id ? a.group_id : "", a.member_id, a.member_epoch,
		      a.owned_set ? a.owned_count : -1, a.owned_unknown ? " (unknown ids)" : "",
		      kp_kafka_error_name(r.error), r.error_message, r.member_epoch,
		      r.has_assignment ? count_partitions(&r) : -1);
	resp->error_code = r.error;
	resp->error_message = r.error ? arena_str(rq, r.error_message) : NULL;
	if (!r.error) {
		resp->member_id = arena_str(rq, r.member_id);
		resp->member_epoch = r.member_epoch;
		resp->heartbeat_interval_ms = r.heartbeat_interval_ms;
		if (r.has_assignment) {
			resp->assignment_is_null = false;
			resp->assignment.topic_partitions =
				to_ids(rq, r.assignment, r.assignment_count,
				       &resp->assignment.topic_partitions_count);
		}
	}
	kp_cg_result_free(&r);
	if (resp->error_code) {
		KP_RESPOND(rq, CONSUMER_GROUP_HEARTBEAT, resp);
		return 0;
	}
	return kp_group_respond_written(rq, req->group_id, since, heartbeat_done, resp, err);
}

/* describe_tps - an assignment for ConsumerGroupDescribe: topic ids and names. */
static cgd_tp *describe_tps(struct kp_request *rq, const struct kp_cg_topic_partitions *tps,
			    int32_t n, int32_t *count)
{
	cgd_tp *out = kp_consumer_group_describe_response_topic_partitions_new(&rq->arena,
									       (size_t)n + 1);

	*count = 0;
	for (int32_t i = 0; out && i < n; i++) {
		struct kp_topic *t;
		int32_t *p = copy_partitions(rq, &tps[i], &t);

		if (!p)
			continue;
		out[*count] = (cgd_tp){ t->id, arena_str(rq, t->name), p, tps[i].count };
		(*count)++;
	}
	return out;
}

static void describe_member(struct kp_request *rq, const struct kp_cg_member_info *mi,
			    struct kp_consumer_group_describe_response_member *m)
{
	char **names = kp_request_alloc(rq, ((size_t)mi->topic_count + 1) * sizeof(char *));

	m->member_id = arena_str(rq, mi->member_id);
	m->instance_id = arena_str(rq, mi->instance_id);
	m->rack_id = arena_str(rq, mi->rack_id);
	m->member_epoch = mi->member_epoch;
	m->client_id = arena_str(rq, mi->client_id);
	m->client_host = arena_str(rq, mi->client_host);
	for (int32_t k = 0; names && k < mi->topic_count; k++)
		names[k] = arena_str(rq, mi->topics[k]);
	m->subscribed_topic_names = names;
	m->subscribed_topic_names_count = names ? mi->topic_count : 0;
	m->subscribed_topic_regex = arena_str(rq, mi->regex ? mi->regex : ""); /* Kafka: "" for none */
	m->assignment.topic_partitions = describe_tps(rq, mi->assigned, mi->assigned_count,
						      &m->assignment.topic_partitions_count);
	m->target_assignment.topic_partitions =
		describe_tps(rq, mi->target, mi->target_count,
			     &m->target_assignment.topic_partitions_count);
}

int kp_handle_consumer_group_describe(struct kp_request *rq, kp_error *err)
{
	const struct kp_consumer_group_describe_request *req = rq->body;
	struct kp_consumer_group_describe_response *resp =
		kp_consumer_group_describe_response_new(&rq->arena, 1);
	int32_t n = req->group_ids_count > 0 ? req->group_ids_count : 0;
	struct kp_consumer_group_describe_response_described_group *gs =
		kp_consumer_group_describe_response_described_group_new(&rq->arena, (size_t)n + 1);
	kp_group_coord *gc = rq->broker->groups;

	if (!resp || !gs)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++) {
		struct kp_consumer_group_describe_response_described_group *d = &gs[i];
		struct kp_cg_info info;
		char msg[300];

		d->group_id = req->group_ids[i];
		d->error_code = kp_cg_describe(gc, req->group_ids[i], &info, msg, sizeof(msg));
		if (d->error_code) {
			d->error_message = arena_str(rq, msg);
			continue;
		}
		d->group_state = arena_str(rq, info.state);
		d->group_epoch = info.group_epoch;
		d->assignment_epoch = info.assignment_epoch;
		d->assignor_name = arena_str(rq, info.assignor);
		d->members = kp_consumer_group_describe_response_member_new(
			&rq->arena, (size_t)info.member_count + 1);
		for (int32_t k = 0; d->members && k < info.member_count; k++) {
			struct kp_cg_member_info mi;

			if (!kp_cg_member_at(gc, req->group_ids[i], k, &mi))
				break;
			describe_member(rq, &mi, &d->members[k]);
			d->members_count = k + 1;
		}
	}
	resp->groups = gs;
	resp->groups_count = n;
	KP_RESPOND(rq, CONSUMER_GROUP_DESCRIBE, resp);
	return 0;
}
