/*
 * lifecycle.c - registration, heartbeats and controlled shutdown of a
 * KRaft broker (Kafka's BrokerLifecycleManager); see lifecycle.h. One
 * communication is in flight at a time; the next is scheduled by the
 * answer to the last (scheduleNextCommunication).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/lifecycle.h"
#include "broker/uuid.h"
#include "protocol/errors.h"
#include "util/arena.h"
#include "util/diag.h"

#define REGISTRATION_VERSION 1 /* BrokerRegistration v1: no log dirs (v2+) yet */
#define HEARTBEAT_VERSION 0
#define BACKOFF_INITIAL_MS 100

struct kp_lifecycle {
	struct event_base *base;
	kp_controller_channel *ch;
	struct kp_lifecycle_config cfg;
	struct kp_lifecycle_callbacks cb;
	char *cluster_id, *rack;
	struct kp_broker_listener listeners[KP_BROKER_MAX_LISTENERS];
	kp_uuid incarnation;
	enum kp_broker_state state;
	int64_t broker_epoch;
	bool registered, ready_to_unfence, in_flight, immediate, got_shutdown_answer;
	int failures;
	int32_t target;               /* the voter the request in flight went to */
	struct event *comm;           /* the next communication */
	struct event *reg_timeout;    /* initial.broker.registration.timeout.ms */
};

static const char *const state_names[] = {
	[KP_BROKER_NOT_RUNNING] = "NOT_RUNNING", [KP_BROKER_STARTING] = "STARTING",
	[KP_BROKER_RECOVERY] = "RECOVERY", [KP_BROKER_RUNNING] = "RUNNING",
	[4] = "UNKNOWN", [5] = "UNKNOWN",
	[KP_BROKER_PENDING_CONTROLLED_SHUTDOWN] = "PENDING_CONTROLLED_SHUTDOWN",
	[KP_BROKER_SHUTTING_DOWN] = "SHUTTING_DOWN",
};

const char *kp_broker_state_name(enum kp_broker_state s)
{
	return (unsigned)s <= KP_BROKER_SHUTTING_DOWN ? state_names[s] : "UNKNOWN";
}

static void set_state(kp_lifecycle *l, enum kp_broker_state s)
{
	if (l->state == s)
		return;
	kp_diag_info("broker %d: %s -> %s", l->cfg.node_id, kp_broker_state_name(l->state),
		     kp_broker_state_name(s));
	l->state = s;
	if (s == KP_BROKER_SHUTTING_DOWN && l->comm)
		event_del(l->comm);
	if (l->cb.on_state)
		l->cb.on_state(l->cb.opaque, s);
}

/* schedule - the next communication in `ms` (at once when one was asked for meanwhile). */
static void schedule(kp_lifecycle *l, int64_t ms)
{
	struct timeval tv;

	if (l->state == KP_BROKER_SHUTTING_DOWN)
		return;
	if (l->immediate)
		ms = 0;
	l->immediate = false;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	event_add(l->comm, &tv);
}

static void schedule_now(kp_lifecycle *l)
{
	if (l->in_flight)
		l->immediate = true;
	else
		schedule(l, 0);
}

/* after_failure - exponential backoff: 100 ms doubling, capped at the session timeout. */
static void after_failure(kp_lifecycle *l, int32_t target)
{
	int64_t ms = BACKOFF_INITIAL_MS;

	for (int i = 0; i < l->failures && ms < l->cfg.session_timeout_ms; i++)
		ms *= 2;
	if (ms > l->cfg.session_timeout_ms)
		ms = l->cfg.session_timeout_ms;
	l->failures++;
	l->immediate = false;
	kp_controller_channel_failed(l->ch, target);
	schedule(l, ms);
}

static void registration_cb(void *arg, const void *resp, const kp_error *err)
{
	kp_lifecycle *l = arg;
	const struct kp_broker_registration_response *r = resp;

	l->in_flight = false;
	if (!r || r->error_code != KP_ERR_NONE) {
		kp_diag_info("broker %d: cannot register with controller %d: %s", l->cfg.node_id,
			     l->target, r ? kp_kafka_error_name(r->error_code) : err->msg);
		after_failure(l, l->target);
		return;
	}
	l->failures = 0;
	l->broker_epoch = r->broker_epoch;
	l->registered = true;
	kp_diag_info("broker %d: registered with broker epoch %lld", l->cfg.node_id,
		     (long long)r->broker_epoch);
	schedule_now(l);
}

/* registration_request - BrokerRegistration in arena `a`; NULL when out of memory. */
static struct kp_broker_registration_request *registration_request(kp_lifecycle *l, kp_arena *a)
{
	struct kp_broker_registration_request *rq = kp_broker_registration_request_new(a, 1);
	struct kp_broker_registration_request_listener *ls =
		kp_broker_registration_request_listener_new(a, (size_t)l->cfg.n_listeners);
	struct kp_broker_registration_request_feature *f =
		kp_broker_registration_request_feature_new(a, 1);

