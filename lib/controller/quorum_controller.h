/*
 * quorum_controller.h - the active controller's state machine (Kafka's
 * QuorumController with its ClusterControlManager,
 * ReplicationControlManager, ConfigurationControlManager and
 * FeatureControlManager) on top of a Raft voter (raft_node.h).
 *
 * Every voter feeds the committed records it gets from its node
 * (kp_qc_on_record) into a kp_image, so whichever voter becomes leader
 * has the image at once. The leader serves the controller APIs:
 *
 *   BrokerRegistration, BrokerHeartbeat        (registration.c, fencing.c)
 *   CreateTopics, DeleteTopics, CreatePartitions (topics_ctl.c, placement.c)
 *   IncrementalAlterConfigs, AlterConfigs      (configs_ctl.c)
 *   AlterPartition, ElectLeaders               (alter_partition.c, elect_leaders.c)
 *
 * Each write becomes one batch of records (kp_raft_node_propose) and is
 * answered once the batch is committed; one batch is in flight at a
 * time, later requests wait in a queue. A voter that is not the leader
 * answers NOT_CONTROLLER. On first leadership of an empty log the leader
 * writes the bootstrap FeatureLevelRecord (metadata.version). With
 * auto.leader.rebalance.enable the leader moves leadership back to each
 * partition's preferred replica every leader.imbalance.check.interval.seconds.
 */
#ifndef KP_CONTROLLER_QUORUM_CONTROLLER_H
#define KP_CONTROLLER_QUORUM_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/raft_node.h"
#include "metadata/image.h"
#include "net/net.h"
#include "util/config.h"
#include "util/error.h"

struct event_base;

/*
 * The bootstrap metadata.version: the feature level of
 * MetadataVersion.LATEST_PRODUCTION of Kafka 4.4 (the tests' pinned
 * peer), IBP_4_4_IV2.
 */
#define KP_QC_METADATA_VERSION 33

/* Settings with Kafka's names and defaults. */
struct kp_qc_config {
	int32_t num_partitions;              /* num.partitions (1) */
	int16_t default_replication_factor;  /* default.replication.factor (1) */
	int64_t broker_session_timeout_ms;   /* broker.session.timeout.ms (9000) */
	int64_t broker_heartbeat_interval_ms; /* broker.heartbeat.interval.ms (2000) */
	bool unclean_leader_election;        /* unclean.leader.election.enable (false) */
	bool auto_leader_rebalance;          /* auto.leader.rebalance.enable (true) */
	int64_t leader_imbalance_check_interval_s; /* leader.imbalance.check.interval.seconds (300) */
};

typedef struct kp_quorum_controller kp_quorum_controller;

/*
 * kp_qc_config_parse - `out` from Kafka's keys in `c` (borrowed), with the
 * defaults above. Returns 0 or -1 with KP_EINVAL naming the key.
 */
int kp_qc_config_parse(const kp_config *c, struct kp_qc_config *out, kp_error *err);

/*
 * kp_qc_new - a quorum controller on `base` (borrowed) with `cfg`
 * (copied) and an empty image; it does nothing until kp_qc_attach.
 * Returns NULL with KP_ENOMEM.
 */
kp_quorum_controller *kp_qc_new(struct event_base *base, const struct kp_qc_config *cfg,
				kp_error *err);

/*
 * kp_qc_attach - the Raft node (borrowed; a voter) whose committed
 * records the controller applies and to which the leader proposes. The
 * node's owner forwards the node's callbacks to kp_qc_on_record,
 * kp_qc_on_committed and kp_qc_on_leader.
 */
void kp_qc_attach(kp_quorum_controller *qc, kp_raft_node *node);

/*
 * kp_qc_on_record - a committed record (raft_node.h's on_record): applied
 * to the image (QuorumController's replay); a record the image refuses is
 * logged at ERROR and skipped.
 */
void kp_qc_on_record(kp_quorum_controller *qc, const struct kp_metadata_record *rec,
		     int64_t offset, int32_t epoch);

/*
 * kp_qc_on_snapshot - the node loads snapshot (end_offset, epoch)
 * (raft_node.h's on_snapshot): the image starts over empty; the
 * snapshot's records follow through kp_qc_on_record (QuorumController's
 * handleLoadSnapshot). Returns nothing; out of memory keeps the old image
 * (logged).
 */
void kp_qc_on_snapshot(kp_quorum_controller *qc, int64_t end_offset, int32_t epoch);

/* kp_qc_on_committed - records below `high_watermark` are applied: answer the batch in flight. */
void kp_qc_on_committed(kp_quorum_controller *qc, int64_t high_watermark);

/*
 * kp_qc_on_leader - leadership changed: becoming leader (leader_id this
 * node) starts the session timers of every registered broker and writes
 * the bootstrap records on an empty log (QuorumController's
 * QuorumMetaLogListener.handleLeaderChange); losing it answers queued
 * requests NOT_CONTROLLER.
 */
void kp_qc_on_leader(kp_quorum_controller *qc, int32_t epoch, int32_t leader_id);

/* kp_qc_free - drop queued requests unanswered and free `qc` (NULL is fine). */
void kp_qc_free(kp_quorum_controller *qc);

/*
 * kp_qc_handle - offer a request frame (as kp_raft_node_handle): 1 when it
 * is a controller API (the frame is taken and the answer comes through
 * kp_net_conn_reply, now or once its batch commits), 0 when it is not
 * (the frame stays the caller's), -1 with `err` for a frame of a
 * controller API that cannot be decoded (the frame is freed).
 */
int kp_qc_handle(kp_quorum_controller *qc, kp_net_conn *conn, uint8_t *frame, size_t len,
		 kp_error *err);

/* kp_qc_conn_closed - forget the requests of `conn` (owner's on_close). */
void kp_qc_conn_closed(kp_quorum_controller *qc, kp_net_conn *conn);

/* kp_qc_api_range - the versions of `api_key` kp_qc_handle serves; false if none. */
bool kp_qc_api_range(int16_t api_key, int16_t *min, int16_t *max);

/* A topic found in a log dir, to be written into a new metadata log (kp_qc_adopt_topics). */
struct kp_qc_adopted_topic {
	const char *name;   /* borrowed */
	kp_uuid id;         /* its partition.metadata topic id */
	int32_t partitions; /* 0..partitions-1, each a replica of the adopting broker */
};

/*
 * kp_qc_set_local_broker - combined mode: `broker_id` is the broker in
 * the controller's own process. A registration of it with a new
 * incarnation id replaces the old one at once (the process restarted;
 * Kafka would wait for the old session to expire), and adopted topics
 * (kp_qc_adopt_topics) are placed on it.
 */
void kp_qc_set_local_broker(kp_quorum_controller *qc, int32_t broker_id);

/*
 * kp_qc_adopt_topics - topics `t[0..n)` (copied) that the bootstrap of a
 * new metadata log writes too, with the same ids, each partition on the
 * local broker alone (replica, ISR and leader): how a single node's
 * log dirs from before it had a metadata log become a cluster's topics.
 * Ignored when the log already has metadata.version. Call before the
 * quorum elects `qc`'s node. Ours, not Kafka's (kafka-storage format
 * starts a cluster empty). Returns 0, or -1 with KP_ENOMEM.
 */
int kp_qc_adopt_topics(kp_quorum_controller *qc, const struct kp_qc_adopted_topic *t, size_t n,
		       kp_error *err);

/* kp_qc_image - the image of every committed record applied so far (owned by `qc`). */
const kp_image *kp_qc_image(const kp_quorum_controller *qc);

#endif
