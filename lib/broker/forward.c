/*
 * forward.c - forwarding admin requests to the active controller
 * (Kafka's ForwardingManager, KIP-590); see forward.h.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/cluster.h"
#include "broker/forward.h"
#include "broker/internal.h"
#include "util/clock.h"
#include "util/diag.h"

#define FORWARD_TIMEOUT_MS 30000 /* request.timeout.ms */
#define ATTEMPT_TIMEOUT_MS 10000
#define RETRY_MS 100

struct kp_forward {
	struct kp_forward *next;
	struct kp_broker *b;
	struct kp_request *rq; /* NULL once its connection closed */
	struct event *retry;
	int64_t deadline;      /* kp_mono_ms */
	int32_t target;        /* the voter the attempt in flight went to */
	bool in_flight;
};

static void forward_free(struct kp_forward *f)
{
	struct kp_forward **pp = &f->b->cluster->forwards;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	if (f->retry)
		event_free(f->retry);
	kp_request_free(f->rq);
	free(f);
}

/* first_error - the error of the first topic or resource of response `resp` of `api`. */
static int16_t first_error(int16_t api, const void *resp)
{
	switch (api) {
	case KP_API_CREATE_TOPICS: {
		const struct kp_create_topics_response *r = resp;
		return r->topics_count > 0 ? r->topics[0].error_code : 0;
	}
	case KP_API_DELETE_TOPICS: {
		const struct kp_delete_topics_response *r = resp;
		return r->responses_count > 0 ? r->responses[0].error_code : 0;
	}
	case KP_API_CREATE_PARTITIONS: {
		const struct kp_create_partitions_response *r = resp;
		return r->results_count > 0 ? r->results[0].error_code : 0;
	}
	case KP_API_INCREMENTAL_ALTER_CONFIGS: {
		const struct kp_incremental_alter_configs_response *r = resp;
		return r->responses_count > 0 ? r->responses[0].error_code : 0;
	}
	case KP_API_ALTER_CONFIGS: {
		const struct kp_alter_configs_response *r = resp;
		return r->responses_count > 0 ? r->responses[0].error_code : 0;
	}
	case KP_API_ELECT_LEADERS: {
		const struct kp_elect_leaders_response *r = resp;
		const struct kp_elect_leaders_response_replica_election_result *t =
			r->replica_election_results_count > 0 ? &r->replica_election_results[0] : NULL;

		if (r->error_code || !t || t->partition_result_count == 0)
			return r->error_code; /* v0 has none: its partitions carry it */
		return t->partition_result[0].error_code;
	}
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		return ((const struct kp_alter_partition_reassignments_response *)resp)->error_code;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		return ((const struct kp_list_partition_reassignments_response *)resp)->error_code;
	case KP_API_DESCRIBE_QUORUM: { /* a voter that is not the leader: ask the next one */
		int16_t code = ((const struct kp_describe_quorum_response *)resp)->error_code;
		return code == KP_ERR_NOT_LEADER_OR_FOLLOWER ? KP_ERR_NOT_CONTROLLER : code;
	}
	default:
		return 0;
	}
}

static void attempt(struct kp_forward *f);

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	attempt(arg);
}

/* retry_or_fail - try again in RETRY_MS, or answer REQUEST_TIMED_OUT after the deadline. */
static void retry_or_fail(struct kp_forward *f)
{
	struct timeval tv = { 0, RETRY_MS * 1000 };

	kp_controller_channel_failed(f->b->cluster->channel, f->target);
	if (kp_mono_ms() < f->deadline && !f->b->stopping && event_add(f->retry, &tv) == 0)
		return;
	kp_forward_respond_error(f->rq, KP_ERR_REQUEST_TIMED_OUT);
	f->rq = NULL;
	forward_free(f);
}

static void forward_cb(void *arg, const void *resp, const kp_error *err)
{
	struct kp_forward *f = arg;

	f->in_flight = false;
	if (!f->rq || !f->b->cluster->channel) {
		forward_free(f);
		return;
	}
	if (!resp || first_error(f->rq->api_key, resp) == KP_ERR_NOT_CONTROLLER) {
		kp_diag_debug("forwarding api %d to controller %d: %s", f->rq->api_key, f->target,
			      resp ? "NOT_CONTROLLER" : err->msg);
		retry_or_fail(f);
		return;
	}
	kp_request_respond(f->rq, resp); /* frees the request */
	f->rq = NULL;
	forward_free(f);
}

