/*
 * test_alter_partition.c - AlterPartition on the quorum controller
 * (lib/controller/alter_partition.c), as Kafka's
 * ReplicationControlManager.alterPartition: records generated against an
 * image, applied as the committed batch would be, and the answer built
 * from the image after it.
 *
 * 1. A shrink is accepted: one PartitionChangeRecord, the partition epoch
 *    bumped, the leader epoch not (metadata.version >= 3.6-IV0), the
 *    answer carrying the new ISR and epochs; the same ISR again writes
 *    nothing and answers the current state; an expansion back; v0 by name.
 * 2. Before metadata.version 3.6-IV0 a shrink also bumps the leader epoch
 *    (KAFKA-15021), an expansion does not.
 * 3. Errors: a fenced or shutting-down broker in the new ISR
 *    INELIGIBLE_REPLICA (OPERATION_NOT_ATTEMPTED before v2); stale
 *    partition epoch INVALID_UPDATE_VERSION; epochs ahead NOT_CONTROLLER;
 *    stale leader epoch FENCED_LEADER_EPOCH; a requester that is not the
 *    leader INVALID_REQUEST; a stale or unknown broker epoch
 *    STALE_BROKER_EPOCH at the top (no topics); unknown topic id
 *    UNKNOWN_TOPIC_ID (v2+), unknown name or partition
 *    UNKNOWN_TOPIC_OR_PARTITION; invalid ISRs INVALID_REQUEST; v3 broker
 *    epochs that do not match INELIGIBLE_REPLICA (-1 skips the check).
 * 4. Leader recovery (KIP-704): RECOVERING -> RECOVERED with the ISR
 *    expanding is one record; RECOVERING with more than the leader, or
 *    RECOVERED -> RECOVERING, INVALID_REQUEST.
 * Each change is logged at INFO ("controller: t-0: ISR [1,2,3] -> [1,2] ...").
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

/* the image every test starts from: brokers 1-3 unfenced, 4 fenced; t [1,2,3], u [1,2,4] */
static kp_image *setup(void)
{
	static const int32_t t[] = { 1, 2, 3 }, u[] = { 1, 2, 4 };
	kp_image *img = kp_image_new();

	next_offset = 0;
	for (int32_t i = 1; i <= 4; i++)
		add_broker(img, i, NULL, i == 4);
	create(img, "t", t, 1, 3, 0x5a);
	create(img, "u", u, 1, 3, 0x5a);
	return img;
}

static const struct kp_image_partition *part(const kp_image *img, const char *topic)
{
	const struct kp_image_topic *t = kp_image_topic_by_name(img, topic);

	assert_non_null(t);
	return kp_image_topic_partition(t, 0);
}

static int64_t epoch_of(const kp_image *img, int32_t id)
{
	return kp_image_broker(img, id)->epoch;
}

/* ---- one AlterPartition ----------------------------------------------------- */

/* One partition of one AlterPartition request. */
struct call {
	int16_t version;
	int32_t broker;                 /* the requester (its registered epoch is sent) */
	const char *topic;              /* the topic: by name (v0-1) or its id (v2+) */
	int32_t partition;
	int32_t leader_epoch, partition_epoch;
	const int32_t *isr;
	int32_t n;
	const int64_t *epochs;          /* v3: each member's broker epoch; NULL: registered ones */
	int8_t lrs;
};

/* What came of it. */
struct outcome {
	int16_t top;                    /* the response's error_code */
	int16_t error;                  /* the partition's */
	size_t records;                 /* PartitionChangeRecords written */
	int32_t leader, leader_epoch, partition_epoch;
	int8_t lrs;
	int32_t isr[8], isr_count;
};

/* build - the request of `c` (its arrays in `a`). */
static void build(const kp_image *img, const struct call *c, kp_arena *a,
		  struct kp_alter_partition_request *req)
{
	struct kp_alter_partition_request_topic_data *td =
		kp_alter_partition_request_topic_data_new(a, 1);
	struct kp_alter_partition_request_partition_data *pd =
		kp_alter_partition_request_partition_data_new(a, 1);
	const struct kp_image_topic *t = kp_image_topic_by_name(img, c->topic);

