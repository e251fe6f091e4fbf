/*
 * test_consumer_group.c - lib/group's KIP-848 consumer groups driven by
 * simulated members: each heartbeats with the partitions it owns and
 * adopts the assignment it is given at once. After every heartbeat the
 * checker asserts that no partition is owned by two members; groups must
 * converge to every partition owned once, balanced (uniform) or in ranges
 * (range), with members joining, leaving, timing out and static members
 * coming back under a new member id. Also: request validation with
 * Kafka's messages, epoch fencing, and the records a group is made of
 * replayed into a fresh coordinator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "group/consumer_group.h"
#include "protocol/errors.h"

#define NPART_MAX 64

static int32_t partitions_of(void *arg, const char *topic)
{
	int32_t *n = arg;

	if (strcmp(topic, "t") == 0)
		return n[0];
	if (strcmp(topic, "u") == 0)
		return n[1];
	return -1;
}

static void topics_each(void *arg, void (*fn)(void *, const char *), void *fn_arg)
{
	fn(fn_arg, "t");
	fn(fn_arg, "u");
	fn(fn_arg, "__consumer_offsets");
}

static kp_group_coord *coord_migrating(int32_t *parts, bool migrate)
{
	struct kp_group_config cfg;

	kp_group_config_default(&cfg);
	cfg.consumer_upgrade = cfg.consumer_downgrade = migrate;
	cfg.seed = 7;
	cfg.topic_partitions = partitions_of;
	cfg.topics_each = topics_each;
	cfg.metadata_arg = parts;
	cfg.consumer_session_timeout_ms = 10000;
	return kp_group_coord_new(&cfg);
}

static kp_group_coord *coord(int32_t *parts)
{
	return coord_migrating(parts, true);
}

/* A simulated member: what it owns of topics t and u. */
struct member {
	char id[32];
	const char *instance;
	const char *topics[2];
	int32_t ntopics;
	const char *assignor;
	int32_t epoch;
	bool owns[2][NPART_MAX];
	bool gone;
};

static int16_t heartbeat(kp_group_coord *gc, struct member *m, int32_t epoch, int64_t now)
{
	struct kp_cg_topic_partitions owned[2];
	int32_t parts[2][NPART_MAX], n = 0;
	static const char *names[2] = { "t", "u" };
	struct kp_cg_heartbeat_args a = {
		.version = 1, .group_id = "g", .member_id = m->id, .instance_id = m->instance,
		.client_id = "c", .client_host = "/127.0.0.1", .member_epoch = epoch,
		.rebalance_timeout_ms = epoch == 0 ? 30000 : -1,
		.topics = m->topics, .topic_count = m->ntopics, .topics_set = epoch == 0,
		.server_assignor = m->assignor, .owned_set = true,
	};
	struct kp_cg_heartbeat_result r;

	for (int t = 0; t < 2; t++) {
		int32_t k = 0;

		for (int32_t p = 0; p < NPART_MAX; p++)
			if (m->owns[t][p])
				parts[t][k++] = p;
		if (k)
			owned[n++] = (struct kp_cg_topic_partitions){ names[t], parts[t], k };
	}
	a.owned = owned;
	a.owned_count = n;
	assert_int_equal(kp_cg_heartbeat(gc, &a, now, &r), 0);
	if (r.error == KP_ERR_NONE) {
		m->epoch = r.member_epoch;
		if (r.has_assignment) {
			memset(m->owns, 0, sizeof(m->owns));
			for (int32_t i = 0; i < r.assignment_count; i++)
				for (int32_t k = 0; k < r.assignment[i].count; k++)
					m->owns[strcmp(r.assignment[i].topic, "t") ? 1 : 0]
					       [r.assignment[i].partitions[k]] = true;
		}
	}
	int16_t e = r.error;

	kp_cg_result_free(&r);
	return e;
}

