/*
 * broker.c - the broker's lifecycle: create from a kp_config, start the
 * listeners, run the event loop, stop cleanly on SIGINT/SIGTERM; see
 * broker.h. Topic creation (auto or by CreateTopics) is here too, as it
 * touches both the registry and the log.
 *
 * Stopping: stop accepting -> answer parked fetches -> drain (write every
 * pending response, close connections) -> flush and close every log ->
 * "stopped".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "broker/cluster.h"
#include "broker/forward.h"
#include "broker/internal.h"
#include "broker/replica.h"
#include "broker/meta_properties.h"
#include "log/flusher.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/diag.h"

static int open_log_dirs(kp_broker *b, kp_error *err)
{
	snprintf(b->cluster_id, sizeof(b->cluster_id), "%s", b->cfg.cluster_id);
	for (int i = 0; i < b->cfg.log_dir_count; i++) {
		const char *dir = b->cfg.log_dirs[i];

		if (kp_mkdir_p(dir, err) < 0 ||
		    kp_meta_properties_ensure(dir, b->cfg.node_id, b->cluster_id,
					      sizeof(b->cluster_id), err) < 0)
			return -1;
	}
	b->topics = kp_topics_new(b->cfg.log_dirs, b->cfg.log_dir_count, &b->cfg.log);
	if (!b->topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (kp_topics_hw_load(b->topics, err) < 0)
		return -1;
	for (int i = 0; i < b->cfg.log_dir_count; i++) /* topics come from the metadata image */
		if (kp_topics_sweep_staged(b->cfg.log_dirs[i], err) < 0)
			return -1;
	return 0;
}

/* flush_done_cb - the flusher finished jobs: advance the logs' recovery points. */
static void flush_done_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_broker *b = arg;

	kp_flusher_poll(b->flusher);
}

/* flush_tick_cb - log.flush.interval.ms: flush every log with data that old. */
static void flush_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_broker *b = arg;
	int64_t now = kp_wall_ms(); /* the log's clock */
	kp_error err;

	for (size_t i = 0; b->topics && i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		for (int32_t j = 0; j < t->partition_count; j++)
			if (t->partitions[j].log &&
			    kp_log_flush_tick(t->partitions[j].log, now, &err) < 0)
				kp_diag_error("cannot flush %s-%d: %s", t->name, j, err.msg);
	}
}

/*
 * start_flusher - the fsync thread every log hands its flushes to: a
 * rolled segment's (always, as Kafka flushes at each roll, which moves
 * the recovery point) and the flush policy's (log.flush.interval.messages
 * or .ms; by default none, as in Kafka). A flush that fails takes its log
 * dir offline (kp_broker_log_failed).
 */
static int start_flusher(kp_broker *b, kp_error *err)
{
	if (kp_flusher_new(&b->flusher, err) < 0)
		return -1;
	kp_flusher_on_error(b->flusher, kp_broker_log_failed_cb, b);
	b->cfg.log.flusher = b->flusher;
	return 0;
}

/*
 * watch_flusher - the loop's side of the flusher: its completion pipe and,
 * for log.flush.interval.ms, a timer every min(log.flush.interval.ms,
 * log.flush.scheduler.interval.ms) (Kafka checks only every
 * log.flush.scheduler.interval.ms, whose default means never).
 */
static int watch_flusher(kp_broker *b, kp_error *err)
{
	int64_t ms = b->cfg.log.flush_ms;
	struct timeval tv;

	if (!b->flusher)
		return 0;
	b->flush_done = event_new(b->base, kp_flusher_fd(b->flusher), EV_READ | EV_PERSIST,
				  flush_done_cb, b);
	if (!b->flush_done || event_add(b->flush_done, NULL) < 0)
		return kp_error_set(err, KP_EIO, "cannot watch the flusher");
	if (ms == INT64_MAX)
		return 0;
	if (b->cfg.flush_scheduler_ms < ms)
		ms = b->cfg.flush_scheduler_ms;
	if (ms > 86400000)
		ms = 86400000;
	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	b->flush_tick = event_new(b->base, -1, EV_PERSIST, flush_tick_cb, b);
	if (!b->flush_tick || event_add(b->flush_tick, &tv) < 0)
		return kp_error_set(err, KP_EIO, "cannot start the flush timer");
	return 0;
}

