/*
 * test_producer_state.c - the idempotent producers' state of a partition
 * log (lib/log/producer_state.c, producer_snapshot.c): Kafka's sequence
 * and epoch rules for a client's append (KIP-98, KIP-360), retries
 * answered from the last five batches, and the state surviving a clean
 * close (snapshot), a crash (replay), a corrupt snapshot, a truncation, a
 * follower's append, expiry and a reset.
 */
#include <inttypes.h>
#include <time.h>

#define LOG_FIXTURE_TEMPLATE "/tmp/kpprod-XXXXXX"
#include "log_fixture.h"

#include "protocol/errors.h"
#include "util/clock.h"

#define PID 4711

/* result of one append */
struct res {
	int rc;            /* kp_log_append's: 0 written, 1 a retry, -1 refused */
	int kafka;         /* the Kafka error when refused */
	int64_t base, last;
};

/* append - one batch of `n` records by producer `pid` at `pe`, from sequence `seq`, at time `ts`. */
static struct res append_ts(kp_log *log, int64_t pid, int16_t pe, int32_t seq, int n, int64_t ts)
{
	struct res r = { 0, 0, -1, -1 };
	kp_error err;
	kp_buf b;

	kp_buf_init(&b);
	put_producer_batch(&b, 0, 0, n, ts, "v", pid, pe, seq);
	r.rc = kp_log_append(log, b.data, b.len, 0, &r.base, &r.last, NULL, &err);
	if (r.rc < 0) {
		assert_int_equal(err.code, KP_EKAFKA);
		r.kafka = err.kafka_code;
	}
	kp_buf_free(&b);
	return r;
}

static struct res append(kp_log *log, int64_t pid, int16_t pe, int32_t seq, int n)
{
	return append_ts(log, pid, pe, seq, n, kp_wall_ms());
}

/* assert_written / assert_retry / assert_refused - what one append must have done. */
#define assert_written(r, b) do { struct res r_ = (r); assert_int_equal(r_.rc, 0); \
		assert_int_equal(r_.base, (b)); } while (0)
#define assert_retry(r, b, l) do { struct res r_ = (r); assert_int_equal(r_.rc, 1); \
		assert_int_equal(r_.base, (b)); assert_int_equal(r_.last, (l)); } while (0)
#define assert_refused(r, code) do { struct res r_ = (r); assert_int_equal(r_.rc, -1); \
		assert_int_equal(r_.kafka, (code)); } while (0)

