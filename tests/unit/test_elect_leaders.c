/*
 * test_elect_leaders.c - ElectLeaders and the periodic leader rebalance on
 * the quorum controller (lib/controller/elect_leaders.c), as Kafka's
 * ReplicationControlManager.electLeaders and maybeBalancePartitionLeaders:
 * records generated against an image, then applied as the committed
 * batch would be.
 *
 * 1. PREFERRED: the preferred replica back in the ISR and unfenced takes
 *    the leadership (one PartitionChangeRecord with the leader alone; the
 *    image bumps the leader epoch, the ISR stays), logged at INFO; again:
 *    ELECTION_NOT_NEEDED; not in the ISR, fenced or shutting down:
 *    PREFERRED_LEADER_NOT_AVAILABLE and no record.
 * 2. topic_partitions null: every topic listed, the partitions answered
 *    ELECTION_NOT_NEEDED left out; empty: an empty answer.
 * 3. Errors: unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION with
 *    Kafka's messages; election type 2 INVALID_REQUEST at the top and for
 *    each partition, no record; getErrorResponse (NOT_CONTROLLER).
 * 4. UNCLEAN: a partition with a leader ELECTION_NOT_NEEDED; a leaderless
 *    one gets its active ISR member (a clean election, the ISR kept), else
 *    the first active replica with the ISR just it and RECOVERING, else
 *    ELIGIBLE_LEADERS_NOT_AVAILABLE.
 * 5. The rebalance: only partitions whose preferred replica can lead, at
 *    most `max` per batch (*more then), nothing once balanced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/qc_internal.h"
#include "metadata/image.h"
#include "protocol/errors.h"
#include "util/diag.h"
#include "qc_fixture.h"

/* ---- an image to work on ------------------------------------------------- */

/* fence - fencing as the controller does it: the leader and ISR updates, then the fence. */
static void fence(kp_image *img, int32_t id)
{
	struct kp_qc_recs r;
	kp_arena a;
	kp_error err;

	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	assert_int_equal(kp_qc_fence_records(img, id, false, &r, &err), 0);
	apply_all(img, &r);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
}

static const struct kp_image_partition *part(const kp_image *img, const char *topic, int32_t i)
{
	const struct kp_image_topic *t = kp_image_topic_by_name(img, topic);

	assert_non_null(t);
	return kp_image_topic_partition(t, i);
}

/*
 * brokers 1-3; t [1,2,3] (2 partitions, both [1,2,3]) and u [2,3,1]; broker
 * 1 fenced and unfenced again: t's partitions led by 2 with ISR [2,3], u led
 * by 2 with ISR [2,3].
 */
static kp_image *setup(void)
{
	static const int32_t t[] = { 1, 2, 3, 1, 2, 3 }, u[] = { 2, 3, 1 };
	kp_image *img = kp_image_new();

	next_offset = 0;
	for (int32_t i = 1; i <= 3; i++)
		add_broker(img, i, NULL, false);
	create(img, "t", t, 2, 3, 0xe1);
	create(img, "u", u, 1, 3, 0xe1);
	fence(img, 1);
	unfence(img, 1);
	assert_int_equal(part(img, "t", 0)->leader, 2);
	return img;
}

/* ---- one ElectLeaders --------------------------------------------------------- */

/* An election asked for, its answer and the records applied. */
struct run {
	kp_arena arena;
	struct kp_qc_recs recs;
	struct kp_elect_leaders_response *resp;
};

/*
 * elect - ElectLeaders of `type` for `topic` partitions parts[0..n) (topic
 * NULL: topic_partitions null; n -1: an empty topic_partitions), records
 * applied to `img`. Free with done().
 */
static void elect(struct run *r, kp_image *img, int8_t type, const char *topic,
		  const int32_t *parts, int32_t n)
{
	struct kp_elect_leaders_request req;
	struct kp_elect_leaders_request_topic_partitions tp;
	kp_error err;

	kp_elect_leaders_request_init(&req);
	kp_elect_leaders_request_topic_partitions_init(&tp);
	req.election_type = type;
	tp.topic = (char *)topic;
	tp.partitions = (int32_t *)parts;
	tp.partitions_count = n;
	req.topic_partitions = topic ? &tp : NULL;
	req.topic_partitions_count = !topic ? -1 : n < 0 ? 0 : 1;
	kp_arena_init(&r->arena);
	kp_qc_recs_init(&r->recs, &r->arena);
	r->resp = kp_qc_elect_leaders_records(img, &req, &r->recs, &r->arena, &err);
	assert_non_null(r->resp);
	apply_all(img, &r->recs);
}

