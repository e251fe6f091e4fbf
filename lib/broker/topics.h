/*
 * topics.h - the broker's topic registry: topic name -> topic id and
 * partitions, each partition with its log.
 *
 * Topics persist as directories in a log dir, Kafka's layout:
 *
 *   LOGDIR/TOPIC-0/partition.metadata   "version: 0\ntopic_id: <base64url>\n"
 *   LOGDIR/TOPIC-0/00000000000000000000.log ...
 *   LOGDIR/TOPIC-1/...
 *
 * Which topics and partitions exist, and which are hosted here, comes from
 * the metadata image (image_sync.c): a replica's directory is made under a
 * hidden staging name (.TOPIC-N.creating) and renamed into place
 * (kp_topics_open_replica), and leftovers of an interrupted one are swept
 * at start. kp_topics_load reads topics from their directories: how a new
 * metadata log of a cluster of one adopts a log dir written before it.
 */
#ifndef KP_BROKER_TOPICS_H
#define KP_BROKER_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"
#include "protocol/codec.h"
#include "util/error.h"

/* The most log dirs (log.dirs) a registry spreads partitions over. */
#define KP_TOPICS_MAX_DIRS 16

/* The most partitions a topic may have (and the largest N in a TOPIC-N directory plus one). */
#define KP_TOPIC_MAX_PARTITIONS 100000

/*
 * What a partition's leader knows of one follower (Kafka's ReplicaState):
 * fed by the follower's fetches (replica_leader.c).
 */
struct kp_replica_state {
	int32_t id;                    /* its broker id */
	int64_t log_end_offset;        /* its last fetch offset; -1 before its first fetch */
	int64_t last_caught_up_ms;     /* monotonic ms it last had all the leader had */
	int64_t last_fetch_ms;         /* monotonic ms of its last fetch */
	int64_t last_fetch_leader_leo; /* the leader's log end offset at that fetch */
	int64_t broker_epoch;          /* from its fetch (Fetch v15+), -1 unknown */
	int64_t log_start_offset;      /* from its fetch, -1 before its first */
};

struct kp_partition {
	int32_t index;
	int32_t leader_epoch;
	kp_log *log; /* NULL: offline, the log could not be opened or its dir failed (kp_partition_online) */
	int dir;     /* while hosted: the index of its log dir (kp_topics_dir_path) */
	/*
	 * The partition's state from the metadata image (Kafka's
	 * PartitionRegistration, kept by its Partition object).
	 */
	bool follower;           /* this broker is not the leader: NOT_LEADER_OR_FOLLOWER */
	bool hosted;             /* this broker is a replica: `log` belongs here */
	int32_t leader;          /* the leader's broker id, -1 for none */
	int32_t partition_epoch;
	int32_t *replicas;       /* owned; replica_count of them */
	int32_t *isr;            /* owned; isr_count of them */
	int32_t replica_count, isr_count;
	/* Replication (replica.h). */
	int64_t high_watermark;          /* consumers read below it (kp_partition_high_watermark) */
	struct kp_replica_state *remote; /* leader: one per other replica; owned, remote_count */
	int32_t remote_count;
	bool isr_pending;                /* leader: an AlterPartition awaits the controller */
	int32_t isr_adding;              /* while isr_pending: the broker it adds, -1 for none */
	int64_t epoch_start_offset;      /* leader: its log end offset when it became leader */
	int64_t fetch_delay_until_ms;    /* follower: no fetch before (monotonic ms) after an error */
	/* Replication throttles (KIP-73, replica_throttle.c), from the topic's configs. */
	bool leader_throttled;           /* leader.replication.throttled.replicas names it here */
	bool follower_throttled;         /* follower.replication.throttled.replicas names it here */
	bool fetch_in_sync;              /* follower: the last answer reached the leader's high
	                                  * watermark (Kafka's isReplicaInSync of the fetch) */
};

struct kp_topic {
	char *name;
	kp_uuid id;
	int32_t partition_count;
	struct kp_partition *partitions;
	/* From the topic's configs (log_config.c, after each image publish): */
	int32_t max_message_bytes; /* max.message.bytes, 0: the broker's message.max.bytes */
	bool compacted;            /* cleanup.policy has "compact": records need keys */
	bool log_append_time;      /* message.timestamp.type=LogAppendTime */
	bool recompress;           /* compression.type is not "producer": batches are stored */
	int8_t compression;        /*   with this codec (enum kp_compression, record/batch.h) */
	int32_t compression_level; /*   at this level (compression.<codec>.level, KIP-390) */
};

typedef struct kp_topics kp_topics;

/*
 * kp_topic_is_internal - whether `name` is one of Kafka's internal topics
 * (__consumer_offsets, __transaction_state, __share_group_state: Kafka's
 * Topic.isInternal), which only the broker itself writes.
 */
