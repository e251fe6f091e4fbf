/*
 * raft.c - the Raft core's roles and timers, and its public API.
 *
 * The roles and what moves between them (KIP-595; Kafka's QuorumState):
 *
 *                 election timeout               majority of votes
 *   Unattached ---------------------> Candidate ------------------> Leader
 *     ^  |  ^                          |   ^ |                        |
 *     |  |  | higher epoch, no leader  |   | | election timeout:    | check-quorum
 *     |  |  +--------------------------+   | | epoch + 1            | fails, or
 *     |  | BeginQuorumEpoch / a message    +-+                      | resign()
 *     |  v naming the leader                                        v
 *     | Follower --- fetch timeout (voters) -----> Candidate     Resigned
 *     |                                                             |
 *     +---------------- higher epoch ------------------------------+
 *
 * A message of a higher epoch always moves the replica to that epoch
 * first (as follower when it names a leader, else unattached); then the
 * handler for its type runs. The quorum state is saved before anything
 * that depends on it is sent. Observers (replicas not in the voter set)
 * are only ever unattached or followers.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

void kp_raft_config_init(struct kp_raft_config *cfg, int32_t node_id)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->node_id = node_id;
	cfg->election_timeout_ms = 1000;
	cfg->fetch_timeout_ms = 2000;
	cfg->election_backoff_max_ms = 1000;
	cfg->request_timeout_ms = 2000;
	cfg->retry_backoff_ms = 20;
	cfg->fetch_max_wait_ms = 500;
	cfg->fetch_max_entries = 64;
	cfg->snapshot_chunk_bytes = 262144;
	cfg->seed = 1;
}

int kp_raft__voter_index(const kp_raft *r, int32_t id)
{
	for (int i = 0; i < r->n_vs; i++)
		if (r->vs[i] == id)
			return i;
	return -1;
}

/* A uniform value in [lo, hi] from the replica's own PRNG (splitmix64). */
int64_t kp_raft__random(kp_raft *r, int64_t lo, int64_t hi)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(z % (uint64_t)(hi - lo + 1));
}

int kp_raft__save(kp_raft *r, kp_error *err)
{
	struct kp_raft_quorum_state st = { r->epoch, r->leader, r->voted };
	if (r->ops.save_state(r->ops.opaque, &st) < 0)
		return kp_error_set(err, KP_EIO, "cannot save the quorum state of epoch %d",
				    r->epoch);
	return 0;
}

void kp_raft__msg_init(kp_raft *r, struct kp_raft_msg *m, enum kp_raft_msg_type type, int32_t to)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->from = r->cfg.node_id;
	m->to = to;
	m->epoch = r->epoch;
	m->leader_id = r->leader;
}

void kp_raft__send(kp_raft *r, struct kp_raft_msg *m)
{
	r->ops.send(r->ops.opaque, m);
}

void kp_raft__notify_role(kp_raft *r)
{
	if (r->ops.on_role)
		r->ops.on_role(r->ops.opaque, r->role, r->epoch, r->leader);
}

static int64_t election_timeout(kp_raft *r)
{
	int64_t t = r->cfg.election_timeout_ms;
	return r->now + kp_raft__random(r, t, 2 * t);
}

/* Leaves the current role: forgets in-flight requests and parked fetches. */
static void leave_role(kp_raft *r)
{
	r->fetch_corr = 0;
	r->vote_corr = 0;
	r->snap_fetch.end_offset = -1;
	r->snap_position = 0;
	r->last_fetch_ok_ms = -1;
	r->next_fetch_ms = r->now;
	r->resend_ms = KP_RAFT_NEVER;
	memset(r->granted, 0, sizeof(r->granted));
	memset(r->answered, 0, sizeof(r->answered));
	kp_raft__reset_progress(r);
}

/*
 * A replica that moves to a new epoch without a leader keeps its election
 * timer running (only a granted vote or a live leader resets it, as in the
 * Raft paper): otherwise a voter whose log cannot win would, by standing
 * again and again, hold back everyone else's timers forever.
 */
int kp_raft__become_unattached(kp_raft *r, int32_t epoch, kp_error *err)
{
	bool keep = r->role != KP_RAFT_LEADER && r->election_deadline > r->now &&
		    r->election_deadline != KP_RAFT_NEVER;
	leave_role(r);
	if (epoch != r->epoch)
		r->voted = KP_RAFT_NO_ID;
	r->epoch = epoch;
	r->leader = KP_RAFT_NO_ID;
	r->role = KP_RAFT_UNATTACHED;
	if (!keep)
		r->election_deadline = election_timeout(r);
	if (kp_raft__save(r, err) < 0)
		return -1;
	kp_raft__notify_role(r);
	return 0;
}

