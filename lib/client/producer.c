/*
 * producer.c - per-partition batching, Produce requests, acks and
 * retries; see producer.h.
 *
 * Each partition has an open batch builder and a FIFO of sealed batches.
 * pump() sends, for every broker, one request holding the head batch of
 * each of its partitions; before a second request goes to a broker the
 * first one's response is read (complete()). A partition's head batch is
 * only removed when acknowledged, so a retried batch is resent before any
 * later batch of its partition. A batch of several records rejected with
 * MESSAGE_TOO_LARGE is split into one batch per record, resent in order
 * (the Java producer's splitAndReenqueue): the records that fit are
 * delivered and the failure names the record that does not (its tag).
 */
#include "client/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/codec.h"
#include "protocol/errors.h"

struct batch {
	struct batch *next;
	kp_buf data;
	int64_t first_tag;
	int64_t *tags;     /* every record's tag, in order (owned) */
	int32_t ntags;
	int64_t created_ms;
};

struct part {
	kp_batch_builder *builder;
	int64_t *tags;     /* tags of the open batch's records (owned) */
	size_t ntags, tag_cap;
	struct batch *head, *tail;
	bool in_flight;
};

struct ptopic {
	char *name;
	int32_t count;
	int32_t sticky;
	struct part *parts;
};

struct entry {
	struct ptopic *topic;
	int32_t partition;
};

struct request {
	int32_t node;      /* -1: slot free */
	int32_t corr;
	int16_t version;
	char broker[300];
	struct entry *entries;
	int32_t n;
};

