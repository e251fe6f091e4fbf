/*
 * admin_groups.h - consumer group administration for the tools (kgroups):
 * list a cluster's groups, describe one (state, members, assignments),
 * read its committed offsets and its partitions' log offsets, commit new
 * offsets for it, and delete it or some of its offsets. The requests are
 * the ones Kafka's Admin client sends for kafka-consumer-groups.sh
 * (org.apache.kafka.tools.consumer.group.ConsumerGroupCommand).
 *
 * Every group request goes to the group's coordinator, found with
 * FindCoordinator (one key a request) and reached over the cluster's
 * connection to that broker.
 * NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE (also what Kafka answers
 * while it creates __consumer_offsets), COORDINATOR_LOAD_IN_PROGRESS and
 * broken connections are retried with a new FindCoordinator after
 * retry.backoff.ms, until request.timeout.ms has passed (kp_cluster's
 * configuration). Versions are negotiated with each broker's ApiVersions
 * (kp_conn_pick_version) within what this code implements:
 *
 *   API (key)                   versions
 *   FindCoordinator (10)        0-6  (key type 0: a group; v4 batches keys, KIP-699)
 *   ListGroups (16)             0-5  (v4 states, KIP-518; v5 group types, KIP-848)
 *   DescribeGroups (15)         0-5
 *   ConsumerGroupDescribe (69)  0    (KIP-848 consumer groups)
 *   OffsetFetch (9)             2-9  (v2 all of a group's offsets; v8 groups array, KIP-709)
 *   OffsetCommit (8)            2-9  (as the Admin client: generation -1, no member id)
 *   ListOffsets (2)             1-7  (v1 one offset a partition; by timestamp, KIP-79)
 *   DeleteGroups (42)           0-2
 *   OffsetDelete (47)           0    (KIP-496)
 *
 * (the Kafka protocol guide, kafka.apache.org/protocol, "The Messages"; the
 * message schemas are lib/protocol's).
 *
 * Everything blocks. Results are malloc'd and owned by the caller, who
 * frees them with the matching function. Nothing is printed; failures come
 * back as a kp_error (util/error.h): KP_EKAFKA with the Kafka error code,
 * KP_ENOTFOUND, KP_ECONN, KP_ETIMEDOUT, KP_EPROTO or KP_ENOMEM.
 */
#ifndef KP_CLIENT_ADMIN_GROUPS_H
#define KP_CLIENT_ADMIN_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "client/assignor.h" /* struct kp_tp */
#include "client/cluster.h"
#include "util/error.h"

/* ListOffsets' special timestamps (kp_groups_log_offsets `when`). */
#define KP_GROUPS_LATEST (-1)   /* the log end offset (high watermark) */
#define KP_GROUPS_EARLIEST (-2) /* the log start offset */

/* A topic-partition whose topic name the holder owns (struct kp_tp borrows it). */
struct kp_groups_tp {
	char *topic;
	int32_t partition;
};

/* A group as ListGroups names it; strings owned by the array. */
struct kp_groups_listed {
	char *group_id;
	char *state;         /* Kafka's state name ("Stable", "Empty", ...); "" before ListGroups v4 */
	char *type;          /* "classic" or "consumer" (KIP-848); "" before ListGroups v5 */
	char *protocol_type; /* "consumer" for consumers; "" for a group that only holds offsets */
};

/*
 * kp_groups_list - every classic and consumer group of the cluster:
 * ListGroups (types filter classic and consumer from v5) sent to every
 * broker of the metadata, each answering for the groups it coordinates.
 * *out gets a malloc'd array of *n groups sorted by group id (free with
 * kp_groups_listed_free). Returns 0, or -1 when a broker cannot be asked
 * or answers with an error (COORDINATOR_LOAD_IN_PROGRESS is retried).
 */
int kp_groups_list(kp_cluster *c, struct kp_groups_listed **out, size_t *n, kp_error *err);

/* kp_groups_listed_free - free the `n` groups at `g` and the array (NULL is fine). */
void kp_groups_listed_free(struct kp_groups_listed *g, size_t n);

/* A member of a described group; strings owned by the member. */
struct kp_groups_member {
	char *member_id;
	char *instance_id;              /* group.instance.id (KIP-345), NULL for a dynamic member */
	char *client_id;
	char *host;                     /* the member's address as the coordinator saw it ("/127.0.0.1") */
	struct kp_groups_tp *assigned;  /* its current assignment, sorted by topic, then partition */
	size_t nassigned;
};

/* A described group; everything owned by it (kp_groups_desc_clear). */
struct kp_groups_desc {
	char *group_id;
	char *state;          /* classic: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead;
			       * consumer: Empty, Assigning, Reconciling, Stable */
	char *type;           /* "classic" or "consumer" */
	char *protocol_type;  /* "consumer" for consumer groups, "" for offsets only */
	char *assignor;       /* the partition assignor in use; "" when none (a classic group not Stable) */
	int32_t coordinator;  /* the coordinator's node id */
	char *coordinator_addr; /* and its "host:port" */
	struct kp_groups_member *members;
	size_t nmembers;
};

