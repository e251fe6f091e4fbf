/*
 * elect_leaders.c - leader elections asked for (ElectLeaders, KIP-460:
 * Kafka's ReplicationControlManager.electLeaders / electLeader with
 * PartitionChangeBuilder's PREFERRED and UNCLEAN elections, without ELR)
 * and the active controller's periodic move of leadership back to each
 * partition's preferred replica (auto.leader.rebalance.enable:
 * maybeBalancePartitionLeaders). Each leader change is one
 * PartitionChangeRecord naming the new leader; applying it bumps the
 * leader epoch, and the brokers follow the metadata image.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "controller/qc_internal.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

typedef struct kp_elect_leaders_response_replica_election_result topic_result;
typedef struct kp_elect_leaders_response_partition_result part_result;

/* An election's outcome for one partition. */
struct outcome {
	int16_t error;
	int32_t leader; /* the new leader when error is NONE */
	bool unclean;   /* the new leader is not in the ISR: the ISR becomes just it */
};

/* preferred - the first replica (PartitionRegistration.preferredReplica), -1 if none. */
static int32_t preferred(const struct kp_image_partition *p)
{
	return p->replicas.count > 0 ? p->replicas.ids[0] : KP_IMAGE_NO_LEADER;
}

/* can_lead - PartitionChangeBuilder.isValidNewLeader: in the ISR and active. */
static bool can_lead(const kp_image *img, const struct kp_image_partition *p, int32_t r)
{
	return r >= 0 && kp_image_ids_contain(&p->isr, r) && kp_qc_broker_active(img, r);
}

/*
 * elect_preferred - electPreferredLeader: the preferred replica, else the
 * current leader, else the next replica, whichever can lead first; -1 if none.
 */
static int32_t elect_preferred(const kp_image *img, const struct kp_image_partition *p)
{
	if (can_lead(img, p, preferred(p)))
		return preferred(p);
	if (can_lead(img, p, p->leader))
		return p->leader;
	for (int32_t i = 1; i < p->replicas.count; i++)
		if (can_lead(img, p, p->replicas.ids[i]))
			return p->replicas.ids[i];
	return KP_IMAGE_NO_LEADER;
}

/*
 * elect_unclean - electAnyLeader for a leaderless partition with
 * Election.UNCLEAN: the first replica that can lead, else the first
 * active one (unclean); ELIGIBLE_LEADERS_NOT_AVAILABLE if none.
 */
static struct outcome elect_unclean(const kp_image *img, const struct kp_image_partition *p)
{
	struct outcome o = { KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE, KP_IMAGE_NO_LEADER, false };

	for (int32_t i = 0; i < p->replicas.count && o.error; i++)
		if (can_lead(img, p, p->replicas.ids[i]))
			o = (struct outcome){ KP_ERR_NONE, p->replicas.ids[i], false };
	for (int32_t i = 0; i < p->replicas.count && o.error; i++)
		if (kp_qc_broker_active(img, p->replicas.ids[i]))
			o = (struct outcome){ KP_ERR_NONE, p->replicas.ids[i], true };
	return o;
}

/*
 * decide - electLeader for `p`: ELECTION_NOT_NEEDED when the preferred
 * replica leads (PREFERRED) or there is a leader (UNCLEAN); else the
 * election, PREFERRED_LEADER_NOT_AVAILABLE when it would change nothing.
 * Unlike Kafka, a preferred election never leaves a partition leaderless.
 */
static struct outcome decide(const kp_image *img, const struct kp_image_partition *p, int8_t type)
{
	struct outcome o = { KP_ERR_ELECTION_NOT_NEEDED, KP_IMAGE_NO_LEADER, false };

	if (type == KP_QC_ELECTION_UNCLEAN)
		return p->leader != KP_IMAGE_NO_LEADER ? o : elect_unclean(img, p);
	if (p->leader == preferred(p))
		return o;
	o.leader = elect_preferred(img, p);
	o.error = o.leader == p->leader || o.leader < 0 ? KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE
							 : KP_ERR_NONE;
	return o;
}

