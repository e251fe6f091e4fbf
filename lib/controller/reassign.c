/*
 * reassign.c - partition reassignment (KIP-455) on the active controller:
 * the records of AlterPartitionReassignments (Kafka's
 * ReplicationControlManager.changePartitionReassignment and
 * cancelPartitionReassignment with PartitionReassignmentReplicas and
 * PartitionReassignmentRevert), its completion (the reassignment parts of
 * PartitionChangeBuilder.build) and ListPartitionReassignments; see
 * reassign.h. Then the two request handlers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/reassign.h"
#include "protocol/errors.h"
#include "util/diag.h"

/* A list of broker ids: a record's, the image's, or one built in an arena. */
struct ids {
	const int32_t *v;
	int32_t n;
};

static bool has(struct ids l, int32_t id)
{
	for (int32_t i = 0; i < l.n; i++)
		if (l.v[i] == id)
			return true;
	return false;
}

/* contains_all - every member of `b` is in `a` (Replicas.contains). */
static bool contains_all(struct ids a, struct ids b)
{
	for (int32_t i = 0; i < b.n; i++)
		if (!has(a, b.v[i]))
			return false;
	return true;
}

static bool same(struct ids a, struct ids b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.v, b.v, (size_t)a.n * sizeof(*a.v)) == 0);
}

static struct ids of(const struct kp_image_ids *l)
{
	return (struct ids){ l->ids, l->count };
}

/* target - what a record sets (count >= 0), else the image's list. */
static struct ids target(const int32_t *v, int32_t n, const struct kp_image_ids *cur)
{
	return n >= 0 ? (struct ids){ v, n } : of(cur);
}

/* without - `l` less the members of `drop`, in order, in the arena; v NULL when out of memory. */
static struct ids without(kp_arena *a, struct ids l, struct ids drop)
{
	int32_t *v = kp_arena_alloc(a, ((size_t)l.n + 1) * sizeof(*v)), n = 0;

	for (int32_t i = 0; v && i < l.n; i++)
		if (!has(drop, l.v[i]))
			v[n++] = l.v[i];
	return (struct ids){ v, v ? n : 0 };
}

/* set_list - *dst / *count become `l` (copied into the arena); -1 when out of memory. */
static int set_list(kp_arena *a, int32_t **dst, int32_t *count, struct ids l)
{
	int32_t *v = kp_arena_alloc(a, ((size_t)l.n + 1) * sizeof(*v));

	if (!v)
		return -1;
	if (l.n > 0)
		memcpy(v, l.v, (size_t)l.n * sizeof(*v));
	*dst = v;
	*count = l.n;
	return 0;
}

/* sorted_diff - the members of `a` not in `b`, sorted (Kafka's TreeSet), in the arena. */
static struct ids sorted_diff(kp_arena *arena, struct ids a, struct ids b)
{
	struct ids d = without(arena, a, b);
	int32_t *v = (int32_t *)d.v;

