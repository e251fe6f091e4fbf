/*
 * qc_internal.h - what the quorum controller's files share, and its pure
 * parts (placement, elections, record generation: no clock, no I/O), which
 * tests/unit/test_quorum_controller.c calls directly. Not installed.
 *
 *   quorum_controller.c  lifecycle, the image, the write queue, the timer
 *   qc_serve.c           decoding requests, NOT_CONTROLLER, dispatch
 *   registration.c       BrokerRegistration (ClusterControlManager)
 *   fencing.c            BrokerHeartbeat, sessions, fencing, controlled
 *                        shutdown, leader election (ReplicationControlManager,
 *                        BrokerHeartbeatManager, PartitionChangeBuilder)
 *   placement.c          replica placement, round-robin and rack-aware
 *   topics_ctl.c         CreateTopics, DeleteTopics, CreatePartitions
 *   configs_ctl.c        IncrementalAlterConfigs, AlterConfigs
 *   alter_partition.c    AlterPartition (ReplicationControlManager.alterPartition)
 *   elect_leaders.c      ElectLeaders and the periodic leader rebalance
 *                        (ReplicationControlManager.electLeaders,
 *                        maybeBalancePartitionLeaders)
 */
#ifndef KP_CONTROLLER_QC_INTERNAL_H
#define KP_CONTROLLER_QC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/quorum_controller.h"
#include "controller/request.h"
#include "metadata/image.h"
#include "util/arena.h"

struct event;

/* ---- records being built ---------------------------------------------------- */

/* A batch of records under construction; messages live in `arena` (borrowed). */
struct kp_qc_recs {
	struct kp_metadata_record *v;
	size_t n, cap;
	kp_arena *arena;
};

/* kp_qc_recs_init - an empty list whose messages go to `arena`. */
void kp_qc_recs_init(struct kp_qc_recs *r, kp_arena *arena);
/* kp_qc_recs_free - free the list (not the arena's messages). */
void kp_qc_recs_free(struct kp_qc_recs *r);
/*
 * kp_qc_recs_add - a new default-initialized message of `type` at the
 * newest version we write, appended; returns it (in the arena) or NULL
 * when out of memory.
 */
void *kp_qc_recs_add(struct kp_qc_recs *r, int16_t type);

/* ---- placement (placement.c) ----------------------------------------------- */

/* A broker that can take replicas: registered, unfenced, not shutting down. */
struct kp_qc_usable_broker {
	int32_t id;
	const char *rack; /* NULL when broker.rack is not set */
};

/*
 * kp_qc_usable_brokers - the usable brokers of `img` in id order, into
 * `out` (malloc'd; free it); returns how many (0 also when out of memory).
 */
size_t kp_qc_usable_brokers(const kp_image *img, struct kp_qc_usable_broker **out);

/*
 * kp_qc_place - replicas for `partitions` new partitions of `rf` replicas
 * each among `brokers` (n of them), into out[p * rf + r]: the ZooKeeper-era
 * AdminUtils.assignReplicasToBrokers that KRaft's StripedReplicaPlacer
 * generalizes. Without racks: round-robin from `start` (the first
 * partition's leader index), each later replica shifted by a per-round
 * shift; with racks on every broker: brokers interleaved by rack and each
 * partition's replicas on distinct racks while racks remain. Deterministic
 * in `start`. `first_partition` is the index of the first new partition
 * (CreatePartitions continues the rotation). Returns 0, or -1 with
 * KP_EKAFKA INVALID_REPLICATION_FACTOR (rf < 1 or rf > n) or
 * KP_EINVAL (some brokers with a rack, some without).
 */
int kp_qc_place(const struct kp_qc_usable_broker *brokers, size_t n, int32_t partitions,
		int16_t rf, uint32_t start, int32_t first_partition, int32_t *out, kp_error *err);

/* ---- elections (fencing.c) ------------------------------------------------- */

