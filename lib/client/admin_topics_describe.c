/*
 * admin_topics_describe.c - topics and their partitions, as Kafka's
 * Admin.describeTopics finds them: DescribeTopicPartitions (KIP-966),
 * page after page while the broker's NextCursor says more is left, where
 * the broker serves it; Metadata v4+ otherwise. Metadata is asked anyway,
 * for the controller id (for no topic when DescribeTopicPartitions has them).
 */
#include <stdlib.h>
#include <string.h>

#include "client/admin_topics_internal.h"

#define PAGE_PARTITIONS 2000 /* what Kafka's Admin asks for per page */
#define MAX_PAGES 100000

typedef struct kp_describe_topic_partitions_response_describe_topic_partitions_response_topic
	dtp_topic;
typedef struct kp_describe_topic_partitions_response_describe_topic_partitions_response_partition
	dtp_partition;
typedef struct kp_metadata_response_metadata_response_topic md_topic;

/* grow - make room for one more element at *arr (count *n, capacity *cap) in `a`. */
static int grow(kp_arena *a, void **arr, size_t n, size_t *cap, size_t size)
{
	void *bigger;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 16;
	if (!(bigger = kp_arena_alloc(a, *cap * size)))
		return -1;
	if (n)
		memcpy(bigger, *arr, n * size);
	*arr = bigger;
	return 0;
}

static void from_dtp_partition(const dtp_partition *p, struct kp_admin_partition *o)
{
	memset(o, 0, sizeof(*o));
	o->partition = p->partition_index;
	o->leader = p->leader_id;
	o->leader_epoch = p->leader_epoch;
	o->replicas = p->replica_nodes;
	o->nreplicas = p->replica_nodes_count > 0 ? p->replica_nodes_count : 0;
	o->isr = p->isr_nodes;
	o->nisr = p->isr_nodes_count > 0 ? p->isr_nodes_count : 0;
	o->offline = p->offline_replicas;
	o->noffline = p->offline_replicas_count > 0 ? p->offline_replicas_count : 0;
	o->error = p->error_code;
	o->log_start = o->log_end = -1;
}

/* add_dtp_topic - one page's topic t, after the last one when it continues it. */
static int add_dtp_topic(kp_arena *a, const dtp_topic *t, struct kp_admin_topics *out,
			 size_t *cap, size_t *pcap)
{
	struct kp_admin_topic *o = out->ntopics ? &out->topics[out->ntopics - 1] : NULL;

	if (!o || !o->name || !t->name || strcmp(o->name, t->name) != 0) {
		if (grow(a, (void **)&out->topics, out->ntopics, cap, sizeof(*o)) < 0)
			return -1;
		o = &out->topics[out->ntopics++];
		memset(o, 0, sizeof(*o));
		o->name = t->name ? t->name : "";
		memcpy(o->id, t->topic_id.b, sizeof(o->id));
		o->internal = t->is_internal;
		o->error = t->error_code;
		*pcap = 0;
	}
	for (int32_t i = 0; i < t->partitions_count; i++) {
		if (grow(a, (void **)&o->partitions, (size_t)o->npartitions, pcap,
			 sizeof(*o->partitions)) < 0)
			return -1;
		from_dtp_partition(&t->partitions[i], &o->partitions[o->npartitions++]);
	}
	return 0;
}

/* by_dtp - the topics page by page with DescribeTopicPartitions on `conn`. */
static int by_dtp(kp_cluster *c, int32_t node, kp_conn *conn, const char *const *names,
		  size_t n, kp_arena *a, struct kp_admin_topics *out, kp_error *err)
{
	struct kp_describe_topic_partitions_request req;
	struct kp_describe_topic_partitions_response resp;
	size_t cap = 0, pcap = 0;

	kp_msg_init(&kp_describe_topic_partitions_request_desc, &req);
	req.response_partition_limit = PAGE_PARTITIONS;
	req.topics = kp_describe_topic_partitions_request_topic_request_new(a, n + 1);
	if (!req.topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; names && i < n; i++)
		req.topics[i].name = (char *)names[i];
	req.topics_count = names ? (int32_t)n : 0;
	for (int page = 0; page < MAX_PAGES; page++) {
		if (kp_admin_call(c, node, conn, KP_API_DESCRIBE_TOPIC_PARTITIONS, 0, 0, &req, a, &resp,
				  NULL, err) < 0)
			return -1;
		for (int32_t i = 0; i < resp.topics_count; i++)
			if (add_dtp_topic(a, &resp.topics[i], out, &cap, &pcap) < 0)
				return kp_error_set(err, KP_ENOMEM, "out of memory");
		if (resp.next_cursor_is_null)
			return 0;
		req.cursor_is_null = false;
		req.cursor = (struct kp_describe_topic_partitions_request_cursor){
			resp.next_cursor.topic_name, resp.next_cursor.partition_index
		};
	}
	return kp_error_set(err, KP_EPROTO, "DescribeTopicPartitions: no end after %d pages",
			    MAX_PAGES);
}

