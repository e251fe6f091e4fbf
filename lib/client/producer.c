/*
 * producer.c - the producer's accumulating side: settings, topics and
 * partitioning, per-partition batch builders, sealing, and the public
 * send/flush calls; delivery (requests, acks, retries) is in
 * produce_request.c. See producer.h and producer_internal.h.
 */
#include "client/producer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"

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

/*
 * enable.idempotence and max.in.flight.requests.per.connection, as the
 * Java producer reads them: idempotence is on unless set false, or
 * unless (not set explicitly) acks is not all or more than 5 requests may
 * be in flight, which an explicit true refuses instead.
 */
static int read_idempotence(kp_producer *p, const kp_config *cfg, kp_error *err)
{
	const char *set = cfg ? kp_config_get(cfg, "enable.idempotence") : NULL;
	int64_t mif = 5;
	bool idem = true;

	if (cfg && (kp_config_get_int64(cfg, "max.in.flight.requests.per.connection", mif, 1, 1000,
					&mif, err) < 0 ||
		    kp_config_get_bool(cfg, "enable.idempotence", true, &idem, err) < 0))
		return -1;
	p->idem_explicit = set && idem;
	if (p->idem_explicit && p->acks != -1)
		return kp_error_set(err, KP_EINVAL, "enable.idempotence=true needs acks=all");
	if (p->idem_explicit && mif > 5)
		return kp_error_set(err, KP_EINVAL, "enable.idempotence=true allows at most 5 for "
				    "max.in.flight.requests.per.connection, not %lld", (long long)mif);
	p->idempotent = idem && p->acks == -1 && mif <= 5;
	p->max_in_flight = p->idempotent ? (int)mif : 1;
	return 0;
}

static int read_settings(kp_producer *p, const kp_config *cfg, kp_error *err)
{
	const char *acks = cfg ? kp_config_get_str(cfg, "acks", "all") : "all";
	const char *comp = cfg ? kp_config_get_str(cfg, "compression.type", "none") : "none";
	int64_t bs = 1000000, mr = 4194304, lg = 0, dt = 120000, bm = 33554432;

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
		    kp_config_get_int64(cfg, "delivery.timeout.ms", dt, 1, INT32_MAX, &dt, err) < 0 ||
		    kp_config_get_int64(cfg, "buffer.memory", bm, 1, INT64_MAX, &bm, err) < 0))
		return -1;
	p->batch_size = bs > 1000000 ? 1000000 : (size_t)bs;
	p->max_request = (size_t)mr;
	p->buffer_memory = (uint64_t)bm > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)bm;
	p->linger_ms = (int)lg;
	p->delivery_timeout_ms = (int)dt;
	return read_idempotence(p, cfg, err);
}