static void done(struct run *r)
{
	kp_qc_recs_free(&r->recs);
	kp_arena_free(&r->arena);
}

/* result - the answer's i-th partition of its k-th topic. */
static const struct kp_elect_leaders_response_partition_result *
result(const struct run *r, int32_t k, int32_t i)
{
	assert_true(r->resp->replica_election_results_count > k);
	assert_true(r->resp->replica_election_results[k].partition_result_count > i);
	return &r->resp->replica_election_results[k].partition_result[i];
}

/* ---- 1. PREFERRED ------------------------------------------------------------- */

static void test_preferred_moves_leadership_back(void **state)
{
	static const int32_t p0[] = { 0 }, isr[] = { 2, 3, 1 };
	kp_image *img = setup();
	int32_t epoch = part(img, "t", 0)->leader_epoch, pepoch = part(img, "t", 0)->partition_epoch;
	const struct kp_partition_change_record *c;
	struct run r;

	/* broker 1 is not back in the ISR yet */
	elect(&r, img, KP_QC_ELECTION_PREFERRED, "t", p0, 1);
	assert_int_equal(r.recs.n, 0);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	assert_string_equal(result(&r, 0, 0)->error_message,
			    "The preferred leader was not available.");
	done(&r);

	set_isr(img, "t", isr, 3);
	elect(&r, img, KP_QC_ELECTION_PREFERRED, "t", p0, 1);
	assert_int_equal(r.resp->error_code, KP_ERR_NONE);
	assert_string_equal(r.resp->replica_election_results[0].topic, "t");
	assert_int_equal(result(&r, 0, 0)->partition_id, 0);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_NONE);
	assert_null(result(&r, 0, 0)->error_message);
	assert_int_equal(r.recs.n, 1);
	c = r.recs.v[0].msg;
	assert_int_equal(r.recs.v[0].type, KP_METADATA_PARTITION_CHANGE_RECORD);
	assert_int_equal(c->leader, 1);
	assert_int_equal(c->isr_count, -1); /* the ISR stays */
	assert_int_equal(c->leader_recovery_state, -1);
	assert_string_equal(last_info, "controller: t-0: leader 2 -> 1 (preferred leader election)");
	done(&r);
	assert_int_equal(part(img, "t", 0)->leader, 1);
	assert_int_equal(part(img, "t", 0)->leader_epoch, epoch + 1);
	assert_int_equal(part(img, "t", 0)->partition_epoch, pepoch + 2); /* the ISR, the leader */
	assert_ids(&part(img, "t", 0)->isr, isr, 3);

	elect(&r, img, KP_QC_ELECTION_PREFERRED, "t", p0, 1);
	assert_int_equal(r.recs.n, 0);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_ELECTION_NOT_NEEDED);
	assert_string_equal(result(&r, 0, 0)->error_message,
			    "Leader election not needed for topic partition.");
	done(&r);
	kp_image_free(img);
}

static void test_preferred_not_available_when_inactive(void **state)
{
	static const int32_t p0[] = { 0 }, isr[] = { 2, 3, 1 };
	struct kp_broker_registration_change_record s;
	kp_image *img = setup();
	struct run r;

	set_isr(img, "t", isr, 3);
	kp_msg_init(kp_metadata_record_type_info(KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD)
		    ->desc, &s);
	s.broker_id = 1;
	s.broker_epoch = kp_image_broker(img, 1)->epoch;
	s.in_controlled_shutdown = 1;
	apply_one(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &s);
	elect(&r, img, KP_QC_ELECTION_PREFERRED, "t", p0, 1);
	assert_int_equal(r.recs.n, 0);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	done(&r);
	assert_int_equal(part(img, "t", 0)->leader, 2);
	kp_image_free(img);
}

/* ---- 2. every partition ------------------------------------------------------- */

