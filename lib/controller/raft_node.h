/*
 * raft_node.h - one replica of the KRaft metadata log, embeddable: a
 * voter (kcontroller; later kbroker's combined mode) or an observer (a
 * broker: node.id not in controller.quorum.voters) of
 * `__cluster_metadata-0`, running on the owner's libevent loop. Kafka's
 * KafkaRaftClient with its KafkaNetworkChannel and RaftManager.
 *
 *   owner's listener --frame--> kp_raft_node_handle   (Vote, Begin/EndQuorumEpoch,
 *                                                      Fetch on the metadata topic,
 *                                                      DescribeQuorum)
 *   kp_raft_node --outconn--> the voters              (its own outgoing requests)
 *   committed records -------> cb.on_record           (each once, in log order)
 *   kp_raft_node_propose ----> one batch in the log   (leader only)
 *
 * The node owns the Raft core (raft/raft.h), the metadata log in
 * LOG_DIR/__cluster_metadata-0 (metadata_log.h), LOG_DIR/quorum-state
 * (quorum_state.h), one outgoing connection per voter and RPC kind, and a
 * timer; it owns no listener, no signal handler and not meta.properties
 * (the owner checks the cluster id and passes it in). An observer finds
 * the leader by fetching from any voter (the core's rule).
 *
 * Everything runs on the loop's thread. Callbacks are called from the
 * loop only, never from within a kp_raft_node_* function (even on a
 * single-voter quorum, where a proposal commits at once, its records
 * come from the loop after kp_raft_node_propose returned), and never
 * re-entered; they may call any kp_raft_node_* function but free.
 */
#ifndef KP_CONTROLLER_RAFT_NODE_H
#define KP_CONTROLLER_RAFT_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metadata/record.h"
#include "net/net.h"
#include "raft/raft.h"
#include "util/config.h"
#include "util/error.h"

struct event_base;
struct kp_image;

typedef struct kp_raft_node kp_raft_node;

/* One voter of controller.quorum.voters: ID@HOST:PORT. */
struct kp_raft_node_voter {
	int32_t id;
	char host[256];
	int port;
};

/* What a node is: kp_raft_node_config_init's defaults are Kafka's (ms). */
struct kp_raft_node_config {
	int32_t node_id;                                        /* node.id */
	struct kp_raft_node_voter voters[KP_RAFT_MAX_VOTERS];   /* controller.quorum.voters */
	int n_voters;                                           /* 1..KP_RAFT_MAX_VOTERS */
	char listener_name[64];     /* first of controller.listener.names ("CONTROLLER"),
	                             * the name a leader advertises in BeginQuorumEpoch */
	char log_dir[4096];         /* metadata.log.dir: holds __cluster_metadata-0 and
	                             * quorum-state; created if missing */
	char cluster_id[64];        /* sent in requests and checked in received ones;
	                             * "" checks nothing (tests) */
	int64_t election_timeout_ms;     /* controller.quorum.election.timeout.ms (1000) */
	int64_t fetch_timeout_ms;        /* controller.quorum.fetch.timeout.ms (2000) */
	int64_t election_backoff_max_ms; /* controller.quorum.election.backoff.max.ms (1000) */
	int64_t request_timeout_ms;      /* controller.quorum.request.timeout.ms (2000) */
	int64_t retry_backoff_ms;        /* controller.quorum.retry.backoff.ms (20) */
	int64_t snapshot_max_bytes;      /* metadata.log.max.record.bytes.between.snapshots
	                                  * (20971520): committed batch bytes between snapshots */
	int64_t snapshot_interval_ms;    /* metadata.log.max.snapshot.interval.ms (3600000; 0: never
	                                  * by time) */
	int64_t segment_bytes;           /* metadata.log.segment.bytes (1073741824) */
	bool pre_vote;                   /* stand only after pre-votes (KIP-996). Needs Vote v2 on
	                                  * the wire, which our codec lacks yet: default off */
	struct kp_raft_node_voter self;  /* this node's controller endpoint (port 0: unknown), for
	                                  * a node not in controller.quorum.voters that may become
	                                  * a voter (KIP-853) */
};