kp_broker *kp_broker_new(const kp_config *given, kp_error *err)
{
	kp_broker *b = calloc(1, sizeof(*b));
	kp_config *cfg = kp_config_dup(given, err);

	if (!b || !cfg) {
		if (!b)
			kp_error_set(err, KP_ENOMEM, "out of memory");
		free(b);
		kp_config_free(cfg);
		return NULL;
	}
	if (kp_broker_config_own_quorum(cfg, err) < 0 ||
	    kp_broker_config_parse(cfg, &b->cfg, err) < 0) {
		free(b);
		kp_config_free(cfg);
		return NULL;
	}
	if (kp_broker_config_combined(cfg, &b->cfg, err) < 0) {
		kp_broker_config_clear(&b->cfg);
		free(b);
		kp_config_free(cfg);
		return NULL;
	}
	if (!kp_broker_config_is_cluster(&b->cfg)) { /* process.roles=broker alone */
		kp_error_set(err, KP_EINVAL, "process.roles=broker needs controller.quorum.voters "
			     "(leave process.roles unset for a cluster of one)");
		kp_broker_config_clear(&b->cfg);
		free(b);
		kp_config_free(cfg);
		return NULL;
	}
	if (start_flusher(b, err) < 0 || open_log_dirs(b, err) < 0)
		goto fail;
	b->base = event_base_new();
	if (!b->base) {
		kp_error_set(err, KP_EIO, "cannot create the event loop");
		goto fail;
	}
	if (!(b->purgatory = kp_purgatory_new(b->base))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto fail;
	}
	if (watch_flusher(b, err) < 0 || kp_broker_groups_start(b, err) < 0 ||
	    kp_broker_producer_expiry_start(b, err) < 0 || kp_broker_retention_start(b, err) < 0 ||
	    kp_broker_log_cleaner_start(b, err) < 0)
		goto fail;
	if (kp_broker_cluster_new(b, cfg, err) < 0 || kp_replicas_start(b, err) < 0)
		goto fail;
	kp_diag_info("node id %d, cluster id %s, log dir%s %s%s", b->cfg.node_id, b->cluster_id,
		     b->cfg.log_dir_count > 1 ? "s" : "", b->cfg.log_dirs[0],
		     b->cfg.log_dir_count > 1 ? " and more (log.dirs)" : "");
	kp_diag_info("loaded %zu topic(s)", kp_topics_count(b->topics));
	for (size_t i = 0; i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		kp_diag_debug("topic %s: %d partition(s)", t->name, t->partition_count);
	}
	if (!(b->props = kp_config_dup(given, err))) /* DescribeConfigs' static configs */
		goto fail;
	kp_config_free(cfg);
	return b;
fail:
	kp_config_free(cfg);
	kp_broker_free(b);
	return NULL;
}

int kp_broker_start(kp_broker *b, kp_error *err)
{
	struct kp_net_config ncfg = {
		.max_request_bytes = b->cfg.socket_request_max_bytes,
		.idle_ms = b->cfg.connections_max_idle_ms,
	};
	struct kp_net_callbacks cb = {
		.on_frame = kp_broker_on_frame,
		.on_hangup = kp_broker_on_hangup,
		.on_close = kp_broker_on_close,
		.on_open = kp_broker_on_open,
		.opaque = b,
	};

	b->net = kp_net_new(b->base, &ncfg, &cb);
	if (!b->net)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return kp_broker_cluster_start(b, err); /* listens once caught up with the metadata log */
}

int kp_broker_listen(struct kp_broker *b, kp_error *err)
{
	for (int i = 0; i < b->cfg.listener_count; i++) {
		const struct kp_broker_listener *l = &b->cfg.listeners[i];

		if (kp_net_listen(b->net, l->name, l->host, l->port, l->proto, err) < 0)
			return -1;
		kp_diag_info("listening on %s://%s:%d", l->name, l->host, l->port);
	}
	for (int i = 0; i < b->cfg.advertised_count; i++) {
		const struct kp_broker_listener *l = &b->cfg.advertised[i];

		kp_diag_info("advertising %s://%s:%d", l->name, l->host, l->port);
	}
	return 0;
}

static void drained_cb(void *arg)
{
	kp_broker *b = arg;

	kp_topics_flush(b->topics);
	event_base_loopexit(b->base, NULL);
}