/* from_metadata - the topics of a Metadata answer. */
static int from_metadata(kp_arena *a, const struct kp_metadata_response *md,
			 struct kp_admin_topics *out, kp_error *err)
{
	out->topics = kp_arena_alloc(a, sizeof(*out->topics) * ((size_t)md->topics_count + 1));
	if (!out->topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < md->topics_count; i++) {
		const md_topic *t = &md->topics[i];
		struct kp_admin_topic *o = &out->topics[out->ntopics++];

		o->name = t->name ? t->name : "";
		memcpy(o->id, t->topic_id.b, sizeof(o->id));
		o->internal = t->is_internal;
		o->error = t->error_code;
		o->partitions = kp_arena_alloc(a, sizeof(*o->partitions) *
						      ((size_t)t->partitions_count + 1));
		if (!o->partitions)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct kp_metadata_response_metadata_response_partition *p =
				&t->partitions[j];
			dtp_partition d = { .partition_index = p->partition_index,
					    .leader_id = p->leader_id,
					    .leader_epoch = p->leader_epoch,
					    .replica_nodes = p->replica_nodes,
					    .replica_nodes_count = p->replica_nodes_count,
					    .isr_nodes = p->isr_nodes,
					    .isr_nodes_count = p->isr_nodes_count,
					    .offline_replicas = p->offline_replicas,
					    .offline_replicas_count = p->offline_replicas_count,
					    .error_code = p->error_code };

			from_dtp_partition(&d, &o->partitions[o->npartitions++]);
		}
	}
	return 0;
}

static int topic_cmp(const void *x, const void *y)
{
	return strcmp(((const struct kp_admin_topic *)x)->name,
		      ((const struct kp_admin_topic *)y)->name);
}

static int partition_cmp(const void *x, const void *y)
{
	int32_t a = ((const struct kp_admin_partition *)x)->partition;
	int32_t b = ((const struct kp_admin_partition *)y)->partition;

	return (a > b) - (a < b);
}

/* tidy - topics by name, each once; partitions by index. */
static void tidy(struct kp_admin_topics *out)
{
	size_t k = 0;

	if (out->ntopics == 0)
		return;
	qsort(out->topics, out->ntopics, sizeof(*out->topics), topic_cmp);
	for (size_t i = 0; i < out->ntopics; i++)
		if (k == 0 || strcmp(out->topics[k - 1].name, out->topics[i].name) != 0)
			out->topics[k++] = out->topics[i];
	out->ntopics = k;
	for (size_t i = 0; i < k; i++)
		if (out->topics[i].npartitions > 1)
			qsort(out->topics[i].partitions, (size_t)out->topics[i].npartitions,
			      sizeof(*out->topics[i].partitions), partition_cmp);
}

int kp_admin_describe_topics(kp_cluster *c, const char *const *names, size_t n, kp_arena *a,
			     struct kp_admin_topics *out, kp_error *err)
{
	struct kp_metadata_response md;
	int32_t node;
	kp_conn *conn;
	bool dtp;

	memset(out, 0, sizeof(*out));
	out->controller = -1;
	if (names && n == 0)
		return 0;
	if (!(conn = kp_admin_any_conn(c, &node, err)))
		return -1;
	dtp = kp_conn_pick_version(conn, KP_API_DESCRIBE_TOPIC_PARTITIONS, 0, 0, NULL) >= 0;
	if (kp_admin_metadata(c, dtp ? (const char *const[]){ NULL } : names, dtp ? 0 : n, a, &md,
			      err) < 0) /* with DescribeTopicPartitions: for the controller only */
		return -1;
	out->controller = md.controller_id;
	if (dtp ? (!(conn = kp_admin_any_conn(c, &node, err)) ||
		   by_dtp(c, node, conn, names, n, a, out, err) < 0)
		: from_metadata(a, &md, out, err) < 0)
		return -1;
	tidy(out);
	return 0;
}