	for (int32_t i = 1; v && i < d.n; i++)
		for (int32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int32_t x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return d;
}

bool kp_qc_reassigning(const struct kp_image_partition *p)
{
	return p->adding_replicas.count > 0 || p->removing_replicas.count > 0;
}

/* ---- completion and election (PartitionChangeBuilder) -------------------------- */

/*
 * maybe_complete - PartitionReassignmentReplicas.maybeCompleteReassignment
 * on r's targets: sets r's replicas, ISR, adding and removing when done.
 */
static int maybe_complete(const struct kp_image_partition *p, struct kp_partition_change_record *r,
			  kp_arena *a, bool *completed)
{
	struct ids isr = target(r->isr, r->isr_count, &p->isr);
	struct ids reps = target(r->replicas, r->replicas_count, &p->replicas);
	struct ids rem = target(r->removing_replicas, r->removing_replicas_count,
				&p->removing_replicas);
	struct ids add = target(r->adding_replicas, r->adding_replicas_count, &p->adding_replicas);
	struct ids none = { NULL, 0 }, new_isr, new_reps;

	*completed = false;
	if (rem.n == 0 && add.n == 0)
		return 0;
	new_isr = without(a, isr, rem);
	new_reps = without(a, reps, rem);
	if (!new_isr.v || !new_reps.v)
		return -1;
	if (new_isr.n == 0 || new_reps.n == 0 || !contains_all(new_isr, new_reps))
		return 0;
	if (set_list(a, &r->isr, &r->isr_count, new_isr) < 0 ||
	    set_list(a, &r->replicas, &r->replicas_count, new_reps) < 0 ||
	    set_list(a, &r->adding_replicas, &r->adding_replicas_count, none) < 0 ||
	    set_list(a, &r->removing_replicas, &r->removing_replicas_count, none) < 0)
		return -1;
	*completed = true;
	return 0;
}

/* valid_leader - PartitionChangeBuilder.isValidNewLeader: in the target ISR and active. */
static bool valid_leader(const kp_image *img, struct ids isr, int32_t id)
{
	return id >= 0 && has(isr, id) && kp_qc_broker_active(img, id);
}

/*
 * elect - PartitionChangeBuilder.tryElection (ONLINE): the current leader
 * if still valid, else the first valid replica, else none; sets r->leader
 * when that is another broker than the current leader.
 */
static void elect(const kp_image *img, const struct kp_image_partition *p,
		  struct kp_partition_change_record *r)
{
	struct ids isr = target(r->isr, r->isr_count, &p->isr);
	struct ids reps = target(r->replicas, r->replicas_count, &p->replicas);
	int32_t leader = KP_IMAGE_NO_LEADER;

	if (valid_leader(img, isr, p->leader))
		return;
	for (int32_t i = 0; i < reps.n && leader < 0; i++)
		if (valid_leader(img, isr, reps.v[i]))
			leader = reps.v[i];
	if (leader != p->leader)
		r->leader = leader;
}

/* unset_same - lists of r equal to p's are left null (PartitionChangeBuilder sets only changes). */
static void unset_same(const struct kp_image_partition *p, struct kp_partition_change_record *r)
{
	if (r->isr_count >= 0 && same((struct ids){ r->isr, r->isr_count }, of(&p->isr)))
		r->isr_count = -1;
	if (r->replicas_count >= 0 &&
	    same((struct ids){ r->replicas, r->replicas_count }, of(&p->replicas)))
		r->replicas_count = -1;
	if (r->adding_replicas_count >= 0 &&
	    same((struct ids){ r->adding_replicas, r->adding_replicas_count },
		 of(&p->adding_replicas)))
		r->adding_replicas_count = -1;
	if (r->removing_replicas_count >= 0 &&
	    same((struct ids){ r->removing_replicas, r->removing_replicas_count },
		 of(&p->removing_replicas)))
		r->removing_replicas_count = -1;
	if (r->isr_count < 0)
		r->isr = NULL;
	if (r->replicas_count < 0)
		r->replicas = NULL;
	if (r->adding_replicas_count < 0)
		r->adding_replicas = NULL;
	if (r->removing_replicas_count < 0)
		r->removing_replicas = NULL;
}

int kp_qc_reassign_complete(const kp_image *img, const struct kp_image_partition *p,
			    struct kp_partition_change_record *r, kp_arena *arena, bool *completed,
			    kp_error *err)
{
	bool done;

	if (maybe_complete(p, r, arena, &done) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (completed)
		*completed = done;
	elect(img, p, r);
	if (r->leader == KP_IMAGE_NO_LEADER_CHANGE &&
	    !contains_all(target(r->replicas, r->replicas_count, &p->replicas), of(&p->replicas)))
		r->leader = p->leader; /* replicas dropped: a new leader epoch */
	unset_same(p, r);
	return 0;
}

/* ---- starting and cancelling ---------------------------------------------------- */

/* no_change - PartitionChangeBuilder.changeRecordIsNoOp. */
static bool no_change(const struct kp_partition_change_record *r)
{
	return r->isr_count < 0 && r->replicas_count < 0 && r->adding_replicas_count < 0 &&
	       r->removing_replicas_count < 0 && r->leader == KP_IMAGE_NO_LEADER_CHANGE &&
	       r->leader_recovery_state == KP_IMAGE_LEADER_RECOVERY_NO_CHANGE;
}

/*
 * check_target - validateManualPartitionAssignment: not empty, registered
 * brokers, each once; INVALID_REPLICA_ASSIGNMENT otherwise.
 */
static int check_target(const kp_image *img, const int32_t *target, int32_t n, kp_error *err)
{
	if (n <= 0)
		return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "The manual partition "
				      "assignment includes an empty replica list.");
	for (int32_t i = 0; i < n; i++) {
		if (!kp_image_broker(img, target[i]))
			return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "The manual "
					      "partition assignment includes broker %d, but no such "
					      "broker is registered.", target[i]);
		for (int32_t j = 0; j < i; j++)
			if (target[j] == target[i])
				return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "The "
						      "manual partition assignment includes the "
						      "broker %d more than once.", target[i]);
	}
	return 0;
}

