/*
 * consumer_group.h - the consumer group protocol of KIP-848 (GA in Kafka
 * 4.0), coordinator side, as a state machine beside the classic one in
 * group.h: both kinds of group live in the same coordinator, under the same
 * ids, with the same committed offsets.
 *
 * A member sends ConsumerGroupHeartbeat with its member epoch (0 to join,
 * -1 to leave, -2 for a static member leaving for a while), its
 * subscription when it changed, and the partitions it owns. The
 * coordinator keeps three epochs, as Kafka's GroupMetadataManager does:
 *
 *   group epoch          bumped when a member joins, leaves or changes its
 *                        subscription, or a subscribed topic's partition
 *                        count changes
 *   assignment epoch     the group epoch the target assignment was computed
 *                        for, by the server-side assignor ("uniform" or
 *                        "range", the members' most common choice)
 *   member epoch         where each member is; it moves towards the target
 *                        one step per heartbeat (CurrentAssignmentBuilder):
 *
 *   STABLE --new target--> UNREVOKED_PARTITIONS (gives up what the target
 *   took away, keeps its epoch) --owned no longer lists them-->
 *   UNRELEASED_PARTITIONS (target epoch; waits for partitions another member
 *   still holds) --all released--> STABLE
 *
 * A partition is handed to a member only once its previous owner stopped
 * owning it, so no two members ever own one partition. Members that stop
 * heartbeating for group.consumer.session.timeout.ms, or do not revoke
 * within their rebalance timeout, are fenced (removed). Group states:
 * Empty, Assigning (group epoch > assignment epoch), Reconciling (a member
 * not at the assignment epoch), Stable.
 *
 * As in group.h, there is no clock, socket or log here: `now` is given by
 * the caller, topics come from the metadata hooks of kp_group_config, and
 * the store hooks are told what to persist. Topics are named here; the
 * broker maps topic ids at the edge.
 */
#ifndef KP_GROUP_CONSUMER_GROUP_H
#define KP_GROUP_CONSUMER_GROUP_H

#include "group/group.h"

/* A member's reconciliation state (ConsumerGroupCurrentMemberAssignmentValue.State). */
enum kp_cg_member_state {
	KP_CG_STABLE = 0,
	KP_CG_UNREVOKED_PARTITIONS = 1,
	KP_CG_UNRELEASED_PARTITIONS = 2,
	KP_CG_UNKNOWN = 127,
};

/* One topic's partitions (borrowed in arguments, owned in results). */
struct kp_cg_topic_partitions {
	const char *topic;
	const int32_t *partitions;
	int32_t count;
};

/* Special member epochs of KIP-848. */
#define KP_CG_JOIN_EPOCH 0
#define KP_CG_LEAVE_EPOCH (-1)
#define KP_CG_STATIC_LEAVE_EPOCH (-2)

/*
 * A ConsumerGroupHeartbeat's arguments (all borrowed for the call). A NULL
 * array pointer with its `_set` flag false means "unchanged since the last
 * heartbeat", as the protocol's null fields do.
 */
struct kp_cg_heartbeat_args {
	int16_t version;              /* of the request: v1+ requires a member id (KIP-1082) */
	const char *group_id, *member_id, *instance_id, *rack_id;
	const char *client_id, *client_host;
	int32_t member_epoch;
	int32_t rebalance_timeout_ms; /* -1: unchanged */
	const char *const *topics;    /* SubscribedTopicNames */
	int32_t topic_count;
	bool topics_set;
	const char *regex;            /* SubscribedTopicRegex (v1+), NULL: unchanged */
	const char *server_assignor;  /* NULL: unchanged */
	const struct kp_cg_topic_partitions *owned; /* TopicPartitions */
	int32_t owned_count;
	bool owned_set;
	/*
	 * Owned partitions the broker could not name (an unknown topic id):
	 * the member owns something, so a revocation is not yet acknowledged.
	 */
	bool owned_unknown;
};

/* A heartbeat's answer; kp_cg_result_free frees what it holds. */
struct kp_cg_heartbeat_result {
	int16_t error;
	char error_message[256];     /* "" when none */
	char *member_id;             /* NULL on errors */
	int32_t member_epoch;
	int32_t heartbeat_interval_ms;
	bool has_assignment;         /* Assignment is sent (not null) */
	struct kp_cg_topic_partitions *assignment; /* owned: topics sorted, partitions sorted */
	int32_t assignment_count;
};

/*
 * kp_cg_heartbeat - ConsumerGroupHeartbeat. Fills *r (to be freed with
 * kp_cg_result_free) and returns 0, or -1 when memory runs out (r->error
 * is then UNKNOWN_SERVER_ERROR). Errors, with Kafka's messages:
 * INVALID_REQUEST (empty group id, missing fields when joining, bad epoch),
 * UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION, GROUP_ID_NOT_FOUND
 * (no such group unless joining; a classic group with members: Kafka's
 * answer with group.consumer.migration.policy=disabled),
 * GROUP_MAX_SIZE_REACHED, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
 * UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID. Persisted changes go through
 * the cstore hook before it returns.
 */
int kp_cg_heartbeat(kp_group_coord *gc, const struct kp_cg_heartbeat_args *a, int64_t now,
		    struct kp_cg_heartbeat_result *r);

/* kp_cg_result_free - free what *r holds (not r itself). */
void kp_cg_result_free(struct kp_cg_heartbeat_result *r);

