/*
 * test_log.c - unit tests of lib/log: offsets, reads, rolls, reopen, crash
 * recovery (torn, garbage and corrupt tails), index rebuild, lookup by
 * timestamp, truncation, and the flush policy (an append whose flush job
 * cannot be made is refused unwritten). Each test works in its own mkdtemp directory:
 *
 *   /tmp/kplog-XXXXXX/
 *   `-- t-0/                 the partition directory (created by kp_log_open)
 *       |-- 00000000000000000000.log / .index / .timeindex
 *       `-- recovery-point
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/flusher.h"
#include "log/log.h"
#include "record/batch.h"
#include "util/buf.h"

#define LOG_FIXTURE_TEMPLATE "/tmp/kplog-XXXXXX"
#include "log_fixture.h"

/* make_batch - append to `b` a valid v2 batch of `n` records with max timestamp `ts`. */
static void make_batch(kp_buf *b, int n, int64_t ts)
{
	put_batch(b, 999, 0, n, ts, "hello"); /* baseOffset 999: rewritten by the log */
}

/* append_n - append one batch of `n` records; returns its base offset. */
static int64_t append_n(kp_log *log, int n, int64_t ts)
{
	int64_t base, last;
	kp_error err;
	kp_buf b;

	kp_buf_init(&b);
	make_batch(&b, n, ts);
	if (kp_log_append(log, b.data, b.len, 7, &base, &last, NULL, &err) < 0)
		fail_msg("append: %s", err.msg);
	assert_int_equal(last, base + n - 1);
	kp_buf_free(&b);
	return base;
}

/* read_bases - read from `offset` and collect the batch base offsets; returns their count. */
static int read_bases(kp_log *log, int64_t offset, int64_t max_offset, size_t max_bytes, int64_t *bases,
		      size_t *bytes)
{
	kp_error err;
	kp_buf out;
	size_t off = 0;
	int n = 0;

	kp_buf_init(&out);
	if (kp_log_read(log, offset, max_offset, max_bytes, &out, &err) < 0)
		fail_msg("read: %s", err.msg);
	while (off < out.len) {
		long sz = kp_batch_validate(out.data + off, out.len - off, NULL, &err);

		assert_true(sz > 0);
		assert_int_equal((int32_t)kp_load_u32(out.data + off + 12), 7);
		bases[n++] = (int64_t)kp_load_u64(out.data + off);
		off += (size_t)sz;
	}
	if (bytes)
		*bytes = out.len;
	kp_buf_free(&out);
	return n;
}

static char *seg_file(struct fx *f, int64_t base, const char *ext)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%020lld%s", f->dir, (long long)base, ext);
	return path;
}

static void test_append_offsets(void **state)
{
	kp_log *log = open_log(*state, NULL);
	int64_t base, last;
	kp_error err;
	kp_buf b;

	assert_int_equal(kp_log_start_offset(log), 0);
	assert_int_equal(kp_log_end_offset(log), 0);
	assert_int_equal(append_n(log, 3, 100), 0);
	assert_int_equal(append_n(log, 1, 200), 3);
	assert_int_equal(append_n(log, 5, 300), 4);
	kp_buf_init(&b);
	make_batch(&b, 2, 400);
	make_batch(&b, 4, 500);
	assert_int_equal(kp_log_append(log, b.data, b.len, 7, &base, &last, NULL, &err), 0);
	assert_int_equal(base, 9);
	assert_int_equal(last, 14);
	assert_int_equal(kp_load_u64(b.data), 9);
	assert_int_equal(kp_log_end_offset(log), 15);
	assert_true(kp_log_size_bytes(log) > 0);
	kp_buf_free(&b);
	kp_log_close(log);
}

