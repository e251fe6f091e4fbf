/*
 * internal.h - what the controller's files share. Not installed.
 *
 * Requests from other voters wait in `pending` (one per peer and kind)
 * between kp_raft_receive and the core's answer through ops->send; a
 * Fetch may wait there up to fetch_max_wait_ms (the leader's long poll).
 */
#ifndef KP_CONTROLLER_INTERNAL_H
#define KP_CONTROLLER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "controller/controller.h"
#include "controller/metadata_log.h"
#include "net/net.h"
#include "net/outconn.h"
#include "protocol/codec.h"
#include "raft/raft.h"
#include "util/arena.h"

struct event_base;
struct event;

#define KP_CTL_MAX_LISTENERS 8
#define KP_CTL_MAX_PENDING 64

struct kp_ctl_endpoint {
	int32_t id;     /* voter id (voters only) */
	char name[64];  /* listener name (listeners only) */
	char host[256];
	int port;
};

struct kp_controller_config {
	int32_t node_id;                             /* node.id */
	struct kp_ctl_endpoint voters[KP_RAFT_MAX_VOTERS];
	int n_voters;                                /* controller.quorum.voters */
	struct kp_ctl_endpoint listeners[KP_CTL_MAX_LISTENERS];
	int n_listeners;                             /* listeners */
	char listener_name[64];                      /* first of controller.listener.names */
	char log_dir[4096];                          /* metadata.log.dir, else first of log.dirs */
	char cluster_id[64];                         /* cluster.id to format with ("": generate) */
	int64_t election_timeout_ms, fetch_timeout_ms, election_backoff_max_ms, request_timeout_ms;
	int64_t socket_request_max_bytes, connections_max_idle_ms;
};

/* kp_controller_config_parse - `out` from `c` with Kafka's defaults; -1 with KP_EINVAL naming the key. */
int kp_controller_config_parse(const kp_config *c, struct kp_controller_config *out, kp_error *err);

enum kp_ctl_kind { KP_CTL_VOTE, KP_CTL_BEGIN, KP_CTL_END, KP_CTL_FETCH, KP_CTL_KINDS };

/* One request received from the network, owned by the controller until answered. */
struct kp_ctl_request {
	struct kp_controller *ctl;
	kp_net_conn *conn;
	uint8_t *frame; /* owned; decoded bytes point into it */
	kp_arena arena; /* the decoded request and its response */
	struct kp_request_header hdr;
	int16_t api_key, version;
	void *body;
	int32_t from;        /* the peer (pending requests) */
	enum kp_ctl_kind kind;
	uint64_t corr;       /* the kp_raft_msg corr the core answers with */
	int64_t deadline;    /* kp_mono_ms after which the driver answers it itself */
};

struct kp_controller {
	struct kp_controller_config cfg;
	struct event_base *base;
	kp_net *net;
	kp_mlog *log;
	kp_raft *raft;
	char cluster_id[64];
	kp_outconn *out[KP_RAFT_MAX_VOTERS][KP_CTL_KINDS]; /* per voter, one per RPC kind */
	uint64_t next_corr;  /* ids of requests received, for kp_raft_msg.corr */
	struct kp_ctl_request *pending[KP_CTL_MAX_PENDING];
	struct event *tick, *sigint, *sigterm, *stop_timer;
	int32_t granted[KP_RAFT_MAX_VOTERS]; /* voters that granted us a vote in granted_epoch */
	int n_granted;
	int32_t granted_epoch;
	int64_t stop_deadline; /* kp_ctl_now() when a resigning leader stops waiting */
	bool stopping, failed;
	kp_error fatal;
};

/* kp_ctl_now - the core's clock: kp_mono_ms. */
int64_t kp_ctl_now(void);
/* kp_ctl_wall - wall-clock ms of a kp_ctl_now time (for DescribeQuorum timestamps). */
int64_t kp_ctl_wall(int64_t mono);
/* kp_ctl_schedule - re-arm the tick timer at the core's next deadline (and pending expiries). */
void kp_ctl_schedule(struct kp_controller *c);
/* kp_ctl_fail - a fatal core error: record it and stop the loop. */
void kp_ctl_fail(struct kp_controller *c, const kp_error *err);
/* kp_ctl_receive - hand `msg` to the core, then re-arm the timer; fatal errors stop the loop. */
void kp_ctl_receive(struct kp_controller *c, const struct kp_raft_msg *msg);

/* kp_ctl_send - the core's ops->send: requests go out on outconns, responses answer pending requests. */
void kp_ctl_send(void *opaque, const struct kp_raft_msg *msg);
/*
 * kp_ctl_expire_pending - answer from the core's state every pending request
 * whose deadline is <= `now` (all of them when `all`), as the core did not.
 */
void kp_ctl_expire_pending(struct kp_controller *c, int64_t now, bool all);
/* kp_ctl_pending_deadline - the earliest pending deadline, INT64_MAX if none. */
int64_t kp_ctl_pending_deadline(const struct kp_controller *c);
/* One request we sent: the outconn callback's argument (malloc'd, freed by the callback). */
struct kp_ctl_sent {
	struct kp_controller *ctl;
	int32_t id;            /* the peer */
	enum kp_ctl_kind kind;
	int32_t epoch;         /* the request's epoch */
	uint64_t corr;         /* the core's id of the request, echoed in the response */
};

/* kp_ctl_pending_add - park `rq` as the request of its peer and kind (answering an older one). */
void kp_ctl_pending_add(struct kp_controller *c, struct kp_ctl_request *rq);
/* kp_ctl_pending_flush - answer from the core's state `from`'s request of `kind` if still parked. */
void kp_ctl_pending_flush(struct kp_controller *c, int32_t from, enum kp_ctl_kind kind);

/* serve.c: net callbacks and answering. */
int kp_ctl_on_frame(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err);
void kp_ctl_on_close(kp_net_conn *conn, void *opaque);
/* kp_ctl_respond - encode `resp` as the answer to `rq`, queue it and free `rq`. */
void kp_ctl_respond(struct kp_ctl_request *rq, const void *resp);
void kp_ctl_request_free(struct kp_ctl_request *rq);
/* kp_ctl_voter_index - the index of voter `id` in cfg.voters, -1 if not a voter. */
int kp_ctl_voter_index(const struct kp_controller *c, int32_t id);

extern const kp_uuid kp_metadata_topic_id; /* Uuid.METADATA_TOPIC_ID: 0L, 1L */

#endif