bool kp_topic_is_internal(const char *name);

/*
 * kp_topics_new - a registry over the `ndirs` log dirs `dirs` (log.dirs,
 * 1..KP_TOPICS_MAX_DIRS, paths copied) with log settings `cfg` (copied):
 * a new replica's directory goes to the log dir with the fewest
 * partitions (kp_topics_open_replica). NULL when memory runs out or
 * `ndirs` is out of range.
 */
kp_topics *kp_topics_new(char *const *dirs, int ndirs, const struct kp_log_config *cfg);

/* kp_topics_dir_count - how many log dirs; kp_topics_dir_path - the path of log dir `i`. */
int kp_topics_dir_count(const kp_topics *t);
const char *kp_topics_dir_path(const kp_topics *t, int i);
/* kp_topics_dir_offline - whether log dir `i` failed (kp_topics_fail_dir). */
bool kp_topics_dir_offline(const kp_topics *t, int i);

/* kp_topics_dir_of - the log dir holding `path` (a partition directory or file in it), -1 when none. */
int kp_topics_dir_of(const kp_topics *t, const char *path);

/*
 * kp_topics_fail_dir - log dir `d` failed (an I/O error on a write,
 * fsync or open in it): mark it offline and close the logs of every partition in it, which
 * stay hosted but offline (KAFKA_STORAGE_ERROR) until a restart finds the
 * disk back (Kafka's LogDirFailureChannel and ReplicaManager.handleLogDirFailure).
 * Must not be called while a log of that dir is in use on the stack
 * (the broker defers it to its loop: kp_broker_log_failed). Returns how
 * many partitions went offline, -1 when `d` is no online log dir.
 */
int kp_topics_fail_dir(kp_topics *t, int d);

/* kp_topics_online_dirs - how many log dirs are online. */
int kp_topics_online_dirs(const kp_topics *t);

/* kp_topics_free - close every log and free `t` (NULL is fine). */
void kp_topics_free(kp_topics *t);

/*
 * kp_topics_load - scan `dir` for TOPIC-0 directories and open (recover)
 * the log of each partition 0..n-1 of those topics. A topic missing a
 * partition.metadata or with differing topic ids is skipped with a WARN,
 * as are directories not named TOPIC-N; staging directories of an
 * interrupted creation are removed (INFO). A partition whose log cannot
 * be opened is logged at ERROR and left offline (log NULL). Returns 0, or
 * -1 with the error (out of memory).
 */
int kp_topics_load(kp_topics *t, const char *dir, kp_error *err);

/*
 * kp_topics_sweep_staged - remove the staging directories an interrupted
 * creation left in `dir` (INFO for each), as kp_topics_load does: what a
 * cluster member does at start, its topics coming from the metadata
 * image. Returns 0, or -1 with KP_EIO when `dir` cannot be read.
 */
int kp_topics_sweep_staged(const char *dir, kp_error *err);

/*
 * kp_topics_sync_created - make the partition directories
 * kp_topics_open_replica made since the last call durable, once for a
 * whole metadata publish and before anything is appended to them: their
 * partition.metadata and entries (fsyncs, or one syncfs(2) of the
 * filesystem for a burst of more than 16 in a log dir), then each log
 * dir's own entries. A crash before it leaves at worst a new directory
 * with a torn partition.metadata, moved aside and made again at the
 * next start. Returns 0, or -1 with KP_EIO and *failed the index of a log
 * dir that could not be synced (the caller takes it offline: its new
 * partitions are not known to be durable).
 */
int kp_topics_sync_created(kp_topics *t, int *failed, kp_error *err);

/* kp_topics_find - the topic named `name`, or NULL. */
struct kp_topic *kp_topics_find(const kp_topics *t, const char *name);
/*
 * kp_topics_find_id - the topic with id `id`, or NULL. The zero id
 * (Uuid.ZERO_UUID, "no id") never names a topic, even one whose
 * partition.metadata holds it.
 */
struct kp_topic *kp_topics_find_id(const kp_topics *t, const kp_uuid *id);
/* kp_topic_partition - partition `index` of `topic` (may be NULL), or NULL. */
struct kp_partition *kp_topic_partition(struct kp_topic *topic, int32_t index);

/* kp_topics_count / kp_topics_at - iterate topics (order unspecified, stable between changes). */
size_t kp_topics_count(const kp_topics *t);
struct kp_topic *kp_topics_at(const kp_topics *t, size_t i);

/*
 * kp_topic_name_valid - Kafka's rule: 1-249 characters of [a-zA-Z0-9._-],
 * and neither "." nor ".." (Topic.validate).
 */
bool kp_topic_name_valid(const char *name);

