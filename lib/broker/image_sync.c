/*
 * image_sync.c - the topic registry of a KRaft broker follows the
 * metadata image (Kafka's BrokerMetadataPublisher handing the delta to
 * ReplicaManager.applyDelta and LogManager): see kp_broker_cluster_publish in
 * cluster.h. The whole image is compared with the registry at each
 * publish; metadata changes are rare next to produce and fetch. Once the
 * broker serves, one pass opens at most KP_PUBLISH_OPENS new logs and
 * leaves the rest to passes that follow from the loop, so that creating
 * thousands of partitions does not hold every request and heartbeat for
 * seconds (the first publish at start opens everything: nothing is
 * served before it).
 */
#include <event2/event.h>
#include <stdint.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/log_config.h"
#include "broker/replica.h"
#include "util/diag.h"

/* New logs one publish pass opens at most once the broker serves (image_sync.c). */
#define KP_PUBLISH_OPENS 1000

/* stop_hosting - `lp` was reassigned away from this broker: close its log and delete it. */
static void stop_hosting(struct kp_broker *b, struct kp_topic *t, struct kp_partition *lp)
{
	kp_error err;

	kp_diag_info("no longer a replica of %s-%d: deleting its log", t->name, lp->index);
	if (kp_topics_drop_replica(b->topics, t, lp->index, &err) < 0)
		kp_diag_warn("deleting %s-%d: %s", t->name, lp->index, err.msg);
}

/*
 * sync_partition - local partition `lp` takes image partition `ip`'s state;
 * opens its log. A partition whose log is to be opened while *opens_left
 * is 0 is left as it was, for a later pass (returns false); else true.
 */
static bool sync_partition(struct kp_broker *b, struct kp_topic *t, struct kp_partition *lp,
			   const struct kp_image_partition *ip, size_t *opens_left)
{
	int32_t me = b->cfg.node_id;
	bool changed = lp->leader != ip->leader || lp->leader_epoch != ip->leader_epoch;
	bool was_leader = !lp->follower && lp->hosted;
	bool replica = kp_image_ids_contain(&ip->replicas, me);
	kp_error err;

	if (!changed && lp->replica_count > 0 && lp->partition_epoch == ip->partition_epoch &&
	    replica == lp->hosted)
		return true; /* every change of a partition bumps its partition epoch */
	if (replica && !lp->hosted && (*opens_left)-- == 0) {
		*opens_left = 0;
		return false;
	}
	lp->leader = ip->leader;
	lp->leader_epoch = ip->leader_epoch;
	lp->partition_epoch = ip->partition_epoch;
	lp->follower = ip->leader != me;
	if (changed)
		lp->fetch_in_sync = false; /* a new leader or epoch: not known to be caught up */
	if (kp_partition_set_ids(&lp->replicas, &lp->replica_count, ip->replicas.ids,
				 ip->replicas.count) < 0 ||
	    kp_partition_set_ids(&lp->isr, &lp->isr_count, ip->isr.ids, ip->isr.count) < 0)
		kp_diag_error("%s-%d: out of memory", t->name, lp->index);
	if (replica && !lp->hosted) {
		if (kp_topics_open_replica(b->topics, t, lp->index, &err) < 0) {
			kp_diag_error("partition %s-%d is offline: %s", t->name, lp->index, err.msg);
			lp->hosted = true; /* a replica here, offline (no log) until a restart */
		} else
			kp_diag_info("hosting %s-%d (leader %d, leader epoch %d)", t->name,
				     lp->index, ip->leader, ip->leader_epoch);
	} else if (!replica && lp->hosted) {
		stop_hosting(b, t, lp);
	}
	if (lp->hosted)
		kp_replica_state_changed(b, t, lp, !lp->follower && (!was_leader || changed));
	kp_broker_cluster_group_leadership(b, t, lp->index, was_leader, !lp->follower && lp->hosted);
	if (changed)
		kp_broker_wake_partition(b, t, lp->index); /* parked fetches re-check */
	return true;
}

