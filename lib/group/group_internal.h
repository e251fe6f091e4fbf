/*
 * group_internal.h - what the group coordinator's files share: groups,
 * members, pending members and offsets in uthash tables. Not installed.
 */
#ifndef KP_GROUP_INTERNAL_H
#define KP_GROUP_INTERNAL_H

#include <uthash.h>

#include "util/arena.h"

#include "group/consumer_group.h"
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

/* A set of topic partitions, sorted by topic then partition (cg_tps.c). */
struct kp_cg_tp {
	char *topic; /* owned */
	int32_t partition;
};
struct kp_cg_tps {
	struct kp_cg_tp *v;
	int32_t n, cap;
};

/* A member of a consumer (KIP-848) group. */
struct kp_cg_member {
	char *member_id; /* hash key in cg->members */
	char *instance_id, *rack_id, *client_id, *client_host; /* may be NULL */
	int32_t rebalance_timeout_ms;
	char **topics;   /* subscribed topic names, sorted */
	int32_t topic_count;
	char *regex, *server_assignor; /* NULL when none */
	int32_t epoch, previous_epoch;
	enum kp_cg_member_state state;
	struct kp_cg_tps assigned, pending_revocation, target;
	int64_t session_deadline;
	int64_t rebalance_deadline; /* 0: none (only in UNREVOKED_PARTITIONS) */
	/* a member using the classic protocol (JoinGroup/SyncGroup) in a consumer group */
	bool classic;
	int32_t classic_session_timeout_ms;
	struct kp_group_proto *protocols; /* as in its JoinGroup, in order */
	int32_t protocol_count;
	int64_t sync_deadline, join_deadline; /* 0: none; fenced when passed */
	UT_hash_handle hh;
};

/* Who owns a partition now (Kafka's currentPartitionEpoch). */
struct kp_cg_owner {
	struct kp_group_offset_key key;
	int32_t epoch;
	struct kp_cg_member *member;
	UT_hash_handle hh;
};

/* What a group is when it is a consumer group. */
struct kp_cgroup {
	int32_t group_epoch, assignment_epoch;
	struct kp_cg_member *members;
	struct kp_cg_owner *owners;
	/* the subscribed topics' partition counts the target was computed from (count < 0: not known) */
	char **meta_topics;
	int32_t *meta_partitions;
	int32_t meta_count;
};

struct kp_group {
	char *id; /* hash key in gc->groups */
	struct kp_cgroup *cg; /* non-NULL: a consumer (KIP-848) group; classic fields unused */
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
	/* views handed out by kp_cg_member_at, valid until its next call */
	struct kp_cg_topic_partitions *view;
	int32_t *view_parts;
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

/* cg_tps.c */
void kp_cg_tps_free(struct kp_cg_tps *s);
void kp_cg_tps_clear(struct kp_cg_tps *s);
bool kp_cg_tps_contains(const struct kp_cg_tps *s, const char *topic, int32_t partition);
int kp_cg_tps_add(struct kp_cg_tps *s, const char *topic, int32_t partition);
void kp_cg_tps_remove(struct kp_cg_tps *s, const char *topic, int32_t partition);
int kp_cg_tps_copy(struct kp_cg_tps *dst, const struct kp_cg_tps *src);
bool kp_cg_tps_equal(const struct kp_cg_tps *a, const struct kp_cg_tps *b);
bool kp_cg_tps_subset(const struct kp_cg_tps *a, const struct kp_cg_tps *b);
int kp_cg_tps_from(struct kp_cg_tps *s, const struct kp_cg_topic_partitions *tps, int32_t n);
int kp_cg_tps_view(const struct kp_cg_tps *s, struct kp_cg_topic_partitions **out,
		   int32_t **parts, int32_t *count);
int kp_cg_offset_key(struct kp_group_offset_key *k, const char *topic, int32_t partition);

/* cg_assignor.c */
bool kp_cg_assignor_known(const char *name);
int kp_cg_assign(kp_group_coord *gc, struct kp_group *g, const char *assignor);
int32_t kp_cg_subscribed_metadata(kp_group_coord *gc, const struct kp_cgroup *cg, char ***topics,
				  int32_t **parts);

/* cg_reconcile.c */
int kp_cg_reconcile(struct kp_cgroup *cg, struct kp_cg_member *m, const struct kp_cg_tps *owned,
		    bool *changed);
void kp_cg_owners_update(struct kp_cgroup *cg, struct kp_cg_member *m);
void kp_cg_owners_drop(struct kp_cgroup *cg, struct kp_cg_member *m);

/* cg_heartbeat.c, shared with cg_classic.c */
struct kp_cg_member *kp_cg_member_new(struct kp_cgroup *cg, const char *member_id);
struct kp_cg_member *kp_cg_static_member(struct kp_cgroup *cg, const char *instance_id);
struct kp_cg_member *kp_cg_replace_static(kp_group_coord *gc, struct kp_group *g,
					  struct kp_cg_member *old, const char *member_id);
int kp_cg_set_str(char **dst, const char *src, bool *changed);
int kp_cg_set_topics(struct kp_cg_member *m, const char *const *topics, int32_t n, bool *changed);
int kp_cg_advance(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *m,
		  const struct kp_cg_tps *owned, bool bump, bool *stored);
char *kp_cg_new_uuid(kp_group_coord *gc);

/* cg_classic.c: classic members of consumer groups, from lib/group's classic entry points */
struct kp_group_pending *kp_cg_classic_join(kp_group_coord *gc, struct kp_group *g,
					    const struct kp_group_join_args *a,
					    struct kp_group_pending *p, int64_t now);
struct kp_group_pending *kp_cg_classic_sync(kp_group_coord *gc, struct kp_group *g,
					    const struct kp_group_sync_args *a,
					    struct kp_group_pending *p, int64_t now);
int16_t kp_cg_classic_heartbeat(kp_group_coord *gc, struct kp_group *g, const char *member_id,
				const char *instance_id, int32_t generation_id, int64_t now);
int16_t kp_cg_classic_leave(kp_group_coord *gc, struct kp_group *g, const char *member_id,
			    const char *instance_id, int64_t now);

/* cg_migrate.c */
struct kp_consumer_protocol_subscription;
int kp_cg_decode_subscription(const uint8_t *data, size_t len, kp_arena *a,
			      struct kp_consumer_protocol_subscription *s);
int kp_cg_upgrade(kp_group_coord *gc, struct kp_group *g, int64_t now);
bool kp_cg_maybe_downgrade(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *leaving,
			   int64_t now);

/* cg_group.c */
struct kp_cgroup *kp_cg_new(void);
void kp_cg_free(struct kp_cgroup *cg);
struct kp_cg_member *kp_cg_member_find(struct kp_cgroup *cg, const char *member_id);
void kp_cg_member_free(struct kp_cg_member *m);
void kp_cg_member_remove(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *m);
void kp_cg_fence(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *m, int64_t now);
void kp_cg_state_update(struct kp_group *g, int64_t now);
const char *kp_cg_preferred_assignor(kp_group_coord *gc, const struct kp_cgroup *cg);
uint64_t kp_group_random(kp_group_coord *gc);
bool kp_cg_subscribes(kp_group_coord *gc, const struct kp_cgroup *cg, const char *topic);
void kp_cg_tick(kp_group_coord *gc, struct kp_group *g, int64_t now);
void kp_cg_cstore(kp_group_coord *gc, struct kp_group *g);
void kp_cg_forget(kp_group_coord *gc, struct kp_group *g);

#endif
