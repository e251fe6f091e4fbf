/*
 * raft_node_serve.c - requests other replicas send to a Raft node:
 * Vote, BeginQuorumEpoch, EndQuorumEpoch and Fetch of the metadata
 * partition become kp_raft_msg for the core (KafkaRaftClient
 * .handleVoteRequest and friends), whose answer comes back through
 * ops->send (raft_io.c); DescribeQuorum is answered here from the core's
 * state (KafkaRaftClient.handleDescribeQuorumRequest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/raft_node_internal.h"
#include "protocol/errors.h"
#include "util/diag.h"

const kp_uuid kp_metadata_topic_id = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

typedef int (*rn_handler)(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err);

static int handle_vote(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err);
static int handle_begin(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err);
static int handle_end(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err);
static int handle_fetch(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err);
static int handle_describe_quorum(struct kp_raft_node *n, struct kp_ctl_request *rq,
				  kp_error *err);
static int handle_fetch_snapshot(struct kp_raft_node *n, struct kp_ctl_request *rq,
				 kp_error *err);

/* The Raft APIs served (what the owner's ApiVersions lists); clamped to the schemas'. */
static const struct rn_api {
	int16_t api_key, min, max;
	rn_handler handler;
} apis[] = {
	{ KP_API_FETCH, 13, 17, handle_fetch }, /* 13+: topic ids; Raft needs LastFetchedEpoch */
	{ KP_API_VOTE, 0, 1, handle_vote },
	{ KP_API_BEGIN_QUORUM_EPOCH, 0, 1, handle_begin },
	{ KP_API_END_QUORUM_EPOCH, 0, 1, handle_end },
	{ KP_API_DESCRIBE_QUORUM, 0, 2, handle_describe_quorum },
	{ KP_API_FETCH_SNAPSHOT, 0, 1, handle_fetch_snapshot },
	{ KP_API_ADD_RAFT_VOTER, 0, 0, kp_rn_voters_handle },
	{ KP_API_REMOVE_RAFT_VOTER, 0, 0, kp_rn_voters_handle },
};
#define N_APIS ((int)(sizeof(apis) / sizeof(apis[0])))

/* find_api - the served entry of `api_key`, NULL if not a Raft API. */
static const struct rn_api *find_api(int16_t api_key)
{
	for (int i = 0; i < N_APIS; i++)
		if (apis[i].api_key == api_key)
			return &apis[i];
	return NULL;
}

bool kp_raft_node_api_range(int16_t api_key, int16_t *min, int16_t *max)
{
	const struct rn_api *a = find_api(api_key);
	const struct kp_api_info *info = kp_api_lookup(api_key);

	if (!a || !info)
		return false;
	*min = a->min;
	*max = a->max < info->max_version ? a->max : info->max_version;
	return true;
}

/*
 * cluster_ok - a request's ClusterId is null or ours (Kafka: INCONSISTENT_CLUSTER_ID
 * otherwise, which the caller answers). The first mismatch is logged at WARN: nodes
 * formatted separately each drew their own id and can never form a quorum.
 */
static bool cluster_ok(struct kp_raft_node *n, const char *id)
{
	if (!id || !n->cfg.cluster_id[0] || strcmp(id, n->cfg.cluster_id) == 0)
		return true;
	if (!n->warned_cluster_id)
		kp_diag_warn("refusing a request of cluster %s: this node is in cluster %s (give "
			     "every node the same cluster.id before its first start)", id,
			     n->cfg.cluster_id);
	n->warned_cluster_id = true;
	return false;
}

/* hand_over - park `rq` as `from`'s request of `kind`, give `m` to the core (it answers). */
static int hand_over(struct kp_raft_node *n, struct kp_ctl_request *rq, int32_t from,
		     enum kp_rn_kind kind, struct kp_raft_msg *m)
{
	rq->from = from;
	rq->kind = kind;
	rq->corr = ++n->next_corr;
	m->corr = rq->corr;
	m->from = from;
	m->to = n->cfg.node_id;
	kp_rn_pending_add(n, rq);
	kp_rn_receive(n, m);
	/* Vote/Begin/End/FetchSnapshot are answered within receive; a Fetch may wait */
	if (kind != KP_RN_FETCH)
		kp_rn_pending_flush(n, from, kind);
	return 0;
}

