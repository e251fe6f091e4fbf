/*
 * admin_groups_logoffsets.c - partitions' log start, log end and
 * by-timestamp offsets with ListOffsets, one request per partition leader;
 * see admin_groups.h (kp_groups_log_offsets).
 */
#include "client/admin_groups_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/clock.h"

#define LIST_OFFSETS_MIN 1
#define ATTEMPTS 5

typedef struct kp_list_offsets_request_list_offsets_topic lo_topic;
typedef struct kp_list_offsets_response_list_offsets_partition_response lo_answer;

struct lo {
	kp_cluster *c;
	const struct kp_tp *tps;
	size_t n;
	int64_t when;
	int64_t *out;
	int16_t *code;
	bool *pending;  /* still to ask */
	int32_t *leader;
};

/* The request's topics for the pending partitions led by `leader`, in `a`. */
static lo_topic *request_topics(const struct lo *x, int32_t leader, kp_arena *a, int32_t *count)
{
	lo_topic *t = kp_list_offsets_request_list_offsets_topic_new(a, x->n + 1);
	int32_t nt = 0, k;

	for (size_t i = 0; t && i < x->n; i++) {
		if (!x->pending[i] || x->leader[i] != leader)
			continue;
		for (k = 0; k < nt && strcmp(t[k].name, x->tps[i].topic) != 0; k++)
			;
		if (k == nt) {
			t[nt].name = (char *)x->tps[i].topic;
			t[nt].partitions = kp_list_offsets_request_list_offsets_partition_new(a, x->n);
			if (!t[nt++].partitions)
				return NULL;
		}
		t[k].partitions[t[k].partitions_count++] =
			(struct kp_list_offsets_request_list_offsets_partition){
				x->tps[i].partition, -1, x->when, 1 };
	}
	*count = nt;
	return t;
}

/* Take one answered partition: done, or still pending when its error is retriable. */
static void take(struct lo *x, int32_t leader, const char *topic, const lo_answer *p)
{
	for (size_t i = 0; i < x->n; i++) {
		if (!x->pending[i] || x->leader[i] != leader || x->tps[i].partition != p->partition_index ||
		    strcmp(x->tps[i].topic, topic ? topic : "") != 0)
			continue;
		x->code[i] = p->error_code;
		if (!p->error_code)
			x->out[i] = p->offset; /* v1+: one offset, not v0's old_style_offsets */
		x->pending[i] = p->error_code && kp_retriable(p->error_code);
	}
}

/* One ListOffsets to `leader` for its pending partitions; failures leave them pending. */
static void ask_leader(struct lo *x, int32_t leader)
{
	const struct kp_client_config *cc = kp_cluster_config(x->c);
	struct kp_list_offsets_request req;
	struct kp_list_offsets_response resp;
	kp_conn *conn;
	kp_arena a;
	int v;

	for (size_t i = 0; i < x->n; i++)
		if (x->pending[i] && x->leader[i] == leader)
			x->code[i] = KP_ERR_NETWORK_EXCEPTION; /* until answered */
	if (!(conn = kp_cluster_conn(x->c, leader, NULL)) ||
	    (v = kp_conn_pick_version(conn, KP_API_LIST_OFFSETS, LIST_OFFSETS_MIN,
				      KP_CLIENT_LIST_OFFSETS_MAX, NULL)) < 0)
		return;
	kp_arena_init(&a);
	kp_list_offsets_request_init(&req);
	req.replica_id = -1;
	req.isolation_level = 0; /* read_uncommitted, as kafka-consumer-groups.sh */
	if ((req.topics = request_topics(x, leader, &a, &req.topics_count)) &&
	    kp_conn_call(conn, KP_API_LIST_OFFSETS, (int16_t)v, &req, &a, &resp, cc->request_timeout_ms,
			 NULL) == 0) {
		for (int32_t t = 0; t < resp.topics_count; t++)
			for (int32_t j = 0; j < resp.topics[t].partitions_count; j++)
				take(x, leader, resp.topics[t].name, &resp.topics[t].partitions[j]);
	} else if (req.topics) {
		kp_cluster_drop_conn(x->c, leader);
	}
	kp_arena_free(&a);
}

/* Whether tps[i] is the first partition of its topic in tps. */
static bool first_of_topic(const struct lo *x, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(x->tps[j].topic, x->tps[i].topic) == 0)
			return false;
	return true;
}

/* Look up every topic's metadata; partitions of unknown topics are done (with their error). */
static int lookup_topics(struct lo *x, kp_error *err)
{
	for (size_t i = 0; i < x->n; i++) {
		int16_t code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		int32_t np = 0;
		kp_error e;

		if (!first_of_topic(x, i))
			continue;
		if (kp_cluster_topic(x->c, x->tps[i].topic, &np, &e) < 0) {
			if (e.code != KP_ENOTFOUND && e.code != KP_EKAFKA) {
				if (err)
					*err = e;
				return -1;
			}
			np = -1;
			if (e.code == KP_EKAFKA)
				code = (int16_t)e.kafka_code;
		}
		for (size_t j = i; j < x->n; j++)
			if (strcmp(x->tps[j].topic, x->tps[i].topic) == 0 &&
			    (np < 0 || x->tps[j].partition < 0 || x->tps[j].partition >= np)) {
				x->pending[j] = false;
				x->code[j] = code;
			}
	}
	return 0;
}

/* Ask every leader of the pending partitions, ATTEMPTS rounds with a metadata refresh between. */
static void ask_all(struct lo *x)
{
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		bool any = false;

		for (size_t i = 0; i < x->n; i++)
			if (x->pending[i] && (x->leader[i] = kp_cluster_leader(x->c, x->tps[i].topic,
									      x->tps[i].partition)) < 0)
				x->code[i] = KP_ERR_LEADER_NOT_AVAILABLE;
		for (size_t i = 0; i < x->n; i++) {
			bool first = x->pending[i] && x->leader[i] >= 0;
			for (size_t j = 0; first && j < i; j++)
				first = !(x->pending[j] && x->leader[j] == x->leader[i]);
			if (first)
				ask_leader(x, x->leader[i]);
		}
		for (size_t i = 0; i < x->n; i++)
			any = any || x->pending[i];
		if (!any || attempt + 1 == ATTEMPTS)
			return;
		kp_sleep_ms(kp_cluster_config(x->c)->retry_backoff_ms);
		kp_cluster_refresh(x->c, NULL);
	}
}

/* Without `codes`: the first partition's failure as the call's error. */
static int first_failure(const struct lo *x, kp_error *err)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->code[i])
			return kp_error_kafka(err, x->code[i], "cannot look up the offsets of topic %s "
					      "partition %d", x->tps[i].topic, (int)x->tps[i].partition);
	return 0;
}

int kp_groups_log_offsets(kp_cluster *c, const struct kp_tp *tps, size_t n, int64_t when,
			  int64_t *out, int16_t *codes, kp_error *err)
{
	struct lo x = { c, tps, n, when, out, codes, NULL, NULL };
	int rc = -1;

	x.pending = calloc(n + 1, sizeof *x.pending);
	x.leader = calloc(n + 1, sizeof *x.leader);
	if (!codes)
		x.code = calloc(n + 1, sizeof *x.code);
	if (!x.pending || !x.leader || !x.code) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = -1;
		x.code[i] = 0;
		x.pending[i] = true;
	}
	if (lookup_topics(&x, err) < 0)
		goto out;
	ask_all(&x);
	rc = codes ? 0 : first_failure(&x, err);
out:
	free(x.pending);
	free(x.leader);
	if (!codes)
		free(x.code);
	return rc;
}
