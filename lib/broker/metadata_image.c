/*
 * metadata_image.c - Metadata (key 3) on a KRaft cluster member, answered
 * from the metadata image as Kafka's KRaftMetadataCache does:
 *   brokers     every registered broker not fenced, with its endpoint for
 *               the listener the client came in on (brokers without one
 *               are left out), and its rack
 *   controller  a live broker (kp_broker_cluster_controller_id): Kafka's brokers
 *               name a random alive broker, since clients cannot reach
 *               the controllers and admin requests are forwarded
 *   partitions  leader (-1 and LEADER_NOT_AVAILABLE when it is not alive),
 *               leader epoch, replicas, ISR and offline replicas (replicas
 *               not alive) as the image has them
 *   auto-create a topic the image lacks is asked of the controller
 *               (Kafka's AutoTopicCreationManager); the request then
 *               waits in the purgatory, up to AUTO_CREATE_WAIT_MS, for
 *               the image to have it, and a topic still missing is
 *               answered LEADER_NOT_AVAILABLE, so clients ask again.
 *               Kafka answers at once; waiting spares clients a retry
 *               (old ones give up on a topic they just produced to).
 * The per-version rules are metadata.c's.
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/forward.h"
#include "broker/internal.h"

#define AUTO_CREATE_WAIT_MS 1000

typedef struct kp_metadata_response_metadata_response_topic md_topic;
typedef struct kp_metadata_response_metadata_response_partition md_partition;
typedef struct kp_metadata_response_metadata_response_broker md_broker;

/* put_broker - a Metadata broker from `ib` (kp_broker_cluster_put_fn). */
static void put_broker(void *elem, const struct kp_image_broker *ib,
		       const struct kp_image_endpoint *ep)
{
	md_broker *out = elem;

	out->node_id = ib->id;
	out->host = ep->host;
	out->port = ep->port;
	out->rack = ib->rack;
}

/* offline - the replicas of `ip` that are not alive, into rq's arena. */
static int offline(struct kp_request *rq, const struct kp_image_partition *ip, md_partition *out)
{
	int32_t n = ip->replicas.count;

	out->offline_replicas = kp_request_alloc(rq, sizeof(int32_t) * (size_t)(n ? n : 1));
	if (!out->offline_replicas)
		return -1;
	out->offline_replicas_count = 0;
	for (int32_t i = 0; i < n; i++)
		if (!kp_broker_cluster_broker_alive(rq->broker, ip->replicas.ids[i]))
			out->offline_replicas[out->offline_replicas_count++] = ip->replicas.ids[i];
	return 0;
}

/*
 * local_offline - whether this broker should lead partition `i` of `it`
 * but its log could not be opened: answered as Kafka answers a leader
 * whose log dir is offline (KAFKA_STORAGE_ERROR, no leader, no ISR).
 * Other brokers learn of it only once log dir failures reach the
 * controller (KIP-858, not built yet).
 */
static bool local_offline(struct kp_broker *b, const struct kp_image_topic *it,
			  const struct kp_image_partition *ip, int32_t i)
{
	struct kp_topic *t;

	if (ip->leader != b->cfg.node_id || !(t = kp_topics_find_id(b->topics, &it->id)))
		return false;
	return i < t->partition_count && t->partitions[i].hosted &&
	       !kp_partition_online(&t->partitions[i]);
}

static int fill_partitions(struct kp_request *rq, const struct kp_image_topic *it, md_topic *out)
{
	md_partition *ps = kp_request_alloc(rq, sizeof(*ps) * (size_t)(it->partition_count + 1));
	int32_t k = 0;

	if (!ps)
		return -1;
	for (int32_t i = 0; i < it->partition_slots; i++) {
		const struct kp_image_partition *ip = kp_image_topic_partition(it, i);
		md_partition *p = &ps[k];

		if (!ip)
			continue;
		memset(p, 0, sizeof(*p));
		p->partition_index = i;
		p->leader_id = ip->leader;
		p->leader_epoch = ip->leader_epoch;
		p->replica_nodes = ip->replicas.ids;
		p->replica_nodes_count = ip->replicas.count;
		p->isr_nodes = ip->isr.ids;
		p->isr_nodes_count = ip->isr.count;
		if (!kp_broker_cluster_broker_alive(rq->broker, ip->leader)) {
			p->error_code = KP_ERR_LEADER_NOT_AVAILABLE;
			p->leader_id = -1;
		}
		if (offline(rq, ip, p) < 0)
			return -1;
		if (local_offline(rq->broker, it, ip, i)) {
			p->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
			p->leader_id = -1;
			p->isr_nodes_count = 0;
			if (p->offline_replicas_count < ip->replicas.count) /* this one: room left */
				p->offline_replicas[p->offline_replicas_count++] = rq->broker->cfg.node_id;
		}
		k++;
	}
	out->partitions = ps;
	out->partitions_count = k;
	return 0;
}

/* fill_topic - the answer for image topic `it`, or for `name` with `error` when it is NULL. */
static int fill_topic(struct kp_request *rq, const struct kp_image_topic *it, const char *name,
		      int16_t error, md_topic *out)
{
	const struct kp_metadata_request *req = rq->body;

	memset(out, 0, sizeof(*out));
	out->topic_authorized_operations = req->include_topic_authorized_operations
						   ? KP_TOPIC_OPERATIONS : KP_OPERATIONS_NOT_ASKED;
	out->error_code = error;
	out->name = it ? it->name : (char *)name;
	if (!it)
		return 0;
	out->topic_id = it->id;
	out->is_internal = kp_topic_name_internal(it->name);
	return fill_partitions(rq, it, out);
}

