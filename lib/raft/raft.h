/*
 * raft.h - KRaft's consensus (KIP-595) as a pure state machine.
 *
 * One kp_raft is one replica of one Raft log (the metadata partition
 * `__cluster_metadata-0`): a voter of the quorum or an observer (a broker
 * that only reads the log). It owns no socket, clock, thread or file:
 *
 *        messages in                     messages out
 *   kp_raft_receive(msg, now) --+   +--> ops->send(msg)
 *   kp_raft_tick(now) ----------+-->|    ops->append / truncate (the log)
 *   kp_raft_propose(data, now) -+   +--> ops->save_state (quorum-state)
 *                                   +--> ops->on_high_watermark (commits)
 *
 * Time is the caller's `now` in milliseconds, randomness comes from a PRNG
 * seeded by the caller, and the log and the quorum state are reached only
 * through `ops`, so that a deterministic simulator (tests/unit/
 * test_raft_sim.c) can replay any schedule of crashes, partitions, message
 * loss, duplication and reordering exactly, from its seed. A driver
 * (network and disk) turns messages into Kafka's Vote, BeginQuorumEpoch,
 * EndQuorumEpoch and Fetch requests on the real wire.
 *
 * What follows KIP-595, as Kafka's KafkaRaftClient does it:
 *   - states: unattached (possibly having voted), follower, candidate,
 *     leader, resigned; the epoch only grows and is persisted with the
 *     vote before any message that depends on it is sent;
 *   - a vote is granted at most once per epoch, only to a candidate whose
 *     log (last epoch, end offset) is at least as up to date as ours;
 *   - replication is pull-based: followers and observers Fetch with their
 *     fetch offset (their log end offset) and last fetched epoch; the
 *     leader answers a divergence with a diverging epoch (epoch, end
 *     offset) and the follower truncates to the largest common point;
 *   - a new leader appends a LeaderChange control entry; the high
 *     watermark is the largest offset a majority of voters have, and moves
 *     only once that includes an entry of the leader's own epoch;
 *   - a follower that has not fetched successfully for fetch_timeout_ms
 *     becomes a candidate; a candidate retries after a randomized election
 *     timeout; a leader that has not been fetched from by a majority for
 *     1.5 x fetch_timeout_ms resigns (check-quorum);
 *   - kp_raft_resign sends EndQuorumEpoch so that the others elect sooner;
 *   - with pre_vote, a voter whose timer expires first asks for pre-votes
 *     (KIP-996) without changing its epoch, and stands only when a
 *     majority would vote for it; a voter that fetched from a live leader
 *     within the fetch timeout refuses, so a replica cut off and back does
 *     not depose a working leader.
 *   - a replica whose fetch offset is below the leader's log start gets
 *     the leader's latest snapshot id and fetches it in chunks with
 *     FetchSnapshot, installs it, and fetches the log from its end
 *     (KIP-630).
 *   - the voter set is the newest VotersRecord in the log, else the
 *     static configuration; the leader changes it one voter at a time
 *     (KIP-853; voters are ids here, without KIP-853's directory ids).
 * Not thread-safe.
 */
#ifndef KP_RAFT_RAFT_H
#define KP_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define KP_RAFT_MAX_VOTERS 16
#define KP_RAFT_NO_ID (-1)

typedef struct kp_raft kp_raft;

enum kp_raft_role {
	KP_RAFT_UNATTACHED = 0, /* no leader known in this epoch (may have voted) */
	KP_RAFT_FOLLOWER,       /* knows the leader of this epoch and fetches from it */
	KP_RAFT_CANDIDATE,      /* asks for votes in this epoch */
	KP_RAFT_LEADER,
	KP_RAFT_RESIGNED,       /* was leader of this epoch, has stepped down */
	KP_RAFT_PROSPECTIVE,    /* asks for pre-votes before standing (KIP-996) */
};

/*
 * One log entry: a record batch of `count` offsets written in `epoch`.
 * On the wire and on disk an entry is one Kafka RecordBatch (v2) whose
 * baseOffset is `offset` and partitionLeaderEpoch is `epoch`; `data` is
 * those whole batch bytes when the entry came from a Fetch response or a
 * proposal, control entries read back or fetched included. Only the
 * entries the core makes itself have control set and data NULL: a new
 * leader's LeaderChange (n_voters 0), for which the log writes a
 * LeaderChangeMessage control batch, and a voter change (n_voters > 0,
 * KIP-853), for which it writes a VotersRecord control batch.
 */
