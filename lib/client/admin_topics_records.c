/*
 * admin_topics_records.c - DeleteRecords (v0-2, KIP-107): the records of
 * each partition before an offset (-1: the high watermark) go, and the
 * partition's log start offset (low watermark) moves up to it. Sent to
 * each partition's leader; a leader that moved is asked again after a
 * metadata refresh until request.timeout.ms has passed.
 */
#include <string.h>

#include "client/admin_topics_internal.h"
#include "util/clock.h"

typedef struct kp_delete_records_request_delete_records_topic dr_topic;

/* pending - whether cut k still needs sending to `leader`. */
static bool pending(const struct kp_admin_cut *k, int32_t leader, const int32_t *leaders)
{
	return *leaders == leader && k->low_watermark < 0 &&
	       (k->error == 0 || kp_admin_retry_leader(k->error));
}

/* build - the DeleteRecords request for `leader`'s cuts, in `a`. */
static int build(kp_cluster *c, kp_arena *a, const struct kp_admin_cut *cuts, size_t n,
		 const int32_t *leaders, int32_t leader, struct kp_delete_records_request *req)
{
	kp_msg_init(&kp_delete_records_request_desc, req);
	req->timeout_ms = kp_admin_timeout(c);
	if (!(req->topics = kp_delete_records_request_delete_records_topic_new(a, n + 1)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		dr_topic *t = NULL;

		if (!pending(&cuts[i], leader, &leaders[i]))
			continue;
		for (int32_t j = 0; j < req->topics_count && !t; j++)
			if (strcmp(req->topics[j].name, cuts[i].topic) == 0)
				t = &req->topics[j];
		if (!t) {
			t = &req->topics[req->topics_count++];
			t->name = (char *)cuts[i].topic;
			t->partitions = kp_delete_records_request_delete_records_partition_new(a, n + 1);
			if (!t->partitions)
				return -1;
		}
		t->partitions[t->partitions_count].partition_index = cuts[i].partition;
		t->partitions[t->partitions_count++].offset = cuts[i].offset;
	}
	return 0;
}

/* answer - the results of `resp` into the cuts. */
static void answer(const struct kp_delete_records_response *resp, struct kp_admin_cut *cuts,
		   size_t n)
{
	for (int32_t i = 0; i < resp->topics_count; i++)
		for (int32_t j = 0; j < resp->topics[i].partitions_count; j++) {
			const struct kp_delete_records_response_delete_records_partition_result *r =
				&resp->topics[i].partitions[j];

			for (size_t k = 0; k < n; k++)
				if (resp->topics[i].name && cuts[k].partition == r->partition_index &&
				    strcmp(cuts[k].topic, resp->topics[i].name) == 0) {
					cuts[k].error = r->error_code;
					cuts[k].low_watermark = r->error_code ? -1 : r->low_watermark;
				}
		}
}

/* fail_leader - `error` for the cuts still pending at `leader` (they are not asked again). */
static void fail_leader(struct kp_admin_cut *cuts, size_t n, const int32_t *leaders,
			int32_t leader, int16_t error)
{
	for (size_t k = 0; k < n; k++)
		if (pending(&cuts[k], leader, &leaders[k]))
			cuts[k].error = error;
}

/* pass - one request to each leader with cuts left; 0 or -1. */
static int pass(kp_cluster *c, struct kp_admin_cut *cuts, size_t n, const int32_t *leaders,
		kp_arena *a, kp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct kp_delete_records_request req;
		struct kp_delete_records_response resp;
		int32_t leader = leaders[i];
		kp_conn *conn;

		if (leader < 0 || !pending(&cuts[i], leader, &leaders[i]))
			continue;
		if (build(c, a, cuts, n, leaders, leader, &req) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		if (!(conn = kp_admin_node_conn(c, leader, err)) ||
		    kp_admin_call(c, leader, conn, KP_API_DELETE_RECORDS, 0, 2, &req, a, &resp, NULL,
				  err) < 0) {
			if (!err || (err->code != KP_ECONN && err->code != KP_ETIMEDOUT))
				return -1;
			fail_leader(cuts, n, leaders, leader, KP_ERR_NETWORK_EXCEPTION);
			continue; /* the other leaders may still answer */
		}
		fail_leader(cuts, n, leaders, leader, KP_ERR_UNKNOWN_SERVER_ERROR); /* not answered */
		answer(&resp, cuts, n);
	}
	return 0;
}

/* locate - the leaders of the cuts still to do; whether any has one. */
static int locate(kp_cluster *c, struct kp_admin_cut *cuts, size_t n, int32_t *leaders,
		  kp_arena *a, bool *any, kp_error *err)
{
	const char **topics = kp_arena_alloc(a, sizeof(*topics) * (n + 1));
	int32_t *parts = kp_arena_alloc(a, sizeof(*parts) * (n + 1));
	int16_t *errors = kp_arena_alloc(a, sizeof(*errors) * (n + 1));

	if (!topics || !parts || !errors)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		topics[i] = cuts[i].topic;
		parts[i] = cuts[i].partition;
	}
	if (kp_admin_leaders(c, topics, parts, n, leaders, errors, err) < 0)
		return -1;
	*any = false;
	for (size_t i = 0; i < n; i++) {
		if (cuts[i].low_watermark >= 0 || (cuts[i].error && !kp_admin_retry_leader(cuts[i].error)))
			continue;
		if (leaders[i] < 0)
			cuts[i].error = errors[i];
		else
			*any = true;
	}
	return 0;
}

int kp_admin_delete_records(kp_cluster *c, struct kp_admin_cut *cuts, size_t n, kp_error *err)
{
	int64_t deadline = kp_admin_deadline(c);
	int backoff = kp_cluster_config(c)->retry_backoff_ms;
	int32_t *leaders;
	bool any;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	for (size_t i = 0; i < n; i++) {
		cuts[i].low_watermark = -1;
		cuts[i].error = 0;
	}
	if (!(leaders = kp_arena_alloc(&a, sizeof(*leaders) * (n + 1)))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	for (int round = 0;; round++) {
		if (round > 0)
			kp_sleep_ms(backoff);
		if (locate(c, cuts, n, leaders, &a, &any, err) < 0)
			goto out;
		if (!any)
			break;
		if (pass(c, cuts, n, leaders, &a, err) < 0)
			goto out;
		if (kp_mono_ms() + backoff >= deadline)
			break;
	}
	rc = 0;
out:
	kp_arena_free(&a);
	return rc;
}
