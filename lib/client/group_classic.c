/*
 * group_classic.c - the classic group protocol, member side: JoinGroup
 * (retried with the member id the coordinator hands out with
 * MEMBER_ID_REQUIRED, KIP-394), the leader's assignment, SyncGroup,
 * Heartbeat and LeaveGroup; see group.h.
 *
 * The protocol type is "consumer" and the one protocol offered is the
 * configured assignor, with ConsumerProtocolSubscription v3 metadata
 * (topics, owned partitions, generation id). Eager assignors (range,
 * roundrobin) commit and give up every partition before rejoining; the
 * cooperative one keeps what it owns and rejoins once more after giving
 * up what moved (KIP-429).
 */
#include "client/group_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/diag.h"

#define JOIN_GROUP_MAX 9
#define SYNC_GROUP_MAX 5
#define HEARTBEAT_MAX 4
#define LEAVE_GROUP_MAX 5
#define CONSUMER_PROTOCOL_VERSION 3

/* Encode a ConsumerProtocol message (int16 version, then the body) into `a`. */
static int encode_data(const struct kp_msg_desc *d, const void *msg, kp_arena *a, kp_bytes *out,
		       kp_error *err)
{
	kp_buf b;
	int rc = -1;

	kp_buf_init(&b);
	kp_buf_put_i16(&b, CONSUMER_PROTOCOL_VERSION);
	if (kp_msg_encode(d, CONSUMER_PROTOCOL_VERSION, msg, &b, err) < 0)
		goto out;
	if (b.oom || !(out->data = kp_arena_memdup(a, b.data, b.len))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	out->len = (int32_t)b.len;
	rc = 0;
out:
	kp_buf_free(&b);
	return rc;
}

/* Decode a ConsumerProtocol message; a newer version is read as the newest we know. */
static int decode_data(const struct kp_msg_desc *d, kp_bytes in, kp_arena *a, void *msg,
		       kp_error *err)
{
	kp_reader r;
	int16_t v;

	kp_reader_init(&r, in.data, in.len > 0 ? (size_t)in.len : 0);
	v = kp_read_i16(&r);
	if (r.failed || v < 0)
		return kp_error_set(err, KP_EPROTO, "bad %s in the group protocol", kp_msg_name(d));
	return kp_msg_decode(d, v > CONSUMER_PROTOCOL_VERSION ? CONSUMER_PROTOCOL_VERSION : v, &r, a,
			     msg, err);
}

/* Our subscription: topics, and for the cooperative assignor what we own. */
static int subscription(kp_member *g, kp_arena *a, kp_bytes *out, kp_error *err)
{
	struct kp_consumer_protocol_subscription s;
	struct kp_consumer_protocol_subscription_topic_partition *tp =
		kp_consumer_protocol_subscription_topic_partition_new(a, g->nowned + 1);
	int32_t *parts = kp_arena_alloc(a, (g->nowned + 1) * sizeof *parts);

	if (!tp || !parts)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_consumer_protocol_subscription_init(&s);
	s.topics = g->topics;
	s.topics_count = (int32_t)g->ntopics;
	s.owned_partitions = tp;
	s.generation_id = g->generation;
	for (size_t i = 0; i < g->nowned; i++) {
		int32_t k = 0;
		while (k < s.owned_partitions_count && strcmp(tp[k].topic, g->owned[i].topic))
			k++;
		if (k == s.owned_partitions_count)
			tp[s.owned_partitions_count++].topic = g->owned[i].topic;
	}
	for (int32_t k = 0; k < s.owned_partitions_count; k++) { /* fill each topic's partitions */
		tp[k].partitions = parts;
		for (size_t i = 0; i < g->nowned; i++)
			if (strcmp(g->owned[i].topic, tp[k].topic) == 0)
				*parts++ = g->owned[i].partition;
		tp[k].partitions_count = (int32_t)(parts - tp[k].partitions);
	}
	return encode_data(&kp_consumer_protocol_subscription_desc, &s, a, out, err);
}

/* One member's input to the assignor, from its JoinGroup metadata (all in `a`). */
static int member_input(const struct kp_join_group_response_join_group_response_member *jm,
			kp_arena *a, struct kp_assign_member *m, kp_error *err)
{
	struct kp_consumer_protocol_subscription s;
	size_t n = 0;

	if (decode_data(&kp_consumer_protocol_subscription_desc, jm->metadata, a, &s, err) < 0)
		return -1;
	for (int32_t k = 0; k < s.owned_partitions_count; k++)
		if (s.owned_partitions[k].partitions_count > 0)
			n += (size_t)s.owned_partitions[k].partitions_count;
	struct kp_tp *owned = kp_arena_alloc(a, (n + 1) * sizeof *owned);
	if (!owned)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*m = (struct kp_assign_member){ .member_id = jm->member_id,
					.group_instance_id = jm->group_instance_id,
					.topics = (const char *const *)s.topics,
					.ntopics = s.topics_count > 0 ? (size_t)s.topics_count : 0,
					.owned = owned, .generation = s.generation_id };
	for (int32_t k = 0; k < s.owned_partitions_count; k++)
		for (int32_t j = 0; j < s.owned_partitions[k].partitions_count; j++)
			owned[m->nowned++] = (struct kp_tp){ s.owned_partitions[k].topic,
							     s.owned_partitions[k].partitions[j] };
	return 0;
}

/* The partition counts of every topic some member subscribes to (in `a`). */
static int subscribed_topics(kp_member *g, const struct kp_assign_member *m, size_t n, kp_arena *a,
			     struct kp_assign_topic **out, size_t *nout, kp_error *err)
{
	size_t cap = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		cap += m[i].ntopics;
	if (!(*out = kp_arena_alloc(a, (cap + 1) * sizeof **out)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m[i].ntopics; j++) {
			size_t t = 0;
			int32_t parts;
			while (t < k && strcmp((*out)[t].name, m[i].topics[j]))
				t++;
			if (t < k)
				continue;
			if (kp_cluster_topic(g->cluster, m[i].topics[j], &parts, NULL) < 0)
				continue; /* not assignable now; the metadata may tell later */
			(*out)[k++] = (struct kp_assign_topic){ m[i].topics[j], parts };
		}
	*nout = k;
	return 0;
}

/* Encode member m's assignment (ConsumerProtocolAssignment) into `a`. */
static int encode_assignment(const struct kp_assign_member *m, kp_arena *a, kp_bytes *out,
			     kp_error *err)
{
	struct kp_consumer_protocol_assignment as;
	struct kp_consumer_protocol_assignment_topic_partition *tp =
		kp_consumer_protocol_assignment_topic_partition_new(a, m->nassigned + 1);
	int32_t *parts = kp_arena_alloc(a, (m->nassigned + 1) * sizeof *parts);

	if (!tp || !parts)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_consumer_protocol_assignment_init(&as);
	as.assigned_partitions = tp;
	for (size_t i = 0; i < m->nassigned; i++) { /* assigned is sorted by topic */
		if (as.assigned_partitions_count == 0 ||
		    strcmp(tp[as.assigned_partitions_count - 1].topic, m->assigned[i].topic)) {
			tp[as.assigned_partitions_count].topic = (char *)m->assigned[i].topic;
			tp[as.assigned_partitions_count++].partitions = parts + i;
		}
		parts[i] = m->assigned[i].partition;
		tp[as.assigned_partitions_count - 1].partitions_count++;
	}
	return encode_data(&kp_consumer_protocol_assignment_desc, &as, a, out, err);
}

/* As the leader: run the group's assignor over the members of `jr`; the SyncGroup assignments. */
static int leader_assign(kp_member *g, const struct kp_join_group_response *jr, kp_arena *a,
			 struct kp_sync_group_request *sr, kp_error *err)
{
	size_t n = jr->members_count > 0 ? (size_t)jr->members_count : 0, ntopics = 0;
	struct kp_assign_member *m = kp_arena_alloc(a, (n + 1) * sizeof *m);
	struct kp_assign_topic *topics;
	int assignor = kp_assignor_parse(jr->protocol_name ? jr->protocol_name : "", err);
	int rc = -1;

	if (!m || !(sr->assignments = kp_sync_group_request_sync_group_request_assignment_new(a, n + 1)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (assignor < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (member_input(&jr->members[i], a, &m[i], err) < 0)
			return -1;
	if (subscribed_topics(g, m, n, a, &topics, &ntopics, err) < 0 ||
	    kp_assign(assignor, topics, ntopics, m, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sr->assignments[i].member_id = m[i].member_id ? (char *)m[i].member_id : "";
		if (encode_assignment(&m[i], a, &sr->assignments[i].assignment, err) < 0)
			goto out;
	}
	sr->assignments_count = (int32_t)n;
	rc = 0;
out:
	kp_assign_free(m, n);
	return rc;
}

static int set_member_id(kp_member *g, const char *id, kp_error *err)
{
	char *s = strdup(id ? id : "");

	if (!s)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	free(g->member_id);
	g->member_id = s;
	return 0;
}

/* JoinGroup until admitted (MEMBER_ID_REQUIRED and UNKNOWN_MEMBER_ID retry at once). */
static int join(kp_member *g, kp_arena *a, struct kp_join_group_response *jr, kp_error *err)
{
	struct kp_join_group_request req;
	struct kp_join_group_request_join_group_request_protocol proto;
	int timeout = g->cfg.rebalance_timeout_ms + 5000, v;

	if (subscription(g, a, &proto.metadata, err) < 0)
		return -1;
	proto.name = (char *)kp_assignor_name(g->cfg.assignor);
	for (int attempt = 0; attempt < 10; attempt++) {
		kp_join_group_request_init(&req);
		req.group_id = g->group_id;
		req.session_timeout_ms = g->cfg.session_timeout_ms;
		req.rebalance_timeout_ms = g->cfg.rebalance_timeout_ms;
		req.member_id = g->member_id;
		req.group_instance_id = kp_member_is_static(g) ? g->cfg.instance_id : NULL;
		req.protocol_type = "consumer";
		req.protocols = &proto;
		req.protocols_count = 1;
		if (kp_member_call(g, KP_API_JOIN_GROUP, JOIN_GROUP_MAX, &req, a, jr, timeout, &v, err) < 0)
			return -1;
		if (jr->error_code == KP_ERR_MEMBER_ID_REQUIRED) {
			if (set_member_id(g, jr->member_id, err) < 0)
				return -1;
		} else if (jr->error_code == KP_ERR_UNKNOWN_MEMBER_ID) {
			if (set_member_id(g, "", err) < 0)
				return -1;
		} else if (jr->error_code != KP_ERR_REBALANCE_IN_PROGRESS) {
			break;
		}
	}
	if (jr->error_code)
		return kp_error_kafka(err, jr->error_code, "cannot join group '%s'", g->group_id);
	g->generation = jr->generation_id;
	free(g->protocol_name);
	if (set_member_id(g, jr->member_id, err) < 0 ||
	    !(g->protocol_name = strdup(jr->protocol_name ? jr->protocol_name : "")))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return 0;
}

/* SyncGroup: send the leader's assignments (empty for followers); the member's own in *mine. */
static int sync(kp_member *g, const struct kp_join_group_response *jr, kp_arena *a, kp_bytes *mine,
		kp_error *err)
{
	struct kp_sync_group_request req;
	struct kp_sync_group_response resp;
	int v;

	kp_sync_group_request_init(&req);
	if (jr->leader && strcmp(jr->leader, g->member_id) == 0 && leader_assign(g, jr, a, &req, err) < 0)
		return -1;
	req.group_id = g->group_id;
	req.generation_id = g->generation;
	req.member_id = g->member_id;
	req.group_instance_id = kp_member_is_static(g) ? g->cfg.instance_id : NULL;
	req.protocol_type = "consumer";
	req.protocol_name = g->protocol_name;
	if (kp_member_call(g, KP_API_SYNC_GROUP, SYNC_GROUP_MAX, &req, a, &resp,
			  g->cfg.rebalance_timeout_ms + 5000, &v, err) < 0)
		return -1;
	if (resp.error_code == KP_ERR_UNKNOWN_MEMBER_ID && set_member_id(g, "", err) < 0)
		return -1;
	if (resp.error_code)
		return kp_error_kafka(err, resp.error_code, "cannot sync with group '%s'", g->group_id);
	*mine = resp.assignment;
	return 0;
}

/* Apply our SyncGroup assignment. */
static int apply(kp_member *g, kp_bytes mine, kp_arena *a, kp_error *err)
{
	struct kp_consumer_protocol_assignment as;
	struct kp_tp *tps;
	size_t n = 0;
	bool revoked = false;

	kp_consumer_protocol_assignment_init(&as);
	if (mine.len > 0 && decode_data(&kp_consumer_protocol_assignment_desc, mine, a, &as, err) < 0)
		return -1;
	for (int32_t k = 0; k < as.assigned_partitions_count; k++)
		if (as.assigned_partitions[k].partitions_count > 0)
			n += (size_t)as.assigned_partitions[k].partitions_count;
	if (!(tps = kp_arena_alloc(a, (n + 1) * sizeof *tps)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	n = 0;
	for (int32_t k = 0; k < as.assigned_partitions_count; k++)
		for (int32_t j = 0; j < as.assigned_partitions[k].partitions_count; j++)
			tps[n++] = (struct kp_tp){ as.assigned_partitions[k].topic,
						   as.assigned_partitions[k].partitions[j] };
	if (kp_member_assign_set(g, tps, n, &revoked, err) < 0)
		return -1;
	if (revoked && kp_assignor_cooperative(g->cfg.assignor))
		g->rejoin = true; /* KIP-429: hand the revoked partitions on */
	return 0;
}

int kp_classic_join(kp_member *g, kp_error *err)
{
	struct kp_join_group_response jr;
	kp_bytes mine = { NULL, -1 };
	kp_arena a;
	int rc = -1;

	if (!kp_assignor_cooperative(g->cfg.assignor) && g->nowned > 0) {
		kp_error e;
		if (g->joined && kp_member_commit(g, &e) < 0)
			kp_diag_warn("%s", e.msg);
		kp_member_lose_all(g);
	}
	g->joined = false;
	g->rejoin = false;
	kp_arena_init(&a);
	if (join(g, &a, &jr, err) < 0 || sync(g, &jr, &a, &mine, err) < 0)
		goto out;
	g->joined = true;
	g->next_heartbeat = kp_mono_ms() + g->heartbeat_interval_ms;
	rc = apply(g, mine, &a, err);
	kp_diag_debug("group '%s': generation %d, member %s, %zu partitions", g->group_id,
		      (int)g->generation, g->member_id, g->nowned);
out:
	kp_arena_free(&a);
	if (rc < 0 && err && err->code == KP_EKAFKA &&
	    (err->kafka_code == KP_ERR_ILLEGAL_GENERATION ||
	     err->kafka_code == KP_ERR_UNKNOWN_MEMBER_ID)) {
		g->lost = true; /* rejoin at once */
		return 0;
	}
	return rc;
}

int kp_classic_heartbeat(kp_member *g, kp_error *err)
{
	struct kp_heartbeat_request req;
	struct kp_heartbeat_response resp;
	kp_arena a;
	int v, rc = -1;

	g->next_heartbeat = kp_mono_ms() + g->heartbeat_interval_ms;
	kp_arena_init(&a);
	kp_heartbeat_request_init(&req);
	req.group_id = g->group_id;
	req.generation_id = g->generation;
	req.member_id = g->member_id;
	req.group_instance_id = kp_member_is_static(g) ? g->cfg.instance_id : NULL;
	if (kp_member_call(g, KP_API_HEARTBEAT, HEARTBEAT_MAX, &req, &a, &resp,
			  kp_cluster_config(g->cluster)->request_timeout_ms, &v, err) < 0)
		goto out;
	rc = 0;
	switch (resp.error_code) {
	case 0:
		break;
	case KP_ERR_REBALANCE_IN_PROGRESS:
		g->rejoin = true;
		break;
	case KP_ERR_UNKNOWN_MEMBER_ID:
		g->member_id[0] = '\0';
		/* fall through */
	case KP_ERR_ILLEGAL_GENERATION:
		g->lost = true; /* partitions lost, not revoked: no commit (KIP-429 onPartitionsLost) */
		g->joined = false;
		break;
	default:
		rc = kp_error_kafka(err, resp.error_code, "heartbeat to group '%s' failed", g->group_id);
	}
out:
	kp_arena_free(&a);
	return rc;
}

int kp_classic_leave(kp_member *g, kp_error *err)
{
	struct kp_leave_group_request req;
	struct kp_leave_group_response resp;
	struct kp_leave_group_request_member_identity me;
	kp_arena a;
	int v, rc = -1;

	kp_arena_init(&a);
	kp_leave_group_request_init(&req);
	kp_leave_group_request_member_identity_init(&me);
	me.member_id = g->member_id;
	me.reason = "the consumer is being closed";
	req.group_id = g->group_id;
	req.member_id = g->member_id;
	req.members = &me;
	req.members_count = 1;
	if (kp_member_call(g, KP_API_LEAVE_GROUP, LEAVE_GROUP_MAX, &req, &a, &resp,
			  kp_cluster_config(g->cluster)->request_timeout_ms, &v, err) < 0)
		goto out;
	if (resp.error_code && resp.error_code != KP_ERR_UNKNOWN_MEMBER_ID) {
		kp_error_kafka(err, resp.error_code, "cannot leave group '%s'", g->group_id);
		goto out;
	}
	rc = 0;
out:
	g->joined = false;
	kp_arena_free(&a);
	return rc;
}
