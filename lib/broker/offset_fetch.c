/*
 * offset_fetch.c - OffsetFetch (key 9, v0-9).
 *
 * v0-7 ask for one group, v8+ for several (KIP-709); a null topic list
 * (v2+) asks for every offset the group has. A partition with no
 * committed offset answers offset -1, leader epoch -1 and metadata ""
 * with no error, also for an unknown group, as Kafka does. There are no
 * pending transactional offsets, so require_stable (KIP-447) never
 * answers UNSTABLE_OFFSET_COMMIT.
 */
#include <string.h>

#include "broker/internal.h"
#include "group/consumer_group.h"

typedef struct kp_offset_fetch_response_offset_fetch_response_topics of_topic;
typedef struct kp_offset_fetch_response_offset_fetch_response_partitions of_partition;

/* A growing list of topics with their partitions, in the request's arena. */
struct of_list {
	struct kp_request *rq;
	of_topic *topics;
	int32_t count, cap;
	bool failed;
};

static of_topic *list_topic(struct of_list *l, const char *name)
{
	for (int32_t i = 0; i < l->count; i++)
		if (strcmp(l->topics[i].name, name) == 0)
			return &l->topics[i];
	if (l->count == l->cap) {
		int32_t cap = l->cap ? l->cap * 2 : 8;
		of_topic *t = kp_offset_fetch_response_offset_fetch_response_topics_new(&l->rq->arena,
										     (size_t)cap);

		if (!t)
			return NULL;
		if (l->count)
			memcpy(t, l->topics, sizeof(*t) * (size_t)l->count);
		l->topics = t;
		l->cap = cap;
	}
	of_topic *t = &l->topics[l->count++];
	char *copy = kp_request_alloc(l->rq, strlen(name) + 1);

	if (!copy)
		return NULL;
	strcpy(copy, name);
	t->name = copy;
	t->partitions = NULL;
	t->partitions_count = 0;
	return t;
}

/* add - append one partition's answer (o NULL: none committed). */
static void add(struct of_list *l, const char *topic, int32_t partition,
		const struct kp_group_offset *o)
{
	of_topic *t = list_topic(l, topic);
	of_partition *ps;

	if (!t || !(ps = kp_offset_fetch_response_offset_fetch_response_partitions_new(
			    &l->rq->arena, (size_t)t->partitions_count + 1))) {
		l->failed = true;
		return;
	}
	if (t->partitions_count)
		memcpy(ps, t->partitions, sizeof(*ps) * (size_t)t->partitions_count);
	of_partition *p = &ps[t->partitions_count];

	p->partition_index = partition;
	p->committed_offset = o ? o->offset : -1;
	p->committed_leader_epoch = o ? o->leader_epoch : -1;
	p->metadata = (char *)(o ? o->metadata : "");
	p->error_code = KP_ERR_NONE;
	t->partitions = ps;
	t->partitions_count++;
}

static void add_cb(void *arg, const char *topic, int32_t partition, const struct kp_group_offset *o)
{
	add(arg, topic, partition, o);
}

/* fetch_group - the answer for one group: `topics` (n of them) or all when all. */
static int fetch_group(struct kp_request *rq, const char *group_id,
		       const struct kp_offset_fetch_request_offset_fetch_request_topics *topics,
		       int32_t n, bool all, struct kp_offset_fetch_response_offset_fetch_response_group *out)
{
	struct of_list l = { .rq = rq };
	kp_group_coord *gc = rq->broker->groups;

	out->group_id = (char *)group_id;
	if (all) {
		kp_group_offsets_each(gc, group_id, add_cb, &l);
	} else {
		for (int32_t i = 0; i < n; i++)
			for (int32_t j = 0; j < topics[i].partition_indexes_count; j++) {
				int32_t p = topics[i].partition_indexes[j];

				add(&l, topics[i].name ? topics[i].name : "", p,
				    kp_group_offset_get(gc, group_id, topics[i].name, p));
			}
	}
	out->topics = l.topics;
	out->topics_count = l.count;
	return l.failed ? -1 : 0;
}

/* respond_single - v0-7: the one group's answer moved to the top level. */
static void respond_single(struct kp_request *rq, struct kp_offset_fetch_response *resp,
			   const struct kp_offset_fetch_response_offset_fetch_response_group *g)
{
	/* the v0-7 topic and partition structs have the same members in the same order */
	resp->topics = (struct kp_offset_fetch_response_offset_fetch_response_topic *)g->topics;
	resp->topics_count = g->topics_count;
	resp->error_code = g->error_code;
	KP_RESPOND(rq, OFFSET_FETCH, resp);
}

int kp_handle_offset_fetch(struct kp_request *rq, kp_error *err)
{
	const struct kp_offset_fetch_request *req = rq->body;
	struct kp_offset_fetch_response *resp = kp_offset_fetch_response_new(&rq->arena, 1);
	int32_t n = rq->version >= 8 ? (req->groups_count > 0 ? req->groups_count : 0) : 1;
	struct kp_offset_fetch_response_offset_fetch_response_group *gs =
		kp_offset_fetch_response_offset_fetch_response_group_new(&rq->arena, (size_t)n);

	if (!resp || !gs)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (rq->version < 8) {
		if (fetch_group(rq, req->group_id ? req->group_id : "",
				(const struct kp_offset_fetch_request_offset_fetch_request_topics *)req->topics,
				req->topics_count > 0 ? req->topics_count : 0,
				req->topics_count < 0, &gs[0]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		respond_single(rq, resp, &gs[0]);
		return 0;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_offset_fetch_request_offset_fetch_request_group *g = &req->groups[i];

		if (rq->version >= 9 &&
		    (gs[i].error_code = kp_cg_fetch_check(rq->broker->groups, g->group_id,
							  g->member_id, g->member_epoch))) {
			gs[i].group_id = g->group_id;
			gs[i].topics = NULL;
			gs[i].topics_count = 0;
			continue;
		}
		if (fetch_group(rq, g->group_id ? g->group_id : "", g->topics,
				g->topics_count > 0 ? g->topics_count : 0, g->topics_count < 0,
				&gs[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	resp->groups = gs;
	resp->groups_count = n;
	KP_RESPOND(rq, OFFSET_FETCH, resp);
	return 0;
}