static void test_all_partitions_leave_out_not_needed(void **state)
{
	static const int32_t isr[] = { 2, 3, 1 };
	kp_image *img = setup();
	struct run r;
	int32_t k_t;

	set_isr(img, "t", isr, 3); /* t-0 can move back, t-1 cannot, u-0 needs nothing */
	elect(&r, img, KP_QC_ELECTION_PREFERRED, NULL, NULL, 0);
	assert_int_equal(r.resp->replica_election_results_count, 2);
	k_t = strcmp(r.resp->replica_election_results[0].topic, "t") == 0 ? 0 : 1;
	assert_string_equal(r.resp->replica_election_results[k_t].topic, "t");
	assert_string_equal(r.resp->replica_election_results[1 - k_t].topic, "u");
	assert_int_equal(r.resp->replica_election_results[1 - k_t].partition_result_count, 0);
	assert_int_equal(r.resp->replica_election_results[k_t].partition_result_count, 2);
	assert_int_equal(result(&r, k_t, 0)->partition_id, 0);
	assert_int_equal(result(&r, k_t, 0)->error_code, KP_ERR_NONE);
	assert_int_equal(result(&r, k_t, 1)->partition_id, 1);
	assert_int_equal(result(&r, k_t, 1)->error_code, KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	assert_int_equal(r.recs.n, 1);
	done(&r);
	assert_int_equal(part(img, "t", 0)->leader, 1);
	assert_int_equal(part(img, "t", 1)->leader, 2);

	/* an empty list: nothing */
	elect(&r, img, KP_QC_ELECTION_PREFERRED, "t", NULL, -1);
	assert_int_equal(r.resp->error_code, KP_ERR_NONE);
	assert_int_equal(r.resp->replica_election_results_count, 0);
	assert_int_equal(r.recs.n, 0);
	done(&r);
	kp_image_free(img);
}

/* ---- 3. errors ------------------------------------------------------------------ */

static void test_unknown_and_invalid(void **state)
{
	static const int32_t p[] = { 0, 5 };
	struct kp_elect_leaders_request req;
	struct kp_elect_leaders_request_topic_partitions tp;
	struct kp_elect_leaders_response *e;
	kp_image *img = setup();
	kp_arena a;
	struct run r;

	elect(&r, img, KP_QC_ELECTION_PREFERRED, "nope", p, 1);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_string_equal(result(&r, 0, 0)->error_message, "No such topic as nope");
	done(&r);
	elect(&r, img, KP_QC_ELECTION_UNCLEAN, "t", p, 2);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_ELECTION_NOT_NEEDED);
	assert_int_equal(result(&r, 0, 1)->partition_id, 5);
	assert_int_equal(result(&r, 0, 1)->error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_string_equal(result(&r, 0, 1)->error_message, "No such partition as t-5");
	done(&r);

	elect(&r, img, 2, "t", p, 2);
	assert_int_equal(r.recs.n, 0);
	assert_int_equal(r.resp->error_code, KP_ERR_INVALID_REQUEST);
	assert_int_equal(result(&r, 0, 1)->error_code, KP_ERR_INVALID_REQUEST);
	assert_string_equal(result(&r, 0, 1)->error_message, "Unknown election type 2");
	done(&r);

	/* the answer when the batch fails: every partition asked for gets the error */
	kp_elect_leaders_request_init(&req);
	kp_elect_leaders_request_topic_partitions_init(&tp);
	tp.topic = "t";
	tp.partitions = (int32_t *)p;
	tp.partitions_count = 2;
	req.topic_partitions = &tp;
	req.topic_partitions_count = 1;
	kp_arena_init(&a);
	assert_non_null(e = kp_qc_elect_leaders_error_response(&req, KP_ERR_NOT_CONTROLLER, NULL, &a));
	assert_int_equal(e->error_code, KP_ERR_NOT_CONTROLLER);
	assert_int_equal(e->replica_election_results[0].partition_result_count, 2);
	assert_int_equal(e->replica_election_results[0].partition_result[1].partition_id, 5);
	assert_int_equal(e->replica_election_results[0].partition_result[1].error_code,
			 KP_ERR_NOT_CONTROLLER);
	req.topic_partitions_count = -1;
	assert_non_null(e = kp_qc_elect_leaders_error_response(&req, KP_ERR_NOT_CONTROLLER, NULL, &a));
	assert_int_equal(e->replica_election_results_count, 0);
	kp_arena_free(&a);
	kp_image_free(img);
}

/* ---- 4. UNCLEAN ----------------------------------------------------------------- */

static void test_unclean(void **state)
{
	static const int32_t rows[] = { 1, 2 }, p0[] = { 0 }, just2[] = { 2 };
	const struct kp_partition_change_record *c;
	kp_image *img = setup();
	struct run r;

	create(img, "w", rows, 1, 2, 0xe1);
	fence(img, 2); /* ISR [1] */
	fence(img, 1); /* leaderless, the ISR kept: [1] */
	assert_int_equal(part(img, "w", 0)->leader, KP_IMAGE_NO_LEADER);
	elect(&r, img, KP_QC_ELECTION_UNCLEAN, "w", p0, 1);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE);
	assert_string_equal(result(&r, 0, 0)->error_message,
			    "Eligible topic partition leaders are not available.");
	assert_int_equal(r.recs.n, 0);
	done(&r);

	unfence(img, 2); /* no election: 2 is not in the ISR */
	elect(&r, img, KP_QC_ELECTION_PREFERRED, "w", p0, 1);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	done(&r);
	elect(&r, img, KP_QC_ELECTION_UNCLEAN, "w", p0, 1);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_NONE);
	assert_int_equal(r.recs.n, 1);
	c = r.recs.v[0].msg;
	assert_int_equal(c->leader, 2);
	assert_int_equal(c->isr_count, 1);
	assert_int_equal(c->leader_recovery_state, KP_IMAGE_LEADER_RECOVERING);
	assert_string_equal(last_info, "controller: w-0: leader -1 -> 2 (unclean leader election, "
			    "the ISR is just it, RECOVERING)");
	done(&r);
	assert_int_equal(part(img, "w", 0)->leader, 2);
	assert_ids(&part(img, "w", 0)->isr, just2, 1);
	assert_int_equal(part(img, "w", 0)->leader_recovery_state, KP_IMAGE_LEADER_RECOVERING);
	elect(&r, img, KP_QC_ELECTION_UNCLEAN, "w", p0, 1);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_ELECTION_NOT_NEEDED);
	done(&r);

	/* an active ISR member: a clean election, the ISR kept */
	fence(img, 2); /* leaderless, the ISR kept: [2] */
	assert_int_equal(part(img, "w", 0)->leader, KP_IMAGE_NO_LEADER);
	unfence(img, 2);
	elect(&r, img, KP_QC_ELECTION_UNCLEAN, "w", p0, 1);
	assert_int_equal(result(&r, 0, 0)->error_code, KP_ERR_NONE);
	assert_int_equal(r.recs.n, 1);
	c = r.recs.v[0].msg;
	assert_int_equal(c->leader, 2);
	assert_int_equal(c->isr_count, -1);
	assert_int_equal(c->leader_recovery_state, -1); /* already RECOVERING */
	done(&r);
	assert_ids(&part(img, "w", 0)->isr, just2, 1);
	kp_image_free(img);
}