struct kp_producer {
	kp_cluster *cluster;
	int16_t acks;
	int compression;
	size_t batch_size;
	size_t max_request;
	int linger_ms;
	int delivery_timeout_ms;
	struct ptopic *topics;
	size_t ntopics;
	struct request *reqs; /* one slot per broker with a request in flight */
	size_t nreqs;
	bool need_refresh;
	bool failed;
	kp_error fail;
	int64_t fail_tag;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kp_compression_parse(const char *name)
{
	static const char *const names[] = { "none", "gzip", "snappy", "lz4", "zstd" };

	for (int i = 0; i < 5; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void kp_split_key(const uint8_t *line, size_t len, const char *delim, size_t dlen,
		  const uint8_t **key, int32_t *klen, const uint8_t **value, int32_t *vlen)
{
	const uint8_t *d = dlen ? memmem(line, len, delim, dlen) : NULL;

	if (!d) {
		*key = NULL;
		*klen = -1;
		*value = line;
		*vlen = (int32_t)len;
		return;
	}
	*key = line;
	*klen = (int32_t)(d - line);
	*value = d + dlen;
	*vlen = (int32_t)(len - (size_t)*klen - dlen);
}

static int read_settings(kp_producer *p, const kp_config *cfg, kp_error *err)
{
	const char *acks = cfg ? kp_config_get_str(cfg, "acks", "all") : "all";
	const char *comp = cfg ? kp_config_get_str(cfg, "compression.type", "none") : "none";
	int64_t bs = 1000000, mr = 4194304, lg = 0, dt = 120000;

	if (strcmp(acks, "all") == 0 || strcmp(acks, "-1") == 0)
		p->acks = -1;
	else if (strcmp(acks, "0") == 0 || strcmp(acks, "1") == 0)
		p->acks = (int16_t)(acks[0] - '0');
	else
		return kp_error_set(err, KP_EINVAL, "acks must be 0, 1 or all, not '%s'", acks);
	if ((p->compression = kp_compression_parse(comp)) < 0)
		return kp_error_set(err, KP_EINVAL, "unknown compression.type '%s'", comp);
	if (cfg && (kp_config_get_int64(cfg, "batch.size", bs, 1, INT32_MAX, &bs, err) < 0 ||
		    kp_config_get_int64(cfg, "max.request.size", mr, 1024, INT32_MAX, &mr, err) < 0 ||
		    kp_config_get_int64(cfg, "linger.ms", lg, 0, 1000000, &lg, err) < 0 ||
		    kp_config_get_int64(cfg, "delivery.timeout.ms", dt, 1, INT32_MAX, &dt, err) < 0))
		return -1;
	p->batch_size = bs > 1000000 ? 1000000 : (size_t)bs;
	p->max_request = (size_t)mr;
	p->linger_ms = (int)lg;
	p->delivery_timeout_ms = (int)dt;
	return 0;
}

kp_producer *kp_producer_new(kp_cluster *cluster, const kp_config *cfg, kp_error *err)
{
	kp_producer *p = calloc(1, sizeof *p);

	if (!p) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	p->cluster = cluster;
	p->fail_tag = -1;
	if (read_settings(p, cfg, err) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

static void batch_free(struct batch *b)
{
	kp_buf_free(&b->data);
	free(b->tags);
	free(b);
}

void kp_producer_free(kp_producer *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ntopics; i++) {
		struct ptopic *t = &p->topics[i];
		for (int32_t j = 0; j < t->count; j++) {
			kp_batch_builder_free(t->parts[j].builder);
			free(t->parts[j].tags);
			for (struct batch *b = t->parts[j].head, *n; b; b = n) {
				n = b->next;
				batch_free(b);
			}
		}
		free(t->parts);
		free(t->name);
	}
	free(p->topics);
	for (size_t i = 0; i < p->nreqs; i++)
		free(p->reqs[i].entries);
	free(p->reqs);
	free(p);
}

int64_t kp_producer_failed_tag(const kp_producer *p)
{
	return p->fail_tag;
}

int kp_producer_linger_ms(const kp_producer *p)
{
	return p->linger_ms;
}

static int fail(kp_producer *p, const kp_error *e, int64_t tag, kp_error *err)
{
	if (!p->failed) {
		p->failed = true;
		p->fail = *e;
		p->fail_tag = tag;
	}
	if (err)
		*err = p->fail;
	return -1;
}

static struct ptopic *topic_get(kp_producer *p, const char *name, kp_error *err)
{
	struct ptopic *t;
	int32_t n;

	for (size_t i = 0; i < p->ntopics; i++)
		if (strcmp(p->topics[i].name, name) == 0)
			return &p->topics[i];
	if (kp_cluster_topic(p->cluster, name, &n, err) < 0)
		return NULL;
	if (!(t = realloc(p->topics, (p->ntopics + 1) * sizeof *t)))
		goto oom;
	p->topics = t;
	t = &p->topics[p->ntopics];
	memset(t, 0, sizeof *t);
	t->name = strdup(name);
	t->parts = calloc((size_t)n, sizeof *t->parts);
	if (!t->name || !t->parts) {
		free(t->name);
		free(t->parts);
		goto oom;
	}
	t->count = n;
	t->sticky = (int32_t)(wall_ms() % n);
	p->ntopics++;
	return t;
oom:
	kp_error_set(err, KP_ENOMEM, "out of memory");
	return NULL;
}

/* Seal the open batch of `pt` onto its queue. */
static int seal(kp_producer *p, struct part *pt, kp_error *err)
{
	struct batch *b;

	if (!pt->builder || kp_batch_builder_count(pt->builder) == 0)
		return 0;
	if (!(b = calloc(1, sizeof *b)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_buf_init(&b->data);
	if (kp_batch_builder_finish(pt->builder, -1, &b->data, err) < 0) {
		batch_free(b);
		return -1;
	}
	b->tags = pt->tags;
	b->ntags = (int32_t)pt->ntags;
	b->first_tag = b->tags[0];
	pt->tags = NULL;
	pt->ntags = pt->tag_cap = 0;
	b->created_ms = kp_now_ms();
	if (pt->tail)
		pt->tail->next = b;
	else
		pt->head = b;
	pt->tail = b;
	return 0;
}

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
		if (n == b->ntags || !(nb = calloc(1, sizeof *nb)))
			break;
		kp_buf_init(&nb->data);
		if (last)
			last->next = nb;
		else
			first = nb;
		last = nb;
		if (!(nb->tags = malloc(sizeof *nb->tags)) || kp_batch_builder_add(bld, &rec, &e) < 0 ||
		    kp_batch_builder_finish(bld, -1, &nb->data, &e) < 0)
			break;
		nb->tags[0] = nb->first_tag = b->tags[n++];
		nb->ntags = 1;
		nb->created_ms = b->created_ms;
	}
	if (rc == 0 && n == b->ntags) {
		last->next = b->next;
		pt->head = first;
		if (pt->tail == b)
			pt->tail = last;
		batch_free(b);
		first = NULL;
	} else {
		rc = -1;
	}
	while (first) {
		nb = first->next;
		batch_free(first);
		first = nb;
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
		batch_free(b);
		return 0;
	}
	if (kp_retriable(code) && kp_now_ms() - b->created_ms < p->delivery_timeout_ms) {
		p->need_refresh = true;
		return 0;
	}
	if (code == KP_ERR_MESSAGE_TOO_LARGE && b->ntags > 1 && split(p, pt, b) == 0)
		return 0;
	kp_error_set(&ke, KP_EKAFKA, "rejected by %s: %s (topic %s, partition %d)", r->broker,
		     kp_kafka_error_name(code), e->topic->name, (int)e->partition);
	ke.kafka_code = code;
	return fail(p, &ke, b->first_tag, err);
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
	if (!conn || kp_conn_recv(conn, KP_API_PRODUCE, r->version, r->corr, &arena, &resp,
				  kp_cluster_config(p->cluster)->request_timeout_ms, &e) < 0) {
		/* unknown outcome: resend (no idempotence, so duplicates are possible) */
		kp_cluster_drop_conn(p->cluster, r->node);
		p->need_refresh = true;
		goto out;
	}
	for (int32_t i = 0; i < r->n && rc == 0; i++) {
		struct entry *en = &r->entries[i];
		int16_t code = KP_ERR_NETWORK_EXCEPTION;
		for (int32_t t = 0; t < resp.responses_count; t++) {
			struct kp_produce_response_topic_produce_response *tr = &resp.responses[t];
			if (!tr->name || strcmp(tr->name, en->topic->name) != 0)
				continue;
			for (int32_t k = 0; k < tr->partition_responses_count; k++)
				if (tr->partition_responses[k].index == en->partition)
					code = tr->partition_responses[k].error_code;
		}
		rc = partition_result(p, r, en, code, err);
	}
out:
	request_release(r);
	kp_arena_free(&arena);
	return rc;
}

/* Build and send one request to `node` carrying head batches of its partitions. */
static int send_to(kp_producer *p, int32_t node, kp_error *err)
{
	struct request *r = request_slot(p, node);
	struct kp_produce_request req;
	kp_arena arena;
	kp_conn *conn;
	size_t bytes = 0;
	int v, rc = -1;

	if (!r)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (r->node == node && complete(p, r, err) < 0)
		return -1;
	if (!(conn = kp_cluster_conn(p->cluster, node, err))) {
		p->need_refresh = true;
		return 0;
	}
	if ((v = kp_conn_pick_version(conn, KP_API_PRODUCE, 3, KP_CLIENT_PRODUCE_MAX, err)) < 0)
		return fail(p, err, -1, err);
	kp_arena_init(&arena);
	kp_msg_init(&kp_produce_request_desc, &req);
	req.acks = p->acks;
	req.timeout_ms = kp_cluster_config(p->cluster)->request_timeout_ms;
	req.topic_data = kp_arena_alloc(&arena, (p->ntopics + 1) * sizeof *req.topic_data);
	r->n = 0;
	for (size_t i = 0; i < p->ntopics && req.topic_data; i++) {
		struct ptopic *t = &p->topics[i];
		struct kp_produce_request_topic_produce_data *td = &req.topic_data[req.topic_data_count];
		td->name = t->name;
		td->partition_data = kp_arena_alloc(&arena, (size_t)t->count * sizeof *td->partition_data);
		struct entry *ne = realloc(r->entries, (size_t)(r->n + t->count) * sizeof *ne);
		if (ne)
			r->entries = ne;
		if (!td->partition_data || !ne)
			goto oom;
		for (int32_t j = 0; j < t->count; j++) {
			struct part *pt = &t->parts[j];
			if (!pt->head || pt->in_flight ||
			    kp_cluster_leader(p->cluster, t->name, j) != node)
				continue;
			if (bytes && bytes + pt->head->data.len > p->max_request)
				continue;
			bytes += pt->head->data.len;
			td->partition_data[td->partition_data_count++] = (struct kp_produce_request_partition_produce_data){
				.index = j,
				.records = { pt->head->data.data, (int32_t)pt->head->data.len },
			};
			r->entries[r->n++] = (struct entry){ t, j };
			pt->in_flight = true;
		}
		if (td->partition_data_count)
			req.topic_data_count++;
	}
	if (!req.topic_data)
		goto oom;
	snprintf(r->broker, sizeof r->broker, "%s", kp_conn_name(conn));
	r->node = node;
	r->version = (int16_t)v;
	if (r->n == 0) {
		request_release(r);
		rc = 0;
	} else if (kp_conn_send(conn, KP_API_PRODUCE, (int16_t)v, &req, &r->corr,
				kp_cluster_config(p->cluster)->request_timeout_ms, err) < 0) {
		request_release(r);
		kp_cluster_drop_conn(p->cluster, node);
		p->need_refresh = true;
		rc = err && err->code == KP_EINVAL ? fail(p, err, -1, err) : 0;
	} else if (p->acks == 0) {
		for (int32_t i = 0; i < r->n; i++)
			partition_result(p, r, &r->entries[i], KP_ERR_NONE, NULL);
		request_release(r);
		rc = 0;
	} else {
		rc = 0;
	}
	kp_arena_free(&arena);
	return rc;
oom:
	kp_arena_free(&arena);
	request_release(r);
	return kp_error_set(err, KP_ENOMEM, "out of memory");
}

/*
 * Send every sendable head batch, one request per leader. Batches whose
 * leader is unknown wait for a refresh; expired ones fail. *pending gets
 * whether anything is still queued.
 */
static int pump(kp_producer *p, bool *pending, kp_error *err)
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
			if (!pt->head)
				continue;
			*pending = true;
			if (pt->in_flight)
				continue;
			if (kp_now_ms() - pt->head->created_ms >= p->delivery_timeout_ms) {
				kp_error e;
				kp_error_set(&e, KP_ETIMEDOUT, "delivery to topic %s, partition %d timed out "
					     "after %d ms", t->name, (int)j, p->delivery_timeout_ms);
				return fail(p, &e, pt->head->first_tag, err);
			}
			if ((leader = kp_cluster_leader(p->cluster, t->name, j)) < 0) {
				p->need_refresh = true;
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

/* Wait for in-flight requests, back off, then refresh metadata. */
static int backoff_refresh(kp_producer *p, kp_error *err)
{
	int ms = kp_cluster_config(p->cluster)->retry_backoff_ms;
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	for (size_t i = 0; i < p->nreqs; i++)
		if (p->reqs[i].node >= 0 && complete(p, &p->reqs[i], err) < 0)
			return -1;
	nanosleep(&ts, NULL);
	p->need_refresh = false;
	kp_cluster_refresh(p->cluster, NULL);
	return 0;
}

static int32_t choose_partition(kp_producer *p, struct ptopic *t, int32_t partition,
				const struct kp_record *rec, kp_error *err)
{
	if (partition >= 0) {
		if (partition >= t->count)
			return kp_error_set(err, KP_EINVAL, "topic '%s' has no partition %d (it has %d)",
					    t->name, (int)partition, (int)t->count);
		return partition;
	}
	if (rec->key)
		return kp_partition_for_key(rec->key, (size_t)rec->key_len, t->count);
	return t->sticky;
}

int kp_producer_send(kp_producer *p, const char *topic, int32_t partition,
		     const struct kp_record *rec, int64_t tag, kp_error *err)
{
	struct kp_record copy = *rec;
	struct ptopic *t;
	struct part *pt;
	int32_t pi;
	size_t est = (size_t)(rec->key_len > 0 ? rec->key_len : 0) +
		     (size_t)(rec->value_len > 0 ? rec->value_len : 0) + 32;
	bool pending, sealed = false;

	if (p->failed)
		return fail(p, &p->fail, p->fail_tag, err);
	if (!(t = topic_get(p, topic, err)) || (pi = choose_partition(p, t, partition, rec, err)) < 0)
		return -1;
	pt = &t->parts[pi];
	if (pt->builder && kp_batch_builder_count(pt->builder) > 0 &&
	    kp_batch_builder_size(pt->builder) + est > p->batch_size) {
		if (seal(p, pt, err) < 0)
			return -1;
		sealed = true;
		if (partition < 0 && !rec->key && t->count > 1) {
			t->sticky = (t->sticky + 1) % t->count;
			pt = &t->parts[pi = t->sticky];
		}
	}
	if (!pt->builder && !(pt->builder = kp_batch_builder_new(p->compression, -1, -1, err)))
		return -1;
	if (pt->ntags == pt->tag_cap) {
		size_t ncap = pt->tag_cap ? pt->tag_cap * 2 : 64;
		int64_t *nt = realloc(pt->tags, ncap * sizeof *nt);
		if (!nt)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		pt->tags = nt;
		pt->tag_cap = ncap;
	}
	if (copy.timestamp <= 0)
		copy.timestamp = wall_ms();
	if (kp_batch_builder_add(pt->builder, &copy, err) < 0)
		return -1;
	pt->tags[pt->ntags++] = tag;
	if (!sealed)
		return 0;
	if (p->need_refresh && backoff_refresh(p, err) < 0)
		return -1;
	return pump(p, &pending, err);
}

int kp_producer_flush(kp_producer *p, kp_error *err)
{
	bool pending = true;

	if (p->failed)
		return fail(p, &p->fail, p->fail_tag, err);
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++)
			if (seal(p, &p->topics[i].parts[j], err) < 0)
				return -1;
	while (pending) {
		if (pump(p, &pending, err) < 0)
			return -1;
		for (size_t i = 0; i < p->nreqs; i++)
			if (p->reqs[i].node >= 0 && complete(p, &p->reqs[i], err) < 0)
				return -1;
		if (p->need_refresh && backoff_refresh(p, err) < 0)
			return -1;
	}
	return 0;
}