	kp_alter_partition_request_init(req);
	req->broker_id = c->broker;
	req->broker_epoch = kp_image_broker(img, c->broker) ? epoch_of(img, c->broker) : 7;
	req->topics = td;
	req->topics_count = 1;
	td->topic_name = (char *)c->topic;
	if (t)
		td->topic_id = t->id;
	else
		td->topic_id.b[3] = 0x77; /* an id nobody has */
	td->partitions = pd;
	td->partitions_count = 1;
	pd->partition_index = c->partition;
	pd->leader_epoch = c->leader_epoch;
	pd->partition_epoch = c->partition_epoch;
	pd->leader_recovery_state = c->lrs;
	if (c->version < 3) {
		pd->new_isr = (int32_t *)c->isr;
		pd->new_isr_count = c->n;
		return;
	}
	pd->new_isr_with_epochs = kp_alter_partition_request_broker_state_new(a, (size_t)c->n);
	pd->new_isr_with_epochs_count = c->n;
	for (int32_t i = 0; i < c->n; i++) {
		pd->new_isr_with_epochs[i].broker_id = c->isr[i];
		pd->new_isr_with_epochs[i].broker_epoch =
			c->epochs ? c->epochs[i]
				  : kp_image_broker(img, c->isr[i]) ? epoch_of(img, c->isr[i]) : -1;
	}
}

/* answer - the outcome of the response (one partition, or a top-level error). */
static void answer(const struct kp_alter_partition_response *resp, struct outcome *o)
{
	const struct kp_alter_partition_response_partition_data *p;

	o->top = resp->error_code;
	if (o->top) {
		assert_int_equal(resp->topics_count, 0);
		return;
	}
	assert_int_equal(resp->topics_count, 1);
	assert_int_equal(resp->topics[0].partitions_count, 1);
	p = &resp->topics[0].partitions[0];
	o->error = p->error_code;
	o->leader = p->leader_id;
	o->leader_epoch = p->leader_epoch;
	o->partition_epoch = p->partition_epoch;
	o->lrs = p->leader_recovery_state;
	o->isr_count = p->isr_count;
	assert_true(p->isr_count <= 8);
	for (int32_t i = 0; i < p->isr_count; i++)
		o->isr[i] = p->isr[i];
}

/* alter - run `c` against `img`: records, applied (as committed), the answer from the image. */
static struct outcome alter(kp_image *img, const struct call *c)
{
	struct kp_alter_partition_request req;
	struct outcome o = { 0 };
	struct kp_qc_recs r;
	int16_t top, errors[1] = { -1 };
	kp_arena a;
	kp_error err;

	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	build(img, c, &a, &req);
	assert_int_equal(kp_qc_alter_partition_records(img, &req, c->version, &top, errors, &r, &err),
			 0);
	for (size_t i = 0; i < r.n; i++) {
		assert_int_equal(r.v[i].type, KP_METADATA_PARTITION_CHANGE_RECORD);
		apply_one(img, r.v[i].type, r.v[i].msg);
	}
	o.records = r.n;
	answer(kp_qc_alter_partition_response(img, &req, c->version, top, errors, &a), &o);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	return o;
}

static void assert_isr(const int32_t *got, int32_t n, const int32_t *want, int32_t wn)
{
	assert_int_equal(n, wn);
	for (int32_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/* ---- 1. accepted changes ------------------------------------------------------ */

static void test_shrink_accepted_and_epoch_bumped(void **state)
{
	static const int32_t two[] = { 1, 2 }, three[] = { 1, 2, 3 };
	kp_image *img = setup();
	struct call c = { .version = 2, .broker = 1, .topic = "t", .isr = two, .n = 2 };
	struct outcome o = alter(img, &c);

	assert_int_equal(o.top, 0);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.records, 1);
	assert_int_equal(o.leader, 1);
	assert_int_equal(o.leader_epoch, 0); /* metadata.version >= 3.6-IV0: no bump */
	assert_int_equal(o.partition_epoch, 1);
	assert_int_equal(o.lrs, KP_IMAGE_LEADER_RECOVERED);
	assert_isr(o.isr, o.isr_count, two, 2);
	assert_isr(part(img, "t")->isr.ids, part(img, "t")->isr.count, two, 2);
	assert_int_equal(part(img, "t")->partition_epoch, 1);
	assert_string_equal(last_info, "controller: t-0: ISR [1,2,3] -> [1,2] (AlterPartition "
			    "from broker 1)");
	/* the same ISR again: nothing written, the current state answered */
	c.partition_epoch = 1;
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.records, 0);
	assert_int_equal(o.partition_epoch, 1);
	assert_isr(o.isr, o.isr_count, two, 2);
	/* expanding back, v0 by name */
	c = (struct call){ .version = 0, .broker = 1, .topic = "t", .partition_epoch = 1,
			   .isr = three, .n = 3 };
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.records, 1);
	assert_int_equal(o.partition_epoch, 2);
	assert_int_equal(o.leader_epoch, 0);
	assert_isr(o.isr, o.isr_count, three, 3);
	/* another order is another ISR (lists are compared, as PartitionChangeBuilder does) */
	c = (struct call){ .version = 2, .broker = 1, .topic = "t", .partition_epoch = 2,
			   .isr = (const int32_t[]){ 3, 2, 1 }, .n = 3 };
	o = alter(img, &c);
	assert_int_equal(o.records, 1);
	assert_isr(o.isr, o.isr_count, (const int32_t[]){ 3, 2, 1 }, 3);
	kp_image_free(img);
}