/*
 * change_record - the PartitionChangeRecord of `o` for partition `p` of
 * `t` (unclean: the ISR just the leader, RECOVERING), logged at INFO with
 * `why`. Returns 0 or -1 (KP_ENOMEM).
 */
static int change_record(const struct kp_image_topic *t, const struct kp_image_partition *p,
			 const struct outcome *o, const char *why, struct kp_qc_recs *out,
			 kp_error *err)
{
	struct kp_partition_change_record *r = kp_qc_recs_add(out, KP_METADATA_PARTITION_CHANGE_RECORD);

	if (!r || (o->unclean && !(r->isr = kp_arena_memdup(out->arena, &o->leader,
							     sizeof(o->leader)))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	r->topic_id = t->id;
	r->partition_id = p->partition_id;
	r->leader = o->leader;
	if (o->unclean) {
		r->isr_count = 1;
		if (p->leader_recovery_state != KP_IMAGE_LEADER_RECOVERING)
			r->leader_recovery_state = KP_IMAGE_LEADER_RECOVERING;
	}
	kp_diag_info("controller: %s-%d: leader %d -> %d (%s%s)", t->name, p->partition_id,
		     p->leader, o->leader, why, o->unclean ? ", the ISR is just it, RECOVERING" : "");
	return 0;
}

/* arena_printf - a formatted message (at most 255 bytes) in `a`; NULL when out of memory. */
__attribute__((format(printf, 2, 3)))
static char *arena_printf(kp_arena *a, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	return kp_arena_strndup(a, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* default_message - Kafka's message for an election error (Errors' default; NONE: null). */
static const char *default_message(int16_t error)
{
	switch (error) {
	case KP_ERR_ELECTION_NOT_NEEDED:
		return "Leader election not needed for topic partition.";
	case KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
		return "The preferred leader was not available.";
	case KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
		return "Eligible topic partition leaders are not available.";
	default:
		return NULL;
	}
}

/*
 * elect_one - electLeader for partition `id` of topic `name` (`t`, NULL
 * when unknown) into *o: its error and message; a change appended to
 * `out`. Returns 0 or -1 (KP_ENOMEM).
 */
static int elect_one(const kp_image *img, const struct kp_image_topic *t, const char *name,
		     int32_t id, int8_t type, part_result *o, struct kp_qc_recs *out,
		     kp_arena *arena, kp_error *err)
{
	const struct kp_image_partition *p = t ? kp_image_topic_partition(t, id) : NULL;
	struct outcome r;

	o->partition_id = id;
	if (!p) {
		o->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		o->error_message = t ? arena_printf(arena, "No such partition as %s-%d", name, id)
				     : arena_printf(arena, "No such topic as %s", name ? name : "null");
		return o->error_message ? 0 : kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	r = decide(img, p, type);
	o->error_code = r.error;
	o->error_message = (char *)default_message(r.error);
	if (r.error)
		return 0;
	return change_record(t, p, &r, type == KP_QC_ELECTION_UNCLEAN ? "unclean leader election"
								 : "preferred leader election",
			     out, err);
}

/* named - the partitions `req` names, each answered (request order). */
static int named(const kp_image *img, const struct kp_elect_leaders_request *req,
		 struct kp_elect_leaders_response *resp, struct kp_qc_recs *out, kp_arena *arena,
		 kp_error *err)
{
	size_t n = (size_t)req->topic_partitions_count;

	if (!(resp->replica_election_results =
		      kp_elect_leaders_response_replica_election_result_new(arena, n)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->replica_election_results_count = (int32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct kp_elect_leaders_request_topic_partitions *tp = &req->topic_partitions[i];
		const struct kp_image_topic *t = tp->topic ? kp_image_topic_by_name(img, tp->topic)
							   : NULL;
		topic_result *o = &resp->replica_election_results[i];
		size_t np = (size_t)(tp->partitions_count > 0 ? tp->partitions_count : 0);

		o->topic = tp->topic;
		if (!(o->partition_result = kp_elect_leaders_response_partition_result_new(arena,
											  np + 1)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		o->partition_result_count = (int32_t)np;
		for (size_t j = 0; j < np; j++)
			if (elect_one(img, t, tp->topic, tp->partitions[j], req->election_type,
				      &o->partition_result[j], out, arena, err) < 0)
				return -1;
	}
	return 0;
}

/* every_topic - topic `t`'s partitions into *o, leaving out ELECTION_NOT_NEEDED. */
static int every_topic(const kp_image *img, const struct kp_image_topic *t, int8_t type,
		       topic_result *o, struct kp_qc_recs *out, kp_arena *arena, kp_error *err)
{
	size_t np = (size_t)(t->partition_count > 0 ? t->partition_count : 0);

	if (!(o->topic = kp_arena_strndup(arena, t->name, strlen(t->name))) ||
	    !(o->partition_result = kp_elect_leaders_response_partition_result_new(arena, np + 1)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < t->partition_slots; i++) {
		part_result *r = &o->partition_result[o->partition_result_count];

		if (!t->partitions[i] || (size_t)o->partition_result_count >= np)
			continue;
		if (elect_one(img, t, t->name, i, type, r, out, arena, err) < 0)
			return -1;
		if (r->error_code != KP_ERR_ELECTION_NOT_NEEDED)
			o->partition_result_count++;
	}
	return 0;
}

/* everything - topic_partitions null: every partition of every topic. */
static int everything(const kp_image *img, int8_t type, struct kp_elect_leaders_response *resp,
		      struct kp_qc_recs *out, kp_arena *arena, kp_error *err)
{
	size_t n = kp_image_topic_count(img), i = 0;

	if (!(resp->replica_election_results =
		      kp_elect_leaders_response_replica_election_result_new(arena, n + 1)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (const struct kp_image_topic *t = kp_image_topic_first(img); t && i < n;
	     t = kp_image_topic_next(img, t), i++)
		if (every_topic(img, t, type, &resp->replica_election_results[i], out, arena, err) < 0)
			return -1;
	resp->replica_election_results_count = (int32_t)i;
	return 0;
}

struct kp_elect_leaders_response *
kp_qc_elect_leaders_error_response(const struct kp_elect_leaders_request *req, int16_t code,
				   const char *message, kp_arena *arena)
{
	struct kp_elect_leaders_response *resp = kp_elect_leaders_response_new(arena, 1);
	size_t n = (size_t)(req->topic_partitions_count > 0 ? req->topic_partitions_count : 0);

	if (!resp || (resp->error_code = code, n == 0))
		return resp;
	if (!(resp->replica_election_results =
		      kp_elect_leaders_response_replica_election_result_new(arena, n)))
		return NULL;
	resp->replica_election_results_count = (int32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct kp_elect_leaders_request_topic_partitions *tp = &req->topic_partitions[i];
		topic_result *o = &resp->replica_election_results[i];
		size_t np = (size_t)(tp->partitions_count > 0 ? tp->partitions_count : 0);

		o->topic = tp->topic;
		if (!(o->partition_result = kp_elect_leaders_response_partition_result_new(arena,
											  np + 1)))
			return NULL;
		o->partition_result_count = (int32_t)np;
		for (size_t j = 0; j < np; j++) {
			o->partition_result[j].partition_id = tp->partitions[j];
			o->partition_result[j].error_code = code;
			o->partition_result[j].error_message = (char *)message;
		}
	}
	return resp;
}

struct kp_elect_leaders_response *
kp_qc_elect_leaders_records(const kp_image *img, const struct kp_elect_leaders_request *req,
			    struct kp_qc_recs *out, kp_arena *arena, kp_error *err)
{
	int8_t type = req->election_type;
	struct kp_elect_leaders_response *resp;
	const char *why;
	int rc;

	if (req->topic_partitions_count == 0) { /* QuorumController.electLeaders: nothing to do */
		if (!(resp = kp_elect_leaders_response_new(arena, 1)))
			kp_error_set(err, KP_ENOMEM, "out of memory");
		return resp;
	}
	if (type != KP_QC_ELECTION_PREFERRED && type != KP_QC_ELECTION_UNCLEAN) {
		if (!(why = arena_printf(arena, "Unknown election type %d", type)) ||
		    !(resp = kp_qc_elect_leaders_error_response(req, KP_ERR_INVALID_REQUEST, why,
								arena)))
			kp_error_set(err, KP_ENOMEM, "out of memory");
		return why ? resp : NULL;
	}
	if (!(resp = kp_elect_leaders_response_new(arena, 1))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	rc = req->topic_partitions_count < 0 ? everything(img, type, resp, out, arena, err)
					     : named(img, req, resp, out, arena, err);
	return rc < 0 ? NULL : resp;
}

int kp_qc_balance_leaders_records(const kp_image *img, size_t max, struct kp_qc_recs *out,
				  bool *more, kp_error *err)
{
	size_t added = 0;

	*more = false;
	for (const struct kp_image_topic *t = kp_image_topic_first(img); t;
	     t = kp_image_topic_next(img, t)) {
		for (int32_t i = 0; i < t->partition_slots; i++) {
			const struct kp_image_partition *p = t->partitions[i];
			struct outcome o = { KP_ERR_NONE, p ? preferred(p) : -1, false };

			if (!p || p->leader == o.leader || !can_lead(img, p, o.leader))
				continue;
			if (added >= max) {
				*more = true;
				return 0;
			}
			if (change_record(t, p, &o, "leader rebalance to the preferred replica", out,
					  err) < 0)
				return -1;
			added++;
		}
	}
	*more = added >= max;
	return 0;
}

/* ---- the ElectLeaders handler ------------------------------------------------ */

/* What run decided: the answer once the batch commits (in the request's arena). */
struct el_state {
	struct kp_elect_leaders_response *resp;
};

static int elect_run(struct kp_qc_op *op, kp_error *err)
{
	struct el_state *st = op->state;

	if (!op->rq)
		return 0;
	st->resp = kp_qc_elect_leaders_records(op->qc->img, op->rq->body, &op->recs,
					       &op->rq->arena, err);
	return st->resp ? 0 : -1;
}

/* elect_finish - the answer of run, or getErrorResponse when the batch failed (NOT_CONTROLLER). */
static void elect_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct el_state *st = op->state;
	struct kp_elect_leaders_response *resp = st->resp;

	if (!op->rq)
		return;
	if (error || !resp)
		resp = kp_qc_elect_leaders_error_response(op->rq->body,
							  error ? error : KP_ERR_UNKNOWN_SERVER_ERROR,
							  NULL, &op->rq->arena);
	if (resp)
		kp_qc_respond(op, resp);
}

int kp_qc_elect_leaders(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err)
{
	return kp_qc_submit_new(qc, rq, sizeof(struct el_state), elect_run, elect_finish, err);
}

/* ---- the periodic rebalance ------------------------------------------------ */

static int balance_run(struct kp_qc_op *op, kp_error *err)
{
	struct kp_quorum_controller *qc = op->qc;
	bool more = false;
	int rc = kp_qc_balance_leaders_records(qc->img, KP_QC_MAX_ELECTIONS_PER_IMBALANCE,
					       &op->recs, &more, err);

	qc->balance_due_ms = kp_mono_ms() + (more ? 0 : qc->cfg.leader_imbalance_check_interval_s
						       * 1000);
	return rc;
}

static void balance_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	op->qc->balance_queued = false;
}

void kp_qc_maybe_balance_leaders(struct kp_quorum_controller *qc)
{
	struct kp_qc_op *op;

	if (!qc->cfg.auto_leader_rebalance || qc->balance_queued || kp_mono_ms() < qc->balance_due_ms)
		return;
	if (!(op = kp_qc_op_new(qc, NULL, balance_run, balance_finish)))
		return;
	qc->balance_queued = true;
	kp_qc_submit(qc, op); /* may finish at once */
}
