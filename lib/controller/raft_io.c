/*
 * raft_io.c - kp_raft_msg to and from Kafka's Raft RPCs, as
 * KafkaRaftClient and RaftUtil build them: every request names topic
 * `__cluster_metadata` partition 0 (Fetch by Uuid.METADATA_TOPIC_ID, the
 * fetcher's id in ReplicaState, v15+), every response carries the
 * sender's epoch and leader (Fetch: CurrentLeader).
 *
 *   core --send(REQ)--> outconn --> peer ... response --> kp_raft_receive
 *   peer --request--> serve.c: pending[], kp_raft_receive
 *                      core --send(RESP)--> answer the pending request
 */
#include <stdlib.h>
#include <string.h>

#include "controller/raft_node_internal.h"
#include "protocol/errors.h"
#include "record/batch.h"
#include "util/diag.h"

/* Versions we send (the newest of each our codec and Kafka 4 share). */
#define VOTE_VERSION 1
#define BEGIN_VERSION 1
#define END_VERSION 1
#define FETCH_VERSION 17

static const enum kp_rn_kind kind_of[] = {
	[KP_RAFT_VOTE_REQ] = KP_RN_VOTE, [KP_RAFT_VOTE_RESP] = KP_RN_VOTE,
	[KP_RAFT_BEGIN_EPOCH_REQ] = KP_RN_BEGIN, [KP_RAFT_BEGIN_EPOCH_RESP] = KP_RN_BEGIN,
	[KP_RAFT_END_EPOCH_REQ] = KP_RN_END, [KP_RAFT_END_EPOCH_RESP] = KP_RN_END,
	[KP_RAFT_FETCH_REQ] = KP_RN_FETCH, [KP_RAFT_FETCH_RESP] = KP_RN_FETCH,
	[KP_RAFT_FETCH_SNAPSHOT_REQ] = KP_RN_SNAPSHOT, [KP_RAFT_FETCH_SNAPSHOT_RESP] = KP_RN_SNAPSHOT,
};

/* cluster_id_of - the ClusterId we send: null when the node checks none. */
static char *cluster_id_of(const struct kp_raft_node *c)
{
	return c->cfg.cluster_id[0] ? (char *)c->cfg.cluster_id : NULL;
}

/* ---- responses we receive ------------------------------------------------ */

/* note_grant - who granted us a vote in this epoch (LeaderChangeMessage.GrantingVoters). */
static void note_grant(struct kp_raft_node *c, const struct kp_raft_msg *m)
{
	if (m->epoch != c->granted_epoch) {
		c->granted_epoch = m->epoch;
		c->granted[0] = c->cfg.node_id;
		c->n_granted = 1;
	}
	for (int i = 0; i < c->n_granted; i++)
		if (c->granted[i] == m->from)
			return;
	if (c->n_granted < KP_RAFT_MAX_VOTERS)
		c->granted[c->n_granted++] = m->from;
	kp_mlog_set_granting(c->log, c->granted, c->n_granted);
}

/* parse_entries - the batches in `rec` as entries (malloc'd into *out); -1 when out of memory. */
static int parse_entries(const kp_bytes *rec, struct kp_raft_entry **out, size_t *n)
{
	struct kp_batch_header h;
	size_t count = 0, cap = 0;
	struct kp_raft_entry *e = NULL;

	for (size_t pos = 0; rec->len > 0 && pos + KP_BATCH_HEADER_SIZE <= (size_t)rec->len;) {
		if (kp_batch_header_parse(rec->data + pos, (size_t)rec->len - pos, &h, NULL) < 0)
			break;
		size_t size = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;

		if (h.batch_length < KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD ||
		    pos + size > (size_t)rec->len)
			break; /* a partial batch at the end is normal in a fetch */
		if (count == cap) {
			struct kp_raft_entry *p = realloc(e, (cap = cap ? 2 * cap : 16) * sizeof(*e));

			if (!p) {
				free(e);
				return -1;
			}
			e = p;
		}
		e[count++] = (struct kp_raft_entry){
			.offset = h.base_offset, .epoch = h.partition_leader_epoch,
			.count = h.last_offset_delta + 1, .control = (h.attributes & KP_BATCH_CONTROL) != 0,
			.data = rec->data + pos, .len = size,
		};
		pos += size;
	}
	*out = e;
	*n = count;
	return 0;
}

