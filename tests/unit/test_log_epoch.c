/*
 * test_log_epoch.c - unit tests of the partition log's leader epoch cache
 * (lib/log/epoch.c; Kafka's LeaderEpochFileCache) and of the follower's
 * append (kp_log_append_replica), on real files in a mkdtemp directory:
 *
 *   /tmp/kpepoch-XXXXXX/
 *   `-- t-0/                       the partition directory
 *       |-- 00000000000000000000.log / .index / .timeindex
 *       |-- recovery-point
 *       `-- leader-epoch-checkpoint  "0\n<n>\n<epoch> <startOffset>\n..."
 *
 * Covered: endOffsetFor over all of Kafka's cases, leader appends with
 * rising and falling epochs, replica appends (contiguity, gaps and
 * overlaps refused, nothing rewritten), truncation from the end and from
 * the start, reset, reopen with the checkpoint, without it (rebuilt from
 * the batch headers), with a corrupt or stale one, after a torn tail, and
 * the flusher thread making it durable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/flusher.h"
#include "log/log.h"
#include "record/batch.h"
#include "util/buf.h"

#define LOG_FIXTURE_TEMPLATE "/tmp/kpepoch-XXXXXX"
#include "log_fixture.h"

/* make_batch - append to `b` a valid v2 batch of `n` records at `base` with partition leader epoch `epoch`. */
static void make_batch(kp_buf *b, int64_t base, int n, int32_t epoch)
{
	put_batch(b, base, epoch, n, 1000 + n - 1, "epoch");
}

/* lead - a leader's append of one batch of `n` records in `epoch`; returns its base offset. */
static int64_t lead(kp_log *log, int n, int32_t epoch)
{
	int64_t base, last;
	kp_error err;
	kp_buf b;

	kp_buf_init(&b);
	make_batch(&b, 999, n, epoch == 99 ? 0 : 99);
	if (kp_log_append(log, b.data, b.len, epoch, &base, &last, NULL, &err) < 0)
		fail_msg("append: %s", err.msg);
	assert_int_equal(last, base + n - 1);
	kp_buf_free(&b);
	return base;
}

/* follow - a replica append of one batch at `base`; returns 0 or the error code. */
static int follow(kp_log *log, int64_t base, int n, int32_t epoch)
{
	int64_t last = -7;
	kp_error err;
	kp_buf b;
	int rc;

	kp_buf_init(&b);
	make_batch(&b, base, n, epoch);
	rc = kp_log_append_replica(log, b.data, b.len, &last, &err);
	kp_buf_free(&b);
	if (rc == 0)
		assert_int_equal(last, base + n - 1);
	else
		assert_int_equal(last, -7);
	return rc == 0 ? 0 : err.code;
}

static void expect_end(kp_log *log, int32_t ask, int32_t epoch, int64_t end)
{
	int32_t got_epoch = -7;
	int64_t got_end = -7;

	kp_log_epoch_end_offset(log, ask, &got_epoch, &got_end);
	if (got_epoch != epoch || got_end != end)
		fail_msg("endOffsetFor(%d): (%d, %lld), expected (%d, %lld)", ask, got_epoch,
			 (long long)got_end, epoch, (long long)end);
}

/* path_of - DIR/name in a static buffer (the next call overwrites it). */
static char *path_of(struct fx *f, const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	return path;
}

/* checkpoint - the checkpoint file's text (static buffer), "" when missing. */
static const char *checkpoint(struct fx *f)
{
	static char text[4096];
	FILE *fp = fopen(path_of(f, "leader-epoch-checkpoint"), "r");
	size_t n = 0;

	text[0] = 0;
	if (fp) {
		n = fread(text, 1, sizeof text - 1, fp);
		fclose(fp);
	}
	text[n] = 0;
	return text;
}

/* log_of_three_epochs - epoch 2 at 0..14 (3 batches), 4 at 15..24, 5 at 25..29. */
static kp_log *log_of_three_epochs(struct fx *f, const struct kp_log_config *cfg)
{
	kp_log *log = open_log(f, cfg);

	assert_int_equal(lead(log, 5, 2), 0);
	lead(log, 5, 2);
	lead(log, 5, 2);
	assert_int_equal(lead(log, 4, 4), 15);
	lead(log, 6, 4);
	assert_int_equal(lead(log, 5, 5), 25);
	assert_int_equal(kp_log_end_offset(log), 30);
	return log;
}

