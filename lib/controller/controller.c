/*
 * controller.c - kcontroller's lifecycle: create from a kp_config (the
 * data dir's meta.properties, the quorum controller, the Raft voter),
 * start the listeners, stop on SIGINT/SIGTERM after resigning; see
 * controller.h. Kafka's ControllerServer.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/meta_properties.h"
#include "controller/internal.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/file.h"

#define STOP_GRACE_MS 1000 /* how long a resigning leader waits for EndQuorumEpoch answers */

/* The node's callbacks: records and leadership to the quorum controller, then to the
 * embedding broker (combined mode); failure to us. */
static void node_on_record(void *opaque, const struct kp_metadata_record *rec, int64_t offset,
			   int32_t epoch)
{
	struct kp_controller *c = opaque;

	kp_qc_on_record(c->qc, rec, offset, epoch);
	if (c->also.on_record)
		c->also.on_record(c->also.opaque, rec, offset, epoch);
}

static void node_on_committed(void *opaque, int64_t hw)
{
	struct kp_controller *c = opaque;

	kp_qc_on_committed(c->qc, hw);
	if (c->also.on_committed)
		c->also.on_committed(c->also.opaque, hw);
}

static void node_on_leader(void *opaque, int32_t epoch, int32_t leader_id)
{
	struct kp_controller *c = opaque;

	kp_qc_on_leader(c->qc, epoch, leader_id);
	if (c->also.on_leader)
		c->also.on_leader(c->also.opaque, epoch, leader_id);
}

static void node_on_snapshot(void *opaque, int64_t end_offset, int32_t epoch)
{
	struct kp_controller *c = opaque;

	kp_qc_on_snapshot(c->qc, end_offset, epoch);
	if (c->also.on_snapshot)
		c->also.on_snapshot(c->also.opaque, end_offset, epoch);
}

static const kp_image *node_image(void *opaque)
{
	return kp_qc_image(((struct kp_controller *)opaque)->qc);
}

static void node_on_fatal(void *opaque, const kp_error *err)
{
	struct kp_controller *c = opaque;

	if (c->failed)
		return;
	c->failed = true;
	c->fatal = *err;
	if (c->embedded && c->also.on_fatal)
		c->also.on_fatal(c->also.opaque, err);
	else if (!c->embedded)
		event_base_loopexit(c->base, NULL);
}

/* open_node - meta.properties (cluster id), the quorum controller and the Raft voter. */
static int open_node(struct kp_controller *c, kp_error *err)
{
	struct kp_raft_node_config *rc = &c->cfg.raft;
	struct kp_raft_node_callbacks cb = {
		.on_record = node_on_record, .on_committed = node_on_committed,
		.on_leader = node_on_leader, .on_fatal = node_on_fatal,
		.on_snapshot = node_on_snapshot, .image = node_image, .opaque = c,
	};

	if (kp_mkdir_p(rc->log_dir, err) < 0 ||
	    kp_meta_properties_ensure(rc->log_dir, rc->node_id, rc->cluster_id,
				      sizeof(rc->cluster_id), err) < 0)
		return -1;
	if (!(c->qc = kp_qc_new(c->base, &c->cfg.qc, err)))
		return -1;
	if (!(c->node = kp_raft_node_new(c->base, rc, &cb, err)))
		return -1;
	kp_qc_attach(c->qc, c->node);
	kp_diag_info("node id %d, cluster id %s, metadata log dir %s", rc->node_id, rc->cluster_id,
		     rc->log_dir);
	return 0;
}

kp_controller *kp_controller_new(const kp_config *cfg, kp_error *err)
{
	struct kp_controller *c = calloc(1, sizeof(*c));

	if (!c) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	if (kp_controller_config_parse(cfg, false, &c->cfg, err) < 0)
		goto fail;
	if (!(c->base = event_base_new())) {
		kp_error_set(err, KP_EIO, "cannot create the event loop");
		goto fail;
	}
	if (open_node(c, err) < 0)
		goto fail;
	return c;
fail:
	kp_controller_free(c);
	return NULL;
}

kp_controller *kp_controller_new_embedded(struct event_base *base, const kp_config *cfg,
					  const struct kp_raft_node_callbacks *also, kp_error *err)
{
	struct kp_controller *c = calloc(1, sizeof(*c));

	if (!c) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	c->embedded = true;
	c->base = base;
	if (also)
		c->also = *also;
	if (kp_controller_config_parse(cfg, true, &c->cfg, err) < 0 || open_node(c, err) < 0) {
		kp_controller_free(c);
		return NULL;
	}
	kp_qc_set_local_broker(c->qc, c->cfg.raft.node_id);
	return c;
}

