/*
 * produce_request.c - the producer's delivery side: Produce requests to
 * the partitions' leaders, reading their responses in order, expiry and
 * metadata refreshes; what an answer does to a batch is
 * produce_result.c. See producer_internal.h.
 *
 * kp_producer_pump() sends, for every broker, one request holding the next
 * batch of each of its partitions. Before a broker gets a request beyond
 * max_in_flight the oldest one's response is read (complete()), so the
 * sender waits for the broker and the queue of sealed batches stays short
 * however fast records are added. A partition's batches leave its queue
 * only from the head and only acknowledged, so a batch sent again goes out
 * before any later batch of its partition. When a connection fails, every
 * request in flight on it has an unknown outcome: their batches are queued
 * again (with idempotence the broker recognises the ones it has).
 */
#include "client/producer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"

static struct request *request_slot(kp_producer *p)
{
	struct request *r;

	for (size_t i = 0; i < p->nreqs; i++)
		if (p->reqs[i].node < 0)
			return &p->reqs[i];
	if (!(r = realloc(p->reqs, (p->nreqs + 1) * sizeof *r)))
		return NULL;
	p->reqs = r;
	r = &p->reqs[p->nreqs++];
	memset(r, 0, sizeof *r);
	r->node = -1;
	return r;
}

/* How many requests are in flight to `node`. */
static int node_requests(const kp_producer *p, int32_t node)
{
	int n = 0;

	for (size_t i = 0; i < p->nreqs; i++)
		n += p->reqs[i].node == node;
	return n;
}

/* The oldest request in flight to `node` (-1: to any broker), or NULL. */
static struct request *oldest(kp_producer *p, int32_t node)
{
	struct request *o = NULL;

	for (size_t i = 0; i < p->nreqs; i++) {
		struct request *r = &p->reqs[i];
		if (r->node >= 0 && (node < 0 || r->node == node) && (!o || r->order < o->order))
			o = r;
	}
	return o;
}

/*
 * Free slot `r`. The batches whose result was not applied (the response
 * was lost) are queued again and stall their partitions.
 */
static void request_release(struct request *r)
{
	for (int32_t i = 0; i < r->n; i++) {
		struct entry *e = &r->entries[i];
		struct part *pt = &e->topic->parts[e->partition];
		if (!e->batch)
			continue;
		e->batch->state = BATCH_QUEUED;
		e->batch = NULL;
		pt->in_flight--;
		pt->stalled = true;
	}
	r->n = 0;
	r->node = -1;
}

/* The connection to `node` failed: close it; every request on it has an unknown outcome. */
static void node_lost(kp_producer *p, int32_t node, const kp_error *why)
{
	kp_cluster_drop_conn(p->cluster, node);
	for (size_t i = 0; i < p->nreqs; i++)
		if (p->reqs[i].node == node)
			request_release(&p->reqs[i]);
	kp_producer_retry_because(p, why);
}

/* The error code for entry `en` in `resp` (NETWORK_EXCEPTION when missing). */
static int16_t response_code(const struct kp_produce_response *resp, const struct entry *en)
{
	int16_t code = KP_ERR_NETWORK_EXCEPTION;

	for (int32_t t = 0; t < resp->responses_count; t++) {
		const struct kp_produce_response_topic_produce_response *tr = &resp->responses[t];
		if (!tr->name || strcmp(tr->name, en->topic->name) != 0)
			continue;
		for (int32_t k = 0; k < tr->partition_responses_count; k++)
			if (tr->partition_responses[k].index == en->partition)
				code = tr->partition_responses[k].error_code;
	}
	return code;
}

/*
 * How long to wait for the response to `r`: request.timeout.ms, but not
 * past the delivery.timeout.ms of its oldest batch (plus a little, so the
 * broker's own timeout error can still arrive).
 */
static int response_wait_ms(const kp_producer *p, const struct request *r)
{
	int64_t wait = kp_cluster_config(p->cluster)->request_timeout_ms, now = kp_mono_ms();

	for (int32_t i = 0; i < r->n; i++) {
		const struct batch *b = r->entries[i].batch;
		int64_t left = b ? b->created_ms + p->delivery_timeout_ms + 100 - now : wait;
		if (left < wait)
			wait = left > 0 ? left : 0;
	}
	return (int)wait;
}

/* Read the response to request `r` and apply it. */
static int complete(kp_producer *p, struct request *r, kp_error *err)
{
	struct kp_produce_response resp;
	kp_conn *conn = kp_cluster_conn_existing(p->cluster, r->node);
	kp_arena arena;
	kp_error e;
	int rc = 0;

	if (!conn) {
		kp_error_set(&e, KP_ECONN, "connection to %s lost", r->broker);
		node_lost(p, r->node, &e);
		return 0;
	}
	kp_arena_init(&arena);
	if (kp_conn_recv(conn, KP_API_PRODUCE, r->version, r->corr, &arena, &resp,
			 response_wait_ms(p, r), &e) < 0) {
		node_lost(p, r->node, &e);
	} else {
		for (int32_t i = 0; i < r->n && rc == 0; i++)
			rc = kp_producer_result(p, r, &r->entries[i],
						response_code(&resp, &r->entries[i]), err);
		request_release(r);
	}
	kp_arena_free(&arena);
	return rc;
}

