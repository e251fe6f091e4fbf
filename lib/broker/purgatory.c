/*
 * purgatory.c - parked operations, their keys and their deadlines (see
 * purgatory.h for the model).
 *
 * Each operation owns one libevent timer and one watch node per key (its
 * connection's key last). Keys live in a uthash table of watchers; each
 * watcher holds a doubly linked list (utlist) of the nodes watching it, so
 * waking a key walks only its own operations and forgetting an operation
 * unlinks each of its nodes in O(1). A wake, a hangup or the deadline
 * makes the timer active; its callback picks the reason and calls the
 * owner.
 *
 * Re-entrancy: while an owner's callback runs (op->busy), closing the
 * operation's connection only marks it; the operation gets KP_OP_CLOSED
 * when the callback returns, unless it finished.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <uthash.h>
#include <utlist.h>

#include "broker/purgatory.h"
#include "util/clock.h"

enum { KEY_PARTITION = 'p', KEY_GROUP = 'g', KEY_CONN = 'c', KEY_IMAGE = 'i' };

struct watcher;
struct op;

struct watch_node {
	struct op *op;
	struct watcher *w;
	struct watch_node *prev, *next;
};

struct watcher {
	struct kp_watch_key key; /* hashed on key.bytes[0..len) */
	struct watch_node *nodes;
	UT_hash_handle hh;
};

struct op {
	kp_purgatory *p;
	kp_op_cb cb;
	void *arg;
	struct event *timer;
	int64_t deadline_ms;      /* CLOCK_MONOTONIC */
	bool woken, hung_up;      /* what the active timer delivers */
	bool busy, closed;        /* in the owner's callback; connection closed meanwhile */
	struct op *prev, *next;   /* every parked operation */
	size_t nnodes;
	struct watch_node nodes[];
};

struct kp_purgatory {
	struct event_base *base;
	struct watcher *watchers; /* uthash head */
	struct op *ops;           /* utlist head */
	size_t count;
};

void kp_watch_key_partition(struct kp_watch_key *k, const kp_uuid *topic_id, int32_t partition)
{
	uint32_t p = (uint32_t)partition;

	k->bytes[0] = KEY_PARTITION;
	memcpy(k->bytes + 1, topic_id->b, sizeof(topic_id->b));
	for (int i = 0; i < 4; i++)
		k->bytes[17 + i] = (uint8_t)(p >> (24 - 8 * i));
	k->len = 21;
}

void kp_watch_key_image(struct kp_watch_key *k)
{
	k->bytes[0] = KEY_IMAGE;
	k->len = 1;
}

void kp_watch_key_group(struct kp_watch_key *k, const char *group_id)
{
	size_t n = strlen(group_id);

	k->bytes[0] = KEY_GROUP;
	if (n < KP_WATCH_KEY_MAX - 1) {
		memcpy(k->bytes + 1, group_id, n);
		k->len = (uint8_t)(n + 1);
		return;
	}
	uint64_t h = 0xcbf29ce484222325ULL, len = n;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)group_id[i]) * 0x100000001b3ULL;
	memcpy(k->bytes + 1, group_id, KP_WATCH_KEY_MAX - 1 - 16);
	memcpy(k->bytes + KP_WATCH_KEY_MAX - 16, &len, 8);
	memcpy(k->bytes + KP_WATCH_KEY_MAX - 8, &h, 8);
	k->len = KP_WATCH_KEY_MAX;
}

static void key_conn(struct kp_watch_key *k, const void *conn)
{
	k->bytes[0] = KEY_CONN;
	memcpy(k->bytes + 1, &conn, sizeof(conn));
	k->len = (uint8_t)(1 + sizeof(conn));
}

kp_purgatory *kp_purgatory_new(struct event_base *base)
{
	kp_purgatory *p = calloc(1, sizeof(*p));

	if (p)
		p->base = base;
	return p;
}

static struct watcher *watcher_find(kp_purgatory *p, const struct kp_watch_key *k)
{
	struct watcher *w = NULL;

	HASH_FIND(hh, p->watchers, k->bytes, k->len, w);
	return w;
}

/* watch - link node `n` of `op` under key `k`, adding the key's watcher if new; -1 on ENOMEM. */
static int watch(kp_purgatory *p, struct op *op, struct watch_node *n, const struct kp_watch_key *k)
{
	struct watcher *w = watcher_find(p, k);

	if (!w) {
		if (!(w = calloc(1, sizeof(*w))))
			return -1;
		w->key = *k;
		HASH_ADD(hh, p->watchers, key.bytes, w->key.len, w);
	}
	n->op = op;
	n->w = w;
	DL_APPEND(w->nodes, n);
	return 0;
}

static void unwatch(kp_purgatory *p, struct watch_node *n)
{
	struct watcher *w = n->w;

	if (!w)
		return;
	DL_DELETE(w->nodes, n);
	n->w = NULL;
	if (!w->nodes) {
		HASH_DEL(p->watchers, w);
		free(w);
	}
}

