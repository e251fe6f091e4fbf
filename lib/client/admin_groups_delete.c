/*
 * admin_groups_delete.c - DeleteGroups and OffsetDelete (KIP-496); see
 * admin_groups.h.
 */
#include "client/admin_groups_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"

#define DELETE_GROUPS_MAX 2
#define OFFSET_DELETE_MAX 0

typedef struct kp_offset_delete_request_offset_delete_request_topic od_topic;

static int delete_code(const void *resp, int v)
{
	const struct kp_delete_groups_response *r = resp;

	(void)v;
	return r->results_count == 1 ? r->results[0].error_code : 0;
}

int kp_groups_delete(kp_cluster *c, const char *group, kp_error *err)
{
	struct kp_delete_groups_request req;
	struct kp_delete_groups_response resp;
	char *name = (char *)group;
	kp_arena a;
	int v, rc = -1;

	kp_arena_init(&a);
	kp_delete_groups_request_init(&req);
	req.groups_names = &name;
	req.groups_names_count = 1;
	if (kp_groups_call(c, group, KP_API_DELETE_GROUPS, 0, DELETE_GROUPS_MAX, &req, &a, &resp, &v,
			   delete_code, err) < 0)
		goto out;
	int16_t code = resp.results_count == 1 ? resp.results[0].error_code : KP_ERR_UNKNOWN_SERVER_ERROR;
	if (code == KP_ERR_GROUP_ID_NOT_FOUND)
		kp_error_set(err, KP_ENOTFOUND, "group '%s' does not exist", group);
	else if (code == KP_ERR_NON_EMPTY_GROUP)
		kp_error_kafka(err, code, "cannot delete group '%s': it has active members", group);
	else if (code)
		kp_error_kafka(err, code, "cannot delete group '%s'", group);
	else
		rc = 0;
out:
	kp_arena_free(&a);
	return rc;
}

static int offset_delete_code(const void *resp, int v)
{
	(void)v;
	return ((const struct kp_offset_delete_response *)resp)->error_code;
}

/* OffsetDelete topics for tps in `a`: one entry per distinct topic. */
static od_topic *delete_topics(kp_arena *a, const struct kp_tp *tps, size_t n, int32_t *count)
{
	od_topic *t = kp_offset_delete_request_offset_delete_request_topic_new(a, n + 1);
	int32_t nt = 0, k;

	for (size_t i = 0; t && i < n; i++) {
		for (k = 0; k < nt && strcmp(t[k].name, tps[i].topic) != 0; k++)
			;
		if (k == nt) {
			t[nt].name = (char *)tps[i].topic;
			t[nt].partitions = kp_offset_delete_request_offset_delete_request_partition_new(a, n);
			if (!t[nt++].partitions)
				return NULL;
		}
		t[k].partitions[t[k].partitions_count++].partition_index = tps[i].partition;
	}
	*count = nt;
	return t;
}

/* Each answered partition's error into codes[] (index as in tps). */
static void delete_results(const struct kp_offset_delete_response *r, const struct kp_tp *tps,
			   size_t n, int16_t *codes)
{
	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t j = 0; j < r->topics[t].partitions_count; j++)
			for (size_t i = 0; i < n; i++)
				if (tps[i].partition == r->topics[t].partitions[j].partition_index &&
				    strcmp(tps[i].topic, r->topics[t].name ? r->topics[t].name : "") == 0)
					codes[i] = r->topics[t].partitions[j].error_code;
}

int kp_groups_delete_offsets(kp_cluster *c, const char *group, const struct kp_tp *tps,
			     size_t n, int16_t *codes, kp_error *err)
{
	struct kp_offset_delete_request req;
	struct kp_offset_delete_response resp;
	kp_arena a;
	int v, rc = -1;

	for (size_t i = 0; i < n; i++)
		codes[i] = KP_ERR_UNKNOWN_SERVER_ERROR; /* until answered */
	kp_arena_init(&a);
	kp_offset_delete_request_init(&req);
	req.group_id = (char *)group;
	if (!(req.topics = delete_topics(&a, tps, n, &req.topics_count))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_groups_call(c, group, KP_API_OFFSET_DELETE, 0, OFFSET_DELETE_MAX, &req, &a, &resp, &v,
			   offset_delete_code, err) < 0)
		goto out;
	if (resp.error_code == KP_ERR_GROUP_ID_NOT_FOUND)
		kp_error_set(err, KP_ENOTFOUND, "group '%s' does not exist", group);
	else if (resp.error_code)
		kp_error_kafka(err, resp.error_code, "cannot delete offsets of group '%s'", group);
	else
		rc = 0;
	if (rc == 0)
		delete_results(&resp, tps, n, codes);
out:
	kp_arena_free(&a);
	return rc;
}
