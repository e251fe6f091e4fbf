/*
 * produce_request.c - the producer's delivery side: Produce requests,
 * acknowledgements, retries and splitting; see producer_internal.h.
 *
 * kp_producer_pump() sends, for every broker, one request holding the head
 * batch of each of its partitions; before a second request goes to a
 * broker the first one's response is read (complete()). So at most one
 * request is in flight per broker and, since the sender waits for it, the
 * queue behind it stays short however fast records are added. A
 * partition's head batch is only removed when acknowledged, so a retried
 * batch is resent before any later batch of its partition. A batch of
 * several records rejected with MESSAGE_TOO_LARGE is split into one batch
 * per record, resent in order (the Java producer's splitAndReenqueue): the
 * records that fit are delivered and the failure names the record that
 * does not (its tag).
 */
#include "client/producer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"

static struct request *request_slot(kp_producer *p, int32_t node)
{
	struct request *r;

	for (size_t i = 0; i < p->nreqs; i++)
		if (p->reqs[i].node == node)
			return &p->reqs[i];
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

/* Forget request `r`: its partitions may send again. */
static void request_release(struct request *r)
{
	for (int32_t i = 0; i < r->n; i++)
		r->entries[i].topic->parts[r->entries[i].partition].in_flight = false;
	r->n = 0;
	r->node = -1;
}

/* Note why a retry is needed, for the message if delivery times out. */
static void retry_because(kp_producer *p, const kp_error *why)
{
	p->need_refresh = true;
	if (why)
		p->retry_why = *why;
}

/* One batch holding only `rec`, tagged `tag`; NULL when out of memory or on an encoding error. */
static struct batch *single_batch(kp_producer *p, kp_batch_builder *bld, const struct kp_record *rec,
				  int64_t tag, int64_t created_ms)
{
	struct batch *nb = calloc(1, sizeof *nb);
	kp_error e;

	if (!nb)
		return NULL;
	kp_buf_init(&nb->data);
	if (!(nb->tags = malloc(sizeof *nb->tags)) || kp_batch_builder_add(bld, rec, &e) < 0 ||
	    kp_batch_builder_finish(bld, -1, &nb->data, &e) < 0) {
		kp_buf_free(&nb->data);
		free(nb->tags);
		free(nb);
		return NULL;
	}
	nb->tags[0] = nb->first_tag = tag;
	nb->ntags = 1;
	nb->created_ms = created_ms;
	p->queued += nb->data.len;
	return nb;
}

/*
 * Replace `b`, the head batch of `pt`, by one batch per record. Returns 0,
 * or -1 with `b` left in place (out of memory, undecodable batch).
 */
static int split(kp_producer *p, struct part *pt, struct batch *b)
{
	kp_record_iter *it = kp_record_iter_new(b->data.data, b->data.len, 0);
	kp_batch_builder *bld = kp_batch_builder_new(p->compression, -1, -1, NULL);
	struct batch *first = NULL, *last = NULL, *nb;
	struct kp_record rec;
	kp_error e;
	int32_t n = 0;
	int rc = -1;

	while (it && bld && (rc = kp_record_iter_next(it, &rec, &e)) == 1) {
		rc = -1;
		if (n == b->ntags || !(nb = single_batch(p, bld, &rec, b->tags[n], b->created_ms)))
			break;
		n++;
		if (last)
			last->next = nb;
		else
			first = nb;
		last = nb;
	}
	if (rc == 0 && n == b->ntags) {
		last->next = b->next;
		pt->head = first;
		if (pt->tail == b)
			pt->tail = last;
		kp_producer_batch_free(p, b);
		first = NULL;
	} else {
		rc = -1;
	}
	for (; first; first = nb) {
		nb = first->next;
		kp_producer_batch_free(p, first);
	}
	kp_batch_builder_free(bld);
	kp_record_iter_free(it);
	return rc;
}

/* Handle one partition's answer: ack, retry, split or fatal. */
static int partition_result(kp_producer *p, struct request *r, struct entry *e, int16_t code,
			    kp_error *err)
{
	struct part *pt = &e->topic->parts[e->partition];
	struct batch *b = pt->head;
	kp_error ke;

	if (code == KP_ERR_NONE) {
		pt->head = b->next;
		if (!pt->head)
			pt->tail = NULL;
		kp_producer_batch_free(p, b);
		return 0;
	}
	kp_error_set(&ke, KP_EKAFKA, "rejected by %s: %s (topic %s, partition %d)", r->broker,
		     kp_kafka_error_name(code), e->topic->name, (int)e->partition);
	ke.kafka_code = code;
	if (kp_retriable(code) && kp_mono_ms() - b->created_ms < p->delivery_timeout_ms) {
		retry_because(p, &ke);
		return 0;
	}
	if (code == KP_ERR_MESSAGE_TOO_LARGE && b->ntags > 1 && split(p, pt, b) == 0)
		return 0;
	return kp_producer_fail(p, &ke, b->first_tag, err);
}

/* The error code for partition `en` in `resp` (NETWORK_EXCEPTION when missing). */
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
		const struct batch *b = r->entries[i].topic->parts[r->entries[i].partition].head;
		int64_t left = b->created_ms + p->delivery_timeout_ms + 100 - now;
		if (left < wait)
			wait = left > 0 ? left : 0;
	}
	return (int)wait;
}

