/*
 * dispatch.c - from a frame to an API handler, and from a response struct
 * back to a frame.
 *
 * The table below is the single source of truth for what the broker
 * serves: ApiVersions answers from it, and a request outside it closes
 * the connection (except ApiVersions itself, which gets
 * UNSUPPORTED_VERSION so the client can retry lower; KIP-511).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/forward.h"
#include "broker/internal.h"
#include "util/diag.h"

/* Versions served; the max is clamped to the schema's (kp_api_lookup). */
const struct kp_api_entry kp_api_entries[] = {
	{ KP_API_PRODUCE, 0, 11, kp_handle_produce },
	{ KP_API_FETCH, 0, 17, kp_handle_fetch },
	{ KP_API_LIST_OFFSETS, 0, 10, kp_handle_list_offsets },
	{ KP_API_METADATA, 0, 12, kp_handle_metadata },
	{ KP_API_OFFSET_COMMIT, 0, 9, kp_handle_offset_commit },
	{ KP_API_OFFSET_FETCH, 0, 9, kp_handle_offset_fetch },
	{ KP_API_FIND_COORDINATOR, 0, 6, kp_handle_find_coordinator },
	{ KP_API_JOIN_GROUP, 0, 9, kp_handle_join_group },
	{ KP_API_HEARTBEAT, 0, 4, kp_handle_heartbeat },
	{ KP_API_LEAVE_GROUP, 0, 5, kp_handle_leave_group },
	{ KP_API_SYNC_GROUP, 0, 5, kp_handle_sync_group },
	{ KP_API_DESCRIBE_GROUPS, 0, 5, kp_handle_describe_groups },
	{ KP_API_LIST_GROUPS, 0, 5, kp_handle_list_groups },
	{ KP_API_API_VERSIONS, 0, 4, kp_handle_api_versions },
	{ KP_API_CREATE_TOPICS, 0, 7, kp_handle_forwarded },
	{ KP_API_DELETE_TOPICS, 0, 6, kp_handle_forwarded },
	{ KP_API_DELETE_RECORDS, 0, 2, kp_handle_delete_records },
	{ KP_API_INIT_PRODUCER_ID, 0, 5, kp_handle_init_producer_id },
	{ KP_API_OFFSET_FOR_LEADER_EPOCH, 2, 4, kp_handle_offset_for_leader_epoch },
	{ KP_API_DESCRIBE_CONFIGS, 0, 4, kp_handle_describe_configs },
	{ KP_API_ALTER_CONFIGS, 0, 2, kp_handle_forwarded },
	{ KP_API_DESCRIBE_LOG_DIRS, 1, 4, kp_handle_describe_log_dirs },
	{ KP_API_CREATE_PARTITIONS, 0, 3, kp_handle_forwarded },
	{ KP_API_DELETE_GROUPS, 0, 2, kp_handle_delete_groups },
	{ KP_API_ELECT_LEADERS, 0, 2, kp_handle_forwarded },
	{ KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, kp_handle_forwarded },
	{ KP_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0, kp_handle_forwarded },
	{ KP_API_LIST_PARTITION_REASSIGNMENTS, 0, 0, kp_handle_forwarded },
	{ KP_API_OFFSET_DELETE, 0, 0, kp_handle_offset_delete },
	{ KP_API_DESCRIBE_CLUSTER, 0, 1, kp_handle_describe_cluster },
	{ KP_API_DESCRIBE_QUORUM, 0, 2, kp_handle_forwarded },
	{ KP_API_CONSUMER_GROUP_HEARTBEAT, 0, 1, kp_handle_consumer_group_heartbeat },
	{ KP_API_CONSUMER_GROUP_DESCRIBE, 0, 1, kp_handle_consumer_group_describe },
	{ KP_API_LIST_CLIENT_METRICS_RESOURCES, 0, 0, kp_handle_list_config_resources },
	{ KP_API_DESCRIBE_TOPIC_PARTITIONS, 0, 0, kp_handle_describe_topic_partitions },
};
const int kp_api_entry_count = (int)(sizeof(kp_api_entries) / sizeof(kp_api_entries[0]));

const struct kp_api_entry *kp_api_served(const struct kp_broker *b, int16_t api_key,
					 struct kp_api_entry *out)
{
	const struct kp_api_info *info = kp_api_lookup(api_key);

