/*
 * test_purgatory.c - the broker's purgatory on a real libevent loop:
 * waking a key reaches only its own waiters, deadlines expire, a waiter
 * that is not done waits on, closing a connection reaches its operations
 * (also from inside their own callback), shutdown answers everything, and
 * long group ids stay distinct keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "broker/purgatory.h"

struct waiter {
	int calls[KP_OP_CLOSED + 1];
	int ready;                 /* the condition: done at a wake once ready */
	kp_purgatory *p;
	const void *close_conn;    /* close this connection from inside the callback */
};

static bool waiter_cb(void *arg, enum kp_op_reason why)
{
	struct waiter *w = arg;

	w->calls[why]++;
	if (w->close_conn) {
		const void *c = w->close_conn;

		w->close_conn = NULL;
		kp_purgatory_conn_closed(w->p, c);
	}
	return why != KP_OP_WAKE || w->ready;
}

static void loop_once(struct event_base *base)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void test_wake_touches_only_its_waiters(void **state)
{
	struct event_base *base = event_base_new();
	kp_purgatory *p = kp_purgatory_new(base);
	struct kp_watch_key k0, k1;
	kp_uuid id = { { 1, 2, 3 } };
	struct waiter a = { .ready = 1 }, b = { .ready = 1 }, c = { 0 };
	int conn_a, conn_b, conn_c;
	kp_error err;

	(void)state;
	kp_watch_key_partition(&k0, &id, 0);
	kp_watch_key_partition(&k1, &id, 1);
	assert_int_equal(kp_purgatory_park(p, &conn_a, 60000, &k0, 1, waiter_cb, &a, &err), 0);
	assert_int_equal(kp_purgatory_park(p, &conn_b, 60000, &k1, 1, waiter_cb, &b, &err), 0);
	assert_int_equal(kp_purgatory_park(p, &conn_c, 60000, (struct kp_watch_key[]){ k0, k1 }, 2,
					   waiter_cb, &c, &err), 0);
	assert_int_equal(kp_purgatory_count(p), 3);
	assert_int_equal(kp_purgatory_wake(p, &k0), 2);
	assert_int_equal(kp_purgatory_wake(p, &k0), 2); /* twice before the loop: one call each */
	assert_int_equal(a.calls[KP_OP_WAKE], 0);       /* never inside wake */
	loop_once(base);
	assert_int_equal(a.calls[KP_OP_WAKE], 1);
	assert_int_equal(b.calls[KP_OP_WAKE], 0);
	assert_int_equal(c.calls[KP_OP_WAKE], 1);       /* not ready: waits on */
	assert_int_equal(kp_purgatory_count(p), 2);
	assert_int_equal(kp_purgatory_wake(p, &k0), 1); /* a is gone from k0's waiters */
	c.ready = 1;
	loop_once(base);
	assert_int_equal(c.calls[KP_OP_WAKE], 2);
	assert_int_equal(kp_purgatory_count(p), 1);
	assert_int_equal(kp_purgatory_wake(p, &k0), 0);
	kp_purgatory_free(p);
	assert_int_equal(b.calls[KP_OP_SHUTDOWN], 1);
	event_base_free(base);
}

static void test_deadline_expires(void **state)
{
	struct event_base *base = event_base_new();
	kp_purgatory *p = kp_purgatory_new(base);
	struct kp_watch_key g;
	struct waiter a = { 0 }, b = { 0 };
	int conn;
	kp_error err;

	(void)state;
	kp_watch_key_group(&g, "group-1");
	assert_int_equal(kp_purgatory_park(p, &conn, 20, &g, 1, waiter_cb, &a, &err), 0);
	assert_int_equal(kp_purgatory_park(p, &conn, 0, NULL, 0, waiter_cb, &b, &err), 0);
	kp_purgatory_wake(p, &g); /* not ready: waits on until its deadline */
	event_base_dispatch(base); /* returns when no timer is left */
	assert_int_equal(a.calls[KP_OP_WAKE], 1);
	assert_int_equal(a.calls[KP_OP_EXPIRE], 1);
	assert_int_equal(b.calls[KP_OP_EXPIRE], 1);
	assert_int_equal(kp_purgatory_count(p), 0);
	kp_purgatory_free(p);
	event_base_free(base);
}

