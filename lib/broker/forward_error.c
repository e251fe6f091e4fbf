/*
 * forward_error.c - the answer to a forwarded admin request that could
 * not reach the controller: the request's getErrorResponse in Kafka,
 * `code` for every topic or resource asked about.
 */
#include <string.h>

#include "broker/forward.h"
#include "broker/internal.h"

static int create_topics(struct kp_request *rq, int16_t code)
{
	const struct kp_create_topics_request *req = rq->body;
	struct kp_create_topics_response *r = kp_create_topics_response_new(&rq->arena, 1);
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;

	if (!r || !(r->topics = kp_create_topics_response_creatable_topic_result_new(&rq->arena,
										     (size_t)n + 1)))
		return -1;
	for (int32_t i = 0; i < n; i++) {
		r->topics[i].name = req->topics[i].name;
		r->topics[i].error_code = code;
		r->topics[i].num_partitions = -1;
		r->topics[i].replication_factor = -1;
	}
	r->topics_count = n;
	KP_RESPOND(rq, CREATE_TOPICS, r);
	return 0;
}

static int delete_topics(struct kp_request *rq, int16_t code)
{
	const struct kp_delete_topics_request *req = rq->body;
	struct kp_delete_topics_response *r = kp_delete_topics_response_new(&rq->arena, 1);
	int32_t n = rq->version >= 6 ? req->topics_count : req->topic_names_count;

	n = n > 0 ? n : 0;
	if (!r || !(r->responses = kp_delete_topics_response_deletable_topic_result_new(
			    &rq->arena, (size_t)n + 1)))
		return -1;
	for (int32_t i = 0; i < n; i++) {
		r->responses[i].name = rq->version >= 6 ? req->topics[i].name : req->topic_names[i];
		if (rq->version >= 6)
			r->responses[i].topic_id = req->topics[i].topic_id;
		r->responses[i].error_code = code;
	}
	r->responses_count = n;
	KP_RESPOND(rq, DELETE_TOPICS, r);
	return 0;
}

static int create_partitions(struct kp_request *rq, int16_t code)
{
	const struct kp_create_partitions_request *req = rq->body;
	struct kp_create_partitions_response *r = kp_create_partitions_response_new(&rq->arena, 1);
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;

	if (!r || !(r->results = kp_create_partitions_response_create_partitions_topic_result_new(
			    &rq->arena, (size_t)n + 1)))
		return -1;
	for (int32_t i = 0; i < n; i++) {
		r->results[i].name = req->topics[i].name;
		r->results[i].error_code = code;
	}
	r->results_count = n;
	KP_RESPOND(rq, CREATE_PARTITIONS, r);
	return 0;
}

/*
 * CONFIG_ERRORS - define `static int fn(struct kp_request *rq, int16_t code)`,
 * the answer to AlterConfigs or IncrementalAlterConfigs request rq (`api`
 * and `API`: alter_configs or incremental_alter_configs, in lower and
 * upper case): every resource asked about with `code`. Their generated
 * types differ but have the same fields. The response is in rq's arena;
 * returns 0, or -1 when memory runs out (nothing is sent then).
 */
#define CONFIG_ERRORS(fn, api, API)                                                         \
	static int fn(struct kp_request *rq, int16_t code)                                  \
	{                                                                                   \
		const struct kp_##api##_request *req = rq->body;                            \
		struct kp_##api##_response *r = kp_##api##_response_new(&rq->arena, 1);     \
		int32_t n = req->resources_count > 0 ? req->resources_count : 0;            \
                                                                                            \
		if (!r || !(r->responses =                                                  \
				    kp_##api##_response_alter_configs_resource_response_new( \
					    &rq->arena, (size_t)n + 1)))                    \
			return -1;                                                          \
		for (int32_t i = 0; i < n; i++) {                                           \
			r->responses[i].resource_type = req->resources[i].resource_type;    \
			r->responses[i].resource_name = req->resources[i].resource_name;    \
			r->responses[i].error_code = code;                                  \
		}                                                                           \
		r->responses_count = n;                                                     \
		KP_RESPOND(rq, API, r);                                                     \
		return 0;                                                                   \
	}

CONFIG_ERRORS(incremental_alter_configs, incremental_alter_configs, INCREMENTAL_ALTER_CONFIGS)
CONFIG_ERRORS(alter_configs, alter_configs, ALTER_CONFIGS)