/*
 * The owner's callbacks (zero-initialize the struct: members may be
 * added, NULL ones are skipped). All get `opaque`.
 *
 * on_record: one committed metadata record (not control records), exactly
 *   once per process lifetime and in log order, with the record's own
 *   offset (the batch's base offset + its index in the batch: a
 *   RegisterBrokerRecord's offset is the broker epoch) and the batch's
 *   leader epoch. `rec` and what it points to are valid during the call
 *   only. After a restart every record of the log is delivered again from
 *   the log start as soon as the node learns the high watermark. Records
 *   the node cannot decode are skipped (logged at ERROR).
 * on_committed: every record below `high_watermark` has been delivered
 *   (called after each run of on_record calls, and when the high
 *   watermark moves past control records); a proposal whose base offset +
 *   count <= high_watermark is committed.
 * on_leader: the leader or epoch changed; leader_id -1 while unknown (an
 *   election). Called with this node's id when it became leader, once its
 *   LeaderChange entry is committed and every record before it delivered
 *   through on_record (Kafka's handleLeaderChange after the committed
 *   offset caught up): it may propose at once.
 * on_fatal: the metadata log or quorum-state could not be written; the
 *   node stops doing anything and the owner must exit (Kafka halts). `err`
 *   says why.
 * on_snapshot (KIP-630; Kafka's RaftClient.Listener.handleLoadSnapshot):
 *   the owner must drop its state: the records of the snapshot
 *   (end_offset, epoch) follow through on_record, each with offset
 *   end_offset - 1, then the log's records after it. Called at start when
 *   the metadata log dir holds a snapshot, and whenever one is fetched from
 *   the leader (FetchSnapshot) because this replica fell behind its log
 *   start. NULL: the records are delivered all the same (right for an
 *   owner whose state is still empty).
 * image: the owner's image of every record delivered so far (borrowed),
 *   which the node writes as a snapshot every snapshot_max_bytes of
 *   committed batches or snapshot_interval_ms (Kafka's SnapshotGenerator);
 *   NULL (or a NULL callback): this node takes no snapshots.
 */
struct kp_raft_node_callbacks {
	void (*on_record)(void *opaque, const struct kp_metadata_record *rec, int64_t offset,
			  int32_t epoch);
	void (*on_committed)(void *opaque, int64_t high_watermark);
	void (*on_leader)(void *opaque, int32_t epoch, int32_t leader_id);
	void (*on_fatal)(void *opaque, const kp_error *err);
	void (*on_snapshot)(void *opaque, int64_t end_offset, int32_t epoch);
	const struct kp_image *(*image)(void *opaque);
	void *opaque;
};

/* kp_raft_node_config_init - zero `cfg` and fill Kafka's defaults (above) for `node_id`. */
void kp_raft_node_config_init(struct kp_raft_node_config *cfg, int32_t node_id);

/*
 * kp_raft_node_config_parse - `out` from Kafka's keys in `c` (borrowed):
 * node.id (required), controller.quorum.voters (required, ID@HOST:PORT,...),
 * controller.listener.names, metadata.log.dir (else the first of log.dirs
 * / log.dir, else `default_dir`), cluster.id, controller.quorum.*.timeout
 * and backoff keys (QuorumConfig). node.id need not be a voter (an
 * observer). Unknown keys are not looked at. Returns 0, or -1 with
 * KP_EINVAL naming the key.
 */
int kp_raft_node_config_parse(const kp_config *c, const char *default_dir,
			      struct kp_raft_node_config *out, kp_error *err);

