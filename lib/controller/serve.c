/*
 * serve.c - requests other nodes send to the controller: decoding, the
 * table of APIs served, and the handlers. Raft's four RPCs become
 * kp_raft_msg for the core (KafkaRaftClient.handleVoteRequest and
 * friends); the core's answer comes back through ops->send (raft_io.c).
 * ApiVersions, DescribeQuorum and DescribeCluster are answered here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/internal.h"
#include "protocol/errors.h"
#include "util/diag.h"

const kp_uuid kp_metadata_topic_id = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

typedef int (*ctl_handler)(struct kp_ctl_request *rq, kp_error *err);

static int handle_api_versions(struct kp_ctl_request *rq, kp_error *err);
static int handle_vote(struct kp_ctl_request *rq, kp_error *err);
static int handle_begin(struct kp_ctl_request *rq, kp_error *err);
static int handle_end(struct kp_ctl_request *rq, kp_error *err);
static int handle_fetch(struct kp_ctl_request *rq, kp_error *err);
static int handle_describe_quorum(struct kp_ctl_request *rq, kp_error *err);
static int handle_describe_cluster(struct kp_ctl_request *rq, kp_error *err);

/* The controller's API set (what ApiVersions lists); versions clamped to the schemas'. */
static const struct ctl_api {
	int16_t api_key, min, max;
	ctl_handler handler;
} apis[] = {
	{ KP_API_FETCH, 13, 17, handle_fetch }, /* 13+: topic ids; Raft needs LastFetchedEpoch (12+) */
	{ KP_API_API_VERSIONS, 0, 4, handle_api_versions },
	{ KP_API_VOTE, 0, 1, handle_vote },
	{ KP_API_BEGIN_QUORUM_EPOCH, 0, 1, handle_begin },
	{ KP_API_END_QUORUM_EPOCH, 0, 1, handle_end },
	{ KP_API_DESCRIBE_QUORUM, 0, 2, handle_describe_quorum },
	{ KP_API_DESCRIBE_CLUSTER, 1, 1, handle_describe_cluster },
};
#define N_APIS ((int)(sizeof(apis) / sizeof(apis[0])))

void kp_ctl_request_free(struct kp_ctl_request *rq)
{
	if (!rq)
		return;
	kp_arena_free(&rq->arena);
	free(rq->frame);
	free(rq);
}

void kp_ctl_respond(struct kp_ctl_request *rq, const void *resp)
{
	kp_net_conn *conn = rq->conn;
	kp_error err;
	kp_buf out;

	kp_buf_init(&out);
	if (kp_response_encode(rq->api_key, rq->version, rq->hdr.correlation_id, resp, &out, &err) < 0) {
		char why[384];

		snprintf(why, sizeof(why), "cannot encode response to api %d v%d: %s", rq->api_key,
			 rq->version, err.msg);
		kp_ctl_request_free(rq);
		kp_net_conn_fail(conn, why);
	} else {
		kp_ctl_request_free(rq);
		kp_net_conn_reply(conn, &out);
	}
	kp_buf_free(&out);
}

int kp_ctl_voter_index(const struct kp_controller *c, int32_t id)
{
	for (int i = 0; i < c->cfg.n_voters; i++)
		if (c->cfg.voters[i].id == id)
			return i;
	return -1;
}

/* cluster_ok - a request's ClusterId is null or ours (Kafka: INCONSISTENT_CLUSTER_ID otherwise). */
static bool cluster_ok(const struct kp_ctl_request *rq, const char *id)
{
	return !id || strcmp(id, rq->ctl->cluster_id) == 0;
}

/* hand_over - park `rq` as `from`'s request of `kind`, give `m` to the core, answer if it did not. */
static int hand_over(struct kp_ctl_request *rq, int32_t from, enum kp_ctl_kind kind,
		     struct kp_raft_msg *m)
{
	struct kp_controller *c = rq->ctl;

