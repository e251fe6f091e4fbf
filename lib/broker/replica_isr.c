/*
 * replica_isr.c - a leader changes its partitions' ISR through the
 * active controller (KIP-497's AlterPartition, v3 with broker epochs as
 * KIP-841 has it): expansion when a follower catches up
 * (replica_leader.c), shrinking when one lags (kp_replica_isr_expire,
 * Kafka's maybeShrinkIsr). One request in flight per partition; the ISR
 * changes here only when the controller's answer carries a newer
 * partition epoch (or when the image brings it), never on the leader's
 * own say. See replica.h.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/replica.h"
#include "util/clock.h"
#include "util/diag.h"

/* Who an AlterPartition was for: the partition is looked up again on the answer. */
struct alter_ctx {
	struct kp_broker *b;
	kp_uuid topic_id;
	int32_t partition;
	int32_t leader_epoch;
};

#define ALTER_PARTITION_VERSION 3

/* find_partition - the hosted partition `index` of topic `id` this broker leads, or NULL. */
static struct kp_partition *find_partition(struct kp_broker *b, const kp_uuid *id, int32_t index,
					   struct kp_topic **topic)
{
	struct kp_topic *t = b->topics ? kp_topics_find_id(b->topics, id) : NULL;
	struct kp_partition *p = kp_topic_partition(t, index);

	*topic = t;
	return p && p->hosted && !p->follower ? p : NULL;
}

/* take_answer - adopt the controller's state for p when it is newer; log it. */
static void take_answer(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			const struct kp_alter_partition_response_partition_data *d)
{
	if (d->leader_epoch != p->leader_epoch || d->partition_epoch <= p->partition_epoch)
		return; /* the image got there first, or a new term began */
	if (kp_partition_set_ids(&p->isr, &p->isr_count, d->isr, d->isr_count) < 0) {
		kp_diag_error("%s-%d: out of memory taking the new ISR", t->name, p->index);
		return;
	}
	p->partition_epoch = d->partition_epoch;
	kp_diag_info("%s-%d: ISR is now %d replica(s) (partition epoch %d)", t->name, p->index,
		     p->isr_count, p->partition_epoch);
	kp_replica_maybe_advance_hw(b, t, p);
	kp_broker_wake_partition(b, t, p->index); /* acks=all waiters re-check the ISR */
}

static void alter_done(void *arg, const void *resp_, const kp_error *err)
{
	struct alter_ctx *x = arg;
	const struct kp_alter_partition_response *resp = resp_;
	struct kp_topic *t;
	struct kp_partition *p = find_partition(x->b, &x->topic_id, x->partition, &t);
	int16_t code;

	if (!p || p->leader_epoch != x->leader_epoch) {
		free(x);
		return;
	}
	p->isr_pending = false;
	if (err) {
		kp_diag_warn("%s-%d: AlterPartition failed: %s", t->name, p->index, err->msg);
	} else if ((code = resp->error_code) != KP_ERR_NONE ||
		   resp->topics_count != 1 || resp->topics[0].partitions_count != 1) {
		kp_diag_warn("%s-%d: AlterPartition refused: %s", t->name, p->index,
			     code ? kp_kafka_error_name(code) : "malformed answer");
	} else if ((code = resp->topics[0].partitions[0].error_code) != KP_ERR_NONE) {
		/* INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH ...: the image will tell */
		kp_diag_info("%s-%d: AlterPartition refused: %s", t->name, p->index,
			     kp_kafka_error_name(code));
	} else {
		take_answer(x->b, t, p, &resp->topics[0].partitions[0]);
	}
	free(x);
}

