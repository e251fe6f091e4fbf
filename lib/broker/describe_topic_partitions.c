/*
 * describe_topic_partitions.c - DescribeTopicPartitions (key 75), version
 * 0 (KIP-966), on a KRaft cluster member, from the metadata image, as
 * Kafka's DescribeTopicPartitionsRequestHandler and
 * KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse answer it:
 *   topics      the named ones (each once), or every topic when none is
 *               named, from the cursor's topic on, in name order
 *   pagination  at most min(ResponsePartitionLimit, 2000) partitions, at
 *               least one (Kafka 4's max.request.partition.size.limit);
 *               NextCursor names the first partition left out (or the
 *               first topic not reached), null when all were given
 *   partitions  leader (-1 when not alive), leader epoch, replicas, ISR,
 *               ELR, last known ELR and offline replicas (not alive) as
 *               the image has them; no partition error codes
 *   errors      a named topic the image lacks is UNKNOWN_TOPIC_OR_PARTITION
 *               (INVALID_TOPIC_EXCEPTION for an invalid name), with the
 *               zero id and no partitions; a cursor topic missing from the
 *               named ones fails the request: INVALID_REQUEST for every
 *               named topic (DescribeTopicPartitionsRequest.getErrorResponse)
 * Authorized operations: every operation on a topic (no authorizer).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"

#define PARTITION_LIMIT 2000 /* Kafka's max.request.partition.size.limit default */

typedef struct kp_describe_topic_partitions_request dtp_request;
typedef struct kp_describe_topic_partitions_response dtp_response;
typedef struct kp_describe_topic_partitions_response_describe_topic_partitions_response_topic
	dtp_topic;
typedef struct kp_describe_topic_partitions_response_describe_topic_partitions_response_partition
	dtp_partition;

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * topic_names - the topics to describe, sorted and unique, from the
 * cursor's topic on, into rq's arena. -1 when out of memory.
 */
static int topic_names(struct kp_request *rq, const char *from, char ***out, size_t *n)
{
	const dtp_request *req = rq->body;
	const kp_image *img = rq->broker->cluster->image;
	size_t cap = req->topics_count > 0 ? (size_t)req->topics_count : kp_image_topic_count(img);
	char **names = kp_request_alloc(rq, sizeof(*names) * (cap + 1));
	size_t k = 0;

	if (!names)
		return -1;
	if (req->topics_count > 0) {
		for (int32_t i = 0; i < req->topics_count; i++)
			if (req->topics[i].name && strcmp(req->topics[i].name, from) >= 0)
				names[k++] = req->topics[i].name;
	} else {
		for (const struct kp_image_topic *t = kp_image_topic_first(img); t && k < cap;
		     t = kp_image_topic_next(img, t))
			if (strcmp(t->name, from) >= 0)
				names[k++] = t->name;
	}
	qsort(names, k, sizeof(*names), name_cmp);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || strcmp(names[*n - 1], names[i]) != 0)
			names[(*n)++] = names[i];
	*out = names;
	return 0;
}

/* offline - the replicas of `ip` that are not alive, into rq's arena. */
static int offline(struct kp_request *rq, const struct kp_image_partition *ip, dtp_partition *p)
{
	int32_t n = ip->replicas.count;

	p->offline_replicas = kp_request_alloc(rq, sizeof(int32_t) * (size_t)(n ? n : 1));
	if (!p->offline_replicas)
		return -1;
	p->offline_replicas_count = 0;
	for (int32_t i = 0; i < n; i++)
		if (!kp_broker_cluster_broker_alive(rq->broker, ip->replicas.ids[i]))
			p->offline_replicas[p->offline_replicas_count++] = ip->replicas.ids[i];
	return 0;
}

static int fill_partition(struct kp_request *rq, const struct kp_image_partition *ip,
			  dtp_partition *p)
{
	p->partition_index = ip->partition_id;
	p->leader_id = kp_broker_cluster_broker_alive(rq->broker, ip->leader) ? ip->leader : -1;
	p->leader_epoch = ip->leader_epoch;
	p->replica_nodes = ip->replicas.ids;
	p->replica_nodes_count = ip->replicas.count;
	p->isr_nodes = ip->isr.ids;
	p->isr_nodes_count = ip->isr.count;
	p->eligible_leader_replicas = ip->elr.ids;
	p->eligible_leader_replicas_count = ip->elr.count;
	p->last_known_elr = ip->last_known_elr.ids;
	p->last_known_elr_count = ip->last_known_elr.count;
	return offline(rq, ip, p);
}

/*
 * fill_topic - image topic `it`'s partitions from `start`, at most
 * *remaining of them (which goes down); *next is the first partition
 * left out, -1 when none was.
 */