/* check_exclusive - no partition owned by two live members. */
static void check_exclusive(struct member *ms, int n)
{
	for (int t = 0; t < 2; t++)
		for (int32_t p = 0; p < NPART_MAX; p++) {
			int owners = 0;

			for (int i = 0; i < n; i++)
				owners += !ms[i].gone && ms[i].owns[t][p];
			if (owners > 1)
				fail_msg("partition %s-%d owned by %d members", t ? "u" : "t", p, owners);
		}
}

static int owned_count(const struct member *m)
{
	int c = 0;

	for (int t = 0; t < 2; t++)
		for (int32_t p = 0; p < NPART_MAX; p++)
			c += m->owns[t][p];
	return c;
}

/* rounds - every live member heartbeats, `n` rounds, checking exclusivity after each. */
static void rounds(kp_group_coord *gc, struct member *ms, int n, int count, int64_t *now)
{
	for (int r = 0; r < count; r++)
		for (int i = 0; i < n; i++) {
			if (ms[i].gone)
				continue;
			assert_int_equal(heartbeat(gc, &ms[i], ms[i].epoch, *now), KP_ERR_NONE);
			check_exclusive(ms, n);
			*now += 10;
		}
}

static void join(kp_group_coord *gc, struct member *m, const char *id, int64_t now)
{
	snprintf(m->id, sizeof(m->id), "%s", id);
	if (!m->ntopics) {
		m->topics[0] = "t";
		m->ntopics = 1;
	}
	assert_int_equal(heartbeat(gc, m, 0, now), KP_ERR_NONE);
}