struct kp_raft_entry {
	int64_t offset;      /* base offset */
	int32_t epoch;       /* leader epoch that wrote it */
	int32_t count;       /* offsets it covers, >= 1 */
	bool control;        /* a control entry (LeaderChange, VotersRecord) */
	const uint8_t *data; /* the batch's records; borrowed */
	size_t len;          /* bytes */
	const int32_t *voters; /* a VotersRecord made by the core: the new voter set */
	int n_voters;        /* (data NULL); 0 for every other entry */
};

/* What must survive a restart, written before anything depends on it
 * (Kafka's quorum-state file, QuorumStateData). */
struct kp_raft_quorum_state {
	int32_t epoch;
	int32_t leader_id; /* KP_RAFT_NO_ID when unknown */
	int32_t voted_id;  /* KP_RAFT_NO_ID when no vote was cast in `epoch` */
};

enum kp_raft_msg_type {
	KP_RAFT_VOTE_REQ = 1,
	KP_RAFT_VOTE_RESP,
	KP_RAFT_BEGIN_EPOCH_REQ,
	KP_RAFT_BEGIN_EPOCH_RESP,
	KP_RAFT_END_EPOCH_REQ,
	KP_RAFT_END_EPOCH_RESP,
	KP_RAFT_FETCH_REQ,
	KP_RAFT_FETCH_RESP,
	KP_RAFT_FETCH_SNAPSHOT_REQ,
	KP_RAFT_FETCH_SNAPSHOT_RESP,
};

/* A snapshot's id (KIP-630): it holds the state of every entry below end_offset,
 * the last of which was written in `epoch`. */
struct kp_raft_snapshot_id {
	int64_t end_offset;
	int32_t epoch;
};

/*
 * A message between replicas. `error` is a Kafka error code (0, or
 * FENCED_LEADER_EPOCH 74, NOT_LEADER_OR_FOLLOWER 6, INCONSISTENT_VOTER_SET
 * 94...). `epoch` and `leader_id` are the sender's current epoch and the
 * leader it knows (KP_RAFT_NO_ID if none): every message carries them so
 * the receiver can catch up, as Kafka's responses do.
 */
struct kp_raft_msg {
	enum kp_raft_msg_type type;
	int32_t from, to;   /* replica ids */
	uint64_t corr;      /* a request's id, echoed by its response (the driver maps it to
	                     * the wire's correlation id); a response whose corr is not the
	                     * request the core is waiting for is stale and ignored */
	int32_t epoch;      /* sender's epoch (for requests: the epoch they are for) */
	int32_t leader_id;  /* the leader the sender knows in `epoch` */
	int16_t error;
	union {
		struct {            /* VOTE_REQ (candidate = from) */
			int32_t last_epoch;
			int64_t end_offset;
			bool pre_vote;       /* KIP-996: would you vote for me in `epoch`? */
		} vote;
		struct {            /* VOTE_RESP */
			bool granted;
			bool pre_vote;       /* answers a pre-vote */
		} vote_resp;
		struct {            /* END_EPOCH_REQ: voters in order of preference */
			int32_t successors[KP_RAFT_MAX_VOTERS];
			int n_successors;
		} end_epoch;
		struct {            /* FETCH_REQ (replica = from) */
			int64_t fetch_offset;
			int32_t last_fetched_epoch;
		} fetch;
		struct {            /* FETCH_RESP */
			int64_t high_watermark;      /* -1 when unknown */
			int32_t diverging_epoch;     /* -1 unless the log diverges */
			int64_t diverging_end_offset;
			const struct kp_raft_entry *entries; /* borrowed until the call returns */
			size_t n_entries;
			/* end_offset -1 unless the fetch offset is below the log
			 * start: then fetch this snapshot instead (KIP-630) */
			struct kp_raft_snapshot_id snapshot;
		} fetch_resp;
		struct {            /* FETCH_SNAPSHOT_REQ */
			struct kp_raft_snapshot_id id;
			int64_t position;            /* bytes already received */
		} fetch_snapshot;
		struct {            /* FETCH_SNAPSHOT_RESP (error SNAPSHOT_NOT_FOUND 98: gone) */
			struct kp_raft_snapshot_id id;
			int64_t size;                /* the whole snapshot's bytes */
			int64_t position;            /* where `data` goes */
			const uint8_t *data;         /* borrowed until the call returns */
			size_t len;
		} fetch_snapshot_resp;
	} u;
};

