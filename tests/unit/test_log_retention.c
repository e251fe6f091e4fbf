/*
 * test_log_retention.c - retention by time and by size (lib/log/
 * log_retention.c, kp_log_retention): whole closed segments go from the
 * front, only below the high watermark, never the active segment, the
 * log start offset moves to the first segment kept, and a log whose
 * cleanup.policy lacks "delete" keeps everything. Settings changed on an
 * open log (kp_log_set_config) apply at the next pass.
 */
#define LOG_FIXTURE_TEMPLATE "/tmp/kpretain-XXXXXX"
#include "log_fixture.h"

/* ten - a log of 10 one-record batches, one per segment (offset i, max timestamp 1000 + i). */
static kp_log *ten(struct fx *f, struct kp_log_config *cfg)
{
	kp_log *log;
	kp_error err;
	kp_buf b;

	kp_log_config_default(cfg);
	cfg->segment_bytes = 100; /* one ~70-byte batch per segment */
	log = open_log(f, cfg);
	for (int i = 0; i < 10; i++) {
		kp_buf_init(&b);
		put_batch(&b, 0, 0, 1, 1000 + i, "v");
		assert_int_equal(kp_log_append(log, b.data, b.len, 0, NULL, NULL, NULL, &err), 0);
		kp_buf_free(&b);
	}
	assert_int_equal(kp_log_segments_below(log, 9), 9);
	return log;
}

/* retain - one pass at `now` below `hw`; returns the segments deleted. */
static size_t retain(kp_log *log, int64_t now, int64_t hw)
{
	struct kp_log_retention_result res;
	kp_error err;

	if (kp_log_retention(log, now, hw, &res, &err) < 0)
		fail_msg("retention: %s", err.msg);
	return res.segments;
}

static void test_time_deletes_segments_older_than_retention_ms(void **state)
{
	struct kp_log_config cfg;
	kp_log *log = ten(*state, &cfg);
	kp_error err;
	kp_buf out;

	cfg.retention_ms = 100;
	kp_log_set_config(log, &cfg);
	assert_int_equal(retain(log, 1105, INT64_MAX), 5); /* 1000..1004 are more than 100 ms old */
	assert_int_equal(kp_log_start_offset(log), 5);
	assert_int_equal(retain(log, 1105, INT64_MAX), 0);
	kp_buf_init(&out);
	assert_int_equal(kp_log_read(log, 4, INT64_MAX, 1 << 20, &out, &err), -1);
	assert_int_equal(err.code, KP_ERANGE);
	assert_int_equal(kp_log_read(log, 5, INT64_MAX, 1 << 20, &out, &err), 0);
	assert_true(out.len > 0);
	kp_buf_free(&out);
	kp_log_close(log);
	log = open_log(*state, &cfg); /* the start offset is persisted */
	assert_int_equal(kp_log_start_offset(log), 5);
	kp_log_close(log);
}

static void test_size_keeps_at_least_retention_bytes(void **state)
{
	struct kp_log_config cfg;
	kp_log *log = ten(*state, &cfg);
	int64_t one = kp_log_size_bytes(log) / 10;
	struct kp_log_retention_result res;
	kp_error err;

	cfg.retention_bytes = 3 * one + 1; /* 4 segments are needed to keep that much */
	kp_log_set_config(log, &cfg);
	assert_int_equal(kp_log_retention(log, 0, INT64_MAX, &res, &err), 0);
	assert_int_equal(res.segments, 6);
	assert_int_equal(res.bytes, 6 * one);
	assert_false(res.by_time);
	assert_int_equal(kp_log_start_offset(log), 6);
	assert_true(kp_log_size_bytes(log) >= cfg.retention_bytes);
	kp_log_close(log);
}

static void test_only_below_the_high_watermark(void **state)
{
	struct kp_log_config cfg;
	kp_log *log = ten(*state, &cfg);

	cfg.retention_ms = 0;
	kp_log_set_config(log, &cfg);
	assert_int_equal(retain(log, 1 << 30, 4), 4); /* offsets 0..3 are below it, 4 is not */
	assert_int_equal(kp_log_start_offset(log), 4);
	assert_int_equal(retain(log, 1 << 30, 4), 0);
	kp_log_close(log);
}

static void test_never_the_active_segment(void **state)
{
	struct kp_log_config cfg;
	kp_log *log = ten(*state, &cfg);
	kp_error err;
	kp_buf out;

	cfg.retention_ms = 0;
	cfg.retention_bytes = 0;
	kp_log_set_config(log, &cfg);
	assert_int_equal(retain(log, 1 << 30, INT64_MAX), 9);
	assert_int_equal(kp_log_start_offset(log), 9);
	assert_int_equal(kp_log_end_offset(log), 10);
	kp_buf_init(&out);
	assert_int_equal(kp_log_read(log, 9, INT64_MAX, 1 << 20, &out, &err), 0);
	assert_true(out.len > 0);
	kp_buf_free(&out);
	kp_log_close(log);
}

static void test_nothing_without_the_delete_policy(void **state)
{
	struct kp_log_config cfg;
	kp_log *log = ten(*state, &cfg);

	cfg.retention_ms = 0;
	cfg.cleanup_delete = false;
	cfg.cleanup_compact = true;
	assert_true(kp_log_set_config(log, &cfg));
	assert_false(kp_log_set_config(log, &cfg));
	assert_int_equal(retain(log, 1 << 30, INT64_MAX), 0);
	assert_int_equal(kp_log_start_offset(log), 0);
	cfg.retention_ms = -1; /* unlimited: nothing either */
	cfg.cleanup_delete = true;
	kp_log_set_config(log, &cfg);
	assert_int_equal(retain(log, 1 << 30, INT64_MAX), 0);
	kp_log_close(log);
}

static void test_not_behind_a_delete_records_start(void **state)
{
	struct kp_log_config cfg;
	kp_log *log = ten(*state, &cfg);
	kp_error err;

	assert_int_equal(kp_log_advance_start(log, 7, &err), 7);
	cfg.retention_ms = 100;
	kp_log_set_config(log, &cfg);
	assert_int_equal(retain(log, 1105, INT64_MAX), 0); /* 1000..1004 were gone already */
	assert_int_equal(kp_log_start_offset(log), 7);
	kp_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_time_deletes_segments_older_than_retention_ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_keeps_at_least_retention_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_below_the_high_watermark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_the_active_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_without_the_delete_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_behind_a_delete_records_start, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
