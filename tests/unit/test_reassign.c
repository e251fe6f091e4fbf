/*
 * test_reassign.c - partition reassignment on the quorum controller
 * (lib/controller/reassign.c and its completion in alter_partition.c), as
 * Kafka's ReplicationControlManager.alterPartitionReassignments with
 * PartitionReassignmentReplicas, PartitionReassignmentRevert and
 * PartitionChangeBuilder: records generated against an image and applied
 * as the committed batch would be.
 *
 * 1. [1,2] -> [2,3]: one record, replicas [2,3,1], adding [3], removing
 *    [1], ISR and leader unchanged; ListPartitionReassignments shows it
 *    (all topics, or named partitions; unknown ones skipped). An
 *    AlterPartition from leader 1 for ISR [1,2,3] completes it:
 *    replicas [2,3], ISR [2,3], adding and removing empty, leader 2 (a new
 *    leader epoch), answered NEW_LEADER_ELECTED (FENCED_LEADER_EPOCH
 *    before v2); the list is empty after.
 * 2. An ISR that does not yet hold every adding replica does not complete.
 * 3. The leader stays when kept: [1,2] -> [1,3] completes with replicas
 *    [1,3], ISR [1,3], leader 1 in a new leader epoch, answered with the
 *    new state.
 * 4. A target the ISR already covers completes in the start's record
 *    ([1,2,3] -> [3,2]: replicas [3,2], ISR [2,3], leader 3); a reorder
 *    only changes the replicas; the same replicas again write nothing.
 * 5. Cancel: back to the replicas without the adding ones, adding and
 *    removing cleared, a new leader epoch; an ISR of adding replicas only
 *    reverts only with unclean election (ISR the first replica,
 *    RECOVERING), else INVALID_REPLICA_ASSIGNMENT.
 * 6. Errors: unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION; an
 *    empty target, a duplicate or an unregistered broker
 *    INVALID_REPLICA_ASSIGNMENT; a cancel with nothing in progress
 *    NO_REASSIGNMENT_IN_PROGRESS; a changed replication factor when not
 *    allowed (KIP-860) INVALID_REPLICATION_FACTOR. No record for any.
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
#include "controller/reassign.h"
#include "metadata/image.h"
#include "protocol/errors.h"
#include "util/diag.h"
#include "qc_fixture.h"

static void sink(int level, const char *line, void *opaque)
{
}

/* ---- an image to work on ------------------------------------------------- */

/* setup - brokers 1-4 unfenced and topic "t" on `row` (rf of them). */
static kp_image *setup(const int32_t *row, int32_t rf)
{
	kp_image *img = kp_image_new();

	next_offset = 0;
	for (int32_t i = 1; i <= 4; i++)
		add_broker(img, i, NULL, false);
	create(img, "t", row, 1, (int16_t)rf, 0x5a);
	return img;
}

static const struct kp_image_partition *part(const kp_image *img)
{
	return kp_image_topic_partition(kp_image_topic_by_name(img, "t"), 0);
}

#define IDS(...) ((const int32_t[]){ __VA_ARGS__ }), \
	(int32_t)(sizeof((const int32_t[]){ __VA_ARGS__ }) / sizeof(int32_t))

/* ---- running a reassignment and an AlterPartition ----------------------------------- */

/*
 * reassign - kp_qc_reassign_records for t-`partition` (tgt NULL: cancel),
 * its records applied; the Kafka error (0 if none), the record count to *records.
 */
static int reassign_ex(kp_image *img, const char *topic, int32_t partition, const int32_t *tgt,
		       int32_t n, bool allow_rf, bool unclean, size_t *records)
{
	struct kp_qc_recs r;
	kp_arena a;
	kp_error err;
	int code = 0;

	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	if (kp_qc_reassign_records(img, topic, partition, tgt, n, allow_rf, unclean, &r, &err) < 0) {
		assert_int_equal(err.code, KP_EKAFKA);
		code = err.kafka_code;
		assert_int_equal(r.n, 0);
	}
	for (size_t i = 0; i < r.n; i++) {
		assert_int_equal(r.v[i].type, KP_METADATA_PARTITION_CHANGE_RECORD);
		apply_one(img, r.v[i].type, r.v[i].msg);
	}
	*records = r.n;
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	return code;
}

static size_t reassign(kp_image *img, const int32_t *tgt, int32_t n)
{
	size_t records;

	assert_int_equal(reassign_ex(img, "t", 0, tgt, n, true, false, &records), 0);
	return records;
}

/* What an AlterPartition of t-0 came to. */
struct outcome {
	int16_t error;
	size_t records;
	int32_t leader;
	int32_t isr[8], isr_count;
};

