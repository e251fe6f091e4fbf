/*
 * raft_internal.h - the Raft core's state, shared by raft.c (roles,
 * timers, the public API), raft_vote.c (elections: Vote, BeginQuorumEpoch,
 * EndQuorumEpoch) and raft_fetch.c (replication: Fetch, the high
 * watermark). Not installed.
 */
#ifndef KP_RAFT_RAFT_INTERNAL_H
#define KP_RAFT_RAFT_INTERNAL_H

#include "raft/raft.h"

#define KP_RAFT_MAX_OBSERVERS 64
#define KP_RAFT_NEVER INT64_MAX

/* Kafka error codes the core uses (protocol guide, "Error Codes"). */
#define KP_RAFT_ERR_NOT_LEADER 6
#define KP_RAFT_ERR_FENCED_LEADER_EPOCH 74
#define KP_RAFT_ERR_UNKNOWN_LEADER_EPOCH 75
#define KP_RAFT_ERR_INCONSISTENT_VOTER_SET 94
#define KP_RAFT_ERR_SNAPSHOT_NOT_FOUND 98
#define KP_RAFT_ERR_REQUEST_TIMED_OUT 7
#define KP_RAFT_ERR_INVALID_REQUEST 42
#define KP_RAFT_ERR_DUPLICATE_VOTER 126
#define KP_RAFT_ERR_VOTER_NOT_FOUND 127

/* What the leader knows of one replica that fetches from it. */
struct kp_raft_progress {
	int32_t id;
	int64_t end_offset;       /* its last validated fetch offset, -1 if none */
	int64_t last_fetch_ms;    /* -1 if none in this epoch */
	int64_t last_caught_up_ms;
	bool acked;               /* acknowledged BeginQuorumEpoch or fetched */
	int64_t hw_sent;          /* the high watermark in our last answer to it */
	bool parked;              /* holds a fetch waiting for data */
	uint64_t parked_corr;
	int64_t parked_offset;
	int64_t parked_deadline;
};

struct kp_raft {
	struct kp_raft_config cfg;
	struct kp_raft_ops ops;
	int32_t vs[KP_RAFT_MAX_VOTERS]; /* the voter set: the log's latest VotersRecord, */
	int n_vs;                       /* else cfg.voters (KIP-853) */
	int64_t vs_offset;              /* the VotersRecord's offset, -1 for cfg.voters */
	bool voter;                     /* node_id is in vs */
	enum kp_raft_role role;
	int32_t epoch, leader, voted;
	int64_t hw;                /* -1 while unknown */
	uint64_t rng;
	uint64_t next_corr;
	int64_t now;

	/* unattached, candidate, resigned: when to stand for election;
	 * follower: the fetch timeout. */
	int64_t election_deadline;

	/* follower / observer: the fetch in flight */
	uint64_t fetch_corr;       /* 0: none */
	int64_t fetch_sent_ms;
	int64_t next_fetch_ms;     /* when to send the next one */
	int32_t fetch_target;      /* whom the in-flight fetch went to */
	struct kp_raft_snapshot_id snap_fetch; /* being fetched (end_offset -1: none) */
	int64_t snap_position;     /* its bytes received so far */
	uint8_t *chunk;            /* leader: a FetchSnapshot response's bytes */

	/* candidate: votes; resigned: EndQuorumEpoch acks; leader: unused */
	bool granted[KP_RAFT_MAX_VOTERS];
	bool answered[KP_RAFT_MAX_VOTERS];
	uint64_t vote_corr;
	int64_t resend_ms;         /* candidate / resigned / leader: next resend */
	int64_t last_fetch_ok_ms;  /* follower: last successful fetch (-1: none in this role) */

	/* leader */
	int64_t epoch_start_offset;
	struct kp_raft_progress voters[KP_RAFT_MAX_VOTERS];
	struct kp_raft_progress observers[KP_RAFT_MAX_OBSERVERS];
	int n_observers;
};

/* raft.c */
void kp_raft__refresh_voters(kp_raft *r);
int kp_raft__voter_index(const kp_raft *r, int32_t id);
int64_t kp_raft__random(kp_raft *r, int64_t lo, int64_t hi);
int kp_raft__save(kp_raft *r, kp_error *err);
void kp_raft__send(kp_raft *r, struct kp_raft_msg *m);
void kp_raft__msg_init(kp_raft *r, struct kp_raft_msg *m, enum kp_raft_msg_type type,
		       int32_t to);
void kp_raft__notify_role(kp_raft *r);
int kp_raft__become_unattached(kp_raft *r, int32_t epoch, kp_error *err);
int kp_raft__become_follower(kp_raft *r, int32_t epoch, int32_t leader, kp_error *err);
int kp_raft__become_candidate(kp_raft *r, kp_error *err);
int kp_raft__become_prospective(kp_raft *r, kp_error *err);
int kp_raft__stand(kp_raft *r, kp_error *err);
int kp_raft__become_leader(kp_raft *r, kp_error *err);
int kp_raft__become_resigned(kp_raft *r, kp_error *err);

/* raft_vote.c */
int kp_raft__on_vote_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
int kp_raft__on_vote_resp(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
int kp_raft__prospective_lost(kp_raft *r, kp_error *err);
int kp_raft__on_begin_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
void kp_raft__on_begin_resp(kp_raft *r, const struct kp_raft_msg *m);
int kp_raft__on_end_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
void kp_raft__on_end_resp(kp_raft *r, const struct kp_raft_msg *m);
void kp_raft__send_votes(kp_raft *r, bool all);
void kp_raft__send_begin(kp_raft *r);
void kp_raft__send_end(kp_raft *r);

/* raft_fetch.c */
int kp_raft__on_fetch_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
int kp_raft__on_fetch_resp(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
void kp_raft__fetch_resp_init(kp_raft *r, struct kp_raft_msg *m, const struct kp_raft_msg *req);
bool kp_raft__fetch_refused(kp_raft *r, const struct kp_raft_msg *m);

/* raft_snapshot.c */
bool kp_raft__needs_snapshot(kp_raft *r, const struct kp_raft_msg *m);
int kp_raft__on_snapshot_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
int kp_raft__on_snapshot_resp(kp_raft *r, const struct kp_raft_msg *m, kp_error *err);
void kp_raft__send_snapshot_fetch(kp_raft *r);
void kp_raft__send_fetch(kp_raft *r);
void kp_raft__update_hw(kp_raft *r);
void kp_raft__answer_parked(kp_raft *r, bool all);
void kp_raft__reset_progress(kp_raft *r);
struct kp_raft_progress *kp_raft__progress(kp_raft *r, int32_t id, bool create);

#endif
