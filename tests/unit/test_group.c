/*
 * test_group.c - lib/group's classic group state machine driven with
 * explicit times: KIP-394 MEMBER_ID_REQUIRED, the join phase ending when
 * every member rejoined or at the rebalance timeout, the initial
 * rebalance delay, the leader's assignment reaching the followers,
 * heartbeat errors during a rebalance, session expiry, protocol
 * selection, static members rejoining without a rebalance (KIP-345),
 * group.max.size, and offset commits, checks and retention.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "group/group.h"
#include "protocol/errors.h"

struct notes {
	int count;
	char last[64];
};

static void on_notify(void *arg, const char *group_id)
{
	struct notes *n = arg;

	n->count++;
	snprintf(n->last, sizeof(n->last), "%s", group_id);
}

static kp_group_coord *coord(struct notes *n, int32_t delay_ms)
{
	struct kp_group_config cfg;

	kp_group_config_default(&cfg);
	cfg.initial_rebalance_delay_ms = delay_ms;
	cfg.seed = 42;
	cfg.notify = on_notify;
	cfg.notify_arg = n;
	return kp_group_coord_new(&cfg);
}

static const struct kp_group_protocol RANGE_RR[] = {
	{ "range", (const uint8_t *)"r", 1 }, { "roundrobin", (const uint8_t *)"rr", 2 },
};
static const struct kp_group_protocol RR_ONLY[] = { { "roundrobin", (const uint8_t *)"x", 1 } };

static struct kp_group_join_args args(const char *member_id, const char *instance_id,
				      const struct kp_group_protocol *ps, int32_t n)
{
	struct kp_group_join_args a = {
		.group_id = "g", .member_id = member_id, .group_instance_id = instance_id,
		.protocol_type = "consumer", .client_id = "c", .client_host = "/127.0.0.1",
		.session_timeout_ms = 10000, .rebalance_timeout_ms = 30000,
		.require_known_member = true, .protocols = ps, .protocol_count = n,
	};

	return a;
}

/* join_new - a dynamic member's two JoinGroups (KIP-394); returns the pending of the second. */
static struct kp_group_pending *join_new(kp_group_coord *gc, const struct kp_group_protocol *ps,
					 int32_t n, int64_t now, char **id)
{
	struct kp_group_join_args a = args("", NULL, ps, n);
	struct kp_group_pending *p = kp_group_join(gc, &a, now);

	assert_non_null(p);
	assert_true(p->done);
	assert_int_equal(p->error, KP_ERR_MEMBER_ID_REQUIRED);
	assert_non_null(strstr(p->member_id, "c-"));
	*id = strdup(p->member_id);
	kp_group_pending_free(p);
	a.member_id = *id;
	return kp_group_join(gc, &a, now);
}

static struct kp_group_pending *sync(kp_group_coord *gc, const char *member, int32_t gen,
				     const struct kp_group_assignment *as, int32_t n, int64_t now)
{
	struct kp_group_sync_args s = {
		.group_id = "g", .member_id = member, .generation_id = gen,
		.assignments = as, .assignment_count = n,
	};

	return kp_group_sync(gc, &s, now);
}

static void test_one_member_join_sync_heartbeat(void **state)
{
	struct notes n = { 0 };
	kp_group_coord *gc = coord(&n, 0);
	char *id;
	struct kp_group_info info;
	struct kp_group_pending *j = join_new(gc, RANGE_RR, 2, 1000, &id);

	(void)state;
	assert_false(j->done); /* the initial delay (0 ms) ends at the next tick */
	kp_group_tick(gc, 1000);
	assert_true(j->done);
	assert_int_equal(j->error, KP_ERR_NONE);
	assert_int_equal(j->generation_id, 1);
	assert_string_equal(j->protocol_name, "range");
	assert_string_equal(j->leader, id);
	assert_int_equal(j->member_count, 1);
	assert_memory_equal(j->members[0].metadata, "r", 1);
	assert_true(n.count > 0);
	assert_string_equal(n.last, "g");
	kp_group_pending_free(j);
	assert_int_equal(kp_group_heartbeat(gc, "g", id, NULL, 1, 1100), KP_ERR_NONE);
	assert_int_equal(kp_group_heartbeat(gc, "g", id, NULL, 2, 1100), KP_ERR_ILLEGAL_GENERATION);
	assert_int_equal(kp_group_heartbeat(gc, "g", "nobody", NULL, 1, 1100), KP_ERR_UNKNOWN_MEMBER_ID);

	struct kp_group_assignment as = { id, (const uint8_t *)"A", 1 };
	struct kp_group_pending *s = sync(gc, id, 1, &as, 1, 1200);

	assert_true(s->done);
	assert_int_equal(s->error, KP_ERR_NONE);
	assert_int_equal(s->assignment_len, 1);
	assert_memory_equal(s->assignment, "A", 1);
	kp_group_pending_free(s);
	assert_true(kp_group_describe(gc, "g", &info));
	assert_int_equal(info.state, KP_GROUP_STABLE);
	assert_int_equal(kp_group_leave(gc, "g", id, NULL, 1300), KP_ERR_NONE);
	assert_true(kp_group_describe(gc, "g", &info));
	assert_int_equal(info.member_count, 0);
	assert_int_equal(info.state, KP_GROUP_EMPTY);
	assert_int_equal(info.generation_id, 2);
	free(id);
	kp_group_coord_free(gc);
}