static int handle_vote(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_vote_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_VOTE_REQ, .leader_id = KP_RAFT_NO_ID };

	if (!cluster_ok(n, req->cluster_id))
		return kp_ctl_respond_error(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0 ||
	    req->topics[0].partitions[0].partition_index != 0)
		return kp_ctl_respond_error(rq, KP_ERR_INVALID_REQUEST, err);
	const struct kp_vote_request_partition_data *p = &req->topics[0].partitions[0];

	m.epoch = p->candidate_epoch;
	m.u.vote.last_epoch = p->last_offset_epoch;
	m.u.vote.end_offset = p->last_offset;
	return hand_over(n, rq, p->candidate_id, KP_RN_VOTE, &m);
}

static int handle_begin(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_begin_quorum_epoch_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_BEGIN_EPOCH_REQ };

	if (!cluster_ok(n, req->cluster_id))
		return kp_ctl_respond_error(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0)
		return kp_ctl_respond_error(rq, KP_ERR_INVALID_REQUEST, err);
	m.epoch = req->topics[0].partitions[0].leader_epoch;
	m.leader_id = req->topics[0].partitions[0].leader_id;
	return hand_over(n, rq, m.leader_id, KP_RN_BEGIN, &m);
}

static int handle_end(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_end_quorum_epoch_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_END_EPOCH_REQ };

	if (!cluster_ok(n, req->cluster_id))
		return kp_ctl_respond_error(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0)
		return kp_ctl_respond_error(rq, KP_ERR_INVALID_REQUEST, err);
	const struct kp_end_quorum_epoch_request_partition_data *p = &req->topics[0].partitions[0];
	int k = 0;

	m.epoch = p->leader_epoch;
	m.leader_id = p->leader_id;
	for (int i = 0; i < p->preferred_successors_count && k < KP_RAFT_MAX_VOTERS; i++)
		m.u.end_epoch.successors[k++] = p->preferred_successors[i];
	for (int i = 0; i < p->preferred_candidates_count && k < KP_RAFT_MAX_VOTERS; i++)
		m.u.end_epoch.successors[k++] = p->preferred_candidates[i].candidate_id;
	m.u.end_epoch.n_successors = k;
	return hand_over(n, rq, p->leader_id, KP_RN_END, &m);
}

/* is_metadata_fetch - a Fetch of exactly the metadata partition by topic id. */
static bool is_metadata_fetch(const struct kp_fetch_request *req)
{
	return req->topics_count == 1 &&
	       memcmp(&req->topics[0].topic_id, &kp_metadata_topic_id, sizeof(kp_uuid)) == 0;
}

static int handle_fetch(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_fetch_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_FETCH_REQ };

	if (!cluster_ok(n, req->cluster_id))
		return kp_ctl_respond_error(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics[0].partitions_count != 1 || req->topics[0].partitions[0].partition != 0)
		return kp_ctl_respond_error(rq, KP_ERR_INVALID_REQUEST, err);
	const struct kp_fetch_request_fetch_partition *p = &req->topics[0].partitions[0];
	int32_t from = rq->version >= 15 ? req->replica_state.replica_id : req->replica_id;

	m.epoch = p->current_leader_epoch;
	m.leader_id = n->cfg.node_id; /* the fetcher takes us for the leader */
	m.u.fetch.fetch_offset = p->fetch_offset;
	m.u.fetch.last_fetched_epoch = p->last_fetched_epoch;
	if (from < 0)
		return kp_ctl_respond_error(rq, KP_ERR_INVALID_REQUEST, err); /* no consumers here */
	return hand_over(n, rq, from, KP_RN_FETCH, &m);
}

/* fetch_snapshot_error - a FetchSnapshotResponse with top-level error `code`. */
static int fetch_snapshot_error(struct kp_ctl_request *rq, int16_t code, kp_error *err)
{
	struct kp_fetch_snapshot_response *r = kp_fetch_snapshot_response_new(&rq->arena, 1);

	if (!r)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	r->error_code = code;
	kp_ctl_respond(rq, r);
	return 0;
}

static int handle_fetch_snapshot(struct kp_raft_node *n, struct kp_ctl_request *rq,
				 kp_error *err)
{
	const struct kp_fetch_snapshot_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_FETCH_SNAPSHOT_REQ };

	if (!cluster_ok(n, req->cluster_id))
		return fetch_snapshot_error(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    !req->topics[0].name || strcmp(req->topics[0].name, KP_METADATA_TOPIC) != 0 ||
	    req->topics[0].partitions[0].partition != 0 || req->replica_id < 0)
		return fetch_snapshot_error(rq, KP_ERR_INVALID_REQUEST, err);
	const struct kp_fetch_snapshot_request_partition_snapshot *p = &req->topics[0].partitions[0];

	m.epoch = p->current_leader_epoch;
	m.leader_id = n->cfg.node_id;
	m.u.fetch_snapshot.id.end_offset = p->snapshot_id.end_offset;
	m.u.fetch_snapshot.id.epoch = p->snapshot_id.epoch;
	m.u.fetch_snapshot.position = p->position;
	return hand_over(n, rq, req->replica_id, KP_RN_SNAPSHOT, &m);
}