/*
 * The batch of `pt` to send next, or NULL: the oldest queued one, unless
 * the partition waits for its batches in flight (stalled, or
 * max_in_flight of them out).
 */
static struct batch *sendable(const kp_producer *p, struct part *pt)
{
	struct batch *b;

	if (p->need_reset || (pt->stalled && pt->in_flight > 0))
		return NULL;
	pt->stalled = false;
	if (pt->in_flight >= p->max_in_flight)
		return NULL;
	for (b = pt->head; b && b->state != BATCH_QUEUED; b = b->next)
		;
	return b;
}

/* Note `b` of partition `j` of `t` as the next entry of `r`. */
static void add_entry(struct request *r, struct ptopic *t, int32_t j, struct batch *b)
{
	r->entries[r->n++] = (struct entry){ t, j, b };
	b->state = BATCH_IN_FLIGHT;
	t->parts[j].in_flight++;
}

/*
 * Fill `req` (allocated in `arena`) with the next batch of each of
 * `node`'s partitions, up to max.request.size (the first always), noting
 * them in `r`. Returns 0, or -1 when out of memory.
 */
static int build_request(kp_producer *p, int32_t node, struct request *r, kp_arena *arena,
			 struct kp_produce_request *req)
{
	size_t bytes = 0;

	kp_msg_init(&kp_produce_request_desc, req);
	req->acks = p->acks;
	req->timeout_ms = kp_cluster_config(p->cluster)->request_timeout_ms;
	if (!(req->topic_data = kp_arena_alloc(arena, (p->ntopics + 1) * sizeof *req->topic_data)))
		return -1;
	r->n = 0;
	for (size_t i = 0; i < p->ntopics; i++) {
		struct ptopic *t = &p->topics[i];
		struct kp_produce_request_topic_produce_data *td = &req->topic_data[req->topic_data_count];
		struct entry *ne = realloc(r->entries, (size_t)(r->n + t->count) * sizeof *ne);
		if (ne)
			r->entries = ne;
		td->name = t->name;
		td->partition_data = kp_arena_alloc(arena, (size_t)t->count * sizeof *td->partition_data);
		if (!td->partition_data || !ne)
			return -1;
		for (int32_t j = 0; j < t->count; j++) {
			struct batch *b;
			if (kp_cluster_leader(p->cluster, t->name, j) != node ||
			    !(b = sendable(p, &t->parts[j])) || (bytes && bytes + b->data.len > p->max_request))
				continue;
			bytes += b->data.len;
			td->partition_data[td->partition_data_count++] =
				(struct kp_produce_request_partition_produce_data){
					.index = j, .records = { b->data.data, (int32_t)b->data.len },
				};
			add_entry(r, t, j, b);
		}
		if (td->partition_data_count)
			req->topic_data_count++;
	}
	return 0;
}

/* Write request `req` (`r`'s batches) to `conn` of `node`; acks=0 counts as delivered. */
static int transmit(kp_producer *p, int32_t node, kp_conn *conn, struct request *r, int v,
		    const struct kp_produce_request *req, kp_error *err)
{
	kp_error e;
	int rc = 0;

	snprintf(r->broker, sizeof r->broker, "%s", kp_conn_name(conn));
	r->node = node;
	r->version = (int16_t)v;
	r->order = p->next_order++;
	if (kp_conn_send(conn, KP_API_PRODUCE, (int16_t)v, req, &r->corr,
			 kp_cluster_config(p->cluster)->request_timeout_ms, &e) < 0) {
		node_lost(p, node, &e);
		if (e.code == KP_EINVAL || e.code == KP_ENOMEM)
			return kp_producer_fail(p, &e, -1, err);
	} else if (p->acks == 0) { /* no response comes: written counts as delivered */
		for (int32_t i = 0; i < r->n && rc == 0; i++)
			rc = kp_producer_result(p, r, &r->entries[i], KP_ERR_NONE, err);
		request_release(r);
	}
	return rc;
}