	if (!rq || !ls || !f)
		return NULL;
	rq->broker_id = l->cfg.node_id;
	rq->cluster_id = l->cluster_id;
	rq->incarnation_id = l->incarnation;
	for (int i = 0; i < l->cfg.n_listeners; i++) {
		ls[i].name = l->listeners[i].name;
		ls[i].host = l->listeners[i].host[0] ? l->listeners[i].host : "127.0.0.1";
		ls[i].port = (uint16_t)l->listeners[i].port;
		ls[i].security_protocol = (int16_t)l->listeners[i].proto;
	}
	rq->listeners = ls;
	rq->listeners_count = l->cfg.n_listeners;
	f->name = "metadata.version";
	f->min_supported_version = KP_METADATA_VERSION_MIN;
	f->max_supported_version = KP_METADATA_VERSION_MAX;
	rq->features = f;
	rq->features_count = 1;
	rq->rack = l->rack;
	rq->previous_broker_epoch = -1;
	return rq;
}

static void send_registration(kp_lifecycle *l)
{
	kp_arena a;
	kp_error err;
	struct kp_broker_registration_request *rq;

	kp_arena_init(&a);
	rq = registration_request(l, &a);
	if (!rq || kp_controller_channel_send(l->ch, KP_API_BROKER_REGISTRATION,
					      REGISTRATION_VERSION, rq, l->cfg.session_timeout_ms,
					      registration_cb, l, &l->target, &err) < 0) {
		if (!rq)
			kp_error_set(&err, KP_ENOMEM, "out of memory");
		kp_diag_debug("broker %d: registration not sent: %s", l->cfg.node_id, err.msg);
		after_failure(l, l->target);
	} else {
		l->in_flight = true;
	}
	kp_arena_free(&a);
}

/* heartbeat_ok - Kafka's BrokerHeartbeatResponseEvent for an answer without error. */
static void heartbeat_ok(kp_lifecycle *l, const struct kp_broker_heartbeat_response *r)
{
	l->failures = 0;
	switch (l->state) {
	case KP_BROKER_STARTING:
		schedule(l, 10); /* quicker while starting, as Kafka; before the state change, */
		if (r->is_caught_up) /* whose listeners may ask for a heartbeat now */
			set_state(l, KP_BROKER_RECOVERY);
		break;
	case KP_BROKER_RECOVERY:
		if (!r->is_fenced)
			set_state(l, KP_BROKER_RUNNING);
		schedule(l, l->state == KP_BROKER_RUNNING ? l->cfg.heartbeat_interval_ms : 10);
		break;
	case KP_BROKER_PENDING_CONTROLLED_SHUTDOWN:
		if (r->should_shut_down) {
			set_state(l, KP_BROKER_SHUTTING_DOWN);
			break;
		}
		schedule(l, l->got_shutdown_answer ? l->cfg.heartbeat_interval_ms : 50);
		l->got_shutdown_answer = true;
		break;
	default:
		schedule(l, l->cfg.heartbeat_interval_ms);
	}
}

static void heartbeat_cb(void *arg, const void *resp, const kp_error *err)
{
	kp_lifecycle *l = arg;
	const struct kp_broker_heartbeat_response *r = resp;

	l->in_flight = false;
	if (l->state == KP_BROKER_SHUTTING_DOWN)
		return;
	if (r && r->error_code == KP_ERR_NONE) {
		heartbeat_ok(l, r);
		return;
	}
	kp_diag_info("broker %d: heartbeat to controller %d failed: %s", l->cfg.node_id, l->target,
		     r ? kp_kafka_error_name(r->error_code) : err->msg);
	if (r && (r->error_code == KP_ERR_STALE_BROKER_EPOCH ||
		  r->error_code == KP_ERR_BROKER_ID_NOT_REGISTERED))
		l->registered = false; /* register again */
	after_failure(l, l->target);
}

static void send_heartbeat(kp_lifecycle *l)
{
	struct kp_broker_heartbeat_request rq;
	kp_error err;

	kp_broker_heartbeat_request_init(&rq);
	rq.broker_id = l->cfg.node_id;
	rq.broker_epoch = l->broker_epoch;
	rq.current_metadata_offset = l->cb.metadata_offset(l->cb.opaque);
	rq.want_fence = !l->ready_to_unfence;
	rq.want_shut_down = l->state == KP_BROKER_PENDING_CONTROLLED_SHUTDOWN;
	if (kp_controller_channel_send(l->ch, KP_API_BROKER_HEARTBEAT, HEARTBEAT_VERSION, &rq,
				       l->cfg.session_timeout_ms, heartbeat_cb, l, &l->target,
				       &err) < 0) {
		kp_diag_debug("broker %d: heartbeat not sent: %s", l->cfg.node_id, err.msg);
		after_failure(l, l->target);
		return;
	}
	l->in_flight = true;
}

