/*
 * replica_fetcher.c - followers fetch from their leaders (Kafka's
 * ReplicaFetcherManager and ReplicaFetcherThread, on the event loop
 * instead of threads); see replica.h.
 *
 * One fetcher per leader broker, with one outgoing connection to that
 * broker's inter.broker.listener.name endpoint and at most one Fetch in
 * flight naming every partition this broker follows there. Each answer
 * is applied (append, high watermark, truncation on a diverging epoch)
 * and the next Fetch goes at once; the leader long-polls it for
 * replica.fetch.wait.max.ms. A failed connection or request waits
 * replica.fetch.backoff.ms; so does a partition answered with an error
 * (it waits for the image to name its new leader or epoch).
 *
 * The fetcher set is rebuilt from the registry after each publish
 * (kp_replica_fetchers_sync); a request names the partitions as they are
 * when it is sent, and its answer is checked against them again.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/replica.h"
#include "broker/replica_quota.h"
#include "record/batch.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/diag.h"

#define REPLICA_FETCH_VERSION 15 /* ReplicaState with the broker epoch (KIP-903) */

struct fetcher {
	struct kp_replicas *rs;
	int32_t leader;
	char host[256];
	int port;
	kp_outconn *conn;
	bool in_flight;
	bool retry_armed;
	struct event *retry;
	bool failing; /* the last request failed: log the next failure at DEBUG only */
};

struct kp_replicas {
	struct kp_broker *b;
	struct fetcher **v;
	size_t n;
	struct event *isr_timer;     /* kp_replica_isr_expire every replica.lag.time.max.ms / 2 */
	struct event *hw_timer;      /* kp_topics_hw_save every ...checkpoint.interval.ms */
	bool freeing;
	char client_id[64];
	kp_replica_quota leader_quota;   /* replication throttles (KIP-73, replica_throttle.c) */
	kp_replica_quota follower_quota;
};

typedef struct kp_fetch_response_partition_data fr_partition;

static void send_fetch(struct fetcher *f);
static void arm_retry(struct fetcher *f);

/* ---- applying an answer ------------------------------------------------------ */

/* whole_batches - how many leading bytes of data[0..len) are whole record batches. */
static size_t whole_batches(const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos + KP_BATCH_LOG_OVERHEAD <= len) {
		int32_t blen = (int32_t)kp_load_u32(data + pos + 8);

		if (blen < 0 || pos + KP_BATCH_LOG_OVERHEAD + (size_t)blen > len)
			break;
		pos += KP_BATCH_LOG_OVERHEAD + (size_t)blen;
	}
	return pos;
}

/* delay - no fetch of p for replica.fetch.backoff.ms. */
static void delay(struct kp_broker *b, struct kp_partition *p)
{
	p->fetch_delay_until_ms = kp_mono_ms() + b->cfg.replica.fetch_backoff_ms;
}

/*
 * truncate_diverging - the leader says our log diverges from its own at
 * epoch d->epoch ending at d->end_offset: truncate as Kafka's
 * AbstractFetcherThread.getOffsetTruncationState does (to the end of that
 * epoch here and there, or of our largest epoch below it when we never
 * had it, never past our log end).
 */
static void truncate_diverging(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			       const struct kp_fetch_response_epoch_end_offset *d)
{
	int64_t leo = kp_log_end_offset(p->log), our_end, to;
	int32_t our_epoch;
	kp_error err;

	kp_log_epoch_end_offset(p->log, d->epoch, &our_epoch, &our_end);
	if (our_epoch < 0)
		to = d->end_offset;
	else if (our_epoch != d->epoch)
		to = our_end;
	else
		to = our_end < d->end_offset ? our_end : d->end_offset;
	if (to > leo)
		to = leo;
	kp_diag_info("%s-%d: truncating to offset %lld (log end %lld): the leader's epoch %d ends "
		     "at %lld", t->name, p->index, (long long)to, (long long)leo, d->epoch,
		     (long long)d->end_offset);
	if (kp_log_truncate_to(p->log, to, &err) < 0) {
		kp_diag_error("%s-%d: cannot truncate to %lld: %s", t->name, p->index, (long long)to,
			      err.msg);
		delay(b, p);
		return;
	}
	if (p->high_watermark > kp_log_end_offset(p->log))
		p->high_watermark = kp_log_end_offset(p->log);
}

