/*
 * test_log_start.c - the log start offset of a partition log (lib/log/
 * log_start.c): raised by DeleteRecords or retention (kp_log_advance_start)
 * it survives a restart through log-start-offset (Kafka's
 * log-start-offset-checkpoint), reads below it fail, and a log that does
 * not keep it (the metadata log: cfg.persist_start false) starts at its
 * first segment again.
 */
#define LOG_FIXTURE_TEMPLATE "/tmp/kpstart-XXXXXX"
#include "log_fixture.h"

/* filled - a log of 10 one-record batches (offsets 0..9) in f's directory. */
static kp_log *filled(struct fx *f, const struct kp_log_config *cfg)
{
	kp_log *log = open_log(f, cfg);
	kp_error err;
	kp_buf b;

	for (int i = 0; i < 10; i++) {
		kp_buf_init(&b);
		put_batch(&b, 0, 0, 1, 1000 + i, "v");
		assert_int_equal(kp_log_append(log, b.data, b.len, 0, NULL, NULL, NULL, &err), 0);
		kp_buf_free(&b);
	}
	return log;
}

static void test_start_survives_a_restart(void **state)
{
	struct fx *f = *state;
	kp_log *log = filled(f, NULL);
	kp_error err;
	kp_buf out;

	assert_int_equal(kp_log_advance_start(log, 4, &err), 0); /* within the one segment */
	assert_int_equal(kp_log_start_offset(log), 4);
	kp_log_close(log);
	log = open_log(f, NULL);
	assert_int_equal(kp_log_start_offset(log), 4);
	assert_int_equal(kp_log_end_offset(log), 10);
	kp_buf_init(&out);
	assert_int_equal(kp_log_read(log, 3, INT64_MAX, 1 << 20, &out, &err), -1);
	assert_int_equal(err.code, KP_ERANGE);
	assert_int_equal(kp_log_read(log, 4, INT64_MAX, 1 << 20, &out, &err), 0);
	assert_true(out.len > 0);
	kp_buf_free(&out);
	kp_log_close(log);
}

static void test_start_survives_a_crash(void **state)
{
	struct fx *f = *state;
	kp_log *log = filled(f, NULL);
	kp_error err;
	kp_buf b;

	kp_log_close(log);
	if ((log = crash_child(f, NULL))) { /* the child: raise the start, write, die */
		assert_int_equal(kp_log_advance_start(log, 7, &err), 0);
		kp_buf_init(&b);
		put_batch(&b, 0, 0, 1, 2000, "w");
		assert_int_equal(kp_log_append(log, b.data, b.len, 0, NULL, NULL, NULL, &err), 0);
		_exit(0);
	}
	log = open_log(f, NULL);
	assert_int_equal(kp_log_start_offset(log), 7);
	assert_int_equal(kp_log_end_offset(log), 11);
	kp_log_close(log);
}

static void test_reset_keeps_its_start(void **state)
{
	struct fx *f = *state;
	kp_log *log = filled(f, NULL);
	kp_error err;

	assert_int_equal(kp_log_reset_at(log, 50, &err), 0);
	kp_log_close(log);
	log = open_log(f, NULL);
	assert_int_equal(kp_log_start_offset(log), 50);
	assert_int_equal(kp_log_end_offset(log), 50);
	kp_log_close(log);
}

static void test_not_persisted_without_persist_start(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_log *log;
	kp_error err;
	char path[256];

	kp_log_config_default(&cfg);
	cfg.persist_start = false;
	log = filled(f, &cfg);
	assert_int_equal(kp_log_advance_start(log, 4, &err), 0);
	kp_log_close(log);
	snprintf(path, sizeof path, "%s/log-start-offset", f->dir);
	assert_int_equal(file_size(path), -1);
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_start_offset(log), 0);
	kp_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_survives_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_survives_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_keeps_its_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_persisted_without_persist_start, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