int kp_raft__become_follower(kp_raft *r, int32_t epoch, int32_t leader, kp_error *err)
{
	leave_role(r);
	if (epoch != r->epoch)
		r->voted = KP_RAFT_NO_ID;
	r->epoch = epoch;
	r->leader = leader;
	r->role = KP_RAFT_FOLLOWER;
	r->election_deadline = r->now + r->cfg.fetch_timeout_ms;
	if (kp_raft__save(r, err) < 0)
		return -1;
	kp_raft__notify_role(r);
	return 0;
}

int kp_raft__become_candidate(kp_raft *r, kp_error *err)
{
	leave_role(r);
	r->epoch++;
	r->voted = r->cfg.node_id;
	r->leader = KP_RAFT_NO_ID;
	r->role = KP_RAFT_CANDIDATE;
	r->election_deadline = election_timeout(r);
	/* The only voter wins at once: its vote is saved with its leadership, in one
	 * write (a crash before it leaves the epoch unstarted, and no one else votes). */
	if (r->n_vs == 1)
		return kp_raft__become_leader(r, err);
	if (kp_raft__save(r, err) < 0)
		return -1;
	kp_raft__notify_role(r);
	r->granted[kp_raft__voter_index(r, r->cfg.node_id)] = true;
	kp_raft__send_votes(r, true);
	return 0;
}

/* KIP-996: ask for pre-votes for epoch + 1 without changing anything saved. */
int kp_raft__become_prospective(kp_raft *r, kp_error *err)
{
	leave_role(r);
	r->role = KP_RAFT_PROSPECTIVE;
	r->election_deadline = election_timeout(r);
	kp_raft__notify_role(r);
	r->granted[kp_raft__voter_index(r, r->cfg.node_id)] = true;
	kp_raft__send_votes(r, true);
	(void)err;
	return 0;
}

/* A voter whose timer expired stands: through pre-votes when configured.
 * A replica no longer in the voter set looks for the leader instead. */
int kp_raft__stand(kp_raft *r, kp_error *err)
{
	if (!r->voter)
		return kp_raft__become_unattached(r, r->epoch, err);
	if (r->cfg.pre_vote && r->n_vs > 1)
		return kp_raft__become_prospective(r, err);
	return kp_raft__become_candidate(r, err);
}

int kp_raft__become_leader(kp_raft *r, kp_error *err)
{
	struct kp_raft_entry e = { 0 };
	leave_role(r);
	r->role = KP_RAFT_LEADER;
	r->leader = r->cfg.node_id;
	r->election_deadline = KP_RAFT_NEVER;
	if (kp_raft__save(r, err) < 0)
		return -1;
	/* The LeaderChange control entry starts the epoch; the high
	 * watermark waits for it to reach a majority. */
	r->epoch_start_offset = r->ops.end_offset(r->ops.opaque);
	e.offset = r->epoch_start_offset;
	e.epoch = r->epoch;
	e.count = 1;
	e.control = true;
	if (r->ops.append(r->ops.opaque, &e, 1) < 0)
		return kp_error_set(err, KP_EIO, "cannot append the leader change of epoch %d",
				    r->epoch);
	for (int i = 0; i < r->n_vs; i++) {
		r->voters[i].last_fetch_ms = r->now; /* check-quorum counts from now */
		r->voters[i].last_caught_up_ms = -1;
	}
	kp_raft__notify_role(r);
	kp_raft__send_begin(r);
	kp_raft__update_hw(r);
	return 0;
}

int kp_raft__become_resigned(kp_raft *r, kp_error *err)
{
	leave_role(r);
	r->role = KP_RAFT_RESIGNED;
	r->election_deadline = election_timeout(r);
	kp_raft__notify_role(r);
	kp_raft__send_end(r);
	return 0;
}

/* The role a restarted replica resumes in, from its saved quorum state
 * (Kafka's QuorumState.initialize). */
