/*
 * group.h - the group coordinator's classic protocol as a state machine:
 * groups, their members and generations, and committed offsets.
 *
 * Kafka's classic group protocol (the protocol guide's "The Consumer
 * Group Protocol"; KIP-62 rebalance timeout, KIP-345 static membership,
 * KIP-394 MEMBER_ID_REQUIRED, KIP-389 group.max.size, KIP-211 offset
 * retention of empty groups). A group moves through Kafka's states:
 *
 *   Empty --join--> PreparingRebalance --all joined / rebalance timeout-->
 *   CompletingRebalance --leader's SyncGroup--> Stable --join/leave/expiry-->
 *   PreparingRebalance ...; Dead once deleted.
 *
 * There is no clock, socket or log here: every entry point takes the
 * current time in milliseconds (`now`, any monotonic origin), and
 * kp_group_tick moves deadlines (initial rebalance delay, rebalance
 * timeout, session timeout, offset retention). A JoinGroup or SyncGroup
 * that must wait returns a kp_group_pending that is completed later by
 * another call; the coordinator then calls cfg.notify with the group id
 * so that its owner can answer what waited (the broker wakes the group's
 * purgatory key). Not thread-safe.
 */
#ifndef KP_GROUP_GROUP_H
#define KP_GROUP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kp_group_coord kp_group_coord;

/* Settings, under Kafka's broker config names. */
struct kp_group_config {
	int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms (6000) */
	int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms (1800000) */
	int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (3000) */
	int32_t max_size;                   /* group.max.size (INT32_MAX) */
	int64_t offsets_retention_ms;       /* offsets.retention.minutes (7 days) in ms */
	int32_t offset_metadata_max_bytes;  /* offset.metadata.max.bytes (4096) */
	int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms (600000) */
	uint64_t seed;                      /* seeds the member id generator */
	/* called (may be NULL) when pending operations of group_id completed */
	void (*notify)(void *arg, const char *group_id);
	void *notify_arg;
	/*
	 * Persistence hooks (may be NULL; arg is notify_arg): store when
	 * group_id became Stable or Empty (write its kp_group_snapshot), and
	 * removed when an offset expired (topic, partition) or the group
	 * itself went (topic NULL), to write tombstones.
	 */
	void (*store)(void *arg, const char *group_id);
	void (*removed)(void *arg, const char *group_id, const char *topic, int32_t partition);
	/*
	 * Consumer (KIP-848) groups, consumer_group.h. cstore: group_id's
	 * state changed, write it (kp_cg_each_record; a group that is no
	 * longer a consumer group gets tombstones); cremoved_member:
	 * member_id left group_id (its tombstones). May be NULL.
	 */
	void (*cstore)(void *arg, const char *group_id);
	void (*cremoved_member)(void *arg, const char *group_id, const char *member_id);
	/*
	 * The metadata the server-side assignors read (arg: metadata_arg; may
	 * be NULL, then no topic exists): topic's partition count or -1, and
	 * every topic name (for regex subscriptions).
	 */
	int32_t (*topic_partitions)(void *arg, const char *topic);
	void (*topics_each)(void *arg, void (*fn)(void *fn_arg, const char *topic), void *fn_arg);
	void *metadata_arg;
	int32_t consumer_session_timeout_ms;    /* group.consumer.session.timeout.ms (45000) */
	int32_t consumer_heartbeat_interval_ms; /* group.consumer.heartbeat.interval.ms (5000) */
	int32_t consumer_max_size;              /* group.consumer.max.size (INT32_MAX) */
	const char *consumer_assignors[4];      /* group.consumer.assignors, first is the default */
	bool consumer_upgrade, consumer_downgrade; /* group.consumer.migration.policy (both) */
};

/* kp_group_config_default - Kafka's defaults (seed 0, no notify). */
void kp_group_config_default(struct kp_group_config *cfg);

/* Group states, Kafka's names (kp_group_state_name). */
enum kp_group_state {
	KP_GROUP_EMPTY,
	KP_GROUP_PREPARING_REBALANCE,
	KP_GROUP_COMPLETING_REBALANCE,
	KP_GROUP_STABLE,
	KP_GROUP_DEAD,
	KP_GROUP_ASSIGNING,   /* consumer groups (KIP-848) only */
	KP_GROUP_RECONCILING, /* consumer groups (KIP-848) only */
};

/* kp_group_state_name - "Empty", "PreparingRebalance", ... as Kafka spells them. */
const char *kp_group_state_name(enum kp_group_state s);

/* One protocol a joining member supports: name and opaque metadata (borrowed). */
struct kp_group_protocol {
	const char *name;
	const uint8_t *metadata;
	size_t metadata_len;
};

