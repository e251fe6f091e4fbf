/*
 * find_coordinator.c - FindCoordinator (key 10), versions 0-6.
 *
 * Key type 0 (group, KIP-98's CoordinatorType.GROUP): the leader of the
 * group's __consumer_offsets partition (kp_broker_cluster_coordinator;
 * the topic is created when first needed, as Kafka does). Key type 1
 * (transaction) answers
 * COORDINATOR_NOT_AVAILABLE until there is a transaction coordinator;
 * other key types INVALID_REQUEST. v4+ carry a batch of keys (KIP-699)
 * answered one Coordinator each; v0-3 one key at the top level.
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"

typedef struct kp_find_coordinator_response_coordinator fc_coord;

/* lookup - the node, host and port coordinating `key` of `key_type`, or an error. */
static void lookup(struct kp_request *rq, int8_t key_type, const char *key, fc_coord *out)
{
	out->key = (char *)(key ? key : "");
	out->node_id = -1;
	out->host = "";
	out->port = -1;
	out->error_message = NULL;
	if (key_type == 1) {
		out->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	} else if (key_type != 0) {
		out->error_code = KP_ERR_INVALID_REQUEST;
	} else {
		out->error_code = kp_broker_cluster_coordinator(rq, out->key, &out->node_id,
								(const char **)&out->host,
								&out->port);
	}
	/* Kafka's Errors.message(): "NONE" on success (v1+ carry it) */
	out->error_message = (char *)kp_kafka_error_name(out->error_code);
}

int kp_handle_find_coordinator(struct kp_request *rq, kp_error *err)
{
	const struct kp_find_coordinator_request *req = rq->body;
	struct kp_find_coordinator_response *resp = kp_find_coordinator_response_new(&rq->arena, 1);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (rq->version >= 4) {
		int32_t n = req->coordinator_keys_count > 0 ? req->coordinator_keys_count : 0;
		fc_coord *cs = kp_find_coordinator_response_coordinator_new(&rq->arena, (size_t)n);

		if (!cs)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		for (int32_t i = 0; i < n; i++)
			lookup(rq, req->key_type, req->coordinator_keys[i], &cs[i]);
		resp->coordinators = cs;
		resp->coordinators_count = n;
	} else {
		fc_coord c;

		lookup(rq, req->key_type, req->key, &c);
		resp->error_code = c.error_code;
		resp->error_message = c.error_message;
		resp->node_id = c.node_id;
		resp->host = c.host;
		resp->port = c.port;
	}
	KP_RESPOND(rq, FIND_COORDINATOR, resp);
	return 0;
}