static void test_read(void **state)
{
	kp_log *log = open_log(*state, NULL);
	int64_t bases[16];
	size_t bytes, one;
	kp_error err;
	kp_buf out;

	append_n(log, 3, 100);
	append_n(log, 1, 200);
	append_n(log, 5, 300);
	assert_int_equal(read_bases(log, 0, INT64_MAX, 1 << 20, bases, &bytes), 3);
	assert_int_equal(bases[0], 0);
	assert_int_equal(bases[1], 3);
	assert_int_equal(bases[2], 4);
	assert_int_equal(read_bases(log, 6, INT64_MAX, 1 << 20, bases, NULL), 1);
	assert_int_equal(bases[0], 4);
	assert_int_equal(read_bases(log, 1, INT64_MAX, 1 << 20, bases, NULL), 3);
	assert_int_equal(read_bases(log, 9, INT64_MAX, 1 << 20, bases, NULL), 0);
	kp_buf_init(&out);
	assert_int_equal(kp_log_read(log, 10, INT64_MAX, 1 << 20, &out, &err), -1);
	assert_int_equal(err.code, KP_ERANGE);
	assert_int_equal(kp_log_read(log, -1, INT64_MAX, 1 << 20, &out, &err), -1);
	assert_int_equal(err.code, KP_ERANGE);
	assert_int_equal(out.len, 0);
	kp_buf_free(&out);
	/* max_bytes: the first batch whole, then only what fits */
	assert_int_equal(read_bases(log, 0, INT64_MAX, 1, bases, &one), 1);
	assert_true(one > 1);
	assert_int_equal(read_bases(log, 0, INT64_MAX, bytes - 1, bases, NULL), 2);
	assert_int_equal(read_bases(log, 0, INT64_MAX, bytes, bases, NULL), 3);
	/* max_offset: stop before a batch whose base offset is >= it */
	assert_int_equal(read_bases(log, 0, 4, 1 << 20, bases, NULL), 2);
	assert_int_equal(read_bases(log, 0, 3, 1 << 20, bases, NULL), 1);
	assert_int_equal(read_bases(log, 0, 0, 1 << 20, bases, NULL), 0);
	assert_int_equal(read_bases(log, 5, 5, 1 << 20, bases, NULL), 1);
	kp_log_close(log);
}

static void small_config(struct kp_log_config *cfg)
{
	kp_log_config_default(cfg);
	cfg->segment_bytes = 300;
	cfg->index_interval_bytes = 0;
}

static void test_roll_and_reopen(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_log *log;
	int64_t bases[64];
	int i, n;

	small_config(&cfg);
	log = open_log(f, &cfg);
	for (i = 0; i < 20; i++)
		assert_int_equal(append_n(log, 2, 1000 + i), 2 * i);
	assert_true(file_size(seg_file(f, 0, ".log")) <= 300);
	assert_true(file_size(seg_file(f, 0, ".index")) > 0);
	assert_true(file_size(seg_file(f, 36, ".log")) > 0); /* 3 batches of 85 bytes per segment */
	n = read_bases(log, 0, INT64_MAX, 1 << 20, bases, NULL);
	assert_int_equal(n, 20);
	for (i = 0; i < 40; i++) {
		assert_true(read_bases(log, i, INT64_MAX, 1, bases, NULL) == 1);
		assert_int_equal(bases[0], i & ~1);
	}
	kp_log_close(log);
	assert_int_equal(file_size(seg_file(f, 0, ".timeindex")) % 12, 0);

	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 40);
	assert_int_equal(append_n(log, 3, 5000), 40);
	for (i = 0; i < 43; i++) {
		assert_true(read_bases(log, i, INT64_MAX, 1, bases, NULL) == 1);
		assert_int_equal(bases[0], i < 40 ? (i & ~1) : 40);
	}
	kp_log_close(log);
}

/* crash_append - in a child: open, append `batches` batches of 2 records, exit without closing. */
static void crash_append(struct fx *f, const struct kp_log_config *cfg, int batches)
{
	kp_log *log = crash_child(f, cfg);

	if (!log)
		return;
	for (int i = 0; i < batches; i++)
		append_n(log, 2, 100 + i);
	_exit(0);
}

static void append_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* reopen_expect - reopen after a crash: the log ends at `end` and appends continue there. */
static void reopen_expect(struct fx *f, const struct kp_log_config *cfg, int64_t end, off_t good_size)
{
	kp_log *log = open_log(f, cfg);
	int64_t bases[64];

	assert_int_equal(kp_log_end_offset(log), end);
	if (good_size >= 0)
		assert_int_equal(file_size(seg_file(f, 0, ".log")), good_size);
	assert_int_equal(append_n(log, 1, 900), end);
	assert_int_equal(read_bases(log, end, INT64_MAX, 1 << 20, bases, NULL), 1);
	assert_int_equal(bases[0], end);
	kp_log_close(log);
}