/* describe_quorum - the top-level error alone, as Kafka's getErrorResponse. */
static int describe_quorum(struct kp_request *rq, int16_t code)
{
	struct kp_describe_quorum_response *r = kp_describe_quorum_response_new(&rq->arena, 1);

	if (!r)
		return -1;
	r->error_code = code;
	KP_RESPOND(rq, DESCRIBE_QUORUM, r);
	return 0;
}

/*
 * elect_leaders - Kafka's ElectLeadersRequest.getErrorResponse: the code
 * at the top (v1+) and on every partition named (none when all were asked).
 */
static int elect_leaders(struct kp_request *rq, int16_t code)
{
	const struct kp_elect_leaders_request *req = rq->body;
	struct kp_elect_leaders_response *r = kp_elect_leaders_response_new(&rq->arena, 1);
	int32_t n = req->topic_partitions_count > 0 ? req->topic_partitions_count : 0;

	if (!r || !(r->replica_election_results =
			    kp_elect_leaders_response_replica_election_result_new(&rq->arena,
										 (size_t)n + 1)))
		return -1;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_elect_leaders_request_topic_partitions *tp = &req->topic_partitions[i];
		struct kp_elect_leaders_response_replica_election_result *out =
			&r->replica_election_results[i];
		int32_t np = tp->partitions_count > 0 ? tp->partitions_count : 0;

		out->topic = tp->topic;
		if (!(out->partition_result = kp_elect_leaders_response_partition_result_new(
			      &rq->arena, (size_t)np + 1)))
			return -1;
		for (int32_t j = 0; j < np; j++) {
			out->partition_result[j].partition_id = tp->partitions[j];
			out->partition_result[j].error_code = code;
		}
		out->partition_result_count = np;
	}
	r->replica_election_results_count = n;
	r->error_code = code;
	KP_RESPOND(rq, ELECT_LEADERS, r);
	return 0;
}

/*
 * TOP_LEVEL_ERROR - define `static int fn(struct kp_request *rq, int16_t
 * code)`: the answer of API (upper case; lower case `api`) with the code
 * at the top level and nothing else, as Kafka's getErrorResponse for the
 * reassignment APIs answers a request it cannot serve. 0, or -1 without memory.
 */
#define TOP_LEVEL_ERROR(fn, api, API)                                                       \
	static int fn(struct kp_request *rq, int16_t code)                                  \
	{                                                                                   \
		struct kp_##api##_response *r = kp_##api##_response_new(&rq->arena, 1);     \
                                                                                            \
		if (!r)                                                                     \
			return -1;                                                          \
		r->error_code = code;                                                       \
		KP_RESPOND(rq, API, r);                                                     \
		return 0;                                                                   \
	}

TOP_LEVEL_ERROR(alter_reassignments, alter_partition_reassignments, ALTER_PARTITION_REASSIGNMENTS)
TOP_LEVEL_ERROR(list_reassignments, list_partition_reassignments, LIST_PARTITION_REASSIGNMENTS)

void kp_forward_respond_error(struct kp_request *rq, int16_t code)
{
	int rc;

	switch (rq->api_key) {
	case KP_API_CREATE_TOPICS:
		rc = create_topics(rq, code);
		break;
	case KP_API_DELETE_TOPICS:
		rc = delete_topics(rq, code);
		break;
	case KP_API_CREATE_PARTITIONS:
		rc = create_partitions(rq, code);
		break;
	case KP_API_INCREMENTAL_ALTER_CONFIGS:
		rc = incremental_alter_configs(rq, code);
		break;
	case KP_API_ALTER_CONFIGS:
		rc = alter_configs(rq, code);
		break;
	case KP_API_DESCRIBE_QUORUM:
		rc = describe_quorum(rq, code);
		break;
	case KP_API_ELECT_LEADERS:
		rc = elect_leaders(rq, code);
		break;
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		rc = alter_reassignments(rq, code);
		break;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		rc = list_reassignments(rq, code);
		break;
	default:
		rc = -1;
	}
	if (rc < 0) {
		kp_net_conn *conn = rq->conn;

		kp_request_free(rq);
		kp_net_conn_fail(conn, "cannot answer a forwarded request");
	}
}