	rq->from = from;
	rq->kind = kind;
	rq->corr = ++c->next_corr;
	m->corr = rq->corr;
	m->from = from;
	m->to = c->cfg.node_id;
	kp_ctl_pending_add(c, rq);
	kp_ctl_receive(c, m);
	/* Vote/Begin/End are answered within receive; a Fetch may wait (long poll) */
	if (kind != KP_CTL_FETCH)
		kp_ctl_pending_flush(c, from, kind);
	return 0;
}

/* error_top - answer `rq` with only a top-level error code (Kafka's RaftUtil.errorResponse). */
static int error_top(struct kp_ctl_request *rq, int16_t code, kp_error *err)
{
	const struct kp_api_info *info = kp_api_lookup(rq->api_key);
	void *resp = kp_arena_alloc(&rq->arena, kp_msg_size(info->response));

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_msg_init(info->response, resp);
	/* every Raft response struct here starts with error_code except Fetch's throttle time */
	if (rq->api_key == KP_API_FETCH)
		((struct kp_fetch_response *)resp)->error_code = code;
	else
		*(int16_t *)resp = code;
	kp_ctl_respond(rq, resp);
	return 0;
}

static int handle_vote(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_vote_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_VOTE_REQ, .leader_id = KP_RAFT_NO_ID };

	if (!cluster_ok(rq, req->cluster_id))
		return error_top(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0 ||
	    req->topics[0].partitions[0].partition_index != 0)
		return error_top(rq, KP_ERR_INVALID_REQUEST, err);
	const struct kp_vote_request_partition_data *p = &req->topics[0].partitions[0];

	m.epoch = p->candidate_epoch;
	m.u.vote.last_epoch = p->last_offset_epoch;
	m.u.vote.end_offset = p->last_offset;
	return hand_over(rq, p->candidate_id, KP_CTL_VOTE, &m);
}

static int handle_begin(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_begin_quorum_epoch_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_BEGIN_EPOCH_REQ };

	if (!cluster_ok(rq, req->cluster_id))
		return error_top(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0)
		return error_top(rq, KP_ERR_INVALID_REQUEST, err);
	m.epoch = req->topics[0].partitions[0].leader_epoch;
	m.leader_id = req->topics[0].partitions[0].leader_id;
	return hand_over(rq, m.leader_id, KP_CTL_BEGIN, &m);
}

static int handle_end(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_end_quorum_epoch_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_END_EPOCH_REQ };

	if (!cluster_ok(rq, req->cluster_id))
		return error_top(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0)
		return error_top(rq, KP_ERR_INVALID_REQUEST, err);
	const struct kp_end_quorum_epoch_request_partition_data *p = &req->topics[0].partitions[0];
	int n = 0;

	m.epoch = p->leader_epoch;
	m.leader_id = p->leader_id;
	for (int i = 0; i < p->preferred_successors_count && n < KP_RAFT_MAX_VOTERS; i++)
		m.u.end_epoch.successors[n++] = p->preferred_successors[i];
	for (int i = 0; i < p->preferred_candidates_count && n < KP_RAFT_MAX_VOTERS; i++)
		m.u.end_epoch.successors[n++] = p->preferred_candidates[i].candidate_id;
	m.u.end_epoch.n_successors = n;
	return hand_over(rq, p->leader_id, KP_CTL_END, &m);
}

