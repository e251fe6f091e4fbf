/*
 * quorum_controller.c - the quorum controller's lifecycle, its image of
 * committed records, the write queue (one batch in flight) and the
 * session timer; see quorum_controller.h. Kafka's QuorumController event
 * loop and its QuorumMetaLogListener.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/qc_internal.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

#define TIMER_MS 250 /* how often the active controller looks for expired sessions and imbalance */

void kp_qc_recs_init(struct kp_qc_recs *r, kp_arena *arena)
{
	memset(r, 0, sizeof(*r));
	r->arena = arena;
}

void kp_qc_recs_free(struct kp_qc_recs *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

void *kp_qc_recs_add(struct kp_qc_recs *r, int16_t type)
{
	const struct kp_record_type_info *info = kp_metadata_record_type_info(type);
	void *msg;

	if (!info)
		return NULL;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct kp_metadata_record *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	if (!(msg = kp_msg_new(info->desc, r->arena, 1)))
		return NULL;
	r->v[r->n++] = (struct kp_metadata_record){ type, info->max_version, msg };
	return msg;
}

int kp_qc_config_parse(const kp_config *c, struct kp_qc_config *o, kp_error *err)
{
	int64_t np, rf, pct; /* leader.imbalance.per.broker.percentage: checked, unused (KRaft) */

	memset(o, 0, sizeof(*o));
	if (kp_config_get_int64(c, "num.partitions", 1, 1, INT32_MAX, &np, err) < 0 ||
	    kp_config_get_int64(c, "default.replication.factor", 1, 1, INT16_MAX, &rf, err) < 0 ||
	    kp_config_get_int64(c, "broker.session.timeout.ms", 9000, 1, INT32_MAX,
				&o->broker_session_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "broker.heartbeat.interval.ms", 2000, 1, INT32_MAX,
				&o->broker_heartbeat_interval_ms, err) < 0 ||
	    kp_config_get_bool(c, "unclean.leader.election.enable", false,
			       &o->unclean_leader_election, err) < 0 ||
	    kp_config_get_bool(c, "auto.leader.rebalance.enable", true, &o->auto_leader_rebalance,
			       err) < 0 ||
	    kp_config_get_int64(c, "leader.imbalance.check.interval.seconds", 300, 1,
				INT32_MAX, &o->leader_imbalance_check_interval_s, err) < 0 ||
	    kp_config_get_int64(c, "leader.imbalance.per.broker.percentage", 10, INT32_MIN,
				INT32_MAX, &pct, err) < 0)
		return -1;
	o->num_partitions = (int32_t)np;
	o->default_replication_factor = (int16_t)rf;
	return 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_quorum_controller *qc = arg;
	struct timeval tv = { 0, TIMER_MS * 1000 };

	if (!qc->active)
		return;
	kp_qc_check_sessions(qc);
	kp_qc_maybe_balance_leaders(qc);
	event_add(qc->timer, &tv);
}

kp_quorum_controller *kp_qc_new(struct event_base *base, const struct kp_qc_config *cfg,
				kp_error *err)
{
	struct kp_quorum_controller *qc = calloc(1, sizeof(*qc));

	if (!qc || !(qc->img = kp_image_new()) ||
	    !(qc->timer = event_new(base, -1, 0, timer_cb, qc))) {
		kp_qc_free(qc);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	qc->cfg = *cfg;
	qc->base = base;
	qc->local_broker_id = -1;
	return qc;
}

void kp_qc_attach(kp_quorum_controller *qc, kp_raft_node *node)
{
	qc->node = node;
}

/* op_free - free an op and what it holds (its request only if still unanswered). */
static void op_free(struct kp_qc_op *op)
{
	if (!op)
		return;
	kp_ctl_request_free(op->rq);
	kp_qc_recs_free(&op->recs);
	kp_arena_free(&op->arena);
	free(op);
}

void kp_qc_free(kp_quorum_controller *qc)
{
	if (!qc)
		return;
	while (qc->head) {
		struct kp_qc_op *op = qc->head;

		qc->head = op->next;
		op_free(op);
	}
	op_free(qc->inflight);
	if (qc->timer)
		event_free(qc->timer);
	kp_image_free(qc->img);
	free(qc->sessions);
	for (size_t i = 0; i < qc->n_adopt; i++)
		free((char *)qc->adopt[i].name);
	free(qc->adopt);
	free(qc);
}

void kp_qc_set_local_broker(kp_quorum_controller *qc, int32_t broker_id)
{
	qc->local_broker_id = broker_id;
}

int kp_qc_adopt_topics(kp_quorum_controller *qc, const struct kp_qc_adopted_topic *t, size_t n,
		       kp_error *err)
{
	struct kp_qc_adopted_topic *a = realloc(qc->adopt, sizeof(*a) * (qc->n_adopt + n + 1));

	if (!a)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	qc->adopt = a;
	for (size_t i = 0; i < n; i++) {
		a[qc->n_adopt] = t[i];
		if (!(a[qc->n_adopt].name = strdup(t[i].name)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		qc->n_adopt++;
	}
	return 0;
}

const kp_image *kp_qc_image(const kp_quorum_controller *qc)
{
	return qc->img;
}

struct kp_qc_op *kp_qc_op_new(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			      int (*run)(struct kp_qc_op *, kp_error *),
			      void (*finish)(struct kp_qc_op *, int64_t, int16_t))
{
	struct kp_qc_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->qc = qc;
	op->rq = rq;
	op->run = run;
	op->finish = finish;
	kp_arena_init(&op->arena);
	kp_qc_recs_init(&op->recs, &op->arena);
	return op;
}

/* op_done - finish `op` (base offset or error) and free it. */
static void op_done(struct kp_qc_op *op, int64_t base, int16_t error)
{
	if (!op->answered)
		op->finish(op, base, error);
	op_free(op); /* frees the request if finish did not answer it */
}

/* fail_all - answer every queued and in-flight write with `error` (leadership lost). */
static void fail_all(struct kp_quorum_controller *qc, int16_t error)
{
	struct kp_qc_op *op = qc->inflight;

	qc->inflight = NULL;
	if (op)
		op_done(op, -1, error);
	while (qc->head) {
		op = qc->head;
		qc->head = op->next;
		op_done(op, -1, error);
	}
	qc->tail = NULL;
}

/*
 * start_next - run queued writes until one proposes a batch (then it is
 * in flight) or the queue is empty. Writes without records finish at once.
 */
static void start_next(struct kp_quorum_controller *qc)
{
	while (!qc->inflight && qc->head && qc->active) {
		struct kp_qc_op *op = qc->head;
		kp_error err;
		int64_t base;

		if (!(qc->head = op->next))
			qc->tail = NULL;
		op->next = NULL;
		if (op->run(op, &err) < 0) {
			kp_diag_error("controller: write failed: %s", err.msg);
			op_done(op, -1, KP_ERR_UNKNOWN_SERVER_ERROR);
			continue;
		}
		if (op->recs.n == 0) {
			op_done(op, -1, 0);
			continue;
		}
		base = kp_raft_node_propose(qc->node, op->recs.v, op->recs.n, &err);
		if (base < 0) {
			kp_diag_warn("controller: cannot propose %zu records: %s", op->recs.n, err.msg);
			op_done(op, -1, err.code == KP_EKAFKA ? (int16_t)err.kafka_code
							      : KP_ERR_UNKNOWN_SERVER_ERROR);
			continue;
		}
		qc->inflight = op;
		qc->inflight_base = base;
		qc->inflight_end = base + (int64_t)op->recs.n;
	}
}

void kp_qc_submit(struct kp_quorum_controller *qc, struct kp_qc_op *op)
{
	if (!qc->active) {
		op_done(op, -1, KP_ERR_NOT_CONTROLLER);
		return;
	}
	if (qc->tail)
		qc->tail->next = op;
	else
		qc->head = op;
	qc->tail = op;
	start_next(qc);
}

int kp_qc_submit_new(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
		     size_t state_size, int (*run)(struct kp_qc_op *, kp_error *),
		     void (*finish)(struct kp_qc_op *, int64_t, int16_t), kp_error *err)
{
	struct kp_qc_op *op = kp_qc_op_new(qc, rq, run, finish);

	if (!op || !(op->state = kp_arena_alloc(&op->arena, state_size))) {
		if (op)
			kp_arena_free(&op->arena);
		free(op);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	kp_qc_submit(qc, op);
	return 0;
}

void kp_qc_on_record(kp_quorum_controller *qc, const struct kp_metadata_record *rec,
		     int64_t offset, int32_t epoch)
{
	kp_error err;

	if (kp_image_apply(qc->img, rec, offset, epoch, &err) < 0)
		kp_diag_error("controller: cannot apply %s at offset %lld: %s",
			      kp_metadata_record_name(rec->type), (long long)offset, err.msg);
}

void kp_qc_on_snapshot(kp_quorum_controller *qc, int64_t end_offset, int32_t epoch)
{
	kp_image *img = kp_image_new();

	if (!img) {
		kp_diag_error("controller: out of memory loading snapshot %lld-%d",
			      (long long)end_offset, epoch);
		return;
	}
	kp_image_free(qc->img);
	qc->img = img;
}

void kp_qc_on_committed(kp_quorum_controller *qc, int64_t hw)
{
	if (qc->inflight && hw >= qc->inflight_end) {
		struct kp_qc_op *op = qc->inflight;

		qc->inflight = NULL;
		op_done(op, qc->inflight_base, 0);
	}
	start_next(qc);
}

/* bootstrap_run - the first leader of an empty log: metadata.version (BootstrapMetadata). */
static int bootstrap_run(struct kp_qc_op *op, kp_error *err)
{
	struct kp_feature_level_record *f;

	if (kp_image_feature_level(op->qc->img, KP_METADATA_VERSION_FEATURE) > 0)
		return 0;
	if (!(f = kp_qc_recs_add(&op->recs, KP_METADATA_FEATURE_LEVEL_RECORD)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	f->name = (char *)KP_METADATA_VERSION_FEATURE;
	f->feature_level = KP_QC_METADATA_VERSION;
	for (size_t i = 0; i < op->qc->n_adopt; i++)
		if (kp_qc_adopted_topic_records(&op->qc->adopt[i], op->qc->local_broker_id,
						&op->recs, err) < 0)
			return -1;
	return 0;
}

static void bootstrap_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	if (base < 0)
		return;
	kp_diag_info("controller: bootstrapped metadata.version %d at offset %lld",
		     KP_QC_METADATA_VERSION, (long long)base);
	for (size_t i = 0; i < op->qc->n_adopt; i++)
		kp_diag_info("controller: adopted topic %s (%d partition(s)) from the log dirs",
			     op->qc->adopt[i].name, op->qc->adopt[i].partitions);
}

/* become_active - sessions restart now for every registered broker; bootstrap if needed. */
static void become_active(struct kp_quorum_controller *qc, int32_t epoch)
{
	struct timeval tv = { 0, TIMER_MS * 1000 };
	struct kp_qc_op *op;

	qc->active = true;
	qc->n_sessions = 0;
	qc->balance_due_ms = kp_mono_ms() + qc->cfg.leader_imbalance_check_interval_s * 1000;
	for (const struct kp_image_broker *b = kp_image_broker_first(qc->img); b;
	     b = kp_image_broker_next(qc->img, b))
		kp_qc_session(qc, b->id);
	kp_diag_info("controller: active in epoch %d", epoch);
	event_add(qc->timer, &tv);
	if (kp_image_feature_level(qc->img, KP_METADATA_VERSION_FEATURE) == 0 &&
	    (op = kp_qc_op_new(qc, NULL, bootstrap_run, bootstrap_finish)))
		kp_qc_submit(qc, op);
}

void kp_qc_on_leader(kp_quorum_controller *qc, int32_t epoch, int32_t leader_id)
{
	const struct kp_raft_node_config *cfg = kp_raft_node_config(qc->node);
	bool now_active = leader_id == cfg->node_id;

	if (qc->active) {
		qc->active = false;
		event_del(qc->timer);
		fail_all(qc, KP_ERR_NOT_CONTROLLER);
		kp_diag_info("controller: inactive (epoch %d, leader %d)", epoch, leader_id);
	}
	if (now_active)
		become_active(qc, epoch);
}

struct kp_qc_session *kp_qc_session(struct kp_quorum_controller *qc, int32_t id)
{
	for (size_t i = 0; i < qc->n_sessions; i++)
		if (qc->sessions[i].id == id)
			return &qc->sessions[i];
	if (qc->n_sessions == qc->cap_sessions) {
		size_t cap = qc->cap_sessions ? 2 * qc->cap_sessions : 16;
		struct kp_qc_session *s = realloc(qc->sessions, cap * sizeof(*s));

		if (!s)
			return NULL;
		qc->sessions = s;
		qc->cap_sessions = cap;
	}
	qc->sessions[qc->n_sessions] = (struct kp_qc_session){ id, kp_mono_ms(), -1, false };
	return &qc->sessions[qc->n_sessions++];
}
