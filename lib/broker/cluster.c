/*
 * cluster.c - the life of a KRaft broker: its Raft observer feeding the
 * image, the lifecycle manager, opening the listeners once caught up, and
 * the controlled shutdown; see cluster.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/cluster.h"
#include "broker/forward.h"
#include "broker/internal.h"
#include "broker/producer_ids.h"
#include "controller/controller.h"
#include "controller/raft_node.h"
#include "util/diag.h"

static void on_record(void *opaque, const struct kp_metadata_record *rec, int64_t offset,
		      int32_t epoch)
{
	struct kp_broker_cluster *c = opaque;
	kp_error err;

	if (kp_image_apply(c->image, rec, offset, epoch, &err) < 0)
		kp_diag_error("cannot apply %s at metadata offset %lld: %s",
			      kp_metadata_record_name(rec->type), (long long)offset, err.msg);
	c->dirty = true;
}

/* maybe_serve - open the listeners once caught up (controller's word) and published. */
static void maybe_serve(struct kp_broker_cluster *c)
{
	enum kp_broker_state s = kp_lifecycle_state(c->lifecycle);
	kp_error err;

	if (c->listening || !c->published || (s != KP_BROKER_RECOVERY && s != KP_BROKER_RUNNING))
		return;
	c->listening = true;
	if (kp_broker_listen(c->b, &err) < 0) {
		kp_broker_fail(c->b, &err);
		return;
	}
	kp_lifecycle_set_ready_to_unfence(c->lifecycle);
	kp_producer_ids_prefetch(c->producer_ids); /* the first InitProducerId need not wait */
}

static void on_committed(void *opaque, int64_t high_watermark)
{
	struct kp_broker_cluster *c = opaque;

	if (c->dirty || !c->published) {
		c->dirty = false;
		kp_broker_cluster_publish(c->b);
	}
	if (!c->published) {
		c->published = true;
		kp_diag_info("caught up with the metadata log: %zu topic(s), %zu broker(s), "
			     "offset %lld", kp_image_topic_count(c->image),
			     kp_image_broker_count(c->image),
			     (long long)kp_image_last_offset(c->image));
		maybe_serve(c);
	}
}

/* A snapshot replaces everything: a fresh image, which its records then fill (KIP-630). */
static void on_snapshot(void *opaque, int64_t end_offset, int32_t epoch)
{
	struct kp_broker_cluster *c = opaque;
	kp_image *fresh = kp_image_new();

	if (!fresh) {
		kp_error err;

		kp_error_set(&err, KP_ENOMEM, "out of memory loading metadata snapshot %lld-%d",
			     (long long)end_offset, epoch);
		kp_broker_fail(c->b, &err);
		return;
	}
	kp_image_free(c->image);
	c->image = fresh;
	c->dirty = true;
	kp_diag_info("loading metadata snapshot %lld-%d", (long long)end_offset, epoch);
}

/* The image the raft node writes snapshots of: brokers keep their own (Kafka's brokers
 * snapshot their metadata log too). */
static const kp_image *node_image(void *opaque)
{
	return ((struct kp_broker_cluster *)opaque)->image;
}

static void on_leader(void *opaque, int32_t epoch, int32_t leader_id)
{
	kp_diag_info("metadata quorum epoch %d: leader %d", epoch, leader_id);
}

static void on_fatal(void *opaque, const kp_error *err)
{
	struct kp_broker_cluster *c = opaque;

	kp_broker_fail(c->b, err);
}

static int64_t metadata_offset(void *opaque)
{
	struct kp_broker_cluster *c = opaque;

	return kp_raft_node_last_applied(c->raft);
}

static void on_state(void *opaque, enum kp_broker_state s)
{
	struct kp_broker_cluster *c = opaque;
	kp_error err;

	if (s == KP_BROKER_RECOVERY || s == KP_BROKER_RUNNING) {
		maybe_serve(c);
	} else if (s == KP_BROKER_SHUTTING_DOWN && c->stopping) {
		if (c->controller) /* combined mode: the voter resigns, the log is flushed */
			kp_controller_stop_embedded(c->controller);
		kp_broker_stop(c->b);
	} else if (s == KP_BROKER_SHUTTING_DOWN) {
		kp_error_set(&err, KP_EIO, "could not register with the controller quorum");
		kp_broker_fail(c->b, &err);
	}
}

