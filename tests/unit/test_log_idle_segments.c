/*
 * test_log_idle_segments.c - closed segments nobody reads hold no
 * descriptors (lib/log/segment_cold.c): a log of many segments keeps the
 * active one and at most a few recently read closed ones open, reads
 * every offset and timestamp right through cold segments, keeps the
 * descriptors reads handed out until their caller cools the log, reopens
 * with few open, truncates into a
 * cold segment, and reports a cold segment's file changed behind its back.
 *
 *   /tmp/kpidle-XXXXXX/t-0/   20+ segments of 3 batches (segment.bytes 300)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_FIXTURE_TEMPLATE "/tmp/kpidle-XXXXXX"
#include "log_fixture.h"

/* Most descriptors a log of segments below the recovery point keeps: the active and 4 closed, 3 files each. */
#define MAX_LOG_FDS 15

/* log_fds - how many of this process's descriptors are files in `dir`. */
static int log_fds(const char *dir)
{
	char link[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	assert_non_null(d);
	while ((de = readdir(d))) {
		snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += strncmp(target, dir, strlen(dir)) == 0;
	}
	closedir(d);
	return n;
}

/* fill - append `n` batches of 2 records, batch i with max timestamp 1000 + i. */
static void fill(kp_log *log, int n)
{
	kp_error err;
	kp_buf b;

	for (int i = 0; i < n; i++) {
		kp_buf_init(&b);
		put_batch(&b, 0, 5, 2, 1000 + i, "value");
		if (kp_log_append(log, b.data, b.len, 5, NULL, NULL, NULL, &err) < 0)
			fail_msg("append: %s", err.msg);
		kp_buf_free(&b);
	}
}

/* first_base - the base offset of the first batch a read of `offset` returns (-1: error, err filled). */
static int64_t first_base(kp_log *log, int64_t offset, kp_error *err)
{
	int64_t base = -1;
	kp_buf out;

	kp_buf_init(&out);
	if (kp_log_read(log, offset, INT64_MAX, 1, &out, err) == 0 && out.len >= 8)
		base = (int64_t)kp_load_u64(out.data);
	kp_buf_free(&out);
	return base;
}

static void small_config(struct kp_log_config *cfg)
{
	kp_log_config_default(cfg);
	cfg->segment_bytes = 300; /* 3 batches of ~90 bytes a segment */
	cfg->index_interval_bytes = 0;
}

/* open_filled - a log of 60 batches (offsets 0..119, 20 segments), flushed. */
static kp_log *open_filled(struct fx *f, struct kp_log_config *cfg)
{
	kp_error err;
	kp_log *log;

	small_config(cfg);
	log = open_log(f, cfg);
	fill(log, 60);
	if (kp_log_flush(log, &err) < 0)
		fail_msg("flush: %s", err.msg);
	return log;
}

/* Every offset and every timestamp is found through cold segments, with few files open at any time. */
static void test_reads_through_cold_segments(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t ts;
	kp_error err;
	kp_log *log = open_filled(f, &cfg);

	assert_true(log_fds(f->dir) > MAX_LOG_FDS); /* nothing read since the flush: all still open */
	for (int64_t o = 0; o < 120; o++) {
		assert_int_equal(first_base(log, o, &err), o & ~1);
		assert_true(log_fds(f->dir) <= MAX_LOG_FDS);
	}
	for (int i = 59; i >= 0; i--) { /* backwards: each lookup warms a cold segment */
		assert_int_equal(kp_log_offset_for_timestamp(log, 1000 + i, &ts, &err), 2 * i);
		assert_int_equal(ts, 1000 + i);
		assert_true(log_fds(f->dir) <= MAX_LOG_FDS);
	}
	kp_log_close(log);
	assert_int_equal(log_fds(f->dir), 0);
}

/* The descriptors kp_log_read_ranges hands out stay open after the call, even for cold segments. */
static void test_ranges_keep_their_descriptors(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct kp_log_range r[8];
	kp_error err;
	size_t n;
	uint8_t raw[8];
	kp_log *log = open_filled(f, &cfg);

	for (int64_t o = 0; o < 120; o += 2) /* everything cold but a few */
		assert_int_equal(first_base(log, o, &err), o);
	assert_int_equal(kp_log_read_ranges(log, 0, INT64_MAX, 1 << 20, r, 8, &n, &err), 0);
	assert_int_equal(n, 8); /* one per segment, segments 0..7 */
	for (size_t i = 0; i < n; i++) {
		assert_true(fcntl(r[i].fd, F_GETFD) >= 0);
		assert_int_equal(pread(r[i].fd, raw, 8, r[i].pos), 8);
		assert_int_equal((int64_t)kp_load_u64(raw), 6 * (int64_t)i); /* 3 batches of 2 a segment */
	}
	kp_log_close(log);
}

/*
 * Several reads of one log for one answer (a Fetch naming a partition
 * twice) keep every range's descriptor open until the caller, holding its
 * duplicates, calls kp_log_cool_idle: reading six cold segments one after
 * the other leaves all six readable, and the cooling afterwards brings the
 * log back under its bound.
 */
static void test_reads_keep_ranges_until_cooled(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct kp_log_range r[6];
	kp_error err;
	size_t n;
	uint8_t raw[8];
	kp_log *log = open_filled(f, &cfg);

	assert_int_equal(first_base(log, 118, &err), 118); /* the early segments go cold */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(kp_log_read_ranges(log, 6 * i, INT64_MAX, 1, &r[i], 1, &n, &err), 0);
		assert_int_equal(n, 1);
	}
	for (int i = 0; i < 6; i++) {
		assert_int_equal(pread(r[i].fd, raw, 8, r[i].pos), 8);
		assert_int_equal((int64_t)kp_load_u64(raw), 6 * i);
	}
	assert_true(log_fds(f->dir) > MAX_LOG_FDS - 3);
	kp_log_cool_idle(log);
	assert_true(log_fds(f->dir) <= MAX_LOG_FDS);
	kp_log_close(log);
}