void kp_broker_stop(kp_broker *b)
{
	if (b->stopping)
		return;
	b->stopping = true;
	kp_diag_info("stopping");
	kp_net_stop_accepting(b->net);
	kp_purgatory_shutdown(b->purgatory);
	kp_net_drain(b->net, 5000, drained_cb, b);
}

void kp_broker_fail(kp_broker *b, const kp_error *err)
{
	kp_diag_error("%s", err->msg);
	if (!b->failed) {
		b->failed = true;
		b->fatal = *err;
	}
	kp_broker_stop(b);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	kp_broker *b = arg;

	kp_diag_info("got signal %d", (int)sig);
	if (b->cluster && kp_broker_cluster_begin_shutdown(b))
		return; /* a controlled shutdown first; it stops the broker */
	kp_broker_stop(b);
}

int kp_broker_run(kp_broker *b, kp_error *err)
{
	kp_error hw_err;

	b->sigint = evsignal_new(b->base, SIGINT, signal_cb, b);
	b->sigterm = evsignal_new(b->base, SIGTERM, signal_cb, b);
	if (!b->sigint || !b->sigterm || evsignal_add(b->sigint, NULL) < 0 ||
	    evsignal_add(b->sigterm, NULL) < 0)
		return kp_error_set(err, KP_EIO, "cannot install signal handlers");
	if (event_base_dispatch(b->base) < 0)
		return kp_error_set(err, KP_EIO, "event loop failed");
	kp_net_free(b->net);
	b->net = NULL;
	kp_replicas_free(b);
	if (kp_topics_hw_save(b->topics, &hw_err) < 0)
		kp_diag_warn("%s", hw_err.msg);
	kp_topics_free(b->topics);
	b->topics = NULL;
	kp_diag_info("stopped");
	if (b->failed) {
		*err = b->fatal;
		return -1;
	}
	return 0;
}

void kp_broker_free(kp_broker *b)
{
	if (!b)
		return;
	kp_net_free(b->net); /* drops parked requests through on_close */
	kp_purgatory_free(b->purgatory);
	kp_broker_groups_free(b); /* after the purgatory: its waiters hold pending joins */
	kp_replicas_free(b);
	kp_broker_cluster_free(b);       /* after the net: forwarded requests are dropped with it */
	kp_broker_log_cleaner_free(b); /* before the logs close: stops a cleaning in progress */
	kp_topics_free(b->topics); /* closing the logs waits for their flushes */
	kp_flusher_free(b->flusher);
	kp_config_free(b->props);
	if (b->flush_done)
		event_free(b->flush_done);
	if (b->flush_tick)
		event_free(b->flush_tick);
	if (b->producer_expiry)
		event_free(b->producer_expiry);
	if (b->retention)
		event_free(b->retention);
	if (b->dir_failure)
		event_free(b->dir_failure);
	if (b->sigint)
		event_free(b->sigint);
	if (b->sigterm)
		event_free(b->sigterm);
	if (b->base)
		event_base_free(b->base);
	kp_broker_config_clear(&b->cfg);
	free(b);
}

void kp_broker_wake_partition(struct kp_broker *b, const struct kp_topic *topic, int32_t partition)
{
	struct kp_watch_key k;

	kp_watch_key_partition(&k, &topic->id, partition);
	kp_purgatory_wake(b->purgatory, &k);
}

struct kp_topic *kp_broker_create_topic(struct kp_broker *b, const char *name, int32_t partitions,
					int16_t *error_code)
{
	/* the controller creates it; the image brings it here (AutoTopicCreationManager) */
	kp_forward_create_topic(b, name, partitions,
				strcmp(name, "__consumer_offsets") == 0
					? b->cfg.offsets_topic_replication_factor
					: b->cfg.default_replication_factor);
	*error_code = KP_ERR_LEADER_NOT_AVAILABLE;
	return NULL;
}

struct kp_topic *kp_broker_auto_create(struct kp_broker *b, const char *name, bool create,
				       int16_t *error_code)
{
	struct kp_topic *t = kp_topics_find(b->topics, name);

	*error_code = KP_ERR_NONE;
	if (t)
		return t;
	if (!kp_topic_name_valid(name)) {
		*error_code = KP_ERR_INVALID_TOPIC_EXCEPTION;
		return NULL;
	}
	if (!create || !b->cfg.auto_create_topics) {
		*error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return NULL;
	}
	return kp_broker_create_topic(b, name, b->cfg.num_partitions, error_code);
}
