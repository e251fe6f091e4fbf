/*
 * test_replica_quota.c - replication throttles (KIP-73): the sampled rate
 * of broker/replica_quota.h as Kafka's SimpleRate over 11 windows computes
 * it (a window's minimum, sample rotation, forgetting idle samples, a new
 * bound judging old bytes), the bound a throttled transfer keeps, the
 * throttled-replicas lists (applying them on a broker, validating them as
 * topic configs) and the broker settings of the throttles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "broker/config.h"
#include "broker/replica_quota.h"
#include "metadata/topic_config.h"
#include "protocol/errors.h"

static void quota_new(kp_replica_quota *q, int64_t bound)
{
	assert_int_equal(kp_replica_quota_init(q, 11, 1000, NULL), 0);
	kp_replica_quota_set_bound(q, bound);
}

static void test_init_and_unlimited(void **state)
{
	kp_replica_quota q;
	kp_error err;

	assert_int_equal(kp_replica_quota_init(&q, 0, 1000, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_null(q.s);
	kp_replica_quota_clear(&q); /* nothing held: fine */
	assert_int_equal(kp_replica_quota_init(&q, 11, 0, &err), -1);
	quota_new(&q, KP_REPLICA_QUOTA_UNLIMITED);
	for (int64_t t = 0; t < 5000; t += 10) {
		kp_replica_quota_record(&q, 1 << 20, t);
		assert_false(kp_replica_quota_exceeded(&q, t));
	}
	assert_true(kp_replica_quota_rate(&q, 5000) > 1e8); /* recorded all the same */
	kp_replica_quota_set_bound(&q, -5);
	assert_int_equal(q.bound, 0);
	kp_replica_quota_clear(&q);
	assert_null(q.s);
}

/* A rate over the time since the first sample, never over less than one window. */
static void test_rate_over_elapsed_time(void **state)
{
	kp_replica_quota q;

	quota_new(&q, 1000);
	assert_false(kp_replica_quota_exceeded(&q, 0)); /* nothing yet: rate 0 */
	assert_true(kp_replica_quota_rate(&q, 0) == 0.0);
	kp_replica_quota_record(&q, 5000, 0);
	assert_true(kp_replica_quota_rate(&q, 0) == 5000.0);   /* over one window, not 0 ms */
	assert_true(kp_replica_quota_rate(&q, 500) == 5000.0);
	assert_true(kp_replica_quota_rate(&q, 2500) == 2000.0);
	assert_true(kp_replica_quota_exceeded(&q, 4999));
	assert_false(kp_replica_quota_exceeded(&q, 5000)); /* 1000 B/s is within a 1000 bound */
	/* the first sample started at the first look, before the bytes */
	kp_replica_quota_clear(&q);
	quota_new(&q, 1000);
	assert_false(kp_replica_quota_exceeded(&q, 100));
	kp_replica_quota_record(&q, 4000, 2100);
	assert_true(kp_replica_quota_rate(&q, 2100) == 2000.0);
	assert_false(kp_replica_quota_exceeded(&q, 4100));
	kp_replica_quota_clear(&q);
}

/* Samples rotate through num_samples + 1 slots; the steady rate is what goes in. */
static void test_samples_rotate(void **state)
{
	kp_replica_quota q;
	double r;

	quota_new(&q, 1000);
	for (int64_t t = 0; t < 30000; t += 100)
		kp_replica_quota_record(&q, 100, t); /* 1000 B/s for 30 s */
	assert_int_equal(q.used, 12);
	r = kp_replica_quota_rate(&q, 30000);
	assert_true(r > 990 && r < 1010);
	assert_false(kp_replica_quota_exceeded(&q, 30000));
	kp_replica_quota_record(&q, 3000, 30000); /* a burst on top */
	assert_true(kp_replica_quota_exceeded(&q, 30000));
	kp_replica_quota_clear(&q);
}

