/*
 * test_metadata_snapshot.c - KRaft snapshot files (lib/metadata/snapshot.h):
 * an image written as a snapshot and read back dumps the same, its file
 * has Kafka's layout (header control batch, data batches, footer control
 * batch, consecutive offsets, the epoch in every batch), a flipped byte,
 * a truncation or a missing footer is refused, and snapshots are found
 * and pruned by their names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metadata/record.h"
#include "metadata/snapshot.h"
#include "record/batch.h"
#include "util/file.h"

static void apply(kp_image *img, int16_t type, const void *msg, int64_t offset)
{
	struct kp_metadata_record r = { .type = type, .version = 0, .msg = msg };
	kp_error err;
	if (kp_image_apply(img, &r, offset, 3, &err) < 0)
		fail_msg("apply: %s", err.msg);
}

/* An image of a feature level, `topics` topics of 3 partitions each and a config. */
static kp_image *sample_image(int topics)
{
	kp_image *img = kp_image_new();
	struct kp_feature_level_record f;
	struct kp_config_record c;
	int64_t off = 0;
	assert_non_null(img);
	kp_feature_level_record_init(&f);
	f.name = "metadata.version";
	f.feature_level = 27;
	apply(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f, off++);
	for (int t = 0; t < topics; t++) {
		struct kp_topic_record tr;
		char name[32];
		snprintf(name, sizeof(name), "topic-%04d", t);
		kp_topic_record_init(&tr);
		tr.name = name;
		tr.topic_id.b[0] = (uint8_t)(t >> 8);
		tr.topic_id.b[1] = (uint8_t)t;
		tr.topic_id.b[15] = 1;
		apply(img, KP_METADATA_TOPIC_RECORD, &tr, off++);
		for (int p = 0; p < 3; p++) {
			struct kp_partition_record pr;
			int32_t replicas[1] = { p };
			kp_partition_record_init(&pr);
			pr.partition_id = p;
			pr.topic_id = tr.topic_id;
			pr.replicas = pr.isr = replicas;
			pr.replicas_count = pr.isr_count = 1;
			pr.leader = p;
			apply(img, KP_METADATA_PARTITION_RECORD, &pr, off++);
		}
	}
	kp_config_record_init(&c);
	c.resource_type = 2; /* TOPIC */
	c.resource_name = "topic-0000";
	c.name = "retention.ms";
	c.value = "60000";
	apply(img, KP_METADATA_CONFIG_RECORD, &c, off++);
	return img;
}

static void dump(const kp_image *img, kp_buf *out)
{
	kp_error err;
	kp_buf_reset(out);
	if (kp_image_dump(img, out, &err) < 0)
		fail_msg("dump: %s", err.msg);
}

