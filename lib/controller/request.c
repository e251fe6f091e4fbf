/*
 * request.c - decoding, answering and freeing the requests a controller
 * or a Raft node receives; see request.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "controller/request.h"

struct kp_ctl_request *kp_ctl_request_new(void *owner, kp_net_conn *conn, uint8_t *frame,
					  size_t len, kp_error *err)
{
	struct kp_ctl_request *rq = calloc(1, sizeof(*rq));

	if (!rq) {
		free(frame);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	rq->owner = owner;
	rq->conn = conn;
	rq->frame = frame;
	kp_arena_init(&rq->arena);
	kp_reader_init(&rq->body_reader, frame, len);
	if (kp_request_header_decode(&rq->body_reader, &rq->arena, &rq->hdr, err) < 0) {
		kp_error_set(err, KP_EPROTO, "cannot decode request header of a %zu-byte frame", len);
		kp_ctl_request_free(rq);
		return NULL;
	}
	rq->api_key = rq->hdr.request_api_key;
	rq->version = rq->hdr.request_api_version;
	return rq;
}

int kp_ctl_request_decode_body(struct kp_ctl_request *rq, kp_error *err)
{
	const struct kp_api_info *info = kp_api_lookup(rq->api_key);
	kp_error derr;

	if (!info || rq->version < info->min_version || rq->version > info->max_version)
		return kp_error_set(err, KP_EPROTO, "api key %d version %d is unknown", rq->api_key,
				    rq->version);
	rq->body = kp_arena_alloc(&rq->arena, kp_msg_size(info->request));
	if (!rq->body)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (kp_msg_decode(info->request, rq->version, &rq->body_reader, &rq->arena, rq->body,
			  &derr) < 0)
		return kp_error_set(err, KP_EPROTO, "cannot decode %s v%d request: %s", info->name,
				    rq->version, derr.msg);
	return 0;
}

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
	if (kp_response_encode(rq->api_key, rq->version, rq->hdr.correlation_id, resp, &out,
			       &err) < 0) {
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

int kp_ctl_respond_error(struct kp_ctl_request *rq, int16_t code, kp_error *err)
{
	const struct kp_api_info *info = kp_api_lookup(rq->api_key);
	void *resp = kp_arena_alloc(&rq->arena, kp_msg_size(info->response));

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_msg_init(info->response, resp);
	/* every Raft response struct starts with error_code except Fetch's throttle time */
	if (rq->api_key == KP_API_FETCH)
		((struct kp_fetch_response *)resp)->error_code = code;
	else
		*(int16_t *)resp = code;
	kp_ctl_respond(rq, resp);
	return 0;
}
