/*
 * admin_groups_describe.c - describing a group: ConsumerGroupDescribe for
 * KIP-848 consumer groups, DescribeGroups (with the ConsumerProtocol
 * assignments decoded) for classic ones; see admin_groups.h.
 */
#include "client/admin_groups_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/buf.h"

#define DESCRIBE_GROUPS_MAX 5
#define CONSUMER_GROUP_DESCRIBE_MAX 0
#define CONSUMER_PROTOCOL_VERSION 3 /* the newest ConsumerProtocolAssignment we decode */

typedef struct kp_consumer_group_describe_response_described_group cgd_group;
typedef struct kp_consumer_group_describe_response_member cgd_member;
typedef struct kp_describe_groups_response_described_group dg_group;
typedef struct kp_describe_groups_response_described_group_member dg_member;

static void member_clear(struct kp_groups_member *m)
{
	free(m->member_id);
	free(m->instance_id);
	free(m->client_id);
	free(m->host);
	for (size_t i = 0; i < m->nassigned; i++)
		free(m->assigned[i].topic);
	free(m->assigned);
}

void kp_groups_desc_clear(struct kp_groups_desc *d)
{
	for (size_t i = 0; d->members && i < d->nmembers; i++)
		member_clear(&d->members[i]);
	free(d->members);
	free(d->group_id);
	free(d->state);
	free(d->type);
	free(d->protocol_type);
	free(d->assignor);
	free(d->coordinator_addr);
	memset(d, 0, sizeof *d);
}

/* Append topic's `n` partitions to m's assignment. */
static int add_assigned(struct kp_groups_member *m, const char *topic, const int32_t *parts,
			int32_t n)
{
	struct kp_groups_tp *a;

	if (n <= 0)
		return 0;
	if (!(a = realloc(m->assigned, (m->nassigned + (size_t)n) * sizeof *a)))
		return -1;
	m->assigned = a;
	for (int32_t i = 0; i < n; i++) {
		if (!(a[m->nassigned].topic = kp_groups_strdup(topic)))
			return -1;
		a[m->nassigned++].partition = parts[i];
	}
	return 0;
}

/* The member's id, instance id, client id and host (copied). */
static int member_ids(struct kp_groups_member *m, const char *id, const char *instance,
		      const char *client, const char *host)
{
	m->member_id = kp_groups_strdup(id);
	m->instance_id = instance ? strdup(instance) : NULL;
	m->client_id = kp_groups_strdup(client);
	m->host = kp_groups_strdup(host);
	return m->member_id && m->client_id && m->host && (m->instance_id || !instance) ? 0 : -1;
}

/* The group-level fields (copied); members are added by the caller. */
static int group_fields(struct kp_groups_desc *d, const char *state, const char *type,
			const char *protocol_type, const char *assignor, size_t nmembers)
{
	d->state = kp_groups_strdup(state);
	d->type = kp_groups_strdup(type);
	d->protocol_type = kp_groups_strdup(protocol_type);
	d->assignor = kp_groups_strdup(assignor);
	d->members = calloc(nmembers + 1, sizeof *d->members);
	return d->state && d->type && d->protocol_type && d->assignor && d->members ? 0 : -1;
}

static int cgd_code(const void *resp, int v)
{
	const struct kp_consumer_group_describe_response *r = resp;

	(void)v;
	return r->groups_count == 1 ? r->groups[0].error_code : 0;
}

static int fill_consumer(struct kp_groups_desc *d, const cgd_group *g)
{
	if (group_fields(d, g->group_state, "consumer", "consumer", g->assignor_name,
			 (size_t)(g->members_count > 0 ? g->members_count : 0)) < 0)
		return -1;
	for (int32_t i = 0; i < g->members_count; i++) {
		const cgd_member *gm = &g->members[i];
		struct kp_groups_member *m = &d->members[d->nmembers++];

		if (member_ids(m, gm->member_id, gm->instance_id, gm->client_id, gm->client_host) < 0)
			return -1;
		for (int32_t t = 0; t < gm->assignment.topic_partitions_count; t++) {
			const struct kp_consumer_group_describe_response_topic_partitions *tp =
				&gm->assignment.topic_partitions[t];
			if (add_assigned(m, tp->topic_name, tp->partitions, tp->partitions_count) < 0)
				return -1;
		}
		if (m->nassigned > 1)
			qsort(m->assigned, m->nassigned, sizeof *m->assigned, kp_groups_tp_cmp);
	}
	return 0;
}

/*
 * ConsumerGroupDescribe: 1 when `group` is a consumer group (described
 * into d), 0 when it is not one or the coordinator lacks the API (for
 * DescribeGroups to try), -1 on failure.
 */
static int describe_consumer(kp_cluster *c, kp_conn *coord, const char *group,
			     struct kp_groups_desc *d, kp_error *err)
{
	struct kp_consumer_group_describe_request req;
	struct kp_consumer_group_describe_response resp;
	char *id = (char *)group;
	kp_arena a;
	int v, rc = -1;

