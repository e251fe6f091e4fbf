/*
 * controller.c - the controller's lifecycle and the core's clock: create
 * from a kp_config, start the listeners, tick the Raft core from a
 * libevent timer at kp_raft_next_deadline, stop on SIGINT/SIGTERM after
 * resigning; see controller.h.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/meta_properties.h"
#include "controller/internal.h"
#include "controller/quorum_state.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/file.h"

#define STOP_GRACE_MS 1000 /* how long a resigning leader waits for EndQuorumEpoch answers */

int64_t kp_ctl_now(void)
{
	return kp_mono_ms();
}

int64_t kp_ctl_wall(int64_t mono)
{
	return kp_wall_ms() - (kp_mono_ms() - mono);
}

void kp_ctl_fail(struct kp_controller *c, const kp_error *err)
{
	if (c->failed)
		return;
	c->failed = true;
	c->fatal = *err;
	event_base_loopexit(c->base, NULL);
}

void kp_ctl_schedule(struct kp_controller *c)
{
	int64_t now = kp_ctl_now(), at = kp_raft_next_deadline(c->raft);
	int64_t p = kp_ctl_pending_deadline(c);
	struct timeval tv;

	if (c->failed)
		return;
	if (p < at)
		at = p;
	at = at > now ? at - now : 0;
	if (at > 60000)
		at = 60000;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000 * 1000);
	event_add(c->tick, &tv);
}

void kp_ctl_receive(struct kp_controller *c, const struct kp_raft_msg *msg)
{
	kp_error err;

	if (c->failed)
		return;
	if (kp_raft_receive(c->raft, msg, kp_ctl_now(), &err) < 0) {
		kp_ctl_fail(c, &err);
		return;
	}
	kp_ctl_schedule(c);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_controller *c = arg;
	int64_t now = kp_ctl_now();
	kp_error err;

	if (kp_raft_tick(c->raft, now, &err) < 0) {
		kp_ctl_fail(c, &err);
		return;
	}
	kp_ctl_expire_pending(c, now, false);
	kp_ctl_schedule(c);
}

/* save_state - ops->save_state: the quorum-state file. */
static int save_state(void *opaque, const struct kp_raft_quorum_state *st)
{
	struct kp_controller *c = opaque;
	int32_t ids[KP_RAFT_MAX_VOTERS];
	kp_error err;

	for (int i = 0; i < c->cfg.n_voters; i++)
		ids[i] = c->cfg.voters[i].id;
	if (kp_quorum_state_write(c->cfg.log_dir, st, ids, c->cfg.n_voters, &err) < 0) {
		kp_diag_error("%s", err.msg);
		return -1;
	}
	return 0;
}

/* on_role - ops->on_role: one INFO line per change, as Kafka's "Transitioned to" lines. */
static void on_role(void *opaque, enum kp_raft_role role, int32_t epoch, int32_t leader)
{
	kp_diag_info("raft: %s in epoch %d, leader %d", kp_raft_role_name(role), epoch, leader);
}

static void on_high_watermark(void *opaque, int64_t hw)
{
	kp_diag_debug("raft: high watermark %lld", (long long)hw);
}

/* The log's ops, from the core's single opaque (the controller) to the kp_mlog. */
static int64_t log_end_offset(void *opaque)
{
	return kp_mlog_end_offset(((struct kp_controller *)opaque)->log);
}

static int32_t log_last_epoch(void *opaque)
{
	return kp_mlog_last_epoch(((struct kp_controller *)opaque)->log);
}

static void log_end_offset_for_epoch(void *opaque, int32_t epoch, int32_t *found, int64_t *end)
{
	kp_mlog_end_offset_for_epoch(((struct kp_controller *)opaque)->log, epoch, found, end);
}

static int log_append(void *opaque, const struct kp_raft_entry *entries, size_t n)
{
	kp_mlog *l = ((struct kp_controller *)opaque)->log;

	if (kp_mlog_append(l, entries, n) < 0) {
		kp_diag_error("cannot append to the metadata log: %s", kp_mlog_error(l)->msg);
		return -1;
	}
	return 0;
}

static int log_truncate(void *opaque, int64_t offset)
{
	kp_mlog *l = ((struct kp_controller *)opaque)->log;

	if (kp_mlog_truncate(l, offset) < 0) {
		kp_diag_error("cannot truncate the metadata log: %s", kp_mlog_error(l)->msg);
		return -1;
	}
	kp_diag_info("metadata log truncated to %lld", (long long)kp_mlog_end_offset(l));
	return 0;
}

static size_t log_read(void *opaque, int64_t offset, struct kp_raft_entry *out, size_t max)
{
	return kp_mlog_read(((struct kp_controller *)opaque)->log, offset, out, max);
}