static void test_crash_garbage_tail(void **state)
{
	struct fx *f = *state;
	off_t good;

	crash_append(f, NULL, 4);
	good = file_size(seg_file(f, 0, ".log"));
	append_file(seg_file(f, 0, ".log"), "garbage garbage garbage garbage garbage garbage garbage garbage!", 64);
	reopen_expect(f, NULL, 8, good);
}

static void test_crash_half_batch(void **state)
{
	struct fx *f = *state;
	kp_buf b;
	off_t good;

	crash_append(f, NULL, 3);
	good = file_size(seg_file(f, 0, ".log"));
	kp_buf_init(&b);
	make_batch(&b, 3, 5);
	kp_store_u64(b.data, 6);
	append_file(seg_file(f, 0, ".log"), b.data, b.len / 2);
	kp_buf_free(&b);
	reopen_expect(f, NULL, 6, good);
}

static void test_crash_flipped_crc(void **state)
{
	struct fx *f = *state;
	off_t before, after;
	char c;
	int fd;

	crash_append(f, NULL, 2);
	before = file_size(seg_file(f, 0, ".log"));
	crash_append(f, NULL, 1);
	after = file_size(seg_file(f, 0, ".log"));
	fd = open(seg_file(f, 0, ".log"), O_RDWR);
	assert_int_equal(pread(fd, &c, 1, after - 3), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, after - 3), 1);
	close(fd);
	reopen_expect(f, NULL, 4, before);
}

/* recovery point present: closed cleanly at 4, then 2 more batches and a torn tail after a crash */
static void test_crash_after_clean_close(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_log *log;
	off_t good;

	small_config(&cfg);
	cfg.segment_bytes = 1 << 20;
	log = open_log(f, &cfg);
	append_n(log, 2, 1);
	append_n(log, 2, 2);
	kp_log_close(log);
	crash_append(f, &cfg, 2);
	good = file_size(seg_file(f, 0, ".log"));
	append_file(seg_file(f, 0, ".log"), "\0\0\0\0\0\0\0\x08\0\0\0\x40junk", 16);
	reopen_expect(f, &cfg, 8, good);
}

/* a crash in a rolled log: a bad batch in an earlier segment drops the later ones */
static void test_crash_drops_later_segments(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	char c = 0x55;
	int fd;

	small_config(&cfg);
	crash_append(f, &cfg, 10);
	assert_true(file_size(seg_file(f, 18, ".log")) > 0);
	fd = open(seg_file(f, 0, ".log"), O_RDWR);
	assert_int_equal(pwrite(fd, &c, 1, file_size(seg_file(f, 0, ".log")) - 2), 1);
	close(fd);
	/* 85-byte batches, 3 per 300-byte segment: segments 0, 6, 12, 18 */
	reopen_expect(f, &cfg, 4, 2 * 85);
	assert_int_equal(file_size(seg_file(f, 6, ".log")), -1);
	assert_int_equal(file_size(seg_file(f, 18, ".index")), -1);
}