static void assert_stable(kp_group_coord *gc, struct member *ms, int n, int32_t total)
{
	struct kp_cg_info info;
	int sum = 0, lo = 1 << 30, hi = 0;

	assert_int_equal(kp_cg_describe(gc, "g", &info, NULL, 0), KP_ERR_NONE);
	assert_string_equal(info.state, "Stable");
	for (int i = 0; i < n; i++) {
		if (ms[i].gone)
			continue;
		int c = owned_count(&ms[i]);

		sum += c;
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	assert_int_equal(sum, total);
	assert_true(hi - lo <= 1);
}

static void test_three_members_converge_without_double_ownership(void **state)
{
	int32_t parts[2] = { 6, 0 };
	kp_group_coord *gc = coord(parts);
	struct member ms[3] = { 0 };
	int64_t now = 1000;

	join(gc, &ms[0], "a", now);
	assert_int_equal(owned_count(&ms[0]), 6);
	join(gc, &ms[1], "b", now);
	join(gc, &ms[2], "c", now);
	check_exclusive(ms, 3);
	rounds(gc, ms, 3, 4, &now);
	assert_stable(gc, ms, 3, 6);
	for (int i = 0; i < 3; i++)
		assert_int_equal(owned_count(&ms[i]), 2);

	/* b leaves: a and c take its partitions */
	struct kp_cg_heartbeat_args leave = { .version = 1, .group_id = "g", .member_id = "b",
					       .member_epoch = -1, .rebalance_timeout_ms = -1 };
	struct kp_cg_heartbeat_result r;

	assert_int_equal(kp_cg_heartbeat(gc, &leave, now, &r), 0);
	assert_int_equal(r.error, KP_ERR_NONE);
	assert_int_equal(r.member_epoch, -1);
	kp_cg_result_free(&r);
	ms[1].gone = true;
	rounds(gc, ms, 3, 4, &now);
	assert_stable(gc, ms, 3, 6);
	assert_int_equal(owned_count(&ms[0]), 3);

	/* partitions added to the topic: the group epoch moves and they are spread */
	parts[0] = 9;
	rounds(gc, ms, 3, 4, &now);
	assert_stable(gc, ms, 3, 9);
	kp_group_coord_free(gc);
}

static void test_session_timeout_fences_and_others_take_over(void **state)
{
	int32_t parts[2] = { 4, 0 };
	kp_group_coord *gc = coord(parts);
	struct member ms[2] = { 0 };
	int64_t now = 1000;

	join(gc, &ms[0], "a", now);
	join(gc, &ms[1], "b", now);
	rounds(gc, ms, 2, 4, &now);
	assert_stable(gc, ms, 2, 4);
	/* b stops heartbeating; a keeps going */
	ms[1].gone = true;
	for (int i = 0; i < 12; i++) {
		now += 1000;
		kp_group_tick(gc, now);
		assert_int_equal(heartbeat(gc, &ms[0], ms[0].epoch, now), KP_ERR_NONE);
	}
	assert_int_equal(owned_count(&ms[0]), 4);
	assert_stable(gc, ms, 2, 4);
	/* b comes back with its old epoch: it was removed */
	ms[1].gone = false;
	assert_int_equal(heartbeat(gc, &ms[1], ms[1].epoch, now), KP_ERR_UNKNOWN_MEMBER_ID);
	kp_group_coord_free(gc);
}

static void test_static_member_returns_under_new_id_without_rebalance(void **state)
{
	int32_t parts[2] = { 4, 0 };
	kp_group_coord *gc = coord(parts);
	struct member ms[2] = { 0 };
	int64_t now = 1000;
	struct kp_cg_info info;

	ms[0].instance = "i-a";
	ms[1].instance = "i-b";
	join(gc, &ms[0], "a", now);
	join(gc, &ms[1], "b", now);
	rounds(gc, ms, 2, 4, &now);
	assert_stable(gc, ms, 2, 4);
	assert_int_equal(kp_cg_describe(gc, "g", &info, NULL, 0), KP_ERR_NONE);
	int32_t epoch = info.group_epoch;
	bool had[2][NPART_MAX];

	memcpy(had, ms[1].owns, sizeof(had));
	/* b leaves for a while (-2), then a new process takes over instance i-b */
	assert_int_equal(heartbeat(gc, &ms[1], -2, now), KP_ERR_NONE);
	struct member back = { .instance = "i-b" };

	join(gc, &back, "b2", now);
	assert_memory_equal(back.owns, had, sizeof(had));
	ms[1] = back;
	rounds(gc, ms, 2, 2, &now);
	assert_int_equal(kp_cg_describe(gc, "g", &info, NULL, 0), KP_ERR_NONE);
	assert_int_equal(info.group_epoch, epoch);
	assert_int_equal(info.member_count, 2);
	/* an instance id still in use cannot be taken */
	struct member thief = { .instance = "i-a" };

	snprintf(thief.id, sizeof(thief.id), "x");
	thief.topics[0] = "t";
	thief.ntopics = 1;
	assert_int_equal(heartbeat(gc, &thief, 0, now), KP_ERR_UNRELEASED_INSTANCE_ID);
	kp_group_coord_free(gc);
}

static void test_range_and_mixed_subscriptions(void **state)
{
	int32_t parts[2] = { 5, 3 };
	kp_group_coord *gc = coord(parts);
	struct member ms[2] = { 0 };
	int64_t now = 1000;

	for (int i = 0; i < 2; i++) {
		ms[i].topics[0] = "t";
		ms[i].topics[1] = "u";
		ms[i].ntopics = 2;
		ms[i].assignor = "range";
	}
	join(gc, &ms[0], "a", now);
	join(gc, &ms[1], "b", now);
	rounds(gc, ms, 2, 4, &now);
	/* range: a gets t-0..2 and u-0..1, b t-3..4 and u-2 */
	assert_true(ms[0].owns[0][0] && ms[0].owns[0][1] && ms[0].owns[0][2]);
	assert_true(ms[1].owns[0][3] && ms[1].owns[0][4] && ms[1].owns[1][2]);
	assert_true(ms[0].owns[1][0] && ms[0].owns[1][1]);
	kp_group_coord_free(gc);

	/* uniform with a regex member: c subscribes to u only */
	parts[0] = 4;
	parts[1] = 4;
	gc = coord(parts);
	struct member ns[2] = { 0 };

	join(gc, &ns[0], "a", now);
	struct kp_cg_heartbeat_args a = {
		.version = 1, .group_id = "g", .member_id = "c", .client_id = "c",
		.member_epoch = 0, .rebalance_timeout_ms = 1000, .regex = "u|nope",
		.owned_set = true,
	};
	struct kp_cg_heartbeat_result r;

	assert_int_equal(kp_cg_heartbeat(gc, &a, now, &r), 0);
	assert_int_equal(r.error, KP_ERR_NONE);
	snprintf(ns[1].id, sizeof(ns[1].id), "c");
	ns[1].epoch = r.member_epoch;
	assert_true(r.has_assignment);
	for (int32_t i = 0; i < r.assignment_count; i++)
		for (int32_t k = 0; k < r.assignment[i].count; k++)
			ns[1].owns[1][r.assignment[i].partitions[k]] = true;
	kp_cg_result_free(&r);
	ns[1].topics[0] = "u";
	ns[1].ntopics = 1;
	rounds(gc, ns, 2, 4, &now);
	assert_int_equal(owned_count(&ns[0]), 4);
	assert_int_equal(owned_count(&ns[1]), 4);
	for (int p = 0; p < 4; p++)
		assert_true(ns[0].owns[0][p] && ns[1].owns[1][p]);
	kp_group_coord_free(gc);
}

static void expect(kp_group_coord *gc, struct kp_cg_heartbeat_args a, int16_t error,
		   const char *msg)
{
	struct kp_cg_heartbeat_result r;

	assert_int_equal(kp_cg_heartbeat(gc, &a, 1000, &r), 0);
	assert_int_equal(r.error, error);
	if (msg)
		assert_string_equal(r.error_message, msg);
	kp_cg_result_free(&r);
}

static void test_validation_and_fencing(void **state)
{
	int32_t parts[2] = { 2, 0 };
	kp_group_coord *gc = coord(parts);
	const char *t[] = { "t" };
	struct kp_cg_heartbeat_args ok = {
		.version = 1, .group_id = "g", .member_id = "m", .member_epoch = 0,
		.rebalance_timeout_ms = 1000, .topics = t, .topic_count = 1, .topics_set = true,
		.owned_set = true,
	};
	struct kp_cg_heartbeat_args a;

	a = ok, a.group_id = "";
	expect(gc, a, KP_ERR_INVALID_REQUEST, "GroupId can't be empty.");
	a = ok, a.member_id = "";
	expect(gc, a, KP_ERR_INVALID_REQUEST, "MemberId can't be empty.");
	a = ok, a.rebalance_timeout_ms = -1;
	expect(gc, a, KP_ERR_INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.");
	a = ok, a.owned_set = false;
	expect(gc, a, KP_ERR_INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining.");
	a = ok, a.topics_set = false;
	expect(gc, a, KP_ERR_INVALID_REQUEST,
	       "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
	a = ok, a.member_epoch = -3;
	expect(gc, a, KP_ERR_INVALID_REQUEST, "MemberEpoch is invalid.");
	a = ok, a.server_assignor = "sticky";
	expect(gc, a, KP_ERR_UNSUPPORTED_ASSIGNOR,
	       "ServerAssignor sticky is not supported. Supported assignors: uniform, range.");
	a = ok, a.regex = "(";
	expect(gc, a, KP_ERR_INVALID_REGULAR_EXPRESSION, NULL);
	a = ok, a.member_epoch = 1, a.group_id = "other";
	expect(gc, a, KP_ERR_GROUP_ID_NOT_FOUND, "Consumer group other not found.");
	expect(gc, ok, KP_ERR_NONE, NULL); /* m joins at epoch 2 (a new group starts at 1) */
	a = ok, a.member_epoch = 5, a.rebalance_timeout_ms = -1, a.topics_set = false;
	expect(gc, a, KP_ERR_FENCED_MEMBER_EPOCH, NULL);
	a.member_id = "nobody", a.member_epoch = 1;
	expect(gc, a, KP_ERR_UNKNOWN_MEMBER_ID, "Member nobody is not a member of group g.");
	assert_int_equal(kp_group_commit_check(gc, "g", "m", NULL, 2, 9, 1000), KP_ERR_NONE);
	assert_int_equal(kp_group_commit_check(gc, "g", "m", NULL, 1, 9, 1000),
			 KP_ERR_STALE_MEMBER_EPOCH);
	assert_int_equal(kp_group_commit_check(gc, "g", "m", NULL, 2, 8, 1000),
			 KP_ERR_UNSUPPORTED_VERSION);
	assert_int_equal(kp_cg_fetch_check(gc, "g", "m", 2), KP_ERR_NONE);
	assert_int_equal(kp_cg_fetch_check(gc, "g", "m", 1), KP_ERR_STALE_MEMBER_EPOCH);
	assert_int_equal(kp_cg_fetch_check(gc, "g", "x", 2), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(kp_cg_fetch_check(gc, "g", NULL, -1), KP_ERR_NONE);
	assert_int_equal(kp_group_delete(gc, "g"), KP_ERR_NON_EMPTY_GROUP);
	kp_group_coord_free(gc);
}

/* replay: a group's records (kp_cg_each_record) loaded into a fresh coordinator. */
struct copy {
	kp_group_coord *to;
};

static void c_epochs(void *arg, int32_t ge, int32_t ae)
{
	struct copy *c = arg;

	assert_int_equal(kp_cg_restore_epoch(c->to, "g", false, ge, 5000), 0);
	assert_int_equal(kp_cg_restore_epoch(c->to, "g", true, ae, 5000), 0);
}

static void c_member(void *arg, const struct kp_cg_member_record *m)
{
	struct copy *c = arg;

	assert_int_equal(kp_cg_restore_member(c->to, "g", m->member_id, m, 5000), 0);
}

static void c_target(void *arg, const char *id, const struct kp_cg_topic_partitions *t, int32_t n)
{
	struct copy *c = arg;

	assert_int_equal(kp_cg_restore_target(c->to, "g", id, t, n, 5000), 0);
}

static void c_assignment(void *arg, const struct kp_cg_assignment_record *a)
{
	struct copy *c = arg;

	assert_int_equal(kp_cg_restore_assignment(c->to, "g", a->member_id, a, 5000), 0);
}

static void test_records_replay_into_the_same_group(void **state)
{
	int32_t parts[2] = { 6, 0 };
	kp_group_coord *gc = coord(parts), *gc2 = coord(parts);
	struct member ms[3] = { 0 };
	int64_t now = 1000;
	struct copy c = { gc2 };
	struct kp_cg_record_visitor v = { &c, c_epochs, c_member, c_target, c_assignment };
	struct kp_cg_info a, b;

	join(gc, &ms[0], "a", now);
	join(gc, &ms[1], "b", now);
	join(gc, &ms[2], "c", now);
	rounds(gc, ms, 3, 4, &now);
	assert_true(kp_cg_each_record(gc, "g", &v));
	assert_int_equal(kp_cg_describe(gc, "g", &a, NULL, 0), KP_ERR_NONE);
	assert_int_equal(kp_cg_describe(gc2, "g", &b, NULL, 0), KP_ERR_NONE);
	assert_int_equal(a.group_epoch, b.group_epoch);
	assert_int_equal(a.assignment_epoch, b.assignment_epoch);
	assert_int_equal(b.member_count, 3);
	assert_string_equal(b.state, "Stable");
	/* the members go on heartbeating against the replayed coordinator, unchanged */
	rounds(gc2, ms, 3, 2, &now);
	assert_stable(gc2, ms, 3, 6);
	assert_int_equal(kp_cg_describe(gc2, "g", &b, NULL, 0), KP_ERR_NONE);
	assert_int_equal(b.group_epoch, a.group_epoch); /* no rebalance after the load */
	for (int i = 0; i < 3; i++)
		assert_int_equal(owned_count(&ms[i]), 2);
	kp_group_coord_free(gc);
	kp_group_coord_free(gc2);
}

/* A ConsumerProtocolSubscription v0 of topic "t", and an assignment of t-0..t-3. */
static const uint8_t SUB_T[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff };
static const uint8_t ASSIGN_T4[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 4, 0, 0, 0, 0,
				     0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff };

/* classic_stable - one classic member "c" (leader) with t-0..3, generation 1; returns its id. */
static char *classic_stable(kp_group_coord *gc, int64_t now)
{
	struct kp_group_protocol proto = { "range", SUB_T, sizeof(SUB_T) };
	struct kp_group_join_args ja = {
		.group_id = "g", .member_id = "", .protocol_type = "consumer", .client_id = "c",
		.client_host = "/h", .session_timeout_ms = 10000, .rebalance_timeout_ms = 5000,
		.protocols = &proto, .protocol_count = 1,
	};
	struct kp_group_pending *j = kp_group_join(gc, &ja, now), *sy;
	char *id;

	kp_group_tick(gc, now + 3000); /* the initial rebalance delay */
	assert_true(j->done);
	assert_int_equal(j->error, KP_ERR_NONE);
	id = strdup(j->member_id);
	struct kp_group_assignment as = { id, ASSIGN_T4, sizeof(ASSIGN_T4) };
	struct kp_group_sync_args sa = { .group_id = "g", .member_id = id,
					 .generation_id = j->generation_id, .assignments = &as,
					 .assignment_count = 1 };

	sy = kp_group_sync(gc, &sa, now + 3000);
	assert_true(sy->done && sy->error == KP_ERR_NONE);
	kp_group_pending_free(j);
	kp_group_pending_free(sy);
	return id;
}

static void test_online_upgrade_and_downgrade(void **state)
{
	int32_t parts[2] = { 4, 0 };
	kp_group_coord *gc = coord(parts);
	int64_t now = 1000;
	char *cid = classic_stable(gc, now);
	struct kp_group_info info;
	struct kp_cg_info ci;
	struct member m = { 0 };

	now += 4000;
	/* a consumer-protocol member joins: a consumer group keeping the classic member */
	join(gc, &m, "k", now);
	assert_int_equal(kp_cg_describe(gc, "g", &ci, NULL, 0), KP_ERR_NONE);
	assert_int_equal(ci.member_count, 2);
	assert_true(kp_group_describe(gc, "g", &info));
	assert_string_equal(info.type, "consumer");
	/* the classic member is told to rejoin (the epoch moved past its generation) */
	assert_int_equal(kp_group_heartbeat(gc, "g", cid, NULL, 1, now), KP_ERR_REBALANCE_IN_PROGRESS);
	/* the consumer-protocol member leaves: a classic group again, rebalancing */
	struct kp_cg_heartbeat_args leave = { .version = 1, .group_id = "g", .member_id = "k",
					       .member_epoch = -1, .rebalance_timeout_ms = -1 };
	struct kp_cg_heartbeat_result r;

	assert_int_equal(kp_cg_heartbeat(gc, &leave, now, &r), 0);
	assert_int_equal(r.error, KP_ERR_NONE);
	kp_cg_result_free(&r);
	assert_true(kp_group_describe(gc, "g", &info));
	assert_string_equal(info.type, "classic");
	assert_int_equal(info.state, KP_GROUP_PREPARING_REBALANCE);
	assert_int_equal(info.member_count, 1);
	free(cid);
	kp_group_coord_free(gc);

	/* group.consumer.migration.policy=disabled: the classic group is not a consumer group */
	gc = coord_migrating(parts, false);
	cid = classic_stable(gc, now);
	struct member k2 = { .topics = { "t" }, .ntopics = 1 };

	snprintf(k2.id, sizeof(k2.id), "k2");
	assert_int_equal(heartbeat(gc, &k2, 0, now + 4000), KP_ERR_GROUP_ID_NOT_FOUND);
	assert_true(kp_group_describe(gc, "g", &info));
	assert_string_equal(info.type, "classic");
	free(cid);
	kp_group_coord_free(gc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_members_converge_without_double_ownership),
		cmocka_unit_test(test_session_timeout_fences_and_others_take_over),
		cmocka_unit_test(test_static_member_returns_under_new_id_without_rebalance),
		cmocka_unit_test(test_range_and_mixed_subscriptions),
		cmocka_unit_test(test_validation_and_fencing),
		cmocka_unit_test(test_records_replay_into_the_same_group),
		cmocka_unit_test(test_online_upgrade_and_downgrade),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