static void test_conn_close_and_hangup(void **state)
{
	struct event_base *base = event_base_new();
	kp_purgatory *p = kp_purgatory_new(base);
	struct kp_watch_key g;
	struct waiter a = { 0 }, b = { 0 }, c = { 0 };
	int conn1, conn2;
	kp_error err;

	(void)state;
	kp_watch_key_group(&g, "g");
	assert_int_equal(kp_purgatory_park(p, &conn1, 60000, &g, 1, waiter_cb, &a, &err), 0);
	assert_int_equal(kp_purgatory_park(p, &conn1, 60000, &g, 1, waiter_cb, &b, &err), 0);
	assert_int_equal(kp_purgatory_park(p, &conn2, 60000, &g, 1, waiter_cb, &c, &err), 0);
	kp_purgatory_conn_closed(p, &conn1); /* at once, both of conn1's */
	assert_int_equal(a.calls[KP_OP_CLOSED], 1);
	assert_int_equal(b.calls[KP_OP_CLOSED], 1);
	assert_int_equal(c.calls[KP_OP_CLOSED], 0);
	assert_int_equal(kp_purgatory_wake(p, &g), 1);
	kp_purgatory_hangup(p, &conn2);
	loop_once(base);
	assert_int_equal(c.calls[KP_OP_HANGUP], 1); /* hangup wins over the wake */
	assert_int_equal(c.calls[KP_OP_WAKE], 0);
	assert_int_equal(kp_purgatory_count(p), 0);
	kp_purgatory_free(p);
	event_base_free(base);
}

static void test_close_from_inside_the_callback(void **state)
{
	struct event_base *base = event_base_new();
	kp_purgatory *p = kp_purgatory_new(base);
	struct kp_watch_key g;
	struct waiter a = { 0 };
	int conn;
	kp_error err;

	(void)state;
	kp_watch_key_group(&g, "g");
	a.p = p;
	a.close_conn = &conn; /* answering fails and closes the connection */
	assert_int_equal(kp_purgatory_park(p, &conn, 60000, &g, 1, waiter_cb, &a, &err), 0);
	kp_purgatory_wake(p, &g);
	loop_once(base);
	assert_int_equal(a.calls[KP_OP_WAKE], 1);
	assert_int_equal(a.calls[KP_OP_CLOSED], 1); /* after its callback returned, once */
	assert_int_equal(kp_purgatory_count(p), 0);
	kp_purgatory_free(p);
	event_base_free(base);
}

static void test_group_keys(void **state)
{
	char long1[300], long2[300];
	struct kp_watch_key a, b, c;

	(void)state;
	memset(long1, 'x', sizeof(long1) - 1);
	long1[sizeof(long1) - 1] = '\0';
	memcpy(long2, long1, sizeof(long2));
	long2[200] = 'y';
	kp_watch_key_group(&a, long1);
	kp_watch_key_group(&b, long2);
	kp_watch_key_group(&c, long1);
	assert_int_equal(a.len, KP_WATCH_KEY_MAX);
	assert_memory_equal(a.bytes, c.bytes, a.len);
	assert_memory_not_equal(a.bytes, b.bytes, a.len);
	kp_watch_key_group(&a, "ab");
	kp_watch_key_group(&b, "abc");
	assert_int_not_equal(a.len, b.len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_touches_only_its_waiters),
		cmocka_unit_test(test_deadline_expires),
		cmocka_unit_test(test_conn_close_and_hangup),
		cmocka_unit_test(test_close_from_inside_the_callback),
		cmocka_unit_test(test_group_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