/* A reopened log opens only what it needs; recovery and reads see everything. */
static void test_reopen_keeps_few_open(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_error err;
	kp_log *log = open_filled(f, &cfg);

	kp_log_close(log);
	log = open_log(f, &cfg);
	assert_true(log_fds(f->dir) <= MAX_LOG_FDS);
	assert_int_equal(kp_log_end_offset(log), 120);
	assert_int_equal(first_base(log, 7, &err), 6);
	assert_int_equal(first_base(log, 119, &err), 118);
	kp_log_close(log);
}

/* A follower's truncation into a cold segment cuts it and appends go on from there. */
static void test_truncate_into_cold_segment(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_error err;
	kp_log *log = open_filled(f, &cfg);

	assert_int_equal(first_base(log, 118, &err), 118); /* the early segments go cold */
	assert_int_equal(kp_log_truncate_to(log, 10, &err), 0);
	assert_int_equal(kp_log_end_offset(log), 10);
	fill(log, 1);
	assert_int_equal(kp_log_end_offset(log), 12);
	assert_int_equal(first_base(log, 10, &err), 10);
	assert_int_equal(first_base(log, 3, &err), 2);
	kp_log_close(log);
}

/* A cold segment whose file was cut behind the log's back is an error for reads of it, not for the rest. */
static void test_changed_cold_segment_reported(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	char path[256];
	kp_error err;
	kp_log *log = open_filled(f, &cfg);

	assert_int_equal(first_base(log, 118, &err), 118);
	snprintf(path, sizeof path, "%s/%020d.log", f->dir, 0);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(first_base(log, 1, &err), -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	assert_non_null(strstr(err.msg, "00000000000000000000.log"));
	assert_int_equal(first_base(log, 60, &err), 60);
	kp_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_through_cold_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_keep_their_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_keep_ranges_until_cooled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_few_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_into_cold_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_cold_segment_reported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
