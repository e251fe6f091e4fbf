/*
 * replica.h - partition replication in a broker: Kafka's Partition (the
 * leader's side) and ReplicaFetcherManager (the followers'). Not installed.
 *
 *            Fetch (replica id, fetch offset = its log end offset,
 *                   last fetched epoch, current leader epoch)
 *   follower ------------------------------------------------> leader
 *      ^       records from the fetch offset up to the log end,   |
 *      |       the high watermark, or a diverging epoch           |
 *      +----------------------------------------------------------+
 *
 *   leader   (replica_leader.c) remembers each follower's last fetch
 *            offset (its log end offset) and when it last had everything;
 *            the high watermark is the least log end offset over the
 *            ISR (and any caught-up replica about to join it), and only
 *            moves forward. A follower whose fetch reaches the high
 *            watermark and the start of the leader's epoch joins the ISR;
 *            one that has not caught up for replica.lag.time.max.ms
 *            leaves it. Both are asked of the controller with
 *            AlterPartition (KIP-497, replica_isr.c), one change in flight
 *            per partition, and take effect when it answers with the new
 *            partition epoch.
 *   follower (replica_fetcher.c) one fetcher per leader broker, one Fetch
 *            in flight for all its partitions; appends what it gets as it
 *            is (kp_log_append_replica), takes min(leader's high
 *            watermark, own log end offset) as its high watermark, and
 *            truncates to the point a diverging epoch names (KIP-101,
 *            KIP-279, KIP-595's Fetch v12+ DivergingEpoch) before going on.
 *   throttles (replica_throttle.c, KIP-73) a leader may send a follower
 *            outside the ISR nothing of a throttled partition, and a
 *            follower that has not caught up may leave one out of its
 *            Fetch, while their byte rates are above the configured ones.
 *
 * Everything runs on the broker's event loop.
 */
#ifndef KP_BROKER_REPLICA_H
#define KP_BROKER_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "net/outconn.h"
#include "util/error.h"

struct kp_broker;
struct kp_topic;
struct kp_partition;

typedef struct kp_replicas kp_replicas;

/*
 * kp_replicas_start - the broker's replication: the ISR expiry timer
 * (every replica.lag.time.max.ms / 2, as Kafka's isr-expiration task),
 * the high watermark checkpoint (kp_topics_hw_save every
 * replica.high.watermark.checkpoint.interval.ms) and the follower
 * fetchers (none until a partition needs one). Sets
 * b->replicas. Returns 0, or -1 with KP_ENOMEM / KP_EIO.
 */
int kp_replicas_start(struct kp_broker *b, kp_error *err);

/*
 * kp_replicas_free - stop every fetcher (requests in flight are dropped)
 * and the timer; NULL b->replicas is fine.
 */
void kp_replicas_free(struct kp_broker *b);

/*
 * kp_replica_state_changed - partition `p` of `t`, hosted here, took new
 * state from the metadata image (leader, epochs, replicas, ISR):
 * `new_epoch` when this broker just became its leader or leads it in a
 * new leader epoch. Then it tracks its followers afresh (Kafka's
 * makeLeader: followers in the ISR count as caught up now, their log end
 * offsets unknown), notes its log end offset as the epoch's start, and
 * keeps its high watermark, which only moves forward from there; a
 * follower drops that state. Fetchers are re-assigned by
 * kp_replica_fetchers_sync.
 */
void kp_replica_state_changed(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			      bool new_epoch);

/*
 * kp_replica_fetchers_sync - after a publish of the image: every hosted
 * partition this broker follows is fetched from its leader's
 * inter.broker.listener.name endpoint; idle fetchers with work start.
 */
void kp_replica_fetchers_sync(struct kp_broker *b);

/* kp_replica_remote - leader: p's state of follower `id` (owned by p), or NULL. */
struct kp_replica_state *kp_replica_remote(const struct kp_partition *p, int32_t id);

/*
 * kp_replica_is_follower_of - whether broker `replica` is one of p's
 * replicas other than this leader (may fetch as a follower).
 */
bool kp_replica_is_follower_of(const struct kp_partition *p, int32_t replica);

/*
 * kp_replica_out_of_range - follower: the leader (`leader`, reached over
 * `conn`, borrowed) answered p's fetch OFFSET_OUT_OF_RANGE: ask it for its
 * log end and start offsets (ListOffsets) and truncate to its end or start
 * over at its start, as Kafka's fetchOffsetAndTruncate
 * (replica_out_of_range.c); p is not fetched meanwhile. Failures are
 * logged and p fetched again after replica.fetch.backoff.ms.
 */
void kp_replica_out_of_range(struct kp_broker *b, kp_outconn *conn, struct kp_topic *t,
			     struct kp_partition *p, int32_t leader);

/*
 * kp_replica_follower_fetched - leader: follower `replica` (a replica of
 * `p`) fetched from `fetch_offset`, so its log end offset is that
 * (Kafka's Partition.updateFollowerFetchState): its caught-up time
 * advances, it may join the ISR, the high watermark may advance.
 * `broker_epoch` is from its request (Fetch v15+), -1 unknown;
 * `log_start_offset` its log start offset from the request (a change wakes
 * the partition's waiters: DeleteRecords' low watermark).
 */
