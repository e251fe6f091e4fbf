/*
 * admin_groups_offsets.c - a group's committed offsets: OffsetFetch of all
 * of them, and OffsetCommit as the Admin client sends it
 * (alterConsumerGroupOffsets); see admin_groups.h.
 */
#include "client/admin_groups_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"

#define OFFSET_FETCH_MIN 2 /* null topics: every committed offset */
#define OFFSET_FETCH_MAX 9
#define OFFSET_COMMIT_MIN 2
#define OFFSET_COMMIT_MAX 9

typedef struct kp_offset_commit_request_offset_commit_request_topic oc_topic;
typedef struct kp_offset_commit_request_offset_commit_request_partition oc_partition;

void kp_groups_offsets_free(struct kp_groups_offset *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++)
		free(o[i].topic);
	free(o);
}

static int offset_cmp(const void *a, const void *b)
{
	const struct kp_groups_offset *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static int fetch_code(const void *resp, int v)
{
	const struct kp_offset_fetch_response *r = resp;

	if (v >= 8)
		return r->groups_count == 1 ? r->groups[0].error_code : 0;
	return r->error_code;
}

/* Append one committed offset to *out (skipping "none", -1). */
static int add_offset(struct kp_groups_offset **out, size_t *n, const char *topic, int32_t p,
		      int64_t off, int32_t epoch)
{
	struct kp_groups_offset *o;

	if (off < 0)
		return 0;
	if (!(o = realloc(*out, (*n + 1) * sizeof *o)))
		return -1;
	*out = o;
	o[*n] = (struct kp_groups_offset){ kp_groups_strdup(topic), p, off, epoch };
	return o[(*n)++].topic ? 0 : -1;
}

/* The offsets of an OffsetFetch response (v2-v7 or v8+ shape) into *out. */
static int fetch_result(const char *group, const struct kp_offset_fetch_response *r, int v,
			struct kp_groups_offset **out, size_t *n, kp_error *err)
{
	int32_t nt = v >= 8 ? r->groups[0].topics_count : r->topics_count;
	int code = fetch_code(r, v);

	if (code)
		return kp_error_kafka(err, code, "cannot fetch the offsets of group '%s'", group);
	for (int32_t t = 0; t < nt; t++) {
		const char *name = v >= 8 ? r->groups[0].topics[t].name : r->topics[t].name;
		int32_t np = v >= 8 ? r->groups[0].topics[t].partitions_count
				    : r->topics[t].partitions_count;
		for (int32_t j = 0; j < np; j++) {
			const struct kp_offset_fetch_response_offset_fetch_response_partitions *p8 =
				v >= 8 ? &r->groups[0].topics[t].partitions[j] : NULL;
			const struct kp_offset_fetch_response_offset_fetch_response_partition *p =
				v >= 8 ? NULL : &r->topics[t].partitions[j];
			int16_t e = p8 ? p8->error_code : p->error_code;
			int32_t index = p8 ? p8->partition_index : p->partition_index;

			if (e)
				return kp_error_kafka(err, e, "cannot fetch the offset of group '%s' for "
						      "topic %s partition %d", group, name, (int)index);
			if (add_offset(out, n, name, index, p8 ? p8->committed_offset : p->committed_offset,
				       p8 ? p8->committed_leader_epoch : p->committed_leader_epoch) < 0)
				return kp_error_set(err, KP_ENOMEM, "out of memory");
		}
	}
	return 0;
}

int kp_groups_fetch_offsets(kp_cluster *c, const char *group, struct kp_groups_offset **out,
			    size_t *n, kp_error *err)
{
	struct kp_offset_fetch_request_offset_fetch_request_group g = { 0 };
	struct kp_offset_fetch_request req;
	struct kp_offset_fetch_response resp;
	kp_arena a;
	int v, rc = -1;

	*out = NULL;
	*n = 0;
	kp_arena_init(&a);
	kp_offset_fetch_request_init(&req);
	req.group_id = (char *)group;
	req.topics = NULL;
	req.topics_count = -1; /* every topic */
	g.group_id = (char *)group;
	g.member_id = NULL;
	g.member_epoch = -1;
	g.topics = NULL;
	g.topics_count = -1;
	req.groups = &g;
	req.groups_count = 1;
	req.require_stable = false;
	if (kp_groups_call(c, group, KP_API_OFFSET_FETCH, OFFSET_FETCH_MIN, OFFSET_FETCH_MAX, &req, &a,
			   &resp, &v, fetch_code, err) < 0)
		goto out;
	if (v >= 8 && resp.groups_count != 1) {
		kp_error_set(err, KP_EPROTO, "bad OffsetFetch response for group '%s'", group);
		goto out;
	}
	if ((rc = fetch_result(group, &resp, v, out, n, err)) == 0 && *n > 1)
		qsort(*out, *n, sizeof **out, offset_cmp);
out:
	kp_arena_free(&a);
	if (rc < 0) {
		kp_groups_offsets_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* The first coordinator error of an OffsetCommit response (its errors are per partition). */
static int commit_code(const void *resp, int v)
{
	const struct kp_offset_commit_response *r = resp;

	(void)v;
	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t j = 0; j < r->topics[t].partitions_count; j++)
			if (kp_groups_coord_error(r->topics[t].partitions[j].error_code))
				return r->topics[t].partitions[j].error_code;
	return 0;
}

/* OffsetCommit topics for tps/offsets in `a`: one entry per distinct topic. */
static oc_topic *commit_topics(kp_arena *a, const struct kp_tp *tps, const int64_t *offsets,
			       size_t n, int32_t *count)
{
	oc_topic *t = kp_offset_commit_request_offset_commit_request_topic_new(a, n + 1);
	int32_t nt = 0, k;

	for (size_t i = 0; t && i < n; i++) {
		for (k = 0; k < nt && strcmp(t[k].name, tps[i].topic) != 0; k++)
			;
		if (k == nt) {
			t[nt].name = (char *)tps[i].topic;
			t[nt].partitions = kp_offset_commit_request_offset_commit_request_partition_new(a, n);
			if (!t[nt++].partitions)
				return NULL;
		}
		oc_partition *p = &t[k].partitions[t[k].partitions_count++];
		p->partition_index = tps[i].partition;
		p->committed_offset = offsets[i];
		p->committed_leader_epoch = -1;
		p->committed_metadata = "";
	}
	*count = nt;
	return t;
}

/* Store each partition's result in codes[] (index as in tps); the first error in err. */
static int commit_result(const char *group, const struct kp_offset_commit_response *r,
			 const struct kp_tp *tps, size_t n, int16_t *codes, kp_error *err)
{
	int rc = 0;

	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t j = 0; j < r->topics[t].partitions_count; j++) {
			const struct kp_offset_commit_response_offset_commit_response_partition *p =
				&r->topics[t].partitions[j];
			for (size_t i = 0; i < n; i++)
				if (tps[i].partition == p->partition_index &&
				    strcmp(tps[i].topic, r->topics[t].name ? r->topics[t].name : "") == 0 &&
				    codes)
					codes[i] = p->error_code;
			if (p->error_code && rc == 0)
				rc = kp_error_kafka(err, p->error_code, "cannot commit the offset of group "
						    "'%s' for topic %s partition %d", group,
						    r->topics[t].name, (int)p->partition_index);
		}
	return rc;
}

int kp_groups_commit(kp_cluster *c, const char *group, const struct kp_tp *tps,
		     const int64_t *offsets, size_t n, int16_t *codes, kp_error *err)
{
	struct kp_offset_commit_request req;
	struct kp_offset_commit_response resp;
	kp_arena a;
	int v, rc = -1;

	if (n == 0)
		return 0;
	kp_arena_init(&a);
	kp_offset_commit_request_init(&req);
	req.group_id = (char *)group;
	req.generation_id_or_member_epoch = -1;
	req.member_id = "";
	req.group_instance_id = NULL;
	req.retention_time_ms = -1;
	if (!(req.topics = commit_topics(&a, tps, offsets, n, &req.topics_count))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_groups_call(c, group, KP_API_OFFSET_COMMIT, OFFSET_COMMIT_MIN, OFFSET_COMMIT_MAX, &req,
			   &a, &resp, &v, commit_code, err) < 0)
		goto out;
	rc = commit_result(group, &resp, tps, n, codes, err);
out:
	kp_arena_free(&a);
	return rc;
}