/*
 * kp_raft_node_new - a node on `base` (borrowed; must outlive it) with
 * `cfg` and `cb` (copied). Creates cfg->log_dir, opens and recovers the
 * metadata log, reads quorum-state, and arms its timer: it starts
 * electing / fetching as soon as the loop runs. Returns NULL with `err`:
 * KP_EINVAL (bad config), KP_EIO, KP_ECORRUPT (log or quorum-state),
 * KP_ENOMEM.
 */
kp_raft_node *kp_raft_node_new(struct event_base *base, const struct kp_raft_node_config *cfg,
			       const struct kp_raft_node_callbacks *cb, kp_error *err);

/*
 * kp_raft_node_free - close the log, the outgoing connections (their
 * requests fail), drop parked requests without answering them and free
 * `n` (NULL is fine). No callback runs. Call kp_raft_node_resign first
 * for a graceful leader shutdown.
 */
void kp_raft_node_free(kp_raft_node *n);

/*
 * kp_raft_node_handle - offer a request frame received by the owner's
 * listener on `conn` (`frame`, `len` bytes: header + body, no size prefix,
 * as net.h's on_frame gets it). Returns:
 *    1  a Raft API (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch of
 *       __cluster_metadata by Uuid.METADATA_TOPIC_ID with a replica id,
 *       DescribeQuorum, FetchSnapshot, AddRaftVoter, RemoveRaftVoter):
 *       the node took `frame`
 *       (frees it) and answers through kp_net_conn_reply now or later (a
 *       Fetch long poll waits up to 500 ms), exactly once unless the
 *       connection closes first (see kp_raft_node_conn_closed);
 *    0  not a Raft API (any other key, a consumer's Fetch): `frame` is
 *       untouched and still the caller's;
 *   -1  a Raft API that cannot be decoded: `frame` freed, `err` says why
 *       (KP_EPROTO, KP_ENOMEM); the owner returns -1 from on_frame.
 * The header is decoded once more here; the owner need not decode it.
 */
int kp_raft_node_handle(kp_raft_node *n, kp_net_conn *conn, uint8_t *frame, size_t len,
			kp_error *err);

/*
 * kp_raft_node_conn_closed - the owner's on_close for `conn`: drop the
 * requests of `conn` the node still holds (they are not answered).
 */
void kp_raft_node_conn_closed(kp_raft_node *n, kp_net_conn *conn);

/*
 * kp_raft_node_api_range - whether `api_key` is one kp_raft_node_handle
 * serves, with the versions it accepts in *min and *max (for the owner's
 * ApiVersions answer; Fetch: 13..17). false for any other key.
 */
bool kp_raft_node_api_range(int16_t api_key, int16_t *min, int16_t *max);

/*
 * kp_raft_node_propose - on the leader, append `count` records (borrowed;
 * encoded with kp_metadata_record_encode) as one RecordBatch: they commit
 * or vanish together (Kafka's RaftClient.prepareAppend, atomic batch).
 * Returns the batch's base offset (the records have base..base+count-1),
 * or -1 with `err`: KP_EKAFKA (code NOT_CONTROLLER, 41) when this node is
 * not the leader or its LeaderChange is not yet committed, KP_EINVAL (a
 * record that does not encode, count 0), KP_EIO (the log; the node is
 * then failed and on_fatal is called), KP_ENOMEM. Commitment is reported
 * through on_record / on_committed; a batch may be lost if leadership
 * changes before it commits (the caller sees on_leader and retries or
 * fails its requests).
 */
int64_t kp_raft_node_propose(kp_raft_node *n, const struct kp_metadata_record *recs, size_t count,
			     kp_error *err);

/* kp_raft_node_high_watermark - the committed end offset; -1 while unknown (after a restart). */
int64_t kp_raft_node_high_watermark(const kp_raft_node *n);

/* kp_raft_node_log_end_offset - the next offset the metadata log will write. */
int64_t kp_raft_node_log_end_offset(const kp_raft_node *n);