/* replica_states - kp_raft_describe's states [from, to) as wire ReplicaStates (the leader: now). */
static struct kp_describe_quorum_response_replica_state *
replica_states(struct kp_raft_node *n, struct kp_ctl_request *rq,
	       const struct kp_raft_replica_state *st, size_t from, size_t to)
{
	struct kp_describe_quorum_response_replica_state *out =
		kp_describe_quorum_response_replica_state_new(&rq->arena, to - from);
	int32_t self = n->cfg.node_id;
	int64_t now = kp_rn_wall(kp_rn_now());

	for (size_t i = from; out && i < to; i++) {
		struct kp_describe_quorum_response_replica_state *o = &out[i - from];

		o->replica_id = st[i].id;
		o->log_end_offset = st[i].log_end_offset;
		o->last_fetch_timestamp = st[i].id == self ? now
					  : st[i].last_fetch_ms < 0 ? -1
					  : kp_rn_wall(st[i].last_fetch_ms);
		o->last_caught_up_timestamp = st[i].id == self ? now
					      : st[i].last_caught_up_ms < 0 ? -1
					      : kp_rn_wall(st[i].last_caught_up_ms);
	}
	return out;
}

/* quorum_nodes - every voter's controller listener (DescribeQuorum v2 Nodes). */
static int quorum_nodes(struct kp_raft_node *n, struct kp_ctl_request *rq,
			struct kp_describe_quorum_response *resp)
{
	struct kp_raft_node_voter *vs =
		kp_arena_alloc(&rq->arena, KP_RAFT_MAX_VOTERS * sizeof(*vs));
	int cnt = vs ? kp_raft_node_voters(n, vs) : 0;
	struct kp_describe_quorum_response_node *nodes =
		kp_describe_quorum_response_node_new(&rq->arena, (size_t)cnt);
	struct kp_describe_quorum_response_listener *ls =
		kp_describe_quorum_response_listener_new(&rq->arena, (size_t)cnt);

	if (!vs || !nodes || !ls)
		return -1;
	for (int i = 0; i < cnt; i++) {
		nodes[i].node_id = vs[i].id;
		ls[i].name = (char *)n->cfg.listener_name;
		ls[i].host = vs[i].host;
		ls[i].port = (uint16_t)vs[i].port;
		nodes[i].listeners = &ls[i];
		nodes[i].listeners_count = vs[i].port > 0 ? 1 : 0;
	}
	resp->nodes = nodes;
	resp->nodes_count = cnt;
	return 0;
}

/* describe_partition - the leader's view (KafkaRaftClient.handleDescribeQuorumRequest). */
static int describe_partition(struct kp_raft_node *n, struct kp_ctl_request *rq,
			      struct kp_describe_quorum_response_partition_data *p)
{
	const kp_raft *r = n->raft;
	struct kp_raft_replica_state st[64];
	size_t n_voters = 0, count;

	p->leader_id = kp_raft_leader(r);
	p->leader_epoch = kp_raft_epoch(r);
	p->error_message = "";
	if (kp_raft_role(r) != KP_RAFT_LEADER) {
		p->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		p->error_message = "For requests intended only for the leader, this error indicates "
				   "that the broker is not the current leader. For requests that can "
				   "be satisfied by any replica, this error indicates that the broker "
				   "is not a replica of the topic partition.";
		return 0;
	}
	p->high_watermark = kp_raft_high_watermark(r);
	count = kp_raft_describe(r, st, 64, &n_voters);
	if (count > 64)
		count = 64;
	p->current_voters = replica_states(n, rq, st, 0, n_voters);
	p->current_voters_count = (int32_t)n_voters;
	p->observers = replica_states(n, rq, st, n_voters, count);
	p->observers_count = (int32_t)(count - n_voters);
	return p->current_voters && p->observers ? 0 : -1;
}

/*
 * not_hosted - every partition asked about answered UNKNOWN_TOPIC_OR_PARTITION
 * with the schema's defaults otherwise, and no nodes: Kafka's answer to
 * anything but exactly the metadata partition (checked by
 * tests/differential/describe_quorum.json).
 */