/* A sample with no record for num_samples windows is forgotten. */
static void test_idle_samples_are_forgotten(void **state)
{
	kp_replica_quota q;

	quota_new(&q, 1000);
	kp_replica_quota_record(&q, 100000, 0);
	assert_true(kp_replica_quota_exceeded(&q, 10999));
	assert_true(kp_replica_quota_rate(&q, 10999) > 9000);
	assert_true(kp_replica_quota_rate(&q, 11000) == 0.0);
	assert_false(kp_replica_quota_exceeded(&q, 11000));
	kp_replica_quota_clear(&q);
}

/* A new bound judges what was recorded before it (Kafka's updateQuota keeps the sensor). */
static void test_new_bound_keeps_samples(void **state)
{
	kp_replica_quota q;

	quota_new(&q, KP_REPLICA_QUOTA_UNLIMITED);
	kp_replica_quota_record(&q, 5000, 0);
	assert_false(kp_replica_quota_exceeded(&q, 100));
	kp_replica_quota_set_bound(&q, 1000);
	assert_true(kp_replica_quota_exceeded(&q, 100));
	kp_replica_quota_set_bound(&q, 10000);
	assert_false(kp_replica_quota_exceeded(&q, 100));
	kp_replica_quota_clear(&q);
}

/*
 * A follower (or leader) that fetches `fetch` bytes whenever the quota is
 * not exceeded: over the first num_samples windows it stays within
 * bound * max(T, window) + one fetch; over a long run within
 * bound * T + (fetch + bound * window) once per num_samples windows.
 */
static void throttled_transfer(int64_t bound, int64_t fetch, int64_t step)
{
	kp_replica_quota q;
	int64_t total = 0;

	quota_new(&q, bound);
	for (int64_t t = 0; t <= 120000; t += step) {
		double secs = (double)t / 1000, at_least_a_window = secs > 1 ? secs : 1;

		if (!kp_replica_quota_exceeded(&q, t)) {
			kp_replica_quota_record(&q, fetch, t);
			total += fetch;
		}
		if (t < 11000)
			assert_true((double)total <=
				    (double)bound * at_least_a_window + (double)fetch);
		assert_true((double)total <= (double)bound * secs +
					     (double)(fetch + bound) * (1 + (double)(t / 11000)));
	}
	/* and it is not starved: at least the bound over the run, less a window and a fetch */
	assert_true((double)total >= (double)bound * 119 - (double)fetch);
	kp_replica_quota_clear(&q);
}

static void test_throttled_transfer_bounds(void **state)
{
	throttled_transfer(100 * 1024, 16 * 1024, 7);
	throttled_transfer(100 * 1024, 1 << 20, 7);   /* one fetch is ten seconds' worth */
	throttled_transfer(150 * 1024, 128 * 1024, 50);
	throttled_transfer(1 << 20, 64 * 1024, 1);
	throttled_transfer(1000, 999, 333);
}

static void test_throttled_replica_lists(void **state)
{
	bool m[4];

	memset(m, 0, sizeof(m));
	assert_int_equal(kp_replica_throttled_mark("0:1,1:2, 2:1 ,x:1,3:,:1,,9:1", 1, m, 4), 3);
	assert_true(m[0] && !m[1] && m[2] && !m[3]); /* 9:1 is beyond the partitions */
	memset(m, 0, sizeof(m));
	assert_int_equal(kp_replica_throttled_mark("0:1,1:2", 2, m, 4), 1);
	assert_true(!m[0] && m[1] && !m[2] && !m[3]);
	memset(m, 0, sizeof(m));
	assert_int_equal(kp_replica_throttled_mark(" * ", 7, m, 4), 4);
	assert_true(m[0] && m[1] && m[2] && m[3]);
	memset(m, 0, sizeof(m));
	assert_int_equal(kp_replica_throttled_mark(NULL, 1, m, 4), 0);
	assert_int_equal(kp_replica_throttled_mark("", 1, m, 4), 0);
	assert_int_equal(kp_replica_throttled_mark("0:11", 1, m, 4), 0);
	assert_int_equal(kp_replica_throttled_mark("0:99999999999", 1, m, 4), 0);
	assert_true(!m[0] && !m[1] && !m[2] && !m[3]);
}