/* A JoinGroup's arguments (all borrowed for the call). */
struct kp_group_join_args {
	const char *group_id;
	const char *member_id;         /* "" when unknown */
	const char *group_instance_id; /* NULL: dynamic member (KIP-345) */
	const char *protocol_type;
	const char *client_id, *client_host; /* for DescribeGroups and new member ids */
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;  /* v0: the session timeout */
	bool require_known_member;     /* v4+: KIP-394 MEMBER_ID_REQUIRED */
	const struct kp_group_protocol *protocols;
	int32_t protocol_count;
};

/* A member as the leader's JoinGroup response lists it (pointers into the pending). */
struct kp_group_join_member {
	char *member_id;
	char *group_instance_id; /* NULL for dynamic members */
	uint8_t *metadata;
	size_t metadata_len;
};

enum kp_group_pending_kind { KP_GROUP_PENDING_JOIN, KP_GROUP_PENDING_SYNC };

/*
 * A JoinGroup or SyncGroup in progress. `done` tells whether the fields
 * below it hold the answer; until then the coordinator fills them. The
 * caller frees it with kp_group_pending_free, done or not.
 */
struct kp_group_pending {
	enum kp_group_pending_kind kind;
	bool done;
	int16_t error;        /* Kafka error code of the answer */
	char *member_id;      /* join: the member's id (also with MEMBER_ID_REQUIRED) */
	int32_t generation_id;
	char *protocol_type, *protocol_name; /* NULL when none */
	char *leader;         /* join: the leader's member id */
	struct kp_group_join_member *members; /* join: the leader gets every member */
	int32_t member_count;
	bool skip_assignment; /* join: KIP-814, a static leader rejoining a stable group */
	uint8_t *assignment;  /* sync: this member's assignment */
	size_t assignment_len;
	/*
	 * Not done yet: how long from the call the coordinator may take at
	 * most (the join phase's or the sync's deadline, the longest
	 * rebalance timeout of the group's members); a caller's own timer
	 * should allow that much.
	 */
	int64_t wait_ms;
	/* private */
	kp_group_coord *gc;
	struct kp_group_member *owner;
};

/* kp_group_coord_new - an empty coordinator with `cfg` (copied); NULL when out of memory. */
kp_group_coord *kp_group_coord_new(const struct kp_group_config *cfg);

/*
 * kp_group_coord_free - free every group. Pending operations still
 * waiting are completed with NOT_COORDINATOR (no notify) and stay the
 * caller's to free. NULL is allowed.
 */
void kp_group_coord_free(kp_group_coord *gc);

/*
 * kp_group_join - JoinGroup. Returns a pending (NULL only when memory
 * runs out): done at once for errors (INVALID_GROUP_ID,
 * INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, MEMBER_ID_REQUIRED with the
 * new member id, COORDINATOR_NOT_AVAILABLE for a dead group) and for a
 * known member rejoining a stable group unchanged; otherwise completed
 * when the join phase ends (notify).
 */
struct kp_group_pending *kp_group_join(kp_group_coord *gc, const struct kp_group_join_args *a,
				       int64_t now);

/* One assignment of the leader's SyncGroup (borrowed). */
struct kp_group_assignment {
	const char *member_id;
	const uint8_t *data;
	size_t len;
};

/* A SyncGroup's arguments (borrowed). */
struct kp_group_sync_args {
	const char *group_id, *member_id, *group_instance_id;
	int32_t generation_id;
	const char *protocol_type, *protocol_name; /* v5+, NULL when not sent */
	const struct kp_group_assignment *assignments;
	int32_t assignment_count;
};

/*
 * kp_group_sync - SyncGroup. Returns a pending (NULL when out of memory),
 * done at once for errors (INVALID_GROUP_ID for a null or empty group
 * id, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
 * ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL, REBALANCE_IN_PROGRESS),
 * in Stable, and for the leader (whose assignments complete the others);
 * a follower's waits for the leader's.
 */
struct kp_group_pending *kp_group_sync(kp_group_coord *gc, const struct kp_group_sync_args *a,
				       int64_t now);

/*
 * kp_group_pending_free - free `p`; if it still waits, its member stops
 * waiting (it stays in the group until its session expires, as in
 * Kafka). NULL is allowed.
 */
void kp_group_pending_free(struct kp_group_pending *p);

/*
 * kp_group_sync_failed - the group metadata the leader's SyncGroup of
 * `generation_id` stored (the store hook) could not be written durably:
 * a classic group still Stable in that generation rebalances, as Kafka's
 * classic coordinator resets the assignment and prepares a rebalance when
 * storing it fails (GroupMetadataManager's SyncGroup append callback);
 * the members rejoin. Anything else (another generation, a rebalance
 * under way, no such group) is left alone.
 */
