/*
 * topics_internal.h - what topics.c shares with topics_cluster.c (the
 * registry of a KRaft broker): the registry itself and its directory
 * helpers. Not installed.
 */
#ifndef KP_BROKER_TOPICS_INTERNAL_H
#define KP_BROKER_TOPICS_INTERNAL_H

#include "broker/topics.h"

struct kp_topics {
	char *dir;                   /* where new partition directories go */
	struct kp_log_config logcfg;
	struct kp_topic **v;
	size_t n, cap;
	struct kp_topics_hw *hw;     /* replication-offset-checkpoint as read at start (topics_hw.c) */
	bool dir_unsynced;           /* a partition directory was made since the log dir's last fsync */
};

/*
 * kp_topics_hw_initial - the high watermark partition `partition` of
 * `topic` starts with when its log `log` opens: the checkpointed one
 * clamped to the log's start and end, else the log start offset.
 */
int64_t kp_topics_hw_initial(const kp_topics *t, const char *topic, int32_t partition,
			     const kp_log *log);
/* kp_topics_hw_clear - forget the checkpointed high watermarks. */
void kp_topics_hw_clear(kp_topics *t);

/* kp_topics_topic_alloc - a topic of `partitions` unopened partitions; NULL when out of memory. */
struct kp_topic *kp_topics_topic_alloc(const char *name, int32_t partitions);
/* kp_topics_topic_free - close its logs and free `topic` (NULL is fine). */
void kp_topics_topic_free(struct kp_topic *topic);
/* kp_topics_add - append `topic` to the registry (which then owns it); -1 with KP_ENOMEM. */
int kp_topics_add(kp_topics *t, struct kp_topic *topic, kp_error *err);
/* kp_topics_partition_dir - "DIR/TOPIC-N", or the staging "DIR/.TOPIC-N.creating", into `out`. */
void kp_topics_partition_dir(const char *dir, const char *topic, int32_t i, bool staged, char *out,
			     size_t outlen);
/* kp_topics_write_partition_metadata - PDIR/partition.metadata as Kafka writes it, atomically. */
int kp_topics_write_partition_metadata(const char *pdir, const kp_uuid *id, kp_error *err);
/* kp_topics_read_partition_metadata - the topic id in PDIR/partition.metadata; -1 if absent/bad. */
int kp_topics_read_partition_metadata(const char *pdir, kp_uuid *id);
/* kp_topics_move_aside - rename directory `path` to PATH.<ms>-stray, with a WARN; -1 KP_EIO. */
int kp_topics_move_aside(const char *path, kp_error *err);

#endif
