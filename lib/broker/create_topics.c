/*
 * create_topics.c - CreateTopics (key 19), versions 0-7 (KIP-4, KIP-464,
 * KIP-525, KIP-516).
 *
 * One broker means replication factor 1: a larger one is
 * INVALID_REPLICATION_FACTOR, and a manual assignment must place each
 * partition on this node alone. num_partitions -1 (v4+) means
 * num.partitions, replication_factor -1 default.replication.factor.
 * validate_only (v1+) checks without creating. A topic named twice in one
 * request is not created and answered once, INVALID_REQUEST "Duplicate
 * topic name.", after the other topics' results (as Kafka's ControllerApis
 * does: clients match results by name). Topic configs are validated
 * against Kafka's topic config names, types and ranges (INVALID_CONFIG,
 * topic_config.c) but not yet applied (per-topic configs come with
 * ktopics). v5+ report partitions and replication factor; v7+ the topic id.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "metadata/topic_config.h"

typedef struct kp_create_topics_request_creatable_topic ct_req;
typedef struct kp_create_topics_response_creatable_topic_result ct_result;
typedef struct kp_create_topics_request_creatable_topic_config ct_config;

/*
 * check_assignments - the partition count of a manual assignment, or -1
 * unless it names partitions 0..n-1 once each, every one on this broker
 * alone (Kafka: INVALID_REPLICA_ASSIGNMENT).
 */
/* topic_configs_check - the first bad config of a topic: INVALID_CONFIG with *msg (rq's arena). */
static int16_t topic_configs_check(struct kp_request *rq, const ct_config *cfgs, int32_t n,
				   const char **msg)
{
	char buf[512];

	for (int32_t i = 0; i < n; i++) {
		int16_t code = kp_topic_config_check(cfgs[i].name, cfgs[i].value, buf, sizeof(buf));

		if (code == KP_ERR_NONE)
			continue;
		*msg = kp_arena_strndup(&rq->arena, buf, strlen(buf));
		if (!*msg)
			*msg = "invalid topic config";
		return code;
	}
	return KP_ERR_NONE;
}

static int32_t check_assignments(struct kp_request *rq, const ct_req *ct)
{
	int32_t n = ct->assignments_count;
	bool *seen = kp_request_alloc(rq, (size_t)n);

	if (!seen)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_create_topics_request_creatable_replica_assignment *a = &ct->assignments[i];

		if (a->partition_index < 0 || a->partition_index >= n || seen[a->partition_index] ||
		    a->broker_ids_count != 1 || a->broker_ids[0] != rq->broker->cfg.node_id)
			return -1;
		seen[a->partition_index] = true;
	}
	return n;
}

static int cmp_name(const void *a, const void *b)
{
	const ct_req *x = *(const ct_req *const *)a, *y = *(const ct_req *const *)b;

	int c;

	if (!x->name || !y->name)
		c = !!x->name - !!y->name;
	else
		c = strcmp(x->name, y->name);
	return c ? c : (x > y) - (x < y); /* equal names: request order */
}

/*
 * mark_duplicates - dup[i] is DUP_FIRST or DUP_LATER when another of the
 * `n` entries of `req` names topic i too (Kafka creates none of them),
 * DUP_FIRST for the first entry of that name. Sorted, so a request of many topics stays cheap.
 * Returns the array (rq's arena), or NULL when memory runs out.
 */
enum { DUP_NONE, DUP_FIRST, DUP_LATER };

static uint8_t *mark_duplicates(struct kp_request *rq, const struct kp_create_topics_request *req,
				int32_t n)
{
	uint8_t *dup = kp_request_alloc(rq, (size_t)(n ? n : 1));
	const ct_req **v = kp_request_alloc(rq, sizeof(*v) * (size_t)(n ? n : 1));

	if (!dup || !v)
		return NULL;
	for (int32_t i = 0; i < n; i++)
		v[i] = &req->topics[i];
	qsort(v, (size_t)n, sizeof(*v), cmp_name);
	for (int32_t i = 1; i < n; i++)
		if (v[i]->name && v[i - 1]->name && strcmp(v[i]->name, v[i - 1]->name) == 0) {
			dup[v[i] - req->topics] = DUP_LATER;
			if (!dup[v[i - 1] - req->topics])
				dup[v[i - 1] - req->topics] = DUP_FIRST;
		}
	return dup;
}

/* validate - the Kafka error for creating `ct`; *partitions and *rf get the effective values. */
static int16_t validate(struct kp_request *rq, const ct_req *ct, bool duplicate, int32_t *partitions,
			int16_t *rf, const char **msg)
{
	struct kp_broker *b = rq->broker;

	*partitions = ct->num_partitions == -1 ? b->cfg.num_partitions : ct->num_partitions;
	*rf = ct->replication_factor == -1 ? b->cfg.default_replication_factor : ct->replication_factor;
	if (!ct->name || !kp_topic_name_valid(ct->name))
		return *msg = "invalid topic name", KP_ERR_INVALID_TOPIC_EXCEPTION;
	if (duplicate)
		return *msg = "Duplicate topic name.", KP_ERR_INVALID_REQUEST;
	if (kp_topics_find(b->topics, ct->name))
		return *msg = "topic already exists", KP_ERR_TOPIC_ALREADY_EXISTS;
	if (ct->assignments_count > 0) {
		if (ct->num_partitions != -1 || ct->replication_factor != -1)
			return *msg = "both assignments and partitions/replication factor given",
			       KP_ERR_INVALID_REQUEST;
		*partitions = check_assignments(rq, ct);
		*rf = 1;
		if (*partitions < 0)
			return *msg = "replicas must be exactly this broker", KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		return topic_configs_check(rq, ct->configs, ct->configs_count, msg);
	}
	if (*partitions < 1 || *partitions > KP_TOPIC_MAX_PARTITIONS)
		return *msg = "number of partitions out of range", KP_ERR_INVALID_PARTITIONS;
	if (*rf < 1 || *rf > 1)
		return *msg = "replication factor must be 1: there is one broker",
		       KP_ERR_INVALID_REPLICATION_FACTOR;
	return topic_configs_check(rq, ct->configs, ct->configs_count, msg);
}

static void create_one(struct kp_request *rq, const struct kp_create_topics_request *req,
		       const ct_req *ct, bool duplicate, ct_result *out)
{
	int32_t partitions = -1;
	int16_t rf = -1;
	const char *msg = NULL;

	memset(out, 0, sizeof(*out));
	out->name = ct->name;
	out->num_partitions = -1;
	out->replication_factor = -1;
	out->error_code = validate(rq, ct, duplicate, &partitions, &rf, &msg);
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
	if (rq->broker->cluster)
		return kp_handle_forwarded(rq, err); /* KIP-590: the controller creates it */
	const struct kp_create_topics_request *req = rq->body;
	struct kp_create_topics_response *resp = kp_create_topics_response_new(&rq->arena, 1);
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	ct_result *topics = kp_request_alloc(rq, sizeof(*topics) * (size_t)(n ? n : 1));
	uint8_t *dup = mark_duplicates(rq, req, n);

	if (!resp || !topics || !dup)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->topics = topics;
	for (int32_t i = 0; i < n; i++)
		if (!dup[i])
			create_one(rq, req, &req->topics[i], false, &topics[resp->topics_count++]);
	for (int32_t i = 0; i < n; i++)
		if (dup[i] == DUP_FIRST)
			create_one(rq, req, &req->topics[i], true, &topics[resp->topics_count++]);
	KP_RESPOND(rq, CREATE_TOPICS, resp);
	return 0;
}