/*
 * change_record - changePartitionReassignment: the merged replicas (target
 * then the current ones it leaves out), adding and removing when not empty,
 * then the builder's completion and election into `r`.
 */
static int change_record(const kp_image *img, const struct kp_image_partition *p,
			 struct ids tgt, struct kp_partition_change_record *r, kp_arena *a,
			 kp_error *err)
{
	struct ids cur = of(&p->replicas);
	struct ids removing = sorted_diff(a, cur, tgt), adding = sorted_diff(a, tgt, cur);
	int32_t *merged = kp_arena_alloc(a, ((size_t)tgt.n + (size_t)cur.n) * sizeof(*merged));

	if (!removing.v || !adding.v || !merged)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	memcpy(merged, tgt.v, (size_t)tgt.n * sizeof(*merged));
	memcpy(merged + tgt.n, removing.v, (size_t)removing.n * sizeof(*merged));
	if (set_list(a, &r->replicas, &r->replicas_count,
		     (struct ids){ merged, tgt.n + removing.n }) < 0 ||
	    (removing.n > 0 &&
	     set_list(a, &r->removing_replicas, &r->removing_replicas_count, removing) < 0) ||
	    (adding.n > 0 && set_list(a, &r->adding_replicas, &r->adding_replicas_count, adding) < 0))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return kp_qc_reassign_complete(img, p, r, a, NULL, err);
}


/*
 * cancel_record - cancelPartitionReassignment: PartitionReassignmentRevert
 * (the replicas without the adding ones, the ISR without them or, unclean,
 * the first remaining replica), adding and removing cleared, an election.
 */
static int cancel_record(const kp_image *img, const struct kp_image_topic *t,
			 const struct kp_image_partition *p, bool unclean_default,
			 struct kp_partition_change_record *r, kp_arena *a, kp_error *err)
{
	struct ids add = of(&p->adding_replicas), none = { NULL, 0 };
	struct ids reps = without(a, of(&p->replicas), add), isr = without(a, of(&p->isr), add);

	if (!kp_qc_reassigning(p))
		return kp_error_kafka(err, KP_ERR_NO_REASSIGNMENT_IN_PROGRESS, "No partition "
				      "reassignment is in progress for this topic-partition.");
	if (!reps.v || !isr.v)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (reps.n == 0)
		return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "Invalid replica "
				      "assignment: addingReplicas contains all replicas.");
	if (isr.n == 0 && !kp_qc_unclean_allowed(img, t->name, unclean_default))
		return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "Unable to revert "
				      "partition assignment for %s:%d because it would require an "
				      "unclean leader election.", t->name, p->partition_id);
	if (isr.n == 0) {
		isr = (struct ids){ reps.v, 1 };
		if (p->leader_recovery_state != KP_IMAGE_LEADER_RECOVERING)
			r->leader_recovery_state = KP_IMAGE_LEADER_RECOVERING;
	}
	if (set_list(a, &r->replicas, &r->replicas_count, reps) < 0 ||
	    set_list(a, &r->isr, &r->isr_count, isr) < 0 ||
	    set_list(a, &r->adding_replicas, &r->adding_replicas_count, none) < 0 ||
	    set_list(a, &r->removing_replicas, &r->removing_replicas_count, none) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return kp_qc_reassign_complete(img, p, r, a, NULL, err);
}