/* local_topic - the registry's topic for image topic `it`, made (or remade) when missing. */
static struct kp_topic *local_topic(struct kp_broker *b, const struct kp_image_topic *it)
{
	struct kp_topic *t = kp_topics_find_id(b->topics, &it->id);
	kp_error err;

	if (!t && (t = kp_topics_find(b->topics, it->name))) {
		kp_diag_info("topic %s was deleted and created again: deleting the old one", it->name);
		if (kp_topics_delete(b->topics, t, &err) < 0)
			kp_diag_warn("deleting the old %s: %s", it->name, err.msg);
		t = NULL;
	}
	if (!t && kp_topics_add_empty(b->topics, it->name, &it->id, it->partition_slots, &t,
				      &err) < 0) {
		kp_diag_error("cannot follow topic %s: %s", it->name, err.msg);
		return NULL;
	}
	if (t->partition_count < it->partition_slots &&
	    kp_topics_grow(t, it->partition_slots, &err) < 0) {
		kp_diag_error("cannot grow topic %s: %s", it->name, err.msg);
		return NULL;
	}
	return t;
}

/* delete_removed - delete the registry's topics the image no longer has. */
static void delete_removed(struct kp_broker *b, const kp_image *img)
{
	kp_error err;

	for (size_t i = kp_topics_count(b->topics); i-- > 0;) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		if (kp_image_topic_by_id(img, &t->id))
			continue;
		kp_diag_info("deleting topic %s: removed from the metadata", t->name);
		if (kp_topics_delete(b->topics, t, &err) < 0)
			kp_diag_warn("deleting topic: %s", err.msg);
	}
}

/* publish_more_cb - the next pass of a publish that opened its quota of logs. */
static void publish_more_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_broker_cluster_publish(arg);
}

/*
 * publish_later - ask for another pass from the loop, after it has polled
 * for what is waiting (requests, heartbeats, the controller's answers): a
 * timer, since an event made active at once would run before the loop
 * polls again. False when no timer could be set (the next publish does
 * the rest).
 */
static bool publish_later(struct kp_broker *b)
{
	struct kp_broker_cluster *c = b->cluster;
	struct timeval soon = { 0, 1000 };

	if (!c->publish_more && !(c->publish_more = evtimer_new(b->base, publish_more_cb, b)))
		return false;
	return evtimer_add(c->publish_more, &soon) == 0;
}

void kp_broker_cluster_publish(struct kp_broker *b)
{
	const kp_image *img = b->cluster->image;
	size_t opens_left = b->cluster->published ? KP_PUBLISH_OPENS : SIZE_MAX;
	bool all = true;

	delete_removed(b, img);
	for (const struct kp_image_topic *it = kp_image_topic_first(img); it;
	     it = kp_image_topic_next(img, it)) {
		struct kp_topic *t = local_topic(b, it);

		for (int32_t i = 0; t && i < it->partition_slots; i++) {
			const struct kp_image_partition *ip = kp_image_topic_partition(it, i);

			if (ip && !sync_partition(b, t, &t->partitions[i], ip, &opens_left))
				all = false;
		}
	}
	if (!all && !publish_later(b))
		kp_diag_warn("out of memory: new partitions wait for the next metadata change");
	struct kp_watch_key k;
	int failed = 0;
	kp_error err;

	if (kp_topics_sync_created(b->topics, &failed, &err) < 0) { /* before any write to them */
		kp_diag_error("new partitions: %s", err.msg);
		kp_broker_log_failed(b, kp_topics_dir_path(b->topics, failed), &err);
	}
	kp_replica_throttles_sync(b);
	kp_topic_log_configs_sync(b);
	kp_replica_fetchers_sync(b);
	kp_watch_key_image(&k);
	kp_purgatory_wake(b->purgatory, &k); /* Metadata waiting for auto-created topics */
}
