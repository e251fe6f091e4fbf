/*
 * alter_partition.c - AlterPartition on the active controller (Kafka's
 * ReplicationControlManager.alterPartition and validateAlterPartitionData,
 * with the ISR and leader recovery parts of PartitionChangeBuilder; KIP-497,
 * KIP-704, KIP-841): a partition leader, talking to the active controller
 * directly, shrinks or expands the ISR of its partitions or ends their
 * recovery from an unclean election. One PartitionChangeRecord per
 * partition that changes; the answer, sent once the batch is committed,
 * carries each partition's state from the committed image. An ISR that
 * takes in every replica a reassignment adds completes it in the same
 * record (reassign.c; PartitionChangeBuilder.completeReassignmentIfNeeded).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "broker/uuid.h"
#include "controller/qc_internal.h"
#include "controller/reassign.h"
#include "protocol/errors.h"
#include "util/diag.h"

/* MetadataVersion.IBP_3_6_IV0: from it on, an ISR shrink no longer bumps the leader epoch. */
#define MV_NO_EPOCH_BUMP_ON_SHRINK 12

typedef struct kp_alter_partition_request_topic_data req_topic;
typedef struct kp_alter_partition_request_partition_data req_part;

/* isr_size - how many brokers `pd` proposes (NewIsr; from v3 NewIsrWithEpochs). */
static int32_t isr_size(const req_part *pd, int16_t version)
{
	int32_t n = version >= 3 ? pd->new_isr_with_epochs_count : pd->new_isr_count;

	return n > 0 ? n : 0;
}

/* isr_member - the i-th proposed broker; its broker epoch to *epoch (before v3 -1: unchecked). */
static int32_t isr_member(const req_part *pd, int16_t version, int32_t i, int64_t *epoch)
{
	if (version >= 3) {
		*epoch = pd->new_isr_with_epochs[i].broker_epoch;
		return pd->new_isr_with_epochs[i].broker_id;
	}
	*epoch = -1;
	return pd->new_isr[i];
}

/* isr_has - whether the proposed ISR holds `id` among its first `n` members. */
static bool isr_has(const req_part *pd, int16_t version, int32_t n, int32_t id)
{
	int64_t e;

	for (int32_t i = 0; i < n; i++)
		if (isr_member(pd, version, i, &e) == id)
			return true;
	return false;
}

/*
 * isr_valid - Replicas.validateIsr (no negative id, no duplicate, replicas
 * of p only) and the leader in it (so never empty).
 */
static bool isr_valid(const struct kp_image_partition *p, const req_part *pd, int16_t version)
{
	int32_t n = isr_size(pd, version);
	int64_t e;

	for (int32_t i = 0; i < n; i++) {
		int32_t id = isr_member(pd, version, i, &e);

		if (id < 0 || !kp_image_ids_contain(&p->replicas, id) || isr_has(pd, version, i, id))
			return false;
	}
	return isr_has(pd, version, n, p->leader);
}

/*
 * ineligible - ineligibleReplicasForIsr: why the first proposed broker that
 * may not be in an ISR may not (not registered, shutting down, fenced, or
 * a v3 broker epoch other than its registration's) into `why`; false if
 * every one may.
 */
static bool ineligible(const kp_image *img, const req_part *pd, int16_t version, char *why,
		       size_t len)
{
	for (int32_t i = 0; i < isr_size(pd, version); i++) {
		int64_t epoch;
		int32_t id = isr_member(pd, version, i, &epoch);
		const struct kp_image_broker *b = kp_image_broker(img, id);
		const char *what = !b ? "not registered" : b->in_controlled_shutdown ? "shutting down"
				   : b->fenced ? "fenced" : NULL;

		if (what) {
			snprintf(why, len, "ineligible replica %d (%s)", id, what);
			return true;
		}
		if (epoch != -1 && epoch != b->epoch) {
			snprintf(why, len, "ineligible replica %d (broker epoch %lld, registered with "
				 "%lld)", id, (long long)epoch, (long long)b->epoch);
			return true;
		}
	}
	return false;
}