static int fill_topic(struct kp_request *rq, const struct kp_image_topic *it, int32_t start,
		      int32_t *remaining, int32_t *next, dtp_topic *out)
{
	int32_t count = it->partition_slots;
	int32_t upper = start + *remaining < count && start + *remaining >= start
				? start + *remaining : count;
	int32_t k = 0;

	out->name = it->name;
	out->topic_id = it->id;
	out->is_internal = kp_topic_name_internal(it->name);
	out->topic_authorized_operations = KP_TOPIC_OPERATIONS;
	*next = upper < count ? upper : -1;
	out->partitions = kp_describe_topic_partitions_response_describe_topic_partitions_response_partition_new(
		&rq->arena, (size_t)(upper > start ? upper - start : 0) + 1);
	if (!out->partitions)
		return -1;
	for (int32_t i = start; i < upper; i++) {
		const struct kp_image_partition *ip = kp_image_topic_partition(it, i);

		if (ip && fill_partition(rq, ip, &out->partitions[k++]) < 0)
			return -1;
	}
	out->partitions_count = k;
	*remaining -= k;
	return 0;
}

/* fill_missing - the answer for a topic the image lacks. */
static void fill_missing(const char *name, dtp_topic *out)
{
	out->name = (char *)name;
	out->error_code = kp_topic_name_valid(name) ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION
						    : KP_ERR_INVALID_TOPIC_EXCEPTION;
	out->is_internal = kp_topic_name_internal(name);
	out->topic_authorized_operations = KP_TOPIC_OPERATIONS;
	out->partitions_count = 0;
}

/* set_cursor - NextCursor at `name`/`partition`. */
static void set_cursor(dtp_response *resp, const char *name, int32_t partition)
{
	resp->next_cursor_is_null = false;
	resp->next_cursor.topic_name = (char *)name;
	resp->next_cursor.partition_index = partition;
}

static int describe(struct kp_request *rq, char **names, size_t n, int32_t first,
		    dtp_response *resp)
{
	const dtp_request *req = rq->body;
	const kp_image *img = rq->broker->cluster->image;
	int32_t remaining = req->response_partition_limit < PARTITION_LIMIT
				    ? req->response_partition_limit : PARTITION_LIMIT;

	if (remaining < 1)
		remaining = 1;
	resp->topics = kp_describe_topic_partitions_response_describe_topic_partitions_response_topic_new(
		&rq->arena, n + 1);
	if (!resp->topics)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct kp_image_topic *it = kp_image_topic_by_name(img, names[i]);
		dtp_topic *out = &resp->topics[resp->topics_count];
		int32_t next;

		if (remaining == 0) {
			set_cursor(resp, names[i], 0);
			break;
		}
		if (!it) {
			if (req->topics_count > 0) {
				fill_missing(names[i], out);
				resp->topics_count++;
			}
			continue;
		}
		if (fill_topic(rq, it, i == 0 ? first : 0, &remaining, &next, out) < 0)
			return -1;
		resp->topics_count++;
		if (next >= 0) {
			set_cursor(resp, names[i], next);
			break;
		}
	}
	return 0;
}

/* cursor_named - whether the cursor's topic is among the named topics. */
static bool cursor_named(const dtp_request *req)
{
	for (int32_t i = 0; i < req->topics_count; i++)
		if (req->topics[i].name && strcmp(req->topics[i].name, req->cursor.topic_name) == 0)
			return true;
	return false;
}

/* fail_all - every named topic with `error` (the request's error response). */
static int fail_all(struct kp_request *rq, int16_t error, dtp_response *resp)
{
	const dtp_request *req = rq->body;

	resp->topics = kp_describe_topic_partitions_response_describe_topic_partitions_response_topic_new(
		&rq->arena, (size_t)req->topics_count + 1);
	if (!resp->topics)
		return -1;
	for (int32_t i = 0; i < req->topics_count; i++) {
		resp->topics[i].name = req->topics[i].name;
		resp->topics[i].error_code = error;
	}
	resp->topics_count = req->topics_count;
	return 0;
}

int kp_handle_describe_topic_partitions(struct kp_request *rq, kp_error *err)
{
	const dtp_request *req = rq->body;
	dtp_response *resp = kp_describe_topic_partitions_response_new(&rq->arena, 1);
	const char *from = !req->cursor_is_null && req->cursor.topic_name ? req->cursor.topic_name
									  : "";
	char **names;
	size_t n;
	int rc;

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->next_cursor_is_null = true;
	if (!req->cursor_is_null && req->topics_count > 0 && !cursor_named(req))
		rc = fail_all(rq, KP_ERR_INVALID_REQUEST, resp);
	else if ((rc = topic_names(rq, from, &names, &n)) == 0)
		rc = describe(rq, names, n,
			      n > 0 && *from && strcmp(names[0], from) == 0
				      ? req->cursor.partition_index : 0,
			      resp);
	if (rc < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	KP_RESPOND(rq, DESCRIBE_TOPIC_PARTITIONS, resp);
	return 0;
}