/* forget - unlink `op` from every key and the purgatory, and free it. */
static void forget(struct op *op)
{
	kp_purgatory *p = op->p;

	for (size_t i = 0; i < op->nnodes; i++)
		unwatch(p, &op->nodes[i]);
	DL_DELETE(p->ops, op);
	p->count--;
	if (op->timer)
		event_free(op->timer);
	free(op);
}

static void arm(struct op *op, int64_t left_ms)
{
	struct timeval tv = { (time_t)(left_ms / 1000), (suseconds_t)(left_ms % 1000) * 1000 };

	evtimer_add(op->timer, &tv);
}

/* op_timer_cb - woken, hung up or expired: ask the owner; forget or re-arm. */
static void op_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct op *op = arg;
	int64_t left = op->deadline_ms - kp_mono_ms();
	enum kp_op_reason why = op->hung_up ? KP_OP_HANGUP : left <= 0 ? KP_OP_EXPIRE : KP_OP_WAKE;
	bool done;

	(void)fd;
	(void)what;
	op->woken = op->hung_up = false;
	op->busy = true;
	done = op->cb(op->arg, why) || why == KP_OP_EXPIRE;
	op->busy = false;
	if (!done && op->closed) {
		op->cb(op->arg, KP_OP_CLOSED);
		done = true;
	}
	if (done) {
		forget(op);
		return;
	}
	if (!op->woken && !op->hung_up)
		arm(op, left > 0 ? left : 0);
}

int kp_purgatory_park(kp_purgatory *p, const void *conn, int64_t timeout_ms,
		      const struct kp_watch_key *keys, size_t nkeys, kp_op_cb cb, void *arg,
		      kp_error *err)
{
	struct kp_watch_key ck;
	struct op *op = calloc(1, sizeof(*op) + (nkeys + 1) * sizeof(struct watch_node));

	if (!op)
		goto enomem;
	op->p = p;
	op->cb = cb;
	op->arg = arg;
	op->deadline_ms = kp_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	DL_APPEND(p->ops, op);
	p->count++;
	if (!(op->timer = evtimer_new(p->base, op_timer_cb, op)))
		goto fail;
	for (size_t i = 0; i < nkeys; i++, op->nnodes++)
		if (watch(p, op, &op->nodes[i], &keys[i]) < 0)
			goto fail;
	key_conn(&ck, conn);
	if (watch(p, op, &op->nodes[nkeys], &ck) < 0)
		goto fail;
	op->nnodes++;
	arm(op, timeout_ms > 0 ? timeout_ms : 0);
	return 0;
fail:
	forget(op);
enomem:
	return kp_error_set(err, KP_ENOMEM, "out of memory parking a request");
}

/* activate - make `op`'s timer run soon, once: only when nothing made it active yet. */
static void activate(struct op *op)
{
	if (!op->woken && !op->hung_up)
		event_active(op->timer, EV_TIMEOUT, 1);
}

size_t kp_purgatory_wake(kp_purgatory *p, const struct kp_watch_key *key)
{
	struct watcher *w = watcher_find(p, key);
	struct watch_node *n;
	size_t count = 0;

	if (!w)
		return 0;
	DL_FOREACH(w->nodes, n) {
		activate(n->op);
		n->op->woken = true;
		count++;
	}
	return count;
}

void kp_purgatory_hangup(kp_purgatory *p, const void *conn)
{
	struct kp_watch_key ck;
	struct watcher *w;
	struct watch_node *n;

	key_conn(&ck, conn);
	if (!(w = watcher_find(p, &ck)))
		return;
	DL_FOREACH(w->nodes, n) {
		activate(n->op);
		n->op->hung_up = true;
	}
}

void kp_purgatory_conn_closed(kp_purgatory *p, const void *conn)
{
	struct kp_watch_key ck;
	struct watcher *w;
	struct watch_node *n, *tmp;

	key_conn(&ck, conn);
	if (!(w = watcher_find(p, &ck)))
		return;
	/* The connection's node is its operation's last: forgetting an
	 * operation frees the watcher only with its last node. */
	DL_FOREACH_SAFE(w->nodes, n, tmp) {
		struct op *op = n->op;
		bool last = tmp == NULL;

		if (op->busy) {
			op->closed = true;
			continue;
		}
		op->cb(op->arg, KP_OP_CLOSED);
		forget(op);
		if (last)
			break;
	}
}

void kp_purgatory_shutdown(kp_purgatory *p)
{
	while (p->ops) {
		struct op *op = p->ops;

		op->cb(op->arg, KP_OP_SHUTDOWN);
		forget(op);
	}
}

size_t kp_purgatory_count(const kp_purgatory *p)
{
	return p->count;
}

void kp_purgatory_free(kp_purgatory *p)
{
	if (!p)
		return;
	kp_purgatory_shutdown(p);
	free(p);
}
