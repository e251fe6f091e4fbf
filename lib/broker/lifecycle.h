/*
 * lifecycle.h - a KRaft broker's registration and heartbeats with the
 * active controller: Kafka's BrokerLifecycleManager (KIP-631).
 *
 *   start       BrokerRegistration (node id, cluster id, a new random
 *               incarnation id per process start, advertised listeners,
 *               rack, the metadata.version range supported); retried with
 *               exponential backoff (100 ms doubling, capped at
 *               broker.session.timeout.ms) until accepted
 *   registered  BrokerHeartbeat at once, then every
 *               broker.heartbeat.interval.ms, with the broker epoch, the
 *               current metadata offset and want_fence until
 *               kp_lifecycle_set_ready_to_unfence
 *   states      STARTING -> RECOVERY when the controller says is_caught_up
 *               -> RUNNING when it says not fenced; SIGTERM's
 *               kp_lifecycle_begin_controlled_shutdown: RUNNING ->
 *               PENDING_CONTROLLED_SHUTDOWN (want_shut_down) -> SHUTTING_DOWN
 *               when the controller answers should_shut_down. Any other
 *               state shuts down at once. Not registered within
 *               initial.broker.registration.timeout.ms: SHUTTING_DOWN.
 *
 * Every state change is reported through on_state. Requests go through
 * controller_channel.h; an error answer (NOT_CONTROLLER, ...) or a
 * transport failure moves the channel on and retries after the backoff;
 * STALE_BROKER_EPOCH makes it register again. Runs on the broker's loop.
 */
#ifndef KP_BROKER_LIFECYCLE_H
#define KP_BROKER_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/config.h"
#include "broker/controller_channel.h"
#include "protocol/codec.h"
#include "util/error.h"

struct event_base;

/* Kafka's BrokerState values (metadata/BrokerState.java). */
enum kp_broker_state {
	KP_BROKER_NOT_RUNNING = 0,
	KP_BROKER_STARTING = 1,
	KP_BROKER_RECOVERY = 2,
	KP_BROKER_RUNNING = 3,
	KP_BROKER_PENDING_CONTROLLED_SHUTDOWN = 6,
	KP_BROKER_SHUTTING_DOWN = 7,
};

/*
 * The metadata.version levels this broker supports: 3.0-IV1 (KRaft's
 * first) to 4.4-IV2, the schemas the metadata record codecs were
 * generated from (what the controllers bootstrap with).
 */
#define KP_METADATA_VERSION_MIN 1
#define KP_METADATA_VERSION_MAX 33

typedef struct kp_lifecycle kp_lifecycle;

struct kp_lifecycle_config {
	int32_t node_id;
	const char *cluster_id;                    /* copied */
	const struct kp_broker_listener *listeners; /* advertised.listeners, copied */
	int n_listeners;
	const char *rack;                          /* broker.rack, "" or NULL for none; copied */
	int64_t heartbeat_interval_ms;             /* broker.heartbeat.interval.ms */
	int64_t session_timeout_ms;                /* broker.session.timeout.ms: the backoff cap */
	int64_t initial_registration_timeout_ms;   /* initial.broker.registration.timeout.ms */
};

struct kp_lifecycle_callbacks {
	/* the offset of the last metadata record applied (BrokerHeartbeat's current offset) */
	int64_t (*metadata_offset)(void *opaque);
	/* the state changed to `state` (see above); may call back into the lifecycle */
	void (*on_state)(void *opaque, enum kp_broker_state state);
	void *opaque;
};

/*
 * kp_lifecycle_new - a manager on `base` sending through `ch` (both
 * borrowed; `ch` must be freed first: its failing requests call back
 * here) with `cfg` and `cb` (copied). Picks the incarnation id (random,
 * never stored). Returns NULL with KP_ENOMEM or KP_EIO (no randomness).
 */
kp_lifecycle *kp_lifecycle_new(struct event_base *base, kp_controller_channel *ch,
			       const struct kp_lifecycle_config *cfg,
			       const struct kp_lifecycle_callbacks *cb, kp_error *err);

/* kp_lifecycle_free - stop the timers and free `l` (NULL is fine); reports nothing. */
void kp_lifecycle_free(kp_lifecycle *l);

/* kp_lifecycle_start - NOT_RUNNING -> STARTING: send the registration now. */
void kp_lifecycle_start(kp_lifecycle *l);

/* kp_lifecycle_set_ready_to_unfence - stop asking to be fenced (metadata published). */
void kp_lifecycle_set_ready_to_unfence(kp_lifecycle *l);

/* kp_lifecycle_begin_controlled_shutdown - see above (Kafka's beginControlledShutdown). */
void kp_lifecycle_begin_controlled_shutdown(kp_lifecycle *l);

/* kp_lifecycle_state - the current state. */
enum kp_broker_state kp_lifecycle_state(const kp_lifecycle *l);

/* kp_lifecycle_broker_epoch - the broker epoch the controller gave, -1 before registering. */
int64_t kp_lifecycle_broker_epoch(const kp_lifecycle *l);

/* kp_lifecycle_incarnation_id - this process's incarnation id. */
const kp_uuid *kp_lifecycle_incarnation_id(const kp_lifecycle *l);

/* kp_broker_state_name - "STARTING", "RUNNING", ... (Kafka's names). */
const char *kp_broker_state_name(enum kp_broker_state s);

#endif
