/*
 * metadata_log.h - the Raft log `__cluster_metadata-0` on disk: our log
 * segments (log/log.h) in METADATA_LOG_DIR/__cluster_metadata-0, one
 * RecordBatch v2 per kp_raft_entry, with a leader-epoch cache rebuilt from
 * the batches' partitionLeaderEpoch on open (Kafka's KafkaMetadataLog over
 * UnifiedLog and LeaderEpochFileCache).
 *
 * The functions below are the log half of struct kp_raft_ops (raft/raft.h)
 * for a real process. Appends are fsynced before
 * they return, as KRaft requires (a voter reports what it appended).
 */
#ifndef KP_CONTROLLER_METADATA_LOG_H
#define KP_CONTROLLER_METADATA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "util/buf.h"
#include "util/error.h"

#define KP_METADATA_TOPIC "__cluster_metadata"

typedef struct kp_mlog kp_mlog;

/*
 * kp_mlog_open - open (creating) DIR/__cluster_metadata-0, recover it and
 * rebuild the epoch cache and the VotersRecord history by reading every
 * batch. `voters` (n of them) are written into the LeaderChangeMessage
 * control batches that this node, `node_id`, appends as a new leader
 * (entries with data NULL). `segment_bytes` is metadata.log.segment.bytes
 * (<= 0: the log's default, 1 GiB). The log starts at 0 until
 * kp_mlog_start_after says which snapshot it follows. Returns 0 and *out,
 * or -1 with KP_EIO / KP_ECORRUPT / KP_ENOMEM.
 */
int kp_mlog_open(const char *dir, int32_t node_id, const int32_t *voters, int n_voters,
		 int64_t segment_bytes, kp_mlog **out, kp_error *err);

/* kp_mlog_dir - DIR/__cluster_metadata-0 (owned by `l`): segments and snapshot files. */
const char *kp_mlog_dir(const kp_mlog *l);

/*
 * kp_mlog_start_after - the log now follows the snapshot (end_offset,
 * epoch) whose VotersRecord is `voters` (NULL: none): its log start offset
 * becomes end_offset, the segments wholly below it are deleted (Kafka's
 * deleteBeforeSnapshot: only whole segments go), or, when the log does
 * not reach end_offset, the log is emptied to start there
 * (truncateFullyAndStartAt). The raft core's log_start is end_offset from
 * then on. Nothing when end_offset is below the current start. Returns
 * how many segments were deleted, or -1 with KP_EIO.
 */
struct kp_voter_set;
int kp_mlog_start_after(kp_mlog *l, int64_t end_offset, int32_t epoch,
			const struct kp_voter_set *voters, kp_error *err);

/*
 * kp_mlog_reset_at - empty the log to start at the snapshot (end_offset,
 * epoch) just installed, with its VotersRecord `voters` (NULL: none)
 * (KafkaMetadataLog.truncateToLatestSnapshot). Returns 0 or -1 (KP_EIO).
 */
int kp_mlog_reset_at(kp_mlog *l, int64_t end_offset, int32_t epoch,
		     const struct kp_voter_set *voters, kp_error *err);

/* kp_mlog_segments_below - how many segments hold only offsets below `offset`. */
size_t kp_mlog_segments_below(const kp_mlog *l, int64_t offset);

/* kp_mlog_log_start_offset - the first offset readable in the log. */
int64_t kp_mlog_log_start_offset(const kp_mlog *l);

/*
 * kp_mlog_voter_set - the newest VotersRecord below offset `before` in
 * the log or the snapshot it follows (INT64_MAX: the newest of all) into
 * *out, its offset into *offset (the snapshot's: its end offset - 1);
 * false when there is none.
 */
bool kp_mlog_voter_set(const kp_mlog *l, int64_t before, struct kp_voter_set *out,
		       int64_t *offset);

/*
 * kp_mlog_set_endpoints - where the VotersRecords this node writes (core
 * entries with voters and data NULL) take each voter's endpoint from:
 * `known` (borrowed, kept up to date by the caller) and the listener
 * name. Voters not in `known` get no endpoint.
 */
void kp_mlog_set_endpoints(kp_mlog *l, const struct kp_voter_set *known, const char *listener);

/* kp_mlog_close - flush, close and free `l` (NULL is fine). */
void kp_mlog_close(kp_mlog *l);

/*
 * kp_mlog_set_granting - the voters that granted the current leader's
 * election (for the LeaderChangeMessage's GrantingVoters); copied.
 */
void kp_mlog_set_granting(kp_mlog *l, const int32_t *ids, int n);

/* kp_mlog_error - the last failure of append/truncate/read (the ops cannot return one). */
const kp_error *kp_mlog_error(const kp_mlog *l);

/*
 * The log's ops (opaque = the kp_mlog *); see struct kp_raft_ops for their
 * contracts. The core has one opaque for all its ops, so the controller
 * calls these from its own wrappers. append and truncate fsync before
 * returning and leave their failure in kp_mlog_error.
 */
int64_t kp_mlog_end_offset(void *opaque);
int32_t kp_mlog_last_epoch(void *opaque);
void kp_mlog_end_offset_for_epoch(void *opaque, int32_t epoch, int32_t *found, int64_t *end);
int kp_mlog_append(void *opaque, const struct kp_raft_entry *entries, size_t n);
int kp_mlog_truncate(void *opaque, int64_t offset);
size_t kp_mlog_read(void *opaque, int64_t offset, struct kp_raft_entry *out, size_t max);
/* ops->log_start: the snapshot the log follows, (0, 0) when none. */
void kp_mlog_log_start(void *opaque, int64_t *offset, int32_t *epoch);
/* ops->voters: the newest VotersRecord (kp_mlog_voter_set with INT64_MAX). */
bool kp_mlog_voters(void *opaque, int32_t *ids, int *n, int64_t *offset);

/*
 * kp_mlog_leader_change_batch - append to `out` a LeaderChangeMessage
 * control batch (control record key version 0 type 2, value the message
 * at version 0; Kafka's MemoryRecords.withLeaderChangeMessage) naming
 * `leader_id`, the voters and the granting voters, with `epoch` as its
 * partitionLeaderEpoch and base offset 0. Returns 0 or -1 (KP_ENOMEM).
 */
int kp_mlog_leader_change_batch(const kp_mlog *l, int32_t leader_id, int32_t epoch, kp_buf *out,
				kp_error *err);

#endif
