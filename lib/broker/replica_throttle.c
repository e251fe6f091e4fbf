/*
 * replica_throttle.c - replication throttles (KIP-73) in a broker: which
 * partitions are throttled here and at what rate, and the two decisions
 * Kafka makes with them; see replica.h. The quotas themselves are
 * replica_quota.c's, owned by b->replicas.
 *
 *   leader   (Kafka's ReplicaManager.shouldLeaderThrottle) leaves out the
 *            records of a partition in a follower's Fetch when the topic's
 *            leader.replication.throttled.replicas names the partition on
 *            this broker (or is "*"), the follower is not in its ISR and the
 *            leader quota (leader.replication.throttled.rate) is exceeded;
 *            the records sent to followers for named partitions, ISR
 *            members' too, count against the quota (KafkaApis records the
 *            size of the throttled partitions of each answer).
 *   follower (Kafka's ReplicaFetcherThread: shouldFollowerThrottle) leaves a
 *            partition out of its Fetch when
 *            follower.replication.throttled.replicas names it on this
 *            broker, its last answer had not reached the leader's high
 *            watermark and the follower quota is exceeded; the records it
 *            appends for named partitions count against that quota.
 *
 * The rates come from the image's dynamic broker configs, this broker's own
 * (resource name its node.id) over the cluster default (name ""), and
 * otherwise from the broker's settings (Kafka reads them only dynamically;
 * a static value is kbroker's addition), else no throttle. Everything is
 * taken again after each publish of the image (kp_replica_throttles_sync).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/replica.h"
#include "broker/replica_quota.h"
#include "util/diag.h"

#define LEADER_RATE "leader.replication.throttled.rate"
#define FOLLOWER_RATE "follower.replication.throttled.rate"
#define LEADER_REPLICAS "leader.replication.throttled.replicas"
#define FOLLOWER_REPLICAS "follower.replication.throttled.replicas"

/* rate_value - `v` as a rate (a whole number >= 0) into *out; false when it is not one. */
static bool rate_value(const char *v, int64_t *out)
{
	char *end;
	long long n;

	if (!v || !*v)
		return false;
	n = strtoll(v, &end, 10);
	if (*end || n < 0)
		return false;
	*out = n;
	return true;
}

/*
 * effective_rate - rate `key` for this broker: its dynamic broker config,
 * the cluster-wide default, else `static_rate`; *source names which.
 */
static int64_t effective_rate(const struct kp_broker *b, const char *key, int64_t static_rate,
			      const char **source)
{
	const kp_image *img = b->cluster ? b->cluster->image : NULL;
	char id[16];
	int64_t v;

	snprintf(id, sizeof(id), "%d", (int)b->cfg.node_id);
	*source = "dynamic broker config";
	if (img && rate_value(kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, id, key), &v))
		return v;
	*source = "dynamic default broker config";
	if (img && rate_value(kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "", key), &v))
		return v;
	*source = "static broker config";
	return static_rate;
}

/* sync_bound - quota q takes rate `key`'s effective value; a change is logged. */
static void sync_bound(struct kp_broker *b, kp_replica_quota *q, const char *key,
		       int64_t static_rate)
{
	const char *source;
	int64_t rate = effective_rate(b, key, static_rate, &source);

	if (!q || rate == q->bound)
		return;
	kp_replica_quota_set_bound(q, rate);
	if (rate == KP_REPLICA_QUOTA_UNLIMITED)
		kp_diag_info("%s: none", key);
	else
		kp_diag_info("%s: %lld bytes/s (%s)", key, (long long)rate, source);
}

/*
 * sync_topic - t's partitions take their throttle flags from t's configs;
 * `marks` has room for t->partition_count. Logs a change.
 */
static void sync_topic(struct kp_broker *b, struct kp_topic *t, bool *marks)
{
	const kp_image *img = b->cluster->image;
	const char *lists[2] = {
		kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, t->name, LEADER_REPLICAS),
		kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, t->name, FOLLOWER_REPLICAS),
	};
	int32_t count[2] = { 0, 0 };
	bool changed = false;

	for (int k = 0; k < 2; k++) {
		memset(marks, 0, sizeof(*marks) * (size_t)t->partition_count);
		kp_replica_throttled_mark(lists[k], b->cfg.node_id, marks, t->partition_count);
		for (int32_t i = 0; i < t->partition_count; i++) {
			struct kp_partition *p = &t->partitions[i];
			bool *flag = k == 0 ? &p->leader_throttled : &p->follower_throttled;

			changed |= *flag != marks[i];
			*flag = marks[i];
			count[k] += marks[i];
		}
	}
	if (changed)
		kp_diag_info("replication throttle of %s: %d partitions as leader, %d as follower",
			     t->name, count[0], count[1]);
}

void kp_replica_throttles_sync(struct kp_broker *b)
{
	int32_t most = 1;
	bool *marks;

	if (!b->cluster || !b->cluster->image)
		return;
	sync_bound(b, kp_replica_quota_of(b, true), LEADER_RATE,
		   b->cfg.replica.leader_throttled_rate);
	sync_bound(b, kp_replica_quota_of(b, false), FOLLOWER_RATE,
		   b->cfg.replica.follower_throttled_rate);
	for (size_t i = 0; i < kp_topics_count(b->topics); i++) {
		const struct kp_topic *t = kp_topics_at(b->topics, i);

		if (t->partition_count > most)
			most = t->partition_count;
	}
	if (!(marks = malloc(sizeof(*marks) * (size_t)most))) {
		kp_diag_error("out of memory applying the replication throttles");
		return;
	}
	for (size_t i = 0; i < kp_topics_count(b->topics); i++)
		sync_topic(b, kp_topics_at(b->topics, i), marks);
	free(marks);
}

/* in_isr - whether broker `id` is in p's ISR. */
static bool in_isr(const struct kp_partition *p, int32_t id)
{
	for (int32_t i = 0; i < p->isr_count; i++)
		if (p->isr[i] == id)
			return true;
	return false;
}

bool kp_replica_leader_throttled(struct kp_broker *b, const struct kp_partition *p,
				 int32_t replica, int64_t now)
{
	kp_replica_quota *q;

	if (!p->leader_throttled || in_isr(p, replica) || !(q = kp_replica_quota_of(b, true)))
		return false;
	return kp_replica_quota_exceeded(q, now);
}

void kp_replica_leader_throttle_record(struct kp_broker *b, int64_t bytes, int64_t now)
{
	kp_replica_quota *q = kp_replica_quota_of(b, true);

	if (q && bytes > 0)
		kp_replica_quota_record(q, bytes, now);
}

bool kp_replica_follower_throttled(struct kp_broker *b, const struct kp_partition *p, int64_t now)
{
	kp_replica_quota *q;

	if (!p->follower_throttled || p->fetch_in_sync || !(q = kp_replica_quota_of(b, false)))
		return false;
	return kp_replica_quota_exceeded(q, now);
}

void kp_replica_follower_throttle_record(struct kp_broker *b, const struct kp_partition *p,
					 int64_t bytes, int64_t now)
{
	kp_replica_quota *q = kp_replica_quota_of(b, false);

	if (q && p->follower_throttled && bytes > 0)
		kp_replica_quota_record(q, bytes, now);
}