void kp_group_sync_failed(kp_group_coord *gc, const char *group_id, int32_t generation_id,
			  int64_t now);

/*
 * kp_group_heartbeat - Heartbeat: NONE, or INVALID_GROUP_ID (null or
 * empty group id), UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (the
 * member must rejoin), COORDINATOR_NOT_AVAILABLE (dead group).
 */
int16_t kp_group_heartbeat(kp_group_coord *gc, const char *group_id, const char *member_id,
			   const char *group_instance_id, int32_t generation_id, int64_t now);

/*
 * kp_group_leave - LeaveGroup of one member identity: by member id, or
 * by group instance id when member_id is "" (v3+). Returns NONE,
 * INVALID_GROUP_ID (null or empty group id), UNKNOWN_MEMBER_ID (also for
 * an unknown group), FENCED_INSTANCE_ID or COORDINATOR_NOT_AVAILABLE (a
 * dead group). A leaving member starts a
 * rebalance (or completes the join phase it held back).
 */
int16_t kp_group_leave(kp_group_coord *gc, const char *group_id, const char *member_id,
		       const char *group_instance_id, int64_t now);

/*
 * kp_group_tick - move time to `now`: expire members whose session
 * timeout passed, end join phases whose delay or rebalance timeout
 * passed and, every offsets.retention.check.interval.ms, expire offsets
 * as Kafka's OffsetExpirationCondition does (KIP-211): in an Empty group
 * with a protocol type, offsets.retention after the group became Empty;
 * in a group without one (simple consumers, admin tools), after the
 * offset's commit; in a Stable "consumer" group, after the commit for
 * topics no member subscribes to; an explicit expire timestamp wins.
 * An Empty group left with no offsets is removed. The removed hook is
 * told of every offset and group that went (tombstones).
 */
void kp_group_tick(kp_group_coord *gc, int64_t now);

/* A committed offset (strings owned by the coordinator). */
struct kp_group_offset {
	int64_t offset;
	int32_t leader_epoch;   /* -1 when unknown */
	const char *metadata;   /* never NULL */
	int64_t commit_timestamp;
	/*
	 * An explicit expiry (OffsetCommit v2-4's RetentionTimeMs, persisted
	 * as OffsetCommitValue v1's expireTimestamp): when > 0 the offset
	 * expires then, whatever the group's state; 0 or -1: none, and
	 * offsets.retention applies (KIP-211).
	 */
	int64_t expire_timestamp;
};

/*
 * kp_group_commit_check - may this OffsetCommit's member commit? NONE, or
 * COORDINATOR_NOT_AVAILABLE, REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION (GROUP_ID_NOT_FOUND instead for
 * an unknown group at `version` >= 9), as Kafka's validateOffsetCommit;
 * INVALID_GROUP_ID for a null group id ("" is a group, as in Kafka).
 * A generation id < 0 commits for an empty or unknown group (simple
 * consumers, admin tools); the group is created Empty.
 */
int16_t kp_group_commit_check(kp_group_coord *gc, const char *group_id, const char *member_id,
			      const char *group_instance_id, int32_t generation_id, int16_t version,
			      int64_t now);

/*
 * kp_group_commit - store one partition's offset for group_id (after
 * kp_group_commit_check): NONE, OFFSET_METADATA_TOO_LARGE, or
 * COORDINATOR_NOT_AVAILABLE when out of memory. `metadata` NULL is "".
 */
int16_t kp_group_commit(kp_group_coord *gc, const char *group_id, const char *topic,
			int32_t partition, const struct kp_group_offset *o, int64_t now);

/* kp_group_offset_get - group_id's committed offset of topic/partition, or NULL. */
const struct kp_group_offset *kp_group_offset_get(kp_group_coord *gc, const char *group_id,
						  const char *topic, int32_t partition);

/*
 * kp_group_offsets_each - call fn for every committed offset of group_id
 * (order: topics and partitions in commit order). Returns how many.
 */
size_t kp_group_offsets_each(kp_group_coord *gc, const char *group_id,
			     void (*fn)(void *arg, const char *topic, int32_t partition,
					const struct kp_group_offset *o),
			     void *arg);

/*
 * kp_group_offset_delete_check - may OffsetDelete (KIP-496) touch group_id?
 * NONE, GROUP_ID_NOT_FOUND (no such group), or NON_EMPTY_GROUP for a group
 * with members whose protocol type is not "consumer" (Kafka's
 * ClassicGroup.validateOffsetDelete).
 */
int16_t kp_group_offset_delete_check(kp_group_coord *gc, const char *group_id);

