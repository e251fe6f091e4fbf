/*
 * request.h - one request received by a controller-side owner (the Raft
 * node or kcontroller's own APIs): the frame, its decoded header and body
 * in an arena, and the answer (Kafka's RequestChannel.Request). Not
 * installed.
 */
#ifndef KP_CONTROLLER_REQUEST_H
#define KP_CONTROLLER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "protocol/codec.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/error.h"

struct kp_ctl_request {
	void *owner;    /* the kp_raft_node or kp_controller holding it */
	kp_net_conn *conn;
	uint8_t *frame; /* owned; decoded bytes point into it */
	kp_arena arena; /* the decoded request and its response */
	struct kp_request_header hdr;
	int16_t api_key, version;
	void *body;     /* the decoded request (NULL until kp_ctl_request_decode_body) */
	kp_reader body_reader; /* positioned at the body after the header */
	/* Raft node bookkeeping (raft_node_serve.c) */
	int32_t from;      /* the peer */
	int kind;          /* enum kp_rn_kind */
	uint64_t corr;     /* the kp_raft_msg corr the core answers with */
	int64_t deadline;  /* kp_mono_ms after which the node answers it itself */
};

/*
 * kp_ctl_request_new - a request owning `frame` (`len` bytes, malloc'd)
 * for `owner` on `conn`, its header decoded. On failure `frame` is freed
 * and NULL returned with KP_EPROTO or KP_ENOMEM.
 */
struct kp_ctl_request *kp_ctl_request_new(void *owner, kp_net_conn *conn, uint8_t *frame,
					  size_t len, kp_error *err);

/*
 * kp_ctl_request_decode_body - decode the body after the header into
 * rq->body (in rq->arena). Returns 0 or -1 with KP_EPROTO / KP_ENOMEM.
 */
int kp_ctl_request_decode_body(struct kp_ctl_request *rq, kp_error *err);

/* kp_ctl_request_free - free `rq`, its arena and frame (NULL is fine); does not answer. */
void kp_ctl_request_free(struct kp_ctl_request *rq);

/*
 * kp_ctl_respond - encode `resp` (the generated response struct of rq's
 * API, borrowed) at rq's version as the answer to `rq`, queue it on the
 * connection and free `rq`. An unencodable response closes the
 * connection instead (logged). May free the connection.
 */
void kp_ctl_respond(struct kp_ctl_request *rq, const void *resp);

/*
 * kp_ctl_respond_error - answer `rq` with a default-filled response whose
 * top-level error code is `code` (Kafka's RaftUtil.errorResponse). Only
 * for the APIs whose response struct starts with ErrorCode (Vote,
 * BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum) and Fetch. Returns
 * 0, or -1 with KP_ENOMEM (rq untouched).
 */
int kp_ctl_respond_error(struct kp_ctl_request *rq, int16_t code, kp_error *err);

#endif