static void test_corrupt_append_rejected(void **state)
{
	struct fx *f = *state;
	kp_log *log = open_log(f, NULL);
	int64_t base = -5;
	kp_error err;
	kp_buf b;

	append_n(log, 2, 1);
	kp_buf_init(&b);
	make_batch(&b, 2, 2);
	make_batch(&b, 2, 3);
	b.data[b.len - 1] ^= 1;
	assert_int_equal(kp_log_append(log, b.data, b.len, 7, &base, NULL, NULL, &err), -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	assert_int_equal(base, -5);
	assert_int_equal(kp_load_u64(b.data), 999);
	assert_int_equal(kp_log_append(log, b.data, b.len - 10, 7, NULL, NULL, NULL, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	assert_int_equal(kp_log_append(log, b.data, 0, 7, NULL, NULL, NULL, &err), -1);
	assert_int_equal(kp_log_end_offset(log), 2);
	kp_buf_free(&b);
	kp_log_close(log);
}

static void test_index_rebuilt(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t bases[4];
	off_t isz, tsz;
	kp_log *log;
	int i;

	kp_log_config_default(&cfg);
	cfg.index_interval_bytes = 0;
	log = open_log(f, &cfg);
	for (i = 0; i < 10; i++)
		append_n(log, 3, 100 * i);
	kp_log_close(log);
	isz = file_size(seg_file(f, 0, ".index"));
	tsz = file_size(seg_file(f, 0, ".timeindex"));
	assert_int_equal(isz, 9 * 8);
	assert_true(tsz >= 9 * 12);
	assert_int_equal(unlink(seg_file(f, 0, ".index")), 0);
	assert_int_equal(truncate(seg_file(f, 0, ".timeindex"), 0), 0);
	log = open_log(f, &cfg);
	assert_int_equal(file_size(seg_file(f, 0, ".index")), isz);
	assert_true(file_size(seg_file(f, 0, ".timeindex")) >= 9 * 12);
	for (i = 0; i < 30; i++) {
		assert_int_equal(read_bases(log, i, INT64_MAX, 1, bases, NULL), 1);
		assert_int_equal(bases[0], i - i % 3);
	}
	assert_int_equal(kp_log_offset_for_timestamp(log, 450, NULL, NULL), 15);
	kp_log_close(log);
}

static void test_offset_for_timestamp(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t ts = 0;
	kp_error err;
	kp_log *log;
	int i;

	small_config(&cfg);
	log = open_log(f, &cfg);
	for (i = 0; i < 20; i++)
		append_n(log, 2, 1000 + 10 * i);
	assert_int_equal(kp_log_offset_for_timestamp(log, 0, &ts, &err), 0);
	assert_int_equal(ts, 1000);
	assert_int_equal(kp_log_offset_for_timestamp(log, 1055, &ts, &err), 12);
	assert_int_equal(ts, 1060);
	assert_int_equal(kp_log_offset_for_timestamp(log, 1190, &ts, &err), 38);
	assert_int_equal(kp_log_offset_for_timestamp(log, 1191, &ts, &err), -1);
	assert_int_equal(err.code, KP_EOK);
	kp_log_close(log);
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_offset_for_timestamp(log, 1101, &ts, &err), 22);
	kp_log_close(log);
}

static void test_truncate_to(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t bases[4];
	kp_log *log;
	int i;

	small_config(&cfg);
	log = open_log(f, &cfg);
	for (i = 0; i < 20; i++)
		append_n(log, 2, 1000 + i);
	assert_int_equal(kp_log_truncate_to(log, 13, NULL), 0);
	assert_int_equal(kp_log_end_offset(log), 12);
	assert_int_equal(append_n(log, 1, 5), 12);
	assert_int_equal(read_bases(log, 11, INT64_MAX, 1 << 20, bases, NULL) >= 2, 1);
	assert_int_equal(bases[1], 12);
	kp_log_close(log);
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 13);
	kp_log_close(log);
}

static void test_flush_policy(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	char path[160], text[32] = "";
	kp_log *log;
	FILE *fp;

	kp_log_config_default(&cfg);
	cfg.flush_messages = 3;
	log = open_log(f, &cfg);
	append_n(log, 2, 1);
	snprintf(path, sizeof path, "%s/recovery-point", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	append_n(log, 2, 2);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof text, fp));
	fclose(fp);
	assert_string_equal(text, "4\n");
	kp_log_close(log);
}

/* read_rp - the recovery-point file's offset, or -1 when it is absent. */
static long long read_rp(struct fx *f)
{
	char path[160], text[32] = "";
	FILE *fp;

	snprintf(path, sizeof path, "%s/recovery-point", f->dir);
	if (!(fp = fopen(path, "r")))
		return -1;
	assert_non_null(fgets(text, sizeof text, fp));
	fclose(fp);
	return atoll(text);
}

/* with a flusher the message policy fsyncs on its thread; the recovery point follows on poll */
static void test_flush_async(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_flusher *fl;
	kp_error err;
	kp_log *log;

	assert_int_equal(kp_flusher_new(&fl, &err), 0);
	small_config(&cfg);
	cfg.flush_messages = 2;
	cfg.flusher = fl;
	log = open_log(f, &cfg);
	append_n(log, 1, 1);
	assert_int_equal(kp_log_recovery_point(log), 0);
	for (int i = 0; i < 40; i++) /* rolls, and flushes asked for while one is in flight */
		append_n(log, 3, 2 + i);
	assert_int_equal(kp_log_recovery_point(log) < 121, 1);
	await_rp(fl, log, 121);
	assert_int_equal(read_rp(f), 121);
	append_n(log, 5, 100); /* in flight (or done) when closed: close waits and flushes */
	kp_log_close(log);
	assert_int_equal(read_rp(f), 126);
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 126);
	kp_log_close(log);
	kp_flusher_free(fl);
}