	if (!info)
		return NULL;
	for (int i = 0; i < kp_api_entry_count; i++) {
		if (kp_api_entries[i].api_key != api_key)
			continue;
		*out = kp_api_entries[i];
		if (out->max_version > info->max_version)
			out->max_version = info->max_version;
		return out;
	}
	return NULL;
}

void kp_request_free(struct kp_request *rq)
{
	if (!rq)
		return;
	kp_arena_free(&rq->arena);
	free(rq->frame);
	free(rq);
}

void kp_request_finish(struct kp_request *rq)
{
	kp_net_conn *conn = rq->conn;

	kp_request_free(rq);
	kp_net_conn_done(conn);
}

void *kp_request_alloc(struct kp_request *rq, size_t n)
{
	return kp_arena_alloc(&rq->arena, n);
}

void kp_request_respond(struct kp_request *rq, const void *resp)
{
	kp_net_conn *conn = rq->conn;
	kp_error err;
	kp_buf out;

	kp_buf_init(&out);
	if (kp_response_encode(rq->api_key, rq->version, rq->hdr.correlation_id, resp, &out, &err) < 0) {
		char why[384];

		snprintf(why, sizeof(why), "cannot encode response to api %d v%d: %s", rq->api_key,
			 rq->version, err.msg);
		kp_request_free(rq);
		kp_net_conn_fail(conn, why);
		goto out;
	}
	kp_request_free(rq);
	kp_net_conn_reply(conn, &out);
out:
	kp_buf_free(&out);
}

void kp_request_respond_api(struct kp_request *rq, int16_t api_key, const void *resp)
{
	if (rq->api_key != api_key) {
		kp_net_conn *conn = rq->conn;
		char why[128];

		snprintf(why, sizeof(why), "handler answered api %d to a request of api %d", api_key,
			 rq->api_key);
		kp_request_free(rq);
		kp_net_conn_fail(conn, why);
		return;
	}
	kp_request_respond(rq, resp);
}