/*
 * start_at_first_batch - our log is empty at its start S (it was just
 * started at the leader's log start) and the leader's first batch holds S
 * but begins before it (DeleteRecords moved the start into a batch): start
 * the log at that batch instead, as Kafka's Partition does on an
 * UnexpectedAppendOffsetException; the leader's log start offset is
 * followed right after. Returns whether it did.
 */
static bool start_at_first_batch(struct kp_topic *t, struct kp_partition *p, const uint8_t *data,
				 size_t len)
{
	int64_t end = kp_log_end_offset(p->log), base = (int64_t)kp_load_u64(data);
	int64_t last = base + (int32_t)kp_load_u32(data + 23);
	kp_error err;

	if (len < KP_BATCH_HEADER_SIZE || end != kp_log_start_offset(p->log) || base >= end ||
	    last < end)
		return false;
	kp_diag_info("%s-%d: the leader's batch holding our log start %lld begins at %lld: "
		     "starting the log there", t->name, p->index, (long long)end, (long long)base);
	return kp_log_reset_at(p->log, base, &err) == 0;
}

/* append_fetched - append the whole batches of d's records; false on a failure (logged). */
static bool append_fetched(struct kp_broker *b, struct kp_topic *t, struct kp_partition *p,
			   const fr_partition *d)
{
	size_t len = d->records.len > 0 ? whole_batches(d->records.data, (size_t)d->records.len) : 0;
	kp_error err;
	int rc;

	if (len == 0)
		return true;
	rc = kp_log_append_replica(p->log, d->records.data, len, NULL, &err);
	if (rc < 0 && err.code == KP_ERANGE && start_at_first_batch(t, p, d->records.data, len))
		rc = kp_log_append_replica(p->log, d->records.data, len, NULL, &err);
	if (rc < 0) {
		kp_diag_warn("%s-%d: cannot append what the leader sent at offset %lld: %s", t->name,
			     p->index, (long long)kp_log_end_offset(p->log), err.msg);
		kp_broker_log_failed(b, kp_log_dir(p->log), &err); /* KP_EIO: its dir goes offline */
		delay(b, p);
		return false;
	}
	return true;
}

/* apply_partition - one partition of a fetch answer from leader f->leader. */
static void apply_partition(struct fetcher *f, struct kp_topic *t, const fr_partition *d)
{
	struct kp_broker *b = f->rs->b;
	struct kp_partition *p = kp_topic_partition(t, d->partition_index);
	int64_t hw, leo;
	kp_error err;

	if (!p || !p->hosted || !p->follower || p->leader != f->leader || !p->log)
		return; /* the image moved on while the request was out */
	if (d->error_code == KP_ERR_OFFSET_OUT_OF_RANGE) {
		kp_replica_out_of_range(b, f->conn, t, p, f->leader);
		return;
	}
	if (d->error_code != KP_ERR_NONE) {
		kp_diag_debug("%s-%d: fetch from leader %d: %s", t->name, p->index, f->leader,
			      kp_kafka_error_name(d->error_code));
		delay(b, p);
		return;
	}
	if (d->diverging_epoch.epoch >= 0 && d->diverging_epoch.end_offset >= 0 &&
	    !b->cfg.replica.test_ignore_diverging) { /* broken on purpose when set: config.h */
		truncate_diverging(b, t, p, &d->diverging_epoch);
		return;
	}
	if (!append_fetched(b, t, p, d))
		return;
	kp_replica_follower_throttle_record(b, p, d->records.len, kp_mono_ms());
	leo = kp_log_end_offset(p->log);
	p->fetch_in_sync = d->high_watermark <= leo;
	if (d->log_start_offset > kp_log_start_offset(p->log) && d->log_start_offset <= leo &&
	    kp_log_advance_start(p->log, d->log_start_offset, &err) < 0)
		kp_diag_warn("%s-%d: cannot follow the leader's log start offset %lld: %s", t->name,
			     p->index, (long long)d->log_start_offset, err.msg);
	hw = d->high_watermark < leo ? d->high_watermark : leo;
	if (hw != p->high_watermark && hw >= 0) {
		p->high_watermark = hw;
		kp_broker_wake_partition(b, t, p->index);
	}
}