/* log.flush.interval.ms: kp_log_flush_tick flushes data older than flush_ms */
static void test_flush_tick(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_flusher *fl;
	kp_error err;
	kp_log *log;

	assert_int_equal(kp_flusher_new(&fl, &err), 0);
	kp_log_config_default(&cfg);
	cfg.flush_ms = 60000;
	cfg.flusher = fl;
	log = open_log(f, &cfg);
	append_n(log, 4, 1);
	assert_int_equal(kp_log_flush_tick(log, 0, &err), 0); /* not due */
	assert_int_equal(kp_log_flush_tick(log, INT64_MAX / 2, &err), 0);
	await_rp(fl, log, 4);
	assert_int_equal(read_rp(f), 4);
	assert_int_equal(kp_log_truncate_to(log, 2, &err), 0);
	assert_int_equal(read_rp(f), 0);
	kp_log_close(log);
	kp_flusher_free(fl);
}

/* lowest_free_fd - the descriptor the next open/dup would get. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

/*
 * A produce whose flush job cannot be made is refused before anything is
 * written, so the client's retry is no duplicate: with no descriptor left
 * (RLIMIT_NOFILE at the lowest free one) the job's dup()s fail, and the
 * append that would trigger log.flush.interval.messages returns -1 with
 * the log end offset, the .log size and the leader epoch cache as they
 * were; with descriptors again the retry lands at the same offset, once.
 */
static void test_flush_job_failure_refuses_append(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct rlimit old, low;
	int64_t bases[8];
	kp_flusher *fl;
	kp_error err;
	kp_log *log;
	off_t size;
	kp_buf b;
	int rc;

	assert_int_equal(kp_flusher_new(&fl, &err), 0);
	kp_log_config_default(&cfg);
	cfg.flush_messages = 2;
	cfg.flusher = fl;
	log = open_log(f, &cfg);
	append_n(log, 2, 1); /* a flush: wait for it, so that the next append makes a job */
	await_rp(fl, log, 2);
	size = file_size(seg_file(f, 0, ".log"));
	kp_buf_init(&b);
	make_batch(&b, 3, 2);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = kp_log_append(log, b.data, b.len, 8, NULL, NULL, NULL, &err); /* epoch 8: a new one */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, KP_EIO);
	assert_int_equal(kp_log_end_offset(log), 2);
	assert_int_equal(file_size(seg_file(f, 0, ".log")), size);
	assert_int_equal(kp_log_latest_epoch(log), 7);
	assert_int_equal(kp_log_recovery_point(log), 2);
	assert_int_equal(append_n(log, 3, 2), 2); /* the retry */
	await_rp(fl, log, 5);
	kp_buf_free(&b);
	kp_log_close(log);
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 5);
	assert_int_equal(read_bases(log, 0, INT64_MAX, 1 << 20, bases, NULL), 2);
	assert_int_equal(bases[1], 2);
	assert_int_equal(kp_log_latest_epoch(log), 7);
	kp_log_close(log);
	kp_flusher_free(fl);
}

/* touch - create an empty file at `path`. */
static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	close(fd);
}

/* a crash right after a roll: the new active segment's files exist but are empty */
static void test_crash_empty_active_segment(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t bases[8];
	kp_log *log;

	small_config(&cfg);
	crash_append(f, &cfg, 3); /* 3 batches of 85 bytes fill segment 0 */
	touch(seg_file(f, 6, ".log"));
	touch(seg_file(f, 6, ".index"));
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 6);
	assert_int_equal(append_n(log, 2, 50), 6);
	assert_int_equal(read_bases(log, 0, INT64_MAX, 1 << 20, bases, NULL), 4);
	assert_int_equal(bases[3], 6);
	kp_log_close(log);
	/* and with only the .log left of it (index files never created) */
	unlink(seg_file(f, 6, ".index"));
	unlink(seg_file(f, 6, ".timeindex"));
	touch(seg_file(f, 8, ".log"));
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 8);
	assert_int_equal(read_bases(log, 5, INT64_MAX, 1 << 20, bases, NULL), 2);
	assert_int_equal(append_n(log, 1, 60), 8);
	kp_log_close(log);
}

/*
 * An empty segment in the middle of the log is skipped by reads; a later
 * segment whose first batch is bad is cut to nothing but kept, so its base
 * offset stays the log end offset (offsets are never handed out twice).
 */
