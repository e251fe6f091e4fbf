/*
 * test_quorum_controller.c - the quorum controller's pure parts
 * (lib/controller/placement.c, fencing.c, topics_ctl.c):
 *
 * 1. Placement: Kafka's AdminUtils round-robin (the exact assignment of
 *    its test vectors), every replica distinct, leaders spread evenly;
 *    rack awareness (each partition on as many racks as possible, leaders
 *    alternating racks); INVALID_REPLICATION_FACTOR; CreatePartitions
 *    continuing the rotation.
 * 2. Elections on fencing: the fenced broker leaves every ISR, a partition
 *    it led gets the next in-sync active replica, never one outside the
 *    ISR (leader -1 and the ISR kept when none is left), except with
 *    unclean.leader.election.enable (the ISR becomes the new leader,
 *    RECOVERING); unfencing elects for leaderless partitions; the
 *    FenceBrokerRecord carries the broker epoch; records applied to the
 *    image give the expected partitions.
 * 3. CreateTopics records: TopicRecord + PartitionRecords (leader = first
 *    replica, ISR = replicas) + ConfigRecords, defaults from the config,
 *    explicit assignments, and each error (invalid name, exists, RF above
 *    the unfenced brokers, bad assignment, manual assignment with a
 *    partition count).
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
#include "qc_fixture.h"

/* ---- an image to work on ------------------------------------------------- */

static struct kp_qc_config default_cfg(void)
{
	return (struct kp_qc_config){ .num_partitions = 1, .default_replication_factor = 1,
				      .broker_session_timeout_ms = 9000,
				      .broker_heartbeat_interval_ms = 2000 };
}

/* ---- 1. placement ------------------------------------------------------------ */

static void test_round_robin_matches_kafka(void **state)
{
	/* AdminUtilsTest.testReplicaAssignment: brokers 0..4, 10 partitions, RF 3, start 0 */
	static const int32_t want[10][3] = {
		{ 0, 1, 2 }, { 1, 2, 3 }, { 2, 3, 4 }, { 3, 4, 0 }, { 4, 0, 1 },
		{ 0, 2, 3 }, { 1, 3, 4 }, { 2, 4, 0 }, { 3, 0, 1 }, { 4, 1, 2 },
	};
	struct kp_qc_usable_broker b[5];
	int32_t out[30];
	kp_error err;

	for (int i = 0; i < 5; i++)
		b[i] = (struct kp_qc_usable_broker){ i, NULL };
	assert_int_equal(kp_qc_place(b, 5, 10, 3, 0, 0, out, &err), 0);
	for (int p = 0; p < 10; p++)
		for (int r = 0; r < 3; r++)
			assert_int_equal(out[p * 3 + r], want[p][r]);
	/* CreatePartitions continues the rotation: partitions 5..9 as above */
	assert_int_equal(kp_qc_place(b, 5, 5, 3, 0, 5, out, &err), 0);
	for (int p = 0; p < 5; p++)
		for (int r = 0; r < 3; r++)
			assert_int_equal(out[p * 3 + r], want[p + 5][r]);
}

static void test_placement_spreads_leaders_and_refuses_rf(void **state)
{
	struct kp_qc_usable_broker b[4];
	int32_t out[12 * 3], leaders[4] = { 0 };
	kp_error err;

	for (int i = 0; i < 4; i++)
		b[i] = (struct kp_qc_usable_broker){ 10 + i, NULL };
	assert_int_equal(kp_qc_place(b, 4, 12, 3, 7, 0, out, &err), 0);
	for (int p = 0; p < 12; p++) {
		leaders[out[p * 3] - 10]++;
		assert_true(out[p * 3] != out[p * 3 + 1] && out[p * 3] != out[p * 3 + 2] &&
			    out[p * 3 + 1] != out[p * 3 + 2]);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(leaders[i], 3);
	assert_int_equal(kp_qc_place(b, 4, 1, 5, 0, 0, out, &err), -1);
	assert_int_equal(err.code, KP_EKAFKA);
	assert_int_equal(err.kafka_code, KP_ERR_INVALID_REPLICATION_FACTOR);
	assert_int_equal(kp_qc_place(b, 0, 1, 1, 0, 0, out, &err), -1);
	assert_int_equal(err.kafka_code, KP_ERR_INVALID_REPLICATION_FACTOR);
}

static const char *rack_of(const struct kp_qc_usable_broker *b, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].id == id)
			return b[i].rack;
	return NULL;
}

