/*
 * qc_fixture.h - the metadata image the quorum controller's unit tests
 * work on (test_quorum_controller.c, test_alter_partition.c,
 * test_elect_leaders.c, test_reassign.c): records applied to a kp_image
 * at increasing offsets (next_offset, which a test resets to 0 with each
 * new image), as the committed batches would be, and helpers to register
 * brokers, create topics and change partitions.
 *
 * Everything is `static inline`, so a test that does not use a helper gets
 * no warning for it.
 */
#ifndef KP_TESTS_QC_FIXTURE_H
#define KP_TESTS_QC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/qc_internal.h"
#include "metadata/image.h"
#include "util/diag.h"

/* the offset the next record applied is at (a broker's epoch is its registration's) */
static int64_t next_offset;

/* apply_one - apply the record `msg` of `type` (at its latest version) at the next offset. */
static inline void apply_one(kp_image *img, int16_t type, const void *msg)
{
	struct kp_metadata_record rec = { type, kp_metadata_record_type_info(type)->max_version, msg };
	kp_error err;

	if (kp_image_apply(img, &rec, next_offset++, 1, &err) < 0)
		fail_msg("%s: %s", kp_metadata_record_name(type), err.msg);
}

/* apply_all - apply the records of `r` in order, each at the next offset. */
static inline void apply_all(kp_image *img, const struct kp_qc_recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		apply_one(img, r->v[i].type, r->v[i].msg);
}

/* unfence - an UnfenceBrokerRecord alone for broker `id` (no election, unlike a heartbeat). */
static inline void unfence(kp_image *img, int32_t id)
{
	struct kp_unfence_broker_record u = { .id = id, .epoch = kp_image_broker(img, id)->epoch };

	apply_one(img, KP_METADATA_UNFENCE_BROKER_RECORD, &u);
}

/*
 * add_broker - register broker `id` (epoch: its record's offset; rack may be
 * NULL), then unfence it unless `fenced`.
 */
static inline void add_broker(kp_image *img, int32_t id, const char *rack, bool fenced)
{
	struct kp_register_broker_record b;

	kp_msg_init(kp_metadata_record_type_info(KP_METADATA_REGISTER_BROKER_RECORD)->desc, &b);
	b.broker_id = id;
	b.broker_epoch = next_offset;
	b.rack = (char *)rack;
	b.incarnation_id.b[0] = (uint8_t)id;
	apply_one(img, KP_METADATA_REGISTER_BROKER_RECORD, &b);
	if (!fenced)
		unfence(img, id);
}

/*
 * create - topic `name` with explicit rows (partitions x rf replica ids),
 * its records applied: each partition led by its first replica, the ISR
 * its active ones. The topic id is `id_seed` in byte 0 and name[0] in
 * byte 15 (so distinct first letters give distinct ids); returns it.
 */
static inline kp_uuid create(kp_image *img, const char *name, const int32_t *rows,
			     int32_t partitions, int16_t rf, uint8_t id_seed)
{
	struct kp_qc_config cfg = { .num_partitions = 1, .default_replication_factor = 1 };
	struct kp_qc_new_topic t = { .name = name, .num_partitions = -1, .replication_factor = -1,
				     .assignment = rows, .assigned_partitions = partitions,
				     .assigned_rf = rf };
	kp_uuid id = { { 0 } };
	struct kp_qc_recs r;
	kp_arena a;
	kp_error err;
	int32_t np;
	int16_t nrf;

	id.b[0] = id_seed;
	id.b[15] = (uint8_t)(name[0]);
	kp_arena_init(&a);
	kp_qc_recs_init(&r, &a);
	if (kp_qc_create_topic_records(img, &cfg, &t, &id, 0, &r, &np, &nrf, &err) < 0)
		fail_msg("create %s: %s", name, err.msg);
	apply_all(img, &r);
	kp_qc_recs_free(&r);
	kp_arena_free(&a);
	return id;
}

/*
 * partition_change - a PartitionChangeRecord for `topic`-`partition`:
 * leader `leader` (KP_IMAGE_NO_LEADER_CHANGE: kept), ISR isr[n] (isr NULL:
 * kept), leader recovery state `lrs` (-1: kept); nothing else changes.
 */
static inline void partition_change(kp_image *img, const char *topic, int32_t partition,
				    int32_t leader, const int32_t *isr, int32_t n, int8_t lrs)
{
	struct kp_partition_change_record c;

	kp_msg_init(kp_metadata_record_type_info(KP_METADATA_PARTITION_CHANGE_RECORD)->desc, &c);
	c.topic_id = kp_image_topic_by_name(img, topic)->id;
	c.partition_id = partition;
	c.leader = leader;
	if (isr) {
		c.isr = (int32_t *)isr;
		c.isr_count = n;
	}
	c.leader_recovery_state = lrs;
	apply_one(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c);
}

/* set_isr - `topic`-0's ISR set to isr[n] alone (as an AlterPartition expansion). */
static inline void set_isr(kp_image *img, const char *topic, const int32_t *isr, int32_t n)
{
	partition_change(img, topic, 0, KP_IMAGE_NO_LEADER_CHANGE, isr, n, -1);
}

/* assert_ids - `ids` is exactly want[n], in that order. */
static inline void assert_ids(const struct kp_image_ids *ids, const int32_t *want, int32_t n)
{
	assert_int_equal(ids->count, n);
	for (int32_t i = 0; i < n; i++)
		assert_int_equal(ids->ids[i], want[i]);
}

/* the last INFO line logged through info_sink */
static char last_info[256];

/* info_sink - a kp_diag sink (kp_diag_set_sink) keeping the last INFO line in last_info. */
static inline void info_sink(int level, const char *line, void *opaque)
{
	if (level == KP_DIAG_INFO)
		snprintf(last_info, sizeof(last_info), "%s", line);
}

#endif /* KP_TESTS_QC_FIXTURE_H */