/*
 * kp_partition_high_watermark - the offset below which records are
 * committed (replicated to the whole ISR; replica.h keeps it): what
 * consumers may read up to and ListOffsets LATEST answers. -1 when offline.
 */
int64_t kp_partition_high_watermark(const struct kp_partition *p);

/*
 * kp_partition_leader_epoch_error - KIP-320's fencing of a request that
 * names the leader epoch it knows (`current`, -1 for none): NONE when it
 * is -1 or p's, FENCED_LEADER_EPOCH when older, UNKNOWN_LEADER_EPOCH when
 * newer (Kafka's Partition.checkCurrentLeaderEpoch).
 */
int16_t kp_partition_leader_epoch_error(const struct kp_partition *p, int32_t current);

/*
 * kp_partition_online - whether `p` has an open log. A partition whose log
 * could not be opened at startup is offline: requests for it are answered
 * KAFKA_STORAGE_ERROR, and Metadata shows it with leader -1.
 */
bool kp_partition_online(const struct kp_partition *p);

/* ---- a KRaft broker's registry follows the metadata image (topics_cluster.c) ---- */

/*
 * kp_topics_add_empty - register topic `name` with id `id` and
 * `partitions` partitions (1..KP_TOPIC_MAX_PARTITIONS) whose logs are not
 * open (not hosted here until kp_topics_open_replica). Nothing is written
 * to disk. Returns 0 and *out (owned by `t`), or -1 with KP_EKAFKA
 * (TOPIC_ALREADY_EXISTS for a name taken, INVALID_PARTITIONS) or KP_ENOMEM.
 */
int kp_topics_add_empty(kp_topics *t, const char *name, const kp_uuid *id, int32_t partitions,
			struct kp_topic **out, kp_error *err);

/*
 * kp_topics_grow - give `topic` `partitions` partitions (CreatePartitions:
 * only more); the new ones are not hosted. Returns 0, or -1 with
 * KP_EINVAL (fewer) or KP_ENOMEM; `topic` then keeps its partitions.
 */
int kp_topics_grow(struct kp_topic *topic, int32_t partitions, kp_error *err);

/*
 * kp_topics_open_replica - host partition `index` of `topic` here: open
 * (recovering) DIR/TOPIC-N when its partition.metadata names this topic
 * id, else move whatever is there aside (TOPIC-N.<ms>-stray, WARN: a log
 * of a deleted topic of the same name) and create it, partition.metadata
 * first (Kafka's LogManager.getOrCreateLog); the log dir itself is fsynced
 * by the caller's kp_topics_sync_created. Returns 0, or -1 with
 * KP_EIO / KP_ECORRUPT / KP_ENOMEM (the partition stays unhosted).
 */
int kp_topics_open_replica(kp_topics *t, struct kp_topic *topic, int32_t index, kp_error *err);

/*
 * kp_topics_drop_replica - stop hosting partition `index` of `topic` here
 * (reassigned away; Kafka's StopReplica with deletion): close its log and
 * remove its directory. Returns 0, or -1 with KP_EIO (it is not hosted
 * any more either way).
 */
int kp_topics_drop_replica(kp_topics *t, struct kp_topic *topic, int32_t index, kp_error *err);

/*
 * kp_topics_delete - forget `topic`: close its logs and remove the
 * directories of the partitions hosted here (Kafka's LogManager.asyncDelete,
 * done at once). `topic` is freed. Returns 0, or -1 with KP_EIO when a
 * directory could not be removed (the topic is forgotten anyway).
 */
int kp_topics_delete(kp_topics *t, struct kp_topic *topic, kp_error *err);

/*
 * kp_partition_set_ids - copy `n` broker ids into *dst (replacing and
 * freeing what it held; *count gets n). Returns 0 or -1 (out of memory,
 * *dst unchanged).
 */
int kp_partition_set_ids(int32_t **dst, int32_t *count, const int32_t *ids, int32_t n);

/*
 * kp_topics_hw_load - read the high watermarks of each log dir's
 * replication-offset-checkpoint (Kafka's format, one per log dir,
 * topics_hw.c), which partitions opened from now on start
 * with. A missing file is no error; a torn or unknown one is ignored.
 * Returns 0, or -1 with KP_EIO (unreadable) or KP_ENOMEM.
 */
int kp_topics_hw_load(kp_topics *t, kp_error *err);

/*
 * kp_topics_hw_save - write every hosted partition's high watermark to
 * the replication-offset-checkpoint of its log dir (a temporary file
 * renamed over it; no fsync; offline dirs skipped). Returns 0, or -1 with
 * KP_EIO (the other dirs are still written).
 */
int kp_topics_hw_save(const kp_topics *t, kp_error *err);

/* kp_topics_flush - flush every log; logs failures at ERROR. */
void kp_topics_flush(kp_topics *t);

#endif
