/*
 * raft_vote.c - elections: Vote, BeginQuorumEpoch and EndQuorumEpoch
 * (KIP-595; Kafka's KafkaRaftClient.handleVoteRequest and friends).
 *
 *   candidate                 voter                    leader
 *      | Vote(epoch, last_epoch, end_offset) |            |
 *      |------------------------------------>| grant once |
 *      |<------------------- granted --------| per epoch  |
 *   majority -> leader: LeaderChange entry, BeginQuorumEpoch to all ---->
 *   resign(): EndQuorumEpoch(successors) --> followers elect sooner
 *
 * A vote is granted at most once per epoch (the vote is saved before the
 * answer is sent) and only to a candidate whose log is at least as up to
 * date as ours: a larger last epoch, or the same one and an end offset at
 * least ours. That is what makes every elected leader hold every
 * committed entry (leader completeness).
 */
#include <string.h>

#include "raft/raft_internal.h"

static bool log_up_to_date(kp_raft *r, const struct kp_raft_msg *m)
{
	int32_t last = r->ops.last_epoch(r->ops.opaque);
	int64_t end = r->ops.end_offset(r->ops.opaque);
	if (m->u.vote.last_epoch != last)
		return m->u.vote.last_epoch > last;
	return m->u.vote.end_offset >= end;
}

static bool may_vote(kp_raft *r, const struct kp_raft_msg *m)
{
	bool unvoted = (r->role == KP_RAFT_UNATTACHED || r->role == KP_RAFT_PROSPECTIVE) &&
		       (r->voted == KP_RAFT_NO_ID || r->voted == m->from);
	if (r->cfg.bug_double_vote)
		unvoted = r->role == KP_RAFT_UNATTACHED || r->role == KP_RAFT_CANDIDATE;
	/* Membership is the candidate's business: it counts only the voters of
	 * its own set. A candidate need not be in ours (ours may be behind),
	 * and we vote even if our newest set left us out: that removal may
	 * not be committed, and the old set may need our vote to elect the
	 * leader that commits it. The log still has to be up to date. */
	if (m->epoch != r->epoch)
		return false;
	return unvoted && (r->cfg.bug_stale_vote || log_up_to_date(r, m));
}

/*
 * A pre-vote (KIP-996) is granted, changing nothing here, to a voter whose
 * log is up to date for an epoch above ours, unless we lead or fetched
 * from a live leader within the fetch timeout (Kafka's canGrantPreVote).
 */
static int on_pre_vote_req(kp_raft *r, const struct kp_raft_msg *m)
{
	struct kp_raft_msg out;
	bool live_leader = r->role == KP_RAFT_LEADER ||
			   (r->role == KP_RAFT_FOLLOWER && r->last_fetch_ok_ms >= 0 &&
			    r->now - r->last_fetch_ok_ms < r->cfg.fetch_timeout_ms);
	kp_raft__msg_init(r, &out, KP_RAFT_VOTE_RESP, m->from);
	out.corr = m->corr;
	out.u.vote_resp.pre_vote = true;
	out.u.vote_resp.granted = m->epoch > r->epoch && !live_leader &&
				  (r->cfg.bug_stale_vote || log_up_to_date(r, m));
	kp_raft__send(r, &out);
	return 0;
}

int kp_raft__on_vote_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_raft_msg out;
	bool grant;
	if (m->u.vote.pre_vote)
		return on_pre_vote_req(r, m);
	grant = may_vote(r, m);
	if (grant && r->voted != m->from) {
		bool moved = r->role != KP_RAFT_UNATTACHED; /* prospective, or bug_double_vote */
		r->role = KP_RAFT_UNATTACHED;
		r->voted = m->from;
		if (kp_raft__save(r, err) < 0)
			return -1;
		if (moved)
			kp_raft__notify_role(r);
	}
	if (grant)
		r->election_deadline = r->now + kp_raft__random(r, r->cfg.election_timeout_ms,
							       2 * r->cfg.election_timeout_ms);
	kp_raft__msg_init(r, &out, KP_RAFT_VOTE_RESP, m->from);
	out.corr = m->corr;
	out.u.vote_resp.granted = grant;
	if (m->epoch < r->epoch)
		out.error = KP_RAFT_ERR_FENCED_LEADER_EPOCH;
	kp_raft__send(r, &out);
	return 0;
}