static void fetched(void *arg, const void *resp_, const kp_error *err)
{
	struct fetcher *f = arg;
	const struct kp_fetch_response *resp = resp_;
	struct kp_broker *b = f->rs->b;

	f->in_flight = false;
	if (f->rs->freeing)
		return;
	if (err || resp->error_code != KP_ERR_NONE) {
		if (!f->failing)
			kp_diag_warn("fetching from leader %d (%s:%d): %s", f->leader, f->host, f->port,
				     err ? err->msg : kp_kafka_error_name(resp->error_code));
		f->failing = true;
		arm_retry(f);
		return;
	}
	if (f->failing)
		kp_diag_info("fetching from leader %d (%s:%d) again", f->leader, f->host, f->port);
	f->failing = false;
	for (int32_t i = 0; i < resp->responses_count; i++) {
		const struct kp_fetch_response_fetchable_topic_response *tr = &resp->responses[i];
		struct kp_topic *t = kp_topics_find_id(b->topics, &tr->topic_id);

		for (int32_t j = 0; t && j < tr->partitions_count; j++)
			apply_partition(f, t, &tr->partitions[j]);
	}
	send_fetch(f);
}

/* ---- sending ----------------------------------------------------------------- */

/*
 * fetchable - whether p is fetched from `leader` now (or, with `later`,
 * after a delay: an error's backoff, or a follower throttle, which is
 * looked at again at the next Fetch or after replica.fetch.backoff.ms as
 * Kafka's fetcher does when it has nothing to fetch).
 */
static bool fetchable(struct kp_broker *b, const struct kp_partition *p, int32_t leader,
		      int64_t now, bool *later)
{
	if (!p->hosted || !p->follower || p->leader != leader || !p->log ||
	    leader == b->cfg.node_id)
		return false;
	if (p->fetch_delay_until_ms > now || kp_replica_follower_throttled(b, p, now)) {
		*later = true;
		return false;
	}
	return true;
}

/* fill_topic - ft's partitions: t's fetchable ones; returns how many (0: ft unused). */
static int32_t fill_topic(struct fetcher *f, kp_arena *a, struct kp_topic *t, int64_t now,
			  bool *later, struct kp_fetch_request_fetch_topic *ft)
{
	struct kp_broker *b = f->rs->b;
	struct kp_fetch_request_fetch_partition *fp = NULL;
	int32_t n = 0, cap;

	for (int32_t i = 0; i < t->partition_count; i++)
		n += fetchable(b, &t->partitions[i], f->leader, now, later);
	if (n == 0 || !(fp = kp_fetch_request_fetch_partition_new(a, (size_t)n)))
		return 0;
	cap = n;
	n = 0;
	for (int32_t i = 0; i < t->partition_count && n < cap; i++) {
		struct kp_partition *p = &t->partitions[i];

		if (!fetchable(b, p, f->leader, now, later))
			continue;
		fp[n].partition = p->index;
		fp[n].current_leader_epoch = p->leader_epoch;
		fp[n].fetch_offset = kp_log_end_offset(p->log);
		fp[n].last_fetched_epoch = b->cfg.replica.test_ignore_diverging
						   ? -1 : kp_log_latest_epoch(p->log);
		fp[n].log_start_offset = kp_log_start_offset(p->log);
		fp[n].partition_max_bytes = b->cfg.replica.fetch_max_bytes;
		n++;
	}
	ft->topic = t->name;
	ft->topic_id = t->id;
	ft->partitions = fp;
	ft->partitions_count = n;
	return n;
}

/* build_request - a Fetch naming every partition fetched from f->leader now; NULL for none. */
static struct kp_fetch_request *build_request(struct fetcher *f, kp_arena *a, bool *later)
{
	struct kp_broker *b = f->rs->b;
	size_t nt = kp_topics_count(b->topics), k = 0;
	struct kp_fetch_request *req = kp_fetch_request_new(a, 1);
	struct kp_fetch_request_fetch_topic *fts = kp_fetch_request_fetch_topic_new(a, nt ? nt : 1);
	int64_t now = kp_mono_ms();