/* reject - `code`, its reason formatted into `why`. */
__attribute__((format(printf, 4, 5)))
static int16_t reject(int16_t code, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * validate - validateAlterPartitionData: the error of altering `p` as `pd`
 * asks for broker `broker` (NONE if it may), why in `why`. A leader or
 * partition epoch ahead of ours means we are likely no longer the active
 * controller: NOT_CONTROLLER, so the leader looks for the new one.
 */
static int16_t validate(const kp_image *img, int32_t broker, const struct kp_image_partition *p,
			const req_part *pd, int16_t version, char *why, size_t len)
{
	int8_t lrs = pd->leader_recovery_state;

	if (!p)
		return reject(KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, why, len, "unknown partition");
	if (pd->leader_epoch > p->leader_epoch || pd->partition_epoch > p->partition_epoch)
		return reject(KP_ERR_NOT_CONTROLLER, why, len, "epochs %d/%d are ahead of ours, "
			      "%d/%d", pd->leader_epoch, pd->partition_epoch, p->leader_epoch,
			      p->partition_epoch);
	if (pd->leader_epoch < p->leader_epoch)
		return reject(KP_ERR_FENCED_LEADER_EPOCH, why, len, "leader epoch %d is not the "
			      "current %d", pd->leader_epoch, p->leader_epoch);
	if (broker != p->leader)
		return reject(KP_ERR_INVALID_REQUEST, why, len, "the leader is %d", p->leader);
	if (pd->partition_epoch < p->partition_epoch)
		return reject(KP_ERR_INVALID_UPDATE_VERSION, why, len, "partition epoch %d is not "
			      "the current %d", pd->partition_epoch, p->partition_epoch);
	if (!isr_valid(p, pd, version))
		return reject(KP_ERR_INVALID_REQUEST, why, len, "invalid ISR (a non-replica, a "
			      "duplicate, or without the leader)");
	if (lrs != KP_IMAGE_LEADER_RECOVERED && lrs != KP_IMAGE_LEADER_RECOVERING)
		return reject(KP_ERR_INVALID_REQUEST, why, len, "leader recovery state %d", lrs);
	if (lrs == KP_IMAGE_LEADER_RECOVERING && isr_size(pd, version) > 1)
		return reject(KP_ERR_INVALID_REQUEST, why, len, "an ISR of more than the leader "
			      "while RECOVERING");
	if (p->leader_recovery_state == KP_IMAGE_LEADER_RECOVERED && lrs == KP_IMAGE_LEADER_RECOVERING)
		return reject(KP_ERR_INVALID_REQUEST, why, len, "RECOVERED cannot go RECOVERING");
	if (ineligible(img, pd, version, why, len)) /* KIP-841: older versions do not know it */
		return version > 1 ? KP_ERR_INELIGIBLE_REPLICA : KP_ERR_OPERATION_NOT_ATTEMPTED;
	return KP_ERR_NONE;
}

/* format_ids - "[1,2,3]" into buf ("...]" at the end when cut). */
static const char *format_ids(char *buf, size_t len, const int32_t *ids, int32_t n)
{
	size_t used = (size_t)snprintf(buf, len, "[");

	for (int32_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "," : "", ids[i]);
	if (used + 2 > len)
		snprintf(buf + (len > 5 ? len - 5 : 0), len > 5 ? 5 : len, "...]");
	else
		snprintf(buf + used, len - used, "]");
	return buf;
}

/* log_change - the INFO line of a committed-to-be change of `p` by `r`. */
static void log_change(const struct kp_image_topic *t, const struct kp_image_partition *p,
		       const struct kp_partition_change_record *r, int32_t broker)
{
	static const char *const lrs[] = { "RECOVERED", "RECOVERING" };
	char from[128], to[128], rec[64] = "";

	if (r->leader_recovery_state >= 0)
		snprintf(rec, sizeof(rec), "%sleader recovery state %s -> %s",
			 r->isr_count >= 0 ? ", " : "", lrs[p->leader_recovery_state & 1],
			 lrs[r->leader_recovery_state & 1]);
	if (r->isr_count >= 0)
		kp_diag_info("controller: %s-%d: ISR %s -> %s%s (AlterPartition from broker %d)",
			     t->name, p->partition_id, format_ids(from, sizeof(from), p->isr.ids,
								  p->isr.count),
			     format_ids(to, sizeof(to), r->isr, r->isr_count), rec, broker);
	else
		kp_diag_info("controller: %s-%d: %s (AlterPartition from broker %d)", t->name,
			     p->partition_id, rec, broker);
}

/*
 * complete_reassignment - the reassignment of `p` in progress completes
 * in change `r` if its new ISR allows; logged at INFO, and *error set
 * when the leader moves away from the requester `broker`.
 */
static int complete_reassignment(const kp_image *img, const struct kp_image_topic *t,
				 const struct kp_image_partition *p,
				 struct kp_partition_change_record *r, int16_t version,
				 int32_t broker, int16_t *error, kp_arena *arena, kp_error *err)
{
	char to[128];
	bool done;

	if (kp_qc_reassign_complete(img, p, r, arena, &done, err) < 0)
		return -1;
	if (!done)
		return 0;
	kp_diag_info("controller: %s-%d: AlterPartition from broker %d completed the "
		     "reassignment: replicas %s, leader %d", t->name, p->partition_id, broker,
		     r->replicas_count >= 0 ? format_ids(to, sizeof(to), r->replicas,
							  r->replicas_count) : "unchanged",
		     r->leader == KP_IMAGE_NO_LEADER_CHANGE ? p->leader : r->leader);
	if (r->leader != KP_IMAGE_NO_LEADER_CHANGE && r->leader != broker)
		*error = version > 1 ? KP_ERR_NEW_LEADER_ELECTED : KP_ERR_FENCED_LEADER_EPOCH;
	return 0;
}

/* isr_same - the proposed ISR is p's, in the same order (PartitionChangeBuilder compares lists). */
static bool isr_same(const struct kp_image_partition *p, const req_part *pd, int16_t version)
{
	int64_t e;

	if (isr_size(pd, version) != p->isr.count)
		return false;
	for (int32_t i = 0; i < p->isr.count; i++)
		if (isr_member(pd, version, i, &e) != p->isr.ids[i])
			return false;
	return true;
}

/*
 * change_record - PartitionChangeBuilder.build for a validated `pd`: the
 * leader stays (every ISR member is active, the leader among them), the
 * ISR and the leader recovery state change as asked; appends a
 * PartitionChangeRecord unless nothing changes. Before metadata.version
 * 3.6-IV0 an ISR shrink also bumps the leader epoch (KAFKA-15021). A
 * reassignment in progress that the new ISR completes completes in the
 * same record (kp_qc_reassign_complete); when that elects another leader
 * than the requester, *error is NEW_LEADER_ELECTED (FENCED_LEADER_EPOCH
 * before v2), as ReplicationControlManager.alterPartition answers.
 */
static int change_record(const kp_image *img, const struct kp_image_topic *t,
			 const struct kp_image_partition *p, const req_part *pd, int16_t version,
			 int32_t broker, int16_t *error, struct kp_qc_recs *out, kp_error *err)
{
	int16_t mv = kp_image_feature_level(img, KP_METADATA_VERSION_FEATURE);
	int32_t n = isr_size(pd, version), *isr = NULL;
	bool isr_changed = !isr_same(p, pd, version);
	struct kp_partition_change_record *r;
	int64_t e;

	if (!isr_changed && pd->leader_recovery_state == p->leader_recovery_state)
		return 0;
	if (!(r = kp_qc_recs_add(out, KP_METADATA_PARTITION_CHANGE_RECORD)) ||
	    (isr_changed && !(isr = kp_arena_alloc(out->arena, (size_t)n * sizeof(*isr)))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	r->topic_id = t->id;
	r->partition_id = p->partition_id;
	r->leader = KP_IMAGE_NO_LEADER_CHANGE;
	if (isr_changed) {
		for (int32_t i = 0; i < n; i++)
			isr[i] = isr_member(pd, version, i, &e);
		r->isr = isr;
		r->isr_count = n;
		for (int32_t i = 0; mv > 0 && mv < MV_NO_EPOCH_BUMP_ON_SHRINK && i < p->isr.count; i++)
			if (!isr_has(pd, version, n, p->isr.ids[i]))
				r->leader = p->leader; /* the same leader: a new leader epoch */
	}
	if (pd->leader_recovery_state != p->leader_recovery_state)
		r->leader_recovery_state = pd->leader_recovery_state;
	log_change(t, p, r, broker);
	return kp_qc_reassigning(p) ? complete_reassignment(img, t, p, r, version, broker, error,
							   out->arena, err) : 0;
}

/* find_topic - the topic `td` names: by name before v2, by id from v2; NULL if unknown. */
static const struct kp_image_topic *find_topic(const kp_image *img, const req_topic *td,
					       int16_t version)
{
	static const kp_uuid zero;

	if (version < 2)
		return td->topic_name ? kp_image_topic_by_name(img, td->topic_name) : NULL;
	if (memcmp(&td->topic_id, &zero, sizeof(zero)) == 0)
		return NULL;
	return kp_image_topic_by_id(img, &td->topic_id);
}

/* log_unknown - the INFO line of a topic the request names that does not exist. */
static void log_unknown(int32_t broker, const req_topic *td, int16_t version)
{
	char id[23];

	kp_uuid_format(&td->topic_id, id);
	kp_diag_info("controller: rejecting AlterPartition from broker %d for unknown topic %s",
		     broker, version < 2 ? (td->topic_name ? td->topic_name : "(null)") : id);
}

/* alter_one - validate one partition of topic `t` and append its change; its error to *error. */
static int alter_one(const kp_image *img, int32_t broker, const struct kp_image_topic *t,
		     const req_part *pd, int16_t version, int16_t *error, struct kp_qc_recs *out,
		     kp_error *err)
{
	const struct kp_image_partition *p = kp_image_topic_partition(t, pd->partition_index);
	char why[160];

	*error = validate(img, broker, p, pd, version, why, sizeof(why));
	if (*error == KP_ERR_NONE)
		return change_record(img, t, p, pd, version, broker, error, out, err);
	if (*error == KP_ERR_NOT_CONTROLLER || *error == KP_ERR_FENCED_LEADER_EPOCH)
		kp_diag_debug("controller: rejecting AlterPartition from broker %d for %s-%d: %s",
			      broker, t->name, pd->partition_index, why);
	else
		kp_diag_info("controller: rejecting AlterPartition from broker %d for %s-%d: %s",
			     broker, t->name, pd->partition_index, why);
	return 0;
}

int kp_qc_alter_partition_records(const kp_image *img, const struct kp_alter_partition_request *req,
				  int16_t version, int16_t *error, int16_t *errors,
				  struct kp_qc_recs *out, kp_error *err)
{
	const struct kp_image_broker *b = kp_image_broker(img, req->broker_id);
	size_t k = 0;

	*error = KP_ERR_NONE;
	if (req->topics_count <= 0)
		return 0; /* QuorumController.alterPartition answers an empty request at once */
	if (!b || b->epoch != req->broker_epoch) { /* ClusterControlManager.checkBrokerEpoch */
		*error = KP_ERR_STALE_BROKER_EPOCH;
		return 0;
	}
	for (int32_t i = 0; i < req->topics_count; i++) {
		const req_topic *td = &req->topics[i];
		const struct kp_image_topic *t = find_topic(img, td, version);

		if (!t)
			log_unknown(req->broker_id, td, version);
		for (int32_t j = 0; j < td->partitions_count; j++, k++) {
			if (!t)
				errors[k] = version > 1 ? KP_ERR_UNKNOWN_TOPIC_ID
							: KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			else if (alter_one(img, req->broker_id, t, &td->partitions[j], version,
					   &errors[k], out, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* fill_partition - one partition's answer: its error, or its state in `img`. */
static int fill_partition(const struct kp_image_topic *t, const req_part *pd, int16_t error,
			  struct kp_alter_partition_response_partition_data *o, kp_arena *arena)
{
	const struct kp_image_partition *p = t ? kp_image_topic_partition(t, pd->partition_index)
					     : NULL;

	o->partition_index = pd->partition_index;
	o->error_code = error;
	if (error)
		return 0;
	if (!p) { /* gone meanwhile: cannot happen, nothing else is written in between */
		o->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return 0;
	}
	o->leader_id = p->leader;
	o->leader_epoch = p->leader_epoch;
	o->isr_count = p->isr.count;
	if (p->isr.count > 0 &&
	    !(o->isr = kp_arena_memdup(arena, p->isr.ids, (size_t)p->isr.count * sizeof(int32_t))))
		return -1;
	o->leader_recovery_state = p->leader_recovery_state;
	o->partition_epoch = p->partition_epoch;
	return 0;
}

struct kp_alter_partition_response *
kp_qc_alter_partition_response(const kp_image *img, const struct kp_alter_partition_request *req,
			       int16_t version, int16_t error, const int16_t *errors,
			       kp_arena *arena)
{
	struct kp_alter_partition_response *resp = kp_alter_partition_response_new(arena, 1);
	size_t n = (size_t)(req->topics_count > 0 ? req->topics_count : 0), k = 0;

	if (!resp || (resp->error_code = error) != KP_ERR_NONE || n == 0)
		return resp;
	if (!(resp->topics = kp_alter_partition_response_topic_data_new(arena, n)))
		return NULL;
	resp->topics_count = (int32_t)n;
	for (size_t i = 0; i < n; i++) {
		const req_topic *td = &req->topics[i];
		struct kp_alter_partition_response_topic_data *o = &resp->topics[i];
		const struct kp_image_topic *t = find_topic(img, td, version);
		size_t np = (size_t)(td->partitions_count > 0 ? td->partitions_count : 0);

		o->topic_name = td->topic_name;
		o->topic_id = td->topic_id;
		if (!(o->partitions = kp_alter_partition_response_partition_data_new(arena, np)))
			return NULL;
		o->partitions_count = (int32_t)np;
		for (size_t j = 0; j < np; j++, k++)
			if (fill_partition(t, &td->partitions[j], errors[k], &o->partitions[j],
					   arena) < 0)
				return NULL;
	}
	return resp;
}

/* ---- the request handler ---------------------------------------------------- */

/* What run decided: the top-level error and each partition's, in request order. */
struct ap_state {
	int16_t error;
	int16_t errors[];
};

static size_t partition_count(const struct kp_alter_partition_request *req)
{
	size_t n = 0;

	for (int32_t i = 0; i < req->topics_count; i++)
		n += (size_t)(req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count
								  : 0);
	return n;
}

static int alter_partition_run(struct kp_qc_op *op, kp_error *err)
{
	struct ap_state *st = op->state;

	if (!op->rq)
		return 0;
	return kp_qc_alter_partition_records(op->qc->img, op->rq->body, op->rq->version,
					     &st->error, st->errors, &op->recs, err);
}

/* alter_partition_finish - answer from the committed image (the batch applied, if any). */
static void alter_partition_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct ap_state *st = op->state;
	struct kp_alter_partition_response *resp;

	if (!op->rq)
		return;
	resp = kp_qc_alter_partition_response(op->qc->img, op->rq->body, op->rq->version,
					      error ? error : st->error, st->errors,
					      &op->rq->arena);
	if (resp)
		kp_qc_respond(op, resp);
}

int kp_qc_alter_partition(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			  kp_error *err)
{
	return kp_qc_submit_new(qc, rq, sizeof(struct ap_state) +
				partition_count(rq->body) * sizeof(int16_t),
				alter_partition_run, alter_partition_finish, err);
}
