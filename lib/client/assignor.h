/*
 * assignor.h - the classic consumer group protocol's client-side partition
 * assignors, as pure functions: the group leader runs one over every
 * member's subscription and sends each member its share in SyncGroup.
 *
 * The names and results are the Java client's:
 *   range              (RangeAssignor) per topic, members sorted, each
 *                      gets a contiguous range; the first (partitions %
 *                      members) get one more
 *   roundrobin         (RoundRobinAssignor) every topic-partition, sorted
 *                      by topic and partition, dealt to the sorted members
 *                      in turn, skipping members not subscribed to it
 *   cooperative-sticky (CooperativeStickyAssignor, KIP-429) balanced like
 *                      roundrobin but keeping each member's owned
 *                      partitions where balance allows; a partition that
 *                      moves from one member to another is left out of
 *                      this generation's assignment, so that its owner
 *                      revokes it first and the next rebalance hands it on
 * Members are ordered by group instance id when they have one (static
 * membership, KIP-345), else by member id, as the Java assignors do.
 */
#ifndef KP_CLIENT_ASSIGNOR_H
#define KP_CLIENT_ASSIGNOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum kp_assignor {
	KP_ASSIGNOR_RANGE,
	KP_ASSIGNOR_ROUNDROBIN,
	KP_ASSIGNOR_COOPERATIVE_STICKY,
};

/* One topic-partition; `topic` is borrowed (from the caller's topic or member arrays). */
struct kp_tp {
	const char *topic;
	int32_t partition;
};

/* A topic the assignment covers and its partition count (from the metadata). */
struct kp_assign_topic {
	const char *name;
	int32_t partitions;
};

/*
 * One member as the leader sees it in the JoinGroup response: ids and
 * subscription (ConsumerProtocolSubscription) are the input, `assigned`
 * the output.
 */
struct kp_assign_member {
	const char *member_id;
	const char *group_instance_id; /* NULL for a dynamic member */
	const char *const *topics;     /* subscribed topic names */
	size_t ntopics;
	const struct kp_tp *owned;     /* partitions it owns now (cooperative-sticky) */
	size_t nowned;
	int32_t generation;            /* generation of `owned`, -1 when unknown */
	struct kp_tp *assigned;        /* output: malloc'd, free with kp_assign_free */
	size_t nassigned;
};

/*
 * kp_assignor_parse - the assignor named `name` ("range", "roundrobin",
 * "cooperative-sticky"; the Java class names
 * org.apache.kafka.clients.consumer.RangeAssignor and so on are accepted
 * too). Returns the enum value, or -1 with KP_EINVAL.
 */
int kp_assignor_parse(const char *name, kp_error *err);

/* kp_assignor_name - the protocol name sent in JoinGroup ("range", ...). */
const char *kp_assignor_name(int assignor);

/* kp_assignor_cooperative - whether `assignor` rebalances cooperatively (KIP-429). */
int kp_assignor_cooperative(int assignor);

/*
 * kp_assign - run `assignor` over `members` (n of them) for `topics`
 * (ntopics; a subscribed topic missing here gets no partitions). Fills
 * each member's assigned/nassigned, sorted by topic then partition, with
 * topic names borrowed from `topics`. The members array itself is not
 * reordered. Returns 0, or -1 with KP_ENOMEM (no output is left
 * allocated) or KP_EINVAL for an unknown assignor.
 */
int kp_assign(int assignor, const struct kp_assign_topic *topics, size_t ntopics,
	      struct kp_assign_member *members, size_t n, kp_error *err);

/* kp_assign_free - free the `assigned` arrays of `members` (n of them) and zero them. */
void kp_assign_free(struct kp_assign_member *members, size_t n);

#endif
