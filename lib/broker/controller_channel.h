/*
 * controller_channel.h - a KRaft broker's requests to the active
 * controller (Kafka's NodeToControllerChannelManager): BrokerRegistration
 * and BrokerHeartbeat from the lifecycle manager, and the admin requests
 * the broker forwards (KIP-590).
 *
 * The active controller is the Raft leader of the metadata quorum, which
 * the broker's own Raft observer knows (kp_raft_node_leader); while it
 * does not, requests go to the voters of controller.quorum.voters in
 * turn, and a caller that gets NOT_CONTROLLER or a transport failure
 * calls kp_controller_channel_failed to move on to the next one. One
 * outgoing connection (net/outconn.h) per voter, made on first use.
 * Everything runs on the broker's loop.
 */
#ifndef KP_BROKER_CONTROLLER_CHANNEL_H
#define KP_BROKER_CONTROLLER_CHANNEL_H

#include <stdint.h>

#include "broker/config.h"
#include "net/outconn.h"
#include "util/error.h"

struct event_base;
struct kp_raft_node;

typedef struct kp_controller_channel kp_controller_channel;

/*
 * kp_controller_channel_new - a channel on `base` (borrowed) to the voters
 * of `q` (copied), asking `raft` (borrowed, may be NULL: voters in turn
 * only) who leads; requests carry client id "broker-ID-to-controller".
 * Returns NULL with KP_ENOMEM or KP_EINVAL (no voters).
 */
kp_controller_channel *kp_controller_channel_new(struct event_base *base,
						 const struct kp_broker_quorum_config *q,
						 struct kp_raft_node *raft, int32_t node_id,
						 kp_error *err);

/*
 * kp_controller_channel_free - close every connection (NULL is fine);
 * requests in flight complete first with KP_ECONN (outconn's rule).
 */
void kp_controller_channel_free(kp_controller_channel *ch);

/*
 * kp_controller_channel_send - send `req` (generated request struct of
 * `api_key`, borrowed for the call) at `version` to the controller the
 * channel believes active; `cb` as for kp_outconn_send, within about
 * `timeout_ms`. Returns 0, or -1 without calling cb (KP_ECONN while that
 * connection backs off, KP_EINVAL, KP_ENOMEM); *target gets the voter id
 * it went to (may be NULL).
 */
int kp_controller_channel_send(kp_controller_channel *ch, int16_t api_key, int16_t version,
			       const void *req, int64_t timeout_ms, kp_outconn_cb cb, void *arg,
			       int32_t *target, kp_error *err);

/*
 * kp_controller_channel_failed - voter `target` answered NOT_CONTROLLER or
 * could not be reached: unless the Raft observer names another leader,
 * the next send goes to the next voter.
 */
void kp_controller_channel_failed(kp_controller_channel *ch, int32_t target);

#endif