/*
 * kp_groups_describe - describe group `group` into *out (zeroed first;
 * kp_groups_desc_clear it, also after a failure). A consumer group
 * (KIP-848) is described with ConsumerGroupDescribe; a group that is no
 * consumer group (GROUP_ID_NOT_FOUND there), or a broker without the API,
 * with DescribeGroups, whose member assignments (ConsumerProtocol
 * Assignment, any version) are decoded for protocol type "consumer".
 * Classic members' assignments are known only while the group is Stable
 * (the coordinator's rule). Returns 0, or -1: KP_ENOTFOUND "group 'G' does
 * not exist" (DescribeGroups' Dead state), KP_EKAFKA for a group error.
 */
int kp_groups_describe(kp_cluster *c, const char *group, struct kp_groups_desc *out,
		       kp_error *err);

/* kp_groups_desc_clear - free everything `d` holds and zero it. */
void kp_groups_desc_clear(struct kp_groups_desc *d);

/* A committed offset; the topic owned by the array. */
struct kp_groups_offset {
	char *topic;
	int32_t partition;
	int64_t offset;       /* the committed offset (the next record to read) */
	int32_t leader_epoch; /* the committed leader epoch, -1 when none */
};

/*
 * kp_groups_fetch_offsets - every offset group `group` has committed
 * (OffsetFetch for all topics, require_stable false), as a malloc'd array
 * of *n in *out sorted by topic, then partition (free with
 * kp_groups_offsets_free); a group with no offsets, or no group, gives
 * none. Returns 0, or -1 with KP_EKAFKA for a group or partition error.
 */
int kp_groups_fetch_offsets(kp_cluster *c, const char *group, struct kp_groups_offset **out,
			    size_t *n, kp_error *err);

/* kp_groups_offsets_free - free the `n` offsets at `o` and the array (NULL is fine). */
void kp_groups_offsets_free(struct kp_groups_offset *o, size_t n);

/*
 * kp_groups_log_offsets - ListOffsets for the `n` partitions `tps`, one
 * request per partition leader, read_uncommitted: `when` is
 * KP_GROUPS_LATEST (the log end offset), KP_GROUPS_EARLIEST (the log
 * start offset) or a timestamp in milliseconds since the epoch (the first
 * offset whose record's timestamp is at least `when`, KIP-79; -1 when
 * there is none). out[i] (n entries) gets partition i's offset.
 * With `codes` (n entries, may be NULL) a partition's failure is stored
 * there as a Kafka error code (UNKNOWN_TOPIC_OR_PARTITION for a topic or
 * partition the metadata lacks; out[i] is then -1) and the call goes on;
 * without, the first failure fails the call. Leader changes
 * (NOT_LEADER_OR_FOLLOWER and other retriable codes) are retried after a
 * metadata refresh. Returns 0 or -1.
 */
int kp_groups_log_offsets(kp_cluster *c, const struct kp_tp *tps, size_t n, int64_t when,
			  int64_t *out, int16_t *codes, kp_error *err);

/*
 * kp_groups_commit - commit offsets[i] for tps[i] (n of them) for group
 * `group` as an admin does (OffsetCommit with generation -1, an empty
 * member id and no instance id, leader epoch -1, empty metadata): the
 * coordinator accepts it only while the group has no members
 * (UNKNOWN_MEMBER_ID otherwise), and creates the group if needed. `codes`
 * (n entries, may be NULL) gets each partition's error code. Returns 0
 * when every partition was committed, else -1 with the first error.
 */
int kp_groups_commit(kp_cluster *c, const char *group, const struct kp_tp *tps,
		     const int64_t *offsets, size_t n, int16_t *codes, kp_error *err);

/*
 * kp_groups_delete - DeleteGroups for group `group`: its committed offsets
 * and the group itself. Returns 0, or -1: KP_ENOTFOUND when there is no
 * such group (GROUP_ID_NOT_FOUND), KP_EKAFKA with NON_EMPTY_GROUP while it
 * has members, or another error.
 */
int kp_groups_delete(kp_cluster *c, const char *group, kp_error *err);

/*
 * kp_groups_delete_offsets - OffsetDelete of group `group`'s committed
 * offsets for the `n` partitions `tps`. `codes` (n entries) gets each
 * partition's result: 0 when deleted (or there was none), else its error
 * (GROUP_SUBSCRIBED_TO_TOPIC while a member subscribes to the topic).
 * Returns 0 when the request was answered, else -1 with the group-level
 * error (KP_ENOTFOUND for GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...).
 */
int kp_groups_delete_offsets(kp_cluster *c, const char *group, const struct kp_tp *tps,
			     size_t n, int16_t *codes, kp_error *err);

/*
 * kp_groups_coordinator - FindCoordinator for group `group`: its
 * coordinator's node id in *node_id and the cluster's connection to it in
 * *conn (owned by the cluster). Retries as described above. Returns 0 or
 * -1 (KP_EKAFKA with the FindCoordinator error, connection errors).
 */
int kp_groups_coordinator(kp_cluster *c, const char *group, int32_t *node_id, kp_conn **conn,
			  kp_error *err);

#endif
