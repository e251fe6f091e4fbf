/*
 * group_heartbeat.c - Heartbeat (key 12, v0-4) and LeaveGroup (key 13,
 * v0-5; a batch of member identities from v3, KIP-345, each answered on
 * its own: an unknown group is UNKNOWN_MEMBER_ID per member with no
 * top-level error, as Kafka's GroupCoordinatorService.leaveGroup). Both
 * answer from lib/group's state machine; a LeaveGroup whose leaving wrote
 * the group's metadata (the group became Empty) once that is replicated.
 */
#include "broker/internal.h"

int kp_handle_heartbeat(struct kp_request *rq, kp_error *err)
{
	const struct kp_heartbeat_request *req = rq->body;
	struct kp_heartbeat_response *resp = kp_heartbeat_response_new(&rq->arena, 1);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->error_code = kp_group_heartbeat(rq->broker->groups, req->group_id,
					      req->member_id ? req->member_id : "",
					      req->group_instance_id, req->generation_id,
					      kp_broker_group_now());
	KP_RESPOND(rq, HEARTBEAT, resp);
	return 0;
}

typedef struct kp_leave_group_response_member_response lg_member;

/* leave_done - kp_replicated_done: the answer, or only the top-level error of a failed write. */
static void leave_done(struct kp_request *rq, void *arg, int16_t error)
{
	struct kp_leave_group_response *resp = arg;

	if (error) {
		resp->error_code = error;
		resp->members = NULL;
		resp->members_count = 0;
	}
	KP_RESPOND(rq, LEAVE_GROUP, resp);
}

/* leave_members - v3+: each member identity of the batch, in resp (NULL group id: none). */
static int leave_members(struct kp_request *rq, struct kp_leave_group_response *resp, int64_t now,
			 kp_error *err)
{
	const struct kp_leave_group_request *req = rq->body;
	kp_group_coord *gc = rq->broker->groups;
	int32_t n = req->members_count > 0 ? req->members_count : 0;
	lg_member *ms = kp_leave_group_response_member_response_new(&rq->arena, (size_t)n);
	struct kp_group_info info;

	if (!ms)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (!req->group_id || !*req->group_id) {
		resp->error_code = KP_ERR_INVALID_GROUP_ID;
		return 0;
	}
	/* an unknown group: every member UNKNOWN_MEMBER_ID (kp_group_leave), as Kafka answers */
	if (kp_group_describe(gc, req->group_id, &info) && info.state == KP_GROUP_DEAD) {
		resp->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		return 0;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_leave_group_request_member_identity *id = &req->members[i];

		ms[i].member_id = id->member_id ? id->member_id : "";
		ms[i].group_instance_id = id->group_instance_id;
		ms[i].error_code = kp_group_leave(gc, req->group_id, ms[i].member_id,
						  id->group_instance_id, now);
	}
	resp->members = ms;
	resp->members_count = n;
	return 0;
}

/*
 * kp_handle_leave_group - LeaveGroup; when the leaving emptied the group
 * (its metadata written through the store hook), the answer waits until
 * the ISR of the group's partition has it (kp_group_respond_written),
 * as Kafka 4 completes classicGroupLeave once its records are
 * committed; a failed write is the top-level error
 * (COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR), no members.
 */
int kp_handle_leave_group(struct kp_request *rq, kp_error *err)
{
	const struct kp_leave_group_request *req = rq->body;
	struct kp_leave_group_response *resp = kp_leave_group_response_new(&rq->arena, 1);
	int64_t since = kp_group_log_mark(rq->broker, req->group_id);
	int64_t now = kp_broker_group_now();

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (rq->version < 3)
		resp->error_code = kp_group_leave(rq->broker->groups, req->group_id,
						  req->member_id ? req->member_id : "", NULL, now);
	else if (leave_members(rq, resp, now, err) < 0)
		return -1;
	return kp_group_respond_written(rq, req->group_id, since, leave_done, resp, err);
}