static void test_old_metadata_version_bumps_leader_epoch_on_shrink(void **state)
{
	static const int32_t two[] = { 1, 2 }, three[] = { 1, 2, 3 };
	struct kp_feature_level_record f = { .name = (char *)KP_METADATA_VERSION_FEATURE,
					     .feature_level = 11 }; /* 3.5-IV2 */
	kp_image *img = setup();
	struct call c = { .version = 2, .broker = 1, .topic = "t", .isr = two, .n = 2 };
	struct outcome o;

	apply_one(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f);
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.leader, 1);
	assert_int_equal(o.leader_epoch, 1);
	assert_int_equal(o.partition_epoch, 1);
	c = (struct call){ .version = 2, .broker = 1, .topic = "t", .leader_epoch = 1,
			   .partition_epoch = 1, .isr = three, .n = 3 };
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.leader_epoch, 1); /* an expansion never bumps it */
	assert_int_equal(o.partition_epoch, 2);
	kp_image_free(img);
}

/* ---- 3. errors ----------------------------------------------------------------- */

static void test_expand_with_fenced_broker_is_ineligible(void **state)
{
	static const int32_t all[] = { 1, 2, 4 };
	struct kp_broker_registration_change_record cs = { .broker_id = 3, .fenced = 0,
							   .in_controlled_shutdown = 1 };
	kp_image *img = setup();
	struct call c = { .version = 2, .broker = 1, .topic = "u", .isr = all, .n = 3 };
	struct outcome o;

	assert_isr(part(img, "u")->isr.ids, part(img, "u")->isr.count, all, 2);
	o = alter(img, &c);
	assert_int_equal(o.top, 0);
	assert_int_equal(o.error, KP_ERR_INELIGIBLE_REPLICA);
	assert_int_equal(o.records, 0);
	assert_int_equal(o.isr_count, 0);
	c.version = 1; /* KIP-841: versions before 2 do not know INELIGIBLE_REPLICA */
	assert_int_equal(alter(img, &c).error, KP_ERR_OPERATION_NOT_ATTEMPTED);
	c.version = 3;
	assert_int_equal(alter(img, &c).error, KP_ERR_INELIGIBLE_REPLICA);
	assert_int_equal(part(img, "u")->partition_epoch, 0);
	/* a broker in controlled shutdown is not eligible either */
	cs.broker_epoch = epoch_of(img, 3);
	apply_one(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &cs);
	c = (struct call){ .version = 2, .broker = 1, .topic = "t",
			   .isr = (const int32_t[]){ 1, 2, 3 }, .n = 3 };
	assert_int_equal(alter(img, &c).error, KP_ERR_INELIGIBLE_REPLICA);
	kp_image_free(img);
}