/* fetch_resp_msg - a FetchResponse's partition into `m` (entries malloc'd in *ents). */
static int fetch_resp_msg(const struct kp_rn_sent *p, const struct kp_fetch_response *r,
			  struct kp_raft_msg *m, struct kp_raft_entry **ents)
{
	if (r->error_code || r->responses_count != 1 || r->responses[0].partitions_count != 1)
		return -1;
	const struct kp_fetch_response_partition_data *d = &r->responses[0].partitions[0];
	size_t n = 0;

	m->error = d->error_code;
	m->epoch = d->current_leader.leader_epoch >= 0 ? d->current_leader.leader_epoch : p->epoch;
	m->leader_id = d->current_leader.leader_id;
	m->u.fetch_resp.high_watermark = d->high_watermark;
	m->u.fetch_resp.diverging_epoch = d->diverging_epoch.epoch;
	m->u.fetch_resp.diverging_end_offset = d->diverging_epoch.end_offset;
	m->u.fetch_resp.snapshot.end_offset = d->snapshot_id.end_offset;
	m->u.fetch_resp.snapshot.epoch = d->snapshot_id.epoch;
	if (parse_entries(&d->records, ents, &n) < 0)
		return -1;
	m->u.fetch_resp.entries = *ents;
	m->u.fetch_resp.n_entries = n;
	return 0;
}

/* partition_of - the single partition's error, leader and epoch of a Vote/Begin/End response. */
#define PARTITION_OF(r, m)                                                          \
	do {                                                                        \
		if ((r)->error_code || (r)->topics_count != 1 ||                    \
		    (r)->topics[0].partitions_count != 1)                           \
			return -1;                                                  \
		(m)->error = (r)->topics[0].partitions[0].error_code;              \
		(m)->leader_id = (r)->topics[0].partitions[0].leader_id;           \
		(m)->epoch = (r)->topics[0].partitions[0].leader_epoch;            \
	} while (0)

/* resp_msg - the response `resp` of `p`'s kind as a message (entries for Fetch in *ents). */
static int resp_msg(const struct kp_rn_sent *p, const void *resp, struct kp_raft_msg *m,
		    struct kp_raft_entry **ents)
{
	switch (p->kind) {
	case KP_RN_VOTE: {
		const struct kp_vote_response *r = resp;

		m->type = KP_RAFT_VOTE_RESP;
		PARTITION_OF(r, m);
		m->u.vote_resp.granted = r->topics[0].partitions[0].vote_granted;
		return 0;
	}
	case KP_RN_BEGIN:
		m->type = KP_RAFT_BEGIN_EPOCH_RESP;
		PARTITION_OF((const struct kp_begin_quorum_epoch_response *)resp, m);
		return 0;
	case KP_RN_END:
		m->type = KP_RAFT_END_EPOCH_RESP;
		PARTITION_OF((const struct kp_end_quorum_epoch_response *)resp, m);
		return 0;
	case KP_RN_SNAPSHOT:
		return kp_rn_fetch_snapshot_msg(p, resp, m);
	default:
		m->type = KP_RAFT_FETCH_RESP;
		return fetch_resp_msg(p, resp, m, ents);
	}
}

/* kp_rn_on_response - an outconn completion: the answer to the core (failures: it retries). */
void kp_rn_on_response(void *arg, const void *resp, const kp_error *err)
{
	struct kp_rn_sent *p = arg;
	struct kp_raft_node *c = p->node;
	struct kp_raft_msg m = { .from = p->id, .to = c->cfg.node_id, .corr = p->corr };
	struct kp_raft_entry *ents = NULL;

	if (!resp)
		kp_diag_debug("raft request to %d failed: %s", p->id, err->msg);
	else if (resp_msg(p, resp, &m, &ents) < 0)
		kp_diag_debug("unusable raft response (kind %d) from %d", p->kind, p->id);
	else if (!c->failed && c->raft) {
		if (m.type == KP_RAFT_VOTE_RESP && m.u.vote_resp.granted && !m.error)
			note_grant(c, &m);
		kp_rn_receive(c, &m);
	}
	free(ents);
	free(p);
}

/* ---- requests we send ----------------------------------------------------- */

/* self_endpoint - this voter's address from controller.quorum.voters (what it advertises). */
static const struct kp_raft_node_voter *self_endpoint(const struct kp_raft_node *c)
{
	static const struct kp_raft_node_voter unknown = { .id = -1 };
	int i = kp_rn_voter_index((struct kp_raft_node *)c, c->cfg.node_id);

	return i < 0 ? &unknown : &c->peers.v[i];
}

