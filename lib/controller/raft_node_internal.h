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
#include "controller/voters_record.h"
#include "net/outconn.h"
#include "raft/raft.h"

struct event;

#define KP_RN_MAX_PENDING 64
#define KP_RN_PRE_VOTE_DEFAULT false /* true once Vote v2 (KIP-996) is on the wire */
#define KP_RN_FETCH_MAX_WAIT_MS 500 /* the leader's long poll (kp_raft_config.fetch_max_wait_ms) */

enum kp_rn_kind { KP_RN_VOTE, KP_RN_BEGIN, KP_RN_END, KP_RN_FETCH, KP_RN_SNAPSHOT, KP_RN_KINDS };

struct kp_raft_node {
	struct kp_raft_node_config cfg;
	bool warned_cluster_id;     /* a request of another cluster was logged */
	struct kp_raft_node_callbacks cb;
	struct event_base *base;
	kp_mlog *log;
	kp_raft *raft;
	struct kp_voter_set peers; /* endpoints known: controller.quorum.voters, self, learned */
	kp_outconn *out[KP_RAFT_MAX_VOTERS][KP_RN_KINDS]; /* per peer, one per RPC kind (lazy) */
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
	/* snapshots (raft_node_snapshot.c) */
	struct kp_raft_snapshot_id snap; /* the latest snapshot (end_offset -1: none) */
	bool snap_deliver;    /* its records still go to the owner (start, install) */
	int32_t applied_epoch; /* the epoch of the last batch delivered */
	int64_t snap_bytes;   /* committed batch bytes delivered since the latest snapshot */
	int64_t snap_ms;      /* kp_rn_now of the latest snapshot (or the start) */
	int part_fd;          /* the snapshot being fetched (NAME.part), -1 */
	struct kp_raft_snapshot_id part_id;
	/* voter changes waiting to commit (raft_node_voters.c) */
	struct kp_ctl_request *change;   /* the AddRaftVoter / RemoveRaftVoter request */
	int64_t change_offset;           /* its VotersRecord's offset */
	int32_t change_epoch;            /* the epoch it was appended in */
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
/*
 * kp_rn_voter_index - the index of `id` in peers (endpoints known), -1 if
 * unknown; an id with an endpoint in the log's newest VotersRecord is
 * learned on the way.
 */
int kp_rn_voter_index(struct kp_raft_node *n, int32_t id);
/* kp_rn_learn - note `v`'s endpoint in peers (replacing a port-0 entry); -1 when full. */
int kp_rn_learn(struct kp_raft_node *n, const struct kp_raft_node_voter *v);
/* kp_rn_outconn - the connection to peers[i] for `kind`, opened on first use; NULL on failure. */
kp_outconn *kp_rn_outconn(struct kp_raft_node *n, int i, enum kp_rn_kind kind);
/*
 * kp_rn_deliver_batch - the data records of the batch `e` (its bytes, a
 * copy the caller owns) to on_record; `offset` >= 0 gives every record
 * that offset (a snapshot's records), else each its own.
 */
void kp_rn_deliver_batch(struct kp_raft_node *n, const struct kp_raft_entry *e, int64_t offset);

/* raft_node_snapshot.c: KIP-630 */
/* kp_rn_snapshot_open - at start: the latest snapshot, the log start, deliveries to come. */
int kp_rn_snapshot_open(struct kp_raft_node *n, kp_error *err);
/* kp_rn_snapshot_ops - the core's snapshot ops into `ops`. */
void kp_rn_snapshot_ops(struct kp_raft_ops *ops);
/* kp_rn_snapshot_deliver - from the loop: the latest snapshot's records to the owner. */
void kp_rn_snapshot_deliver(struct kp_raft_node *n);
/* kp_rn_snapshot_maybe - after deliveries: take a snapshot if the thresholds say so. */
void kp_rn_snapshot_maybe(struct kp_raft_node *n);
/* kp_rn_snapshot_loaded - snapshot `id` is the latest and the owner's state: deliver it next. */
void kp_rn_snapshot_loaded(struct kp_raft_node *n, const struct kp_raft_snapshot_id *id);
/* kp_rn_read_file - the whole file `path` into `out` (reset first); -1 with KP_EIO/KP_ENOMEM. */
int kp_rn_read_file(const char *path, kp_buf *out, kp_error *err);
/*
 * kp_rn_snapshot_voters - the VotersRecord of the snapshot file `path`
 * (`name` for messages) into *out, *found whether it has one; -1 with
 * err when unreadable.
 */
int kp_rn_snapshot_voters(const char *name, const char *path, struct kp_voter_set *out,
			  bool *found, kp_error *err);
/* kp_rn_snapshot_close - close a partial snapshot's file. */
void kp_rn_snapshot_close(struct kp_raft_node *n);

/* raft_node_voters.c: KIP-853 AddRaftVoter / RemoveRaftVoter */
/* kp_rn_voters_handle - serve one of them (decoded rq); -1: close the connection. */
int kp_rn_voters_handle(struct kp_raft_node *n, struct kp_ctl_request *rq, kp_error *err);
/* kp_rn_voters_progress - after deliveries or a role change: answer a change now done or lost. */
void kp_rn_voters_progress(struct kp_raft_node *n);

/* raft_io_snapshot.c: FetchSnapshot on the wire */
struct kp_rn_sent;
/* kp_rn_send_fetch_snapshot - FetchSnapshot request `m` on `oc`; -1 with err (p not taken). */
int kp_rn_send_fetch_snapshot(struct kp_raft_node *c, kp_outconn *oc, struct kp_rn_sent *p,
			      const struct kp_raft_msg *m, kp_error *err);
/* kp_rn_fetch_snapshot_msg - a FetchSnapshotResponse as a message; -1 when unusable. */
int kp_rn_fetch_snapshot_msg(const struct kp_rn_sent *p, const void *resp,
			     struct kp_raft_msg *m);
/* kp_rn_respond_fetch_snapshot - answer `rq` with `m`; -1 (rq untouched) when out of memory. */
int kp_rn_respond_fetch_snapshot(struct kp_ctl_request *rq, const struct kp_raft_msg *m);
/* kp_rn_on_response - the outconn completion of every request we send (raft_io.c). */
void kp_rn_on_response(void *arg, const void *resp, const kp_error *err);

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
