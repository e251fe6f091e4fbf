/*
 * cluster.h - kbroker as a member of a KRaft cluster (Kafka's BrokerServer
 * with process.roles=broker): what the broker holds when it is given
 * controller.quorum.voters. Not installed.
 *
 *   raft      a Raft observer of __cluster_metadata-0 (controller/raft_node.h)
 *             in metadata.log.dir; every committed record goes to `image`
 *   image     the metadata image (metadata/image.h): the only place this
 *             broker learns which topics, partitions, brokers and configs exist
 *   publish   after each run of committed records (and first once the
 *             records up to the high watermark seen at start are applied,
 *             as Kafka's MetadataLoader waits to catch up), the broker's
 *             topic registry follows the image (image_sync.c)
 *   channel   requests to the active controller (controller_channel.h)
 *   lifecycle registration and heartbeats (lifecycle.h)
 *
 * Start-up follows Kafka's BrokerServer.startup: the listeners open once
 * the controller has said the broker caught up and the image has been
 * published; then the broker stops asking to be fenced. SIGTERM first
 * runs a controlled shutdown (bounded by broker.session.timeout.ms).
 *
 * Combined mode (process.roles=broker,controller): the raft node is the
 * voter of a controller embedded in this process (controller.h's
 * kp_controller_new_embedded, listening on the controller listener), and
 * the broker registers with it over that listener like any other broker:
 * only who owns the node changes.
 */
#ifndef KP_BROKER_CLUSTER_H
#define KP_BROKER_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/controller_channel.h"
#include "broker/lifecycle.h"
#include "metadata/image.h"
#include "util/config.h"
#include "util/error.h"

struct kp_broker;
struct kp_request;
struct kp_topic;
struct kp_raft_node;
struct kp_forward;
struct kp_controller;
struct kp_producer_ids;
struct event;

struct kp_broker_cluster {
	struct kp_broker *b;
	struct kp_raft_node *raft;
	struct kp_controller *controller; /* combined mode: the embedded one (owns `raft`) */
	kp_image *image;
	kp_controller_channel *channel;
	kp_lifecycle *lifecycle;
	bool dirty;           /* records were applied since the last publish */
	bool published;       /* the first publish happened (initial catch-up) */
	bool listening;       /* the client listeners are open */
	bool stopping;        /* SIGTERM: controlled shutdown under way */
	struct event *shutdown_timer; /* bounds the controlled shutdown */
	struct event *publish_more;   /* the next pass of a publish with more logs to open (image_sync.c) */
	struct kp_forward *forwards;  /* requests forwarded to the controller (forward.c) */
	struct kp_producer_ids *producer_ids; /* blocks of producer ids (producer_ids.h) */
};

/*
 * kp_broker_cluster_new - the cluster half of `b` (b->cfg.quorum set, b->base
 * made): the image, the Raft observer (its log in metadata.log.dir) or, in
 * combined mode, the embedded controller configured from `cfg` (borrowed)
 * and its voter, the controller channel and the lifecycle manager;
 * nothing is sent before kp_broker_cluster_start. Sets b->cluster.
 * Returns 0, or -1 with the raft node's or controller's errors (KP_EIO,
 * KP_ECORRUPT, KP_EINVAL) or KP_ENOMEM.
 */
int kp_broker_cluster_new(struct kp_broker *b, const kp_config *cfg, kp_error *err);

/*
 * kp_broker_cluster_start - in combined mode open the embedded controller's
 * listener; register with the controller (the client listeners open
 * later). Returns 0, or -1 (KP_EIO: the controller listener's address is
 * in use).
 */
int kp_broker_cluster_start(struct kp_broker *b, kp_error *err);

/*
 * kp_broker_cluster_begin_shutdown - SIGTERM: a controlled shutdown, then
 * kp_broker_stop's clean stop (at once when not RUNNING). Returns true
 * when it took over the stop, false when the caller should stop now (a
 * second signal, or no memory for the timer).
 */
bool kp_broker_cluster_begin_shutdown(struct kp_broker *b);

/* kp_broker_cluster_free - free the cluster half of `b` (NULL b->cluster is fine). */
void kp_broker_cluster_free(struct kp_broker *b);

/*
 * kp_broker_cluster_publish - make the topic registry follow the image (image_sync.c):
 * add topics and partitions, update each partition's leader, epochs,
 * replicas and ISR, open the logs of the partitions this broker is a
 * replica of, delete the topics (and their logs) gone from the image;
 * then the replication throttles (kp_replica_throttles_sync) and the
 * fetchers follow. Failures are logged (a partition whose log cannot open
 * stays offline). Once the broker serves, a pass opens a bounded number of
 * new logs and schedules the next pass for the rest.
 */
void kp_broker_cluster_publish(struct kp_broker *b);

/*
 * kp_broker_cluster_controller_id - the controller id Metadata and DescribeCluster
 * show clients: as Kafka's KRaft brokers do (KafkaApis: a random alive
 * broker), a live broker, which forwards admin requests (KIP-590): this
 * broker when unfenced, else the lowest live id, -1 for none.
 */
int32_t kp_broker_cluster_controller_id(const struct kp_broker *b);

/* kp_broker_cluster_broker_alive - whether broker `id` is registered and unfenced in the image. */
bool kp_broker_cluster_broker_alive(const struct kp_broker *b, int32_t id);

/* kp_broker_cluster_put_fn - fill response element `elem` from image broker `ib`, endpoint `ep`. */
typedef void kp_broker_cluster_put_fn(void *elem, const struct kp_image_broker *ib,
				      const struct kp_image_endpoint *ep);

/*
 * kp_broker_cluster_list_brokers - the brokers Metadata and DescribeCluster
 * show rq's client (KRaftMetadataCache's alive brokers): registered,
 * unfenced and with an endpoint for the listener rq came in on, by
 * increasing id. An array of them, `size` bytes each, in rq's arena goes
 * to *out (`put` fills each element; the strings stay the image's) and
 * their number to *count. Returns 0, or -1 when memory runs out.
 */
int kp_broker_cluster_list_brokers(struct kp_request *rq, size_t size,
				   kp_broker_cluster_put_fn *put, void **out, int32_t *count);

/*
 * kp_broker_cluster_coordinator - the broker coordinating `group_id` for
 * rq's client (group_cluster.c): the leader of the group's
 * __consumer_offsets partition, with its endpoint for rq's listener in
 * *node, *host (the image's) and *port. Returns KP_ERR_NONE, or
 * COORDINATOR_NOT_AVAILABLE (no live leader yet; the topic is asked of
 * the controller when missing).
 */
int16_t kp_broker_cluster_coordinator(struct kp_request *rq, const char *group_id,
				      int32_t *node, const char **host, int32_t *port);

/*
 * kp_broker_cluster_group_leadership - partition `partition` of `t` went
 * from led here (`was_leader`) to `is_leader`: for __consumer_offsets,
 * load or unload that partition's groups (Kafka's onElection /
 * onResignation). Other topics: nothing.
 */
void kp_broker_cluster_group_leadership(struct kp_broker *b, const struct kp_topic *t,
					int32_t partition, bool was_leader, bool is_leader);

#endif
