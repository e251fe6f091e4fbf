/*
 * admin_topics_offsets.c - the log start and end offsets of described
 * partitions: ListOffsets (v1+, one offset per partition) with EARLIEST
 * (-2) and LATEST (-1) timestamps, read_uncommitted, sent to each
 * partition's leader; a partition whose leader moved meanwhile is asked
 * again of its new leader (fresh metadata) until request.timeout.ms.
 */
#include <string.h>

#include "client/admin_topics_internal.h"
#include "util/clock.h"

#define EARLIEST (-2)
#define LATEST (-1)

typedef struct kp_list_offsets_request_list_offsets_topic lo_topic;
typedef struct kp_list_offsets_response_list_offsets_partition_response lo_answer;

/*
 * wanted - whether partition p still needs asking of `leader` at `when`:
 * its start (EARLIEST) first, then its end (LATEST).
 */
static bool wanted(const struct kp_admin_partition *p, int32_t leader, int64_t when)
{
	if (p->leader != leader)
		return false;
	if (when == LATEST)
		return p->log_start >= 0 && p->log_end < 0;
	return p->log_start < 0 && (p->offsets_error == 0 || kp_admin_retry_leader(p->offsets_error));
}

/* build - the ListOffsets request for `leader`'s partitions at `when`, in `a`. */
static int build(kp_arena *a, const struct kp_admin_topics *t, int32_t leader, int64_t when,
		 struct kp_list_offsets_request *req)
{
	kp_msg_init(&kp_list_offsets_request_desc, req);
	req->replica_id = -1;
	req->topics = kp_list_offsets_request_list_offsets_topic_new(a, t->ntopics + 1);
	if (!req->topics)
		return -1;
	for (size_t i = 0; i < t->ntopics; i++) {
		const struct kp_admin_topic *tp = &t->topics[i];
		lo_topic *o = &req->topics[req->topics_count];

		o->name = (char *)tp->name;
		o->partitions = kp_list_offsets_request_list_offsets_partition_new(
			a, (size_t)tp->npartitions + 1);
		if (!o->partitions)
			return -1;
		for (int32_t j = 0; j < tp->npartitions; j++)
			if (wanted(&tp->partitions[j], leader, when)) {
				o->partitions[o->partitions_count].partition_index =
					tp->partitions[j].partition;
				o->partitions[o->partitions_count++].timestamp = when;
			}
		if (o->partitions_count > 0)
			req->topics_count++;
	}
	return 0;
}

/* find - the partition `topic`/`partition` of `t`, or NULL. */
static struct kp_admin_partition *find(struct kp_admin_topics *t, const char *topic,
				       int32_t partition)
{
	for (size_t i = 0; i < t->ntopics; i++) {
		if (!topic || strcmp(t->topics[i].name, topic) != 0)
			continue;
		for (int32_t j = 0; j < t->topics[i].npartitions; j++)
			if (t->topics[i].partitions[j].partition == partition)
				return &t->topics[i].partitions[j];
	}
	return NULL;
}

