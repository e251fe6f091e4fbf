/*
 * group_internal.h - what the group coordinator's files share: groups,
 * members, pending members and offsets in uthash tables. Not installed.
 */
#ifndef KP_GROUP_INTERNAL_H
#define KP_GROUP_INTERNAL_H

#include <uthash.h>

#include "group/group.h"

/* One protocol of a member, copied. */
struct kp_group_proto {
	char *name;
	uint8_t *metadata;
	size_t metadata_len;
};

struct kp_group_member {
	char *member_id;        /* hash key in group->members */
	char *instance_id;      /* NULL: dynamic */
	char *client_id, *client_host;
	int32_t session_timeout_ms, rebalance_timeout_ms;
	struct kp_group_proto *protocols;
	int32_t protocol_count;
	uint8_t *assignment;
	size_t assignment_len;
	int64_t last_heartbeat;
	bool pending_sync;             /* no SyncGroup yet in this generation (Kafka's pendingSyncMembers) */
	struct kp_group_pending *join; /* a JoinGroup waiting for the join phase to end */
	struct kp_group_pending *sync; /* a SyncGroup waiting for the leader's */
	struct kp_group *group;
	UT_hash_handle hh;
};

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined (KIP-394). */
struct kp_group_pending_member {
	char *member_id;
	int64_t deadline;
	UT_hash_handle hh;
};

/* An offset's key: topic name and partition, zero-padded for hashing. */
struct kp_group_offset_key {
	int32_t partition;
	char topic[256];
};

struct kp_group_offset_entry {
	struct kp_group_offset_key key;
	struct kp_group_offset o; /* o.metadata owned (char *) */
	UT_hash_handle hh;
};

struct kp_group {
	char *id; /* hash key in gc->groups */
	enum kp_group_state state;
	int64_t state_since; /* INT64_MIN: unknown (replayed from a record without one) */
	int32_t generation_id;
	char *protocol_type, *protocol_name, *leader;
	struct kp_group_member *members;
	struct kp_group_pending_member *pending;
	struct kp_group_offset_entry *offsets;
	int64_t rebalance_deadline, delay_until;
	int64_t sync_deadline;  /* members still pending sync then are removed */
	bool initial_delay, new_member_added;
	UT_hash_handle hh;
};

struct kp_group_coord {
	struct kp_group_config cfg;
	struct kp_group *groups;
	uint64_t rng;
	int64_t next_cleanup;
};

/* group.c */
struct kp_group *kp_group_find(kp_group_coord *gc, const char *id);
struct kp_group *kp_group_get_or_create(kp_group_coord *gc, const char *id, int64_t now);
void kp_group_remove(kp_group_coord *gc, struct kp_group *g);
void kp_group_set_state(struct kp_group *g, enum kp_group_state s, int64_t now);
void kp_group_notify(kp_group_coord *gc, struct kp_group *g);
void kp_group_store(kp_group_coord *gc, struct kp_group *g);
char *kp_group_new_member_id(kp_group_coord *gc, const char *prefix);
struct kp_group_pending *kp_group_pending_new(kp_group_coord *gc, enum kp_group_pending_kind k);
void kp_group_pending_complete(kp_group_coord *gc, struct kp_group_pending *p, int16_t error);
char *kp_group_strdup(const char *s);

/* membership.c */
struct kp_group_member *kp_group_member_find(struct kp_group *g, const char *member_id);
struct kp_group_member *kp_group_static_member(struct kp_group *g, const char *instance_id);
int16_t kp_group_validate_member(struct kp_group *g, const char *member_id, const char *instance_id);
void kp_group_member_remove(kp_group_coord *gc, struct kp_group *g, struct kp_group_member *m,
			    int16_t error, int64_t now);
void kp_group_prepare_rebalance(kp_group_coord *gc, struct kp_group *g, int64_t now);
void kp_group_maybe_complete_join(kp_group_coord *gc, struct kp_group *g, int64_t now);
void kp_group_complete_join(kp_group_coord *gc, struct kp_group *g, int64_t now);
void kp_group_fill_join(struct kp_group *g, struct kp_group_member *m, struct kp_group_pending *p);
void kp_group_pending_member_expire(struct kp_group *g, int64_t now);
void kp_group_sync_expire(kp_group_coord *gc, struct kp_group *g, int64_t now);
void kp_group_free_members(kp_group_coord *gc, struct kp_group *g);

/* offsets.c */
void kp_group_offsets_free(struct kp_group *g);
void kp_group_offset_forget(struct kp_group *g, const char *topic, int32_t partition);
int kp_group_offset_store(struct kp_group *g, const char *topic, int32_t partition,
			  const struct kp_group_offset *o);
void kp_group_offsets_expire(kp_group_coord *gc, struct kp_group *g, int64_t now);

#endif