/* open_storage - the data dir: meta.properties, the metadata log, quorum-state, the core. */
static int open_storage(struct kp_controller *c, kp_error *err)
{
	struct kp_raft_ops ops = {
		.end_offset = log_end_offset, .last_epoch = log_last_epoch,
		.end_offset_for_epoch = log_end_offset_for_epoch, .append = log_append,
		.truncate = log_truncate, .read = log_read, .save_state = save_state,
		.send = kp_ctl_send, .on_high_watermark = on_high_watermark, .on_role = on_role,
		.opaque = c,
	};
	struct kp_raft_quorum_state st;
	struct kp_raft_config rc;
	int32_t ids[KP_RAFT_MAX_VOTERS];
	int found;

	snprintf(c->cluster_id, sizeof(c->cluster_id), "%s", c->cfg.cluster_id);
	for (int i = 0; i < c->cfg.n_voters; i++)
		ids[i] = c->cfg.voters[i].id;
	if (kp_mkdir_p(c->cfg.log_dir, err) < 0 ||
	    kp_meta_properties_ensure(c->cfg.log_dir, c->cfg.node_id, c->cluster_id,
				      sizeof(c->cluster_id), err) < 0 ||
	    kp_mlog_open(c->cfg.log_dir, c->cfg.node_id, ids, c->cfg.n_voters, &c->log, err) < 0 ||
	    (found = kp_quorum_state_read(c->cfg.log_dir, &st, err)) < 0)
		return -1;
	kp_raft_config_init(&rc, c->cfg.node_id);
	memcpy(rc.voters, ids, sizeof(ids));
	rc.n_voters = c->cfg.n_voters;
	rc.election_timeout_ms = c->cfg.election_timeout_ms;
	rc.fetch_timeout_ms = c->cfg.fetch_timeout_ms;
	rc.election_backoff_max_ms = c->cfg.election_backoff_max_ms;
	rc.request_timeout_ms = c->cfg.request_timeout_ms;
	rc.seed = (uint64_t)kp_wall_ms() * 2654435761u ^ (uint64_t)c->cfg.node_id;
	c->raft = kp_raft_new(&rc, &ops, found ? &st : NULL, kp_ctl_now(), err);
	if (!c->raft)
		return -1;
	kp_diag_info("node id %d, cluster id %s, metadata log dir %s: log end offset %lld, epoch %d",
		     c->cfg.node_id, c->cluster_id, c->cfg.log_dir,
		     (long long)kp_mlog_end_offset(c->log), kp_raft_epoch(c->raft));
	return 0;
}

/* open_peers - one outgoing connection per other voter and RPC kind. */
static int open_peers(struct kp_controller *c, kp_error *err)
{
	struct kp_outconn_config oc;
	char client_id[64];

	kp_outconn_config_init(&oc);
	snprintf(client_id, sizeof(client_id), "raft-client-%d", c->cfg.node_id);
	oc.client_id = client_id;
	oc.connect_timeout_ms = c->cfg.request_timeout_ms;
	for (int i = 0; i < c->cfg.n_voters; i++) {
		const struct kp_ctl_endpoint *v = &c->cfg.voters[i];

		if (v->id == c->cfg.node_id)
			continue;
		for (int k = 0; k < KP_CTL_KINDS; k++) {
			c->out[i][k] = kp_outconn_new(c->base, v->host, v->port, &oc, err);
			if (!c->out[i][k])
				return -1;
		}
	}
	return 0;
}

kp_controller *kp_controller_new(const kp_config *cfg, kp_error *err)
{
	struct kp_controller *c = calloc(1, sizeof(*c));

	if (!c) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	if (kp_controller_config_parse(cfg, &c->cfg, err) < 0)
		goto fail;
	if (!(c->base = event_base_new())) {
		kp_error_set(err, KP_EIO, "cannot create the event loop");
		goto fail;
	}
	if (!(c->tick = event_new(c->base, -1, 0, tick_cb, c))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto fail;
	}
	if (open_storage(c, err) < 0 || open_peers(c, err) < 0)
		goto fail;
	return c;
fail:
	kp_controller_free(c);
	return NULL;
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
	kp_ctl_schedule(c);
	return 0;
}

static void drained_cb(void *arg)
{
	event_base_loopexit(((struct kp_controller *)arg)->base, NULL);
}

/* end_epoch_in_flight - whether EndQuorumEpoch requests still await answers. */
static bool end_epoch_in_flight(const struct kp_controller *c)
{
	for (int i = 0; i < c->cfg.n_voters; i++)
		if (c->out[i][KP_CTL_END] && kp_outconn_in_flight(c->out[i][KP_CTL_END]) > 0)
			return true;
	return false;
}

/* stop_wait_cb - poll until the resignation is delivered (or the grace time is over), then drain. */
static void stop_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_controller *c = arg;
	struct timeval tv = { 0, 20000 };

	if (end_epoch_in_flight(c) && kp_ctl_now() < c->stop_deadline) {
		event_add(c->stop_timer, &tv);
		return;
	}
	kp_ctl_expire_pending(c, 0, true);
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
	if (kp_raft_role(c->raft) == KP_RAFT_LEADER)
		kp_diag_info("resigning leadership of epoch %d", kp_raft_epoch(c->raft));
	kp_raft_resign(c->raft, kp_ctl_now());
	kp_ctl_schedule(c);
	kp_net_stop_accepting(c->net);
	c->stop_deadline = kp_ctl_now() + STOP_GRACE_MS;
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
	kp_diag_info("stopped in epoch %d, log end offset %lld", kp_raft_epoch(c->raft),
		     (long long)kp_mlog_end_offset(c->log));
	return 0;
}

void kp_controller_free(kp_controller *c)
{
	if (!c)
		return;
	for (int i = 0; i < KP_CTL_MAX_PENDING; i++)
		kp_ctl_request_free(c->pending[i]);
	memset(c->pending, 0, sizeof(c->pending));
	kp_net_free(c->net);
	for (int i = 0; i < KP_RAFT_MAX_VOTERS; i++)
		for (int k = 0; k < KP_CTL_KINDS; k++)
			kp_outconn_free(c->out[i][k]);
	kp_raft_free(c->raft);
	kp_mlog_close(c->log);
	if (c->tick)
		event_free(c->tick);
	if (c->stop_timer)
		event_free(c->stop_timer);
	if (c->sigint)
		event_free(c->sigint);
	if (c->sigterm)
		event_free(c->sigterm);
	if (c->base)
		event_base_free(c->base);
	free(c);
}