/* ask - one ListOffsets at `when` to `leader`, answers into the partitions. */
static int ask(kp_cluster *c, struct kp_admin_topics *t, int32_t leader, int64_t when,
	       kp_arena *a, kp_error *err)
{
	struct kp_list_offsets_request req;
	struct kp_list_offsets_response resp;
	kp_conn *conn;

	if (build(a, t, leader, when, &req) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (req.topics_count == 0)
		return 0;
	if (!(conn = kp_admin_node_conn(c, leader, err)) ||
	    kp_admin_call(c, leader, conn, KP_API_LIST_OFFSETS, 1, KP_CLIENT_LIST_OFFSETS_MAX, &req,
			  a, &resp, NULL, err) < 0)
		return -1;
	for (int32_t i = 0; i < resp.topics_count; i++)
		for (int32_t j = 0; j < resp.topics[i].partitions_count; j++) {
			const lo_answer *r = &resp.topics[i].partitions[j];
			struct kp_admin_partition *p = find(t, resp.topics[i].name, r->partition_index);

			if (!p)
				continue;
			p->offsets_error = r->error_code;
			if (r->error_code != 0)
				p->log_start = -1; /* a half-answered partition is asked again */
			else if (when == EARLIEST)
				p->log_start = r->offset;
			else
				p->log_end = r->offset;
		}
	return 0;
}

/* unreachable - the partitions led by `leader`, which cannot be reached: NETWORK_EXCEPTION. */
static void unreachable(struct kp_admin_topics *t, int32_t leader)
{
	for (size_t i = 0; i < t->ntopics; i++)
		for (int32_t j = 0; j < t->topics[i].npartitions; j++) {
			struct kp_admin_partition *p = &t->topics[i].partitions[j];

			if (p->leader == leader && p->log_end < 0) {
				p->log_start = -1;
				p->offsets_error = KP_ERR_NETWORK_EXCEPTION;
			}
		}
}

/* pass - ask each leader that has partitions left, once; 0 or -1. */
static int pass(kp_cluster *c, struct kp_admin_topics *t, kp_arena *a, kp_error *err)
{
	int32_t asked[256];
	size_t nasked = 0;

	for (size_t i = 0; i < t->ntopics; i++)
		for (int32_t j = 0; j < t->topics[i].npartitions; j++) {
			int32_t leader = t->topics[i].partitions[j].leader;
			size_t k = 0;

			while (k < nasked && asked[k] != leader)
				k++;
			if (leader < 0 || k < nasked ||
			    !wanted(&t->topics[i].partitions[j], leader, EARLIEST))
				continue;
			if (nasked < sizeof(asked) / sizeof(asked[0]))
				asked[nasked++] = leader;
			if (ask(c, t, leader, EARLIEST, a, err) < 0 ||
			    ask(c, t, leader, LATEST, a, err) < 0) {
				if (!err || (err->code != KP_ECONN && err->code != KP_ETIMEDOUT))
					return -1;
				unreachable(t, leader); /* the others may still answer */
			}
		}
	return 0;
}

/* relead - fresh leaders for the partitions whose leader moved; whether any is left. */
static bool relead(kp_cluster *c, struct kp_admin_topics *t)
{
	bool left = false;

	for (size_t i = 0; i < t->ntopics; i++)
		for (int32_t j = 0; j < t->topics[i].npartitions; j++) {
			struct kp_admin_partition *p = &t->topics[i].partitions[j];
			const char *name = t->topics[i].name;
			int16_t error;

			if (p->log_start >= 0 || p->leader < 0 ||
			    !kp_admin_retry_leader(p->offsets_error))
				continue;
			if (kp_admin_leaders(c, &name, &p->partition, 1, &p->leader, &error, NULL) < 0)
				continue;
			if (p->leader < 0)
				p->offsets_error = error; /* leaderless now: not asked again */
			else
				left = true;
		}
	return left;
}

int kp_admin_list_offsets(kp_cluster *c, struct kp_admin_topics *t, kp_error *err)
{
	int64_t deadline = kp_admin_deadline(c);
	int backoff = kp_cluster_config(c)->retry_backoff_ms;
	kp_arena a;
	int rc = 0;

	for (size_t i = 0; i < t->ntopics; i++)
		for (int32_t j = 0; j < t->topics[i].npartitions; j++) {
			struct kp_admin_partition *p = &t->topics[i].partitions[j];

			p->log_start = p->log_end = -1;
			p->offsets_error = p->leader < 0 ? KP_ERR_LEADER_NOT_AVAILABLE : 0;
		}
	kp_arena_init(&a);
	for (;;) {
		if ((rc = pass(c, t, &a, err)) < 0 || kp_mono_ms() + backoff >= deadline ||
		    !relead(c, t))
			break;
		kp_sleep_ms(backoff);
	}
	kp_arena_free(&a);
	return rc;
}
