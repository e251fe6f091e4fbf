/*
 * fencing.c - leader election from the ISR (Kafka's PartitionChangeBuilder
 * without ELR), fencing, unfencing and controlled shutdown
 * (ReplicationControlManager.generateLeaderAndIsrUpdates,
 * handleBrokerFenced / Unfenced / InControlledShutdown), BrokerHeartbeat
 * (processBrokerHeartbeat with BrokerHeartbeatManager's state machine)
 * and session expiry (maybeFenceOneStaleBroker).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/qc_internal.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

bool kp_qc_broker_active(const kp_image *img, int32_t id)
{
	const struct kp_image_broker *b = kp_image_broker(img, id);

	return b && !b->fenced && !b->in_controlled_shutdown;
}

/* has_successor - whether another active broker of p's ISR could lead it. */
static bool has_successor(const kp_image *img, const struct kp_image_partition *p, int32_t id)
{
	for (int32_t k = 0; k < p->isr.count; k++)
		if (p->isr.ids[k] != id && kp_qc_broker_active(img, p->isr.ids[k]))
			return true;
	return false;
}

bool kp_qc_broker_leads_movable(const kp_image *img, int32_t id)
{
	for (const struct kp_image_topic *t = kp_image_topic_first(img); t;
	     t = kp_image_topic_next(img, t))
		for (int32_t i = 0; i < t->partition_slots; i++)
			if (t->partitions[i] && t->partitions[i]->leader == id &&
			    has_successor(img, t->partitions[i], id))
				return true;
	return false;
}

bool kp_qc_unclean_allowed(const kp_image *img, const char *name, bool def)
{
	const char *k = "unclean.leader.election.enable";
	const char *v = kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, name, k);

	if (!v)
		v = kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "", k);
	return v ? strcmp(v, "true") == 0 : def;
}

/* An election's inputs: who leaves, who joins, whether unclean is allowed. */
struct election {
	const kp_image *img;
	int32_t remove, add;
	bool unclean;
};

static bool acceptable(const struct election *e, int32_t r)
{
	return r != e->remove && (r == e->add || kp_qc_broker_active(e->img, r));
}