/*
 * kp_qc_leader_and_isr_updates - Kafka's
 * ReplicationControlManager.generateLeaderAndIsrUpdates over every
 * partition of `img`: with `remove` (a broker being fenced or shutting
 * down; -1 for none), each partition whose ISR holds it loses it from the
 * ISR (never emptying the ISR: the last member stays, as without ELR) and
 * gets a new leader if it led; with `add` (a broker being unfenced; -1
 * for none), each leaderless partition elects a leader, `add` counting as
 * active. A leader is the first replica (in replica order) that is in the
 * new ISR and active (unfenced, not in controlled shutdown, not
 * `remove`); none: leader -1. Only when unclean.leader.election.enable
 * (the topic's config, else `unclean_default`) and no ISR member is
 * active, the first active replica leads and the ISR becomes just it
 * (leader recovery state RECOVERING). Appends one PartitionChangeRecord
 * per partition that changes to `out`. Returns 0 or -1 (KP_ENOMEM).
 */
int kp_qc_leader_and_isr_updates(const kp_image *img, int32_t remove, int32_t add,
				 bool unclean_default, struct kp_qc_recs *out, kp_error *err);

/*
 * kp_qc_unclean_allowed - unclean.leader.election.enable for topic `name`:
 * the topic's config, else the cluster's (broker resource ""), else `def`
 * (the controller's own setting), as Kafka's configurationControl does.
 */
bool kp_qc_unclean_allowed(const kp_image *img, const char *name, bool def);

/* kp_qc_broker_active - registered, unfenced and not in controlled shutdown. */
bool kp_qc_broker_active(const kp_image *img, int32_t id);

/*
 * kp_qc_broker_leads_movable - whether broker `id` leads a partition of `img`
 * that another active member of its ISR could lead: what a controlled
 * shutdown waits for (a partition with no one else in its ISR cannot move,
 * and waits for nobody: a single-node cluster stops at once).
 */
bool kp_qc_broker_leads_movable(const kp_image *img, int32_t id);

/*
 * kp_qc_fence_records - fencing broker `id` (registered in `img`): the
 * PartitionChangeRecords of kp_qc_leader_and_isr_updates(remove = id),
 * then a FenceBrokerRecord with its broker epoch (Kafka's
 * handleBrokerFenced). Returns 0 or -1 (KP_ENOMEM, KP_EINVAL: not
 * registered).
 */
int kp_qc_fence_records(const kp_image *img, int32_t id, bool unclean_default,
			struct kp_qc_recs *out, kp_error *err);

/* ---- topics (topics_ctl.c) --------------------------------------------------- */

/* One topic to create, as CreateTopics gives it (decoded request, borrowed). */
struct kp_qc_new_topic {
	const char *name;
	int32_t num_partitions;           /* -1: num.partitions */
	int16_t replication_factor;       /* -1: default.replication.factor */
	const int32_t *assignment;        /* explicit: partitions x rf broker ids, or NULL */
	int32_t assigned_partitions;      /* rows of `assignment` */
	int16_t assigned_rf;              /* columns of `assignment` */
	const char *const *config_names;  /* configs to set (values NULL: skipped) */
	const char *const *config_values;
	int32_t config_count;
};

/*
 * kp_qc_create_topic_records - validate `t` against `img` and `cfg` and
 * append its TopicRecord (id `topic_id`), PartitionRecords (leader the
 * first replica, ISR all replicas, epochs 0) and ConfigRecords to `out`
 * (ReplicationControlManager.createTopic). Placement starts at `start`.
 * The effective partitions and replication factor go to *partitions and
 * *rf. Returns 0, or -1 with KP_EKAFKA (INVALID_TOPIC_EXCEPTION,
 * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
 * INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG) and a message in `err`, or
 * KP_ENOMEM.
 */
int kp_qc_create_topic_records(const kp_image *img, const struct kp_qc_config *cfg,
			       const struct kp_qc_new_topic *t, const kp_uuid *topic_id,
			       uint32_t start, struct kp_qc_recs *out, int32_t *partitions,
			       int16_t *rf, kp_error *err);

/* kp_qc_topic_name_valid - Kafka's Topic.validate: 1..249 chars of [a-zA-Z0-9._-], not . or .. */
bool kp_qc_topic_name_valid(const char *name, const char **why);

