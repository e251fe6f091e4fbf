/*
 * internal.h - what kcontroller's files share (controller.c: lifecycle;
 * serve.c: the listener's frames; config.c: settings). Not installed.
 *
 * kcontroller = a listener (net/net.h) + a Raft voter (raft_node.h) + the
 * quorum controller (quorum_controller.h). A frame goes to the Raft node
 * first, then to the quorum controller, then to the APIs served here
 * (ApiVersions, DescribeCluster).
 */
#ifndef KP_CONTROLLER_INTERNAL_H
#define KP_CONTROLLER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "controller/controller.h"
#include "controller/quorum_controller.h"
#include "controller/raft_node.h"
#include "controller/request.h"
#include "net/net.h"

struct event_base;
struct event;

#define KP_CTL_MAX_LISTENERS 8

/* A listener: NAME://HOST:PORT. */
struct kp_ctl_endpoint {
	char name[64];
	char host[256];
	int port;
};

struct kp_controller_config {
	struct kp_raft_node_config raft;             /* node.id, voters, dir, quorum timings */
	struct kp_ctl_endpoint listeners[KP_CTL_MAX_LISTENERS];
	int n_listeners;                             /* listeners */
	int64_t socket_request_max_bytes, connections_max_idle_ms;
	struct kp_qc_config qc;                      /* the quorum controller's settings */
};

/*
 * kp_controller_config_parse - `out` from `c` with Kafka's defaults;
 * node.id may be an observer (not a voter). `embedded` (kbroker's combined
 * mode): the keys it does not know are the broker's (no warnings) and only
 * the listeners named in controller.listener.names are the controller's.
 * -1 with KP_EINVAL naming the key.
 */
int kp_controller_config_parse(const kp_config *c, bool embedded,
			       struct kp_controller_config *out, kp_error *err);

struct kp_controller {
	struct kp_controller_config cfg;
	struct event_base *base;
	kp_net *net;
	kp_raft_node *node;
	kp_quorum_controller *qc;
	struct event *sigint, *sigterm, *stop_timer;
	int64_t stop_deadline; /* kp_mono_ms when a resigning leader stops waiting */
	bool stopping, failed;
	kp_error fatal;
	bool embedded;         /* in kbroker (combined mode): `base` is the broker's */
	struct kp_raft_node_callbacks also; /* the embedding broker's (combined mode) */
};

/* serve.c: the listener's callbacks. */
int kp_ctl_on_frame(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err);
void kp_ctl_on_close(kp_net_conn *conn, void *opaque);

#endif