static void test_rack_aware_placement(void **state)
{
	/* AdminUtilsTest: racks 1,2,2,3,3,1 for brokers 0..5 */
	static const char *racks[6] = { "rack1", "rack2", "rack2", "rack3", "rack3", "rack1" };
	struct kp_qc_usable_broker b[6];
	int32_t out[12 * 3], leaders[6] = { 0 }, rack_leaders[3] = { 0 };
	kp_error err;

	for (int i = 0; i < 6; i++)
		b[i] = (struct kp_qc_usable_broker){ i, racks[i] };
	assert_int_equal(kp_qc_place(b, 6, 12, 3, 2, 0, out, &err), 0);
	for (int p = 0; p < 12; p++) {
		const char *r0 = rack_of(b, 6, out[p * 3]), *r1 = rack_of(b, 6, out[p * 3 + 1]);
		const char *r2 = rack_of(b, 6, out[p * 3 + 2]);

		assert_true(strcmp(r0, r1) && strcmp(r0, r2) && strcmp(r1, r2)); /* 3 racks */
		leaders[out[p * 3]]++;
		rack_leaders[r0[4] - '1']++;
	}
	for (int i = 0; i < 6; i++)
		assert_int_equal(leaders[i], 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rack_leaders[i], 4);
	/* RF 2 on two racks of unequal size: always both racks */
	assert_int_equal(kp_qc_place(b, 3, 6, 2, 0, 0, out, &err), 0); /* brokers 0,1,2 */
	for (int p = 0; p < 6; p++)
		assert_string_not_equal(rack_of(b, 3, out[p * 2]), rack_of(b, 3, out[p * 2 + 1]));
	/* some brokers with a rack, some without */
	b[2].rack = NULL;
	assert_int_equal(kp_qc_place(b, 6, 1, 3, 0, 0, out, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
}

/* ---- 2. elections ---------------------------------------------------------------- */

static const struct kp_image_partition *part(const kp_image *img, const char *topic, int32_t i)
{
	const struct kp_image_topic *t = kp_image_topic_by_name(img, topic);

	assert_non_null(t);
	return kp_image_topic_partition(t, i);
}

/* records - generate with fn-like arguments into a fresh list; apply; return the count. */
static size_t updates(kp_image *img, int32_t remove, int32_t add, bool unclean, bool fence)
{
	struct kp_qc_recs r;
	kp_arena a;
	kp_error err;
	size_t n;

	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	if (fence)
		assert_int_equal(kp_qc_fence_records(img, remove, unclean, &r, &err), 0);
	else
		assert_int_equal(kp_qc_leader_and_isr_updates(img, remove, add, unclean, &r, &err), 0);
	if (fence) {
		const struct kp_fence_broker_record *f = r.v[r.n - 1].msg;

		assert_int_equal(r.v[r.n - 1].type, KP_METADATA_FENCE_BROKER_RECORD);
		assert_int_equal(f->id, remove);
		assert_int_equal(f->epoch, kp_image_broker(img, remove)->epoch);
	}
	apply_all(img, &r);
	n = r.n;
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	return n;
}

static void test_fence_moves_leaders_within_isr(void **state)
{
	static const int32_t a[] = { 1, 2, 3, 2, 3, 1, 3, 1, 2 }, s[] = { 1 }, u[] = { 1, 4 };
	kp_image *img = kp_image_new();

	next_offset = 0;
	add_broker(img, 1, NULL, false);
	add_broker(img, 2, NULL, false);
	add_broker(img, 3, NULL, false);
	add_broker(img, 4, NULL, true);
	create(img, "a", a, 3, 3, 0);
	create(img, "s", s, 1, 1, 0);
	create(img, "u", u, 1, 2, 0);
	assert_ids(&part(img, "u", 0)->isr, (int32_t[]){ 1 }, 1); /* 4 is fenced: not in sync */
	assert_false(kp_qc_broker_active(img, 4));
	assert_true(kp_qc_broker_leads_movable(img, 1));
	/* fence 1: 5 partition changes and the FenceBrokerRecord */
	assert_int_equal(updates(img, 1, -1, false, true), 6);
	assert_true(kp_image_broker(img, 1)->fenced);
	assert_int_equal(part(img, "a", 0)->leader, 2);
	assert_ids(&part(img, "a", 0)->isr, (int32_t[]){ 2, 3 }, 2);
	assert_int_equal(part(img, "a", 0)->leader_epoch, 1);
	assert_int_equal(part(img, "a", 1)->leader, 2);     /* unchanged: no epoch bump */
	assert_int_equal(part(img, "a", 1)->leader_epoch, 0);
	assert_ids(&part(img, "a", 1)->isr, (int32_t[]){ 2, 3 }, 2);
	assert_int_equal(part(img, "a", 2)->leader, 3);
	assert_ids(&part(img, "a", 2)->isr, (int32_t[]){ 3, 2 }, 2);
	/* no in-sync replica left: no leader, the ISR keeps its last member */
	assert_int_equal(part(img, "s", 0)->leader, KP_IMAGE_NO_LEADER);
	assert_ids(&part(img, "s", 0)->isr, (int32_t[]){ 1 }, 1);
	assert_int_equal(part(img, "u", 0)->leader, KP_IMAGE_NO_LEADER); /* 4 is out of the ISR */
	assert_false(kp_qc_broker_leads_movable(img, 1));
	/* fencing again changes no partition */
	assert_int_equal(updates(img, 1, -1, false, false), 0);
	/* unfencing 1 elects it where nobody leads */
	assert_int_equal(updates(img, -1, 1, false, false), 2);
	assert_int_equal(part(img, "s", 0)->leader, 1);
	assert_int_equal(part(img, "u", 0)->leader, 1);
	assert_int_equal(part(img, "a", 0)->leader, 2); /* led partitions stay */
	kp_image_free(img);
}

static void test_unclean_election_only_when_enabled(void **state)
{
	static const int32_t u[] = { 1, 4 };
	kp_image *img = kp_image_new();
	kp_error err;

	next_offset = 0;
	add_broker(img, 1, NULL, false);
	add_broker(img, 4, NULL, true);
	create(img, "u", u, 1, 2, 0);
	unfence(img, 4);
	assert_ids(&part(img, "u", 0)->isr, (int32_t[]){ 1 }, 1);
	/* 4 is active but not in sync: a clean election leaves no leader */
	{
		struct kp_qc_recs r;
		kp_arena a;

		kp_arena_init(&a);
		kp_qc_recs_init(&r, &a);
		assert_int_equal(kp_qc_leader_and_isr_updates(img, 1, -1, false, &r, &err), 0);
		assert_int_equal(r.n, 1);
		assert_int_equal(((struct kp_partition_change_record *)r.v[0].msg)->leader,
				 KP_IMAGE_NO_LEADER);
		kp_qc_recs_free(&r);
		kp_arena_free(&a);
	}
	/* unclean.leader.election.enable: 4 leads, the ISR is just it, RECOVERING */
	assert_int_equal(updates(img, 1, -1, true, true), 2);
	assert_int_equal(part(img, "u", 0)->leader, 4);
	assert_ids(&part(img, "u", 0)->isr, (int32_t[]){ 4 }, 1);
	assert_int_equal(part(img, "u", 0)->leader_recovery_state, KP_IMAGE_LEADER_RECOVERING);
	kp_image_free(img);
}

/* ---- 3. CreateTopics records ------------------------------------------------- */

/* try_create - kp_qc_create_topic_records of `t`; the Kafka error code (0: ok, r filled). */
static int try_create(kp_image *img, const struct kp_qc_new_topic *t, struct kp_qc_recs *r)
{
	struct kp_qc_config cfg = default_cfg();
	kp_uuid id = { { 9, 9 } };
	kp_error err;
	int32_t np;
	int16_t rf;

	cfg.num_partitions = 2;
	cfg.default_replication_factor = 2;
	if (kp_qc_create_topic_records(img, &cfg, t, &id, 1, r, &np, &rf, &err) == 0)
		return 0;
	assert_int_equal(err.code, KP_EKAFKA);
	return err.kafka_code;
}

static void test_create_topic_records(void **state)
{
	const char *names[2] = { "retention.ms", "segment.ms" }, *values[2] = { "1000", NULL };
	struct kp_qc_new_topic t = { .name = "t", .num_partitions = -1, .replication_factor = -1,
				     .config_names = names, .config_values = values,
				     .config_count = 2 };
	kp_image *img = kp_image_new();
	struct kp_qc_recs r;
	kp_arena a;

	next_offset = 0;
	for (int32_t i = 1; i <= 4; i++)
		add_broker(img, i, NULL, i == 4);
	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	assert_int_equal(try_create(img, &t, &r), 0);
	assert_int_equal(r.n, 4); /* TopicRecord, 2 PartitionRecords, 1 ConfigRecord */
	assert_int_equal(r.v[0].type, KP_METADATA_TOPIC_RECORD);
	assert_string_equal(((struct kp_topic_record *)r.v[0].msg)->name, "t");
	for (int i = 1; i <= 2; i++) {
		const struct kp_partition_record *p = r.v[i].msg;

		assert_int_equal(r.v[i].type, KP_METADATA_PARTITION_RECORD);
		assert_int_equal(p->partition_id, i - 1);
		assert_int_equal(p->replicas_count, 2);
		assert_int_equal(p->leader, p->replicas[0]);
		assert_int_equal(p->isr_count, 2);
		for (int j = 0; j < 2; j++)
			assert_true(p->replicas[j] != 4 && p->isr[j] == p->replicas[j]);
	}
	assert_int_equal(r.v[3].type, KP_METADATA_CONFIG_RECORD);
	assert_string_equal(((struct kp_config_record *)r.v[3].msg)->value, "1000");
	apply_all(img, &r);
	assert_string_equal(kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, "t", "retention.ms"),
			    "1000");
	r.n = 0;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_TOPIC_ALREADY_EXISTS);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	kp_image_free(img);
}