static int handle_fetch(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_fetch_request *req = rq->body;
	struct kp_raft_msg m = { .type = KP_RAFT_FETCH_REQ };

	if (!cluster_ok(rq, req->cluster_id))
		return error_top(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, err);
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    req->topics[0].partitions[0].partition != 0)
		return error_top(rq, KP_ERR_INVALID_REQUEST, err);
	if (memcmp(&req->topics[0].topic_id, &kp_metadata_topic_id, sizeof(kp_uuid)) != 0)
		return error_top(rq, KP_ERR_UNKNOWN_TOPIC_ID, err);
	const struct kp_fetch_request_fetch_partition *p = &req->topics[0].partitions[0];
	int32_t from = rq->version >= 15 ? req->replica_state.replica_id : req->replica_id;

	m.epoch = p->current_leader_epoch;
	m.leader_id = rq->ctl->cfg.node_id; /* the fetcher takes us for the leader */
	m.u.fetch.fetch_offset = p->fetch_offset;
	m.u.fetch.last_fetched_epoch = p->last_fetched_epoch;
	if (from < 0)
		return error_top(rq, KP_ERR_INVALID_REQUEST, err); /* no consumer fetches here */
	return hand_over(rq, from, KP_CTL_FETCH, &m);
}

static int handle_api_versions(struct kp_ctl_request *rq, kp_error *err)
{
	struct kp_api_versions_response *resp = kp_api_versions_response_new(&rq->arena, 1);
	struct kp_api_versions_response_api_version *keys =
		kp_api_versions_response_api_version_new(&rq->arena, N_APIS);

	if (!resp || !keys)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int i = 0; i < N_APIS; i++) {
		const struct kp_api_info *info = kp_api_lookup(apis[i].api_key);

		keys[i].api_key = apis[i].api_key;
		keys[i].min_version = apis[i].min;
		keys[i].max_version = apis[i].max < info->max_version ? apis[i].max : info->max_version;
	}
	resp->api_keys = keys;
	resp->api_keys_count = N_APIS;
	kp_ctl_respond(rq, resp);
	return 0;
}

/* replica_states - kp_raft_describe's states [from, to) as wire ReplicaStates (the leader: now). */
static struct kp_describe_quorum_response_replica_state *
replica_states(struct kp_ctl_request *rq, const struct kp_raft_replica_state *st, size_t from, size_t to)
{
	struct kp_describe_quorum_response_replica_state *out =
		kp_describe_quorum_response_replica_state_new(&rq->arena, to - from);
	int32_t self = rq->ctl->cfg.node_id;
	int64_t now = kp_ctl_wall(kp_ctl_now());

	for (size_t i = from; out && i < to; i++) {
		struct kp_describe_quorum_response_replica_state *o = &out[i - from];

		o->replica_id = st[i].id;
		o->log_end_offset = st[i].log_end_offset;
		o->last_fetch_timestamp = st[i].id == self ? now
					  : st[i].last_fetch_ms < 0 ? -1 : kp_ctl_wall(st[i].last_fetch_ms);
		o->last_caught_up_timestamp = st[i].id == self ? now
					      : st[i].last_caught_up_ms < 0 ? -1
					      : kp_ctl_wall(st[i].last_caught_up_ms);
	}
	return out;
}

/* quorum_nodes - every voter's controller listener (DescribeQuorum v2 Nodes). */
static int quorum_nodes(struct kp_ctl_request *rq, struct kp_describe_quorum_response *resp)
{
	const struct kp_controller_config *cfg = &rq->ctl->cfg;
	struct kp_describe_quorum_response_node *nodes =
		kp_describe_quorum_response_node_new(&rq->arena, (size_t)cfg->n_voters);
	struct kp_describe_quorum_response_listener *ls =
		kp_describe_quorum_response_listener_new(&rq->arena, (size_t)cfg->n_voters);

	if (!nodes || !ls)
		return -1;
	for (int i = 0; i < cfg->n_voters; i++) {
		nodes[i].node_id = cfg->voters[i].id;
		ls[i].name = (char *)cfg->listener_name;
		ls[i].host = (char *)cfg->voters[i].host;
		ls[i].port = (uint16_t)cfg->voters[i].port;
		nodes[i].listeners = &ls[i];
		nodes[i].listeners_count = 1;
	}
	resp->nodes = nodes;
	resp->nodes_count = cfg->n_voters;
	return 0;
}

