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
 * A topic is loaded from its TOPIC-0 directory: creation builds hidden
 * staging directories (.TOPIC-N.creating) and renames partition 0 into
 * place last, so a failed or interrupted creation leaves no topic with
 * fewer partitions behind (see kp_topics_create).
 *
 * On a single node every partition is led by this broker at leader epoch
 * 0, and the high watermark equals the log end offset.
 */
#ifndef KP_BROKER_TOPICS_H
#define KP_BROKER_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"
#include "protocol/codec.h"
#include "util/error.h"

/* The most partitions a topic may have (and the largest N in a TOPIC-N directory plus one). */
#define KP_TOPIC_MAX_PARTITIONS 100000

struct kp_partition {
	int32_t index;
	int32_t leader_epoch;
	kp_log *log; /* NULL: offline, the log could not be opened (kp_partition_online) */
};

struct kp_topic {
	char *name;
	kp_uuid id;
	int32_t partition_count;
	struct kp_partition *partitions;
};

typedef struct kp_topics kp_topics;

/*
 * kp_topics_new - a registry creating new partition directories in `dir`
 * (copied) with log settings `cfg` (copied). NULL when memory runs out.
 */
kp_topics *kp_topics_new(const char *dir, const struct kp_log_config *cfg);

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
 * kp_topics_create - create topic `name` with `partitions` partitions and
 * a fresh topic id: directories, partition.metadata files, empty logs,
 * all or nothing (a failure removes what it made; directories in the way
 * are renamed TOPIC-N.<ms>-stray with a WARN). Returns 0 and *out (owned
 * by `t`), or -1 with KP_EKAFKA (TOPIC_ALREADY_EXISTS,
 * INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS), KP_ENOMEM or KP_EIO in
 * `err`.
 */
int kp_topics_create(kp_topics *t, const char *name, int32_t partitions, struct kp_topic **out,
		     kp_error *err);

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

/* kp_partition_high_watermark - on one node, the log end offset; -1 when offline. */
int64_t kp_partition_high_watermark(const struct kp_partition *p);

/*
 * kp_partition_online - whether `p` has an open log. A partition whose log
 * could not be opened at startup is offline: requests for it are answered
 * KAFKA_STORAGE_ERROR, and Metadata shows it with leader -1.
 */
bool kp_partition_online(const struct kp_partition *p);

/* kp_topics_flush - flush every log; logs failures at ERROR. */
void kp_topics_flush(kp_topics *t);

#endif