/* comm_cb - Kafka's CommunicationEvent. */
static void comm_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_lifecycle *l = arg;

	if (l->in_flight)
		l->immediate = true;
	else if (l->registered)
		send_heartbeat(l);
	else
		send_registration(l);
}

static void reg_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_lifecycle *l = arg;

	if (l->registered || l->broker_epoch >= 0)
		return;
	kp_diag_error("broker %d: not registered with the controller quorum within %lld ms",
		      l->cfg.node_id, (long long)l->cfg.initial_registration_timeout_ms);
	set_state(l, KP_BROKER_SHUTTING_DOWN);
}

/* copy_config - the strings and listeners of `cfg` into `l`. */
static int copy_config(kp_lifecycle *l, const struct kp_lifecycle_config *cfg)
{
	l->cfg = *cfg;
	if (l->cfg.n_listeners > KP_BROKER_MAX_LISTENERS)
		l->cfg.n_listeners = KP_BROKER_MAX_LISTENERS;
	memcpy(l->listeners, cfg->listeners, sizeof(l->listeners[0]) * (size_t)l->cfg.n_listeners);
	l->cfg.listeners = l->listeners;
	l->cluster_id = strdup(cfg->cluster_id ? cfg->cluster_id : "");
	l->rack = cfg->rack && *cfg->rack ? strdup(cfg->rack) : NULL;
	return l->cluster_id && (l->rack || !cfg->rack || !*cfg->rack) ? 0 : -1;
}

kp_lifecycle *kp_lifecycle_new(struct event_base *base, kp_controller_channel *ch,
			       const struct kp_lifecycle_config *cfg,
			       const struct kp_lifecycle_callbacks *cb, kp_error *err)
{
	kp_lifecycle *l = calloc(1, sizeof(*l));

	if (!l) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	l->base = base;
	l->ch = ch;
	l->cb = *cb;
	l->broker_epoch = -1;
	l->state = KP_BROKER_NOT_RUNNING;
	if (copy_config(l, cfg) < 0 || !(l->comm = event_new(base, -1, 0, comm_cb, l)) ||
	    !(l->reg_timeout = event_new(base, -1, 0, reg_timeout_cb, l))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto fail;
	}
	if (kp_uuid_random(&l->incarnation, err) < 0)
		goto fail;
	return l;
fail:
	kp_lifecycle_free(l);
	return NULL;
}

void kp_lifecycle_free(kp_lifecycle *l)
{
	if (!l)
		return;
	if (l->comm)
		event_free(l->comm);
	if (l->reg_timeout)
		event_free(l->reg_timeout);
	free(l->cluster_id);
	free(l->rack);
	free(l);
}

void kp_lifecycle_start(kp_lifecycle *l)
{
	int64_t ms = l->cfg.initial_registration_timeout_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };
	char id[KP_UUID_STR_LEN + 1];

	if (l->state != KP_BROKER_NOT_RUNNING)
		return;
	kp_uuid_format(&l->incarnation, id);
	kp_diag_info("incarnation %s of broker %d in cluster %s is now STARTING", id,
		     l->cfg.node_id, l->cluster_id);
	l->state = KP_BROKER_STARTING;
	event_add(l->reg_timeout, &tv);
	schedule_now(l);
}

void kp_lifecycle_set_ready_to_unfence(kp_lifecycle *l)
{
	if (l->ready_to_unfence)
		return;
	l->ready_to_unfence = true;
	if (l->state != KP_BROKER_NOT_RUNNING)
		schedule_now(l);
}

void kp_lifecycle_begin_controlled_shutdown(kp_lifecycle *l)
{
	if (l->state == KP_BROKER_PENDING_CONTROLLED_SHUTDOWN ||
	    l->state == KP_BROKER_SHUTTING_DOWN)
		return;
	if (l->state != KP_BROKER_RUNNING) {
		kp_diag_info("broker %d: skipping controlled shutdown in state %s", l->cfg.node_id,
			     kp_broker_state_name(l->state));
		set_state(l, KP_BROKER_SHUTTING_DOWN);
		return;
	}
	kp_diag_info("broker %d: beginning controlled shutdown", l->cfg.node_id);
	set_state(l, KP_BROKER_PENDING_CONTROLLED_SHUTDOWN);
	schedule_now(l);
}

enum kp_broker_state kp_lifecycle_state(const kp_lifecycle *l)
{
	return l->state;
}

int64_t kp_lifecycle_broker_epoch(const kp_lifecycle *l)
{
	return l->broker_epoch;
}

const kp_uuid *kp_lifecycle_incarnation_id(const kp_lifecycle *l)
{
	return &l->incarnation;
}
