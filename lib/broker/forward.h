/*
 * forward.h - admin requests a KRaft broker forwards to the active
 * controller (KIP-590): CreateTopics, DeleteTopics, CreatePartitions,
 * IncrementalAlterConfigs and AlterConfigs. Not installed.
 *
 * Kafka's brokers wrap the client's request in an Envelope (API 58) with
 * the client's principal, so that the controller authorizes it as the
 * client; ours send the decoded request itself, at the client's version,
 * to the controller (there is no authorization yet), and answer the
 * client with the controller's response re-encoded at that version.
 * A transport failure or a NOT_CONTROLLER answer is retried, on the next
 * controller the channel picks, for up to request.timeout.ms (30 s);
 * then the client gets REQUEST_TIMED_OUT for everything it asked.
 */
#ifndef KP_BROKER_FORWARD_H
#define KP_BROKER_FORWARD_H

#include <stdint.h>

#include "net/net.h"
#include "util/error.h"

struct kp_broker;
struct kp_request;

/*
 * kp_forward_request - forward `rq` (one of the APIs above; the forwarder
 * owns it from here) and answer it when the controller does. Returns 0,
 * or -1 with KP_ENOMEM (rq still the caller's).
 */
int kp_forward_request(struct kp_request *rq, kp_error *err);

/*
 * kp_forward_create_topic - ask the controller to create `name` with
 * `partitions` and `replication_factor` (-1: the controller's defaults),
 * answer ignored: auto topic creation (Kafka's AutoTopicCreationManager).
 */
void kp_forward_create_topic(struct kp_broker *b, const char *name, int32_t partitions,
			     int16_t replication_factor);

/*
 * kp_forward_respond_error - answer `rq` (one of the APIs above) with
 * `code` for every topic or resource it names, and free it
 * (forward_error.c); closes the connection when memory runs out.
 */
void kp_forward_respond_error(struct kp_request *rq, int16_t code);

/* kp_forward_conn_closed - `conn` closed: drop its forwarded requests unanswered. */
void kp_forward_conn_closed(struct kp_broker *b, kp_net_conn *conn);

/* kp_forward_free_all - free every forwarded request still held (the broker is going away). */
void kp_forward_free_all(struct kp_broker *b);

#endif
