/*
 * controller.h - a KRaft controller process (Kafka's process.roles=
 * controller): one voter of the metadata quorum on one libevent loop.
 *
 *   kp_controller_new(config)  parse settings, format or check the data
 *                              dir, open the metadata log and quorum-state
 *   kp_controller_start(c)     listen on the controller listener(s)
 *   kp_controller_run(c)       serve until SIGINT/SIGTERM or a fatal error
 *   kp_controller_free(c)
 *
 * The Raft core (raft/raft.h) decides; this layer is its driver: the log
 * and quorum-state on disk (metadata_log.h, quorum_state.h), Vote,
 * BeginQuorumEpoch, EndQuorumEpoch and Fetch on the wire both ways
 * (outgoing over net/outconn.h, incoming over net/net.h), and a timer at
 * kp_raft_next_deadline. It also answers ApiVersions, DescribeQuorum and
 * DescribeCluster (KIP-919, so that Kafka's kafka-metadata-quorum
 * --bootstrap-controller works against it).
 */
#ifndef KP_CONTROLLER_CONTROLLER_H
#define KP_CONTROLLER_CONTROLLER_H

#include "controller/quorum_controller.h"
#include "controller/raft_node.h"
#include "util/config.h"
#include "util/error.h"

struct event_base;

typedef struct kp_controller kp_controller;

/*
 * kp_controller_new - a controller configured from `cfg` (borrowed; keys in
 * controller/config.c and man/kcontroller.1). Creates metadata.log.dir,
 * writes meta.properties on first start (cluster.id from the setting of
 * that name, or generated) or checks it, opens the metadata log and reads
 * quorum-state. Returns NULL with KP_EINVAL (bad setting, node.id not a
 * voter, node.id mismatch), KP_EIO, KP_ECORRUPT or KP_ENOMEM.
 */
kp_controller *kp_controller_new(const kp_config *cfg, kp_error *err);

/* kp_controller_start - bind the listeners. Returns 0 or -1 (KP_EIO: address in use). */
int kp_controller_start(kp_controller *c, kp_error *err);

/*
 * kp_controller_run - run the loop. SIGINT/SIGTERM stop it: a leader first
 * resigns (kp_raft_resign: EndQuorumEpoch to the others) and waits up to
 * a second for those to be answered. Returns 0 after a clean stop, -1
 * with the log's or state store's failure (the replica must not go on).
 */
int kp_controller_run(kp_controller *c, kp_error *err);

/*
 * kp_controller_new_embedded - the controller half of a kbroker in
 * combined mode (Kafka's process.roles=broker,controller): the same voter
 * and quorum controller as kcontroller, on the broker's loop `base`
 * (borrowed; no signals handled), configured from the broker's `cfg`
 * (borrowed; keys kcontroller does not know are the broker's, and only the
 * listeners named in controller.listener.names are the controller's).
 * The node's own broker is the quorum controller's local broker
 * (kp_qc_set_local_broker).
 * `also` (copied, may be NULL) is the broker's: told of every committed
 * record, commit, leadership change, snapshot and fatal error of the
 * shared Raft node after the quorum controller (its `image` is not
 * used). Call kp_controller_start to listen; the broker runs the loop.
 * Returns NULL with kp_controller_new's errors.
 */
kp_controller *kp_controller_new_embedded(struct event_base *base, const kp_config *cfg,
					  const struct kp_raft_node_callbacks *also, kp_error *err);

/*
 * kp_controller_adopt_topics - combined mode: the topics `t[0..n)` found
 * in the broker's log dirs go into the metadata log's bootstrap, on this
 * node (kp_qc_adopt_topics). Before kp_controller_start. Returns 0, or -1
 * with KP_ENOMEM.
 */
int kp_controller_adopt_topics(kp_controller *c, const struct kp_qc_adopted_topic *t, size_t n,
			       kp_error *err);

/* kp_controller_raft_node - the voter `c` runs (borrowed; freed with `c`). */
kp_raft_node *kp_controller_raft_node(kp_controller *c);

/*
 * kp_controller_stop_embedded - combined mode's stop: resign leadership
 * (EndQuorumEpoch), flush the metadata log and stop accepting; the broker
 * then frees `c` once its loop ends.
 */
void kp_controller_stop_embedded(kp_controller *c);

/* kp_controller_free - close everything and free `c` (NULL is fine). */
void kp_controller_free(kp_controller *c);

#endif