/* alter - leader `broker` asks for ISR isr[n] on t-0 (AlterPartition `version`), applied. */
static struct outcome alter(kp_image *img, int16_t version, int32_t broker, const int32_t *isr,
			    int32_t n)
{
	const struct kp_image_partition *p = part(img);
	const struct kp_image_topic *t = kp_image_topic_by_name(img, "t");
	struct kp_alter_partition_request req;
	struct kp_alter_partition_request_topic_data td;
	struct kp_alter_partition_request_partition_data pd;
	struct kp_alter_partition_request_broker_state bs[8];
	struct kp_alter_partition_response *resp;
	struct outcome o = { 0 };
	struct kp_qc_recs r;
	int16_t top, errors[1];
	kp_arena a;
	kp_error err;

	kp_alter_partition_request_init(&req);
	kp_alter_partition_request_topic_data_init(&td);
	kp_alter_partition_request_partition_data_init(&pd);
	req.broker_id = broker;
	req.broker_epoch = kp_image_broker(img, broker)->epoch;
	req.topics = &td;
	req.topics_count = 1;
	td.topic_name = "t";
	td.topic_id = t->id;
	td.partitions = &pd;
	td.partitions_count = 1;
	pd.leader_epoch = p->leader_epoch;
	pd.partition_epoch = p->partition_epoch;
	pd.new_isr = (int32_t *)isr;
	pd.new_isr_count = n;
	for (int32_t i = 0; i < n; i++)
		bs[i] = (struct kp_alter_partition_request_broker_state){ isr[i], -1 };
	pd.new_isr_with_epochs = bs;
	pd.new_isr_with_epochs_count = n;
	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	assert_int_equal(kp_qc_alter_partition_records(img, &req, version, &top, errors, &r, &err), 0);
	assert_int_equal(top, 0);
	for (size_t i = 0; i < r.n; i++)
		apply_one(img, r.v[i].type, r.v[i].msg);
	o.records = r.n;
	resp = kp_qc_alter_partition_response(img, &req, version, top, errors, &a);
	assert_non_null(resp);
	o.error = resp->topics[0].partitions[0].error_code;
	o.leader = resp->topics[0].partitions[0].leader_id;
	o.isr_count = resp->topics[0].partitions[0].isr_count;
	for (int32_t i = 0; i < o.isr_count && i < 8; i++)
		o.isr[i] = resp->topics[0].partitions[0].isr[i];
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	return o;
}

/* list - ListPartitionReassignments (topics NULL: all) as "t-0:[2,3,1]+[3]-[1];..." */
static void list(const kp_image *img, const char *const *names, const int32_t *const *idx,
		 const int32_t *counts, int32_t n, char *out, size_t len)
{
	struct kp_list_partition_reassignments_request req;
	struct kp_list_partition_reassignments_request_list_partition_reassignments_topics t[4];
	struct kp_list_partition_reassignments_response *resp;
	size_t used = 0;
	kp_arena a;

	kp_list_partition_reassignments_request_init(&req);
	req.topics_count = names ? n : -1;
	req.topics = names ? t : NULL;
	for (int32_t i = 0; names && i < n; i++)
		t[i] = (struct kp_list_partition_reassignments_request_list_partition_reassignments_topics){
			(char *)names[i], (int32_t *)idx[i], counts[i] };
	kp_arena_init(&a);
	resp = kp_qc_list_reassignments(img, &req, &a);
	assert_non_null(resp);
	assert_int_equal(resp->error_code, 0);
	out[0] = '\0';
	for (int32_t i = 0; i < resp->topics_count; i++)
		for (int32_t j = 0; j < resp->topics[i].partitions_count; j++) {
			const struct kp_list_partition_reassignments_response_ongoing_partition_reassignment
				*p = &resp->topics[i].partitions[j];
			const int32_t *lists[3] = { p->replicas, p->adding_replicas,
						    p->removing_replicas };
			int32_t ns[3] = { p->replicas_count, p->adding_replicas_count,
					  p->removing_replicas_count };

			used += (size_t)snprintf(out + used, len - used, "%s%s-%d:", used ? ";" : "",
						 resp->topics[i].name, p->partition_index);
			for (int k = 0; k < 3; k++) {
				used += (size_t)snprintf(out + used, len - used, "%s[", k == 0 ? ""
							 : k == 1 ? "+" : "-");
				for (int32_t m = 0; m < ns[k]; m++)
					used += (size_t)snprintf(out + used, len - used, "%s%d",
								 m ? "," : "", lists[k][m]);
				used += (size_t)snprintf(out + used, len - used, "]");
			}
		}
	kp_arena_free(&a);
}

/* ---- 1. a move, listed, completed by AlterPartition ---------------------------------- */

