/*
 * consumer.c - assignment, start-offset lookup (ListOffsets) and the
 * Fetch loop; see consumer.h.
 *
 * Partitions are described in consumer_internal.h. Resolving a start
 * position (consumer_resolve.c) looks up the log start and end offsets
 * (ListOffsets) and clamps the start position into that range;
 * OFFSET_OUT_OF_RANGE from a Fetch resolves the partition again from its
 * position. A poll sends one Fetch to every leader before reading any
 * response, so the long-poll waits of several brokers overlap. With
 * read_committed, batches of aborted transactions are left out
 * (consumer_txn.c).
 */
#include "client/consumer_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

/* isolation.level: read_uncommitted (0) or read_committed (1) into *out. */
static int isolation_level(const kp_config *cfg, int8_t *out, kp_error *err)
{
	const char *v = cfg ? kp_config_get_str(cfg, "isolation.level", "read_uncommitted")
			    : "read_uncommitted";

	if (strcmp(v, "read_uncommitted") && strcmp(v, "read_committed"))
		return kp_error_set(err, KP_EINVAL, "isolation.level must be read_uncommitted or "
				    "read_committed, not '%s'", v);
	*out = v[5] == 'c';
	return 0;
}

int kp_consumer_config_check(const kp_config *cfg, kp_error *err)
{
	kp_consumer *c = kp_consumer_new(NULL, cfg, err);

	if (!c)
		return -1;
	kp_consumer_free(c);
	return 0;
}

kp_consumer *kp_consumer_new(kp_cluster *cluster, const kp_config *cfg, kp_error *err)
{
	kp_consumer *c = calloc(1, sizeof *c);
	int64_t w = 500, mb = 52428800, pmb = 1048576;

	if (!c) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	if ((cfg && (kp_config_get_int64(cfg, "fetch.max.wait.ms", w, 0, 60000, &w, err) < 0 ||
		     kp_config_get_int64(cfg, "fetch.max.bytes", mb, 1024, INT32_MAX, &mb, err) < 0 ||
		     kp_config_get_int64(cfg, "max.partition.fetch.bytes", pmb, 1024, INT32_MAX, &pmb,
					 err) < 0)) ||
	    isolation_level(cfg, &c->isolation, err) < 0) {
		free(c);
		return NULL;
	}
	c->cluster = cluster;
	c->max_wait_ms = (int)w;
	c->max_bytes = (int32_t)mb;
	c->partition_max_bytes = (int32_t)pmb;
	return c;
}

void kp_consumer_free(kp_consumer *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nparts; i++)
		free(c->parts[i].topic);
	free(c->parts);
	free(c);
}

static int add_part(kp_consumer *c, const char *topic, int32_t partition, int whence,
		    int64_t value, kp_error *err)
{
	struct cpart *p = realloc(c->parts, (c->nparts + 1) * sizeof *p);

	if (!p)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	c->parts = p;
	p = &c->parts[c->nparts];
	*p = (struct cpart){ .partition = partition, .whence = whence, .value = value,
			     .position = -1, .stop_at = -1, .hw = -1,
			     .max_bytes = c->partition_max_bytes };
	if (!(p->topic = strdup(topic)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	c->nparts++;
	return 0;
}

int kp_consumer_assign(kp_consumer *c, const char *topic, int32_t partition, int whence,
		       int64_t value, kp_error *err)
{
	int32_t n;

	if (kp_cluster_topic(c->cluster, topic, &n, err) < 0)
		return -1;
	if (partition >= n)
		return kp_error_set(err, KP_EINVAL, "topic '%s' has no partition %d (it has %d)", topic,
				    (int)partition, (int)n);
	if (partition >= 0)
		return add_part(c, topic, partition, whence, value, err);
	for (int32_t i = 0; i < n; i++)
		if (add_part(c, topic, i, whence, value, err) < 0)
			return -1;
	return 0;
}

int kp_consumer_unassign(kp_consumer *c, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0) {
			free(c->parts[i].topic);
			c->parts[i] = c->parts[--c->nparts];
			return 1;
		}
	return 0;
}

int64_t kp_consumer_position(const kp_consumer *c, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
			return c->parts[i].position;
	return -1;
}

size_t kp_consumer_count(const kp_consumer *c)
{
	return c->nparts;
}

void kp_consumer_set_max_wait(kp_consumer *c, int ms)
{
	c->max_wait_ms = ms < 0 ? 0 : ms;
}

int kp_consumer_max_wait(const kp_consumer *c)
{
	return c->max_wait_ms;
}

bool kp_consumer_at_end(const kp_consumer *c)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (!c->parts[i].at_end)
			return false;
	return true;
}