static void test_empty_middle_segment(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t bases[8];
	char from[256];
	kp_log *log;

	small_config(&cfg);
	crash_append(f, &cfg, 4); /* segments 0 (offsets 0-5) and 6 (6-7) */
	snprintf(from, sizeof from, "%s", seg_file(f, 6, ".log"));
	assert_int_equal(rename(from, seg_file(f, 20, ".log")), 0);
	unlink(seg_file(f, 6, ".index"));
	unlink(seg_file(f, 6, ".timeindex"));
	touch(seg_file(f, 6, ".log")); /* 6: empty; 20: a batch whose offsets (6-7) are below its base */
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 20);
	assert_int_equal(file_size(seg_file(f, 20, ".log")), 0);
	assert_int_equal(append_n(log, 1, 70), 20);
	assert_int_equal(read_bases(log, 4, INT64_MAX, 1 << 20, bases, NULL), 2);
	assert_int_equal(bases[0], 4);
	assert_int_equal(bases[1], 20);
	kp_log_close(log);
}

/* a recovery point past the end of the data (the tail was lost) */
static void test_recovery_point_beyond_end(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	char path[160];
	kp_log *log;

	small_config(&cfg);
	cfg.segment_bytes = 1 << 20;
	log = open_log(f, &cfg);
	for (int i = 0; i < 5; i++)
		append_n(log, 2, 10 + i);
	kp_log_close(log);
	assert_int_equal(truncate(seg_file(f, 0, ".log"), 3 * 85), 0);
	snprintf(path, sizeof path, "%s/recovery-point", f->dir);
	write_text(path, "1000\n");
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_end_offset(log), 6);
	assert_int_equal(append_n(log, 1, 80), 6);
	assert_int_equal(kp_log_flush(log, NULL), 0);
	kp_log_close(log);
	reopen_expect(f, &cfg, 7, -1);
}

/* a segment may fill up to exactly log.segment.bytes; the next batch rolls */
static void test_roll_exactly_at_size(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_log *log;

	small_config(&cfg);
	cfg.segment_bytes = 3 * 85;
	log = open_log(f, &cfg);
	for (int i = 0; i < 7; i++)
		append_n(log, 2, 100 + i);
	assert_int_equal(file_size(seg_file(f, 0, ".log")), 3 * 85);
	assert_int_equal(file_size(seg_file(f, 6, ".log")), 3 * 85);
	assert_int_equal(file_size(seg_file(f, 12, ".log")), 85);
	kp_log_close(log);
}

/* a full index rolls the segment; reads and reopen see every batch across the segments */
static void test_index_full_rolls(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	int64_t bases[32];
	size_t bytes;
	kp_log *log;
	int i;

	kp_log_config_default(&cfg);
	cfg.index_interval_bytes = 0;
	cfg.max_index_bytes = 24; /* 3 offset entries, 2 time entries */
	log = open_log(f, &cfg);
	for (i = 0; i < 12; i++)
		assert_int_equal(append_n(log, 2, 100 + i), 2 * i);
	assert_true(file_size(seg_file(f, 0, ".timeindex")) <= 24);
	assert_int_equal(file_size(seg_file(f, 0, ".log")), 3 * 85); /* rolled when the time index filled */
	for (int reopen = 0; reopen < 2; reopen++) {
		for (i = 0; i < 24; i++) {
			assert_int_equal(read_bases(log, i, INT64_MAX, 1, bases, NULL), 1);
			assert_int_equal(bases[0], i & ~1);
		}
		/* one read crossing segment boundaries, cut by max_bytes and by max_offset */
		assert_int_equal(read_bases(log, 3, INT64_MAX, 1 << 20, bases, &bytes), 11);
		assert_int_equal(read_bases(log, 3, INT64_MAX, 5 * 85, bases, NULL), 5);
		assert_int_equal(bases[4], 10);
		assert_int_equal(read_bases(log, 3, 14, 1 << 20, bases, NULL), 6);
		kp_log_close(log);
		log = open_log(f, &cfg);
	}
	kp_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roll_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_garbage_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_half_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_flipped_crc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_clean_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_drops_later_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_append_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offset_for_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_to, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_async, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_job_failure_refuses_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_empty_active_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_middle_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_point_beyond_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roll_exactly_at_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_full_rolls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