void kp_replica_follower_fetched(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
				 int32_t replica, int64_t broker_epoch, int64_t fetch_offset,
				 int64_t log_start_offset);

/*
 * kp_replica_maybe_advance_hw - leader: raise p's high watermark to the
 * least log end offset over its ISR and the caught-up replicas about to
 * join it (Kafka's maybeIncrementLeaderHW); wakes the partition's parked
 * requests when it moves. Returns whether it moved.
 */
bool kp_replica_maybe_advance_hw(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p);

/*
 * kp_replica_min_isr - min.insync.replicas for topic `t`: the topic's
 * config in the image, else the broker's setting (default 1).
 */
int32_t kp_replica_min_isr(const struct kp_broker *b, const struct kp_topic *t);

/*
 * kp_replica_maximal_isr_count - the size of p's maximal ISR: its ISR
 * and a member being added (Kafka's PartitionState.maximalIsr), what
 * acks=all compares with min.insync.replicas after the append.
 */
int32_t kp_replica_maximal_isr_count(const struct kp_partition *p);

/* ---- replica_select.c: fetching from the closest replica (KIP-392) ---------- */

/*
 * kp_replica_preferred_read - leader: the broker a consumer in rack
 * `rack` (Fetch v11+ RackId, the client's client.rack; NULL or "" for
 * none), connected on listener `listener`, should fetch p from at
 * `fetch_offset`, as Kafka's ReplicaManager.findPreferredReadReplica
 * with RackAwareReplicaSelector: only when replica.selector.class names
 * it, p is led here and the leader is not in that rack; then the ISR
 * follower in the rack (registered, unfenced, with that listener) whose
 * last fetch offset is at least `fetch_offset` with the largest log end
 * offset, then the most recently caught up, then the largest id. A
 * follower's log start offset is not tracked: the leader's stands in for
 * it. Returns that broker id, or -1: the leader serves the fetch itself.
 */
int32_t kp_replica_preferred_read(const struct kp_broker *b, const struct kp_partition *p,
				  const char *rack, const char *listener, int64_t fetch_offset);

/* ---- replica_isr.c: the ISR through the controller -------------------------- */

/*
 * kp_replica_alter_isr - leader: ask the active controller to make
 * `isr` (n ids) p's ISR (AlterPartition v3, with each member's broker
 * epoch as this broker last saw it), unless a change is in flight.
 * `adding` is a broker joining (-1 for a shrink): counted in the maximal
 * ISR until the answer. The answer's state is taken when its partition
 * epoch is newer; errors wait for the next metadata or retry later.
 */
void kp_replica_alter_isr(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			  const int32_t *isr, int32_t n, int32_t adding);

/*
 * kp_replica_isr_expire - leader: the ISR members (but the leader) that
 * are not caught up (no fetch reached the log end offset within
 * replica.lag.time.max.ms) leave the ISR, through the controller, for
 * every partition led here (Kafka's maybeShrinkIsr). `now` in monotonic ms.
 */
void kp_replica_isr_expire(struct kp_broker *b, int64_t now);

/* ---- replica_throttle.c: replication throttles (KIP-73) --------------------- */

struct kp_replica_quota;

/*
 * kp_replica_quota_of - b's leader (`leader` true) or follower replication
 * quota (replica_quota.h), owned by b->replicas; NULL without them
 * (replica_fetcher.c).
 */
struct kp_replica_quota *kp_replica_quota_of(struct kp_broker *b, bool leader);

/*
 * kp_replica_throttles_sync - after a publish of the image: the leader and
 * follower quotas take their bounds (leader.replication.throttled.rate,
 * follower.replication.throttled.rate: this broker's dynamic config, else
 * the cluster default, else its settings) and every partition its
 * leader_throttled / follower_throttled flags from its topic's
 * leader.replication.throttled.replicas and
 * follower.replication.throttled.replicas entries for this broker. Changes
 * are logged at INFO.
 */
void kp_replica_throttles_sync(struct kp_broker *b);

/*
 * kp_replica_leader_throttled - leader: whether the records of p go
 * unsent to follower `replica` at monotonic `now` (Kafka's
 * shouldLeaderThrottle): p is leader-throttled here, `replica` is not in
 * its ISR and the leader quota is exceeded.
 */
bool kp_replica_leader_throttled(struct kp_broker *b, const struct kp_partition *p,
				 int32_t replica, int64_t now);

/*
 * kp_replica_leader_throttle_record - leader: `bytes` of leader-throttled
 * partitions' records went to a follower at `now`: they count against the
 * leader quota.
 */
void kp_replica_leader_throttle_record(struct kp_broker *b, int64_t bytes, int64_t now);

/*
 * kp_replica_follower_throttled - follower: whether p stays out of the next
 * Fetch at `now` (Kafka's shouldFollowerThrottle): p is follower-throttled
 * here, its last answer had not reached the leader's high watermark and the
 * follower quota is exceeded.
 */
bool kp_replica_follower_throttled(struct kp_broker *b, const struct kp_partition *p, int64_t now);

/*
 * kp_replica_follower_throttle_record - follower: `bytes` of records came
 * for p at `now`: they count against the follower quota when p is
 * follower-throttled here.
 */
void kp_replica_follower_throttle_record(struct kp_broker *b, const struct kp_partition *p,
					 int64_t bytes, int64_t now);

#endif