static int send_vote(struct kp_raft_node *c, kp_outconn *oc, struct kp_rn_sent *p,
		     const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_vote_request req;
	struct kp_vote_request_topic_data t;
	struct kp_vote_request_partition_data d;

	kp_vote_request_init(&req);
	kp_vote_request_topic_data_init(&t);
	kp_vote_request_partition_data_init(&d);
	d.candidate_epoch = m->epoch;
	d.candidate_id = m->from;
	d.last_offset_epoch = m->u.vote.last_epoch;
	d.last_offset = m->u.vote.end_offset;
	t.topic_name = (char *)KP_METADATA_TOPIC;
	t.partitions = &d;
	t.partitions_count = 1;
	req.cluster_id = cluster_id_of(c);
	req.voter_id = m->to;
	req.topics = &t;
	req.topics_count = 1;
	return kp_outconn_send(oc, KP_API_VOTE, VOTE_VERSION, &req, c->cfg.request_timeout_ms,
			       kp_rn_on_response, p, err);
}

static int send_begin(struct kp_raft_node *c, kp_outconn *oc, struct kp_rn_sent *p,
		      const struct kp_raft_msg *m, kp_error *err)
{
	const struct kp_raft_node_voter *self = self_endpoint(c);
	struct kp_begin_quorum_epoch_request req;
	struct kp_begin_quorum_epoch_request_topic_data t;
	struct kp_begin_quorum_epoch_request_partition_data d;
	struct kp_begin_quorum_epoch_request_leader_endpoint ep;

	kp_begin_quorum_epoch_request_init(&req);
	kp_begin_quorum_epoch_request_topic_data_init(&t);
	kp_begin_quorum_epoch_request_partition_data_init(&d);
	kp_begin_quorum_epoch_request_leader_endpoint_init(&ep);
	d.leader_id = m->from;
	d.leader_epoch = m->epoch;
	t.topic_name = (char *)KP_METADATA_TOPIC;
	t.partitions = &d;
	t.partitions_count = 1;
	ep.name = c->cfg.listener_name;
	ep.host = (char *)self->host;
	ep.port = (uint16_t)self->port;
	req.cluster_id = cluster_id_of(c);
	req.voter_id = m->to;
	req.topics = &t;
	req.topics_count = 1;
	req.leader_endpoints = &ep;
	req.leader_endpoints_count = 1;
	return kp_outconn_send(oc, KP_API_BEGIN_QUORUM_EPOCH, BEGIN_VERSION, &req,
			       c->cfg.request_timeout_ms, kp_rn_on_response, p, err);
}

static int send_end(struct kp_raft_node *c, kp_outconn *oc, struct kp_rn_sent *p,
		    const struct kp_raft_msg *m, kp_error *err)
{
	const struct kp_raft_node_voter *self = self_endpoint(c);
	struct kp_end_quorum_epoch_request req;
	struct kp_end_quorum_epoch_request_topic_data t;
	struct kp_end_quorum_epoch_request_partition_data d;
	struct kp_end_quorum_epoch_request_leader_endpoint ep;
	struct kp_end_quorum_epoch_request_replica_info cand[KP_RAFT_MAX_VOTERS];
	int32_t succ[KP_RAFT_MAX_VOTERS];
	int n = m->u.end_epoch.n_successors < KP_RAFT_MAX_VOTERS ? m->u.end_epoch.n_successors
								 : KP_RAFT_MAX_VOTERS;

	kp_end_quorum_epoch_request_init(&req);
	kp_end_quorum_epoch_request_topic_data_init(&t);
	kp_end_quorum_epoch_request_partition_data_init(&d);
	kp_end_quorum_epoch_request_leader_endpoint_init(&ep);
	for (int i = 0; i < n; i++) {
		kp_end_quorum_epoch_request_replica_info_init(&cand[i]);
		cand[i].candidate_id = succ[i] = m->u.end_epoch.successors[i];
	}
	d.leader_id = m->from;
	d.leader_epoch = m->epoch;
	d.preferred_successors = succ; /* v0 */
	d.preferred_successors_count = n;
	d.preferred_candidates = cand; /* v1 */
	d.preferred_candidates_count = n;
	t.topic_name = (char *)KP_METADATA_TOPIC;
	t.partitions = &d;
	t.partitions_count = 1;
	ep.name = c->cfg.listener_name;
	ep.host = (char *)self->host;
	ep.port = (uint16_t)self->port;
	req.cluster_id = cluster_id_of(c);
	req.topics = &t;
	req.topics_count = 1;
	req.leader_endpoints = &ep;
	req.leader_endpoints_count = 1;
	return kp_outconn_send(oc, KP_API_END_QUORUM_EPOCH, END_VERSION, &req,
			       c->cfg.request_timeout_ms, kp_rn_on_response, p, err);
}

