/*
 * group_internal.h - the member state shared by group.c (lifecycle, the
 * poll loop, the coordinator connection), group_offsets.c (OffsetFetch,
 * OffsetCommit, adding and revoking partitions), group_classic.c
 * (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) and group_consumer.c
 * (ConsumerGroupHeartbeat, KIP-848). Not installed.
 */
#ifndef KP_CLIENT_GROUP_INTERNAL_H
#define KP_CLIENT_GROUP_INTERNAL_H

#include "client/assignor.h"
#include "client/group.h"
#include "protocol/codec.h"

/* A partition the member owns: its topic (owned copy) and last committed offset. */
struct owned {
	char *topic;
	int32_t partition;
	int64_t committed; /* -1: none yet */
};

/* A set of topic-partitions with owned topic strings. */
struct tpset {
	struct kp_tp *tp; /* topic strings malloc'd */
	size_t n;
};

struct kp_member {
	kp_cluster *cluster;
	kp_consumer *consumer;
	struct kp_member_config cfg;
	char *group_id;
	char **topics;
	size_t ntopics;
	int whence;
	int64_t value;
	kp_member_flush_cb flush;
	void *flush_opaque;
	int fetch_wait_ms;        /* fetch.max.wait.ms as configured */

	kp_conn *coord;           /* own connection to the coordinator, NULL when unknown */
	char *member_id;          /* "" until the coordinator (or we) name it */
	int32_t generation;       /* classic generation id, or consumer member epoch */
	char *protocol_name;      /* classic: the assignor the group chose */
	bool joined;              /* in a generation with an assignment */
	bool rejoin;              /* classic: a rebalance is wanted */
	bool lost;                /* membership lost: drop partitions uncommitted at the next poll */
	bool has_assignment;      /* some assignment was received */
	int heartbeat_interval_ms;
	int64_t next_heartbeat;   /* kp_mono_ms deadline */
	int64_t next_commit;
	int64_t failing_since;    /* first of consecutive coordinator failures, or 0 */

	struct owned *owned;
	size_t nowned;

	/* consumer protocol */
	bool target_pending;      /* a new assignment waits in target */
	struct tpset target;
	bool send_owned;          /* report owned partitions in the next heartbeat */
};

/* group.c */
int kp_member_coordinator(kp_member *g, kp_error *err);
void kp_member_drop_coordinator(kp_member *g);
bool kp_member_coord_error(int code);
int kp_member_call(kp_member *g, int16_t api, int16_t max_version, const void *req, kp_arena *a,
		  void *resp, int timeout_ms, int *version, kp_error *err);
int kp_member_conn_trouble(kp_member *g, kp_error *err);
bool kp_member_is_static(const kp_member *g);

/* group_offsets.c */
int kp_member_assign_set(kp_member *g, const struct kp_tp *tps, size_t n, bool *revoked,
			kp_error *err);
void kp_member_lose_all(kp_member *g);
int kp_member_commit_some(kp_member *g, const struct kp_tp *only, size_t n, kp_error *err);
void kp_tpset_clear(struct tpset *s);
int kp_tpset_add(struct tpset *s, const char *topic, int32_t partition);

/* group_classic.c */
int kp_classic_join(kp_member *g, kp_error *err);
int kp_classic_heartbeat(kp_member *g, kp_error *err);
int kp_classic_leave(kp_member *g, kp_error *err);

/* group_consumer.c */
int kp_cgh_heartbeat(kp_member *g, kp_error *err);
int kp_cgh_reconcile(kp_member *g, kp_error *err);
int kp_cgh_leave(kp_member *g, kp_error *err);

#endif
