/*
 * test_assignor.c - the classic protocol's partition assignors (range,
 * roundrobin, cooperative-sticky) against the Java client's results, and
 * the cooperative rules of KIP-429: owned partitions stay put, moving
 * ones are withheld for one generation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/assignor.h"

static const char *const T1[] = { "t1" };
static const char *const T12[] = { "t1", "t2" };

/* "t1-0 t1-1 t2-0" for member i's assignment. */
static const char *show(const struct kp_assign_member *m)
{
	static char buf[4][256];
	static int k;
	char *s = buf[k++ % 4];

	s[0] = '\0';
	for (size_t i = 0; i < m->nassigned; i++)
		snprintf(s + strlen(s), 256 - strlen(s), "%s%s-%d", i ? " " : "", m->assigned[i].topic,
			 (int)m->assigned[i].partition);
	return s;
}

static void member(struct kp_assign_member *m, const char *id, const char *const *topics,
		   size_t ntopics)
{
	*m = (struct kp_assign_member){ .member_id = id, .topics = topics, .ntopics = ntopics,
					.generation = -1 };
}

static void test_parse_names(void **state)
{
	kp_error err;

	(void)state;
	assert_int_equal(kp_assignor_parse("range", &err), KP_ASSIGNOR_RANGE);
	assert_int_equal(kp_assignor_parse("roundrobin", &err), KP_ASSIGNOR_ROUNDROBIN);
	assert_int_equal(kp_assignor_parse("cooperative-sticky", &err), KP_ASSIGNOR_COOPERATIVE_STICKY);
	assert_int_equal(kp_assignor_parse("org.apache.kafka.clients.consumer.RangeAssignor", &err),
			 KP_ASSIGNOR_RANGE);
	assert_int_equal(kp_assignor_parse("sticky", &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_string_equal(kp_assignor_name(KP_ASSIGNOR_COOPERATIVE_STICKY), "cooperative-sticky");
	assert_true(kp_assignor_cooperative(KP_ASSIGNOR_COOPERATIVE_STICKY));
	assert_false(kp_assignor_cooperative(KP_ASSIGNOR_RANGE));
}

/* RangeAssignor's javadoc example: t0, t1 with 3 partitions each, C0 and C1. */
static void test_range_per_topic(void **state)
{
	struct kp_assign_topic topics[] = { { "t2", 3 }, { "t1", 3 } };
	struct kp_assign_member m[2];

	(void)state;
	member(&m[0], "m-b", T12, 2); /* sorted by member id: m-a first */
	member(&m[1], "m-a", T12, 2);
	assert_int_equal(kp_assign(KP_ASSIGNOR_RANGE, topics, 2, m, 2, NULL), 0);
	assert_string_equal(show(&m[1]), "t1-0 t1-1 t2-0 t2-1");
	assert_string_equal(show(&m[0]), "t1-2 t2-2");
	kp_assign_free(m, 2);
}

static void test_range_six_over_three_and_subset(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 6 }, { "t2", 2 } };
	struct kp_assign_member m[3];

	(void)state;
	member(&m[0], "a", T12, 2);
	member(&m[1], "b", T1, 1);
	member(&m[2], "c", T12, 2);
	assert_int_equal(kp_assign(KP_ASSIGNOR_RANGE, topics, 2, m, 3, NULL), 0);
	assert_string_equal(show(&m[0]), "t1-0 t1-1 t2-0");
	assert_string_equal(show(&m[1]), "t1-2 t1-3");
	assert_string_equal(show(&m[2]), "t1-4 t1-5 t2-1");
	kp_assign_free(m, 3);
}

/* RoundRobinAssignor's javadoc example: C0 gets t0p0, t0p2, t1p1; C1 gets t0p1, t1p0, t1p2. */
static void test_roundrobin(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 3 }, { "t2", 3 } };
	struct kp_assign_member m[2];

	(void)state;
	member(&m[0], "c0", T12, 2);
	member(&m[1], "c1", T12, 2);
	assert_int_equal(kp_assign(KP_ASSIGNOR_ROUNDROBIN, topics, 2, m, 2, NULL), 0);
	assert_string_equal(show(&m[0]), "t1-0 t1-2 t2-1");
	assert_string_equal(show(&m[1]), "t1-1 t2-0 t2-2");
	kp_assign_free(m, 2);
}

/* Static members are ordered by group instance id, not by their (random) member ids. */
static void test_static_members_order(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 2 } };
	struct kp_assign_member m[2];

	(void)state;
	member(&m[0], "a-random", T1, 1);
	m[0].group_instance_id = "zz";
	member(&m[1], "z-random", T1, 1);
	m[1].group_instance_id = "aa";
	assert_int_equal(kp_assign(KP_ASSIGNOR_RANGE, topics, 1, m, 2, NULL), 0);
	assert_string_equal(show(&m[1]), "t1-0");
	assert_string_equal(show(&m[0]), "t1-1");
	kp_assign_free(m, 2);
}