static void test_throttled_replicas_as_topic_configs(void **state)
{
	static const char *const good[] = { "0:1,1:2", "*", " * ", "", " 0:11 , 1:12 ",
					    "0:1,,1:2", "*,", "12:13", NULL };
	static const char *const bad[] = { "a:1", "0:1,*", "0-1", "0:", ":1", "-1:2", "0:1:2",
					   "0:x", "**", NULL };
	const char *names[] = { "leader.replication.throttled.replicas",
				"follower.replication.throttled.replicas" };
	char msg[512];

	for (int k = 0; k < 2; k++) {
		for (int i = 0; good[i]; i++)
			assert_int_equal(kp_topic_config_check(names[k], good[i], msg, sizeof(msg)),
					 KP_ERR_NONE);
		for (int i = 0; bad[i]; i++)
			assert_int_equal(kp_topic_config_check(names[k], bad[i], msg, sizeof(msg)),
					 KP_ERR_INVALID_CONFIG);
	}
	kp_topic_config_check(names[0], "0-1", msg, sizeof(msg));
	assert_string_equal(msg, "Invalid value 0-1 for configuration "
			    "leader.replication.throttled.replicas: "
			    "leader.replication.throttled.replicas must be the literal '*' or a "
			    "list of replicas in the following format: "
			    "[partitionId]:[brokerId],[partitionId]:[brokerId],...");
}

static int parse(const char *const *pairs, struct kp_replica_config *o, kp_error *err)
{
	kp_config *c = kp_config_new();
	int rc;

	assert_non_null(c);
	for (; *pairs; pairs++)
		assert_int_equal(kp_config_set_pair(c, *pairs, NULL), 0);
	rc = kp_replica_config_parse(c, o, err);
	kp_config_free(c);
	return rc;
}

static void test_broker_settings(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const set[] = { "leader.replication.throttled.rate=153600",
					   "follower.replication.throttled.rate=0",
					   "replication.quota.window.num=5",
					   "replication.quota.window.size.seconds=2", NULL };
	static const char *const bad[][2] = { { "leader.replication.throttled.rate=-1", NULL },
					      { "follower.replication.throttled.rate=1k", NULL },
					      { "replication.quota.window.num=0", NULL },
					      { "replication.quota.window.size.seconds=0", NULL } };
	struct kp_replica_config o;
	kp_error err;

	assert_int_equal(parse(none, &o, NULL), 0);
	assert_true(o.leader_throttled_rate == INT64_MAX);
	assert_true(o.follower_throttled_rate == INT64_MAX);
	assert_int_equal(o.quota_window_num, 11);
	assert_int_equal(o.quota_window_size_s, 1);
	assert_int_equal(parse(set, &o, NULL), 0);
	assert_int_equal(o.leader_throttled_rate, 153600);
	assert_int_equal(o.follower_throttled_rate, 0);
	assert_int_equal(o.quota_window_num, 5);
	assert_int_equal(o.quota_window_size_s, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &o, &err), -1);
		assert_int_equal(err.code, KP_EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_unlimited),
		cmocka_unit_test(test_rate_over_elapsed_time),
		cmocka_unit_test(test_samples_rotate),
		cmocka_unit_test(test_idle_samples_are_forgotten),
		cmocka_unit_test(test_new_bound_keeps_samples),
		cmocka_unit_test(test_throttled_transfer_bounds),
		cmocka_unit_test(test_throttled_replica_lists),
		cmocka_unit_test(test_throttled_replicas_as_topic_configs),
		cmocka_unit_test(test_broker_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
