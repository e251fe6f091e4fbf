/*
 * test_group_offsets.c - lib/group's offsets beyond commit and fetch, with
 * explicit times: retention as Kafka's OffsetExpirationCondition has it
 * (KIP-211: an Empty group's offsets from when it became Empty, a simple
 * group's from each commit, an explicit expire timestamp, a Stable
 * consumer group's offsets of topics no member subscribes to), the
 * tombstones the removed hook is told of, OffsetDelete against the
 * members' subscriptions (KIP-496), and Kafka's answers to an empty
 * group id.
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

#define RETENTION 60000
#define INTERVAL 1000

/* What the removed hook was told: "group/topic/partition" or "group" lines. */
struct removed {
	char log[1024];
};

static void on_removed(void *arg, const char *group_id, const char *topic, int32_t partition)
{
	struct removed *r = arg;
	size_t n = strlen(r->log);

	if (topic)
		snprintf(r->log + n, sizeof(r->log) - n, "%s/%s/%d;", group_id, topic, partition);
	else
		snprintf(r->log + n, sizeof(r->log) - n, "%s;", group_id);
}

static kp_group_coord *coord(struct removed *r)
{
	struct kp_group_config cfg;

	kp_group_config_default(&cfg);
	cfg.initial_rebalance_delay_ms = 0;
	cfg.offsets_retention_ms = RETENTION;
	cfg.offsets_retention_check_interval_ms = INTERVAL;
	cfg.seed = 7;
	cfg.removed = on_removed;
	cfg.notify_arg = r;
	return kp_group_coord_new(&cfg);
}

/* commit - a commit at `now` of topic/0 for group_id after its check (generation -1 or gen). */
static void commit(kp_group_coord *gc, const char *group_id, const char *member, int32_t gen,
		   const char *topic, int64_t expire, int64_t now)
{
	struct kp_group_offset o = { .offset = 7, .leader_epoch = -1, .metadata = "",
				     .commit_timestamp = now, .expire_timestamp = expire };

	assert_int_equal(kp_group_commit_check(gc, group_id, member, NULL, gen, 9, now), KP_ERR_NONE);
	assert_int_equal(kp_group_commit(gc, group_id, topic, 0, &o, now), KP_ERR_NONE);
}

/* A ConsumerProtocolSubscription v0 of topic "t" (version, count, "t", null user data). */
static const uint8_t SUB_T[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff };

/* stable_member - one member of `group_id` subscribed to "t", Stable at generation 1. */
static char *stable_member(kp_group_coord *gc, const char *group_id, const char *protocol_type,
			   int64_t now)
{
	struct kp_group_protocol proto = { "range", SUB_T, sizeof(SUB_T) };
	struct kp_group_join_args a = {
		.group_id = group_id, .member_id = "", .protocol_type = protocol_type,
		.client_id = "c", .client_host = "/127.0.0.1", .session_timeout_ms = 600000,
		.rebalance_timeout_ms = 600000, .protocols = &proto, .protocol_count = 1,
	};
	struct kp_group_pending *p = kp_group_join(gc, &a, now);
	struct kp_group_sync_args s = { .group_id = group_id, .generation_id = 1 };
	char *id;

	kp_group_tick(gc, now);
	assert_true(p->done);
	assert_int_equal(p->error, KP_ERR_NONE);
	id = strdup(p->member_id);
	kp_group_pending_free(p);
	s.member_id = id;
	p = kp_group_sync(gc, &s, now);
	assert_int_equal(p->error, KP_ERR_NONE);
	kp_group_pending_free(p);
	return id;
}

static void test_simple_group_expires_from_commit(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	struct kp_group_info info;

	(void)state;
	kp_group_tick(gc, 0); /* the first check; the next at INTERVAL */
	commit(gc, "s", "", -1, "t", -1, 100);
	commit(gc, "s", "", -1, "u", -1, 30000);
	kp_group_tick(gc, 100 + RETENTION);
	assert_string_equal(r.log, "s/t/0;");
	assert_null(kp_group_offset_get(gc, "s", "t", 0));
	assert_non_null(kp_group_offset_get(gc, "s", "u", 0));
	kp_group_tick(gc, 30000 + RETENTION + INTERVAL);
	assert_string_equal(r.log, "s/t/0;s/u/0;s;");
	assert_false(kp_group_describe(gc, "s", &info));
	kp_group_coord_free(gc);
}