static void resume(kp_raft *r, const struct kp_raft_quorum_state *st)
{
	r->epoch = st ? st->epoch : 0;
	r->leader = st ? st->leader_id : KP_RAFT_NO_ID;
	r->voted = st ? st->voted_id : KP_RAFT_NO_ID;
	r->election_deadline = election_timeout(r);
	if (r->leader == r->cfg.node_id) {
		r->role = KP_RAFT_RESIGNED;
	} else if (r->leader != KP_RAFT_NO_ID) {
		r->role = KP_RAFT_FOLLOWER;
		r->election_deadline = r->now + r->cfg.fetch_timeout_ms;
	} else {
		r->role = KP_RAFT_UNATTACHED;
	}
	if (r->voter && r->n_vs == 1) /* the only voter stands at once (KafkaRaftClient.initialize) */
		r->election_deadline = r->now;
}

kp_raft *kp_raft_new(const struct kp_raft_config *cfg, const struct kp_raft_ops *ops,
		     const struct kp_raft_quorum_state *st, int64_t now, kp_error *err)
{
	kp_raft *r;
	if (cfg->n_voters < 1 || cfg->n_voters > KP_RAFT_MAX_VOTERS || cfg->node_id < 0) {
		kp_error_set(err, KP_EINVAL, "a quorum needs 1 to %d voters and a node id >= 0",
			     KP_RAFT_MAX_VOTERS);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	r->cfg = *cfg;
	r->ops = *ops;
	memcpy(r->vs, cfg->voters, sizeof(r->vs[0]) * (size_t)cfg->n_voters);
	r->n_vs = cfg->n_voters;
	r->vs_offset = -1;
	kp_raft__refresh_voters(r);
	r->rng = cfg->seed ^ ((uint64_t)(uint32_t)cfg->node_id << 32);
	r->now = now;
	r->hw = -1;
	r->next_corr = 1;
	if (ops->snapshot_read && cfg->snapshot_chunk_bytes > 0 &&
	    !(r->chunk = malloc(cfg->snapshot_chunk_bytes))) {
		free(r);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	leave_role(r);
	resume(r, st);
	return r;
}

void kp_raft_free(kp_raft *r)
{
	if (r)
		free(r->chunk);
	free(r);
}

/*
 * A message from a higher epoch moves this replica into it; one of the
 * same epoch naming a leader we did not know makes us its follower (a
 * prospective voter already knows, and gave up on, the leader it had).
 */
static int observe_epoch(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	int32_t leader = m->leader_id;
	if (leader == r->cfg.node_id)
		leader = KP_RAFT_NO_ID;
	if (m->type == KP_RAFT_VOTE_REQ && m->u.vote.pre_vote)
		return 0; /* a pre-vote changes nothing (KIP-996) */
	if (m->epoch > r->epoch) {
		if (m->type == KP_RAFT_FETCH_REQ || m->type == KP_RAFT_FETCH_SNAPSHOT_REQ)
			return 0; /* answered UNKNOWN_LEADER_EPOCH; a fetcher names no leader */
		if (leader != KP_RAFT_NO_ID && m->type != KP_RAFT_VOTE_REQ)
			return kp_raft__become_follower(r, m->epoch, leader, err);
		return kp_raft__become_unattached(r, m->epoch, err);
	}
	if (m->epoch == r->epoch && leader != KP_RAFT_NO_ID && m->type != KP_RAFT_VOTE_REQ &&
	    m->type != KP_RAFT_FETCH_REQ && m->type != KP_RAFT_FETCH_SNAPSHOT_REQ &&
	    (r->role == KP_RAFT_UNATTACHED || r->role == KP_RAFT_CANDIDATE ||
	     (r->role == KP_RAFT_PROSPECTIVE && leader != r->leader)))
		return kp_raft__become_follower(r, m->epoch, leader, err);
	return 0;
}

int kp_raft_receive(kp_raft *r, const struct kp_raft_msg *m, int64_t now, kp_error *err)
{
	if (now > r->now)
		r->now = now;
	if (m->to != r->cfg.node_id || m->from == r->cfg.node_id || m->epoch < 0)
		return 0;
	if (observe_epoch(r, m, err) < 0)
		return -1;
	switch (m->type) {
	case KP_RAFT_VOTE_REQ: return kp_raft__on_vote_req(r, m, err);
	case KP_RAFT_VOTE_RESP: return kp_raft__on_vote_resp(r, m, err);
	case KP_RAFT_BEGIN_EPOCH_REQ: return kp_raft__on_begin_req(r, m, err);
	case KP_RAFT_BEGIN_EPOCH_RESP: kp_raft__on_begin_resp(r, m); return 0;
	case KP_RAFT_END_EPOCH_REQ: return kp_raft__on_end_req(r, m, err);
	case KP_RAFT_END_EPOCH_RESP: kp_raft__on_end_resp(r, m); return 0;
	case KP_RAFT_FETCH_REQ: return kp_raft__on_fetch_req(r, m, err);
	case KP_RAFT_FETCH_RESP: return kp_raft__on_fetch_resp(r, m, err);
	case KP_RAFT_FETCH_SNAPSHOT_REQ: return kp_raft__on_snapshot_req(r, m, err);
	case KP_RAFT_FETCH_SNAPSHOT_RESP: return kp_raft__on_snapshot_resp(r, m, err);
	}
	return 0;
}

/* The leader resigns when a majority of voters has not fetched for 1.5
 * fetch timeouts (check-quorum, KAFKA-15489). */
static bool quorum_lost(kp_raft *r)
{
	int64_t limit = r->now - r->cfg.fetch_timeout_ms * 3 / 2;
	int recent = 0;
	for (int i = 0; i < r->n_vs; i++)
		if (r->voters[i].id == r->cfg.node_id || r->voters[i].last_fetch_ms >= limit)
			recent++;
	return recent <= r->n_vs / 2;
}

static int tick_leader(kp_raft *r, kp_error *err)
{
	if (quorum_lost(r))
		return kp_raft__become_resigned(r, err);
	if (r->now >= r->resend_ms)
		kp_raft__send_begin(r);
	kp_raft__answer_parked(r, false);
	return 0;
}

int kp_raft_tick(kp_raft *r, int64_t now, kp_error *err)
{
	if (now > r->now)
		r->now = now;
	switch (r->role) {
	case KP_RAFT_LEADER:
		return tick_leader(r, err);
	case KP_RAFT_FOLLOWER:
		if (r->now >= r->election_deadline) {
			if (r->voter)
				return kp_raft__stand(r, err);
			return kp_raft__become_unattached(r, r->epoch, err);
		}
		kp_raft__send_fetch(r);
		return 0;
	case KP_RAFT_PROSPECTIVE:
		if (r->now >= r->election_deadline)
			return kp_raft__prospective_lost(r, err);
		if (r->now >= r->resend_ms)
			kp_raft__send_votes(r, false);
		return 0;
	case KP_RAFT_UNATTACHED:
		if (!r->voter) {
			kp_raft__send_fetch(r); /* an observer looks for the leader */
			return 0;
		}
		/* fall through */
	case KP_RAFT_CANDIDATE:
	case KP_RAFT_RESIGNED:
		if (r->now >= r->election_deadline)
			return kp_raft__stand(r, err);
		if (r->role == KP_RAFT_CANDIDATE && r->now >= r->resend_ms)
			kp_raft__send_votes(r, false);
		if (r->role == KP_RAFT_RESIGNED && r->now >= r->resend_ms)
			kp_raft__send_end(r);
		return 0;
	}
	return 0;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int64_t kp_raft_next_deadline(const kp_raft *r)
{
	int64_t t = KP_RAFT_NEVER;
	switch (r->role) {
	case KP_RAFT_LEADER:
		t = min64(r->resend_ms, r->now + r->cfg.fetch_timeout_ms / 4);
		for (int i = 0; i < r->n_vs; i++)
			if (r->voters[i].parked)
				t = min64(t, r->voters[i].parked_deadline);
		for (int i = 0; i < r->n_observers; i++)
			if (r->observers[i].parked)
				t = min64(t, r->observers[i].parked_deadline);
		return t;
	case KP_RAFT_FOLLOWER:
	case KP_RAFT_UNATTACHED:
		if (r->role == KP_RAFT_FOLLOWER || !r->voter) {
			int64_t f = r->fetch_corr ? r->fetch_sent_ms + r->cfg.request_timeout_ms
						  : r->next_fetch_ms;
			t = min64(t, f);
		}
		return r->voter || r->role == KP_RAFT_FOLLOWER ? min64(t, r->election_deadline) : t;
	case KP_RAFT_CANDIDATE:
	case KP_RAFT_RESIGNED:
	case KP_RAFT_PROSPECTIVE:
		return min64(r->election_deadline, r->resend_ms);
	}
	return t;
}

/* append_own - the leader appends `e` (its offset and epoch filled here) and lets the
 * high watermark and parked fetches see it. Returns its offset, or -1 with `err`. */
static int64_t append_own(kp_raft *r, struct kp_raft_entry *e, kp_error *err)
{
	e->offset = r->ops.end_offset(r->ops.opaque);
	e->epoch = r->epoch;
	if (r->ops.append(r->ops.opaque, e, 1) < 0) {
		kp_error_set(err, KP_EIO, "cannot append to the metadata log at offset %lld",
			     (long long)e->offset);
		return -1;
	}
	kp_raft__refresh_voters(r);
	kp_raft__update_hw(r);
	kp_raft__answer_parked(r, true);
	return e->offset;
}

int64_t kp_raft_propose(kp_raft *r, const uint8_t *data, size_t len, int32_t count,
			int64_t now, kp_error *err)
{
	struct kp_raft_entry e = { 0 };
	if (now > r->now)
		r->now = now;
	if (r->role != KP_RAFT_LEADER) {
		kp_error_kafka(err, KP_RAFT_ERR_NOT_LEADER, "node %d is not the leader",
			       r->cfg.node_id);
		return -1;
	}
	e.count = count > 0 ? count : 1;
	e.data = data;
	e.len = len;
	return append_own(r, &e, err);
}

void kp_raft_resign(kp_raft *r, int64_t now)
{
	if (now > r->now)
		r->now = now;
	if (r->role == KP_RAFT_LEADER)
		kp_raft__become_resigned(r, NULL);
}

enum kp_raft_role kp_raft_role(const kp_raft *r) { return r->role; }
int32_t kp_raft_epoch(const kp_raft *r) { return r->epoch; }
int32_t kp_raft_leader(const kp_raft *r) { return r->leader; }
int32_t kp_raft_voted(const kp_raft *r) { return r->voted; }
int64_t kp_raft_high_watermark(const kp_raft *r) { return r->hw; }
bool kp_raft_is_voter(const kp_raft *r) { return r->voter; }

static void describe_one(const struct kp_raft_progress *p, struct kp_raft_replica_state *out)
{
	out->id = p->id;
	out->log_end_offset = p->end_offset;
	out->last_fetch_ms = p->last_fetch_ms;
	out->last_caught_up_ms = p->last_caught_up_ms;
}

size_t kp_raft_describe(const kp_raft *r, struct kp_raft_replica_state *out, size_t max,
			size_t *n_voters)
{
	size_t n = 0;
	if (n_voters)
		*n_voters = 0;
	if (r->role != KP_RAFT_LEADER)
		return 0;
	for (int i = 0; i < r->n_vs; i++, n++) {
		if (n >= max)
			continue;
		describe_one(&r->voters[i], &out[n]);
		if (r->voters[i].id == r->cfg.node_id) {
			out[n].log_end_offset = r->ops.end_offset(r->ops.opaque);
			out[n].last_fetch_ms = out[n].last_caught_up_ms = r->now;
		}
	}
	if (n_voters)
		*n_voters = (size_t)r->n_vs;
	for (int i = 0; i < r->n_observers; i++, n++)
		if (n < max)
			describe_one(&r->observers[i], &out[n]);
	return n;
}

const char *kp_raft_role_name(enum kp_raft_role role)
{
	static const char *names[] = { "Unattached", "Follower", "Candidate", "Leader",
				       "Resigned", "Prospective" };
	return (unsigned)role < 6 ? names[role] : "Unknown";
}

/* The leader's progress of every replica, re-sorted into voters and
 * observers after the voter set changed (a replica keeps what it had). */
static void regroup_progress(kp_raft *r)
{
	struct kp_raft_progress old[KP_RAFT_MAX_VOTERS + KP_RAFT_MAX_OBSERVERS];
	int n = 0, n_voters = r->n_vs;
	for (int i = 0; i < KP_RAFT_MAX_VOTERS && r->voters[i].id >= 0; i++)
		old[n++] = r->voters[i];
	for (int i = 0; i < r->n_observers; i++)
		old[n++] = r->observers[i];
	r->n_observers = 0;
	for (int i = 0; i < KP_RAFT_MAX_VOTERS; i++) {
		struct kp_raft_progress *p = &r->voters[i];
		memset(p, 0, sizeof(*p));
		p->id = i < n_voters ? r->vs[i] : -1;
		p->end_offset = p->last_caught_up_ms = p->hw_sent = -1;
		p->last_fetch_ms = r->now; /* check-quorum counts a new voter from now */
		for (int k = 0; i < n_voters && k < n; k++)
			if (old[k].id == p->id)
				*p = old[k];
	}
	for (int k = 0; k < n; k++)
		if (kp_raft__voter_index(r, old[k].id) < 0 && old[k].id != r->cfg.node_id &&
		    r->n_observers < KP_RAFT_MAX_OBSERVERS)
			r->observers[r->n_observers++] = old[k];
}

void kp_raft__refresh_voters(kp_raft *r)
{
	int32_t ids[KP_RAFT_MAX_VOTERS];
	int n = 0;
	int64_t offset = -1;
	if (!r->ops.voters || !r->ops.voters(r->ops.opaque, ids, &n, &offset) || n < 1 ||
	    n > KP_RAFT_MAX_VOTERS) {
		n = r->cfg.n_voters;
		memcpy(ids, r->cfg.voters, sizeof(ids[0]) * (size_t)n);
		offset = -1;
	}
	if (n != r->n_vs || memcmp(ids, r->vs, sizeof(ids[0]) * (size_t)n) != 0) {
		memcpy(r->vs, ids, sizeof(ids[0]) * (size_t)n);
		r->n_vs = n;
		if (r->role == KP_RAFT_LEADER)
			regroup_progress(r);
	}
	r->vs_offset = offset;
	r->voter = kp_raft__voter_index(r, r->cfg.node_id) >= 0;
}

int kp_raft_voters(const kp_raft *r, int32_t *ids)
{
	memcpy(ids, r->vs, sizeof(ids[0]) * (size_t)r->n_vs);
	return r->n_vs;
}

/* Why the leader cannot change the voter set now: a Kafka error code, or 0. */
static int16_t change_refused(kp_raft *r)
{
	if (r->role != KP_RAFT_LEADER)
		return KP_RAFT_ERR_NOT_LEADER;
	if ((r->hw <= r->epoch_start_offset || r->vs_offset >= r->hw) && !r->cfg.bug_hasty_change)
		return KP_RAFT_ERR_REQUEST_TIMED_OUT; /* own epoch or last change uncommitted */
	return 0;
}

/* Appends the VotersRecord entry of the set `ids` (n voters). */
static int64_t append_voters(kp_raft *r, const int32_t *ids, int n, kp_error *err)
{
	struct kp_raft_entry e = { 0 };
	e.count = 1;
	e.control = true;
	e.voters = ids;
	e.n_voters = n;
	return append_own(r, &e, err);
}

int64_t kp_raft_add_voter(kp_raft *r, int32_t id, int64_t now, kp_error *err)
{
	int32_t ids[KP_RAFT_MAX_VOTERS];
	struct kp_raft_progress *p;
	int16_t code;
	if (now > r->now)
		r->now = now;
	if ((code = change_refused(r)))
		return kp_error_kafka(err, code, "cannot add voter %d now", id);
	if (kp_raft__voter_index(r, id) >= 0)
		return kp_error_kafka(err, KP_RAFT_ERR_DUPLICATE_VOTER, "%d is a voter", id);
	if (r->n_vs == KP_RAFT_MAX_VOTERS)
		return kp_error_kafka(err, KP_RAFT_ERR_INVALID_REQUEST, "%d voters at most",
				      KP_RAFT_MAX_VOTERS);
	p = kp_raft__progress(r, id, false);
	if (!p || p->end_offset < r->hw || p->last_fetch_ms < r->now - r->cfg.fetch_timeout_ms)
		return kp_error_kafka(err, KP_RAFT_ERR_REQUEST_TIMED_OUT,
				      "replica %d has not caught up", id);
	memcpy(ids, r->vs, sizeof(ids[0]) * (size_t)r->n_vs);
	ids[r->n_vs] = id;
	return append_voters(r, ids, r->n_vs + 1, err);
}

int64_t kp_raft_remove_voter(kp_raft *r, int32_t id, int64_t now, kp_error *err)
{
	int32_t ids[KP_RAFT_MAX_VOTERS];
	int n = 0;
	int16_t code;
	if (now > r->now)
		r->now = now;
	if ((code = change_refused(r)))
		return kp_error_kafka(err, code, "cannot remove voter %d now", id);
	if (kp_raft__voter_index(r, id) < 0)
		return kp_error_kafka(err, KP_RAFT_ERR_VOTER_NOT_FOUND, "%d is not a voter", id);
	if (id == r->cfg.node_id)
		return kp_error_kafka(err, KP_RAFT_ERR_INVALID_REQUEST,
				      "the leader cannot remove itself: resign first");
	if (r->n_vs == 1)
		return kp_error_kafka(err, KP_RAFT_ERR_INVALID_REQUEST, "cannot remove the last voter");
	for (int i = 0; i < r->n_vs; i++)
		if (r->vs[i] != id)
			ids[n++] = r->vs[i];
	return append_voters(r, ids, n, err);
}