/* Send one request to `node` carrying the next batch of each of its partitions. */
static int send_to(kp_producer *p, int32_t node, kp_error *err)
{
	struct kp_produce_request req;
	struct request *r, *o;
	kp_arena arena;
	kp_conn *conn;
	kp_error e;
	int v, rc = 0;

	while (node_requests(p, node) >= p->max_in_flight && (o = oldest(p, node)))
		if (complete(p, o, err) < 0)
			return -1;
	if (!(conn = kp_cluster_conn(p->cluster, node, &e))) {
		node_lost(p, node, &e);
		return 0;
	}
	if ((v = kp_conn_pick_version(conn, KP_API_PRODUCE, 3, KP_CLIENT_PRODUCE_MAX, &e)) < 0)
		return kp_producer_fail(p, &e, -1, err);
	if (!(r = request_slot(p))) {
		kp_error_set(&e, KP_ENOMEM, "out of memory");
		return kp_producer_fail(p, &e, -1, err);
	}
	kp_arena_init(&arena);
	if (build_request(p, node, r, &arena, &req) < 0) {
		request_release(r);
		kp_error_set(&e, KP_ENOMEM, "out of memory");
		rc = kp_producer_fail(p, &e, -1, err);
	} else if (r->n == 0) {
		request_release(r);
	} else {
		rc = transmit(p, node, conn, r, v, &req, err);
	}
	kp_arena_free(&arena);
	return rc;
}

/* Fail when the oldest batch of partition j of `t` is past delivery.timeout.ms. */
static int check_expired(kp_producer *p, const struct ptopic *t, int32_t j, kp_error *err)
{
	const struct batch *b = t->parts[j].head;
	kp_error e;

	if (kp_mono_ms() - b->created_ms < p->delivery_timeout_ms)
		return 0;
	kp_error_set(&e, KP_ETIMEDOUT, "not delivered to topic %s partition %d within "
		     "delivery.timeout.ms (%d ms)%s%s", t->name, (int)j, p->delivery_timeout_ms,
		     p->retry_why.msg[0] ? ": " : "", p->retry_why.msg);
	return kp_producer_fail(p, &e, b->first_tag, err);
}

/* Fail if any partition's oldest batch waits to be sent past delivery.timeout.ms. */
static int expire(kp_producer *p, kp_error *err)
{
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++) {
			const struct part *pt = &p->topics[i].parts[j];
			if (pt->head && pt->head->state == BATCH_QUEUED &&
			    check_expired(p, &p->topics[i], j, err) < 0)
				return -1;
		}
	return 0;
}

/* Whether `pt` has a batch waiting to be sent (now, or once its batches in flight return). */
static bool queued(const struct part *pt)
{
	for (const struct batch *b = pt->head; b; b = b->next)
		if (b->state == BATCH_QUEUED)
			return true;
	return false;
}

/*
 * Add the leader of partition j of `t` to nodes[] (*nn of them) if it has
 * a batch waiting: send_to() then sends it, or, when the broker has its
 * limit of requests out, first reads the oldest response (which is how a
 * fast writer waits for the broker).
 */
static int plan_partition(kp_producer *p, struct ptopic *t, int32_t j, int32_t *nodes, size_t *nn,
			  kp_error *err)
{
	struct part *pt = &t->parts[j];
	int32_t leader;
	size_t k;
	kp_error e;

	if (!queued(pt))
		return 0;
	if (pt->head->state == BATCH_QUEUED && check_expired(p, t, j, err) < 0)
		return -1;
	if ((leader = kp_cluster_leader(p->cluster, t->name, j)) < 0) {
		kp_error_kafka(&e, KP_ERR_LEADER_NOT_AVAILABLE, "topic %s partition %d", t->name, (int)j);
		kp_producer_retry_because(p, &e);
		return 0;
	}
	for (k = 0; k < *nn && nodes[k] != leader; k++)
		;
	if (k == *nn && *nn < 64)
		nodes[(*nn)++] = leader;
	return 0;
}

int kp_producer_pump(kp_producer *p, bool *pending, kp_error *err)
{
	int32_t nodes[64];
	size_t nn = 0;

	*pending = false;
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++) {
			if (p->topics[i].parts[j].head)
				*pending = true;
			if (plan_partition(p, &p->topics[i], j, nodes, &nn, err) < 0)
				return -1;
		}
	for (size_t k = 0; k < nn; k++)
		if (send_to(p, nodes[k], err) < 0)
			return -1;
	return 0;
}

int kp_producer_complete_all(kp_producer *p, kp_error *err)
{
	struct request *r;

	while ((r = oldest(p, -1)))
		if (complete(p, r, err) < 0)
			return -1;
	return 0;
}

int kp_producer_backoff_refresh(kp_producer *p, kp_error *err)
{
	kp_error e;

	if (kp_producer_complete_all(p, err) < 0)
		return -1;
	kp_sleep_ms(kp_cluster_config(p->cluster)->retry_backoff_ms);
	p->need_refresh = false;
	if (kp_cluster_refresh(p->cluster, &e) < 0)
		p->retry_why = e;
	return 0;
}

int kp_producer_step(kp_producer *p, bool *pending, kp_error *err)
{
	if (kp_producer_pump(p, pending, err) < 0 || kp_producer_complete_all(p, err) < 0)
		return -1;
	if (p->need_refresh && (expire(p, err) < 0 || kp_producer_backoff_refresh(p, err) < 0))
		return -1;
	if (p->need_reset && kp_producer_reset_id(p, err) < 0)
		return -1;
	return 0;
}