	if (kp_conn_pick_version(coord, KP_API_CONSUMER_GROUP_DESCRIBE, 0,
				 CONSUMER_GROUP_DESCRIBE_MAX, NULL) < 0)
		return 0;
	kp_arena_init(&a);
	kp_consumer_group_describe_request_init(&req);
	req.group_ids = &id;
	req.group_ids_count = 1;
	if (kp_groups_call(c, group, KP_API_CONSUMER_GROUP_DESCRIBE, 0, CONSUMER_GROUP_DESCRIBE_MAX,
			   &req, &a, &resp, &v, cgd_code, err) < 0)
		goto out;
	if (resp.groups_count != 1) {
		rc = kp_error_set(err, KP_EPROTO, "bad ConsumerGroupDescribe response for group '%s'",
				  group);
		goto out;
	}
	int16_t code = resp.groups[0].error_code;
	if (code == KP_ERR_GROUP_ID_NOT_FOUND || code == KP_ERR_UNSUPPORTED_VERSION) {
		rc = 0; /* a classic group, or none */
	} else if (code) {
		kp_error_kafka(err, code, "cannot describe group '%s'", group);
	} else if (fill_consumer(d, &resp.groups[0]) < 0) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
	} else {
		rc = 1;
	}
out:
	kp_arena_free(&a);
	return rc;
}

/* Decode a ConsumerProtocolAssignment (any version, read as the newest we know) into m. */
static int decode_assignment(struct kp_groups_member *m, kp_bytes in, kp_error *err)
{
	struct kp_consumer_protocol_assignment as;
	kp_reader r;
	kp_arena a;
	int16_t v;
	int rc = -1;

	if (in.len <= 0)
		return 0;
	kp_arena_init(&a);
	kp_reader_init(&r, in.data, (size_t)in.len);
	v = kp_read_i16(&r);
	if (r.failed || v < 0 ||
	    kp_msg_decode(&kp_consumer_protocol_assignment_desc,
			  v > CONSUMER_PROTOCOL_VERSION ? CONSUMER_PROTOCOL_VERSION : v, &r, &a, &as,
			  NULL) < 0) {
		kp_error_set(err, KP_EPROTO, "bad assignment of member '%s'", m->member_id);
		goto out;
	}
	for (int32_t t = 0; t < as.assigned_partitions_count; t++)
		if (add_assigned(m, as.assigned_partitions[t].topic, as.assigned_partitions[t].partitions,
				 as.assigned_partitions[t].partitions_count) < 0) {
			kp_error_set(err, KP_ENOMEM, "out of memory");
			goto out;
		}
	if (m->nassigned > 1)
		qsort(m->assigned, m->nassigned, sizeof *m->assigned, kp_groups_tp_cmp);
	rc = 0;
out:
	kp_arena_free(&a);
	return rc;
}

static int fill_classic(struct kp_groups_desc *d, const dg_group *g, kp_error *err)
{
	bool consumer = g->protocol_type && strcmp(g->protocol_type, "consumer") == 0;

	if (group_fields(d, g->group_state, "classic", g->protocol_type, g->protocol_data,
			 (size_t)(g->members_count > 0 ? g->members_count : 0)) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < g->members_count; i++) {
		const dg_member *gm = &g->members[i];
		struct kp_groups_member *m = &d->members[d->nmembers++];

		if (member_ids(m, gm->member_id, gm->group_instance_id, gm->client_id,
			       gm->client_host) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		if (consumer && decode_assignment(m, gm->member_assignment, err) < 0)
			return -1;
	}
	return 0;
}

static int dg_code(const void *resp, int v)
{
	const struct kp_describe_groups_response *r = resp;

	(void)v;
	return r->groups_count == 1 ? r->groups[0].error_code : 0;
}

/* DescribeGroups for a classic group (or none: Dead, KP_ENOTFOUND). */
static int describe_classic(kp_cluster *c, const char *group, struct kp_groups_desc *d,
			    kp_error *err)
{
	struct kp_describe_groups_request req;
	struct kp_describe_groups_response resp;
	char *id = (char *)group;
	kp_arena a;
	int v, rc = -1;

	kp_arena_init(&a);
	kp_describe_groups_request_init(&req);
	req.groups = &id;
	req.groups_count = 1;
	if (kp_groups_call(c, group, KP_API_DESCRIBE_GROUPS, 0, DESCRIBE_GROUPS_MAX, &req, &a, &resp,
			   &v, dg_code, err) < 0)
		goto out;
	if (resp.groups_count != 1) {
		kp_error_set(err, KP_EPROTO, "bad DescribeGroups response for group '%s'", group);
		goto out;
	}
	const dg_group *g = &resp.groups[0];
	if (g->error_code == KP_ERR_GROUP_ID_NOT_FOUND ||
	    (!g->error_code && g->group_state && strcmp(g->group_state, "Dead") == 0))
		kp_error_set(err, KP_ENOTFOUND, "group '%s' does not exist", group);
	else if (g->error_code)
		kp_error_kafka(err, g->error_code, "cannot describe group '%s'", group);
	else
		rc = fill_classic(d, g, err);
out:
	kp_arena_free(&a);
	return rc;
}

int kp_groups_describe(kp_cluster *c, const char *group, struct kp_groups_desc *out,
		       kp_error *err)
{
	kp_conn *coord;
	int rc;

	memset(out, 0, sizeof *out);
	if (kp_groups_coordinator(c, group, &out->coordinator, &coord, err) < 0)
		return -1;
	if (!(out->group_id = strdup(group)) || !(out->coordinator_addr = strdup(kp_conn_name(coord))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if ((rc = describe_consumer(c, coord, group, out, err)) != 0)
		return rc < 0 ? -1 : 0;
	return describe_classic(c, group, out, err);
}