/* format_ids - "[1,2,3]" into buf (cut at its end). */
static const char *format_ids(char *buf, size_t len, const int32_t *v, int32_t n)
{
	size_t used = (size_t)snprintf(buf, len, "[");

	for (int32_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "," : "", v[i]);
	if (used < len)
		snprintf(buf + used, len - used, "]");
	return buf;
}

/* log_record - the INFO line of a reassignment's record. */
static void log_record(const struct kp_image_topic *t, const struct kp_image_partition *p,
		       const struct kp_partition_change_record *r, bool cancel)
{
	char from[96], to[96], add[64], rem[64];
	struct ids reps = target(r->replicas, r->replicas_count, &p->replicas);
	struct ids a = target(r->adding_replicas, r->adding_replicas_count, &p->adding_replicas);
	struct ids d = target(r->removing_replicas, r->removing_replicas_count,
			      &p->removing_replicas);

	kp_diag_info("controller: %s-%d: %s replicas %s -> %s (adding %s, removing %s%s)", t->name,
		     p->partition_id, cancel ? "cancelling reassignment:" : "reassigning:",
		     format_ids(from, sizeof(from), p->replicas.ids, p->replicas.count),
		     format_ids(to, sizeof(to), reps.v, reps.n), format_ids(add, sizeof(add), a.v, a.n),
		     format_ids(rem, sizeof(rem), d.v, d.n),
		     a.n == 0 && d.n == 0 && !cancel ? ", complete" : "");
}