static void test_epoch_checks(void **state)
{
	static const int32_t two[] = { 1, 2 };
	kp_image *img = setup();
	struct call c = { .version = 2, .broker = 1, .topic = "t", .isr = two, .n = 2 };
	struct outcome o;

	assert_int_equal(alter(img, &c).error, 0); /* partition epoch 0 -> 1 */
	c.isr = (const int32_t[]){ 1 };
	c.n = 1;
	o = alter(img, &c); /* partition epoch 0 is stale */
	assert_int_equal(o.error, KP_ERR_INVALID_UPDATE_VERSION);
	assert_int_equal(o.records, 0);
	assert_int_equal(o.partition_epoch, 0); /* an error carries no state */
	c.partition_epoch = 2; /* ahead of ours: we are likely no longer the controller */
	assert_int_equal(alter(img, &c).error, KP_ERR_NOT_CONTROLLER);
	c.partition_epoch = 1;
	c.leader_epoch = 1;
	assert_int_equal(alter(img, &c).error, KP_ERR_NOT_CONTROLLER);
	/* a new leader epoch (same leader): the old one is fenced */
	partition_change(img, "t", 0, 1, NULL, 0, -1);
	c.leader_epoch = 0;
	c.partition_epoch = 2;
	assert_int_equal(alter(img, &c).error, KP_ERR_FENCED_LEADER_EPOCH);
	c.leader_epoch = 1;
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.leader_epoch, 1);
	assert_int_equal(o.partition_epoch, 3);
	assert_isr(o.isr, o.isr_count, (const int32_t[]){ 1 }, 1);
	kp_image_free(img);
}

static void test_stale_broker_epoch(void **state)
{
	static const int32_t two[] = { 1, 2 };
	kp_image *img = setup();
	struct kp_alter_partition_request req;
	struct call c = { .version = 2, .broker = 1, .topic = "t", .isr = two, .n = 2 };
	struct kp_qc_recs r;
	int16_t top, errors[1];
	kp_arena a;
	kp_error err;
	struct outcome o;

	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	build(img, &c, &a, &req);
	req.broker_epoch--;
	assert_int_equal(kp_qc_alter_partition_records(img, &req, 2, &top, errors, &r, &err), 0);
	assert_int_equal(top, KP_ERR_STALE_BROKER_EPOCH);
	assert_int_equal(r.n, 0);
	answer(kp_qc_alter_partition_response(img, &req, 2, top, errors, &a), &o);
	assert_int_equal(o.top, KP_ERR_STALE_BROKER_EPOCH);
	req.topics_count = 0; /* an empty request is answered at once, unchecked */
	assert_int_equal(kp_qc_alter_partition_records(img, &req, 2, &top, errors, &r, &err), 0);
	assert_int_equal(top, 0);
	assert_int_equal(kp_qc_alter_partition_response(img, &req, 2, top, errors, &a)->topics_count,
			 0);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	c.broker = 9; /* not registered */
	assert_int_equal(alter(img, &c).top, KP_ERR_STALE_BROKER_EPOCH);
	assert_int_equal(part(img, "t")->partition_epoch, 0);
	kp_image_free(img);
}

static void test_requester_not_leader(void **state)
{
	kp_image *img = setup();
	struct call c = { .version = 2, .broker = 2, .topic = "t",
			  .isr = (const int32_t[]){ 2, 3 }, .n = 2 };
	struct outcome o = alter(img, &c);

	assert_int_equal(o.top, 0);
	assert_int_equal(o.error, KP_ERR_INVALID_REQUEST);
	assert_int_equal(o.records, 0);
	kp_image_free(img);
}

