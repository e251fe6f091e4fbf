/*
 * raft_node_internal.h - what the Raft node's files share (raft_node.c:
 * lifecycle, the core's ops, applying committed records, proposing;
 * raft_node_serve.c: requests other replicas send; raft_io.c: Kafka's
 * Raft RPCs to and from kp_raft_msg). Not installed.
 *
 * Requests from other replicas wait in `pending` (one per peer and kind)
 * between kp_raft_receive and the core's answer through ops->send; a
 * Fetch may wait there up to the leader's long poll.
 */
#ifndef KP_CONTROLLER_RAFT_NODE_INTERNAL_H
#define KP_CONTROLLER_RAFT_NODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "controller/metadata_log.h"
#include "controller/raft_node.h"
#include "controller/request.h"
#include "net/outconn.h"
#include "raft/raft.h"

struct event;

#define KP_RN_MAX_PENDING 64
#define KP_RN_FETCH_MAX_WAIT_MS 500 /* the leader's long poll (kp_raft_config.fetch_max_wait_ms) */

enum kp_rn_kind { KP_RN_VOTE, KP_RN_BEGIN, KP_RN_END, KP_RN_FETCH, KP_RN_KINDS };

struct kp_raft_node {
	struct kp_raft_node_config cfg;
	struct kp_raft_node_callbacks cb;
	struct event_base *base;
	kp_mlog *log;
	kp_raft *raft;
	kp_outconn *out[KP_RAFT_MAX_VOTERS][KP_RN_KINDS]; /* per voter, one per RPC kind */
	uint64_t next_corr;  /* ids of requests received, for kp_raft_msg.corr */
	struct kp_ctl_request *pending[KP_RN_MAX_PENDING];
	struct event *tick;
	struct event *kick;   /* deferred: apply commits, tell leadership (from the loop) */
	int32_t granted[KP_RAFT_MAX_VOTERS]; /* voters that granted us a vote in granted_epoch */
	int n_granted;
	int32_t granted_epoch;
	/* applying committed entries (raft_node.c) */
	int64_t apply_next;   /* the next offset to deliver */
	int64_t last_applied; /* the last offset delivered, -1 */
	bool applying;        /* inside the apply loop (no re-entry) */
	int32_t leader_epoch_told, leader_told; /* what on_leader said last */
	bool ready;           /* leader with its LeaderChange applied: may propose */
	int64_t ready_offset; /* the log end offset when it became leader: apply past it */
	int in_core;          /* depth of calls into the core (callbacks wait until 0) */
	bool failed;
	kp_error fatal;
};

/* kp_rn_now - the core's clock: kp_mono_ms. */
int64_t kp_rn_now(void);
/* kp_rn_wall - wall-clock ms of a kp_rn_now time (for DescribeQuorum timestamps). */
int64_t kp_rn_wall(int64_t mono);
/* kp_rn_schedule - re-arm the tick timer at the core's next deadline (and pending expiries). */
void kp_rn_schedule(struct kp_raft_node *n);
/* kp_rn_fail - a fatal error: record it, stop, tell the owner (on_fatal) once. */
void kp_rn_fail(struct kp_raft_node *n, const kp_error *err);
/* kp_rn_receive - hand `msg` to the core, then deliver what it committed and re-arm. */
void kp_rn_receive(struct kp_raft_node *n, const struct kp_raft_msg *msg);
/* kp_rn_after_core - after a call into the core: apply commits, tell leadership, re-arm. */
void kp_rn_after_core(struct kp_raft_node *n);
/* kp_rn_voter_index - the index of voter `id` in cfg.voters, -1 if not a voter. */
int kp_rn_voter_index(const struct kp_raft_node *n, int32_t id);

/* raft_io.c: the core's ops->send: requests go out on outconns, responses answer pending ones. */
void kp_rn_send(void *opaque, const struct kp_raft_msg *msg);
/* kp_rn_expire_pending - answer pending requests due by `now` (all: every one) from the core. */
void kp_rn_expire_pending(struct kp_raft_node *n, int64_t now, bool all);
/* kp_rn_pending_deadline - the earliest pending deadline, INT64_MAX if none. */
int64_t kp_rn_pending_deadline(const struct kp_raft_node *n);
/* kp_rn_pending_add - park `rq` as the request of its peer and kind (answering an older one). */
void kp_rn_pending_add(struct kp_raft_node *n, struct kp_ctl_request *rq);
/* kp_rn_pending_flush - answer `from`'s request of `kind` from the core's state if still parked. */
void kp_rn_pending_flush(struct kp_raft_node *n, int32_t from, enum kp_rn_kind kind);

/* One request we sent: the outconn callback's argument (malloc'd, freed by the callback). */
struct kp_rn_sent {
	struct kp_raft_node *node;
	int32_t id;            /* the peer */
	enum kp_rn_kind kind;
	int32_t epoch;         /* the request's epoch */
	uint64_t corr;         /* the core's id of the request, echoed in the response */
};

extern const kp_uuid kp_metadata_topic_id; /* Uuid.METADATA_TOPIC_ID: 0L, 1L */

#endif