/*
 * forward_version - the version to forward `rq` at: the client's, raised
 * to the lowest the controller serves (Kafka 4's controllers dropped
 * CreateTopics v0-1 and DeleteTopics v0, KIP-896; those bodies are the
 * same as the next version's, and the answer goes back at the client's).
 */
static int16_t forward_version(const struct kp_request *rq)
{
	if (rq->api_key == KP_API_CREATE_TOPICS && rq->version < 2)
		return 2;
	if (rq->api_key == KP_API_DELETE_TOPICS && rq->version < 1)
		return 1;
	return rq->version;
}

static void attempt(struct kp_forward *f)
{
	kp_error err;

	if (kp_controller_channel_send(f->b->cluster->channel, f->rq->api_key, forward_version(f->rq),
				       f->rq->body, ATTEMPT_TIMEOUT_MS, forward_cb, f, &f->target,
				       &err) == 0) {
		f->in_flight = true;
		return;
	}
	retry_or_fail(f);
}

int kp_forward_request(struct kp_request *rq, kp_error *err)
{
	struct kp_broker_cluster *c = rq->broker->cluster;
	struct kp_forward *f = calloc(1, sizeof(*f));

	if (!f || !(f->retry = event_new(rq->broker->base, -1, 0, retry_cb, f))) {
		free(f);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	f->b = rq->broker;
	f->rq = rq;
	f->deadline = kp_mono_ms() + FORWARD_TIMEOUT_MS;
	f->next = c->forwards;
	c->forwards = f;
	attempt(f);
	return 0;
}

static void ignore_cb(void *arg, const void *resp, const kp_error *err)
{
	const struct kp_create_topics_response *r = resp;

	if (r && r->topics_count > 0 && r->topics[0].error_code != KP_ERR_NONE &&
	    r->topics[0].error_code != KP_ERR_TOPIC_ALREADY_EXISTS)
		kp_diag_info("auto-creating topic %s: %s", r->topics[0].name,
			     kp_kafka_error_name(r->topics[0].error_code));
}

void kp_forward_create_topic(struct kp_broker *b, const char *name, int32_t partitions,
			     int16_t replication_factor)
{
	struct kp_create_topics_request rq;
	struct kp_create_topics_request_creatable_topic t;
	/* Kafka's GroupCoordinator.groupMetadataTopicConfigs: compacted, 100 MiB segments */
	struct kp_create_topics_request_creatable_topic_config offsets_configs[] = {
		{ "cleanup.policy", "compact" },
		{ "segment.bytes", "104857600" },
		{ "compression.type", "producer" },
	};
	kp_error err;

	kp_create_topics_request_init(&rq);
	kp_create_topics_request_creatable_topic_init(&t);
	t.name = (char *)name;
	t.num_partitions = partitions;
	t.replication_factor = replication_factor;
	if (strcmp(name, "__consumer_offsets") == 0) {
		t.configs = offsets_configs;
		t.configs_count = (int32_t)(sizeof(offsets_configs) / sizeof(offsets_configs[0]));
	}
	rq.topics = &t;
	rq.topics_count = 1;
	rq.timeout_ms = FORWARD_TIMEOUT_MS;
	if (kp_controller_channel_send(b->cluster->channel, KP_API_CREATE_TOPICS, 5, &rq,
				       ATTEMPT_TIMEOUT_MS, ignore_cb, NULL, NULL, &err) < 0)
		kp_diag_debug("auto-creating topic %s: %s", name, err.msg);
}

void kp_forward_conn_closed(struct kp_broker *b, kp_net_conn *conn)
{
	struct kp_forward *f, *next;

	if (!b->cluster)
		return;
	for (f = b->cluster->forwards; f; f = next) {
		next = f->next;
		if (!f->rq || f->rq->conn != conn)
			continue;
		kp_request_free(f->rq);
		f->rq = NULL;
		if (!f->in_flight)
			forward_free(f);
	}
}

void kp_forward_free_all(struct kp_broker *b)
{
	while (b->cluster->forwards)
		forward_free(b->cluster->forwards);
}
