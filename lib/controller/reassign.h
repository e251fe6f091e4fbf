/*
 * reassign.h - partition reassignment on the quorum controller (KIP-455):
 * AlterPartitionReassignments and ListPartitionReassignments (Kafka's
 * ReplicationControlManager.alterPartitionReassignments and
 * listPartitionReassignments), and the completion of a reassignment once
 * the ISR holds its target (PartitionChangeBuilder.completeReassignmentIfNeeded),
 * which alter_partition.c applies to every ISR change. Not installed.
 *
 * A reassignment of a partition from replicas C to target T is one
 * PartitionChangeRecord setting replicas = T then the members of C not in
 * T, adding = T - C and removing = C - T (sorted); brokers host what the
 * replicas name, so the added ones start fetching from the leader, which
 * adds them to the ISR through AlterPartition once caught up. When the ISR
 * (without the removing replicas) holds every replica of T, a second
 * record sets replicas = T, the ISR without the removed replicas, clears
 * adding and removing and, if the leader was removed, elects one from T;
 * the removed brokers then drop their copy.
 */
#ifndef KP_CONTROLLER_REASSIGN_H
#define KP_CONTROLLER_REASSIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "controller/qc_internal.h"

/*
 * kp_qc_reassigning - whether `p` has a reassignment in progress: adding or
 * removing replicas (PartitionReassignmentReplicas.isReassignmentInProgress).
 */
bool kp_qc_reassigning(const struct kp_image_partition *p);

/*
 * kp_qc_reassign_records - one partition of AlterPartitionReassignments
 * against `img` (ReplicationControlManager.alterPartitionReassignment):
 * partition `partition` of topic `topic` (borrowed) moves to the `n`
 * brokers of `target` (borrowed), or with `target` NULL the reassignment
 * in progress is cancelled (PartitionReassignmentRevert: back to the
 * replicas without the adding ones, the ISR without them; when that ISR
 * would be empty, only with unclean.leader.election.enable - the topic's,
 * else the cluster's, else `unclean_default` - the first remaining
 * replica alone). A start is changePartitionReassignment: the replicas
 * become target + current not in target, adding and removing are set
 * when not empty (else the ones in progress stay, as Kafka), and the
 * reassignment completes in the same record when the ISR already allows
 * (see kp_qc_reassign_complete). Without `allow_rf_change` (KIP-860,
 * AlterPartitionReassignments v1) a target whose size is not the replica
 * count the partition is heading for is refused. Appends at most one
 * PartitionChangeRecord to `out` (none when nothing changes), logged at
 * INFO. Returns 0, or -1 with KP_ENOMEM or KP_EKAFKA and a message in
 * `err`: UNKNOWN_TOPIC_OR_PARTITION (no such topic or partition),
 * INVALID_REPLICA_ASSIGNMENT (empty target, a duplicate, a broker not
 * registered; a cancel needing an unclean election that is not enabled),
 * INVALID_REPLICATION_FACTOR (KIP-860), NO_REASSIGNMENT_IN_PROGRESS (a
 * cancel with none).
 */
int kp_qc_reassign_records(const kp_image *img, const char *topic, int32_t partition,
			   const int32_t *target, int32_t n, bool allow_rf_change,
			   bool unclean_default, struct kp_qc_recs *out, kp_error *err);

/*
 * kp_qc_reassign_complete - the last steps of PartitionChangeBuilder.build
 * for `r`, a PartitionChangeRecord being built for partition `p` of `img`
 * (a list r leaves null keeps p's; r is changed in place, its new lists
 * in `arena`): completeReassignmentIfNeeded (a reassignment in progress
 * whose target ISR, without the removing replicas, is not empty and
 * holds every replica but the removing ones completes: replicas and ISR
 * lose the removing replicas, adding and removing become empty); then the
 * election (the current leader stays if in the target ISR and active,
 * else the first replica that is; none: no leader, -1); then a leader
 * epoch bump (leader set to the current one) when replicas are dropped
 * (triggerLeaderEpochBumpForReplicaReassignmentIfNeeded); lists equal to
 * p's are left null. *completed (may be NULL) tells whether it completed.
 * Returns 0, or -1 with KP_ENOMEM.
 */
int kp_qc_reassign_complete(const kp_image *img, const struct kp_image_partition *p,
			    struct kp_partition_change_record *r, kp_arena *arena, bool *completed,
			    kp_error *err);

/*
 * kp_qc_list_reassignments - the ListPartitionReassignmentsResponse to
 * `req` (borrowed; topic names are shared with it) from `img`, in `arena`
 * (ReplicationControlManager.listPartitionReassignments): every partition
 * with a reassignment in progress (topics NULL: all of them, by topic
 * name then partition; else the named partitions that have one, unknown
 * ones skipped) with its replicas, adding and removing replicas; topics
 * with none are left out. NULL when out of memory.
 */
struct kp_list_partition_reassignments_response *
kp_qc_list_reassignments(const kp_image *img,
			 const struct kp_list_partition_reassignments_request *req, kp_arena *arena);

/*
 * Request handlers (qc_serve.c's table): AlterPartitionReassignments
 * (key 45) writes its records in one batch and answers once committed,
 * each partition with its error and message; ListPartitionReassignments
 * (key 46) answers at once from the image. Return 0, or -1 (KP_ENOMEM):
 * close the connection.
 */
int kp_qc_alter_partition_reassignments(struct kp_quorum_controller *qc,
					struct kp_ctl_request *rq, kp_error *err);
int kp_qc_list_partition_reassignments(struct kp_quorum_controller *qc,
				       struct kp_ctl_request *rq, kp_error *err);

#endif