/* The rules of ProducerAppendInfo.checkSequence / checkProducerEpoch and findDuplicateBatch. */
static void test_sequence_and_epoch_rules(void **state)
{
	kp_log *log = open_log(*state, NULL);

	assert_written(append(log, PID, 0, 0, 3), 0);
	assert_retry(append(log, PID, 0, 0, 3), 0, 2);      /* the same range again */
	assert_int_equal(kp_log_end_offset(log), 3);        /* written once */
	assert_refused(append(log, PID, 0, 5, 1), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	assert_refused(append(log, PID, 0, 1, 2), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* overlap */
	assert_written(append(log, PID, 0, 3, 2), 3);
	assert_refused(append(log, PID, 1, 5, 1), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* new epoch */
	assert_written(append(log, PID, 1, 0, 1), 5);
	assert_refused(append(log, PID, 0, 5, 1), KP_ERR_INVALID_PRODUCER_EPOCH);
	assert_refused(append(log, PID, 0, 0, 3), KP_ERR_INVALID_PRODUCER_EPOCH); /* old retry */
	assert_written(append(log, PID + 1, 2, 100, 1), 6); /* unknown: any sequence */
	assert_written(append(log, -1, -1, -1, 1), 7);      /* not idempotent: no checks */
	assert_int_equal(kp_log_producer_count(log), 2);
	assert_int_equal(kp_log_end_offset(log), 8);
	kp_log_close(log);
}

/* Sequences wrap from INT32_MAX to 0. */
static void test_sequence_wraps(void **state)
{
	kp_log *log = open_log(*state, NULL);

	assert_written(append(log, PID, 0, INT32_MAX - 1, 2), 0);
	assert_written(append(log, PID, 0, 0, 1), 2);
	assert_refused(append(log, PID, 0, 2, 1), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	kp_log_close(log);
}

/* Only the last five batches are kept: an older retry is out of sequence. */
static void test_last_five_batches(void **state)
{
	kp_log *log = open_log(*state, NULL);

	for (int i = 0; i < 6; i++)
		assert_written(append(log, PID, 0, i, 1), i);
	assert_refused(append(log, PID, 0, 0, 1), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	for (int i = 1; i < 6; i++)
		assert_retry(append(log, PID, 0, i, 1), i, i);
	kp_log_close(log);
}

/* Several batches in one append are checked in order, and all or none are written. */
static void test_batches_of_one_append(void **state)
{
	kp_log *log = open_log(*state, NULL);
	int64_t base = -1;
	kp_error err;
	kp_buf b;

	kp_buf_init(&b);
	put_producer_batch(&b, 0, 0, 2, kp_wall_ms(), "a", PID, 0, 0);
	put_producer_batch(&b, 0, 0, 2, kp_wall_ms(), "b", PID, 0, 2);
	assert_int_equal(kp_log_append(log, b.data, b.len, 0, &base, NULL, NULL, &err), 0);
	assert_int_equal(base, 0);
	kp_buf_reset(&b);
	put_producer_batch(&b, 0, 0, 1, kp_wall_ms(), "c", PID, 0, 4);
	put_producer_batch(&b, 0, 0, 1, kp_wall_ms(), "d", PID, 0, 6); /* a gap after c */
	assert_int_equal(kp_log_append(log, b.data, b.len, 0, &base, NULL, NULL, &err), -1);
	assert_int_equal(err.kafka_code, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	assert_int_equal(kp_log_end_offset(log), 4);
	assert_written(append(log, PID, 0, 4, 1), 4); /* c was not remembered */
	kp_buf_free(&b);
	kp_log_close(log);
}

/* count_snapshots - how many NNNN.snapshot files f's partition directory holds. */
static int count_snapshots(struct fx *f)
{
	struct dirent *de;
	DIR *d = opendir(f->dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strlen(de->d_name) == 29 && strcmp(de->d_name + 20, ".snapshot") == 0)
			n++;
	closedir(d);
	return n;
}

/* A clean close writes a snapshot; the reopened log knows the producer. */
static void test_snapshot_on_close(void **state)
{
	struct fx *f = *state;
	char path[256];
	kp_log *log = open_log(f, NULL);

	assert_written(append(log, PID, 0, 0, 2), 0);
	assert_written(append(log, PID, 0, 2, 2), 2);
	kp_log_close(log);
	snprintf(path, sizeof path, "%s/%020d.snapshot", f->dir, 4);
	assert_int_equal(file_size(path), 10 + 46); /* Kafka's layout: one entry */
	log = open_log(f, NULL);
	assert_retry(append(log, PID, 0, 2, 2), 2, 3);
	assert_refused(append(log, PID, 0, 7, 1), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	assert_written(append(log, PID, 0, 4, 1), 4);
	kp_log_close(log);
}

/* After a crash (no snapshot at the end) the state is replayed from the log. */
static void test_replay_after_crash(void **state)
{
	struct fx *f = *state;
	kp_log *log = crash_child(f, NULL);

	if (log) { /* the child */
		append(log, PID, 3, 0, 2);
		append(log, PID, 3, 2, 1);
		_exit(0);
	}
	assert_int_equal(count_snapshots(f), 0);
	log = open_log(f, NULL);
	assert_retry(append(log, PID, 3, 2, 1), 2, 2);
	assert_retry(append(log, PID, 3, 0, 2), 0, 1);
	assert_written(append(log, PID, 3, 3, 1), 3);
	kp_log_close(log);
}

/* A corrupt snapshot is deleted and the state replayed from the log start. */
static void test_corrupt_snapshot(void **state)
{
	struct fx *f = *state;
	char path[256];
	FILE *fp;
	kp_log *log = open_log(f, NULL);

	assert_written(append(log, PID, 0, 0, 2), 0);
	kp_log_close(log);
	snprintf(path, sizeof path, "%s/%020d.snapshot", f->dir, 2);
	assert_non_null(fp = fopen(path, "r+"));
	fseek(fp, 20, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	log = open_log(f, NULL);
	assert_int_equal(file_size(path), -1);
	assert_retry(append(log, PID, 0, 0, 2), 0, 1);
	kp_log_close(log);
}

/* A truncation forgets the batches it removed (Kafka's truncateAndReload). */
static void test_truncation_reloads(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	kp_error err;
	kp_log *log;

	kp_log_config_default(&cfg);
	cfg.segment_bytes = 200; /* a roll (and its snapshot) every batch or two */
	log = open_log(f, &cfg);
	for (int i = 0; i < 6; i++)
		assert_written(append(log, PID, 0, i * 2, 2), i * 2);
	assert_true(count_snapshots(f) >= 2);
	assert_int_equal(kp_log_truncate_to(log, 8, &err), 0);
	assert_int_equal(kp_log_end_offset(log), 8);
	assert_retry(append(log, PID, 0, 6, 2), 6, 7);
	assert_written(append(log, PID, 0, 8, 2), 8); /* no longer a retry */
	kp_log_close(log);
	log = open_log(f, &cfg);
	assert_retry(append(log, PID, 0, 8, 2), 8, 9);
	kp_log_close(log);
}

/* A follower's append teaches the state, unchecked; the leader's retry check then works. */
static void test_replica_append(void **state)
{
	kp_log *log = open_log(*state, NULL);
	kp_error err;
	kp_buf b;

	kp_buf_init(&b);
	put_producer_batch(&b, 0, 5, 2, kp_wall_ms(), "a", PID, 1, 10);
	put_producer_batch(&b, 2, 5, 1, kp_wall_ms(), "b", PID, 0, 99); /* older epoch: taken as is */
	assert_int_equal(kp_log_append_replica(log, b.data, b.len, NULL, &err), 0);
	assert_retry(append(log, PID, 0, 99, 1), 2, 2);
	kp_buf_free(&b);
	kp_log_close(log);
}

/* Producers idle for producer.id.expiration.ms are forgotten, then start anywhere. */
static void test_expiry(void **state)
{
	kp_log *log = open_log(*state, NULL);
	int64_t now = kp_wall_ms(), hour = 3600 * 1000;

	assert_written(append_ts(log, PID, 0, 0, 1, now - 2 * hour), 0);
	assert_written(append_ts(log, PID + 1, 0, 0, 1, now), 1);
	assert_int_equal(kp_log_expire_producers(log, now, 3 * hour), 0);
	assert_int_equal(kp_log_expire_producers(log, now, hour), 1);
	assert_int_equal(kp_log_producer_count(log), 1);
	assert_written(append(log, PID, 0, 50, 1), 2);
	assert_refused(append(log, PID + 1, 0, 50, 1), KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	kp_log_close(log);
}

/* A reset (truncateFullyAndStartAt) forgets every producer and snapshot. */
static void test_reset(void **state)
{
	struct fx *f = *state;
	kp_error err;
	kp_log *log = open_log(f, NULL);

	assert_written(append(log, PID, 0, 0, 1), 0);
	kp_log_close(log);
	assert_int_equal(count_snapshots(f), 1);
	log = open_log(f, NULL);
	assert_int_equal(kp_log_reset_at(log, 100, &err), 0);
	assert_int_equal(count_snapshots(f), 0);
	assert_int_equal(kp_log_producer_count(log), 0);
	assert_written(append(log, PID, 0, 9, 1), 100);
	kp_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequence_and_epoch_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_five_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_of_one_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_reloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replica_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