/* raft_config - the observer's settings from the broker's quorum settings. */
static void raft_config(const struct kp_broker *b, struct kp_raft_node_config *rc)
{
	const struct kp_broker_quorum_config *q = &b->cfg.quorum;

	kp_raft_node_config_init(rc, b->cfg.node_id);
	for (int i = 0; i < q->n_voters && i < KP_RAFT_MAX_VOTERS; i++) {
		rc->voters[i].id = q->voters[i].id;
		snprintf(rc->voters[i].host, sizeof(rc->voters[i].host), "%s", q->voters[i].host);
		rc->voters[i].port = q->voters[i].port;
		rc->n_voters = i + 1;
	}
	snprintf(rc->listener_name, sizeof(rc->listener_name), "%s", q->controller_listener);
	snprintf(rc->log_dir, sizeof(rc->log_dir), "%s", q->metadata_log_dir);
	snprintf(rc->cluster_id, sizeof(rc->cluster_id), "%s", b->cluster_id);
	rc->election_timeout_ms = q->election_timeout_ms;
	rc->fetch_timeout_ms = q->fetch_timeout_ms;
	rc->request_timeout_ms = q->request_timeout_ms;
	rc->retry_backoff_ms = q->retry_backoff_ms;
}

static int make_lifecycle(struct kp_broker_cluster *c, kp_error *err)
{
	const struct kp_broker_config *cfg = &c->b->cfg;
	struct kp_lifecycle_config lc = {
		.node_id = cfg->node_id,
		.cluster_id = c->b->cluster_id,
		.listeners = cfg->advertised,
		.n_listeners = cfg->advertised_count,
		.rack = cfg->quorum.rack,
		.heartbeat_interval_ms = cfg->quorum.heartbeat_interval_ms,
		.session_timeout_ms = cfg->quorum.session_timeout_ms,
		.initial_registration_timeout_ms = cfg->quorum.initial_registration_timeout_ms,
	};
	struct kp_lifecycle_callbacks lcb = {
		.metadata_offset = metadata_offset, .on_state = on_state, .opaque = c,
	};

	c->channel = kp_controller_channel_new(c->b->base, &cfg->quorum, c->raft, cfg->node_id, err);
	if (!c->channel)
		return -1;
	c->lifecycle = kp_lifecycle_new(c->b->base, c->channel, &lc, &lcb, err);
	if (!c->lifecycle)
		return -1;
	if (!(c->producer_ids = kp_producer_ids_new(c->b)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return 0;
}

/*
 * adopt_local_topics - a cluster of one starting a new metadata log: the
 * topics its log dirs already hold (a single node's data from before it
 * had a metadata log) are loaded and go into the log's bootstrap with
 * their ids, instead of being ignored as strays.
 */
static int adopt_local_topics(struct kp_broker *b, kp_controller *ctl, kp_error *err)
{
	struct kp_qc_adopted_topic *a;
	size_t n;
	int rc = 0;

	if (b->cfg.quorum.n_voters != 1 || kp_raft_node_log_end_offset(kp_controller_raft_node(ctl)) > 0)
		return 0;
	for (int i = 0; i < b->cfg.log_dir_count; i++)
		if (kp_topics_load(b->topics, b->cfg.log_dirs[i], err) < 0)
			return -1;
	if ((n = kp_topics_count(b->topics)) == 0)
		return 0;
	if (!(a = calloc(n, sizeof(*a))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct kp_topic *t = kp_topics_at(b->topics, i);

		a[i] = (struct kp_qc_adopted_topic){ t->name, t->id, t->partition_count };
	}
	rc = kp_controller_adopt_topics(ctl, a, n, err);
	free(a);
	return rc;
}

int kp_broker_cluster_new(struct kp_broker *b, const kp_config *cfg, kp_error *err)
{
	struct kp_broker_cluster *c = calloc(1, sizeof(*c));
	struct kp_raft_node_config rc;
	struct kp_raft_node_callbacks cb = {
		.on_record = on_record, .on_committed = on_committed, .on_leader = on_leader,
		.on_fatal = on_fatal, .on_snapshot = on_snapshot, .image = node_image, .opaque = c,
	};

	if (!c)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	b->cluster = c;
	c->b = b;
	if (!(c->image = kp_image_new()))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (b->cfg.quorum.combined) { /* the voter belongs to the controller in this process */
		cb.image = NULL;
		if (!(c->controller = kp_controller_new_embedded(b->base, cfg, &cb, err)) ||
		    adopt_local_topics(b, c->controller, err) < 0)
			return -1;
		c->raft = kp_controller_raft_node(c->controller);
		return make_lifecycle(c, err);
	}
	raft_config(b, &rc);
	if (!(c->raft = kp_raft_node_new(b->base, &rc, &cb, err)))
		return -1;
	return make_lifecycle(c, err);
}

int kp_broker_cluster_start(struct kp_broker *b, kp_error *err)
{
	struct kp_broker_cluster *c = b->cluster;

	if (c->controller && kp_controller_start(c->controller, err) < 0)
		return -1;
	kp_lifecycle_start(c->lifecycle);
	return 0;
}

static void shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;

	kp_diag_warn("controlled shutdown not acknowledged within %lld ms; stopping anyway",
		     (long long)b->cfg.quorum.session_timeout_ms);
	kp_broker_stop(b);
}

bool kp_broker_cluster_begin_shutdown(struct kp_broker *b)
{
	struct kp_broker_cluster *c = b->cluster;
	int64_t ms = b->cfg.quorum.session_timeout_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	if (c->stopping || b->stopping)
		return false; /* a second signal: stop now */
	c->stopping = true;
	c->shutdown_timer = event_new(b->base, -1, 0, shutdown_timeout_cb, b);
	if (!c->shutdown_timer || event_add(c->shutdown_timer, &tv) < 0)
		return false;
	kp_lifecycle_begin_controlled_shutdown(c->lifecycle);
	return true;
}

void kp_broker_cluster_free(struct kp_broker *b)
{
	struct kp_broker_cluster *c = b->cluster;

	if (!c)
		return;
	kp_controller_channel *ch = c->channel;

	c->channel = NULL;             /* forward.c: requests failing now are dropped */
	kp_controller_channel_free(ch); /* its failing requests call back first */
	kp_forward_free_all(b);
	kp_producer_ids_free(c->producer_ids);
	kp_lifecycle_free(c->lifecycle);
	if (c->controller)
		kp_controller_free(c->controller); /* with its voter, c->raft */
	else
		kp_raft_node_free(c->raft);
	kp_image_free(c->image);
	if (c->shutdown_timer)
		event_free(c->shutdown_timer);
	if (c->publish_more)
		event_free(c->publish_more);
	free(c);
	b->cluster = NULL;
}

bool kp_broker_cluster_broker_alive(const struct kp_broker *b, int32_t id)
{
	const struct kp_image_broker *ib = kp_image_broker(b->cluster->image, id);

	return ib && !ib->fenced;
}

int kp_broker_cluster_list_brokers(struct kp_request *rq, size_t size,
				   kp_broker_cluster_put_fn *put, void **out, int32_t *count)
{
	const kp_image *img = rq->broker->cluster->image;
	const char *listener = rq->session ? rq->session->listener : "PLAINTEXT";
	size_t n = kp_image_broker_count(img);
	unsigned char *v = kp_request_alloc(rq, size * (n ? n : 1));
	int32_t k = 0;

	*out = v;
	*count = 0;
	if (!v)
		return -1;
	for (const struct kp_image_broker *ib = kp_image_broker_first(img); ib;
	     ib = kp_image_broker_next(img, ib)) {
		const struct kp_image_endpoint *ep = kp_image_broker_endpoint(ib, listener);

		if (ib->fenced || !ep)
			continue;
		put(v + size * (size_t)k++, ib, ep);
	}
	*count = k;
	return 0;
}

int32_t kp_broker_cluster_controller_id(const struct kp_broker *b)
{
	const kp_image *img = b->cluster->image;

	if (kp_broker_cluster_broker_alive(b, b->cfg.node_id))
		return b->cfg.node_id;
	for (const struct kp_image_broker *ib = kp_image_broker_first(img); ib;
	     ib = kp_image_broker_next(img, ib))
		if (!ib->fenced)
			return ib->id;
	return -1;
}