/* endOffsetFor, every case of Kafka's LeaderEpochFileCache */
static void test_end_offset_for(void **state)
{
	struct fx *f = *state;
	kp_log *log = open_log(f, NULL);

	assert_int_equal(kp_log_latest_epoch(log), -1); /* empty */
	assert_int_equal(kp_log_epoch_start_offset(log), -1);
	expect_end(log, 0, -1, -1);
	expect_end(log, 3, -1, -1);
	expect_end(log, -1, -1, -1);
	kp_log_close(log);
	rm_flat(f->dir);

	log = log_of_three_epochs(f, NULL);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	assert_int_equal(kp_log_epoch_start_offset(log), 25);
	expect_end(log, -1, -1, -1); /* UNDEFINED_EPOCH */
	expect_end(log, 0, 0, 0);    /* below every epoch: the epoch asked, first start */
	expect_end(log, 1, 1, 0);
	expect_end(log, -3, -3, 0);
	expect_end(log, 2, 2, 15);   /* a kept epoch: where the next one starts */
	expect_end(log, 3, 2, 15);   /* between: the floor epoch, the next start */
	expect_end(log, 4, 4, 25);
	expect_end(log, 5, 5, 30);   /* the latest: the log end offset */
	expect_end(log, 6, -1, -1);  /* above the latest */
	expect_end(log, INT32_MAX, -1, -1);
	lead(log, 1, 5);             /* the latest keeps following the log end */
	expect_end(log, 5, 5, 31);
	assert_string_equal(checkpoint(f), "0\n3\n2 0\n4 15\n5 25\n");
	kp_log_close(log);
}

/* a leader append with a lower or undefined epoch is written but not recorded */
static void test_leader_lower_epoch_ignored(void **state)
{
	struct fx *f = *state;
	kp_log *log = log_of_three_epochs(f, NULL);
	kp_buf out;
	kp_error err;

	assert_int_equal(lead(log, 2, 3), 30);
	assert_int_equal(lead(log, 2, -1), 32);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	assert_int_equal(kp_log_epoch_start_offset(log), 25);
	kp_buf_init(&out);
	assert_int_equal(kp_log_read(log, 30, INT64_MAX, 1, &out, &err), 0);
	assert_int_equal((int32_t)kp_load_u32(out.data + 12), 3); /* the batch has it all the same */
	kp_buf_free(&out);
	assert_int_equal(lead(log, 1, 9), 34);
	expect_end(log, 5, 5, 34);
	expect_end(log, 7, 5, 34);
	expect_end(log, 9, 9, 35);
	kp_log_close(log);
}

