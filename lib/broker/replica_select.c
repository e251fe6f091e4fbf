/*
 * replica_select.c - which replica a consumer should fetch a partition
 * from (KIP-392, fetching from the closest replica): Kafka's
 * ReplicaManager.findPreferredReadReplica with the one selector kbroker
 * has, org.apache.kafka.common.replica.RackAwareReplicaSelector; see
 * replica.h.
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/replica.h"

/* in_isr - whether `id` is in p's ISR as the controller last committed it. */
static bool in_isr(const struct kp_partition *p, int32_t id)
{
	for (int32_t i = 0; i < p->isr_count; i++)
		if (p->isr[i] == id)
			return true;
	return false;
}

/*
 * in_rack - whether broker `id` is registered, unfenced, has listener
 * `listener` and is in `rack`: Kafka compares the client's rack with the
 * rack of the replica's endpoint from getPartitionReplicaEndpoints, which
 * leaves out brokers fenced or without that listener (Node.noNode, no rack).
 */
static bool in_rack(const struct kp_broker *b, int32_t id, const char *listener, const char *rack)
{
	const struct kp_image_broker *ib = kp_image_broker(b->cluster->image, id);

	return ib && !ib->fenced && ib->rack && strcmp(ib->rack, rack) == 0 &&
	       kp_image_broker_endpoint(ib, listener);
}

/*
 * better - whether `r` is more caught up than `best` (NULL: none yet):
 * Kafka's ReplicaView.comparator, which the selector takes the maximum
 * of: the larger log end offset, then the shorter time since it was last
 * caught up, then the larger broker id.
 */
static bool better(const struct kp_replica_state *r, const struct kp_replica_state *best)
{
	if (!best)
		return true;
	if (r->log_end_offset != best->log_end_offset)
		return r->log_end_offset > best->log_end_offset;
	if (r->last_caught_up_ms != best->last_caught_up_ms)
		return r->last_caught_up_ms > best->last_caught_up_ms;
	return r->id > best->id;
}

int32_t kp_replica_preferred_read(const struct kp_broker *b, const struct kp_partition *p,
				  const char *rack, const char *listener, int64_t fetch_offset)
{
	const struct kp_replica_state *best = NULL;

	if (!b->cfg.replica.rack_aware_selector || !b->cluster || p->follower || !p->hosted ||
	    !kp_partition_online(p) || !rack || !*rack || !listener)
		return -1;
	if (in_rack(b, p->leader, listener, rack))
		return -1; /* the leader is in the client's rack: it serves */
	for (int32_t i = 0; i < p->remote_count; i++) {
		const struct kp_replica_state *r = &p->remote[i];

		/* ISR members only, and only when they hold the fetch offset */
		if (!in_isr(p, r->id) || r->log_end_offset < fetch_offset ||
		    fetch_offset < kp_log_start_offset(p->log) || !in_rack(b, r->id, listener, rack))
			continue;
		if (better(r, best))
			best = r;
	}
	return best ? best->id : -1;
}