static void test_move_listed_and_completed(void **state)
{
	kp_image *img = setup(IDS(1, 2));
	const struct kp_image_partition *p;
	int32_t epoch, pepoch;
	struct outcome o;
	char buf[256];

	create(img, "u", (const int32_t[]){ 3 }, 1, 1, 0x5a);
	epoch = part(img)->leader_epoch;
	pepoch = part(img)->partition_epoch;
	assert_int_equal(reassign(img, IDS(2, 3)), 1);
	p = part(img);
	assert_ids(&p->replicas, IDS(2, 3, 1));
	assert_ids(&p->adding_replicas, IDS(3));
	assert_ids(&p->removing_replicas, IDS(1));
	assert_ids(&p->isr, IDS(1, 2));
	assert_int_equal(p->leader, 1);
	assert_int_equal(p->leader_epoch, epoch);
	assert_int_equal(p->partition_epoch, pepoch + 1);

	list(img, NULL, NULL, NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "t-0:[2,3,1]+[3]-[1]");
	list(img, (const char *const[]){ "u", "t", "nope" },
	     (const int32_t *const[]){ (const int32_t[]){ 0 }, (const int32_t[]){ 0, 5 },
				       (const int32_t[]){ 0 } },
	     (const int32_t[]){ 1, 2, 1 }, 3, buf, sizeof(buf));
	assert_string_equal(buf, "t-0:[2,3,1]+[3]-[1]");

	o = alter(img, 3, 1, IDS(1, 2, 3));
	assert_int_equal(o.records, 1);
	assert_int_equal(o.error, KP_ERR_NEW_LEADER_ELECTED);
	p = part(img);
	assert_ids(&p->replicas, IDS(2, 3));
	assert_ids(&p->isr, IDS(2, 3));
	assert_int_equal(p->adding_replicas.count, 0);
	assert_int_equal(p->removing_replicas.count, 0);
	assert_int_equal(p->leader, 2);
	assert_int_equal(p->leader_epoch, epoch + 1);
	list(img, NULL, NULL, NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	kp_image_free(img);
}

/* Before v2 the leader learns of the move by FENCED_LEADER_EPOCH. */
static void test_completion_answer_before_v2(void **state)
{
	kp_image *img = setup(IDS(1, 2));

	reassign(img, IDS(2, 3));
	assert_int_equal(alter(img, 1, 1, IDS(1, 2, 3)).error, KP_ERR_FENCED_LEADER_EPOCH);
	assert_int_equal(part(img)->leader, 2);
	kp_image_free(img);
}

/* ---- 2. not yet ---------------------------------------------------------------------- */

static void test_partial_isr_does_not_complete(void **state)
{
	kp_image *img = setup(IDS(1));
	struct outcome o;

	reassign(img, IDS(2, 3));
	assert_ids(&part(img)->replicas, IDS(2, 3, 1));
	assert_ids(&part(img)->adding_replicas, IDS(2, 3));
	o = alter(img, 3, 1, IDS(1, 2));
	assert_int_equal(o.error, 0);
	assert_ids(&part(img)->replicas, IDS(2, 3, 1));
	assert_ids(&part(img)->isr, IDS(1, 2));
	assert_true(kp_qc_reassigning(part(img)));
	o = alter(img, 3, 1, IDS(1, 2, 3));
	assert_int_equal(o.error, KP_ERR_NEW_LEADER_ELECTED);
	assert_ids(&part(img)->replicas, IDS(2, 3));
	assert_ids(&part(img)->isr, IDS(2, 3));
	assert_int_equal(part(img)->leader, 2);
	assert_false(kp_qc_reassigning(part(img)));
	kp_image_free(img);
}

/* ---- 3. the leader stays --------------------------------------------------------------- */

static void test_kept_leader_stays_in_new_epoch(void **state)
{
	kp_image *img = setup(IDS(1, 2));
	int32_t epoch = part(img)->leader_epoch;
	struct outcome o;

	reassign(img, IDS(1, 3));
	assert_ids(&part(img)->replicas, IDS(1, 3, 2));
	o = alter(img, 3, 1, IDS(1, 2, 3));
	assert_int_equal(o.error, 0);
	assert_int_equal(o.leader, 1);
	assert_int_equal(o.isr_count, 2);
	assert_int_equal(o.isr[0], 1);
	assert_int_equal(o.isr[1], 3);
	assert_ids(&part(img)->replicas, IDS(1, 3));
	assert_int_equal(part(img)->leader, 1);
	assert_int_equal(part(img)->leader_epoch, epoch + 1);
	kp_image_free(img);
}

/* ---- 4. at once -------------------------------------------------------------------------- */

static void test_subset_completes_at_once(void **state)
{
	kp_image *img = setup(IDS(1, 2, 3));
	int32_t epoch = part(img)->leader_epoch;
	char buf[64];

	assert_int_equal(reassign(img, IDS(3, 2)), 1);
	assert_ids(&part(img)->replicas, IDS(3, 2));
	assert_ids(&part(img)->isr, IDS(2, 3));
	assert_int_equal(part(img)->adding_replicas.count, 0);
	assert_int_equal(part(img)->removing_replicas.count, 0);
	assert_int_equal(part(img)->leader, 3);
	assert_int_equal(part(img)->leader_epoch, epoch + 1);
	list(img, NULL, NULL, NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");

	assert_int_equal(reassign(img, IDS(2, 3)), 1); /* a reorder: replicas only */
	assert_ids(&part(img)->replicas, IDS(2, 3));
	assert_int_equal(part(img)->leader, 3);
	assert_int_equal(part(img)->leader_epoch, epoch + 1);
	assert_int_equal(reassign(img, IDS(2, 3)), 0); /* the same again: nothing */
	kp_image_free(img);
}

/* ---- 5. cancel ----------------------------------------------------------------------------- */

static void test_cancel_reverts(void **state)
{
	kp_image *img = setup(IDS(1, 2));
	int32_t epoch = part(img)->leader_epoch;
	size_t n;

	reassign(img, IDS(2, 3));
	assert_int_equal(reassign_ex(img, "t", 0, NULL, -1, true, false, &n), 0);
	assert_int_equal(n, 1);
	assert_ids(&part(img)->replicas, IDS(2, 1));
	assert_ids(&part(img)->isr, IDS(1, 2));
	assert_int_equal(part(img)->adding_replicas.count, 0);
	assert_int_equal(part(img)->removing_replicas.count, 0);
	assert_int_equal(part(img)->leader, 1);
	assert_int_equal(part(img)->leader_epoch, epoch + 1);
	assert_int_equal(reassign_ex(img, "t", 0, NULL, -1, true, false, &n),
			 KP_ERR_NO_REASSIGNMENT_IN_PROGRESS);
	kp_image_free(img);
}

static void test_cancel_needing_unclean_election(void **state)
{
	kp_image *img = setup(IDS(1, 2));
	size_t n;

	reassign(img, IDS(3, 4)); /* replicas [3,4,1,2], adding [3,4], removing [1,2] */
	partition_change(img, "t", 0, 3, IDS(3), -1);
	assert_int_equal(reassign_ex(img, "t", 0, NULL, -1, true, false, &n),
			 KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	assert_int_equal(reassign_ex(img, "t", 0, NULL, -1, true, true, &n), 0);
	assert_ids(&part(img)->replicas, IDS(1, 2));
	assert_ids(&part(img)->isr, IDS(1));
	assert_int_equal(part(img)->leader, 1);
	assert_int_equal(part(img)->leader_recovery_state, KP_IMAGE_LEADER_RECOVERING);
	kp_image_free(img);
}

/* ---- 6. errors ------------------------------------------------------------------------------ */

static void test_errors(void **state)
{
	kp_image *img = setup(IDS(1, 2));
	size_t n;

	assert_int_equal(reassign_ex(img, "nope", 0, IDS(1, 2), true, false, &n),
			 KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(reassign_ex(img, "t", 1, IDS(1, 2), true, false, &n),
			 KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(reassign_ex(img, "t", 0, (const int32_t[]){ 0 }, 0, true, false, &n),
			 KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	assert_int_equal(reassign_ex(img, "t", 0, IDS(2, 2), true, false, &n),
			 KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	assert_int_equal(reassign_ex(img, "t", 0, IDS(2, 9), true, false, &n),
			 KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	assert_int_equal(reassign_ex(img, "t", 0, NULL, -1, true, false, &n),
			 KP_ERR_NO_REASSIGNMENT_IN_PROGRESS);
	assert_int_equal(reassign_ex(img, "t", 0, IDS(1, 2, 3), false, false, &n),
			 KP_ERR_INVALID_REPLICATION_FACTOR);
	assert_int_equal(reassign_ex(img, "t", 0, IDS(3, 4), false, false, &n), 0);
	assert_int_equal(n, 1);
	/* heading for 2 replicas while [3,4,1,2] are assigned: 2 is no change */
	assert_int_equal(reassign_ex(img, "t", 0, IDS(2, 3), false, false, &n), 0);
	assert_int_equal(reassign_ex(img, "t", 0, IDS(2), false, false, &n),
			 KP_ERR_INVALID_REPLICATION_FACTOR);
	kp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_listed_and_completed),
		cmocka_unit_test(test_completion_answer_before_v2),
		cmocka_unit_test(test_partial_isr_does_not_complete),
		cmocka_unit_test(test_kept_leader_stays_in_new_epoch),
		cmocka_unit_test(test_subset_completes_at_once),
		cmocka_unit_test(test_cancel_reverts),
		cmocka_unit_test(test_cancel_needing_unclean_election),
		cmocka_unit_test(test_errors),
	};

	kp_diag_set_sink(sink, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