/*
 * kp_group_offset_delete - OffsetDelete of one partition after the check:
 * NONE (the offset is gone, also when nothing was committed; the removed
 * hook writes its tombstone), or GROUP_SUBSCRIBED_TO_TOPIC when a member
 * subscribes to `topic`: the topics of the members' "consumer" protocol
 * metadata (ConsumerProtocolSubscription read as its v0 prefix), every
 * topic when that metadata does not parse (Kafka's isSubscribedToTopic).
 */
int16_t kp_group_offset_delete(kp_group_coord *gc, const char *group_id, const char *topic,
			       int32_t partition);

/* A group as ListGroups / DescribeGroups see it (pointers valid until the next call that changes it). */
struct kp_group_info {
	const char *group_id;
	const char *type;           /* "classic" or "consumer" (KIP-848), ListGroups v5 */
	enum kp_group_state state;
	const char *protocol_type;  /* "" when none */
	const char *protocol_name;  /* "" when none */
	int32_t generation_id;
	int32_t member_count;
};

/* kp_group_describe - fill *out for group_id; false when there is no such group. */
bool kp_group_describe(kp_group_coord *gc, const char *group_id, struct kp_group_info *out);

/* A member as DescribeGroups shows it (pointers owned by the coordinator). */
struct kp_group_member_info {
	const char *member_id, *group_instance_id, *client_id, *client_host;
	const uint8_t *metadata; /* of the selected protocol */
	size_t metadata_len;
	const uint8_t *assignment;
	size_t assignment_len;
};

/* kp_group_member_at - member `i` (0..member_count-1) of group_id; false when out of range. */
bool kp_group_member_at(kp_group_coord *gc, const char *group_id, int32_t i,
			struct kp_group_member_info *out);

/* kp_group_count / kp_group_at - iterate groups (order unspecified, stable between changes). */
size_t kp_group_count(const kp_group_coord *gc);
bool kp_group_at(kp_group_coord *gc, size_t i, struct kp_group_info *out);

/*
 * kp_group_delete - DeleteGroups of one group: NONE (the group and its
 * offsets are gone), GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or
 * INVALID_GROUP_ID for a null id ("" is a group id, as in Kafka).
 */
int16_t kp_group_delete(kp_group_coord *gc, const char *group_id);

/*
 * kp_group_unload - forget every group for which match(arg, group id) is
 * true (this broker stopped coordinating them): their waiting operations
 * are completed with NOT_COORDINATOR (notify), nothing is persisted.
 */
void kp_group_unload(kp_group_coord *gc, bool (*match)(void *arg, const char *group_id), void *arg);

/* A member as persisted (GroupMetadataValue's MemberMetadata; pointers borrowed). */
struct kp_group_snapshot_member {
	const char *member_id, *group_instance_id, *client_id, *client_host;
	int32_t rebalance_timeout_ms, session_timeout_ms;
	const uint8_t *subscription; /* the selected protocol's metadata */
	size_t subscription_len;
	const uint8_t *assignment;
	size_t assignment_len;
};

/* A group as persisted in __consumer_offsets (GroupMetadataValue; pointers borrowed). */
struct kp_group_snapshot {
	const char *group_id, *protocol_type, *protocol_name, *leader; /* name, leader may be NULL */
	int32_t generation_id;
	int64_t state_timestamp;
	struct kp_group_snapshot_member *members; /* malloc'd by kp_group_snapshot_get */
	int32_t member_count;
};

/*
 * kp_group_snapshot_get - group_id as a snapshot: false when there is no
 * such group (write a tombstone). The caller frees out->members (free).
 * Pointers are valid until the coordinator next changes.
 */
bool kp_group_snapshot_get(kp_group_coord *gc, const char *group_id, struct kp_group_snapshot *out);

/*
 * kp_group_restore - load a group replayed from __consumer_offsets: s NULL
 * (a tombstone) removes group_id's membership; else the group gets s's
 * generation, protocol and members (Stable with members, else Empty),
 * each member with a fresh session from `now`, in that state since
 * s->state_timestamp (-1: unknown, offsets then expire from their commits). Returns 0, -1 when out of
 * memory. Offsets are kept either way.
 */
int kp_group_restore(kp_group_coord *gc, const char *group_id, const struct kp_group_snapshot *s,
		     int64_t now);

/*
 * kp_group_restore_offset - load one offset replayed from the log (o NULL:
 * a tombstone). Returns 0, -1 when out of memory.
 */
int kp_group_restore_offset(kp_group_coord *gc, const char *group_id, const char *topic,
			    int32_t partition, const struct kp_group_offset *o, int64_t now);

#endif