static int send_fetch(struct kp_raft_node *c, kp_outconn *oc, struct kp_rn_sent *p,
		      const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_fetch_request req;
	struct kp_fetch_request_fetch_topic t;
	struct kp_fetch_request_fetch_partition d;

	kp_fetch_request_init(&req);
	kp_fetch_request_fetch_topic_init(&t);
	kp_fetch_request_fetch_partition_init(&d);
	d.partition = 0;
	d.current_leader_epoch = m->epoch;
	d.fetch_offset = m->u.fetch.fetch_offset;
	d.last_fetched_epoch = m->u.fetch.last_fetched_epoch;
	d.log_start_offset = -1;
	d.partition_max_bytes = 1 << 20;
	t.topic = (char *)KP_METADATA_TOPIC;
	t.topic_id = kp_metadata_topic_id;
	t.partitions = &d;
	t.partitions_count = 1;
	req.cluster_id = cluster_id_of(c);
	req.replica_id = m->from;
	req.replica_state.replica_id = m->from;
	req.max_wait_ms = KP_RN_FETCH_MAX_WAIT_MS;
	req.min_bytes = 0;
	req.max_bytes = 8 << 20;
	req.session_epoch = -1; /* no fetch session (FetchMetadata.FINAL_EPOCH) */
	req.topics = &t;
	req.topics_count = 1;
	return kp_outconn_send(oc, KP_API_FETCH, FETCH_VERSION, &req,
			       c->cfg.request_timeout_ms + KP_RN_FETCH_MAX_WAIT_MS, kp_rn_on_response, p, err);
}

/* send_request - a request message out on the connection of its peer and kind. */
static void send_request(struct kp_raft_node *c, const struct kp_raft_msg *m)
{
	int i = kp_rn_voter_index(c, m->to);
	enum kp_rn_kind k = kind_of[m->type];
	kp_error err;
	int rc;

	if (i < 0 || m->to == c->cfg.node_id || !kp_rn_outconn(c, i, k))
		return; /* not a voter we know: drop (the core retries) */
	struct kp_rn_sent *p = malloc(sizeof(*p));

	if (!p)
		return;
	*p = (struct kp_rn_sent){ c, m->to, k, m->epoch, m->corr };
	switch (m->type) {
	case KP_RAFT_VOTE_REQ:
		rc = send_vote(c, c->out[i][k], p, m, &err);
		break;
	case KP_RAFT_BEGIN_EPOCH_REQ:
		rc = send_begin(c, c->out[i][k], p, m, &err);
		break;
	case KP_RAFT_END_EPOCH_REQ:
		rc = send_end(c, c->out[i][k], p, m, &err);
		break;
	case KP_RAFT_FETCH_SNAPSHOT_REQ:
		rc = kp_rn_send_fetch_snapshot(c, c->out[i][k], p, m, &err);
		break;
	default:
		rc = send_fetch(c, c->out[i][k], p, m, &err);
		break;
	}
	if (rc < 0) {
		kp_diag_debug("cannot send to voter %d: %s", m->to, err.msg);
		free(p);
	}
}

/* ---- responses we send ---------------------------------------------------- */

/* partition_resp - a Vote/Begin/End response with one partition, in rq's arena. */
#define ONE_PARTITION_RESPONSE(rq, PFX, m, fill)                                       \
	do {                                                                           \
		struct PFX##_response *r_ = PFX##_response_new(&(rq)->arena, 1);        \
		struct PFX##_response_topic_data *t_ =                                 \
			PFX##_response_topic_data_new(&(rq)->arena, 1);                \
		struct PFX##_response_partition_data *d_ =                             \
			PFX##_response_partition_data_new(&(rq)->arena, 1);            \
		if (!r_ || !t_ || !d_)                                                 \
			return -1;                                                     \
		d_->error_code = (m)->error;                                           \
		d_->leader_id = (m)->leader_id;                                        \
		d_->leader_epoch = (m)->epoch;                                         \
		fill;                                                                  \
		t_->topic_name = (char *)KP_METADATA_TOPIC;                            \
		t_->partitions = d_;                                                   \
		t_->partitions_count = 1;                                              \
		r_->topics = t_;                                                       \
		r_->topics_count = 1;                                                  \
		kp_ctl_respond((rq), r_);                                              \
	} while (0)

