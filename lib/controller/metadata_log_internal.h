/*
 * metadata_log_internal.h - what the metadata log's files share
 * (metadata_log.c: open, append, truncate, read; metadata_log_start.c:
 * the snapshot the log starts after and the VotersRecords it holds). Not
 * installed.
 */
#ifndef KP_CONTROLLER_METADATA_LOG_INTERNAL_H
#define KP_CONTROLLER_METADATA_LOG_INTERNAL_H

#include "controller/metadata_log.h"
#include "controller/voters_record.h"
#include "log/log.h"

struct epoch_start {
	int32_t epoch;
	int64_t start;
};

/* A VotersRecord in the log: its offset and the set. */
struct voters_at {
	int64_t offset;
	struct kp_voter_set set;
};

struct kp_mlog {
	kp_log *log;
	char dir[4096];  /* DIR/__cluster_metadata-0: segments and snapshots */
	int32_t node_id; /* the leader of the control entries this node makes */
	struct epoch_start *epochs;
	size_t n_epochs, cap_epochs;
	int32_t voters[KP_RAFT_MAX_VOTERS];
	int n_voters;
	int32_t granting[KP_RAFT_MAX_VOTERS];
	int n_granting;
	/* the snapshot the log starts after (KIP-630): none while snap_end is 0 */
	int64_t snap_end;
	int32_t snap_epoch;
	struct kp_voter_set snap_voters; /* its VotersRecord (n 0: none) */
	struct voters_at *vrecs;         /* VotersRecords at or past snap_end, in order */
	size_t n_vrecs, cap_vrecs;
	const struct kp_voter_set *endpoints; /* borrowed: endpoints for new VotersRecords */
	char listener[64];
	kp_buf rbuf; /* what read's entries point into */
	kp_buf wbuf; /* one batch being appended */
	kp_error err;
};

/* kp_mlog__epoch_note - a batch of `epoch` starts at `start`: extend the cache if new. */
int kp_mlog__epoch_note(kp_mlog *l, int32_t epoch, int64_t start);

/*
 * kp_mlog__note_batch - the whole batch at p (len bytes) is at `offset`:
 * remember it if it is a VotersRecord. Returns 0 or -1 (KP_ENOMEM; a
 * VotersRecord that does not decode is skipped).
 */
int kp_mlog__note_batch(kp_mlog *l, int64_t offset, const uint8_t *p, size_t len);

/* kp_mlog__forget_from - drop the VotersRecords at or past `offset` (truncation). */
void kp_mlog__forget_from(kp_mlog *l, int64_t offset);

#endif