/*
 * Hand the records in `len` bytes at `data` to cb, moving p->position; 1
 * if cb stopped. *ended (may be NULL) gets whether the data ended exactly
 * at the new position (the fetch may have been cut short by max bytes).
 */
static int deliver_records(struct cpart *p, const uint8_t *data, size_t len, kp_record_cb cb,
			   void *opaque, bool *ended, kp_error *err)
{
	kp_record_iter *it;
	struct kp_record rec;
	int r, rc = 0;

	if (!(it = kp_record_iter_new(data, len, p->position)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	while ((r = kp_record_iter_next(it, &rec, err)) == 1) {
		p->position = rec.offset + 1;
		if (cb(p->topic, p->partition, &rec, opaque)) {
			rc = 1;
			break;
		}
	}
	if (r < 0) {
		rc = -1;
	} else if (rc == 0) {
		int64_t next = kp_record_iter_next_offset(it);
		if (next > p->position)
			p->position = next;
		else if (ended)
			*ended = next == p->position;
	}
	kp_record_iter_free(it);
	return rc;
}

/*
 * read_committed with aborted transactions in the answer: hand over the
 * records batch by batch, leaving out what kp_txn_filter_skip says. A
 * message set older than v2 cannot be transactional: the rest is handed
 * over as it is.
 */
static int deliver_committed(struct cpart *p, const struct kp_fetch_response_partition_data *d,
			     kp_record_cb cb, void *opaque, kp_error *err)
{
	const uint8_t *data = d->records.data;
	size_t len = (size_t)d->records.len, off = 0;
	struct kp_txn_filter f;
	struct kp_batch_header h;
	int rc = 0;

	if (kp_txn_filter_init(&f, d, err) < 0)
		return -1;
	while (rc == 0 && len - off >= KP_BATCH_HEADER_SIZE) {
		size_t size;
		if (kp_batch_header_parse(data + off, len - off, &h, NULL) < 0) {
			rc = deliver_records(p, data + off, len - off, cb, opaque, NULL, err);
			break;
		}
		size = KP_BATCH_LOG_OVERHEAD + (size_t)(h.batch_length > 0 ? h.batch_length : 0);
		if (size < KP_BATCH_HEADER_SIZE || size > len - off)
			break; /* a partial batch at the end */
		if (kp_txn_filter_skip(&f, &h, data + off, size)) {
			if (h.base_offset + h.last_offset_delta + 1 > p->position)
				p->position = h.base_offset + h.last_offset_delta + 1;
		} else {
			rc = deliver_records(p, data + off, size, cb, opaque, NULL, err);
		}
		off += size;
	}
	kp_txn_filter_free(&f);
	return rc;
}

/* Deliver the records of one partition's fetch data; 1 if cb stopped. */
static int deliver(kp_consumer *c, struct cpart *p, const struct kp_fetch_response_partition_data *d,
		   kp_record_cb cb, void *opaque, kp_error *err)
{
	bool ended = false;
	int rc;

	if (d->records.len <= 0)
		return 0;
	if (c->isolation && d->aborted_transactions_count > 0)
		rc = deliver_committed(p, d, cb, opaque, err);
	else
		rc = deliver_records(p, d->records.data, (size_t)d->records.len, cb, opaque, &ended, err);
	if (rc == 0 && ended && d->records.len >= p->max_bytes / 2 && p->max_bytes < MAX_PARTITION_BYTES)
		p->max_bytes *= 2; /* a batch larger than partition_max_bytes */
	return rc;
}

/* Apply one partition's fetch result. Returns 0, 1 (stop) or -1. */
static int partition_result(kp_consumer *c, struct cpart *p,
			    const struct kp_fetch_response_partition_data *d, kp_record_cb cb,
			    void *opaque, bool *refresh, kp_error *err)
{
	int rc;

	if (d->error_code == KP_ERR_OFFSET_OUT_OF_RANGE) { /* resolve() says where to go on */
		p->whence = KP_SEEK_OFFSET;
		p->value = p->position;
		p->position = -1;
		return 0;
	}
	if (d->error_code && kp_retriable(d->error_code)) {
		*refresh = true;
		return 0;
	}
	if (d->error_code)
		return kp_error_kafka(err, d->error_code, "cannot fetch topic %s partition %d",
				      p->topic, (int)p->partition);
	if ((rc = deliver(c, p, d, cb, opaque, err)) != 0)
		return rc;
	p->hw = c->isolation && d->last_stable_offset >= 0 ? d->last_stable_offset : d->high_watermark;
	if (p->position >= p->hw || p->position >= p->stop_at)
		p->at_end = true;
	return 0;
}

static struct cpart *part_find(kp_consumer *c, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
			return &c->parts[i];
	return NULL;
}

/* Build the Fetch request for `leader` in `arena`; false if it has no partitions. */
static bool build_fetch(kp_consumer *c, int32_t leader, kp_arena *arena,
			struct kp_fetch_request *req)
{
	kp_msg_init(&kp_fetch_request_desc, req);
	req->replica_id = -1;
	req->max_wait_ms = c->max_wait_ms;
	req->min_bytes = 1;
	req->max_bytes = c->max_bytes;
	req->isolation_level = c->isolation;
	req->session_id = 0;
	req->session_epoch = -1;
	req->topics = kp_arena_alloc(arena, c->nparts * sizeof *req->topics);
	if (!req->topics)
		return false;
	for (size_t i = 0; i < c->nparts; i++) {
		struct cpart *p = &c->parts[i];
		struct kp_fetch_request_fetch_topic *t = NULL;
		if (p->position < 0 || kp_cluster_leader(c->cluster, p->topic, p->partition) != leader)
			continue;
		for (int32_t j = 0; j < req->topics_count; j++)
			if (strcmp(req->topics[j].topic, p->topic) == 0)
				t = &req->topics[j];
		if (!t) {
			t = &req->topics[req->topics_count++];
			t->topic = p->topic;
			t->partitions = kp_arena_alloc(arena, c->nparts * sizeof *t->partitions);
			if (!t->partitions)
				return false;
		}
		t->partitions[t->partitions_count++] = (struct kp_fetch_request_fetch_partition){
			.partition = p->partition, .current_leader_epoch = -1,
			.fetch_offset = p->position, .last_fetched_epoch = -1,
			.log_start_offset = -1, .partition_max_bytes = p->max_bytes,
		};
	}
	return req->topics_count > 0;
}

struct pending {
	int32_t leader;
	int32_t corr;
	int16_t version;
	kp_conn *conn;
};

/* Note a connection-level failure; fatal once they persist. */
static int conn_failure(kp_consumer *c, int32_t leader, bool *refresh, kp_error *err)
{
	int64_t now = kp_mono_ms();

	kp_cluster_drop_conn(c->cluster, leader);
	*refresh = true;
	if (!c->failing_since)
		c->failing_since = now;
	if (now - c->failing_since > kp_cluster_config(c->cluster)->request_timeout_ms)
		return -1;
	return 0;
}

static int read_responses(kp_consumer *c, struct pending *pend, size_t np, kp_record_cb cb,
			  void *opaque, bool *refresh, kp_error *err)
{
	int rc = 0;
	int timeout = kp_cluster_config(c->cluster)->request_timeout_ms + c->max_wait_ms;

	for (size_t k = 0; k < np; k++) {
		struct kp_fetch_response resp;
		kp_arena arena;
		kp_arena_init(&arena);
		if (rc != 0 || !pend[k].conn) {
			/* already stopped: drain nothing, the connection is dropped below */
		} else if (kp_conn_recv(pend[k].conn, KP_API_FETCH, pend[k].version, pend[k].corr, &arena,
					&resp, timeout, err) < 0) {
			if (conn_failure(c, pend[k].leader, refresh, err) < 0)
				rc = -1;
		} else if (resp.error_code) {
			rc = kp_error_kafka(err, resp.error_code, "fetch from %s failed",
					    kp_conn_name(pend[k].conn));
		} else {
			c->failing_since = 0;
			for (int32_t t = 0; t < resp.responses_count && rc == 0; t++)
				for (int32_t j = 0; j < resp.responses[t].partitions_count && rc == 0; j++) {
					const struct kp_fetch_response_partition_data *d =
						&resp.responses[t].partitions[j];
					struct cpart *p = part_find(c, resp.responses[t].topic,
								    d->partition_index);
					if (p)
						rc = partition_result(c, p, d, cb, opaque, refresh, err);
				}
		}
		kp_arena_free(&arena);
		/* after a stop, later responses are left unread: drop their connections */
		if (rc != 0)
			for (size_t m = k + 1; m < np; m++)
				if (pend[m].conn) {
					kp_cluster_drop_conn(c->cluster, pend[m].leader);
					pend[m].conn = NULL;
				}
	}
	return rc;
}

/*
 * Whether `e` is a failure to reach or hear from a broker, rather than an
 * answer (KP_ENOTFOUND: the leader is missing from the broker list).
 */
static bool conn_error(const kp_error *e)
{
	return e->code == KP_ECONN || e->code == KP_ETIMEDOUT || e->code == KP_ENOTFOUND;
}

/*
 * Resolve the partitions without a position and list in pend[] (*np
 * entries) the leaders to fetch from. Returns 0, or -1 on a non-retriable
 * error or connection failures lasting past request.timeout.ms.
 */
static int plan(kp_consumer *c, struct pending *pend, size_t *np, bool *refresh, kp_error *err)
{
	kp_error e;

	for (size_t i = 0; i < c->nparts; i++) {
		struct cpart *p = &c->parts[i];
		int32_t leader = kp_cluster_leader(c->cluster, p->topic, p->partition);
		size_t k;
		if (p->position < 0 && kp_consumer_resolve(c, p, &e) < 0) {
			if ((e.code == KP_EKAFKA && !kp_retriable(e.kafka_code)) ||
			    (e.code != KP_EKAFKA && !conn_error(&e)) ||
			    (conn_error(&e) && conn_failure(c, leader, refresh, &e) < 0)) {
				if (err)
					*err = e;
				return -1;
			}
			*refresh = true;
			continue;
		}
		if (leader < 0) {
			*refresh = true;
			continue;
		}
		for (k = 0; k < *np && pend[k].leader != leader; k++)
			;
		if (k == *np)
			pend[(*np)++].leader = leader;
	}
	return 0;
}

/* Send one Fetch to each leader of pend[] (conn NULL where none went out). */
static int send_fetches(kp_consumer *c, struct pending *pend, size_t np, kp_arena *arena,
			bool *refresh, kp_error *err)
{
	for (size_t k = 0; k < np; k++) {
		struct kp_fetch_request req;
		int v;
		if (!build_fetch(c, pend[k].leader, arena, &req))
			continue;
		if (!(pend[k].conn = kp_cluster_conn(c->cluster, pend[k].leader, err))) {
			if (conn_failure(c, pend[k].leader, refresh, err) < 0)
				return -1;
			continue;
		}
		if ((v = kp_conn_pick_version(pend[k].conn, KP_API_FETCH, 4, KP_CLIENT_FETCH_MAX, err)) < 0)
			return -1;
		pend[k].version = (int16_t)v;
		if (kp_conn_send(pend[k].conn, KP_API_FETCH, (int16_t)v, &req, &pend[k].corr,
				 kp_cluster_config(c->cluster)->request_timeout_ms, err) < 0) {
			pend[k].conn = NULL;
			if (conn_failure(c, pend[k].leader, refresh, err) < 0)
				return -1;
		}
	}
	return 0;
}

int kp_consumer_poll(kp_consumer *c, kp_record_cb cb, void *opaque, kp_error *err)
{
	struct pending *pend = calloc(c->nparts + 1, sizeof *pend);
	bool refresh = false, was_at_end = kp_consumer_at_end(c);
	kp_arena arena;
	size_t np = 0;
	int rc = -1;

	if (!pend)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_arena_init(&arena);
	if (plan(c, pend, &np, &refresh, err) < 0)
		goto out;
	rc = 0;
	if (!was_at_end && kp_consumer_at_end(c))
		goto out; /* resolved to the end: no need to wait in a Fetch first */
	if (send_fetches(c, pend, np, &arena, &refresh, err) < 0) {
		rc = -1;
		goto out;
	}
	rc = read_responses(c, pend, np, cb, opaque, &refresh, err);
	if (rc == 0 && refresh) {
		kp_sleep_ms(kp_cluster_config(c->cluster)->retry_backoff_ms);
		kp_cluster_refresh(c->cluster, NULL);
	}
out:
	kp_arena_free(&arena);
	free(pend);
	return rc;
}
