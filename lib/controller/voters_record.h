/*
 * voters_record.h - KIP-853's VotersRecord control batches of the
 * metadata log and its snapshots: the voter set with each voter's
 * controller endpoint (Kafka's ControlRecordType.KRAFT_VOTERS, 6, with a
 * KRaftVersionRecord, type 5, before it in snapshots). Directory ids are
 * not used here (voters are ids; the field is written as zeros).
 */
#ifndef KP_CONTROLLER_VOTERS_RECORD_H
#define KP_CONTROLLER_VOTERS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "controller/raft_node.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/error.h"

#define KP_CONTROL_KRAFT_VERSION 5 /* ControlRecordType.KRAFT_VERSION */
#define KP_CONTROL_KRAFT_VOTERS 6  /* ControlRecordType.KRAFT_VOTERS */

/* A voter set with endpoints (port 0: endpoint unknown). */
struct kp_voter_set {
	struct kp_raft_node_voter v[KP_RAFT_MAX_VOTERS];
	int n;
};

/*
 * kp_control_batch - append to `out` one uncompressed control batch of `n`
 * records, record i of ControlRecordType types[i] (key version 0) with the
 * encoded value values[i] (borrowed), timestamped now, with base offset 0
 * and partitionLeaderEpoch `epoch`: how Kafka's MemoryRecords writes
 * LeaderChange, KRaftVersion and Voters batches. Returns 0, or -1 with
 * `err` set (KP_ENOMEM); `out` may then hold part of a batch past its
 * old length.
 */
int kp_control_batch(const int *types, const kp_buf *values, int n, int32_t epoch, kp_buf *out,
		     kp_error *err);

/*
 * kp_voters_record_batch - append to `out` one control batch holding a
 * VotersRecord (version 0) of `set`, each endpoint named `listener`,
 * with base offset 0 and partitionLeaderEpoch `epoch`; with
 * `kraft_version` a KRaftVersionRecord (kraft.version 1) record comes
 * first in the batch (as a snapshot's). Kafka's
 * MemoryRecords.withVotersRecord. Returns 0 or -1 (KP_ENOMEM, KP_EINVAL).
 */
int kp_voters_record_batch(const struct kp_voter_set *set, const char *listener, int32_t epoch,
			   bool kraft_version, kp_buf *out, kp_error *err);

/*
 * kp_voters_record_parse - whether the batch at `p` (`len` bytes, whole)
 * is a control batch holding a VotersRecord: then 1 with the voter set in
 * *out (endpoints: the first of each voter), else 0; -1 with KP_EPROTO
 * (or KP_ENOMEM) when such a record does not decode.
 */
int kp_voters_record_parse(const uint8_t *p, size_t len, struct kp_voter_set *out,
			   kp_error *err);

/* kp_voter_set_ids - the ids of `set` into ids (room for KP_RAFT_MAX_VOTERS); returns how many. */
int kp_voter_set_ids(const struct kp_voter_set *set, int32_t *ids);

#endif