static void test_unknown_topic_and_partition(void **state)
{
	static const int32_t two[] = { 1, 2 };
	kp_image *img = setup();
	struct call c = { .version = 2, .broker = 1, .topic = "nope", .isr = two, .n = 2 };

	assert_int_equal(alter(img, &c).error, KP_ERR_UNKNOWN_TOPIC_ID);
	c.version = 3;
	assert_int_equal(alter(img, &c).error, KP_ERR_UNKNOWN_TOPIC_ID);
	c.version = 1;
	assert_int_equal(alter(img, &c).error, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	c.topic = "t";
	c.partition = 1;
	assert_int_equal(alter(img, &c).error, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	c.version = 2;
	assert_int_equal(alter(img, &c).error, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	c.partition = -1;
	assert_int_equal(alter(img, &c).error, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	kp_image_free(img);
}

static void test_invalid_isr(void **state)
{
	static const int32_t isrs[][3] = {
		{ 2, 3 },    /* without the leader */
		{ 1, 4 },    /* 4 is no replica of t */
		{ 1, 2, 2 }, /* a duplicate */
		{ 1, -1 },   /* a negative id */
		{ 0 },       /* empty */
	};
	static const int32_t lens[] = { 2, 2, 3, 2, 0 };
	kp_image *img = setup();

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int16_t v = 0; v <= 3; v++) {
			struct call c = { .version = v, .broker = 1, .topic = "t", .isr = isrs[i],
					  .n = lens[i], .epochs = (const int64_t[]){ -1, -1, -1 } };
			struct outcome o = alter(img, &c);

			assert_int_equal(o.error, KP_ERR_INVALID_REQUEST);
			assert_int_equal(o.records, 0);
		}
	}
	kp_image_free(img);
}

static void test_v3_broker_epochs(void **state)
{
	static const int32_t two[] = { 1, 2 };
	kp_image *img = setup();
	int64_t epochs[2] = { epoch_of(img, 1), epoch_of(img, 2) + 1 };
	struct call c = { .version = 3, .broker = 1, .topic = "t", .isr = two, .n = 2,
			  .epochs = epochs };
	struct outcome o = alter(img, &c);

	assert_int_equal(o.error, KP_ERR_INELIGIBLE_REPLICA); /* 2 restarted meanwhile */
	assert_int_equal(o.records, 0);
	epochs[0] = epoch_of(img, 1) + 5; /* the leader's own epoch is checked too */
	epochs[1] = epoch_of(img, 2);
	assert_int_equal(alter(img, &c).error, KP_ERR_INELIGIBLE_REPLICA);
	epochs[0] = -1; /* -1: not checked */
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.records, 1);
	assert_int_equal(o.partition_epoch, 1);
	assert_isr(o.isr, o.isr_count, two, 2);
	kp_image_free(img);
}

/* ---- 4. leader recovery ------------------------------------------------------- */

static void test_leader_recovery(void **state)
{
	static const int32_t one[] = { 1 }, two[] = { 1, 2 };
	kp_image *img = setup();
	struct call c = { .version = 1, .broker = 1, .topic = "t", .isr = two, .n = 2,
			  .lrs = KP_IMAGE_LEADER_RECOVERING };
	struct outcome o;

	/* RECOVERED -> RECOVERING is refused */
	c.isr = one;
	c.n = 1;
	assert_int_equal(alter(img, &c).error, KP_ERR_INVALID_REQUEST);
	c.lrs = 2;
	assert_int_equal(alter(img, &c).error, KP_ERR_INVALID_REQUEST);
	/* as after an unclean election: ISR [1], RECOVERING */
	partition_change(img, "t", 0, KP_IMAGE_NO_LEADER_CHANGE, one, 1,
			 KP_IMAGE_LEADER_RECOVERING);
	c = (struct call){ .version = 1, .broker = 1, .topic = "t", .partition_epoch = 1,
			   .isr = two, .n = 2, .lrs = KP_IMAGE_LEADER_RECOVERING };
	assert_int_equal(alter(img, &c).error, KP_ERR_INVALID_REQUEST); /* more than the leader */
	c.lrs = KP_IMAGE_LEADER_RECOVERED;
	o = alter(img, &c);
	assert_int_equal(o.error, 0);
	assert_int_equal(o.records, 1);
	assert_int_equal(o.lrs, KP_IMAGE_LEADER_RECOVERED);
	assert_int_equal(o.partition_epoch, 2);
	assert_isr(o.isr, o.isr_count, two, 2);
	assert_int_equal(part(img, "t")->leader_recovery_state, KP_IMAGE_LEADER_RECOVERED);
	assert_string_equal(last_info, "controller: t-0: ISR [1] -> [1,2], leader recovery state "
			    "RECOVERING -> RECOVERED (AlterPartition from broker 1)");
	kp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrink_accepted_and_epoch_bumped),
		cmocka_unit_test(test_old_metadata_version_bumps_leader_epoch_on_shrink),
		cmocka_unit_test(test_expand_with_fenced_broker_is_ineligible),
		cmocka_unit_test(test_epoch_checks),
		cmocka_unit_test(test_stale_broker_epoch),
		cmocka_unit_test(test_requester_not_leader),
		cmocka_unit_test(test_unknown_topic_and_partition),
		cmocka_unit_test(test_invalid_isr),
		cmocka_unit_test(test_v3_broker_epochs),
		cmocka_unit_test(test_leader_recovery),
	};

	kp_diag_set_sink(info_sink, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