static int not_hosted(struct kp_ctl_request *rq, const struct kp_describe_quorum_request *req,
		      struct kp_describe_quorum_response *resp)
{
	struct kp_describe_quorum_response_topic_data *t =
		kp_describe_quorum_response_topic_data_new(&rq->arena, (size_t)req->topics_count + 1);

	if (!t)
		return -1;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_describe_quorum_request_topic_data *rt = &req->topics[i];
		struct kp_describe_quorum_response_partition_data *p =
			kp_describe_quorum_response_partition_data_new(&rq->arena,
								       (size_t)rt->partitions_count + 1);

		if (!p)
			return -1;
		for (int32_t k = 0; k < rt->partitions_count; k++) {
			p[k].partition_index = rt->partitions[k].partition_index;
			p[k].error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			p[k].error_message = "This server does not host this topic-partition.";
		}
		t[i].topic_name = rt->topic_name;
		t[i].partitions = p;
		t[i].partitions_count = rt->partitions_count;
	}
	resp->topics = t;
	resp->topics_count = req->topics_count;
	return 0;
}

static int handle_describe_quorum(struct kp_raft_node *n, struct kp_ctl_request *rq,
				  kp_error *err)
{
	const struct kp_describe_quorum_request *req = rq->body;
	struct kp_describe_quorum_response *resp = kp_describe_quorum_response_new(&rq->arena, 1);
	struct kp_describe_quorum_response_topic_data *t =
		kp_describe_quorum_response_topic_data_new(&rq->arena, 1);
	struct kp_describe_quorum_response_partition_data *p =
		kp_describe_quorum_response_partition_data_new(&rq->arena, 1);

	if (!resp || !t || !p)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->error_message = "";
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0 ||
	    req->topics[0].partitions[0].partition_index != 0) {
		if (not_hosted(rq, req, resp) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		kp_ctl_respond(rq, resp);
		return 0;
	}
	t->topic_name = (char *)KP_METADATA_TOPIC;
	t->partitions = p;
	t->partitions_count = 1;
	resp->topics = t;
	resp->topics_count = 1;
	if (describe_partition(n, rq, p) < 0 || quorum_nodes(n, rq, resp) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_ctl_respond(rq, resp);
	return 0;
}

/* peek_key - the api key and version at the start of a request header, false if too short. */
static bool peek_key(const uint8_t *frame, size_t len, int16_t *key, int16_t *version)
{
	if (len < 4)
		return false;
	*key = (int16_t)kp_load_u16(frame);
	*version = (int16_t)kp_load_u16(frame + 2);
	return true;
}

int kp_raft_node_handle(kp_raft_node *n, kp_net_conn *conn, uint8_t *frame, size_t len,
			kp_error *err)
{
	int16_t key, version;
	const struct rn_api *a;
	struct kp_ctl_request *rq;

	if (!peek_key(frame, len, &key, &version) || !(a = find_api(key)))
		return 0;
	if (key == KP_API_FETCH && version < a->min)
		return 0; /* by topic name: a consumer's */
	if (!(rq = kp_ctl_request_new(n, conn, frame, len, err)))
		return -1;
	if (kp_ctl_request_decode_body(rq, err) < 0 ||
	    (key == KP_API_FETCH && !is_metadata_fetch(rq->body))) {
		if (key != KP_API_FETCH)
			goto fail;
		rq->frame = NULL; /* not ours: the owner keeps the frame */
		kp_ctl_request_free(rq);
		return 0;
	}
	if (version > a->max) {
		kp_error_set(err, KP_EPROTO, "api key %d version %d is not served", key, version);
		goto fail;
	}
	kp_diag_debug("%s: raft api %d v%d correlation id %d", kp_net_conn_peer(conn), key,
		      version, rq->hdr.correlation_id);
	if (a->handler(n, rq, err) < 0)
		goto fail;
	return 1;
fail:
	kp_ctl_request_free(rq);
	return -1;
}

void kp_raft_node_conn_closed(kp_raft_node *n, kp_net_conn *conn)
{
	if (n->change && n->change->conn == conn) {
		kp_ctl_request_free(n->change);
		n->change = NULL;
	}
	for (int i = 0; i < KP_RN_MAX_PENDING; i++) {
		if (n->pending[i] && n->pending[i]->conn == conn) {
			kp_ctl_request_free(n->pending[i]);
			n->pending[i] = NULL;
		}
	}
}