/* Read the response to broker slot `r` and apply it. */
static int complete(kp_producer *p, struct request *r, kp_error *err)
{
	struct kp_produce_response resp;
	kp_conn *conn = kp_cluster_conn_existing(p->cluster, r->node);
	kp_arena arena;
	kp_error e;
	int rc = 0;

	kp_arena_init(&arena);
	if (!conn) {
		kp_error_set(&e, KP_ECONN, "connection to %s lost", r->broker);
		goto lost;
	}
	if (kp_conn_recv(conn, KP_API_PRODUCE, r->version, r->corr, &arena, &resp,
			 response_wait_ms(p, r), &e) < 0)
		goto lost;
	for (int32_t i = 0; i < r->n && rc == 0; i++)
		rc = partition_result(p, r, &r->entries[i], response_code(&resp, &r->entries[i]), err);
	goto out;
lost:
	/* unknown outcome: resend (no idempotence, so duplicates are possible) */
	kp_cluster_drop_conn(p->cluster, r->node);
	retry_because(p, &e);
out:
	request_release(r);
	kp_arena_free(&arena);
	return rc;
}

/*
 * Fill `req` (allocated in `arena`) with the head batches of `node`'s
 * partitions that are not in flight, up to max.request.size (the first
 * always), noting them in `r`. Returns 0, or -1 when out of memory.
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
			struct part *pt = &t->parts[j];
			if (!pt->head || pt->in_flight || kp_cluster_leader(p->cluster, t->name, j) != node ||
			    (bytes && bytes + pt->head->data.len > p->max_request))
				continue;
			bytes += pt->head->data.len;
			td->partition_data[td->partition_data_count++] =
				(struct kp_produce_request_partition_produce_data){
					.index = j,
					.records = { pt->head->data.data, (int32_t)pt->head->data.len },
				};
			r->entries[r->n++] = (struct entry){ t, j };
			pt->in_flight = true;
		}
		if (td->partition_data_count)
			req->topic_data_count++;
	}
	return 0;
}

/* Send one request to `node` carrying head batches of its partitions. */
static int send_to(kp_producer *p, int32_t node, kp_error *err)
{
	struct request *r = request_slot(p, node);
	struct kp_produce_request req;
	kp_arena arena;
	kp_conn *conn;
	kp_error e;
	int v, rc = 0;

	if (!r)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (r->node == node && complete(p, r, err) < 0)
		return -1;
	if (!(conn = kp_cluster_conn(p->cluster, node, &e))) {
		retry_because(p, &e);
		return 0;
	}
	if ((v = kp_conn_pick_version(conn, KP_API_PRODUCE, 3, KP_CLIENT_PRODUCE_MAX, &e)) < 0)
		return kp_producer_fail(p, &e, -1, err);
	kp_arena_init(&arena);
	if (build_request(p, node, r, &arena, &req) < 0) {
		request_release(r);
		kp_error_set(&e, KP_ENOMEM, "out of memory");
		rc = kp_producer_fail(p, &e, -1, err);
		goto out;
	}
	if (r->n == 0) {
		request_release(r);
		goto out;
	}
	snprintf(r->broker, sizeof r->broker, "%s", kp_conn_name(conn));
	r->node = node;
	r->version = (int16_t)v;
	if (kp_conn_send(conn, KP_API_PRODUCE, (int16_t)v, &req, &r->corr,
			 kp_cluster_config(p->cluster)->request_timeout_ms, &e) < 0) {
		request_release(r);
		kp_cluster_drop_conn(p->cluster, node);
		retry_because(p, &e);
		if (e.code == KP_EINVAL || e.code == KP_ENOMEM)
			rc = kp_producer_fail(p, &e, -1, err);
	} else if (p->acks == 0) { /* no response comes: written counts as delivered */
		for (int32_t i = 0; i < r->n; i++)
			partition_result(p, r, &r->entries[i], KP_ERR_NONE, NULL);
		request_release(r);
	}
out:
	kp_arena_free(&arena);
	return rc;
}

/* The batch of `pt` that would be sent next, or NULL. */
static struct batch *unsent(const struct part *pt)
{
	if (!pt->head)
		return NULL;
	return pt->in_flight ? pt->head->next : pt->head;
}

/* Fail when the oldest batch of `pt` (partition j of `t`) is past delivery.timeout.ms. */
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

/* Fail if any partition's oldest unsent batch is past delivery.timeout.ms. */
static int expire(kp_producer *p, kp_error *err)
{
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++) {
			const struct part *pt = &p->topics[i].parts[j];
			if (pt->head && !pt->in_flight && check_expired(p, &p->topics[i], j, err) < 0)
				return -1;
		}
	return 0;
}

int kp_producer_pump(kp_producer *p, bool *pending, kp_error *err)
{
	int32_t nodes[64];
	size_t nn = 0;

	*pending = false;
	for (size_t i = 0; i < p->ntopics; i++) {
		struct ptopic *t = &p->topics[i];
		for (int32_t j = 0; j < t->count; j++) {
			struct part *pt = &t->parts[j];
			int32_t leader;
			size_t k;
			if (pt->head)
				*pending = true;
			if (!unsent(pt))
				continue;
			if (!pt->in_flight && check_expired(p, t, j, err) < 0)
				return -1;
			if ((leader = kp_cluster_leader(p->cluster, t->name, j)) < 0) {
				kp_error e;
				kp_error_kafka(&e, KP_ERR_LEADER_NOT_AVAILABLE, "topic %s partition %d",
					       t->name, (int)j);
				retry_because(p, &e);
				continue;
			}
			for (k = 0; k < nn && nodes[k] != leader; k++)
				;
			if (k == nn && nn < 64)
				nodes[nn++] = leader;
		}
	}
	for (size_t k = 0; k < nn; k++)
		if (send_to(p, nodes[k], err) < 0)
			return -1;
	return 0;
}

int kp_producer_complete_all(kp_producer *p, kp_error *err)
{
	for (size_t i = 0; i < p->nreqs; i++)
		if (p->reqs[i].node >= 0 && complete(p, &p->reqs[i], err) < 0)
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
	return 0;
}