/*
 * The caller's side: the log, the quorum-state store and the network.
 * Every callback gets `opaque`. Entries read by `read` stay valid until
 * the next call of append or truncate.
 *
 * end_offset / last_epoch: the log end offset (next offset to be written)
 *   and the epoch of the last entry (0 for an empty log).
 * end_offset_for_epoch: the largest epoch <= `epoch` present in the log,
 *   in *found (-1 if none), and the offset where it ends (the base of the
 *   first entry of a later epoch, or the log end offset), in *end (0 if
 *   none) - OffsetForLeaderEpoch's answer (KIP-101/KIP-279).
 * append: writes `n` entries at the log end offset, durably (the replica
 *   reports them as held as soon as append returns), setting each batch's
 *   baseOffset and partitionLeaderEpoch from the entry. Returns 0 or -1.
 * truncate: removes every entry whose offsets reach `offset` or beyond
 *   (a batch holding `offset` goes whole). Returns 0 or -1.
 * read: up to `max` entries from the one holding `offset`, into `out`;
 *   returns how many.
 * save_state: persists the quorum state durably. Returns 0 or -1.
 * send: takes `msg` to msg->to; may drop it (the core retries). Must not
 *   call back into the core.
 * on_high_watermark (may be NULL): the high watermark moved to `hw`: every
 *   entry below it is committed and may be applied.
 * on_role (may be NULL): role, epoch or leader changed.
 *
 * voters (may be NULL: the voter set is always cfg.voters): the voter set
 *   of the latest VotersRecord in the log, snapshot included, whether
 *   committed or not (KIP-853), into ids (room for KP_RAFT_MAX_VOTERS) and
 *   *n, and the offset of that record into *offset; false when the log
 *   holds none (then cfg.voters, the static controller.quorum.voters,
 *   apply). The log learns which entries are VotersRecords from an
 *   entry's voters (the core's own) or by reading the batch (fetched).
 *
 * Snapshots (KIP-630; all NULL: the log has no snapshots and starts at 0).
 * The owner takes snapshots of committed state itself and may then delete
 * the log below one; these let the core serve and fetch them:
 * log_start: the log start offset and the epoch of the snapshot ending
 *   there (0 and 0 when the log starts at 0). end_offset and last_epoch
 *   count that snapshot as the log's last entry when no entry follows it.
 * latest_snapshot: the newest snapshot's id; false when there is none.
 * snapshot_read: up to `max` bytes of snapshot `id` from `position` into
 *   `buf`, its whole size in *size; returns the bytes copied, or -1 when
 *   that snapshot is gone (a newer one replaced it).
 * snapshot_write: writes fetched bytes of `id` at `position` (0 starts a
 *   new partial snapshot). Returns 0 or -1.
 * snapshot_install: the partial snapshot `id`, now whole, becomes the
 *   latest; the log is emptied to start at id.end_offset (Kafka's
 *   truncateFullyAndStartAt) and the owner reloads its state from it.
 *   Returns 0 or -1.
 */