	if (!req || !fts)
		return NULL;
	for (size_t i = 0; i < nt; i++)
		if (fill_topic(f, a, kp_topics_at(b->topics, i), now, later, &fts[k]) > 0)
			k++;
	if (k == 0)
		return NULL;
	req->replica_id = b->cfg.node_id;
	req->replica_state.replica_id = b->cfg.node_id;
	req->replica_state.replica_epoch = kp_lifecycle_broker_epoch(b->cluster->lifecycle);
	req->max_wait_ms = b->cfg.replica.fetch_wait_max_ms;
	req->min_bytes = b->cfg.replica.fetch_min_bytes;
	req->max_bytes = b->cfg.replica.fetch_response_max_bytes;
	req->session_id = 0;
	req->session_epoch = -1; /* FINAL_EPOCH: a full fetch without a session */
	req->topics = fts;
	req->topics_count = (int32_t)k;
	return req;
}

/* arm_retry - send again after replica.fetch.backoff.ms. */
static void arm_retry(struct fetcher *f)
{
	int64_t ms = f->rs->b->cfg.replica.fetch_backoff_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	f->retry_armed = true;
	event_add(f->retry, &tv);
}

/* leader_endpoint - f->leader's inter-broker endpoint from the image into f (new conn if moved). */
static bool leader_endpoint(struct fetcher *f)
{
	struct kp_broker *b = f->rs->b;
	const struct kp_image_broker *ib = kp_image_broker(b->cluster->image, f->leader);
	const struct kp_image_endpoint *ep =
		ib ? kp_image_broker_endpoint(ib, b->cfg.replica.inter_broker_listener) : NULL;
	struct kp_outconn_config cfg;
	kp_error err;

	if (!ep)
		return false;
	if (f->conn && ep->port == f->port && strcmp(ep->host, f->host) == 0)
		return true;
	kp_outconn_free(f->conn); /* not in flight: nothing calls back */
	snprintf(f->host, sizeof(f->host), "%s", ep->host);
	f->port = ep->port;
	kp_outconn_config_init(&cfg);
	cfg.client_id = f->rs->client_id;
	cfg.backoff_max_ms = b->cfg.replica.fetch_backoff_ms;
	if (!(f->conn = kp_outconn_new(b->base, f->host, f->port, &cfg, &err)))
		kp_diag_error("fetcher for leader %d: %s", f->leader, err.msg);
	return f->conn != NULL;
}

static void send_fetch(struct fetcher *f)
{
	struct kp_broker *b = f->rs->b;
	struct kp_fetch_request *req;
	bool later = false;
	kp_arena a;
	kp_error err;

	if (f->in_flight || f->retry_armed || f->rs->freeing || b->stopping)
		return;
	kp_arena_init(&a);
	if (!(req = build_request(f, &a, &later))) {
		if (later)
			arm_retry(f);
		goto out;
	}
	if (!leader_endpoint(f)) {
		kp_diag_debug("no %s endpoint for leader %d yet", b->cfg.replica.inter_broker_listener,
			      f->leader);
		arm_retry(f);
		goto out;
	}
	if (kp_outconn_send(f->conn, KP_API_FETCH, REPLICA_FETCH_VERSION, req,
			    b->cfg.replica.socket_timeout_ms, fetched, f, &err) < 0) {
		kp_diag_debug("fetch from leader %d not sent: %s", f->leader, err.msg);
		arm_retry(f);
		goto out;
	}
	f->in_flight = true;
out:
	kp_arena_free(&a);
}

/* ---- the fetcher set ----------------------------------------------------------- */

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetcher *f = arg;

	f->retry_armed = false;
	send_fetch(f);
}

static void fetcher_free(struct fetcher *f)
{
	if (!f)
		return;
	kp_outconn_free(f->conn);
	if (f->retry)
		event_free(f->retry);
	free(f);
}