/* A consumer group as ConsumerGroupDescribe shows it (pointers owned by the coordinator). */
struct kp_cg_info {
	const char *group_id;
	const char *state;        /* "Empty", "Assigning", "Reconciling", "Stable" */
	int32_t group_epoch, assignment_epoch;
	const char *assignor;     /* the preferred server assignor */
	int32_t member_count;
};

/* A member as ConsumerGroupDescribe shows it (pointers owned by the coordinator). */
struct kp_cg_member_info {
	const char *member_id, *instance_id, *rack_id, *client_id, *client_host;
	int32_t member_epoch;
	const char *const *topics; /* subscribed names */
	int32_t topic_count;
	const char *regex;         /* NULL when none */
	/* current and target assignment: `count` topic entries each */
	const struct kp_cg_topic_partitions *assigned, *target;
	int32_t assigned_count, target_count;
};

/*
 * kp_cg_describe - group_id as a consumer group: NONE, or
 * GROUP_ID_NOT_FOUND with msg "Group X not found." / "Group X is not a
 * consumer group." (msg: a buffer of msg_len bytes, may be NULL).
 */
int16_t kp_cg_describe(kp_group_coord *gc, const char *group_id, struct kp_cg_info *out,
		       char *msg, size_t msg_len);

/* kp_cg_member_at - member i of consumer group group_id; false when out of range. */
bool kp_cg_member_at(kp_group_coord *gc, const char *group_id, int32_t i,
		     struct kp_cg_member_info *out);

/*
 * kp_cg_fetch_check - may OffsetFetch v9+ with this member id and epoch
 * read group_id's offsets? NONE (also for classic and unknown groups, and
 * for a null member id with epoch < 0: admin tools), UNKNOWN_MEMBER_ID or
 * STALE_MEMBER_EPOCH, as Kafka's ConsumerGroup.validateOffsetFetch.
 */
int16_t kp_cg_fetch_check(kp_group_coord *gc, const char *group_id, const char *member_id,
			  int32_t member_epoch);

/* kp_cg_is_consumer_group - whether group_id exists and is a consumer (KIP-848) group. */
bool kp_cg_is_consumer_group(kp_group_coord *gc, const char *group_id);

/*
 * Persistence: what the cstore hook writes, as Kafka's records
 * (ConsumerGroupMetadata, ConsumerGroupMemberMetadata,
 * ConsumerGroupTargetAssignmentMember/Metadata,
 * ConsumerGroupCurrentMemberAssignment), and what replay gives back.
 */
struct kp_cg_member_record {
	const char *member_id, *instance_id, *rack_id, *client_id, *client_host;
	int32_t rebalance_timeout_ms;
	const char *const *topics;
	int32_t topic_count;
	const char *regex, *server_assignor;
	/* a classic-protocol member (ClassicMemberMetadata): session timeout and protocols */
	bool classic;
	int32_t classic_session_timeout_ms;
	const struct kp_group_protocol *protocols;
	int32_t protocol_count;
};

struct kp_cg_assignment_record {
	const char *member_id;
	int32_t member_epoch, previous_member_epoch;
	enum kp_cg_member_state state;
	const struct kp_cg_topic_partitions *assigned, *pending_revocation;
	int32_t assigned_count, pending_revocation_count;
};

/*
 * kp_cg_restore_epoch - replay ConsumerGroupMetadata (group epoch) or, with
 * target true, ConsumerGroupTargetAssignmentMetadata (assignment epoch).
 * epoch < 0 is a tombstone: the consumer group goes (its offsets stay).
 * Returns 0, -1 when out of memory.
 */
int kp_cg_restore_epoch(kp_group_coord *gc, const char *group_id, bool target, int32_t epoch,
			int64_t now);

/* kp_cg_restore_member - replay ConsumerGroupMemberMetadata (m NULL: tombstone). 0 or -1. */
int kp_cg_restore_member(kp_group_coord *gc, const char *group_id, const char *member_id,
			 const struct kp_cg_member_record *m, int64_t now);

/*
 * kp_cg_restore_target - replay ConsumerGroupTargetAssignmentMember
 * (tps NULL: tombstone). 0 or -1.
 */
int kp_cg_restore_target(kp_group_coord *gc, const char *group_id, const char *member_id,
			 const struct kp_cg_topic_partitions *tps, int32_t count, int64_t now);

/* kp_cg_restore_assignment - replay ConsumerGroupCurrentMemberAssignment (a NULL: tombstone). */
int kp_cg_restore_assignment(kp_group_coord *gc, const char *group_id, const char *member_id,
			     const struct kp_cg_assignment_record *a, int64_t now);

/*
 * kp_cg_each_record - call the given functions for everything a consumer
 * group's state is made of (the cstore hook's content): epoch(arg,
 * group_epoch, assignment_epoch), then per member: member(), target() and
 * assignment(). Returns false when group_id is not a consumer group.
 */
struct kp_cg_record_visitor {
	void *arg;
	void (*epochs)(void *arg, int32_t group_epoch, int32_t assignment_epoch);
	void (*member)(void *arg, const struct kp_cg_member_record *m);
	void (*target)(void *arg, const char *member_id, const struct kp_cg_topic_partitions *tps,
		       int32_t count);
	void (*assignment)(void *arg, const struct kp_cg_assignment_record *a);
};
bool kp_cg_each_record(kp_group_coord *gc, const char *group_id,
		       const struct kp_cg_record_visitor *v);

#endif
