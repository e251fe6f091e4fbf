/*
 * create_topics.c - CreateTopics (key 19), versions 0-7 (KIP-4, KIP-464,
 * KIP-525, KIP-516).
 *
 * One broker means replication factor 1: a larger one is
 * INVALID_REPLICATION_FACTOR, and a manual assignment must place each
 * partition on this node alone. num_partitions -1 (v4+) means
 * num.partitions, replication_factor -1 default.replication.factor.
 * validate_only (v1+) checks without creating. Topic configs are accepted
 * and not yet applied (per-topic configs come with ktopics). v5+ report
 * partitions and replication factor; v7+ the topic id.
 */
#include <string.h>

#include "broker/internal.h"

typedef struct kp_create_topics_request_creatable_topic ct_req;
typedef struct kp_create_topics_response_creatable_topic_result ct_result;

/* check_assignments - partition count from a manual assignment, or -1 when invalid. */
static int32_t check_assignments(struct kp_broker *b, const ct_req *ct)
{
	for (int32_t i = 0; i < ct->assignments_count; i++) {
		const struct kp_create_topics_request_creatable_replica_assignment *a = &ct->assignments[i];

		if (a->partition_index < 0 || a->partition_index >= ct->assignments_count ||
		    a->broker_ids_count != 1 || a->broker_ids[0] != b->cfg.node_id)
			return -1;
	}
	return ct->assignments_count;
}

/* validate - the Kafka error for creating `ct`; *partitions and *rf get the effective values. */
static int16_t validate(struct kp_broker *b, const ct_req *ct, int32_t *partitions, int16_t *rf,
			const char **msg)
{
	*partitions = ct->num_partitions == -1 ? b->cfg.num_partitions : ct->num_partitions;
	*rf = ct->replication_factor == -1 ? b->cfg.default_replication_factor : ct->replication_factor;
	if (!ct->name || !kp_topic_name_valid(ct->name))
		return *msg = "invalid topic name", KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (kp_topics_find(b->topics, ct->name))
		return *msg = "topic already exists", KP_ERR_TOPIC_ALREADY_EXISTS;
	if (ct->assignments_count > 0) {
		if (ct->num_partitions != -1 || ct->replication_factor != -1)
			return *msg = "both assignments and partitions/replication factor given",
			       KP_ERR_INVALID_REQUEST;
		*partitions = check_assignments(b, ct);
		*rf = 1;
		if (*partitions < 0)
			return *msg = "replicas must be exactly this broker", KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		return KP_ERR_NONE;
	}
	if (*partitions < 1 || *partitions > 100000)
		return *msg = "number of partitions must be at least 1", KP_ERR_INVALID_PARTITIONS;
	if (*rf < 1 || *rf > 1)
		return *msg = "replication factor must be 1: there is one broker",
		       KP_ERR_INVALID_REPLICATION_FACTOR;
	return KP_ERR_NONE;
}

static void create_one(struct kp_request *rq, const struct kp_create_topics_request *req,
		       const ct_req *ct, ct_result *out)
{
	int32_t partitions = -1;
	int16_t rf = -1;
	const char *msg = NULL;

	memset(out, 0, sizeof(*out));
	out->name = ct->name;
	out->num_partitions = -1;
	out->replication_factor = -1;
	out->error_code = validate(rq->broker, ct, &partitions, &rf, &msg);
	if (out->error_code == KP_ERR_NONE && !req->validate_only) {
		struct kp_topic *t = kp_broker_create_topic(rq->broker, ct->name, partitions,
							    &out->error_code);

		if (t)
			out->topic_id = t->id;
		else
			msg = "cannot create topic";
	}
	if (out->error_code != KP_ERR_NONE) {
		out->error_message = (char *)msg;
		return;
	}
	out->num_partitions = partitions;
	out->replication_factor = rf;
}

int kp_handle_create_topics(struct kp_request *rq, kp_error *err)
{
	const struct kp_create_topics_request *req = rq->body;
	struct kp_create_topics_response *resp = kp_request_alloc(rq, sizeof(*resp));
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	ct_result *topics = kp_request_alloc(rq, sizeof(*topics) * (size_t)(n ? n : 1));

	if (!resp || !topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_msg_init(&kp_create_topics_response_desc, resp);
	for (int32_t i = 0; i < n; i++)
		create_one(rq, req, &req->topics[i], &topics[i]);
	resp->throttle_time_ms = 0;
	resp->topics = topics;
	resp->topics_count = n;
	kp_request_respond(rq, resp);
	return 0;
}
