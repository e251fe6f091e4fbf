/*
 * replica_leader.c - a partition leader's view of its followers: their
 * fetch state, the high watermark, ISR expansion (Kafka's Partition:
 * updateFollowerFetchState, maybeIncrementLeaderHW, maybeExpandIsr); see
 * replica.h. The ISR requests themselves are in replica_isr.c.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/replica.h"
#include "util/clock.h"
#include "util/diag.h"

static bool ids_have(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

struct kp_replica_state *kp_replica_remote(const struct kp_partition *p, int32_t id)
{
	for (int32_t i = 0; i < p->remote_count; i++)
		if (p->remote[i].id == id)
			return &p->remote[i];
	return NULL;
}

bool kp_replica_is_follower_of(const struct kp_partition *p, int32_t replica)
{
	return kp_replica_remote(p, replica) != NULL;
}

/*
 * in_maximal_isr - whether `id` is in p's ISR or being added to it
 * (Kafka's PartitionState.maximalIsr).
 */
static bool in_maximal_isr(const struct kp_partition *p, int32_t id)
{
	return ids_have(p->isr, p->isr_count, id) || (p->isr_pending && p->isr_adding == id);
}

int32_t kp_replica_maximal_isr_count(const struct kp_partition *p)
{
	bool extra = p->isr_pending && p->isr_adding >= 0 &&
		     !ids_have(p->isr, p->isr_count, p->isr_adding);

	return p->isr_count + (extra ? 1 : 0);
}

/*
 * caught_up - Kafka's ReplicaState.isCaughtUp: the follower has the
 * leader's log end offset, or had it within replica.lag.time.max.ms.
 */
static bool caught_up(const struct kp_replica_state *r, int64_t leo, int64_t now, int64_t lag_max)
{
	return r->log_end_offset == leo || now - r->last_caught_up_ms <= lag_max;
}

/*
 * isr_eligible - Kafka's isReplicaIsrEligible: registered, unfenced, not
 * shutting down, and (when its fetch said) with the broker epoch the image has.
 */
static bool isr_eligible(const struct kp_broker *b, const struct kp_replica_state *r)
{
	const struct kp_image_broker *ib = kp_image_broker(b->cluster->image, r->id);

	return ib && !ib->fenced && !ib->in_controlled_shutdown &&
	       (r->broker_epoch < 0 || r->broker_epoch == ib->epoch);
}

bool kp_replica_maybe_advance_hw(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p)
{
	int64_t leo, hw, now = kp_mono_ms();

	if (!p->log || p->follower || !p->hosted)
		return false;
	leo = hw = kp_log_end_offset(p->log);
	for (int32_t i = 0; i < p->remote_count && !b->cfg.replica.test_hw_ignores_isr; i++) {
		const struct kp_replica_state *r = &p->remote[i];
		bool wait = in_maximal_isr(p, r->id) ||
			    (caught_up(r, leo, now, b->cfg.replica.lag_time_max_ms) &&
			     isr_eligible(b, r));

		if (wait && r->log_end_offset < hw)
			hw = r->log_end_offset;
	}
	if (hw <= p->high_watermark)
		return false;
	p->high_watermark = hw;
	kp_broker_wake_partition(b, t, p->index);
	return true;
}

/*
 * maybe_expand_isr - Kafka's Partition.maybeExpandIsr: follower `r`,
 * outside the ISR, joins it once its log end offset reached the high
 * watermark and the first offset of the leader's epoch, and it is eligible.
 */
static void maybe_expand_isr(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			     const struct kp_replica_state *r)
{
	bool caught_up = r->log_end_offset >= p->high_watermark &&
			 r->log_end_offset >= p->epoch_start_offset;
	int32_t *isr;

	if (b->cfg.replica.test_isr_admits_lagging) /* broken on purpose: see config.h */
		caught_up = r->log_end_offset >= 0;
	if (p->isr_pending || ids_have(p->isr, p->isr_count, r->id) || !caught_up ||
	    !isr_eligible(b, r))
		return;
	if (!(isr = malloc(sizeof(*isr) * ((size_t)p->isr_count + 1))))
		return;
	memcpy(isr, p->isr, sizeof(*isr) * (size_t)p->isr_count);
	isr[p->isr_count] = r->id;
	kp_diag_info("%s-%d: follower %d caught up at offset %lld: adding it to the ISR", t->name,
		     p->index, r->id, (long long)r->log_end_offset);
	kp_replica_alter_isr(b, t, p, isr, p->isr_count + 1, r->id);
	free(isr);
}