int kp_controller_adopt_topics(kp_controller *c, const struct kp_qc_adopted_topic *t, size_t n,
			       kp_error *err)
{
	return kp_qc_adopt_topics(c->qc, t, n, err);
}

kp_raft_node *kp_controller_raft_node(kp_controller *c)
{
	return c->node;
}

void kp_controller_stop_embedded(kp_controller *c)
{
	if (c->stopping)
		return;
	c->stopping = true;
	kp_raft_node_resign(c->node);
	kp_raft_node_flush(c->node);
	if (c->net)
		kp_net_stop_accepting(c->net);
}

int kp_controller_start(kp_controller *c, kp_error *err)
{
	struct kp_net_config ncfg = {
		.max_request_bytes = c->cfg.socket_request_max_bytes,
		.idle_ms = c->cfg.connections_max_idle_ms,
	};
	struct kp_net_callbacks cb = {
		.on_frame = kp_ctl_on_frame, .on_close = kp_ctl_on_close, .opaque = c,
	};

	if (!(c->net = kp_net_new(c->base, &ncfg, &cb)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int i = 0; i < c->cfg.n_listeners; i++) {
		const struct kp_ctl_endpoint *l = &c->cfg.listeners[i];

		if (kp_net_listen(c->net, l->name, l->host, l->port, KP_SECURITY_PLAINTEXT, err) < 0)
			return -1;
		kp_diag_info("listening on %s://%s:%d", l->name, l->host, l->port);
	}
	return 0;
}

static void drained_cb(void *arg)
{
	event_base_loopexit(((struct kp_controller *)arg)->base, NULL);
}

/* stop_wait_cb - poll until the resignation is delivered (or the grace time ends), then drain. */
static void stop_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_controller *c = arg;
	struct timeval tv = { 0, 20000 };

	if (kp_raft_node_resigning(c->node) && kp_mono_ms() < c->stop_deadline) {
		event_add(c->stop_timer, &tv);
		return;
	}
	kp_raft_node_flush(c->node);
	kp_net_drain(c->net, 500, drained_cb, c);
}

/* begin_stop - resign if leader (EndQuorumEpoch, Kafka's graceful shutdown), then stop. */
static void begin_stop(struct kp_controller *c)
{
	struct timeval tv = { 0, 0 };

	if (c->stopping)
		return;
	c->stopping = true;
	kp_diag_info("stopping");
	kp_raft_node_resign(c->node);
	kp_net_stop_accepting(c->net);
	c->stop_deadline = kp_mono_ms() + STOP_GRACE_MS;
	c->stop_timer = event_new(c->base, -1, 0, stop_wait_cb, c);
	if (!c->stop_timer || event_add(c->stop_timer, &tv) < 0)
		event_base_loopexit(c->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	kp_diag_info("got signal %d", (int)sig);
	begin_stop(arg);
}

int kp_controller_run(kp_controller *c, kp_error *err)
{
	c->sigint = evsignal_new(c->base, SIGINT, signal_cb, c);
	c->sigterm = evsignal_new(c->base, SIGTERM, signal_cb, c);
	if (!c->sigint || !c->sigterm || evsignal_add(c->sigint, NULL) < 0 ||
	    evsignal_add(c->sigterm, NULL) < 0)
		return kp_error_set(err, KP_EIO, "cannot install signal handlers");
	if (event_base_dispatch(c->base) < 0)
		return kp_error_set(err, KP_EIO, "event loop failed");
	if (c->failed) {
		*err = c->fatal;
		return -1;
	}
	kp_diag_info("stopped in epoch %d, log end offset %lld", kp_raft_node_epoch(c->node),
		     (long long)kp_raft_node_log_end_offset(c->node));
	return 0;
}

void kp_controller_free(kp_controller *c)
{
	if (!c)
		return;
	kp_net_free(c->net); /* on_close drops the node's and the controller's requests */
	kp_qc_free(c->qc);
	kp_raft_node_free(c->node);
	if (c->stop_timer)
		event_free(c->stop_timer);
	if (c->sigint)
		event_free(c->sigint);
	if (c->sigterm)
		event_free(c->sigterm);
	if (c->base && !c->embedded)
		event_base_free(c->base);
	free(c);
}
