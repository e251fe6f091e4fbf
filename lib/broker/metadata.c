/*
 * metadata.c - Metadata (key 3), versions 0-12.
 *
 * Per version (MetadataRequest.json, KIP-4, KIP-204, KIP-516):
 *   v0      an empty topic list means all topics; topics are auto-created
 *           whenever auto.create.topics.enable is set
 *   v1-3    a null list means all topics, an empty one none; auto-create
 *           as v0 (kafka-python relies on this, CLIENT-NOTES rule 5)
 *   v4+     auto-create only with allow_auto_topic_creation
 *   v10+    topics carry topic ids; requests may name topics by id; a
 *           null name with an unknown or zero id is UNKNOWN_TOPIC_ID, the
 *           name null (v12+; "" before, where names are not nullable)
 *   v8+     authorized operations: INT32_MIN unless asked for (KIP-430);
 *           asked for, every operation Kafka supports on the resource,
 *           as Kafka answers without an authorizer
 * This node is the only broker, the controller, and every partition's
 * leader, sole replica and ISR, except for an offline partition (its log
 * could not be opened): KAFKA_STORAGE_ERROR, leader -1, empty ISR, this
 * node in offline_replicas.
 */
#include <string.h>

#include "broker/internal.h"

typedef struct kp_metadata_response_metadata_response_topic md_topic;
typedef struct kp_metadata_response_metadata_response_partition md_partition;

bool kp_topic_name_internal(const char *name)
{
	return strcmp(name, "__consumer_offsets") == 0 || strcmp(name, "__transaction_state") == 0;
}

/* advertised - the first advertised listener, with an empty host replaced by loopback. */
static void advertised(struct kp_broker *b, const char **host, int *port)
{
	const struct kp_broker_listener *l = &b->cfg.advertised[0];

	*host = l->host[0] ? l->host : "127.0.0.1";
	*port = l->port;
}

static int fill_partitions(struct kp_request *rq, struct kp_topic *t, md_topic *out)
{
	md_partition *ps = kp_request_alloc(rq, sizeof(*ps) * (size_t)t->partition_count);
	int32_t *node = kp_request_alloc(rq, sizeof(*node));

	if (!ps || !node)
		return -1;
	*node = rq->broker->cfg.node_id;
	for (int32_t i = 0; i < t->partition_count; i++) {
		ps[i].error_code = KP_ERR_NONE;
		ps[i].partition_index = i;
		ps[i].leader_id = *node;
		ps[i].leader_epoch = t->partitions[i].leader_epoch;
		ps[i].replica_nodes = node;
		ps[i].replica_nodes_count = 1;
		ps[i].isr_nodes = node;
		ps[i].isr_nodes_count = 1;
		ps[i].offline_replicas = NULL;
		ps[i].offline_replicas_count = 0;
		if (!kp_partition_online(&t->partitions[i])) {
			/* as Kafka shows a partition whose only replica's log dir failed */
			ps[i].error_code = KP_ERR_KAFKA_STORAGE_ERROR;
			ps[i].leader_id = -1;
			ps[i].isr_nodes_count = 0;
			ps[i].offline_replicas = node;
			ps[i].offline_replicas_count = 1;
		}
	}
	out->partitions = ps;
	out->partitions_count = t->partition_count;
	return 0;
}

/* fill_topic - one response topic for `t`, or for `name` with `error` when t is NULL. */
static int fill_topic(struct kp_request *rq, struct kp_topic *t, const char *name, int16_t error,
		      md_topic *out)
{
	const struct kp_metadata_request *req = rq->body;

	memset(out, 0, sizeof(*out));
	out->topic_authorized_operations =
		req->include_topic_authorized_operations ? KP_TOPIC_OPERATIONS : KP_OPERATIONS_NOT_ASKED;
	out->error_code = error;
	out->name = t ? t->name : (char *)name;
	if (!t)
		return 0;
	out->topic_id = t->id;
	out->is_internal = kp_topic_name_internal(t->name);
	return fill_partitions(rq, t, out);
}

static int fill_all_topics(struct kp_request *rq, struct kp_metadata_response *resp)
{
	kp_topics *ts = rq->broker->topics;
	size_t n = kp_topics_count(ts);
	md_topic *out = kp_request_alloc(rq, sizeof(*out) * (n ? n : 1));

	if (!out)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fill_topic(rq, kp_topics_at(ts, i), NULL, KP_ERR_NONE, &out[i]) < 0)
			return -1;
	resp->topics = out;
	resp->topics_count = (int32_t)n;
	return 0;
}

static int fill_requested_topics(struct kp_request *rq, const struct kp_metadata_request *req,
				 struct kp_metadata_response *resp)
{
	bool create = rq->version < 4 || req->allow_auto_topic_creation;
	md_topic *out = kp_request_alloc(rq, sizeof(*out) * (size_t)req->topics_count);

	if (!out)
		return -1;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_metadata_request_metadata_request_topic *rt = &req->topics[i];
		struct kp_topic *t = NULL;
		int16_t error = KP_ERR_NONE;

		if (!rt->name && rq->version >= 10) {
			t = kp_topics_find_id(rq->broker->topics, &rt->topic_id);
			if (!t)
				error = KP_ERR_UNKNOWN_TOPIC_ID;
		} else {
			t = kp_broker_auto_create(rq->broker, rt->name ? rt->name : "", create, &error);
		}
		if (fill_topic(rq, t, rt->name, error, &out[i]) < 0)
			return -1;
		if (!t && !rt->name)
			out[i].topic_id = rt->topic_id;
	}
	resp->topics = out;
	resp->topics_count = req->topics_count;
	return 0;
}

int kp_handle_metadata(struct kp_request *rq, kp_error *err)
{
	const struct kp_metadata_request *req = rq->body;
	struct kp_metadata_response *resp = kp_metadata_response_new(&rq->arena, 1);
	struct kp_metadata_response_metadata_response_broker *brk = kp_request_alloc(rq, sizeof(*brk));
	const char *host;
	int port;

	if (rq->broker->cluster)
		return kp_metadata_from_image(rq, err);
	if (!resp || !brk)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	advertised(rq->broker, &host, &port);
	brk->node_id = rq->broker->cfg.node_id;
	brk->host = (char *)host;
	brk->port = port;
	brk->rack = NULL;
	resp->brokers = brk;
	resp->brokers_count = 1;
	resp->cluster_id = rq->broker->cluster_id;
	resp->controller_id = rq->broker->cfg.node_id;
	resp->cluster_authorized_operations =
		req->include_cluster_authorized_operations ? KP_CLUSTER_OPERATIONS : KP_OPERATIONS_NOT_ASKED;
	bool all = req->topics_count < 0 || (rq->version == 0 && req->topics_count == 0);
	int rc = all ? fill_all_topics(rq, resp) : fill_requested_topics(rq, req, resp);

	if (rc < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	KP_RESPOND(rq, METADATA, resp);
	return 0;
}