/* request_new - take ownership of `frame` and decode its header; NULL and err on failure. */
static struct kp_request *request_new(struct kp_broker *b, kp_net_conn *conn, uint8_t *frame, size_t len,
				      kp_reader *r, kp_error *err)
{
	struct kp_request *rq = calloc(1, sizeof(*rq));

	if (!rq) {
		free(frame);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	rq->broker = b;
	rq->conn = conn;
	rq->session = kp_net_conn_session(conn);
	rq->frame = frame;
	rq->len = len;
	kp_arena_init(&rq->arena);
	kp_reader_init(r, frame, len);
	if (kp_request_header_decode(r, &rq->arena, &rq->hdr, err) < 0) {
		kp_error_set(err, KP_EPROTO, "cannot decode request header of a %zu-byte frame", len);
		kp_request_free(rq);
		return NULL;
	}
	rq->api_key = rq->hdr.request_api_key;
	rq->version = rq->hdr.request_api_version;
	return rq;
}

static int request_decode_body(struct kp_request *rq, kp_reader *r, kp_error *err)
{
	const struct kp_api_info *info = kp_api_lookup(rq->api_key);
	kp_error derr;

	rq->body = kp_arena_alloc(&rq->arena, kp_msg_size(info->request));
	if (!rq->body)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (kp_msg_decode(info->request, rq->version, r, &rq->arena, rq->body, &derr) < 0)
		return kp_error_set(err, KP_EPROTO, "cannot decode %s v%d request: %s", info->name,
				    rq->version, derr.msg);
	return 0;
}

#define OFFSETS_TOPIC_WAIT_MS 2000

/* A request waiting for the metadata image (kp_request_wait_image). */
struct image_wait {
	struct kp_request *rq;
	bool (*pending)(struct kp_request *rq);
	kp_api_handler answer;
};

/* image_waiting - the purgatory's callback for a request waiting for the metadata image. */
static bool image_waiting(void *arg, enum kp_op_reason why)
{
	struct image_wait *w = arg;
	struct kp_request *rq = w->rq;
	kp_api_handler answer = w->answer;
	kp_net_conn *conn = rq->conn;
	kp_error err;

	if (why == KP_OP_WAKE && !rq->broker->stopping && w->pending(rq))
		return false;
	free(w);
	if (why == KP_OP_CLOSED) {
		kp_request_free(rq);
	} else if (answer(rq, &err) < 0) {
		kp_request_free(rq);
		kp_net_conn_fail(conn, err.msg);
	}
	return true;
}

int kp_request_wait_image(struct kp_request *rq, int64_t timeout_ms,
			  bool (*pending)(struct kp_request *rq), kp_api_handler answer,
			  kp_error *err)
{
	struct image_wait *w = malloc(sizeof(*w));
	struct kp_watch_key k;

	if (!w)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*w = (struct image_wait){ rq, pending, answer };
	kp_watch_key_image(&k);
	if (kp_purgatory_park(rq->broker->purgatory, rq->conn, timeout_ms, &k, 1, image_waiting,
			      w, err) < 0) {
		free(w);
		return -1;
	}
	return 0;
}

/*
 * needs_offsets_topic - a group API that a broker can answer only once
 * __consumer_offsets exists (the coordinator of a group is the leader of
 * its partition), when it does not exist yet.
 */
static bool needs_offsets_topic(struct kp_request *rq)
{
	switch (rq->api_key) {
	case KP_API_FIND_COORDINATOR: /* group keys; a transactional id finds no coordinator yet */
	case KP_API_JOIN_GROUP:
	case KP_API_SYNC_GROUP:
	case KP_API_OFFSET_COMMIT:
	case KP_API_OFFSET_FETCH:
	case KP_API_CONSUMER_GROUP_HEARTBEAT:
		break;
	default:
		return false;
	}
	return !rq->broker->stopping && !kp_topics_find(rq->broker->topics, "__consumer_offsets");
}

/*
 * wait_for_offsets_topic - the first group request asks the controller for
 * __consumer_offsets and waits, up to OFFSETS_TOPIC_WAIT_MS, for the
 * metadata image to bring it (and this broker to load the partitions it
 * leads), so that clients get an answer instead of COORDINATOR_NOT_AVAILABLE
 * and a retry; Kafka answers at once. Then `handler` answers as ever.
 */
static int wait_for_offsets_topic(struct kp_request *rq, kp_api_handler handler, kp_error *err)
{
	int16_t error;

	kp_group_log_topic(rq->broker, &error); /* asks for it */
	return kp_request_wait_image(rq, OFFSETS_TOPIC_WAIT_MS, needs_offsets_topic, handler, err);
}

int kp_broker_on_frame(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err)
{
	struct kp_broker *b = opaque;
	struct kp_api_entry entry;
	kp_reader r;
	struct kp_request *rq = request_new(b, conn, frame, len, &r, err);

	if (!rq)
		return -1;
	const struct kp_api_entry *e = kp_api_served(b, rq->api_key, &entry);

	if (!e || rq->version < e->min_version || rq->version > e->max_version) {
		if (rq->api_key == KP_API_API_VERSIONS) {
			kp_api_versions_unsupported(rq);
			return 0;
		}
		if (e)
			kp_error_set(err, KP_EPROTO, "unsupported version %d of api key %d",
				     rq->version, rq->api_key);
		else
			kp_error_set(err, KP_EPROTO, "unknown api key %d (version %d)", rq->api_key,
				     rq->version);
		kp_request_free(rq);
		return -1;
	}
	if (request_decode_body(rq, &r, err) < 0) {
		kp_request_free(rq);
		return -1;
	}
	kp_diag_debug("%s: api %d v%d correlation id %d", kp_net_conn_peer(conn), rq->api_key,
		      rq->version, rq->hdr.correlation_id);
	if (needs_offsets_topic(rq) ? wait_for_offsets_topic(rq, e->handler, err) < 0
				    : e->handler(rq, err) < 0) {
		kp_request_free(rq);
		return -1;
	}
	return 0;
}

void kp_broker_on_hangup(kp_net_conn *conn, void *opaque)
{
	kp_purgatory_hangup(((struct kp_broker *)opaque)->purgatory, conn);
}

void *kp_broker_on_open(kp_net_conn *conn, const char *listener, int proto, void *opaque)
{
	return kp_session_new(conn, listener, proto);
}

/* kp_broker_on_close - what waited for the connection is told, then its session goes. */
void kp_broker_on_close(kp_net_conn *conn, void *opaque)
{
	struct kp_session *s = kp_net_conn_session(conn);

	kp_purgatory_conn_closed(((struct kp_broker *)opaque)->purgatory, conn);
	kp_forward_conn_closed(opaque, conn);
	if (s)
		kp_diag_debug("closing connection from %s: listener %s, principal %s, client %s %s",
			      kp_net_conn_peer(conn), s->listener, s->principal,
			      s->client_software_name ? s->client_software_name : "(unnamed)",
			      s->client_software_version ? s->client_software_version : "");
	kp_session_free(s);
}
