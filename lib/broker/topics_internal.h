/*
 * topics_internal.h - what topics.c shares with topics_cluster.c (the
 * registry of a KRaft broker): the registry itself and its directory
 * helpers. Not installed.
 */
#ifndef KP_BROKER_TOPICS_INTERNAL_H
#define KP_BROKER_TOPICS_INTERNAL_H

#include "broker/topics.h"

/* One log dir (log.dirs) of the registry (topics_dirs.c). */
struct kp_topics_dir {
	char *path;                  /* owned */
	size_t logs;                 /* partitions hosted in it (new ones go to the least loaded) */
	bool offline;                /* its disk failed (kp_topics_fail_dir): nothing opens in it */
	char **created;              /* owned: partition directories made since the last kp_topics_sync_created */
	size_t ncreated, capcreated;
};

struct kp_topics {
	struct kp_topics_dir dirs[KP_TOPICS_MAX_DIRS];
	int ndirs;
	struct kp_log_config logcfg;
	struct kp_topic **v;
	size_t n, cap;
	struct kp_topics_hw *hw;     /* replication-offset-checkpoint as read at start (topics_hw.c) */
};

/* kp_topics_note_created - remember partition directory `pdir` (copied) of log dir `d` for kp_topics_sync_created; -1 KP_ENOMEM. */
int kp_topics_note_created(kp_topics *t, int d, const char *pdir, kp_error *err);
/* kp_topics_dirs_free - free what the log dirs hold. */
void kp_topics_dirs_free(kp_topics *t);

/* kp_topics_dir_index - the index in t->dirs of the log dir at `path`, -1 when none. */
int kp_topics_dir_index(const kp_topics *t, const char *path);
/*
 * kp_topics_place - the log dir a new replica of `topic` partition
 * `index` goes to: the one already holding DIR/TOPIC-N (an online one),
 * else the online dir with the fewest partitions (Kafka's
 * LogManager.nextLogDirs), lowest index on ties. -1 when every dir is
 * offline.
 */
int kp_topics_place(const kp_topics *t, const struct kp_topic *topic, int32_t index);

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
/* kp_topics_write_partition_metadata - PDIR/partition.metadata as Kafka writes it (topics.c). */
int kp_topics_write_partition_metadata(const char *pdir, const kp_uuid *id, bool durable,
				       kp_error *err);
/* kp_topics_read_partition_metadata - the topic id in PDIR/partition.metadata; -1 if absent/bad. */
int kp_topics_read_partition_metadata(const char *pdir, kp_uuid *id);
/* kp_topics_move_aside - rename directory `path` to PATH.<ms>-stray, with a WARN; -1 KP_EIO. */
int kp_topics_move_aside(const char *path, kp_error *err);

#endif