/* How many voters are marked in `set`; *size gets the number of voters. */
static int granted_count(const kp_raft *r, const bool *set, int *size)
{
	int n = 0;
	*size = r->n_vs;
	for (int i = 0; i < *size; i++)
		n += set[i];
	return n;
}

/* A prospective voter that did not get a majority of pre-votes goes back
 * to following the leader it knew, if any. */
int kp_raft__prospective_lost(kp_raft *r, kp_error *err)
{
	if (r->leader != KP_RAFT_NO_ID)
		return kp_raft__become_follower(r, r->epoch, r->leader, err);
	return kp_raft__become_unattached(r, r->epoch, err);
}

int kp_raft__on_vote_resp(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	int i = kp_raft__voter_index(r, m->from);
	bool pre = m->u.vote_resp.pre_vote;
	if (r->role != (pre ? KP_RAFT_PROSPECTIVE : KP_RAFT_CANDIDATE) || i < 0 ||
	    m->corr != r->vote_corr || (!pre && m->epoch != r->epoch))
		return 0;
	int n, yes, refused;
	r->answered[i] = true;
	if (m->u.vote_resp.granted && !m->error)
		r->granted[i] = true;
	/* A pre-vote refused in an older epoch than ours, for a leader we can
	 * never follow (our epoch went up in an election that failed): only a
	 * real election brings us back, as a push-based Raft leader would
	 * learn our epoch from its AppendEntries reply and step down. */
	if (pre && m->epoch < r->epoch)
		r->granted[i] = true;
	yes = granted_count(r, r->granted, &n);
	refused = granted_count(r, r->answered, &n) - yes;
	if (yes > n / 2)
		return pre ? kp_raft__become_candidate(r, err) : kp_raft__become_leader(r, err);
	if (pre && refused >= (n + 1) / 2)
		return kp_raft__prospective_lost(r, err);
	if (refused >= (n + 1) / 2) {
		/* lost: back off before standing again (Kafka's election backoff) */
		int64_t t = r->now + kp_raft__random(r, 0, r->cfg.election_backoff_max_ms);
		if (t < r->election_deadline)
			r->election_deadline = t;
	}
	return 0;
}

/* Vote to every voter that has not answered (all: to every one). */
void kp_raft__send_votes(kp_raft *r, bool all)
{
	struct kp_raft_msg m;
	if (all || !r->vote_corr)
		r->vote_corr = r->next_corr++;
	for (int i = 0; i < r->n_vs; i++) {
		if (r->vs[i] == r->cfg.node_id || r->answered[i])
			continue;
		kp_raft__msg_init(r, &m, KP_RAFT_VOTE_REQ, r->vs[i]);
		m.corr = r->vote_corr;
		m.leader_id = KP_RAFT_NO_ID;
		if (r->role == KP_RAFT_PROSPECTIVE) {
			m.epoch = r->epoch + 1; /* the epoch it would stand in */
			m.u.vote.pre_vote = true;
		}
		m.u.vote.last_epoch = r->ops.last_epoch(r->ops.opaque);
		m.u.vote.end_offset = r->ops.end_offset(r->ops.opaque);
		kp_raft__send(r, &m);
	}
	r->resend_ms = r->now + r->cfg.request_timeout_ms;
}

int kp_raft__on_begin_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_raft_msg out;
	/* observe_epoch has made us m->from's follower if the epoch is ours */
	kp_raft__msg_init(r, &out, KP_RAFT_BEGIN_EPOCH_RESP, m->from);
	out.corr = m->corr;
	if (m->epoch < r->epoch)
		out.error = KP_RAFT_ERR_FENCED_LEADER_EPOCH;
	else if (r->role == KP_RAFT_FOLLOWER && r->leader == m->from)
		r->election_deadline = r->now + r->cfg.fetch_timeout_ms;
	else
		out.error = KP_RAFT_ERR_NOT_LEADER; /* we know another leader: cannot happen */
	kp_raft__send(r, &out);
	(void)err;
	return 0;
}