/*
 * kp_raft_node_last_applied - the offset of the last record delivered
 * through on_record (control records included in the count), -1 if none:
 * what a broker reports as current_metadata_offset in BrokerHeartbeat.
 */
int64_t kp_raft_node_last_applied(const kp_raft_node *n);

/* kp_raft_node_leader - the leader's id in the current epoch, -1 when unknown. */
int32_t kp_raft_node_leader(const kp_raft_node *n);

/* kp_raft_node_epoch - the current Raft epoch (the quorum's leader epoch). */
int32_t kp_raft_node_epoch(const kp_raft_node *n);

/*
 * kp_raft_node_is_leader - whether this node leads and may propose (its
 * LeaderChange is committed and applied, on_leader told it so).
 */
bool kp_raft_node_is_leader(const kp_raft_node *n);

/* kp_raft_node_is_voter - whether node.id is one of the voters (else an observer). */
bool kp_raft_node_is_voter(const kp_raft_node *n);

/* kp_raft_node_is_voter_id - whether `id` is in the current voter set (KIP-853). */
bool kp_raft_node_is_voter_id(const kp_raft_node *n, int32_t id);

/* kp_raft_node_voter - voter `id`'s endpoint (borrowed), NULL if not a current voter. */
const struct kp_raft_node_voter *kp_raft_node_voter(const kp_raft_node *n, int32_t id);

/* kp_raft_node_config - the node's configuration (owned by `n`). */
const struct kp_raft_node_config *kp_raft_node_config(const kp_raft_node *n);

/* kp_raft_node_raft - the Raft core, for read-only accessors (kp_raft_role, kp_raft_describe). */
const kp_raft *kp_raft_node_raft(const kp_raft_node *n);

/*
 * kp_raft_node_resign - graceful shutdown (Kafka's KafkaRaftClient
 * shutdown): a leader sends EndQuorumEpoch to the other voters so they
 * elect at once, and stops accepting proposals; other roles: nothing.
 * Then wait while kp_raft_node_resigning (up to about a second), call
 * kp_raft_node_flush, drain the listener and free.
 */
void kp_raft_node_resign(kp_raft_node *n);

/* kp_raft_node_resigning - whether EndQuorumEpoch requests still await their answers. */
bool kp_raft_node_resigning(const kp_raft_node *n);

/* kp_raft_node_flush - answer every parked request (long-poll Fetches) now, from the core. */
void kp_raft_node_flush(kp_raft_node *n);

/* kp_raft_node_failed - whether on_fatal was called (then *err, if not NULL, gets why). */
bool kp_raft_node_failed(const kp_raft_node *n, kp_error *err);

/*
 * kp_raft_node_snapshot_now - write a snapshot of the owner's image at the
 * last delivered batch now, whatever the thresholds (tests, operators).
 * Returns 1 when one was written, 0 when there is nothing new or no image
 * callback, -1 with KP_EIO / KP_ENOMEM (the node goes on).
 */
int kp_raft_node_snapshot_now(kp_raft_node *n, kp_error *err);

/*
 * kp_raft_node_voters - the current voter set (KIP-853: the newest
 * VotersRecord of the log or snapshot, else controller.quorum.voters)
 * with the endpoints this node knows (port 0: unknown) into `out` (room
 * for KP_RAFT_MAX_VOTERS); returns how many.
 */
int kp_raft_node_voters(const kp_raft_node *n, struct kp_raft_node_voter *out);

/*
 * kp_raft_node_load_dir - offline (no node, no loop): apply the metadata
 * log dir `log_dir` (the parent of __cluster_metadata-0) to `img`: the
 * latest snapshot, then every record of the log after it, whatever was
 * committed (kcontroller --dump-metadata; Kafka's MetadataShell reading a
 * log dir). Returns 0 or -1 with KP_EIO / KP_ECORRUPT / KP_ENOMEM.
 */
int kp_raft_node_load_dir(const char *log_dir, struct kp_image *img, kp_error *err);

#endif
