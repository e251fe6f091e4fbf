/*
 * raft_node_voters.c - AddRaftVoter and RemoveRaftVoter (KIP-853) on the
 * controller listener: the leader appends the new voter set
 * (kp_raft_add_voter / kp_raft_remove_voter, one change at a time) and
 * answers once that VotersRecord is committed, as KafkaRaftClient's
 * AddVoterHandler / RemoveVoterHandler do. Voters are ids here: the
 * requests' directory ids are ignored.
 */
#include <stdio.h>
#include <string.h>

#include "controller/raft_node_internal.h"
#include "protocol/errors.h"
#include "util/diag.h"

/* answer - the response (same shape for both APIs) with `code` and `msg` (may be NULL). */
static int answer(struct kp_ctl_request *rq, int16_t code, const char *msg)
{
	struct kp_add_raft_voter_response *r;

	if (rq->api_key == KP_API_ADD_RAFT_VOTER) {
		r = kp_add_raft_voter_response_new(&rq->arena, 1);
	} else { /* RemoveRaftVoterResponse has the same fields */
		struct kp_remove_raft_voter_response *rr =
			kp_remove_raft_voter_response_new(&rq->arena, 1);

		if (!rr)
			return -1;
		rr->error_code = code;
		rr->error_message = msg ? kp_arena_memdup(&rq->arena, msg, strlen(msg) + 1) : NULL;
		kp_ctl_respond(rq, rr);
		return 0;
	}
	if (!r)
		return -1;
	r->error_code = code;
	r->error_message = msg ? kp_arena_memdup(&rq->arena, msg, strlen(msg) + 1) : NULL;
	kp_ctl_respond(rq, r);
	return 0;
}

/* learn_listener - the new voter's endpoint from AddRaftVoter's Listeners (ours by name). */
static void learn_listener(struct kp_raft_node *n, const struct kp_add_raft_voter_request *req)
{
	const struct kp_add_raft_voter_request_listener *l = NULL;
	struct kp_raft_node_voter v = { .id = req->voter_id };

	for (int i = 0; i < req->listeners_count; i++)
		if (!l || (req->listeners[i].name &&
			   strcmp(req->listeners[i].name, n->cfg.listener_name) == 0))
			l = &req->listeners[i];
	if (!l || !l->host)
		return;
	snprintf(v.host, sizeof(v.host), "%s", l->host);
	v.port = l->port;
	kp_rn_learn(n, &v);
}

/* change - ask the core; the offset of the new VotersRecord, or -1 with err. */
static int64_t change(struct kp_raft_node *n, struct kp_ctl_request *rq, int32_t *id,
		      kp_error *err)
{
	if (rq->api_key == KP_API_ADD_RAFT_VOTER) {
		const struct kp_add_raft_voter_request *req = rq->body;

		*id = req->voter_id;
		learn_listener(n, req);
		return kp_raft_add_voter(n->raft, req->voter_id, kp_rn_now(), err);
	}
	const struct kp_remove_raft_voter_request *req = rq->body;

	*id = req->voter_id;
	return kp_raft_remove_voter(n->raft, req->voter_id, kp_rn_now(), err);
}

int kp_rn_voters_handle(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err)
{
	const char *cluster = rq->api_key == KP_API_ADD_RAFT_VOTER
				      ? ((struct kp_add_raft_voter_request *)rq->body)->cluster_id
				      : ((struct kp_remove_raft_voter_request *)rq->body)->cluster_id;
	int32_t id = -1;
	kp_error why;
	int64_t off;

	if (cluster && n->cfg.cluster_id[0] && strcmp(cluster, n->cfg.cluster_id) != 0)
		return answer(rq, KP_ERR_INCONSISTENT_CLUSTER_ID, NULL) < 0
			       ? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
	if (n->failed || n->change)
		off = kp_error_kafka(&why, KP_ERR_REQUEST_TIMED_OUT, "a voter change is in progress");
	else
		off = change(n, rq, &id, &why);
	if (off < 0 && why.code != KP_EKAFKA) {
		kp_rn_fail(n, &why);
		kp_error_kafka(&why, KP_ERR_UNKNOWN_SERVER_ERROR, "%s", n->fatal.msg);
	}
	if (off < 0) {
		kp_diag_info("raft: %s voter %d refused: %s",
			     rq->api_key == KP_API_ADD_RAFT_VOTER ? "adding" : "removing", id, why.msg);
		return answer(rq, (int16_t)why.kafka_code, why.msg) < 0
			       ? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
	}
	kp_diag_info("raft: %s voter %d: VotersRecord at offset %lld",
		     rq->api_key == KP_API_ADD_RAFT_VOTER ? "adding" : "removing", id,
		     (long long)off);
	n->change = rq;
	n->change_offset = off;
	n->change_epoch = kp_raft_epoch(n->raft);
	kp_rn_after_core(n);
	return 0;
}

void kp_rn_voters_progress(struct kp_raft_node *n)
{
	struct kp_ctl_request *rq = n->change;
	int64_t hw = kp_raft_high_watermark(n->raft);

	if (!rq)
		return;
	if (hw > n->change_offset && kp_raft_epoch(n->raft) == n->change_epoch) {
		n->change = NULL;
		if (answer(rq, 0, NULL) < 0)
			kp_ctl_request_free(rq);
	} else if (kp_raft_role(n->raft) != KP_RAFT_LEADER ||
		   kp_raft_epoch(n->raft) != n->change_epoch) {
		n->change = NULL;
		if (answer(rq, KP_ERR_NOT_LEADER_OR_FOLLOWER, "leadership changed first") < 0)
			kp_ctl_request_free(rq);
	}
}