struct kp_raft_ops {
	int64_t (*end_offset)(void *opaque);
	int32_t (*last_epoch)(void *opaque);
	void (*end_offset_for_epoch)(void *opaque, int32_t epoch, int32_t *found, int64_t *end);
	int (*append)(void *opaque, const struct kp_raft_entry *entries, size_t n);
	int (*truncate)(void *opaque, int64_t offset);
	size_t (*read)(void *opaque, int64_t offset, struct kp_raft_entry *out, size_t max);
	int (*save_state)(void *opaque, const struct kp_raft_quorum_state *st);
	void (*send)(void *opaque, const struct kp_raft_msg *msg);
	void (*on_high_watermark)(void *opaque, int64_t hw);
	void (*on_role)(void *opaque, enum kp_raft_role role, int32_t epoch, int32_t leader_id);
	void (*log_start)(void *opaque, int64_t *offset, int32_t *epoch);
	bool (*latest_snapshot)(void *opaque, struct kp_raft_snapshot_id *id);
	bool (*voters)(void *opaque, int32_t *ids, int *n, int64_t *offset);
	long (*snapshot_read)(void *opaque, const struct kp_raft_snapshot_id *id, int64_t position,
			      uint8_t *buf, size_t max, int64_t *size);
	int (*snapshot_write)(void *opaque, const struct kp_raft_snapshot_id *id, int64_t position,
			      const uint8_t *data, size_t len);
	int (*snapshot_install)(void *opaque, const struct kp_raft_snapshot_id *id);
	void *opaque;
};

/* Timing, Kafka's controller.quorum.* settings (ms), and test knobs. */
struct kp_raft_config {
	int32_t node_id;
	int32_t voters[KP_RAFT_MAX_VOTERS]; /* controller.quorum.voters ids */
	int n_voters;                       /* 1..KP_RAFT_MAX_VOTERS; node_id absent: observer */
	int64_t election_timeout_ms;        /* controller.quorum.election.timeout.ms (1000) */
	int64_t fetch_timeout_ms;           /* controller.quorum.fetch.timeout.ms (2000) */
	int64_t election_backoff_max_ms;    /* controller.quorum.election.backoff.max.ms (1000) */
	int64_t request_timeout_ms;         /* controller.quorum.request.timeout.ms (2000) */
	int64_t retry_backoff_ms;           /* controller.quorum.retry.backoff.ms (20) */
	int64_t fetch_max_wait_ms;          /* how long a leader holds an empty fetch (500) */
	size_t fetch_max_entries;           /* entries per fetch response (64) */
	size_t snapshot_chunk_bytes;        /* bytes per FetchSnapshot response (262144) */
	uint64_t seed;                      /* PRNG seed for randomized timeouts */
	bool pre_vote;                      /* stand only after a majority of pre-votes (KIP-996;
	                                     * needs Vote v2 on the wire; default off) */
	/* Deliberately broken rules, for the simulator's own test only. */
	bool bug_double_vote;    /* grant a second vote in one epoch */
	bool bug_stale_vote;     /* grant votes without comparing logs */
	bool bug_early_commit;   /* advance the high watermark on entries of older epochs */
	bool bug_hasty_change;   /* change voters before the last change (or the epoch) commits */
};

/* kp_raft_config_init - fills `cfg` with Kafka's defaults for `node_id` and no voters. */
void kp_raft_config_init(struct kp_raft_config *cfg, int32_t node_id);

/*
 * kp_raft_new - a replica with `cfg` (copied) and `ops` (copied), resuming
 * from the persisted quorum state `st` (NULL: a fresh replica, epoch 0) at
 * time `now` (ms). It sends nothing until the first tick. Returns NULL
 * with `err` set (KP_EINVAL for a bad configuration, KP_ENOMEM).
 */
kp_raft *kp_raft_new(const struct kp_raft_config *cfg, const struct kp_raft_ops *ops,
		     const struct kp_raft_quorum_state *st, int64_t now, kp_error *err);

/* kp_raft_free - frees `r` (NULL is fine); sends nothing. */
void kp_raft_free(kp_raft *r);

/*
 * kp_raft_receive - handles `msg` (read only; its entries are copied into
 * the log if appended) at time `now`. Messages not addressed to this
 * replica or malformed are ignored. Every Vote, BeginQuorumEpoch and
 * EndQuorumEpoch request is answered (ops->send) before this returns; a
 * Fetch is answered at once or, on a leader with nothing new for it, held
 * until an append, a high watermark move or fetch_max_wait_ms (answered
 * from kp_raft_tick then), or dropped unanswered when the leader leaves
 * its role or a newer Fetch of the same replica replaces it. Returns 0, or
 * -1 with `err` when the log or state store failed (the replica should
 * then stop).
 */