/* follower appends keep the leader's offsets and epochs; gaps and overlaps are refused */
static void test_replica_append(void **state)
{
	struct fx *f = *state;
	kp_log *log = open_log(f, NULL);
	int64_t last = -1, size;
	kp_error err;
	kp_buf b, out;

	kp_buf_init(&b);
	make_batch(&b, 0, 5, 1);
	make_batch(&b, 5, 5, 1);
	make_batch(&b, 10, 3, 3);
	make_batch(&b, 13, 2, 2); /* a lower epoch: kept in the batch, not in the cache */
	assert_int_equal(kp_log_append_replica(log, b.data, b.len, &last, &err), 0);
	assert_int_equal(last, 14);
	assert_int_equal(kp_log_end_offset(log), 15);
	assert_int_equal(kp_log_latest_epoch(log), 3);
	assert_int_equal(kp_log_epoch_start_offset(log), 10);
	expect_end(log, 1, 1, 10);
	expect_end(log, 2, 1, 10);
	expect_end(log, 3, 3, 15);
	kp_buf_init(&out);
	assert_int_equal(kp_log_read(log, 0, INT64_MAX, 1 << 20, &out, &err), 0);
	assert_int_equal(out.len, b.len);
	assert_memory_equal(out.data, b.data, b.len); /* byte for byte the leader's */
	kp_buf_free(&out);
	kp_buf_free(&b);

	size = kp_log_size_bytes(log);
	assert_int_equal(follow(log, 16, 2, 4), KP_ERANGE);  /* gap */
	assert_int_equal(follow(log, 14, 2, 4), KP_ERANGE);  /* overlap */
	assert_int_equal(follow(log, 10, 2, 4), KP_ERANGE);  /* wholly below the end */
	assert_int_equal(follow(log, 0, 2, 4), KP_ERANGE);
	kp_buf_init(&b);                                       /* a gap inside the buffer */
	make_batch(&b, 15, 2, 4);
	make_batch(&b, 18, 2, 4);
	assert_int_equal(kp_log_append_replica(log, b.data, b.len, NULL, &err), -1);
	assert_int_equal(err.code, KP_ERANGE);
	kp_buf_reset(&b);                                      /* an overlap inside the buffer */
	make_batch(&b, 15, 2, 4);
	make_batch(&b, 16, 2, 4);
	assert_int_equal(kp_log_append_replica(log, b.data, b.len, NULL, &err), -1);
	assert_int_equal(err.code, KP_ERANGE);
	kp_buf_reset(&b);                                      /* a bad CRC */
	make_batch(&b, 15, 2, 4);
	b.data[b.len - 1] ^= 1;
	assert_int_equal(kp_log_append_replica(log, b.data, b.len, NULL, &err), -1);
	assert_int_equal(err.code, KP_ECORRUPT);
	assert_int_equal(kp_log_append_replica(log, b.data, 0, NULL, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	kp_buf_free(&b);
	assert_int_equal(kp_log_size_bytes(log), size);     /* nothing written */
	assert_int_equal(kp_log_end_offset(log), 15);
	assert_int_equal(kp_log_latest_epoch(log), 3);

	assert_int_equal(follow(log, 15, 2, 4), 0);
	assert_int_equal(follow(log, 17, 1, 6), 0);
	assert_string_equal(checkpoint(f), "0\n4\n1 0\n3 10\n4 15\n6 17\n");
	kp_log_close(log);
}

/* truncateFromEnd: entries at or past the new end go; a leader's new epoch follows */
static void test_truncate(void **state)
{
	struct fx *f = *state;
	kp_log *log = log_of_three_epochs(f, NULL);

	assert_int_equal(kp_log_truncate_to(log, 40, NULL), 0); /* past the end: nothing */
	assert_int_equal(kp_log_latest_epoch(log), 5);
	assert_int_equal(kp_log_truncate_to(log, 25, NULL), 0);
	assert_int_equal(kp_log_latest_epoch(log), 4);
	expect_end(log, 4, 4, 25);
	expect_end(log, 5, -1, -1);
	assert_string_equal(checkpoint(f), "0\n2\n2 0\n4 15\n");
	assert_int_equal(kp_log_truncate_to(log, 17, NULL), 0); /* inside the batch 15..18: it goes */
	assert_int_equal(kp_log_end_offset(log), 15);
	assert_int_equal(kp_log_latest_epoch(log), 2);
	expect_end(log, 2, 2, 15);
	assert_int_equal(follow(log, 15, 3, 7), 0); /* a follower takes the new leader's epoch */
	expect_end(log, 2, 2, 15);
	expect_end(log, 4, 2, 15);
	expect_end(log, 7, 7, 18);
	assert_int_equal(kp_log_truncate_to(log, 0, NULL), 0);
	assert_int_equal(kp_log_latest_epoch(log), -1);
	assert_string_equal(checkpoint(f), "0\n0\n");
	kp_log_close(log);
	log = open_log(f, NULL);
	assert_int_equal(kp_log_latest_epoch(log), -1);
	kp_log_close(log);
}

/* truncateFromStart: entries wholly below go, the one holding the start moves there; reset empties */
static void test_advance_start_and_reset(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_log *log;

	kp_log_config_default(&cfg);
	cfg.segment_bytes = 300; /* ~95-byte batches: 3 per segment */
	log = log_of_three_epochs(f, &cfg);
	assert_int_equal(kp_log_advance_start(log, 0, NULL), 0);
	assert_string_equal(checkpoint(f), "0\n3\n2 0\n4 15\n5 25\n");
	assert_true(kp_log_advance_start(log, 15, NULL) >= 0); /* exactly at an epoch's start */
	assert_string_equal(checkpoint(f), "0\n2\n4 15\n5 25\n");
	expect_end(log, 2, 2, 15);                              /* below every epoch kept */
	assert_true(kp_log_advance_start(log, 27, NULL) >= 0);
	assert_string_equal(checkpoint(f), "0\n1\n5 27\n");
	assert_int_equal(kp_log_epoch_start_offset(log), 27);
	expect_end(log, 4, 4, 27);
	expect_end(log, 5, 5, 30);
	assert_true(kp_log_advance_start(log, 30, NULL) >= 0); /* to the end: (5, 30) wrote nothing */
	assert_string_equal(checkpoint(f), "0\n1\n5 30\n");
	assert_int_equal(lead(log, 2, 6), 30);                 /* so a new epoch replaces it */
	assert_string_equal(checkpoint(f), "0\n1\n6 30\n");
	expect_end(log, 5, 5, 30);
	kp_log_truncate_to(log, 30, NULL);
	assert_int_equal(follow(log, 30, 1, 5), 0);
	assert_int_equal(follow(log, 31, 1, 6), 0);
	assert_int_equal(follow(log, 32, 1, 7), 0);
	assert_string_equal(checkpoint(f), "0\n3\n5 30\n6 31\n7 32\n");
	kp_log_close(log);

	log = open_log(f, &cfg); /* the start is kept (log-start-offset) */
	assert_int_equal(kp_log_start_offset(log), 30);
	assert_int_equal(kp_log_latest_epoch(log), 7);
	assert_int_equal(kp_log_epoch_start_offset(log), 32);
	expect_end(log, 6, 6, 32);
	assert_int_equal(kp_log_reset_at(log, 100, NULL), 0);
	assert_int_equal(kp_log_latest_epoch(log), -1);
	assert_string_equal(checkpoint(f), "0\n0\n");
	assert_int_equal(follow(log, 100, 2, 8), 0);
	expect_end(log, 8, 8, 102);
	kp_log_close(log);
	log = open_log(f, &cfg);
	assert_string_equal(checkpoint(f), "0\n1\n8 100\n");
	expect_end(log, 3, 3, 100);
	kp_log_close(log);
}

/* reopen: the checkpoint is read back; a missing or corrupt one is rebuilt from the batches */
static void test_reopen_and_rebuild(void **state)
{
	static const char *want = "0\n3\n2 0\n4 15\n5 25\n";
	static const char *bad[] = {
		"", "0\n", "1\n1\n2 0\n", "0\n3\n2 0\n4 15\n", "0\n2\n2 0\n4 15\n5 25\n",
		"0\n2\n4 0\n2 15\n", "0\n1\n2 x\n", "garbage", "0\n1\n-1 0\n", "0\n1\n2 0 7\n",
	};
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_log *log;

	kp_log_config_default(&cfg);
	cfg.segment_bytes = 300; /* several segments, to rebuild across them */
	log = log_of_three_epochs(f, &cfg);
	kp_log_close(log);
	assert_string_equal(checkpoint(f), want);

	log = open_log(f, &cfg);
	expect_end(log, 3, 2, 15);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	kp_log_close(log);
	assert_string_equal(checkpoint(f), want);

	assert_int_equal(unlink(path_of(f, "leader-epoch-checkpoint")), 0);
	log = open_log(f, &cfg);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	expect_end(log, 2, 2, 15);
	expect_end(log, 4, 4, 25);
	assert_string_equal(checkpoint(f), want); /* written again at open */
	kp_log_close(log);

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_text(path_of(f, "leader-epoch-checkpoint"), bad[i]);
		log = open_log(f, &cfg);
		if (kp_log_latest_epoch(log) != 5 || kp_log_epoch_start_offset(log) != 25)
			fail_msg("checkpoint %zu not rebuilt", i);
		expect_end(log, 3, 2, 15);
		kp_log_close(log);
		assert_string_equal(checkpoint(f), want);
	}

	write_text(path_of(f, "leader-epoch-checkpoint"), "0\n3\n2 0\t\n4   15\n5 25\n"); /* Kafka splits on \s+ */
	log = open_log(f, &cfg);
	expect_end(log, 4, 4, 25);
	kp_log_close(log);
}

/* entries at or above the recovery point are re-learnt from the batches, not trusted */
static void test_stale_checkpoint_above_recovery_point(void **state)
{
	struct fx *f = *state;
	kp_log *log = log_of_three_epochs(f, NULL);

	kp_log_close(log);
	write_text(path_of(f, "recovery-point"), "12\n");
	write_text(path_of(f, "leader-epoch-checkpoint"), "0\n3\n2 0\n3 12\n9 13\n");
	log = open_log(f, NULL);
	assert_int_equal(kp_log_end_offset(log), 30);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	expect_end(log, 3, 2, 15);
	kp_log_close(log);
	assert_string_equal(checkpoint(f), "0\n3\n2 0\n4 15\n5 25\n");

	write_text(path_of(f, "leader-epoch-checkpoint"), "0\n1\n2 0\n"); /* behind: caught up */
	log = open_log(f, NULL);
	expect_end(log, 4, 4, 25);
	kp_log_close(log);
}

/* crash_lead - in a child: open, a leader's append of a batch of `n` in `epoch`, exit without closing */
static void crash_lead(struct fx *f, int n, int32_t epoch)
{
	kp_log *log = crash_child(f, NULL);

	if (!log)
		return;
	lead(log, n, epoch);
	_exit(0);
}

/* a torn tail cut by recovery takes the epochs that started in it along */
static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	kp_log *log = log_of_three_epochs(f, NULL);
	char seg[256];
	off_t good;

	snprintf(seg, sizeof seg, "%s", path_of(f, "00000000000000000000.log"));
	kp_log_close(log); /* recovery point 30 */
	good = file_size(seg);
	crash_lead(f, 4, 8);
	crash_lead(f, 4, 8);
	assert_string_equal(checkpoint(f), "0\n4\n2 0\n4 15\n5 25\n8 30\n"); /* written, not fsynced */
	assert_int_equal(truncate(seg, file_size(seg) - 3), 0);
	log = open_log(f, NULL); /* the second batch of epoch 8 is torn: 8 stays */
	assert_int_equal(kp_log_end_offset(log), 34);
	expect_end(log, 8, 8, 34);
	kp_log_close(log);

	assert_int_equal(truncate(seg, good + 10), 0); /* the first one is torn too: 8 goes */
	write_text(path_of(f, "recovery-point"), "30\n");
	log = open_log(f, NULL);
	assert_int_equal(kp_log_end_offset(log), 30);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	expect_end(log, 8, -1, -1);
	expect_end(log, 5, 5, 30);
	kp_log_close(log);
	assert_string_equal(checkpoint(f), "0\n3\n2 0\n4 15\n5 25\n");

	crash_lead(f, 4, 8); /* torn below the recovery point's file, without one: rebuilt */
	assert_int_equal(unlink(path_of(f, "recovery-point")), 0);
	assert_int_equal(truncate(seg, good + 10), 0);
	log = open_log(f, NULL);
	assert_int_equal(kp_log_end_offset(log), 30);
	assert_int_equal(kp_log_latest_epoch(log), 5);
	kp_log_close(log);
}