/* describe_partition - the leader's view (KafkaRaftClient.handleDescribeQuorumRequest). */
static int describe_partition(struct kp_ctl_request *rq, struct kp_describe_quorum_response_partition_data *p)
{
	const kp_raft *r = rq->ctl->raft;
	struct kp_raft_replica_state st[64];
	size_t n_voters = 0, n;

	p->leader_id = kp_raft_leader(r);
	p->leader_epoch = kp_raft_epoch(r);
	if (kp_raft_role(r) != KP_RAFT_LEADER) {
		p->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return 0;
	}
	p->high_watermark = kp_raft_high_watermark(r);
	n = kp_raft_describe(r, st, 64, &n_voters);
	if (n > 64)
		n = 64;
	p->current_voters = replica_states(rq, st, 0, n_voters);
	p->current_voters_count = (int32_t)n_voters;
	p->observers = replica_states(rq, st, n_voters, n);
	p->observers_count = (int32_t)(n - n_voters);
	return p->current_voters && p->observers ? 0 : -1;
}

static int handle_describe_quorum(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_describe_quorum_request *req = rq->body;
	struct kp_describe_quorum_response *resp = kp_describe_quorum_response_new(&rq->arena, 1);
	struct kp_describe_quorum_response_topic_data *t =
		kp_describe_quorum_response_topic_data_new(&rq->arena, 1);
	struct kp_describe_quorum_response_partition_data *p =
		kp_describe_quorum_response_partition_data_new(&rq->arena, 1);

	if (!resp || !t || !p)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (req->topics_count != 1 || req->topics[0].partitions_count != 1 ||
	    strcmp(req->topics[0].topic_name, KP_METADATA_TOPIC) != 0 ||
	    req->topics[0].partitions[0].partition_index != 0) {
		resp->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		kp_ctl_respond(rq, resp);
		return 0;
	}
	t->topic_name = (char *)KP_METADATA_TOPIC;
	t->partitions = p;
	t->partitions_count = 1;
	resp->topics = t;
	resp->topics_count = 1;
	if (describe_partition(rq, p) < 0 || quorum_nodes(rq, resp) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_ctl_respond(rq, resp);
	return 0;
}

/*
 * handle_describe_cluster - KIP-919: asked for controller endpoints (type
 * 2), the voters and the active controller, which is what an admin client
 * bootstrapped with --bootstrap-controller routes to; brokers (type 1)
 * are not known to a controller: UNSUPPORTED_ENDPOINT_TYPE, as Kafka.
 */
static int handle_describe_cluster(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_describe_cluster_request *req = rq->body;
	const struct kp_controller_config *cfg = &rq->ctl->cfg;
	struct kp_describe_cluster_response *resp = kp_describe_cluster_response_new(&rq->arena, 1);
	struct kp_describe_cluster_response_describe_cluster_broker *b =
		kp_describe_cluster_response_describe_cluster_broker_new(&rq->arena, (size_t)cfg->n_voters);

	if (!resp || !b)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->endpoint_type = req->endpoint_type;
	resp->cluster_id = rq->ctl->cluster_id;
	resp->controller_id = kp_raft_leader(rq->ctl->raft);
	if (req->endpoint_type != 2) {
		resp->error_code = KP_ERR_UNSUPPORTED_ENDPOINT_TYPE;
		kp_ctl_respond(rq, resp);
		return 0;
	}
	for (int i = 0; i < cfg->n_voters; i++) {
		b[i].broker_id = cfg->voters[i].id;
		b[i].host = (char *)cfg->voters[i].host;
		b[i].port = cfg->voters[i].port;
	}
	resp->brokers = b;
	resp->brokers_count = cfg->n_voters;
	kp_ctl_respond(rq, resp);
	return 0;
}

/* api_versions_unsupported - ApiVersions at a version we lack: error 35 with a v0 body (KIP-511). */
static void api_versions_unsupported(struct kp_ctl_request *rq)
{
	struct kp_api_versions_response *resp = kp_api_versions_response_new(&rq->arena, 1);
	struct kp_api_versions_response_api_version *key =
		kp_api_versions_response_api_version_new(&rq->arena, 1);
	kp_net_conn *conn = rq->conn;

	if (!resp || !key) {
		kp_ctl_request_free(rq);
		kp_net_conn_done(conn);
		return;
	}
	resp->error_code = KP_ERR_UNSUPPORTED_VERSION;
	key->api_key = KP_API_API_VERSIONS;
	key->min_version = 0;
	key->max_version = 4;
	resp->api_keys = key;
	resp->api_keys_count = 1;
	rq->version = 0;
	kp_ctl_respond(rq, resp);
}

/* request_new - own `frame`, decode its header into a new request; NULL with err. */
static struct kp_ctl_request *request_new(struct kp_controller *c, kp_net_conn *conn, uint8_t *frame,
					  size_t len, kp_reader *r, kp_error *err)
{
	struct kp_ctl_request *rq = calloc(1, sizeof(*rq));

	if (!rq) {
		free(frame);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	rq->ctl = c;
	rq->conn = conn;
	rq->frame = frame;
	kp_arena_init(&rq->arena);
	kp_reader_init(r, frame, len);
	if (kp_request_header_decode(r, &rq->arena, &rq->hdr, err) < 0) {
		kp_error_set(err, KP_EPROTO, "cannot decode request header of a %zu-byte frame", len);
		kp_ctl_request_free(rq);
		return NULL;
	}
	rq->api_key = rq->hdr.request_api_key;
	rq->version = rq->hdr.request_api_version;
	return rq;
}

/* find_api - the served entry for `rq`'s key and version, or NULL. */
static const struct ctl_api *find_api(const struct kp_ctl_request *rq)
{
	const struct kp_api_info *info = kp_api_lookup(rq->api_key);

	for (int i = 0; info && i < N_APIS; i++)
		if (apis[i].api_key == rq->api_key)
			return rq->version >= apis[i].min && rq->version <= apis[i].max &&
			       rq->version <= info->max_version ? &apis[i] : NULL;
	return NULL;
}

int kp_ctl_on_frame(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err)
{
	struct kp_controller *c = opaque;
	kp_reader r;
	kp_error derr;
	struct kp_ctl_request *rq = request_new(c, conn, frame, len, &r, err);

	if (!rq)
		return -1;
	const struct ctl_api *a = find_api(rq);
	const struct kp_api_info *info = kp_api_lookup(rq->api_key);

	if (!a && rq->api_key == KP_API_API_VERSIONS) {
		api_versions_unsupported(rq);
		return 0;
	}
	if (!a) {
		kp_error_set(err, KP_EPROTO, "api key %d version %d is not served by a controller",
			     rq->api_key, rq->version);
		goto fail;
	}
	rq->body = kp_arena_alloc(&rq->arena, kp_msg_size(info->request));
	if (!rq->body || kp_msg_decode(info->request, rq->version, &r, &rq->arena, rq->body, &derr) < 0) {
		kp_error_set(err, KP_EPROTO, "cannot decode %s v%d request: %s", info->name, rq->version,
			     rq->body ? derr.msg : "out of memory");
		goto fail;
	}
	kp_diag_debug("%s: api %d v%d correlation id %d", kp_net_conn_peer(conn), rq->api_key,
		      rq->version, rq->hdr.correlation_id);
	if (a->handler(rq, err) < 0)
		goto fail;
	return 0;
fail:
	kp_ctl_request_free(rq);
	return -1;
}

void kp_ctl_on_close(kp_net_conn *conn, void *opaque)
{
	struct kp_controller *c = opaque;

	for (int i = 0; i < KP_CTL_MAX_PENDING; i++) {
		if (c->pending[i] && c->pending[i]->conn == conn) {
			kp_ctl_request_free(c->pending[i]);
			c->pending[i] = NULL;
		}
	}
}
