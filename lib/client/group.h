/*
 * group.h - consumer group membership for the blocking client: join a
 * group, read the partitions the group assigns through a kp_consumer, and
 * commit what the caller has written.
 *
 * Two protocols, chosen with group.protocol as in the Java client:
 *   classic   (default) FindCoordinator, JoinGroup (MEMBER_ID_REQUIRED,
 *             KIP-394), SyncGroup with the assignment the leader computed
 *             with partition.assignment.strategy (assignor.h), Heartbeat
 *             (REBALANCE_IN_PROGRESS: rejoin), LeaveGroup; eager
 *             assignors revoke everything before rejoining, the
 *             cooperative one only what moves (KIP-429); static membership
 *             with group.instance.id (KIP-345)
 *   consumer  ConsumerGroupHeartbeat (KIP-848): the coordinator assigns
 *             (group.remote.assignor picks its assignor), the member
 *             reconciles and acknowledges in its next heartbeat, with the
 *             member epoch in OffsetCommit
 * Offsets: OffsetFetch gives the start of every newly assigned partition;
 * where the group has none, the caller's whence/value (enum kp_seek)
 * applies, like auto.offset.reset. Commits (OffsetCommit) hold each owned
 * partition's consumer position and are sent every auto.commit.interval.ms,
 * for a partition before it is revoked, and on close; every commit first
 * calls the caller's flush callback, so that a commit never covers a
 * record the caller has not written out.
 *
 * The names are kp_member_* (a member of a group, seen from the client):
 * kp_group_* is the broker's group coordinator in lib/group.
 *
 * Everything is blocking and single-threaded: kp_member_poll bounds its
 * Fetch wait by the next heartbeat's deadline, and a caller blocked
 * elsewhere (slow output) calls kp_member_tick to keep heartbeats flowing.
 */
#ifndef KP_CLIENT_GROUP_H
#define KP_CLIENT_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/assignor.h"
#include "client/cluster.h"
#include "client/consumer.h"
#include "util/config.h"
#include "util/error.h"

enum kp_member_protocol {
	KP_MEMBER_CLASSIC,
	KP_MEMBER_CONSUMER,
};

/*
 * Group settings with the Java consumer's names and defaults (times in
 * milliseconds). session.timeout.ms and heartbeat.interval.ms apply to
 * the classic protocol only; with the consumer protocol the coordinator
 * sets both (group.consumer.session.timeout.ms and
 * group.consumer.heartbeat.interval.ms on the broker).
 */
struct kp_member_config {
	int protocol;              /* group.protocol: classic|consumer */
	int assignor;              /* partition.assignment.strategy (enum kp_assignor): range */
	int session_timeout_ms;    /* session.timeout.ms: 45000 */
	int heartbeat_interval_ms; /* heartbeat.interval.ms: 3000 */
	int rebalance_timeout_ms;  /* max.poll.interval.ms: 300000 */
	int commit_interval_ms;    /* auto.commit.interval.ms: 5000 */
	char instance_id[256];     /* group.instance.id: "" for a dynamic member */
	char remote_assignor[64];  /* group.remote.assignor: "" lets the coordinator choose */
};

/*
 * kp_member_config_read - fill `out` from `cfg` (may be NULL: defaults).
 * Returns 0 or -1 with KP_EINVAL naming the key and the bad value.
 */
int kp_member_config_read(const kp_config *cfg, struct kp_member_config *out, kp_error *err);

/*
 * kp_member_flush_cb - make everything handed out so far durable (written
 * and flushed); called before every commit. Return 0, or -1 to skip the
 * commit (the records are not written).
 */
typedef int (*kp_member_flush_cb)(void *opaque);

typedef struct kp_member kp_member;

/*
 * kp_member_new - a member of group `group_id` subscribed to `topics`
 * (ntopics names, copied), reading through `consumer` (borrowed; the
 * group adds and removes its partitions, which must start empty) and
 * `cluster` (borrowed). `whence`/`value` (enum kp_seek) is where to start
 * a partition the group has no committed offset for. `flush` (may be
 * NULL) and `opaque` as above. Nothing is sent until the first poll.
 * Returns NULL with KP_ENOMEM, or KP_ENOTFOUND for a topic that does not
 * exist (its metadata is looked up here).
 */
kp_member *kp_member_new(kp_cluster *cluster, kp_consumer *consumer, const char *group_id,
		       const struct kp_member_config *cfg, const char *const *topics, size_t ntopics,
		       int whence, int64_t value, kp_member_flush_cb flush, void *opaque,
		       kp_error *err);

/*
 * kp_member_poll - do what membership needs now (find the coordinator,
 * join and sync or heartbeat, revoke and add partitions, commit when
 * auto.commit.interval.ms has passed), then one kp_consumer_poll with its
 * wait cut to the next heartbeat's deadline (or just that wait when no
 * partition is assigned). Returns 0, 1 when `cb` asked to stop, or -1:
 * KP_EKAFKA for a fatal group error (FENCED_INSTANCE_ID,
 * INCONSISTENT_GROUP_PROTOCOL, GROUP_AUTHORIZATION_FAILED, an unsupported
 * protocol, ...), connection errors lasting past request.timeout.ms, or
 * the consumer's errors.
 */
int kp_member_poll(kp_member *g, kp_record_cb cb, void *opaque, kp_error *err);

/*
 * kp_member_tick - send a heartbeat if one is due, without waiting for
 * anything else; for a caller blocked outside kp_member_poll (writing
 * slowly). What the answer asks for (a rebalance, a new assignment) is
 * acted on in the next kp_member_poll. Returns 0 or -1 (fatal errors as
 * kp_member_poll; connection trouble is retried later, not returned).
 */
int kp_member_tick(kp_member *g, kp_error *err);

/*
 * kp_member_at_end - whether the member has received an assignment and
 * every partition in it has reached its end (kp_consumer_at_end); an
 * empty assignment counts as at its end.
 */
bool kp_member_at_end(const kp_member *g);

/*
 * kp_member_commit - flush (the callback), then commit the position of
 * every owned partition that moved since its last commit. Returns 0 or -1
 * (KP_EKAFKA naming the partition or the group error; the member rejoins
 * after REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
 * FENCED_MEMBER_EPOCH).
 */
int kp_member_commit(kp_member *g, kp_error *err);

/*
 * kp_member_committed - the group's committed offsets of the `n`
 * partitions at `tps` into out[0..n) (-1 where the group has none):
 * OffsetFetch at the group's coordinator, found first if need be. Needs
 * no membership, so a reader that does not join can start where the
 * group is (kconsume -o stored). Returns 0, or -1 with KP_EKAFKA (a group
 * or partition error), KP_ENOMEM, or connection trouble lasting past
 * request.timeout.ms.
 */
int kp_member_committed(kp_member *g, const struct kp_tp *tps, size_t n, int64_t *out,
			kp_error *err);

/*
 * kp_member_close - leave the group: with `commit`, commit first (as
 * kp_member_commit); then LeaveGroup (classic) or a heartbeat with member
 * epoch -1 (consumer). A static member (group.instance.id) does not
 * leave, as in Kafka: it keeps its assignment for session.timeout.ms and
 * gets it back when it returns (member epoch -2 for the consumer
 * protocol). Returns 0 or -1 when the commit or the leave failed (the
 * member has still stopped reading).
 */
int kp_member_close(kp_member *g, bool commit, kp_error *err);

/* kp_member_free - free `g` (NULL is fine) without talking to the coordinator. */
void kp_member_free(kp_member *g);

#endif