/* records_of - the entries' batches concatenated in rq's arena. */
static int records_of(struct kp_ctl_request *rq, const struct kp_raft_msg *m, kp_bytes *out)
{
	kp_buf b;
	int rc = 0;

	kp_buf_init(&b);
	for (size_t i = 0; i < m->u.fetch_resp.n_entries && rc == 0; i++) {
		const struct kp_raft_entry *e = &m->u.fetch_resp.entries[i];

		if (e->data)
			kp_buf_append(&b, e->data, e->len);
		else
			rc = -1; /* entries read from the log always have their bytes */
	}
	out->len = (int32_t)b.len;
	out->data = b.len ? kp_arena_memdup(&rq->arena, b.data, b.len) : NULL;
	if (b.oom || (b.len && !out->data))
		rc = -1;
	kp_buf_free(&b);
	return rc;
}

static int respond_fetch(struct kp_ctl_request *rq, const struct kp_raft_msg *m)
{
	struct kp_fetch_response *r = kp_fetch_response_new(&rq->arena, 1);
	struct kp_fetch_response_fetchable_topic_response *t =
		kp_fetch_response_fetchable_topic_response_new(&rq->arena, 1);
	struct kp_fetch_response_partition_data *d = kp_fetch_response_partition_data_new(&rq->arena, 1);

	if (!r || !t || !d || records_of(rq, m, &d->records) < 0)
		return -1;
	d->error_code = m->error;
	d->high_watermark = m->u.fetch_resp.high_watermark;
	d->last_stable_offset = m->u.fetch_resp.high_watermark;
	d->log_start_offset = kp_mlog_log_start_offset(((struct kp_raft_node *)rq->owner)->log);
	d->current_leader.leader_id = m->leader_id;
	d->current_leader.leader_epoch = m->epoch;
	if (m->u.fetch_resp.diverging_epoch >= 0) {
		d->diverging_epoch.epoch = m->u.fetch_resp.diverging_epoch;
		d->diverging_epoch.end_offset = m->u.fetch_resp.diverging_end_offset;
	}
	if (m->u.fetch_resp.snapshot.end_offset >= 0) {
		d->snapshot_id.end_offset = m->u.fetch_resp.snapshot.end_offset;
		d->snapshot_id.epoch = m->u.fetch_resp.snapshot.epoch;
	}
	t->topic = (char *)KP_METADATA_TOPIC;
	t->topic_id = kp_metadata_topic_id;
	t->partitions = d;
	t->partitions_count = 1;
	r->responses = t;
	r->responses_count = 1;
	kp_ctl_respond(rq, r);
	return 0;
}

/* respond_msg - answer `rq` with the response message `m`; -1 (rq untouched) when out of memory. */
static int respond_msg(struct kp_ctl_request *rq, const struct kp_raft_msg *m)
{
	switch (rq->kind) {
	case KP_RN_VOTE:
		ONE_PARTITION_RESPONSE(rq, kp_vote, m, d_->vote_granted = m->u.vote_resp.granted);
		return 0;
	case KP_RN_BEGIN:
		ONE_PARTITION_RESPONSE(rq, kp_begin_quorum_epoch, m, (void)0);
		return 0;
	case KP_RN_END:
		ONE_PARTITION_RESPONSE(rq, kp_end_quorum_epoch, m, (void)0);
		return 0;
	case KP_RN_SNAPSHOT:
		return kp_rn_respond_fetch_snapshot(rq, m);
	default:
		return respond_fetch(rq, m);
	}
}

/* answer - respond_msg, or close the connection when even that fails. */
static void answer(struct kp_ctl_request *rq, const struct kp_raft_msg *m)
{
	if (respond_msg(rq, m) < 0) {
		kp_net_conn *conn = rq->conn;

		kp_ctl_request_free(rq);
		kp_net_conn_fail(conn, "out of memory for a raft response");
	}
}