/* fill_request - AlterPartition v3 for one partition, in `a`; NULL when out of memory. */
static struct kp_alter_partition_request *fill_request(struct kp_broker *b, kp_arena *a,
							const struct kp_topic *t,
							const struct kp_partition *p,
							const int32_t *isr, int32_t n)
{
	struct kp_alter_partition_request *req = kp_alter_partition_request_new(a, 1);
	struct kp_alter_partition_request_topic_data *td = kp_alter_partition_request_topic_data_new(a, 1);
	struct kp_alter_partition_request_partition_data *pd =
		kp_alter_partition_request_partition_data_new(a, 1);
	struct kp_alter_partition_request_broker_state *bs =
		kp_alter_partition_request_broker_state_new(a, (size_t)(n ? n : 1));

	if (!req || !td || !pd || !bs)
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_image_broker *ib = kp_image_broker(b->cluster->image, isr[i]);

		bs[i].broker_id = isr[i];
		bs[i].broker_epoch = ib ? ib->epoch : -1;
	}
	pd->partition_index = p->index;
	pd->leader_epoch = p->leader_epoch;
	pd->partition_epoch = p->partition_epoch;
	pd->new_isr_with_epochs = bs;
	pd->new_isr_with_epochs_count = n;
	td->topic_id = t->id;
	td->topic_name = t->name;
	td->partitions = pd;
	td->partitions_count = 1;
	req->broker_id = b->cfg.node_id;
	req->broker_epoch = kp_lifecycle_broker_epoch(b->cluster->lifecycle);
	req->topics = td;
	req->topics_count = 1;
	return req;
}

void kp_replica_alter_isr(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			  const int32_t *isr, int32_t n, int32_t adding)
{
	struct alter_ctx *x;
	struct kp_alter_partition_request *req;
	kp_arena a;
	kp_error err;

	if (p->isr_pending || !b->cluster || b->stopping)
		return;
	if (!(x = malloc(sizeof(*x))))
		return;
	*x = (struct alter_ctx){ b, t->id, p->index, p->leader_epoch };
	kp_arena_init(&a);
	if (!(req = fill_request(b, &a, t, p, isr, n))) {
		kp_diag_error("%s-%d: out of memory asking for an ISR change", t->name, p->index);
		free(x);
		goto out;
	}
	if (kp_controller_channel_send(b->cluster->channel, KP_API_ALTER_PARTITION,
				       ALTER_PARTITION_VERSION, req,
				       b->cfg.quorum.request_timeout_ms, alter_done, x, NULL,
				       &err) < 0) {
		kp_diag_debug("%s-%d: AlterPartition not sent: %s", t->name, p->index, err.msg);
		free(x);
		goto out;
	}
	p->isr_pending = true;
	p->isr_adding = adding;
out:
	kp_arena_free(&a);
}

/* expire_partition - shrink p's ISR by its members that are not caught up. */
static void expire_partition(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			     int64_t now)
{
	int64_t leo = kp_log_end_offset(p->log), lag = b->cfg.replica.lag_time_max_ms;
	int32_t *keep, n = 0;

	if (p->isr_pending || p->isr_count <= 1 ||
	    !(keep = malloc(sizeof(*keep) * (size_t)p->isr_count)))
		return;
	for (int32_t i = 0; i < p->isr_count; i++) {
		int32_t id = p->isr[i];
		const struct kp_replica_state *r = kp_replica_remote(p, id);

		if (id == b->cfg.node_id || !r || r->log_end_offset == leo ||
		    now - r->last_caught_up_ms <= lag) {
			keep[n++] = id;
			continue;
		}
		kp_diag_info("%s-%d: follower %d is out of sync (log end offset %lld of %lld, "
			     "caught up %lld ms ago): removing it from the ISR", t->name, p->index,
			     id, (long long)r->log_end_offset, (long long)leo,
			     (long long)(now - r->last_caught_up_ms));
	}
	if (n < p->isr_count)
		kp_replica_alter_isr(b, t, p, keep, n, -1);
	free(keep);
}

void kp_replica_isr_expire(struct kp_broker *b, int64_t now)
{
	for (size_t i = 0; i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		for (int32_t j = 0; j < t->partition_count; j++) {
			struct kp_partition *p = &t->partitions[j];

			if (p->hosted && !p->follower && p->log)
				expire_partition(b, t, p, now);
		}
	}
}
