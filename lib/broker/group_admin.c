/*
 * group_admin.c - ListGroups (key 16, v0-5), DescribeGroups (key 15,
 * v0-5) and DeleteGroups (key 42, v0-2): the views of lib/group's
 * groups that admin tools (kafka-consumer-groups.sh) take.
 *
 * Groups are "classic" or "consumer" (KIP-848) ones; ListGroups v5
 * filters by that type. DescribeGroups shows member metadata and assignments only in
 * Stable, as Kafka does; an unknown group is described as Dead with no
 * error (the protocol before KIP-1043's v6).
 */
#include <string.h>
#include <strings.h>

#include "broker/internal.h"

typedef struct kp_list_groups_response_listed_group lg_group;

/* filtered_out - whether `value` is not among the `n` filter values (n 0: no filter). */
static bool filtered_out(char *const *filter, int32_t n, const char *value)
{
	if (n <= 0)
		return false;
	for (int32_t i = 0; i < n; i++)
		if (filter[i] && strcasecmp(filter[i], value) == 0)
			return false;
	return true;
}

int kp_handle_list_groups(struct kp_request *rq, kp_error *err)
{
	const struct kp_list_groups_request *req = rq->body;
	struct kp_list_groups_response *resp = kp_list_groups_response_new(&rq->arena, 1);
	kp_group_coord *gc = rq->broker->groups;
	size_t total = kp_group_count(gc);
	lg_group *gs = kp_list_groups_response_listed_group_new(&rq->arena, total);
	int32_t n = 0;
	struct kp_group_info info;

	if (!resp || !gs)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < total && kp_group_at(gc, i, &info); i++) {
		const char *state = kp_group_state_name(info.state);

		if (info.state == KP_GROUP_DEAD ||
		    (rq->version >= 4 && filtered_out(req->states_filter, req->states_filter_count, state)) ||
		    (rq->version >= 5 && filtered_out(req->types_filter, req->types_filter_count, info.type)))
			continue;
		gs[n].group_id = (char *)info.group_id;
		gs[n].protocol_type = (char *)info.protocol_type;
		gs[n].group_state = (char *)state;
		gs[n].group_type = (char *)info.type;
		n++;
	}
	resp->groups = gs;
	resp->groups_count = n;
	KP_RESPOND(rq, LIST_GROUPS, resp);
	return 0;
}

typedef struct kp_describe_groups_response_described_group dg_group;
typedef struct kp_describe_groups_response_described_group_member dg_member;

static int describe_one(struct kp_request *rq, const char *group_id, dg_group *out)
{
	kp_group_coord *gc = rq->broker->groups;
	struct kp_group_info info;
	struct kp_group_member_info mi;

	out->group_id = (char *)group_id;
	out->protocol_type = "";
	out->protocol_data = "";
	out->group_state = (char *)kp_group_state_name(KP_GROUP_DEAD);
	if (!group_id) { /* "" is described like any group, as Kafka does for old clients */
		out->error_code = KP_ERR_INVALID_GROUP_ID;
		return 0;
	}
	/* a consumer (KIP-848) group is no classic group: Dead, as Kafka describes it before v6 */
	if (!kp_group_describe(gc, group_id, &info) || strcmp(info.type, "classic") != 0)
		return 0;
	bool stable = info.state == KP_GROUP_STABLE;
	dg_member *ms = kp_describe_groups_response_described_group_member_new(&rq->arena,
									       (size_t)info.member_count);

	if (!ms)
		return -1;
	out->group_state = (char *)kp_group_state_name(info.state);
	out->protocol_type = (char *)info.protocol_type;
	out->protocol_data = stable ? (char *)info.protocol_name : "";
	for (int32_t i = 0; i < info.member_count && kp_group_member_at(gc, group_id, i, &mi); i++) {
		ms[i].member_id = (char *)mi.member_id;
		ms[i].group_instance_id = (char *)mi.group_instance_id;
		ms[i].client_id = (char *)mi.client_id;
		ms[i].client_host = (char *)mi.client_host;
		ms[i].member_metadata.data = stable && mi.metadata ? mi.metadata : (const uint8_t *)"";
		ms[i].member_metadata.len = stable ? (int32_t)mi.metadata_len : 0;
		ms[i].member_assignment.data = stable && mi.assignment ? mi.assignment
			: (const uint8_t *)"";
		ms[i].member_assignment.len = stable ? (int32_t)mi.assignment_len : 0;
	}
	out->members = ms;
	out->members_count = info.member_count;
	return 0;
}

int kp_handle_describe_groups(struct kp_request *rq, kp_error *err)
{
	const struct kp_describe_groups_request *req = rq->body;
	struct kp_describe_groups_response *resp = kp_describe_groups_response_new(&rq->arena, 1);
	int32_t n = req->groups_count > 0 ? req->groups_count : 0;
	dg_group *gs = kp_describe_groups_response_described_group_new(&rq->arena, (size_t)n);

	if (!resp || !gs)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++)
		if (describe_one(rq, req->groups[i], &gs[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->groups = gs;
	resp->groups_count = n;
	KP_RESPOND(rq, DESCRIBE_GROUPS, resp);
	return 0;
}

int kp_handle_delete_groups(struct kp_request *rq, kp_error *err)
{
	const struct kp_delete_groups_request *req = rq->body;
	struct kp_delete_groups_response *resp = kp_delete_groups_response_new(&rq->arena, 1);
	int32_t n = req->groups_names_count > 0 ? req->groups_names_count : 0;
	struct kp_delete_groups_response_deletable_group_result *rs =
		kp_delete_groups_response_deletable_group_result_new(&rq->arena, (size_t)n);

	if (!resp || !rs)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++) {
		rs[i].group_id = req->groups_names[i];
		rs[i].error_code = kp_group_delete(rq->broker->groups, req->groups_names[i]);
	}
	resp->results = rs;
	resp->results_count = n;
	KP_RESPOND(rq, DELETE_GROUPS, resp);
	return 0;
}