/* with a flusher: the checkpoint is fsynced on its thread with the data; changes meanwhile catch up */
static void test_flusher(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_flusher *fl;
	kp_error err;
	kp_log *log;

	assert_int_equal(kp_flusher_new(&fl, &err), 0);
	kp_log_config_default(&cfg);
	cfg.segment_bytes = 300;
	cfg.flush_messages = 4;
	cfg.flusher = fl;
	log = open_log(f, &cfg);
	for (int32_t e = 1; e <= 12; e++) /* new epochs while jobs are in flight */
		assert_int_equal(follow(log, kp_log_end_offset(log), 2, e * 3), 0);
	await_rp(fl, log, 24);
	assert_int_equal(kp_log_latest_epoch(log), 36);
	expect_end(log, 35, 33, 22);
	kp_log_flush(log, &err);
	assert_string_equal(checkpoint(f), "0\n12\n3 0\n6 2\n9 4\n12 6\n15 8\n18 10\n21 12\n24 14\n"
			    "27 16\n30 18\n33 20\n36 22\n");
	assert_int_equal(kp_log_truncate_to(log, 20, NULL), 0);
	assert_int_equal(kp_log_advance_start(log, 5, NULL) >= 0, 1);
	kp_log_close(log);
	assert_string_equal(checkpoint(f), "0\n8\n9 5\n12 6\n15 8\n18 10\n21 12\n24 14\n27 16\n30 18\n");
	kp_flusher_free(fl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_end_offset_for, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_lower_epoch_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replica_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_advance_start_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_checkpoint_above_recovery_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flusher, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