static void test_empty_group_expires_from_becoming_empty(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	char *id = stable_member(gc, "g", "consumer", 0);

	(void)state;
	commit(gc, "g", id, 1, "t", -1, 10);
	assert_int_equal(kp_group_leave(gc, "g", id, NULL, 50000), KP_ERR_NONE);
	/* the commit is older than the retention, the group's emptiness is not */
	kp_group_tick(gc, 10 + RETENTION + INTERVAL);
	assert_string_equal(r.log, "");
	assert_non_null(kp_group_offset_get(gc, "g", "t", 0));
	kp_group_tick(gc, 50000 + RETENTION + INTERVAL);
	assert_string_equal(r.log, "g/t/0;g;");
	free(id);
	kp_group_coord_free(gc);
}

static void test_stable_group_expires_unsubscribed_topics_only(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	char *id = stable_member(gc, "g", "consumer", 0);
	char *other = stable_member(gc, "o", "connect", 0);

	(void)state;
	commit(gc, "g", id, 1, "t", -1, 10);
	commit(gc, "g", id, 1, "gone", -1, 10);
	commit(gc, "o", other, 1, "gone", -1, 10);
	for (int64_t t = 0; t <= RETENTION + 10000; t += 5000) { /* members stay alive */
		assert_int_equal(kp_group_heartbeat(gc, "g", id, NULL, 1, t), KP_ERR_NONE);
		assert_int_equal(kp_group_heartbeat(gc, "o", other, NULL, 1, t), KP_ERR_NONE);
		kp_group_tick(gc, t);
	}
	assert_string_equal(r.log, "g/gone/0;");
	assert_non_null(kp_group_offset_get(gc, "g", "t", 0));
	assert_non_null(kp_group_offset_get(gc, "o", "gone", 0));
	free(id);
	free(other);
	kp_group_coord_free(gc);
}

static void test_explicit_expire_timestamp(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);

	(void)state;
	kp_group_tick(gc, 0);
	commit(gc, "s", "", -1, "t", 500, 100);
	kp_group_tick(gc, INTERVAL);
	assert_string_equal(r.log, "s/t/0;s;");
	kp_group_coord_free(gc);
}