/* fetcher_for - the fetcher of `leader`, made when missing; NULL when out of memory. */
static struct fetcher *fetcher_for(kp_replicas *rs, int32_t leader)
{
	struct fetcher *f, **v;

	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i]->leader == leader)
			return rs->v[i];
	if (!(v = realloc(rs->v, sizeof(*v) * (rs->n + 1))))
		return NULL;
	rs->v = v;
	if (!(f = calloc(1, sizeof(*f))) ||
	    !(f->retry = event_new(rs->b->base, -1, 0, retry_cb, f))) {
		free(f);
		return NULL;
	}
	f->rs = rs;
	f->leader = leader;
	rs->v[rs->n++] = f;
	kp_diag_info("fetching from leader %d", leader);
	return f;
}

void kp_replica_fetchers_sync(struct kp_broker *b)
{
	kp_replicas *rs = b->replicas;

	if (!rs || rs->freeing)
		return;
	for (size_t i = 0; i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		for (int32_t j = 0; j < t->partition_count; j++) {
			const struct kp_partition *p = &t->partitions[j];

			if (p->hosted && p->follower && p->log && p->leader >= 0 &&
			    p->leader != b->cfg.node_id && !fetcher_for(rs, p->leader))
				kp_diag_error("out of memory making a fetcher for leader %d", p->leader);
		}
	}
	for (size_t i = 0; i < rs->n; i++)
		send_fetch(rs->v[i]);
}

static void isr_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;

	kp_replica_isr_expire(b, kp_mono_ms());
}

static void hw_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;
	kp_error err;

	if (kp_topics_hw_save(b->topics, &err) < 0)
		kp_diag_warn("%s", err.msg);
}

/* timer_start - a persistent timer every `ms` on b's loop into *ev; -1 with KP_EIO. */
static int timer_start(struct kp_broker *b, struct event **ev, int64_t ms,
		       event_callback_fn cb, kp_error *err)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	*ev = event_new(b->base, -1, EV_PERSIST, cb, b);
	if (!*ev || event_add(*ev, &tv) < 0)
		return kp_error_set(err, KP_EIO, "cannot start the replication timers");
	return 0;
}

struct kp_replica_quota *kp_replica_quota_of(struct kp_broker *b, bool leader)
{
	if (!b->replicas || !b->replicas->leader_quota.s)
		return NULL;
	return leader ? &b->replicas->leader_quota : &b->replicas->follower_quota;
}

int kp_replicas_start(struct kp_broker *b, kp_error *err)
{
	kp_replicas *rs = calloc(1, sizeof(*rs));
	int64_t window_ms = (int64_t)b->cfg.replica.quota_window_size_s * 1000;

	if (!rs)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	rs->b = b;
	snprintf(rs->client_id, sizeof(rs->client_id), "broker-%d-fetcher", (int)b->cfg.node_id);
	b->replicas = rs;
	if (kp_replica_quota_init(&rs->leader_quota, b->cfg.replica.quota_window_num, window_ms,
				  err) < 0 ||
	    kp_replica_quota_init(&rs->follower_quota, b->cfg.replica.quota_window_num, window_ms,
				  err) < 0)
		return -1;
	kp_replica_throttles_sync(b); /* the static rates until the image is published */
	if (timer_start(b, &rs->isr_timer, b->cfg.replica.lag_time_max_ms / 2, isr_timer_cb,
			err) < 0 ||
	    timer_start(b, &rs->hw_timer, b->cfg.replica.hw_checkpoint_ms, hw_timer_cb, err) < 0)
		return -1;
	return 0;
}

void kp_replicas_free(struct kp_broker *b)
{
	kp_replicas *rs = b->replicas;

	if (!rs)
		return;
	rs->freeing = true; /* fetches in flight complete from within fetcher_free: ignored */
	for (size_t i = 0; i < rs->n; i++)
		fetcher_free(rs->v[i]);
	free(rs->v);
	if (rs->isr_timer)
		event_free(rs->isr_timer);
	if (rs->hw_timer)
		event_free(rs->hw_timer);
	kp_replica_quota_clear(&rs->leader_quota);
	kp_replica_quota_clear(&rs->follower_quota);
	free(rs);
	b->replicas = NULL;
}