/* ---- AlterPartition (alter_partition.c) ------------------------------------------ */

/*
 * kp_qc_alter_partition_records - ReplicationControlManager.alterPartition
 * (KIP-497; KIP-704 leader recovery; KIP-841 NewIsrWithEpochs from v3) of
 * the decoded `req` (borrowed) at request `version` against `img`. The
 * top-level error goes to *error: STALE_BROKER_EPOCH unless the requester
 * is registered with req->broker_epoch (ClusterControlManager
 * .checkBrokerEpoch; an empty request is answered without the check), and
 * then nothing else is done. Otherwise each partition's error, in request
 * order (topic by topic), goes to errors[] (room for every partition of
 * `req`), as validateAlterPartitionData decides, in this order: unknown
 * topic (by name before v2, by id from v2; zero id unknown)
 * UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID; unknown partition
 * UNKNOWN_TOPIC_OR_PARTITION; a leader or partition epoch above ours
 * NOT_CONTROLLER; a lower leader epoch FENCED_LEADER_EPOCH; the requester
 * not the leader INVALID_REQUEST; a lower partition epoch
 * INVALID_UPDATE_VERSION; an ISR with a negative id, a duplicate, a
 * non-replica or without the leader (so also an empty one)
 * INVALID_REQUEST; a leader recovery state other than 0/1, RECOVERING with
 * more than the leader in the ISR, or RECOVERED -> RECOVERING
 * INVALID_REQUEST; an ISR member (the leader too) not registered, fenced,
 * in controlled shutdown or (v3, epoch not -1) with another broker epoch
 * INELIGIBLE_REPLICA (OPERATION_NOT_ATTEMPTED before v2). Each valid
 * partition whose ISR (compared in order) or leader recovery state
 * changes gets a PartitionChangeRecord appended to `out` (ISR and/or
 * leader recovery state; the leader stays; before metadata.version
 * 3.6-IV0 an ISR shrink also sets the leader to itself, bumping the leader
 * epoch), logged at INFO. Returns 0, or -1 with KP_ENOMEM.
 */
int kp_qc_alter_partition_records(const kp_image *img, const struct kp_alter_partition_request *req,
				  int16_t version, int16_t *error, int16_t *errors,
				  struct kp_qc_recs *out, kp_error *err);

/*
 * kp_qc_alter_partition_response - the AlterPartitionResponse to `req`
 * (borrowed: topic names are shared with it) in `arena`: with `error`
 * (top-level) no topics (as AlterPartitionRequest.getErrorResponse);
 * otherwise each topic as the request named it and each partition with
 * errors[k] (from kp_qc_alter_partition_records) or, when none, its
 * leader, leader epoch, ISR, leader recovery state and partition epoch in
 * `img` (the committed image, the change applied). NULL when out of memory.
 */
struct kp_alter_partition_response *
kp_qc_alter_partition_response(const kp_image *img, const struct kp_alter_partition_request *req,
			       int16_t version, int16_t error, const int16_t *errors,
			       kp_arena *arena);

/* ---- ElectLeaders and leader rebalance (elect_leaders.c) ------------------------ */

/* ElectionType (KIP-460): the preferred replica, or any live replica of a leaderless partition. */
#define KP_QC_ELECTION_PREFERRED 0
#define KP_QC_ELECTION_UNCLEAN 1

/* At most this many leader changes per rebalance batch (MAX_ELECTIONS_PER_IMBALANCE). */
#define KP_QC_MAX_ELECTIONS_PER_IMBALANCE 1000