static void test_create_topic_errors(void **state)
{
	static const int32_t unknown[] = { 1, 9 }, dup[] = { 2, 2 }, fenced[] = { 4 };
	static const int32_t good[] = { 3, 1, 1, 2 };
	char long_name[260];
	kp_image *img = kp_image_new();
	struct kp_qc_new_topic t = { .num_partitions = -1, .replication_factor = -1 };
	struct kp_qc_recs r;
	kp_arena a;

	next_offset = 0;
	for (int32_t i = 1; i <= 4; i++)
		add_broker(img, i, NULL, i == 4);
	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	memset(long_name, 'x', 250);
	long_name[250] = '\0';
	const char *bad[] = { "", ".", "..", "a/b", "sp ace", long_name };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.name = bad[i];
		assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_TOPIC_EXCEPTION);
	}
	t.name = "ok";
	t.replication_factor = 4; /* three unfenced brokers */
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_REPLICATION_FACTOR);
	t.replication_factor = 0;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_REPLICATION_FACTOR);
	t.replication_factor = -1;
	t.num_partitions = 0;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_PARTITIONS);
	t.num_partitions = -1;
	t.assigned_partitions = 1;
	t.assigned_rf = 2;
	t.assignment = unknown;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	t.assignment = dup;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	t.assignment = fenced;
	t.assigned_rf = 1;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	t.assignment = good;
	t.assigned_partitions = 2;
	t.assigned_rf = 2;
	t.num_partitions = 2;
	assert_int_equal(try_create(img, &t, &r), KP_ERR_INVALID_REQUEST);
	t.num_partitions = -1;
	assert_int_equal(r.n, 0);
	assert_int_equal(try_create(img, &t, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(((struct kp_partition_record *)r.v[2].msg)->leader, 1);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	kp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin_matches_kafka),
		cmocka_unit_test(test_placement_spreads_leaders_and_refuses_rf),
		cmocka_unit_test(test_rack_aware_placement),
		cmocka_unit_test(test_fence_moves_leaders_within_isr),
		cmocka_unit_test(test_unclean_election_only_when_enabled),
		cmocka_unit_test(test_create_topic_records),
		cmocka_unit_test(test_create_topic_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
