/*
 * replica_quota.h - replication throttles (KIP-73): a byte rate sampled
 * over a few time windows, and the throttled-replicas lists of topics.
 * Pure arithmetic (no broker, no clock: the caller passes the time), so
 * that unit tests can drive it; replica_throttle.c applies it. Not
 * installed.
 *
 * The rate is Kafka's ReplicationQuotaManager sensor, a SimpleRate over a
 * WindowedSum: bytes go into the current sample, a sample covers at most
 * window_ms from its first use, num_samples + 1 of them are kept in a
 * ring, and a sample without a record for num_samples * window_ms is
 * forgotten. The rate is the sum of the samples over the time since the
 * oldest one started, but never over less than one window; the quota is
 * exceeded while that rate is above the bound. What was recorded is never
 * refused: a throttle only stops the next fetch, so what a throttled
 * transfer moves in its first T seconds after the first check (T within
 * num_samples windows) is at most bound * max(T, one window) plus the one
 * fetch admitted last; over longer runs, a window's worth and a fetch more
 * each time the windows have all been replaced (test_replica_quota.c).
 */
#ifndef KP_BROKER_REPLICA_QUOTA_H
#define KP_BROKER_REPLICA_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* A bound that is never reached: Kafka's QUOTA_BYTES_PER_SECOND_DEFAULT, Long.MAX_VALUE. */
#define KP_REPLICA_QUOTA_UNLIMITED INT64_MAX

/* One window of recorded bytes. */
struct kp_replica_quota_sample {
	double bytes;     /* recorded in this window */
	int64_t start_ms; /* when the window began */
	int64_t last_ms;  /* the latest record (or the start) */
};

/* A sampled byte rate and its bound (Kafka's ReplicationQuotaManager). */
typedef struct kp_replica_quota {
	int64_t bound;        /* bytes per second; KP_REPLICA_QUOTA_UNLIMITED for none */
	int32_t num_samples;  /* replication.quota.window.num */
	int64_t window_ms;    /* replication.quota.window.size.seconds, in ms */
	int32_t current;      /* index of the sample records go to */
	int32_t used;         /* samples in use, at most num_samples + 1 */
	struct kp_replica_quota_sample *s; /* owned, num_samples + 1 */
} kp_replica_quota;

/*
 * kp_replica_quota_init - `q` with no samples and no bound, keeping
 * `num_samples` (>= 1) windows of `window_ms` (>= 1) milliseconds. `q`
 * owns an array afterwards: release it with kp_replica_quota_clear.
 * Returns 0, or -1 with KP_EINVAL (a count or size below 1) or KP_ENOMEM,
 * leaving `q` holding nothing.
 */
int kp_replica_quota_init(kp_replica_quota *q, int32_t num_samples, int64_t window_ms,
			  kp_error *err);

/* kp_replica_quota_clear - free what `q` holds; `q` may then be initialised again. */
void kp_replica_quota_clear(kp_replica_quota *q);

/*
 * kp_replica_quota_set_bound - the bound in bytes per second (negative is
 * taken as 0, KP_REPLICA_QUOTA_UNLIMITED for none). The samples stay, as
 * Kafka's updateQuota keeps the sensor: a new bound judges the bytes
 * already recorded.
 */
void kp_replica_quota_set_bound(kp_replica_quota *q, int64_t bound);

/*
 * kp_replica_quota_record - add `bytes` (>= 0) at monotonic time `now_ms`,
 * whatever the bound (Kafka records without checking). Times should not
 * go backwards; a sample is never older than its start, whatever they do.
 */
void kp_replica_quota_record(kp_replica_quota *q, int64_t bytes, int64_t now_ms);

/*
 * kp_replica_quota_rate - the rate at `now_ms` in bytes per second: the
 * bytes of the samples still kept over max(now_ms - the oldest sample's
 * start, one window) (Kafka's SimpleRate). Forgets the samples that had no
 * record for num_samples windows.
 */
double kp_replica_quota_rate(kp_replica_quota *q, int64_t now_ms);

/*
 * kp_replica_quota_exceeded - whether the rate at `now_ms` is above the
 * bound (Kafka's isQuotaExceeded); never with no bound, without looking.
 */
bool kp_replica_quota_exceeded(kp_replica_quota *q, int64_t now_ms);

/*
 * kp_replica_throttled_mark - apply a topic's
 * leader.replication.throttled.replicas or
 * follower.replication.throttled.replicas value `list` for broker
 * `broker`: marks[p] = true for every partition p < n the list names with
 * that broker ("P:B" entries, comma-separated, blanks around them
 * ignored), or for every partition when an entry is "*" (a valid list has
 * it alone; Kafka's TopicConfigHandler.parseThrottledPartitions). Entries
 * that are not two numbers are skipped, as are empty ones; nothing else in
 * marks changes. NULL or "" marks nothing. Returns how many entries of
 * `list` apply here (n for "*").
 */
int32_t kp_replica_throttled_mark(const char *list, int32_t broker, bool *marks, int32_t n);

#endif