/* ---- 5. the rebalance ----------------------------------------------------------- */

static void balance(kp_image *img, size_t max, size_t want, bool want_more)
{
	struct kp_qc_recs r;
	bool more;
	kp_arena a;
	kp_error err;

	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	assert_int_equal(kp_qc_balance_leaders_records(img, max, &r, &more, &err), 0);
	assert_int_equal(r.n, want);
	assert_int_equal(more, want_more);
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(((struct kp_partition_change_record *)r.v[i].msg)->leader, 1);
	apply_all(img, &r);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
}

static void test_rebalance(void **state)
{
	static const int32_t isr[] = { 2, 3, 1 };
	kp_image *img = setup();

	balance(img, 10, 0, false); /* 1 is in no ISR */
	set_isr(img, "t", isr, 3);
	partition_change(img, "t", 1, KP_IMAGE_NO_LEADER_CHANGE, isr, 3, -1);
	balance(img, 1, 1, true);
	assert_string_equal(last_info, "controller: t-0: leader 2 -> 1 (leader rebalance to the "
			    "preferred replica)");
	balance(img, 1, 1, true); /* at the bound: Kafka checks again at once */
	balance(img, 1, 0, false);
	assert_int_equal(part(img, "t", 0)->leader, 1);
	assert_int_equal(part(img, "t", 1)->leader, 1);
	assert_int_equal(part(img, "u", 0)->leader, 2); /* its preferred replica leads */
	kp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preferred_moves_leadership_back),
		cmocka_unit_test(test_preferred_not_available_when_inactive),
		cmocka_unit_test(test_all_partitions_leave_out_not_needed),
		cmocka_unit_test(test_unknown_and_invalid),
		cmocka_unit_test(test_unclean),
		cmocka_unit_test(test_rebalance),
	};

	kp_diag_set_sink(info_sink, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