int kp_producer_config_check(const kp_config *cfg, kp_error *err)
{
	kp_producer p;

	memset(&p, 0, sizeof p);
	return read_settings(&p, cfg, err);
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
	p->producer_id = -1;
	p->producer_epoch = -1;
	if (read_settings(p, cfg, err) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

void kp_producer_batch_free(kp_producer *p, struct batch *b)
{
	p->queued -= b->data.len <= p->queued ? b->data.len : p->queued;
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
				kp_producer_batch_free(p, b);
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

int kp_producer_fail(kp_producer *p, const kp_error *e, int64_t tag, kp_error *err)
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
	/* the Metadata request may go over a connection with a Produce in flight */
	if (kp_producer_complete_all(p, err) < 0 || kp_cluster_topic(p->cluster, name, &n, err) < 0)
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
	t->sticky = (int32_t)(kp_wall_ms() % n);
	p->ntopics++;
	return t;
oom:
	kp_error_set(err, KP_ENOMEM, "out of memory");
	return NULL;
}

int kp_producer_seal(kp_producer *p, struct part *pt, kp_error *err)
{
	struct batch *b;

	if (!pt->builder || kp_batch_builder_count(pt->builder) == 0)
		return 0;
	if (!(b = calloc(1, sizeof *b)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_buf_init(&b->data);
	b->seq = p->idempotent ? pt->next_seq : -1;
	b->state = BATCH_QUEUED;
	if (kp_batch_builder_finish(pt->builder, b->seq, &b->data, err) < 0) {
		kp_producer_batch_free(p, b);
		return -1;
	}
	p->queued += b->data.len;
	b->tags = pt->tags;
	b->ntags = (int32_t)pt->ntags;
	if (p->idempotent) /* sequences wrap from INT32_MAX to 0, as in Kafka */
		pt->next_seq = (int32_t)(((int64_t)pt->next_seq + b->ntags) % ((int64_t)INT32_MAX + 1));
	b->first_tag = b->tags[0];
	pt->tags = NULL;
	pt->ntags = pt->tag_cap = 0;
	b->created_ms = kp_mono_ms();
	if (pt->tail)
		pt->tail->next = b;
	else
		pt->head = b;
	pt->tail = b;
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

/* The open batch of partition `pi` of `t`, started (with a producer id first) if there is none. */
static kp_batch_builder *builder(kp_producer *p, struct ptopic *t, int32_t pi, kp_error *err)
{
	struct part *pt = &t->parts[pi];

	if (pt->builder)
		return pt->builder;
	if (p->idempotent && p->producer_id < 0 && kp_producer_init_id(p, t, err) < 0)
		return NULL;
	pt->builder = kp_batch_builder_new(p->compression, p->idempotent ? p->producer_id : -1,
					   p->idempotent ? p->producer_epoch : -1, err);
	return pt->builder;
}

/* Add `rec` to the open batch of partition `pi` of `t`, tagged `tag`. */
static int add(kp_producer *p, struct ptopic *t, int32_t pi, const struct kp_record *rec,
	       unsigned flags, int64_t tag, kp_error *err)
{
	struct part *pt = &t->parts[pi];
	struct kp_record copy = *rec;
	kp_batch_builder *bld = builder(p, t, pi, err);

	if (!bld)
		return -1;
	if (pt->ntags == pt->tag_cap) {
		size_t ncap = pt->tag_cap ? pt->tag_cap * 2 : 64;
		int64_t *nt = realloc(pt->tags, ncap * sizeof *nt);
		if (!nt)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		pt->tags = nt;
		pt->tag_cap = ncap;
	}
	if (!(flags & KP_SEND_TIMESTAMP) && copy.timestamp <= 0)
		copy.timestamp = kp_wall_ms();
	if (kp_batch_builder_add(bld, &copy, err) < 0)
		return -1;
	pt->tags[pt->ntags++] = tag;
	return 0;
}

/*
 * After a seal: send what can go, then, while more than buffer.memory
 * bytes wait (the brokers are slow or unreachable), keep delivering, so
 * memory stays bounded; delivery.timeout.ms ends the wait.
 */
static int deliver_sealed(kp_producer *p, kp_error *err)
{
	bool pending;

	if (p->need_refresh && kp_producer_backoff_refresh(p, err) < 0)
		return -1;
	if (p->need_reset && kp_producer_reset_id(p, err) < 0)
		return -1;
	if (kp_producer_pump(p, &pending, err) < 0)
		return -1;
	while (pending && p->queued > p->buffer_memory)
		if (kp_producer_step(p, &pending, err) < 0)
			return -1;
	return 0;
}

/*
 * A record of `bytes` bytes of key and value can never go in a request of
 * max.request.size: deliver the records before it, then fail with it
 * (Java: RecordTooLargeException), rather than retry a request the broker
 * refuses until delivery.timeout.ms.
 */
static int too_large(kp_producer *p, size_t bytes, bool headers, int64_t tag, kp_error *err)
{
	kp_error e;

	if (kp_producer_flush(p, err) < 0)
		return -1;
	kp_error_set(&e, KP_ERANGE, "has %zu bytes of key%s value%s, more than max.request.size (%zu)",
		     bytes, headers ? "," : " and", headers ? " and headers" : "", p->max_request);
	return kp_producer_fail(p, &e, tag, err);
}

/* Bytes of key, value and headers of `rec`. */
static size_t record_bytes(const struct kp_record *rec)
{
	size_t n = (size_t)(rec->key_len > 0 ? rec->key_len : 0) +
		   (size_t)(rec->value_len > 0 ? rec->value_len : 0);

	for (int32_t i = 0; i < rec->header_count; i++)
		n += (size_t)(rec->headers[i].key_len > 0 ? rec->headers[i].key_len : 0) +
		     (size_t)(rec->headers[i].value_len > 0 ? rec->headers[i].value_len : 0) + 8;
	return n;
}

int kp_producer_send_flags(kp_producer *p, const char *topic, int32_t partition,
			   const struct kp_record *rec, unsigned flags, int64_t tag, kp_error *err)
{
	struct ptopic *t;
	struct part *pt;
	int32_t pi;
	size_t est = record_bytes(rec) + 32;
	bool sealed = false;

	if (p->failed)
		return kp_producer_fail(p, &p->fail, p->fail_tag, err);
	if (est > p->max_request)
		return too_large(p, est - 32, rec->header_count > 0, tag, err);
	if (!(t = topic_get(p, topic, err)) || (pi = choose_partition(p, t, partition, rec, err)) < 0)
		return -1;
	pt = &t->parts[pi];
	if (pt->builder && kp_batch_builder_count(pt->builder) > 0 &&
	    kp_batch_builder_size(pt->builder) + est > p->batch_size) {
		if (kp_producer_seal(p, pt, err) < 0)
			return -1;
		sealed = true;
		if (partition < 0 && !rec->key && t->count > 1) {
			t->sticky = (t->sticky + 1) % t->count;
			pi = t->sticky;
		}
	}
	if (add(p, t, pi, rec, flags, tag, err) < 0)
		return -1;
	return sealed ? deliver_sealed(p, err) : 0;
}

int kp_producer_send(kp_producer *p, const char *topic, int32_t partition,
		     const struct kp_record *rec, int64_t tag, kp_error *err)
{
	return kp_producer_send_flags(p, topic, partition, rec, 0, tag, err);
}

bool kp_producer_idempotent(const kp_producer *p)
{
	return p->idempotent;
}

int kp_producer_flush(kp_producer *p, kp_error *err)
{
	bool pending = true;

	if (p->failed)
		return kp_producer_fail(p, &p->fail, p->fail_tag, err);
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++)
			if (kp_producer_seal(p, &p->topics[i].parts[j], err) < 0)
				return -1;
	while (pending)
		if (kp_producer_step(p, &pending, err) < 0)
			return -1;
	return 0;
}