static char *temp_dir(void)
{
	char *d = strdup("/tmp/kp-snapshot-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* Written, loaded: the same dump (offset end - 1, the snapshot's epoch). */
static void test_round_trip(void **state)
{
	kp_image *a = sample_image(1500), *b = kp_image_new(), *c = kp_image_new();
	char *dir = temp_dir(), path[4096];
	kp_buf da, db;
	kp_error err;
	(void)state;
	kp_buf_init(&da);
	kp_buf_init(&db);
	assert_int_equal(kp_snapshot_write(dir, a, kp_image_last_offset(a) + 1, 3, 1234, &err), 0);
	assert_int_equal(kp_snapshot_path(path, sizeof(path), dir, kp_image_last_offset(a) + 1, 3,
					  &err), 0);
	assert_int_equal(kp_snapshot_load(path, b, &err), 0);
	dump(a, &da);
	dump(b, &db);
	assert_int_equal(da.len, db.len);
	assert_memory_equal(da.data, db.data, da.len);
	/* and an image written from the loaded one encodes to the same bytes */
	kp_buf_reset(&da);
	kp_buf_reset(&db);
	assert_int_equal(kp_snapshot_encode(a, 3, 1234, &da, &err), 0);
	assert_int_equal(kp_snapshot_encode(b, 3, 1234, &db, &err), 0);
	assert_int_equal(da.len, db.len);
	assert_memory_equal(da.data, db.data, da.len);
	assert_int_equal(kp_snapshot_decode(da.data, da.len, kp_image_last_offset(a) + 1, 3, c, &err),
			 0);
	assert_int_equal(kp_snapshot_delete_before(dir, INT64_MAX, &err), 1);
	rmdir(dir);
	free(dir);
	kp_buf_free(&da);
	kp_buf_free(&db);
	kp_image_free(a);
	kp_image_free(b);
	kp_image_free(c);
}

/* Header and footer control batches around data batches of at most
 * KP_SNAPSHOT_BATCH_RECORDS records, offsets consecutive, epoch in each. */
static void test_file_layout(void **state)
{
	kp_image *img = sample_image(400); /* 1 + 400 * 4 + 1 records: two data batches */
	struct kp_batch_header h;
	kp_buf out;
	kp_error err;
	size_t pos = 0;
	int64_t next = 0;
	int batches = 0, controls = 0;
	(void)state;
	kp_buf_init(&out);
	assert_int_equal(kp_snapshot_encode(img, 9, 77, &out, &err), 0);
	while (pos < out.len) {
		long sz = kp_batch_validate(out.data + pos, out.len - pos, &h, &err);
		assert_true(sz > 0);
		assert_int_equal(h.base_offset, next);
		assert_int_equal(h.partition_leader_epoch, 9);
		assert_true(h.record_count <= KP_SNAPSHOT_BATCH_RECORDS);
		controls += (h.attributes & KP_BATCH_CONTROL) != 0;
		if (batches == 0 || pos + (size_t)sz == out.len)
			assert_true(h.attributes & KP_BATCH_CONTROL);
		next += h.last_offset_delta + 1;
		pos += (size_t)sz;
		batches++;
	}
	assert_int_equal(controls, 2);
	assert_int_equal(batches, 4);
	assert_int_equal(next, 1 + (1 + 400 * 4 + 1) + 1);
	kp_buf_free(&out);
	kp_image_free(img);
}

/* A flipped byte, a cut, a missing footer or header: refused. */
static void test_damage_is_refused(void **state)
{
	kp_image *img = sample_image(20);
	kp_buf out;
	kp_error err;
	struct kp_batch_header h;
	long first;
	(void)state;
	kp_buf_init(&out);
	assert_int_equal(kp_snapshot_encode(img, 1, 0, &out, &err), 0);
	first = kp_batch_validate(out.data, out.len, &h, &err);
	assert_true(first > 0);
	size_t batch = 0, next_batch = (size_t)first;
	for (size_t at = 0; at < out.len; at += 7) {
		kp_image *t;
		while (at >= next_batch) {
			batch = next_batch;
			next_batch += (size_t)kp_batch_validate(out.data + batch, out.len - batch, &h,
								&err);
		}
		if (at - batch >= 12 && at - batch < 16)
			continue; /* partitionLeaderEpoch: neither CRC'd nor checked, as in Kafka */
		t = kp_image_new();
		out.data[at] ^= 0x40;
		assert_int_equal(kp_snapshot_decode(out.data, out.len, 100, 1, t, &err), -1);
		out.data[at] ^= 0x40;
		kp_image_free(t);
	}
	for (size_t cut = 1; cut < out.len; cut += 53) {
		kp_image *t = kp_image_new();
		assert_int_equal(kp_snapshot_decode(out.data, out.len - cut, 100, 1, t, &err), -1);
		kp_image_free(t);
	}
	kp_image *t = kp_image_new();
	assert_int_equal(kp_snapshot_decode(out.data + first, out.len - (size_t)first, 100, 1, t,
					    &err), -1);
	assert_non_null(strstr(err.msg, "header"));
	kp_image_free(t);
	kp_buf_free(&out);
	kp_image_free(img);
}

/* Names parse both ways; latest picks the largest id; pruning keeps the rest. */
static void test_names_latest_and_pruning(void **state)
{
	kp_image *img = sample_image(2);
	char *dir = temp_dir(), path[4096];
	int64_t off = -1;
	int32_t ep = -1;
	kp_error err;
	(void)state;
	assert_true(kp_snapshot_parse_name("00000000000000000100-0000000003.checkpoint", &off, &ep));
	assert_int_equal(off, 100);
	assert_int_equal(ep, 3);
	assert_false(kp_snapshot_parse_name("00000000000000000100-0000000003.checkpoint.part",
					    &off, &ep));
	assert_false(kp_snapshot_parse_name("00000000000000000100.log", &off, &ep));
	assert_int_equal(kp_snapshot_latest(dir, &off, &ep, &err), 0);
	assert_int_equal(kp_snapshot_write(dir, img, 50, 2, 0, &err), 0);
	assert_int_equal(kp_snapshot_write(dir, img, 90, 2, 0, &err), 0);
	assert_int_equal(kp_snapshot_write(dir, img, 90, 4, 0, &err), 0);
	snprintf(path, sizeof(path), "%s/00000000000000000120-0000000004.checkpoint.part", dir);
	assert_int_equal(kp_write_file_atomic(path, "torn", &err), 0);
	assert_int_equal(kp_snapshot_latest(dir, &off, &ep, &err), 1);
	assert_int_equal(off, 90);
	assert_int_equal(ep, 4);
	assert_int_equal(kp_snapshot_delete_before(dir, 90, &err), 2); /* 50-2 and the .part */
	assert_int_equal(kp_snapshot_latest(dir, &off, &ep, &err), 1);
	assert_int_equal(kp_snapshot_delete_before(dir, 91, &err), 2);
	assert_int_equal(kp_snapshot_latest(dir, &off, &ep, &err), 0);
	rmdir(dir);
	free(dir);
	kp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_file_layout),
		cmocka_unit_test(test_damage_is_refused),
		cmocka_unit_test(test_names_latest_and_pruning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