/*
 * kp_qc_elect_leaders_records - ReplicationControlManager.electLeaders of
 * the decoded `req` (borrowed; its topic names are shared with the
 * answer) against `img`: appends one PartitionChangeRecord (the new
 * leader; the image bumps the leader epoch) per partition whose leader
 * changes to `out`, each logged at INFO, and returns the answer in
 * `arena`, as it will be once the batch is committed. topic_partitions
 * null: every partition of every topic, leaving out those answered
 * ELECTION_NOT_NEEDED (every topic is listed, maybe with no partitions);
 * empty: an empty answer. Per partition: PREFERRED (0; v0 has no election
 * type) elects the first replica when it is in the ISR and active
 * (unfenced, not in controlled shutdown), ELECTION_NOT_NEEDED when it
 * already leads, PREFERRED_LEADER_NOT_AVAILABLE when neither it nor (for
 * a leaderless partition) another ISR member can lead; UNCLEAN (1) only
 * for a leaderless partition (else ELECTION_NOT_NEEDED): the first active
 * ISR member, else the first active replica with the ISR just it and
 * leader recovery state RECOVERING (whatever unclean.leader.election.enable
 * says), else ELIGIBLE_LEADERS_NOT_AVAILABLE; an unknown topic or
 * partition UNKNOWN_TOPIC_OR_PARTITION. Another election type:
 * kp_qc_elect_leaders_error_response(INVALID_REQUEST), no records. Each
 * error carries Kafka's message (NONE: null). Returns NULL with KP_ENOMEM.
 */
struct kp_elect_leaders_response *
kp_qc_elect_leaders_records(const kp_image *img, const struct kp_elect_leaders_request *req,
			    struct kp_qc_recs *out, kp_arena *arena, kp_error *err);

/*
 * kp_qc_elect_leaders_error_response - ElectLeadersRequest.getErrorResponse
 * in `arena`: top-level `code` (v1+) and, when `req` names partitions,
 * each with `code` and `message` (borrowed, may be NULL). NULL when out
 * of memory.
 */
struct kp_elect_leaders_response *
kp_qc_elect_leaders_error_response(const struct kp_elect_leaders_request *req, int16_t code,
				   const char *message, kp_arena *arena);

/*
 * kp_qc_balance_leaders_records - maybeBalancePartitionLeaders: for each
 * partition of `img` whose first replica is in the ISR and active but
 * does not lead, a PartitionChangeRecord making it the leader (logged at
 * INFO), at most `max` of them; *more is set when it stopped at `max`
 * (Kafka then checks again at once). leader.imbalance.per.broker.percentage
 * plays no part (KRaft never used it). Returns 0, or -1 with KP_ENOMEM.
 */
int kp_qc_balance_leaders_records(const kp_image *img, size_t max, struct kp_qc_recs *out,
				  bool *more, kp_error *err);

/* ---- the controller ---------------------------------------------------------- */

struct kp_qc_op;

/*
 * A write: `run` generates its records against the image (at dequeue
 * time, no other batch in flight) into op->recs and may answer at once;
 * `finish` answers once the batch is committed (base offset of the batch)
 * or failed (error, e.g. NOT_CONTROLLER: base -1). Both own nothing of
 * op, which the queue frees after finish.
 */
struct kp_qc_op {
	struct kp_qc_op *next;
	struct kp_quorum_controller *qc;
	struct kp_ctl_request *rq;  /* the request answered (NULL: an internal write) */
	kp_arena arena;             /* records and scratch */
	struct kp_qc_recs recs;
	int (*run)(struct kp_qc_op *op, kp_error *err);
	void (*finish)(struct kp_qc_op *op, int64_t base, int16_t error);
	void *state;                /* the handler's, in `arena` */
	bool answered;              /* rq was answered (by run): finish does nothing more */
};

/* A broker's session on the active controller (BrokerHeartbeatManager.BrokerHeartbeatState). */
struct kp_qc_session {
	int32_t id;
	int64_t last_contact_ms;   /* kp_mono_ms of the last heartbeat or registration */
	int64_t metadata_offset;   /* its last reported current_metadata_offset */
	bool fence_queued;         /* a session-expiry fence is queued */
};