void kp_raft__on_begin_resp(kp_raft *r, const struct kp_raft_msg *m)
{
	struct kp_raft_progress *p;
	if (r->role != KP_RAFT_LEADER || m->epoch != r->epoch || m->error)
		return;
	p = kp_raft__progress(r, m->from, false);
	if (p && kp_raft__voter_index(r, m->from) >= 0)
		p->acked = true;
}

/* BeginQuorumEpoch to each voter that has neither acknowledged nor fetched. */
void kp_raft__send_begin(kp_raft *r)
{
	struct kp_raft_msg m;
	for (int i = 0; i < r->n_vs; i++) {
		if (r->voters[i].id == r->cfg.node_id || r->voters[i].acked)
			continue;
		kp_raft__msg_init(r, &m, KP_RAFT_BEGIN_EPOCH_REQ, r->voters[i].id);
		m.corr = r->next_corr++;
		kp_raft__send(r, &m);
	}
	r->resend_ms = r->now + r->cfg.request_timeout_ms;
}

/* Our place among the successors a resigning leader named, or n. */
static int successor_rank(const kp_raft *r, const struct kp_raft_msg *m)
{
	int n = m->u.end_epoch.n_successors;
	if (n < 0 || n > KP_RAFT_MAX_VOTERS)
		return KP_RAFT_MAX_VOTERS;
	for (int i = 0; i < n; i++)
		if (m->u.end_epoch.successors[i] == r->cfg.node_id)
			return i;
	return n;
}

int kp_raft__on_end_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_raft_msg out;
	kp_raft__msg_init(r, &out, KP_RAFT_END_EPOCH_RESP, m->from);
	out.corr = m->corr;
	if (m->epoch < r->epoch) {
		out.error = KP_RAFT_ERR_FENCED_LEADER_EPOCH;
	} else if (r->voter && r->role != KP_RAFT_LEADER && r->role != KP_RAFT_RESIGNED &&
		   (r->leader == m->from || r->leader == KP_RAFT_NO_ID)) {
		/* the leader left: stand soon, the best placed successor first */
		int rank = successor_rank(r, m);
		int64_t step = r->cfg.election_backoff_max_ms / (r->n_vs + 1);
		int64_t t = r->now + step * rank + kp_raft__random(r, 0, step);
		if (r->role == KP_RAFT_FOLLOWER &&
		    kp_raft__become_unattached(r, r->epoch, err) < 0)
			return -1;
		if (t < r->election_deadline)
			r->election_deadline = t;
	}
	kp_raft__send(r, &out);
	return 0;
}

void kp_raft__on_end_resp(kp_raft *r, const struct kp_raft_msg *m)
{
	int i = kp_raft__voter_index(r, m->from);
	if (r->role == KP_RAFT_RESIGNED && m->epoch == r->epoch && i >= 0)
		r->answered[i] = true;
}

/* EndQuorumEpoch to the voters that have not answered, naming the others
 * as successors in voter order. */
void kp_raft__send_end(kp_raft *r)
{
	struct kp_raft_msg m;
	int32_t succ[KP_RAFT_MAX_VOTERS];
	int n = 0;
	for (int i = 0; i < r->n_vs; i++)
		if (r->vs[i] != r->cfg.node_id)
			succ[n++] = r->vs[i];
	for (int i = 0; i < r->n_vs; i++) {
		if (r->vs[i] == r->cfg.node_id || r->answered[i])
			continue;
		kp_raft__msg_init(r, &m, KP_RAFT_END_EPOCH_REQ, r->vs[i]);
		m.corr = r->next_corr++;
		memcpy(m.u.end_epoch.successors, succ, sizeof(succ[0]) * (size_t)n);
		m.u.end_epoch.n_successors = n;
		kp_raft__send(r, &m);
	}
	r->resend_ms = r->now + r->cfg.request_timeout_ms;
}