int kp_raft_receive(kp_raft *r, const struct kp_raft_msg *msg, int64_t now, kp_error *err);

/*
 * kp_raft_tick - advances the timers to `now` (ms, never decreasing):
 * elections, fetches, retries, check-quorum. Returns 0 or -1 as receive.
 */
int kp_raft_tick(kp_raft *r, int64_t now, kp_error *err);

/* kp_raft_next_deadline - the earliest `now` at which a tick has work (ms). */
int64_t kp_raft_next_deadline(const kp_raft *r);

/*
 * kp_raft_propose - the leader appends one entry of `count` offsets holding
 * `data` (copied by ops->append) in its epoch. Returns its base offset, or
 * -1 with `err` (KP_EKAFKA NOT_LEADER_OR_FOLLOWER when not the leader,
 * the log's failure otherwise).
 */
int64_t kp_raft_propose(kp_raft *r, const uint8_t *data, size_t len, int32_t count,
			int64_t now, kp_error *err);

/*
 * kp_raft_add_voter / kp_raft_remove_voter - the leader changes the voter
 * set by one (KIP-853's AddRaftVoter / RemoveRaftVoter, one change at a
 * time, as the Raft dissertation's single-server changes): it appends a
 * VotersRecord entry, which takes effect at once (elections and the high
 * watermark use the newest set in the log) and is done when committed
 * (the high watermark passes the returned offset). The leader cannot
 * remove itself (resign first, and ask the next leader): a removed leader
 * whose log is the most up to date would stand in no set, and a voter set
 * of the others behind it could then elect no one. Replicas vote whatever
 * their own membership (the candidate counts only its voters). Returns the entry's offset, or -1
 * with `err`: KP_EKAFKA NOT_LEADER_OR_FOLLOWER (6); REQUEST_TIMED_OUT (7)
 * while the leader has not committed an entry of its epoch, another
 * change is not committed yet, or (add) `id` has not fetched up to the
 * high watermark within the fetch timeout; DUPLICATE_VOTER (126) or
 * VOTER_NOT_FOUND (127); INVALID_REQUEST (42) removing the last voter or
 * the leader; or the log's failure.
 */
int64_t kp_raft_add_voter(kp_raft *r, int32_t id, int64_t now, kp_error *err);
int64_t kp_raft_remove_voter(kp_raft *r, int32_t id, int64_t now, kp_error *err);

/* kp_raft_voters - the current voter set into ids (KP_RAFT_MAX_VOTERS); returns how many. */
int kp_raft_voters(const kp_raft *r, int32_t *ids);

/*
 * kp_raft_resign - a leader steps down (graceful shutdown): it sends
 * EndQuorumEpoch to the other voters and stops serving writes. A no-op
 * in any other role.
 */
void kp_raft_resign(kp_raft *r, int64_t now);

/* Accessors. high_watermark is -1 while unknown (after a restart). */
enum kp_raft_role kp_raft_role(const kp_raft *r);
int32_t kp_raft_epoch(const kp_raft *r);
int32_t kp_raft_leader(const kp_raft *r);
int32_t kp_raft_voted(const kp_raft *r);
int64_t kp_raft_high_watermark(const kp_raft *r);
bool kp_raft_is_voter(const kp_raft *r);

/* For DescribeQuorum on the leader: a voter's or observer's state. */
struct kp_raft_replica_state {
	int32_t id;
	int64_t log_end_offset;     /* last fetch offset reported, -1 if none */
	int64_t last_fetch_ms;      /* `now` of its last fetch, -1 if none (the caller's clock) */
	int64_t last_caught_up_ms;  /* last time it had fetched up to the leader's end, -1 */
};

/*
 * kp_raft_describe - on the leader, fills `out` (up to `max`) with the
 * voters' then the observers' states; returns how many there are (which
 * may exceed `max`), or 0 when not the leader. `*n_voters` gets how many
 * of them are voters.
 */
size_t kp_raft_describe(const kp_raft *r, struct kp_raft_replica_state *out, size_t max,
			size_t *n_voters);

/* kp_raft_role_name - "Unattached", "Follower", "Candidate", "Leader", "Resigned",
 * "Prospective". */
const char *kp_raft_role_name(enum kp_raft_role role);

#endif