static void test_offset_delete_against_subscriptions(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	char *id = stable_member(gc, "g", "consumer", 0);
	char *other = stable_member(gc, "o", "connect", 0);

	(void)state;
	commit(gc, "g", id, 1, "t", -1, 10);
	commit(gc, "g", id, 1, "u", -1, 10);
	assert_int_equal(kp_group_offset_delete_check(gc, "g"), KP_ERR_NONE);
	assert_int_equal(kp_group_offset_delete(gc, "g", "t", 0), KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
	assert_int_equal(kp_group_offset_delete(gc, "g", "u", 0), KP_ERR_NONE);
	assert_string_equal(r.log, "g/u/0;");
	assert_null(kp_group_offset_get(gc, "g", "u", 0));
	assert_non_null(kp_group_offset_get(gc, "g", "t", 0));
	assert_int_equal(kp_group_offset_delete_check(gc, "o"), KP_ERR_NON_EMPTY_GROUP);
	assert_int_equal(kp_group_offset_delete_check(gc, "none"), KP_ERR_GROUP_ID_NOT_FOUND);
	free(id);
	free(other);
	kp_group_coord_free(gc);
}

static void test_empty_group_id(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	struct kp_group_sync_args s = { .group_id = "", .member_id = "m", .generation_id = 1 };
	struct kp_group_pending *p;

	(void)state;
	p = kp_group_sync(gc, &s, 0);
	assert_int_equal(p->error, KP_ERR_INVALID_GROUP_ID);
	kp_group_pending_free(p);
	assert_int_equal(kp_group_heartbeat(gc, "", "m", NULL, 1, 0), KP_ERR_INVALID_GROUP_ID);
	assert_int_equal(kp_group_leave(gc, "", "m", NULL, 0), KP_ERR_INVALID_GROUP_ID);
	/* "" is a group for commits and deletes, as Kafka keeps it for old clients */
	assert_int_equal(kp_group_delete(gc, ""), KP_ERR_GROUP_ID_NOT_FOUND);
	commit(gc, "", "", -1, "t", -1, 0);
	assert_int_equal(kp_group_delete(gc, ""), KP_ERR_NONE);
	assert_int_equal(kp_group_delete(gc, NULL), KP_ERR_INVALID_GROUP_ID);
	kp_group_coord_free(gc);
}

/* A replayed offset is kept even when its metadata is over offset.metadata.max.bytes now
 * (the broker restarted with a smaller limit): replay must not fail the startup. */
static void test_replay_ignores_metadata_limit(void **state)
{
	struct removed r = { "" };
	struct kp_group_config cfg;
	kp_group_coord *gc;
	struct kp_group_offset o = { .offset = 9, .leader_epoch = -1, .metadata = "longer than four",
				     .commit_timestamp = 1, .expire_timestamp = -1 };

	(void)state;
	kp_group_config_default(&cfg);
	cfg.offset_metadata_max_bytes = 4;
	cfg.removed = on_removed;
	cfg.notify_arg = &r;
	gc = kp_group_coord_new(&cfg);
	assert_int_equal(kp_group_restore_offset(gc, "s", "t", 0, &o, 1), 0);
	assert_string_equal(kp_group_offset_get(gc, "s", "t", 0)->metadata, "longer than four");
	assert_int_equal(kp_group_commit(gc, "s", "t", 1, &o, 2), KP_ERR_OFFSET_METADATA_TOO_LARGE);
	assert_int_equal(kp_group_restore_offset(gc, "s", "t", 0, NULL, 3), 0);
	assert_null(kp_group_offset_get(gc, "s", "t", 0));
	kp_group_coord_free(gc);
}

/* OffsetCommit's checks in Kafka's order: in CompletingRebalance an unknown member or
 * a wrong generation is told so, not REBALANCE_IN_PROGRESS (validateOffsetCommit). */
static void test_commit_check_order_in_completing_rebalance(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	struct kp_group_protocol proto = { "range", SUB_T, sizeof(SUB_T) };
	struct kp_group_join_args a = {
		.group_id = "g", .member_id = "", .protocol_type = "consumer", .client_id = "c",
		.client_host = "/127.0.0.1", .session_timeout_ms = 600000,
		.rebalance_timeout_ms = 600000, .protocols = &proto, .protocol_count = 1,
	};
	struct kp_group_pending *p = kp_group_join(gc, &a, 0);

	(void)state;
	kp_group_tick(gc, 0);
	assert_int_equal(p->error, KP_ERR_NONE);
	assert_int_equal(kp_group_commit_check(gc, "g", "nobody", NULL, 1, 9, 1), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(kp_group_commit_check(gc, "g", p->member_id, NULL, 5, 9, 1),
			 KP_ERR_ILLEGAL_GENERATION);
	assert_int_equal(kp_group_commit_check(gc, "g", p->member_id, NULL, 1, 9, 1),
			 KP_ERR_REBALANCE_IN_PROGRESS);
	kp_group_pending_free(p);
	kp_group_coord_free(gc);
}

/* A group replayed from a GroupMetadataValue without currentStateTimestamp (-1, older
 * record versions) expires its offsets from their commits, as Kafka's orElse does. */
static void test_restored_group_without_state_timestamp(void **state)
{
	struct removed r = { "" };
	kp_group_coord *gc = coord(&r);
	struct kp_group_snapshot s = { .group_id = "g", .protocol_type = "consumer",
				       .generation_id = 4, .state_timestamp = -1 };
	struct kp_group_offset o = { .offset = 1, .leader_epoch = -1, .metadata = "",
				     .commit_timestamp = 100, .expire_timestamp = -1 };
	struct kp_group_snapshot out;

	(void)state;
	assert_int_equal(kp_group_restore_offset(gc, "g", "t", 0, &o, 50000), 0);
	assert_int_equal(kp_group_restore(gc, "g", &s, 50000), 0);
	assert_true(kp_group_snapshot_get(gc, "g", &out));
	assert_int_equal(out.state_timestamp, -1);
	free(out.members);
	kp_group_tick(gc, 100 + RETENTION);
	assert_string_equal(r.log, "g/t/0;g;");
	kp_group_coord_free(gc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_group_expires_from_commit),
		cmocka_unit_test(test_empty_group_expires_from_becoming_empty),
		cmocka_unit_test(test_stable_group_expires_unsubscribed_topics_only),
		cmocka_unit_test(test_explicit_expire_timestamp),
		cmocka_unit_test(test_offset_delete_against_subscriptions),
		cmocka_unit_test(test_empty_group_id),
		cmocka_unit_test(test_replay_ignores_metadata_limit),
		cmocka_unit_test(test_commit_check_order_in_completing_rebalance),
		cmocka_unit_test(test_restored_group_without_state_timestamp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