static void test_sticky_fresh_group_is_balanced(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 7 } };
	struct kp_assign_member m[3];

	(void)state;
	member(&m[0], "a", T1, 1);
	member(&m[1], "b", T1, 1);
	member(&m[2], "c", T1, 1);
	assert_int_equal(kp_assign(KP_ASSIGNOR_COOPERATIVE_STICKY, topics, 1, m, 3, NULL), 0);
	assert_int_equal(m[0].nassigned + m[1].nassigned + m[2].nassigned, 7);
	for (int i = 0; i < 3; i++)
		assert_true(m[i].nassigned == 2 || m[i].nassigned == 3);
	kp_assign_free(m, 3);
}

/*
 * KIP-429: a owned all 6 partitions, b joins. a keeps 3 of its own; the 3
 * moving to b are withheld this generation (b gets nothing yet). After a
 * has revoked them (owning 3), the next rebalance gives b the other 3.
 */
static void test_sticky_cooperative_two_phases(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 6 } };
	struct kp_tp all[6], half[3];
	struct kp_assign_member m[2];

	(void)state;
	for (int p = 0; p < 6; p++)
		all[p] = (struct kp_tp){ "t1", p };
	member(&m[0], "a", T1, 1);
	m[0].owned = all;
	m[0].nowned = 6;
	m[0].generation = 1;
	member(&m[1], "b", T1, 1);
	assert_int_equal(kp_assign(KP_ASSIGNOR_COOPERATIVE_STICKY, topics, 1, m, 2, NULL), 0);
	assert_string_equal(show(&m[0]), "t1-0 t1-1 t1-2");
	assert_string_equal(show(&m[1]), "");
	memcpy(half, m[0].assigned, sizeof half);
	kp_assign_free(m, 2);
	m[0].owned = half;
	m[0].nowned = 3;
	m[0].generation = 2;
	assert_int_equal(kp_assign(KP_ASSIGNOR_COOPERATIVE_STICKY, topics, 1, m, 2, NULL), 0);
	assert_string_equal(show(&m[0]), "t1-0 t1-1 t1-2");
	assert_string_equal(show(&m[1]), "t1-3 t1-4 t1-5");
	kp_assign_free(m, 2);
}

/* A member leaving: the survivors keep theirs and share its partitions at once. */
static void test_sticky_member_leaves(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 6 } };
	struct kp_tp a_owned[] = { { "t1", 0 }, { "t1", 1 } }, c_owned[] = { { "t1", 4 }, { "t1", 5 } };
	struct kp_assign_member m[2];

	(void)state;
	member(&m[0], "a", T1, 1);
	m[0].owned = a_owned;
	m[0].nowned = 2;
	m[0].generation = 4;
	member(&m[1], "c", T1, 1);
	m[1].owned = c_owned;
	m[1].nowned = 2;
	m[1].generation = 4;
	assert_int_equal(kp_assign(KP_ASSIGNOR_COOPERATIVE_STICKY, topics, 1, m, 2, NULL), 0);
	assert_int_equal(m[0].nassigned, 3);
	assert_int_equal(m[1].nassigned, 3);
	assert_string_equal(show(&m[0]), "t1-0 t1-1 t1-2");
	assert_string_equal(show(&m[1]), "t1-3 t1-4 t1-5");
	kp_assign_free(m, 2);
}

/* A stale claim (older generation) loses to the current owner's. */
static void test_sticky_stale_claim(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 2 } };
	struct kp_tp both[] = { { "t1", 0 }, { "t1", 1 } }, one[] = { { "t1", 1 } };
	struct kp_assign_member m[2];

	(void)state;
	member(&m[0], "a", T1, 1);
	m[0].owned = both;
	m[0].nowned = 2;
	m[0].generation = 3;
	member(&m[1], "b", T1, 1);
	m[1].owned = one;
	m[1].nowned = 1;
	m[1].generation = 5;
	assert_int_equal(kp_assign(KP_ASSIGNOR_COOPERATIVE_STICKY, topics, 1, m, 2, NULL), 0);
	assert_string_equal(show(&m[0]), "t1-0");
	assert_string_equal(show(&m[1]), "t1-1");
	kp_assign_free(m, 2);
}

static void test_unknown_topic_and_no_members(void **state)
{
	struct kp_assign_topic topics[] = { { "t1", 2 } };
	const char *const other[] = { "nope" };
	struct kp_assign_member m[1];

	(void)state;
	for (int a = KP_ASSIGNOR_RANGE; a <= KP_ASSIGNOR_COOPERATIVE_STICKY; a++) {
		member(&m[0], "a", other, 1);
		assert_int_equal(kp_assign(a, topics, 1, m, 1, NULL), 0);
		assert_int_equal(m[0].nassigned, 0);
		kp_assign_free(m, 1);
		assert_int_equal(kp_assign(a, topics, 1, m, 0, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_range_per_topic),
		cmocka_unit_test(test_range_six_over_three_and_subset),
		cmocka_unit_test(test_roundrobin),
		cmocka_unit_test(test_static_members_order),
		cmocka_unit_test(test_sticky_fresh_group_is_balanced),
		cmocka_unit_test(test_sticky_cooperative_two_phases),
		cmocka_unit_test(test_sticky_member_leaves),
		cmocka_unit_test(test_sticky_stale_claim),
		cmocka_unit_test(test_unknown_topic_and_no_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