struct kp_quorum_controller {
	struct kp_qc_config cfg;
	struct event_base *base;
	kp_raft_node *node;
	kp_image *img;
	bool active;                 /* leader, may propose */
	struct kp_qc_op *head, *tail; /* writes waiting */
	struct kp_qc_op *inflight;   /* proposed, not yet committed */
	int64_t inflight_base, inflight_end; /* the batch in flight: [base, end) */
	struct kp_qc_session *sessions;
	size_t n_sessions, cap_sessions;
	struct event *timer;         /* session expiry and queue retries */
	bool bootstrapped;           /* metadata.version in the image */
	struct kp_qc_adopted_topic *adopt; /* for the bootstrap (names owned) */
	size_t n_adopt;
	int32_t local_broker_id;     /* combined mode: the broker in this process, else -1 */
	int64_t balance_due_ms;      /* kp_mono_ms of the next leader imbalance check */
	bool balance_queued;         /* a leader rebalance write is queued or in flight */
};

/*
 * kp_qc_adopted_topic_records - append a TopicRecord for `t` and a
 * PartitionRecord for each of its partitions with `broker` as the only
 * replica, in the ISR and leader, epochs 0 (no registration needed: the
 * bootstrap writes them before any broker registers). Returns 0, or -1
 * with KP_ENOMEM.
 */
int kp_qc_adopted_topic_records(const struct kp_qc_adopted_topic *t, int32_t broker,
				struct kp_qc_recs *out, kp_error *err);

/*
 * kp_qc_submit - queue `op` (its run/finish set) and start it if nothing
 * is in flight. When not active, finish(op, -1, NOT_CONTROLLER) at once.
 */
void kp_qc_submit(struct kp_quorum_controller *qc, struct kp_qc_op *op);
/* kp_qc_op_new - an op for `rq` (may be NULL) with run/finish; NULL when out of memory. */
struct kp_qc_op *kp_qc_op_new(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			      int (*run)(struct kp_qc_op *, kp_error *),
			      void (*finish)(struct kp_qc_op *, int64_t, int16_t));
/*
 * kp_qc_submit_new - kp_qc_op_new for `rq` with run/finish, op->state
 * `state_size` zeroed bytes in the op's arena (never NULL, even for 0),
 * then kp_qc_submit. Returns 0, or -1 with KP_ENOMEM: nothing queued and
 * `rq` still the caller's.
 */
int kp_qc_submit_new(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
		     size_t state_size, int (*run)(struct kp_qc_op *, kp_error *),
		     void (*finish)(struct kp_qc_op *, int64_t, int16_t), kp_error *err);
/*
 * kp_qc_respond - answer op's request with `resp` (borrowed), or drop it
 * when its connection closed meanwhile; marks op answered.
 */
void kp_qc_respond(struct kp_qc_op *op, const void *resp);
/* kp_qc_session - the session of broker `id`, created (now) if absent; NULL when out of memory. */
struct kp_qc_session *kp_qc_session(struct kp_quorum_controller *qc, int32_t id);
/* kp_qc_check_sessions - fence (one op per broker) every unfenced broker whose session expired. */
void kp_qc_check_sessions(struct kp_quorum_controller *qc);
/*
 * kp_qc_maybe_balance_leaders - the active controller's timer: with
 * auto.leader.rebalance.enable, once qc->balance_due_ms has passed and no
 * rebalance is queued, queue one (kp_qc_balance_leaders_records); the next
 * is due leader.imbalance.check.interval.seconds later, or at the next
 * tick when the last one stopped at its bound (QuorumController's
 * maybeScheduleNextBalancePartitionLeaders). Out of memory: skipped.
 */
void kp_qc_maybe_balance_leaders(struct kp_quorum_controller *qc);

/* Request handlers (decoded rq; answer now or through an op). -1: close the connection. */
int kp_qc_broker_registration(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			      kp_error *err);
int kp_qc_broker_heartbeat(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			   kp_error *err);
int kp_qc_create_topics(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err);
int kp_qc_delete_topics(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err);
int kp_qc_create_partitions(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			    kp_error *err);
int kp_qc_incremental_alter_configs(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
				    kp_error *err);
int kp_qc_alter_configs(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err);
int kp_qc_alter_partition(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			  kp_error *err);
int kp_qc_elect_leaders(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err);
/* kp_qc_allocate_producer_ids - AllocateProducerIds (producer_ids.c). */
int kp_qc_allocate_producer_ids(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
				kp_error *err);

#endif