static int fill_all_topics(struct kp_request *rq, struct kp_metadata_response *resp)
{
	const kp_image *img = rq->broker->cluster->image;
	size_t n = kp_image_topic_count(img), k = 0;
	md_topic *out = kp_request_alloc(rq, sizeof(*out) * (n ? n : 1));

	if (!out)
		return -1;
	for (const struct kp_image_topic *it = kp_image_topic_first(img); it && k < n;
	     it = kp_image_topic_next(img, it))
		if (fill_topic(rq, it, NULL, KP_ERR_NONE, &out[k++]) < 0)
			return -1;
	resp->topics = out;
	resp->topics_count = (int32_t)k;
	return 0;
}

/* lookup - the image topic asked for by `rt`, or NULL with *error (auto-creating it). */
static const struct kp_image_topic *lookup(struct kp_request *rq,
					   const struct kp_metadata_request_metadata_request_topic *rt,
					   int16_t *error)
{
	const struct kp_metadata_request *req = rq->body;
	struct kp_broker *b = rq->broker;
	const struct kp_image_topic *it;

	*error = KP_ERR_NONE;
	if (!rt->name && rq->version >= 10) {
		it = kp_image_topic_by_id(b->cluster->image, &rt->topic_id);
		*error = it ? KP_ERR_NONE : KP_ERR_UNKNOWN_TOPIC_ID;
		return it;
	}
	it = kp_image_topic_by_name(b->cluster->image, rt->name ? rt->name : "");
	if (it)
		return it;
	if (!rt->name || !kp_topic_name_valid(rt->name)) {
		*error = KP_ERR_INVALID_TOPIC_EXCEPTION;
	} else if ((rq->version < 4 || req->allow_auto_topic_creation) && b->cfg.auto_create_topics) {
		kp_forward_create_topic(b, rt->name, b->cfg.num_partitions,
					b->cfg.default_replication_factor);
		*error = KP_ERR_LEADER_NOT_AVAILABLE;
	} else {
		*error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	return NULL;
}

static int fill_requested_topics(struct kp_request *rq, struct kp_metadata_response *resp)
{
	const struct kp_metadata_request *req = rq->body;
	md_topic *out = kp_request_alloc(rq, sizeof(*out) * (size_t)(req->topics_count + 1));

	if (!out)
		return -1;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_metadata_request_metadata_request_topic *rt = &req->topics[i];
		int16_t error;
		const struct kp_image_topic *it = lookup(rq, rt, &error);

		if (fill_topic(rq, it, rt->name, error, &out[i]) < 0)
			return -1;
		if (!it && !rt->name)
			out[i].topic_id = rt->topic_id;
	}
	resp->topics = out;
	resp->topics_count = req->topics_count;
	return 0;
}

/* respond - build the answer from the image as it is now and send it. */
static int respond(struct kp_request *rq, kp_error *err)
{
	const struct kp_metadata_request *req = rq->body;
	struct kp_metadata_response *resp = kp_metadata_response_new(&rq->arena, 1);
	bool all = req->topics_count < 0 || (rq->version == 0 && req->topics_count == 0);
	void *brokers;

	if (!resp || kp_broker_cluster_list_brokers(rq, sizeof(md_broker), put_broker, &brokers,
						    &resp->brokers_count) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->brokers = brokers;
	resp->cluster_id = rq->broker->cluster_id;
	resp->controller_id = kp_broker_cluster_controller_id(rq->broker);
	resp->cluster_authorized_operations = req->include_cluster_authorized_operations
						      ? KP_CLUSTER_OPERATIONS
						      : KP_OPERATIONS_NOT_ASKED;
	if ((all ? fill_all_topics(rq, resp) : fill_requested_topics(rq, resp)) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	KP_RESPOND(rq, METADATA, resp);
	return 0;
}

/*
 * missing_topics - whether rq names a topic the image lacks that it may
 * auto-create; with `ask`, ask the controller for each of them.
 */
static bool missing_topics(struct kp_request *rq, bool ask)
{
	const struct kp_metadata_request *req = rq->body;
	struct kp_broker *b = rq->broker;
	bool any = false;

	if (!b->cfg.auto_create_topics || (rq->version >= 4 && !req->allow_auto_topic_creation))
		return false;
	for (int32_t i = 0; i < req->topics_count && (ask || !any); i++) {
		const char *name = req->topics[i].name;

		if (!name || !kp_topic_name_valid(name) || kp_image_topic_by_name(b->cluster->image, name))
			continue;
		any = true;
		if (ask)
			kp_forward_create_topic(b, name, b->cfg.num_partitions,
						b->cfg.default_replication_factor);
	}
	return any;
}

/* creating - the pending test of a Metadata waiting for the topics it made the controller create. */
static bool creating(struct kp_request *rq)
{
	return missing_topics(rq, false);
}

int kp_metadata_from_image(struct kp_request *rq, kp_error *err)
{
	if (rq->broker->stopping || !missing_topics(rq, true))
		return respond(rq, err);
	return kp_request_wait_image(rq, AUTO_CREATE_WAIT_MS, creating, respond, err);
}