/* answer_default - answer `rq` from the core's state (the core did not): no vote, no records. */
static void answer_default(struct kp_ctl_request *rq)
{
	const kp_raft *r = ((struct kp_raft_node *)rq->owner)->raft;
	struct kp_raft_msg m = {
		.from = ((struct kp_raft_node *)rq->owner)->cfg.node_id, .to = rq->from,
		.epoch = kp_raft_epoch(r), .leader_id = kp_raft_leader(r),
	};

	if (rq->kind == KP_RN_SNAPSHOT)
		m.error = kp_raft_role(r) == KP_RAFT_LEADER ? KP_ERR_SNAPSHOT_NOT_FOUND
							    : KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (rq->kind == KP_RN_FETCH) {
		m.error = kp_raft_role(r) == KP_RAFT_LEADER ? 0 : KP_ERR_NOT_LEADER_OR_FOLLOWER;
		m.u.fetch_resp.high_watermark = kp_raft_high_watermark(r);
		m.u.fetch_resp.diverging_epoch = -1;
		m.u.fetch_resp.snapshot.end_offset = -1;
	}
	answer(rq, &m);
}

/* slot_of - the pending slot of (from, kind), or -1. */
static int slot_of(const struct kp_raft_node *c, int32_t from, enum kp_rn_kind kind)
{
	for (int i = 0; i < KP_RN_MAX_PENDING; i++)
		if (c->pending[i] && c->pending[i]->from == from && c->pending[i]->kind == (int)kind)
			return i;
	return -1;
}

/* slot_of_corr - the pending slot of the request the core knows as `corr`, or -1. */
static int slot_of_corr(const struct kp_raft_node *c, uint64_t corr)
{
	for (int i = 0; i < KP_RN_MAX_PENDING; i++)
		if (c->pending[i] && c->pending[i]->corr == corr)
			return i;
	return -1;
}

void kp_rn_pending_add(struct kp_raft_node *c, struct kp_ctl_request *rq)
{
	int i = slot_of(c, rq->from, rq->kind);

	if (i >= 0) {
		struct kp_ctl_request *old = c->pending[i];

		c->pending[i] = NULL;
		answer_default(old); /* superseded by a newer request of the same peer */
	}
	for (i = 0; i < KP_RN_MAX_PENDING && c->pending[i]; i++)
		;
	rq->deadline = kp_rn_now() + (rq->kind == KP_RN_FETCH ? 2 * KP_RN_FETCH_MAX_WAIT_MS : 0);
	if (i == KP_RN_MAX_PENDING) {
		answer_default(rq);
		return;
	}
	c->pending[i] = rq;
}

void kp_rn_pending_flush(struct kp_raft_node *c, int32_t from, enum kp_rn_kind kind)
{
	int i = slot_of(c, from, kind);

	if (i >= 0) {
		struct kp_ctl_request *rq = c->pending[i];

		c->pending[i] = NULL;
		answer_default(rq);
	}
}

void kp_rn_expire_pending(struct kp_raft_node *c, int64_t now, bool all)
{
	for (int i = 0; i < KP_RN_MAX_PENDING; i++) {
		struct kp_ctl_request *rq = c->pending[i];

		if (rq && (all || rq->deadline <= now)) {
			c->pending[i] = NULL;
			answer_default(rq);
		}
	}
}

int64_t kp_rn_pending_deadline(const struct kp_raft_node *c)
{
	int64_t at = INT64_MAX;

	for (int i = 0; i < KP_RN_MAX_PENDING; i++)
		if (c->pending[i] && c->pending[i]->deadline < at)
			at = c->pending[i]->deadline;
	return at;
}

void kp_rn_send(void *opaque, const struct kp_raft_msg *m)
{
	struct kp_raft_node *c = opaque;

	if ((int)m->type < KP_RAFT_VOTE_REQ || (int)m->type > KP_RAFT_FETCH_SNAPSHOT_RESP)
		return;
	if (m->type == KP_RAFT_VOTE_REQ || m->type == KP_RAFT_BEGIN_EPOCH_REQ ||
	    m->type == KP_RAFT_END_EPOCH_REQ || m->type == KP_RAFT_FETCH_REQ ||
	    m->type == KP_RAFT_FETCH_SNAPSHOT_REQ) {
		send_request(c, m);
		return;
	}
	int i = slot_of_corr(c, m->corr);

	if (i < 0) {
		kp_diag_debug("raft response (type %d) to %d has no request waiting", m->type, m->to);
		return;
	}
	struct kp_ctl_request *rq = c->pending[i];

	c->pending[i] = NULL;
	answer(rq, m);
}