int kp_qc_reassign_records(const kp_image *img, const char *topic, int32_t partition,
			   const int32_t *tgt, int32_t n, bool allow_rf_change,
			   bool unclean_default, struct kp_qc_recs *out, kp_error *err)
{
	const struct kp_image_topic *t = topic ? kp_image_topic_by_name(img, topic) : NULL;
	const struct kp_image_partition *p = t ? kp_image_topic_partition(t, partition) : NULL;
	struct kp_partition_change_record r, *rec;
	int32_t heading;

	if (!t)
		return kp_error_kafka(err, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, "Unable to find a "
				      "topic named %s.", topic ? topic : "(null)");
	if (!p)
		return kp_error_kafka(err, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, "Unable to find "
				      "partition %s:%d.", topic, partition);
	kp_msg_init(&kp_partition_change_record_desc, &r);
	r.topic_id = t->id;
	r.partition_id = partition;
	if (!tgt) {
		if (cancel_record(img, t, p, unclean_default, &r, out->arena, err) < 0)
			return -1;
	} else {
		if (check_target(img, tgt, n, err) < 0)
			return -1;
		heading = p->replicas.count - p->removing_replicas.count;
		if (!allow_rf_change && n != heading)
			return kp_error_kafka(err, KP_ERR_INVALID_REPLICATION_FACTOR, "The "
					      "replication factor is changed from %d to %d",
					      heading, n);
		if (change_record(img, p, (struct ids){ tgt, n }, &r, out->arena, err) < 0)
			return -1;
	}
	if (no_change(&r))
		return 0;
	if (!(rec = kp_qc_recs_add(out, KP_METADATA_PARTITION_CHANGE_RECORD)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*rec = r;
	log_record(t, p, rec, !tgt);
	return 0;
}

/* ---- ListPartitionReassignments --------------------------------------------------- */

typedef struct kp_list_partition_reassignments_response_ongoing_topic_reassignment ongoing_topic;
typedef struct kp_list_partition_reassignments_response_ongoing_partition_reassignment
	ongoing_part;

/* fill_part - partition p's reassignment in progress into `o`; -1 when out of memory. */
static int fill_part(const struct kp_image_partition *p, ongoing_part *o, kp_arena *a)
{
	o->partition_index = p->partition_id;
	return set_list(a, &o->replicas, &o->replicas_count, of(&p->replicas)) < 0 ||
	       set_list(a, &o->adding_replicas, &o->adding_replicas_count,
			of(&p->adding_replicas)) < 0 ||
	       set_list(a, &o->removing_replicas, &o->removing_replicas_count,
			of(&p->removing_replicas)) < 0 ? -1 : 0;
}

/*
 * list_topic - topic t's partitions in progress among `idx` (n of them; NULL:
 * every partition) into `o`, named `name`; o->partitions_count 0 when none.
 */
static int list_topic(const struct kp_image_topic *t, const char *name, const int32_t *idx,
		      int32_t n, ongoing_topic *o, kp_arena *a)
{
	int32_t slots = idx ? n : t->partition_slots;

	o->name = (char *)name;
	o->partitions_count = 0;
	if (slots <= 0)
		return 0;
	if (!(o->partitions = kp_list_partition_reassignments_response_ongoing_partition_reassignment_new(
		      a, (size_t)slots)))
		return -1;
	for (int32_t i = 0; i < slots; i++) {
		const struct kp_image_partition *p = kp_image_topic_partition(t, idx ? idx[i] : i);

		if (p && kp_qc_reassigning(p) &&
		    fill_part(p, &o->partitions[o->partitions_count++], a) < 0)
			return -1;
	}
	return 0;
}

static int by_name(const void *x, const void *y)
{
	return strcmp((*(const struct kp_image_topic *const *)x)->name,
		      (*(const struct kp_image_topic *const *)y)->name);
}

/* all_topics - every topic of `img` by name into *out (in the arena); -1 when out of memory. */
static int all_topics(const kp_image *img, const struct kp_image_topic ***out, size_t *n,
		      kp_arena *a)
{
	size_t k = 0, count = kp_image_topic_count(img);
	const struct kp_image_topic **v = kp_arena_alloc(a, (count + 1) * sizeof(*v));

	if (!v)
		return -1;
	for (const struct kp_image_topic *t = kp_image_topic_first(img); t && k < count;
	     t = kp_image_topic_next(img, t))
		v[k++] = t;
	qsort(v, k, sizeof(*v), by_name);
	*out = v;
	*n = k;
	return 0;
}

struct kp_list_partition_reassignments_response *
kp_qc_list_reassignments(const kp_image *img,
			 const struct kp_list_partition_reassignments_request *req, kp_arena *a)
{
	struct kp_list_partition_reassignments_response *resp =
		kp_list_partition_reassignments_response_new(a, 1);
	const struct kp_image_topic **all = NULL;
	size_t n = req->topics_count > 0 ? (size_t)req->topics_count : 0;
	ongoing_topic *o;

	if (!resp || (req->topics_count < 0 && all_topics(img, &all, &n, a) < 0))
		return NULL;
	if (!(o = kp_list_partition_reassignments_response_ongoing_topic_reassignment_new(a, n + 1)))
		return NULL;
	resp->topics = o;
	for (size_t i = 0; i < n; i++) {
		const struct kp_image_topic *t = all ? all[i]
					     : kp_image_topic_by_name(img, req->topics[i].name
								      ? req->topics[i].name : "");
		ongoing_topic *ot = &o[resp->topics_count];

		if (!t)
			continue;
		if (list_topic(t, all ? t->name : req->topics[i].name,
			       all ? NULL : req->topics[i].partition_indexes,
			       all ? 0 : req->topics[i].partition_indexes_count, ot, a) < 0)
			return NULL;
		if (ot->partitions_count > 0)
			resp->topics_count++;
	}
	return resp;
}

/* ---- the request handlers ------------------------------------------------------- */

typedef struct kp_alter_partition_reassignments_request_reassignable_partition req_part;
typedef struct kp_alter_partition_reassignments_response_reassignable_topic_response resp_topic;
typedef struct kp_alter_partition_reassignments_response_reassignable_partition_response
	resp_part;

/* One partition's outcome, in request order. */
struct ra_result {
	int16_t error;
	char *message; /* in the op's arena; NULL when none */
};

static size_t reassign_count(const struct kp_alter_partition_reassignments_request *req)
{
	size_t n = 0;

	for (int32_t i = 0; i < req->topics_count; i++)
		if (req->topics[i].partitions_count > 0)
			n += (size_t)req->topics[i].partitions_count;
	return n;
}

/* reassign_one - one partition's records (none kept on error, which goes to *res). */
static int reassign_one(struct kp_qc_op *op, const char *topic, const req_part *rp,
			struct ra_result *res, kp_error *err)
{
	static const int32_t empty[1];
	const int32_t *tgt = rp->replicas_count < 0 ? NULL : rp->replicas ? rp->replicas : empty;
	size_t mark = op->recs.n;
	const char *cut;
	kp_error perr;

	if (kp_qc_reassign_records(op->qc->img, topic, rp->partition_index, tgt,
				   rp->replicas_count, true, op->qc->cfg.unclean_leader_election,
				   &op->recs, &perr) == 0)
		return 0;
	if (perr.code != KP_EKAFKA)
		return kp_error_set(err, perr.code, "%s", perr.msg);
	op->recs.n = mark;
	cut = strrchr(perr.msg, ':');
	res->error = (int16_t)perr.kafka_code;
	res->message = kp_arena_strndup(&op->arena, perr.msg,
					cut ? (size_t)(cut - perr.msg) : strlen(perr.msg));
	kp_diag_info("controller: unable to alter partition reassignment for %s:%d: %s",
		     topic ? topic : "(null)", rp->partition_index, perr.msg);
	return 0;
}

static int alter_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_alter_partition_reassignments_request *req;
	struct ra_result *res = op->state;
	size_t k = 0;

	if (!op->rq)
		return 0;
	req = op->rq->body;
	for (int32_t i = 0; i < req->topics_count; i++)
		for (int32_t j = 0; j < req->topics[i].partitions_count; j++, k++)
			if (reassign_one(op, req->topics[i].name, &req->topics[i].partitions[j],
					 &res[k], err) < 0)
				return -1;
	return 0;
}

/* alter_finish - each partition's error (all `error` when the write failed). */
static void alter_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct kp_alter_partition_reassignments_request *req;
	const struct ra_result *res = op->state;
	struct kp_alter_partition_reassignments_response *resp;
	kp_arena *a;
	size_t k = 0;

	if (!op->rq)
		return;
	req = op->rq->body;
	a = &op->rq->arena;
	if (!(resp = kp_alter_partition_reassignments_response_new(a, 1)) ||
	    !(resp->responses = kp_alter_partition_reassignments_response_reassignable_topic_response_new(
		      a, (size_t)(req->topics_count > 0 ? req->topics_count : 0) + 1)))
		return;
	resp->responses_count = req->topics_count > 0 ? req->topics_count : 0;
	for (int32_t i = 0; i < resp->responses_count; i++) {
		resp_topic *t = &resp->responses[i];
		int32_t np = req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;

		t->name = req->topics[i].name;
		if (!(t->partitions = kp_alter_partition_reassignments_response_reassignable_partition_response_new(
			      a, (size_t)np + 1)))
			return;
		t->partitions_count = np;
		for (int32_t j = 0; j < np; j++, k++) {
			t->partitions[j].partition_index = req->topics[i].partitions[j].partition_index;
			t->partitions[j].error_code = error ? error : res[k].error;
			t->partitions[j].error_message = error ? NULL : res[k].message;
		}
	}
	kp_qc_respond(op, resp);
}

int kp_qc_alter_partition_reassignments(struct kp_quorum_controller *qc,
					struct kp_ctl_request *rq, kp_error *err)
{
	return kp_qc_submit_new(qc, rq, reassign_count(rq->body) * sizeof(struct ra_result),
				alter_run, alter_finish, err);
}

/* list_run - nothing to write: the answer comes once earlier writes are committed. */
static int list_run(struct kp_qc_op *op, kp_error *err)
{
	return 0;
}

static void list_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	struct kp_list_partition_reassignments_response *resp;

	if (!op->rq)
		return;
	if (error)
		resp = kp_list_partition_reassignments_response_new(&op->rq->arena, 1);
	else
		resp = kp_qc_list_reassignments(op->qc->img, op->rq->body, &op->rq->arena);
	if (!resp)
		return;
	resp->error_code = error;
	kp_qc_respond(op, resp);
}

int kp_qc_list_partition_reassignments(struct kp_quorum_controller *qc,
				       struct kp_ctl_request *rq, kp_error *err)
{
	return kp_qc_submit_new(qc, rq, 0, list_run, list_finish, err);
}