static bool ids_have(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * elect - PartitionChangeBuilder.electAnyLeader: the current leader if
 * still valid, else the first replica in the target ISR that is
 * acceptable, else (unclean) the first acceptable replica; -1 if none.
 */
static int32_t elect(const struct election *e, const struct kp_image_partition *p,
		     const int32_t *isr, int32_t n_isr, bool *unclean)
{
	const struct kp_image_ids *rs = &p->replicas;

	*unclean = false;
	if (p->leader >= 0 && ids_have(isr, n_isr, p->leader) && acceptable(e, p->leader))
		return p->leader;
	for (int32_t i = 0; i < rs->count; i++)
		if (ids_have(isr, n_isr, rs->ids[i]) && acceptable(e, rs->ids[i]))
			return rs->ids[i];
	for (int32_t i = 0; e->unclean && i < rs->count; i++) {
		if (acceptable(e, rs->ids[i])) {
			*unclean = true;
			return rs->ids[i];
		}
	}
	return KP_IMAGE_NO_LEADER;
}

/* copy_ids - `n` ids into the arena (NULL when n is 0 or out of memory). */
static int32_t *copy_ids(kp_arena *a, const int32_t *ids, int32_t n)
{
	return n > 0 ? kp_arena_memdup(a, ids, (size_t)n * sizeof(*ids)) : NULL;
}

/*
 * partition_change - PartitionChangeBuilder.build for one partition:
 * target ISR = ISR without e->remove (kept whole when that would empty
 * it), a leader elected from it; appends a PartitionChangeRecord when
 * anything changes. Returns 0 or -1 (KP_ENOMEM).
 */
static int partition_change(const struct election *e, const struct kp_image_topic *t,
			    const struct kp_image_partition *p, struct kp_qc_recs *out,
			    kp_error *err)
{
	int32_t *isr = malloc(((size_t)p->isr.count + 1) * sizeof(*isr)), n = 0, leader;
	struct kp_partition_change_record *r;
	bool unclean, isr_changed;
	int rc = 0;

	if (!isr)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < p->isr.count; i++)
		if (p->isr.ids[i] != e->remove)
			isr[n++] = p->isr.ids[i];
	leader = elect(e, p, isr, n, &unclean);
	isr_changed = n > 0 && n != p->isr.count;
	if (unclean) {
		isr[0] = leader;
		n = 1;
		isr_changed = true;
	}
	if (leader == p->leader && !isr_changed)
		goto out;
	if (!(r = kp_qc_recs_add(out, KP_METADATA_PARTITION_CHANGE_RECORD)) ||
	    (isr_changed && !(r->isr = copy_ids(out->arena, isr, n)) && n > 0)) {
		rc = kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	r->topic_id = t->id;
	r->partition_id = p->partition_id;
	r->leader = leader == p->leader ? KP_IMAGE_NO_LEADER_CHANGE : leader;
	if (isr_changed)
		r->isr_count = n;
	if (unclean && p->leader_recovery_state != KP_IMAGE_LEADER_RECOVERING)
		r->leader_recovery_state = KP_IMAGE_LEADER_RECOVERING;
	kp_diag_debug("controller: %s-%d: leader %d -> %d, ISR of %d -> %d%s", t->name,
		      p->partition_id, p->leader, leader, p->isr.count, isr_changed ? n : p->isr.count,
		      unclean ? " (unclean election)" : "");
out:
	free(isr);
	return rc;
}

int kp_qc_leader_and_isr_updates(const kp_image *img, int32_t remove, int32_t add,
				 bool unclean_default, struct kp_qc_recs *out, kp_error *err)
{
	for (const struct kp_image_topic *t = kp_image_topic_first(img); t;
	     t = kp_image_topic_next(img, t)) {
		struct election e = { img, remove, add,
				      kp_qc_unclean_allowed(img, t->name, unclean_default) };

		for (int32_t i = 0; i < t->partition_slots; i++) {
			const struct kp_image_partition *p = t->partitions[i];

			if (!p)
				continue;
			bool hit = (remove >= 0 && kp_image_ids_contain(&p->isr, remove)) ||
				   (add >= 0 && p->leader == KP_IMAGE_NO_LEADER);

			if (hit && partition_change(&e, t, p, out, err) < 0)
				return -1;
		}
	}
	return 0;
}

int kp_qc_fence_records(const kp_image *img, int32_t id, bool unclean_default,
			struct kp_qc_recs *out, kp_error *err)
{
	const struct kp_image_broker *b = kp_image_broker(img, id);
	struct kp_fence_broker_record *f;

	if (!b)
		return kp_error_set(err, KP_EINVAL, "broker %d is not registered", id);
	if (kp_qc_leader_and_isr_updates(img, id, -1, unclean_default, out, err) < 0)
		return -1;
	if (!(f = kp_qc_recs_add(out, KP_METADATA_FENCE_BROKER_RECORD)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	f->id = id;
	f->epoch = b->epoch;
	return 0;
}

/* ---- BrokerHeartbeat ----------------------------------------------------- */

/* BrokerHeartbeatManager.BrokerControlState. */
enum hb_state { HB_FENCED, HB_UNFENCED, HB_CONTROLLED_SHUTDOWN, HB_SHUTDOWN_NOW };

/* What a heartbeat's run decided, for its answer. */
struct hb_state_out {
	enum hb_state next;
	bool caught_up;
	int16_t error;
};

/* next_state - BrokerHeartbeatManager.calculateNextBrokerState. */
static enum hb_state next_state(const kp_image *img, const struct kp_image_broker *b,
				const struct kp_broker_heartbeat_request *req)
{
	bool caught_up = req->current_metadata_offset >= b->epoch;

	if (b->fenced) {
		if (req->want_shut_down)
			return HB_SHUTDOWN_NOW;
		return !req->want_fence && caught_up ? HB_UNFENCED : HB_FENCED;
	}
	if (b->in_controlled_shutdown)
		return kp_qc_broker_leads_movable(img, b->id) ? HB_CONTROLLED_SHUTDOWN : HB_SHUTDOWN_NOW;
	if (req->want_fence)
		return req->want_shut_down ? HB_SHUTDOWN_NOW : HB_FENCED;
	if (req->want_shut_down)
		return kp_qc_broker_leads_movable(img, b->id) ? HB_CONTROLLED_SHUTDOWN : HB_SHUTDOWN_NOW;
	return HB_UNFENCED;
}

/* transition_records - the records of going from `b`'s state to `next`. */
static int transition_records(struct kp_quorum_controller *qc, const struct kp_image_broker *b,
			      enum hb_state next, struct kp_qc_recs *out, kp_error *err)
{
	bool unclean = qc->cfg.unclean_leader_election;

	switch (next) {
	case HB_FENCED:
	case HB_SHUTDOWN_NOW:
		return b->fenced ? 0 : kp_qc_fence_records(qc->img, b->id, unclean, out, err);
	case HB_UNFENCED: {
		struct kp_unfence_broker_record *u;

		if (!b->fenced)
			return 0;
		if (!(u = kp_qc_recs_add(out, KP_METADATA_UNFENCE_BROKER_RECORD)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		u->id = b->id;
		u->epoch = b->epoch;
		return kp_qc_leader_and_isr_updates(qc->img, -1, b->id, unclean, out, err);
	}
	default: {
		struct kp_broker_registration_change_record *c;

		if (!b->in_controlled_shutdown) {
			if (!(c = kp_qc_recs_add(out, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD)))
				return kp_error_set(err, KP_ENOMEM, "out of memory");
			c->broker_id = b->id;
			c->broker_epoch = b->epoch;
			c->in_controlled_shutdown = 1; /* IN_CONTROLLED_SHUTDOWN */
		}
		return kp_qc_leader_and_isr_updates(qc->img, b->id, -1, unclean, out, err);
	}
	}
}

static int heartbeat_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_broker_heartbeat_request *req = op->rq ? op->rq->body : NULL;
	struct kp_quorum_controller *qc = op->qc;
	struct hb_state_out *st = op->state;
	const struct kp_image_broker *b;
	struct kp_qc_session *s;

	if (!req)
		return 0;
	b = kp_image_broker(qc->img, req->broker_id);
	if (!b || b->epoch != req->broker_epoch) {
		st->error = KP_ERR_STALE_BROKER_EPOCH; /* ClusterControlManager.checkBrokerEpoch */
		return 0;
	}
	if ((s = kp_qc_session(qc, b->id))) {
		s->last_contact_ms = kp_mono_ms();
		s->metadata_offset = req->current_metadata_offset;
	}
	st->next = next_state(qc->img, b, req);
	st->caught_up = req->current_metadata_offset >= b->epoch;
	if (st->next != HB_UNFENCED || b->fenced)
		kp_diag_debug("controller: broker %d heartbeat: state %d -> %d", b->id,
			      b->fenced ? 0 : b->in_controlled_shutdown ? 2 : 1, st->next);
	return transition_records(qc, b, st->next, &op->recs, err);
}

static void heartbeat_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	struct kp_broker_heartbeat_response *resp;
	const struct hb_state_out *st = op->state;

	if (!op->rq || !(resp = kp_broker_heartbeat_response_new(&op->rq->arena, 1)))
		return;
	resp->error_code = error ? error : st->error;
	resp->is_fenced = true;
	if (!resp->error_code) {
		resp->is_caught_up = st->caught_up;
		resp->is_fenced = st->next == HB_FENCED || st->next == HB_SHUTDOWN_NOW;
		resp->should_shut_down = st->next == HB_SHUTDOWN_NOW;
	}
	kp_qc_respond(op, resp);
}

int kp_qc_broker_heartbeat(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			   kp_error *err)
{
	return kp_qc_submit_new(qc, rq, sizeof(struct hb_state_out), heartbeat_run,
				heartbeat_finish, err);
}

/* ---- session expiry --------------------------------------------------------- */

struct expiry {
	int32_t id;
};

/* expiry_run - fence broker id if it is still unfenced and its session still expired. */
static int expiry_run(struct kp_qc_op *op, kp_error *err)
{
	struct kp_quorum_controller *qc = op->qc;
	const struct expiry *x = op->state;
	const struct kp_image_broker *b = kp_image_broker(qc->img, x->id);
	struct kp_qc_session *s = kp_qc_session(qc, x->id);

	if (s)
		s->fence_queued = false;
	if (!b || b->fenced || !s ||
	    kp_mono_ms() - s->last_contact_ms <= qc->cfg.broker_session_timeout_ms)
		return 0;
	kp_diag_info("controller: fencing broker %d because its session has timed out", x->id);
	return kp_qc_fence_records(qc->img, x->id, qc->cfg.unclean_leader_election, &op->recs,
				   err);
}

static void expiry_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
}

void kp_qc_check_sessions(struct kp_quorum_controller *qc)
{
	int64_t now = kp_mono_ms();

	for (const struct kp_image_broker *b = kp_image_broker_first(qc->img); b;
	     b = kp_image_broker_next(qc->img, b)) {
		struct kp_qc_session *s = kp_qc_session(qc, b->id);
		struct kp_qc_op *op;

		if (b->fenced || !s || s->fence_queued ||
		    now - s->last_contact_ms <= qc->cfg.broker_session_timeout_ms)
			continue;
		if (!(op = kp_qc_op_new(qc, NULL, expiry_run, expiry_finish)) ||
		    !(op->state = kp_arena_alloc(&op->arena, sizeof(struct expiry)))) {
			free(op);
			return;
		}
		((struct expiry *)op->state)->id = b->id;
		s->fence_queued = true;
		kp_qc_submit(qc, op);
	}
}