void kp_replica_follower_fetched(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
				 int32_t replica, int64_t broker_epoch, int64_t fetch_offset,
				 int64_t log_start_offset)
{
	struct kp_replica_state *r = kp_replica_remote(p, replica);
	int64_t now = kp_mono_ms(), leo;

	if (!r || !p->log)
		return;
	leo = kp_log_end_offset(p->log);
	if (fetch_offset >= leo)
		r->last_caught_up_ms = now > r->last_caught_up_ms ? now : r->last_caught_up_ms;
	else if (fetch_offset >= r->last_fetch_leader_leo && r->last_fetch_ms > r->last_caught_up_ms)
		r->last_caught_up_ms = r->last_fetch_ms;
	r->log_end_offset = fetch_offset;
	r->last_fetch_ms = now;
	r->last_fetch_leader_leo = leo;
	if (broker_epoch >= 0)
		r->broker_epoch = broker_epoch;
	if (log_start_offset != r->log_start_offset) { /* DeleteRecords waits on it */
		r->log_start_offset = log_start_offset;
		kp_broker_wake_partition(b, t, p->index);
	}
	maybe_expand_isr(b, t, p, r);
	kp_replica_maybe_advance_hw(b, t, p);
}

/*
 * reset_remotes - the follower states of leader `p` for its current
 * replicas: kept for a follower already tracked (an ISR or replica change
 * under the same leader), else new: log end offset unknown, caught up now
 * when in the ISR (Kafka's resetReplicaState). Everything new when
 * `fresh` (this broker just became leader).
 */
static void reset_remotes(struct kp_broker *b, struct kp_partition *p, bool fresh)
{
	struct kp_replica_state *v = calloc((size_t)(p->replica_count ? p->replica_count : 1),
					    sizeof(*v));
	int32_t n = 0;
	int64_t now = kp_mono_ms();

	if (!v) {
		kp_diag_error("partition %d: out of memory tracking followers", p->index);
		return;
	}
	for (int32_t i = 0; i < p->replica_count; i++) {
		int32_t id = p->replicas[i];
		const struct kp_replica_state *old = fresh ? NULL : kp_replica_remote(p, id);

		if (id == b->cfg.node_id)
			continue;
		if (old) {
			v[n++] = *old;
			continue;
		}
		v[n] = (struct kp_replica_state){ .id = id, .log_end_offset = -1, .broker_epoch = -1,
						  .last_fetch_leader_leo = -1, .log_start_offset = -1 };
		v[n++].last_caught_up_ms = ids_have(p->isr, p->isr_count, id) ? now : 0;
	}
	free(p->remote);
	p->remote = v;
	p->remote_count = n;
}

void kp_replica_state_changed(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			      bool new_epoch)
{
	if (!p->hosted || !p->log)
		return;
	if (p->follower) {
		free(p->remote);
		p->remote = NULL;
		p->remote_count = 0;
		p->isr_pending = false;
		if (p->high_watermark > kp_log_end_offset(p->log))
			p->high_watermark = kp_log_end_offset(p->log);
		return;
	}
	if (new_epoch) {
		p->isr_pending = false; /* an answer for an older epoch is ignored (epochs differ) */
		p->epoch_start_offset = kp_log_end_offset(p->log);
	}
	reset_remotes(b, p, new_epoch);
	kp_replica_maybe_advance_hw(b, t, p);
}

int32_t kp_replica_min_isr(const struct kp_broker *b, const struct kp_topic *t)
{
	const char *v = b->cluster ? kp_image_config_value(b->cluster->image,
							   KP_CONFIG_RESOURCE_TOPIC, t->name,
							   "min.insync.replicas")
				   : NULL;
	char *end;
	long n;

	if (v) {
		n = strtol(v, &end, 10);
		if (*v && !*end && n >= 1 && n <= INT16_MAX)
			return (int32_t)n;
	}
	return b->cfg.replica.min_insync_replicas;
}