static void test_second_member_rebalances_and_follower_waits(void **state)
{
	struct notes n = { 0 };
	kp_group_coord *gc = coord(&n, 0);
	char *a, *b;
	struct kp_group_pending *ja = join_new(gc, RANGE_RR, 2, 0, &a), *jb, *ja2, *sb, *sa;

	(void)state;
	kp_group_tick(gc, 10);
	assert_int_equal(ja->generation_id, 1);
	kp_group_pending_free(ja);
	jb = join_new(gc, RR_ONLY, 1, 20, &b); /* b only speaks roundrobin */
	assert_false(jb->done);
	assert_int_equal(kp_group_heartbeat(gc, "g", a, NULL, 1, 30), KP_ERR_REBALANCE_IN_PROGRESS);
	struct kp_group_join_args again = args(a, NULL, RANGE_RR, 2);

	ja2 = kp_group_join(gc, &again, 40); /* every member rejoined: the phase ends at once */
	assert_true(ja2->done && jb->done);
	assert_int_equal(ja2->generation_id, 2);
	assert_string_equal(ja2->protocol_name, "roundrobin");
	assert_string_equal(ja2->leader, a);
	assert_int_equal(ja2->member_count, 2);
	assert_int_equal(jb->member_count, 0);
	sb = sync(gc, b, 2, NULL, 0, 50);
	assert_false(sb->done);
	struct kp_group_assignment as[] = { { a, (const uint8_t *)"1", 1 }, { b, (const uint8_t *)"22", 2 } };

	sa = sync(gc, a, 2, as, 2, 60);
	assert_true(sa->done && sb->done);
	assert_int_equal(sb->error, KP_ERR_NONE);
	assert_memory_equal(sb->assignment, "22", 2);
	kp_group_pending_free(ja2);
	kp_group_pending_free(jb);
	kp_group_pending_free(sa);
	kp_group_pending_free(sb);
	/* b stops heartbeating: its session (10 s) expires and the group rebalances */
	assert_int_equal(kp_group_heartbeat(gc, "g", a, NULL, 2, 9000), KP_ERR_NONE);
	kp_group_tick(gc, 10061);
	assert_int_equal(kp_group_heartbeat(gc, "g", b, NULL, 2, 10070), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(kp_group_heartbeat(gc, "g", a, NULL, 2, 10070), KP_ERR_REBALANCE_IN_PROGRESS);
	free(a);
	free(b);
	kp_group_coord_free(gc);
}

static void test_initial_delay_and_rebalance_timeout(void **state)
{
	struct notes n = { 0 };
	kp_group_coord *gc = coord(&n, 3000);
	char *a, *b;
	struct kp_group_pending *ja = join_new(gc, RANGE_RR, 2, 0, &a), *jb;

	(void)state;
	kp_group_tick(gc, 2999);
	assert_false(ja->done);
	jb = join_new(gc, RANGE_RR, 2, 2000, &b); /* extends the delay once */
	kp_group_tick(gc, 3000);
	assert_false(ja->done);
	kp_group_tick(gc, 6000);
	assert_true(ja->done && jb->done);
	assert_int_equal(jb->generation_id, 1);
	kp_group_pending_free(ja);
	kp_group_pending_free(jb);
	/* a rejoins, b never does: the phase ends at the rebalance timeout without b */
	struct kp_group_join_args again = args(a, NULL, RANGE_RR, 2);

	again.protocols = RR_ONLY; /* changed metadata: a rebalance */
	again.protocol_count = 1;
	ja = kp_group_join(gc, &again, 7000);
	assert_false(ja->done);
	for (int64_t t = 7000; t < 37000; t += 8000) { /* b is alive but does not rejoin */
		assert_int_equal(kp_group_heartbeat(gc, "g", b, NULL, 1, t), KP_ERR_REBALANCE_IN_PROGRESS);
		kp_group_tick(gc, t);
	}
	kp_group_tick(gc, 36999);
	assert_false(ja->done);
	kp_group_tick(gc, 37000);
	assert_true(ja->done);
	assert_int_equal(ja->generation_id, 2);
	assert_int_equal(ja->member_count, 1);
	assert_int_equal(kp_group_heartbeat(gc, "g", b, NULL, 2, 37001), KP_ERR_UNKNOWN_MEMBER_ID);
	kp_group_pending_free(ja);
	free(a);
	free(b);
	kp_group_coord_free(gc);
}

static void test_errors(void **state)
{
	struct notes n = { 0 };
	struct kp_group_config cfg;
	kp_group_coord *gc;
	struct kp_group_join_args a = args("", NULL, RANGE_RR, 2);
	struct kp_group_pending *p;
	char *id;

	(void)state;
	kp_group_config_default(&cfg);
	cfg.initial_rebalance_delay_ms = 0;
	cfg.max_size = 1;
	gc = kp_group_coord_new(&cfg);
	a.session_timeout_ms = 5999;
	p = kp_group_join(gc, &a, 0);
	assert_int_equal(p->error, KP_ERR_INVALID_SESSION_TIMEOUT);
	kp_group_pending_free(p);
	a = args("", NULL, RANGE_RR, 2);
	a.group_id = "";
	p = kp_group_join(gc, &a, 0);
	assert_int_equal(p->error, KP_ERR_INVALID_GROUP_ID);
	kp_group_pending_free(p);
	a = args("someone", NULL, RANGE_RR, 2);
	p = kp_group_join(gc, &a, 0);
	assert_int_equal(p->error, KP_ERR_UNKNOWN_MEMBER_ID);
	assert_string_equal(p->member_id, "someone");
	kp_group_pending_free(p);
	p = join_new(gc, RANGE_RR, 2, 0, &id);
	kp_group_tick(gc, 1);
	kp_group_pending_free(p);
	a = args(id, NULL, RANGE_RR, 2);
	a.protocol_type = "connect";
	p = kp_group_join(gc, &a, 2);
	assert_int_equal(p->error, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	kp_group_pending_free(p);
	a = args("", NULL, RANGE_RR, 2);
	p = kp_group_join(gc, &a, 2); /* group.max.size 1 */
	assert_int_equal(p->error, KP_ERR_GROUP_MAX_SIZE_REACHED);
	kp_group_pending_free(p);
	p = sync(gc, id, 7, NULL, 0, 3);
	assert_int_equal(p->error, KP_ERR_ILLEGAL_GENERATION);
	kp_group_pending_free(p);
	assert_int_equal(kp_group_delete(gc, "g"), KP_ERR_NON_EMPTY_GROUP);
	assert_int_equal(kp_group_delete(gc, "none"), KP_ERR_GROUP_ID_NOT_FOUND);
	free(id);
	kp_group_coord_free(gc);
	(void)n;
}

static void test_static_member_rejoins_without_rebalance(void **state)
{
	struct notes n = { 0 };
	kp_group_coord *gc = coord(&n, 0);
	struct kp_group_join_args a = args("", "inst-1", RANGE_RR, 2);
	struct kp_group_pending *p = kp_group_join(gc, &a, 0), *q;
	char *old;

	(void)state;
	assert_false(p->done); /* static members need no MEMBER_ID_REQUIRED round */
	kp_group_tick(gc, 1);
	assert_int_equal(p->error, KP_ERR_NONE);
	assert_non_null(strstr(p->member_id, "inst-1-"));
	old = strdup(p->member_id);
	kp_group_pending_free(p);
	struct kp_group_assignment as = { old, (const uint8_t *)"P", 1 };

	p = sync(gc, old, 1, &as, 1, 2);
	kp_group_pending_free(p);
	/* the process restarts: same instance id, unknown member id, same protocols */
	q = kp_group_join(gc, &a, 3);
	assert_true(q->done);
	assert_int_equal(q->error, KP_ERR_NONE);
	assert_int_equal(q->generation_id, 1);
	assert_true(q->skip_assignment);
	assert_string_not_equal(q->member_id, old);
	assert_int_equal(kp_group_heartbeat(gc, "g", old, "inst-1", 1, 4), KP_ERR_FENCED_INSTANCE_ID);
	p = sync(gc, q->member_id, 1, NULL, 0, 5);
	assert_int_equal(p->error, KP_ERR_NONE);
	assert_memory_equal(p->assignment, "P", 1);
	kp_group_pending_free(p);
	assert_int_equal(kp_group_leave(gc, "g", "", "inst-1", 6), KP_ERR_NONE);
	kp_group_pending_free(q);
	free(old);
	kp_group_coord_free(gc);
}

static void test_offsets(void **state)
{
	struct notes n = { 0 };
	kp_group_coord *gc = coord(&n, 0);
	struct kp_group_offset o = { .offset = 42, .leader_epoch = 3, .metadata = "m",
				     .commit_timestamp = 100 };
	const struct kp_group_offset *got;
	struct kp_group_info info;
	char *id;

	(void)state;
	assert_int_equal(kp_group_commit_check(gc, "s", "", NULL, 1, 8, 100), KP_ERR_ILLEGAL_GENERATION);
	assert_int_equal(kp_group_commit_check(gc, "s", "", NULL, 1, 9, 100), KP_ERR_GROUP_ID_NOT_FOUND);
	assert_int_equal(kp_group_commit_check(gc, "s", "", NULL, -1, 8, 100), KP_ERR_NONE);
	assert_int_equal(kp_group_commit(gc, "s", "t", 0, &o, 100), KP_ERR_NONE);
	got = kp_group_offset_get(gc, "s", "t", 0);
	assert_non_null(got);
	assert_int_equal(got->offset, 42);
	assert_string_equal(got->metadata, "m");
	assert_null(kp_group_offset_get(gc, "s", "t", 1));
	assert_true(kp_group_describe(gc, "s", &info));
	assert_int_equal(info.state, KP_GROUP_EMPTY);
	/* a member's commit is checked against its generation */
	struct kp_group_pending *p = join_new(gc, RANGE_RR, 2, 100, &id);

	kp_group_tick(gc, 100);
	kp_group_pending_free(p);
	assert_int_equal(kp_group_commit_check(gc, "g", id, NULL, 1, 8, 101), KP_ERR_REBALANCE_IN_PROGRESS);
	p = sync(gc, id, 1, NULL, 0, 102);
	kp_group_pending_free(p);
	assert_int_equal(kp_group_commit_check(gc, "g", id, NULL, 1, 8, 103), KP_ERR_NONE);
	assert_int_equal(kp_group_commit_check(gc, "g", id, NULL, 0, 8, 103), KP_ERR_ILLEGAL_GENERATION);
	assert_int_equal(kp_group_commit_check(gc, "g", "x", NULL, 1, 8, 103), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(kp_group_offset_delete(gc, "g", "t", 0), KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
	/* retention: an empty group's offsets go 7 days after the commit */
	kp_group_tick(gc, 100 + 7LL * 24 * 3600 * 1000 - 1);
	assert_non_null(kp_group_offset_get(gc, "s", "t", 0));
	kp_group_tick(gc, 100 + 7LL * 24 * 3600 * 1000 + 600000);
	assert_null(kp_group_offset_get(gc, "s", "t", 0));
	assert_false(kp_group_describe(gc, "s", &info));
	free(id);
	kp_group_coord_free(gc);
}

/* Kafka's sync timeout: a member that never sends SyncGroup is removed after the
 * rebalance timeout even while it heartbeats, instead of holding the group. */
static void test_member_without_sync_removed_after_rebalance_timeout(void **state)
{
	struct notes n = { 0 };
	kp_group_coord *gc = coord(&n, 0);
	struct kp_group_info info;
	char *id;
	struct kp_group_pending *j = join_new(gc, RANGE_RR, 2, 1000, &id);

	(void)state;
	assert_false(j->done);
	assert_int_equal(j->wait_ms, 30000); /* at most the rebalance timeout */
	kp_group_tick(gc, 1000);
	assert_int_equal(j->error, KP_ERR_NONE);
	kp_group_pending_free(j);
	for (int64_t t = 1000; t < 31000; t += 5000) {
		assert_int_equal(kp_group_heartbeat(gc, "g", id, NULL, 1, t), KP_ERR_NONE);
		kp_group_tick(gc, t);
	}
	assert_true(kp_group_describe(gc, "g", &info));
	assert_int_equal(info.state, KP_GROUP_COMPLETING_REBALANCE);
	kp_group_tick(gc, 31000); /* the rebalance timeout (30 s) after the join phase ended */
	assert_int_equal(kp_group_heartbeat(gc, "g", id, NULL, 1, 31000), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_true(kp_group_describe(gc, "g", &info));
	assert_int_equal(info.member_count, 0);
	assert_int_equal(info.state, KP_GROUP_EMPTY);
	free(id);
	kp_group_coord_free(gc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_member_join_sync_heartbeat),
		cmocka_unit_test(test_second_member_rebalances_and_follower_waits),
		cmocka_unit_test(test_initial_delay_and_rebalance_timeout),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_static_member_rejoins_without_rebalance),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_member_without_sync_removed_after_rebalance_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
