/*
 * admin_topics.h - topic administration for the tools (ktopics): describe
 * topics and their partitions, their log start and end offsets and their
 * configs; create, delete and grow topics; change configs; delete records.
 * The requests are the ones Kafka's Admin client sends for
 * kafka-topics.sh, kafka-configs.sh and kafka-delete-records.sh, routed
 * as it routes them:
 *
 *   Metadata                  4-12  any broker (v4+: never auto-creates, KIP-204)
 *   DescribeTopicPartitions   0     any broker, when served (KIP-966; paginated)
 *   ListOffsets               1-7   each partition's leader
 *   DescribeConfigs           1-4   any broker (synonyms, KIP-226)
 *   CreateTopics              2-7   the controller Metadata names (KIP-590
 *                                   brokers forward it; v4+ broker defaults, KIP-464)
 *   DeleteTopics              1-6   the controller
 *   CreatePartitions          0-3   the controller
 *   IncrementalAlterConfigs   0-1   any broker (KIP-339)
 *   DeleteRecords             0-2   each partition's leader (KIP-107)
 *
 * NOT_CONTROLLER, and NOT_LEADER_OR_FOLLOWER / LEADER_NOT_AVAILABLE for
 * the leader requests, are retried after a metadata refresh and
 * retry.backoff.ms until request.timeout.ms has passed (kp_cluster's
 * configuration). Versions are negotiated per broker (kp_conn_pick_version).
 *
 * Memory: results live in the caller's kp_arena `a` (strings and arrays
 * point into it, some into decoded response frames kept there); they are
 * freed together with kp_arena_free. Inputs are borrowed for the call.
 *
 * Errors: a function returns -1 with a kp_error (util/error.h) only when
 * the request as a whole failed (no broker, KP_ECONN, KP_ETIMEDOUT,
 * KP_EPROTO for an API the broker lacks, KP_ENOMEM); what went wrong for
 * one topic or partition is in its result's Kafka error code and message.
 * Nothing is printed.
 */
#ifndef KP_CLIENT_ADMIN_TOPICS_H
#define KP_CLIENT_ADMIN_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/cluster.h"
#include "util/arena.h"
#include "util/error.h"

/* What happened to one named topic (or config resource). */
struct kp_admin_outcome {
	const char *topic;
	int16_t error;       /* Kafka error code, 0 for none */
	const char *message; /* the broker's message, or NULL */
	int32_t partitions;  /* CreateTopics v5+: what was created; -1 when not said */
	int16_t replication_factor; /* likewise */
};

/* A partition as the cluster describes it. */
struct kp_admin_partition {
	int32_t partition;
	int32_t leader;       /* node id, -1 when it has none (or none alive) */
	int32_t leader_epoch; /* -1 when the broker does not say */
	const int32_t *replicas, *isr, *offline; /* node ids */
	int32_t nreplicas, nisr, noffline;
	int16_t error;        /* the partition's error code (Metadata), 0 for none */
	int64_t log_start;    /* kp_admin_list_offsets: the log start offset, -1 unknown */
	int64_t log_end;      /* kp_admin_list_offsets: the log end offset (high watermark), -1 */
	int16_t offsets_error; /* why they are unknown (a Kafka error code), 0 for none */
};

/* A topic as the cluster describes it. */
struct kp_admin_topic {
	const char *name;
	uint8_t id[16];       /* topic id (KIP-516), zero when the broker does not say */
	bool internal;        /* __consumer_offsets, __transaction_state, ... */
	int16_t error;        /* UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, ... */
	struct kp_admin_partition *partitions; /* by partition index */
	int32_t npartitions;
};

/* A description of topics (kp_admin_describe_topics). */
struct kp_admin_topics {
	int32_t controller;   /* the controller id Metadata names, -1 for none */
	struct kp_admin_topic *topics;
	size_t ntopics;
};

/*
 * kp_admin_describe_topics - describe the `n` topics `names` (each once,
 * in name order, the ones that do not exist with their error), or every
 * topic of the cluster when `names` is NULL, into *out (in `a`):
 * DescribeTopicPartitions (following its cursor) where the broker serves
 * it, else Metadata. Log offsets are left at -1 (kp_admin_list_offsets).
 * Returns 0 or -1 with err.
 */
int kp_admin_describe_topics(kp_cluster *c, const char *const *names, size_t n, kp_arena *a,
			     struct kp_admin_topics *out, kp_error *err);

/*
 * kp_admin_list_offsets - fill log_start and log_end of every partition
 * of `t` (ListOffsets with EARLIEST and LATEST, to each leader): a
 * partition without a leader, or whose leader answered an error, keeps -1
 * with the error in offsets_error (LEADER_NOT_AVAILABLE for none,
 * NETWORK_EXCEPTION for a leader that cannot be reached). Returns 0 or
 * -1 with err.
 */
int kp_admin_list_offsets(kp_cluster *c, struct kp_admin_topics *t, kp_error *err);

/* A config's name and value (CreateTopics' Configs; an IncrementalAlterConfigs SET). */
struct kp_admin_config {
	const char *name;
	const char *value; /* NULL: delete (IncrementalAlterConfigs DELETE) */
};

/* A topic to create (CreateTopics' CreatableTopic). */
struct kp_admin_new_topic {
	const char *name;
	int32_t partitions;          /* -1: the broker's num.partitions (KIP-464) */
	int16_t replication_factor;  /* -1: the broker's default.replication.factor */
	const int32_t *assignment;   /* or NULL: `partitions` rows of `replicas` node ids */
	int32_t replicas;            /* node ids per partition in `assignment` */
	const struct kp_admin_config *configs;
	size_t nconfigs;
};

/*
 * kp_admin_create_topics - create the `n` topics `t` (CreateTopics, sent
 * to the controller; with `validate_only` the controller only checks
 * them). out[i] tells what happened to t[i]; TOPIC_ALREADY_EXISTS is an
 * error there like any other. Returns 0 or -1 with err.
 */
int kp_admin_create_topics(kp_cluster *c, const struct kp_admin_new_topic *t, size_t n,
			   bool validate_only, kp_arena *a, struct kp_admin_outcome *out,
			   kp_error *err);

/*
 * kp_admin_delete_topics - delete the `n` topics `names` (DeleteTopics by
 * name, to the controller). out[i] is names[i]'s outcome. Returns 0 or -1.
 */
int kp_admin_delete_topics(kp_cluster *c, const char *const *names, size_t n, kp_arena *a,
			   struct kp_admin_outcome *out, kp_error *err);

/*
 * kp_admin_create_partitions - grow each of the `n` topics `names` to
 * `total` partitions (CreatePartitions, to the controller; the broker
 * places the new ones; with `validate_only` it only checks).
 * INVALID_PARTITIONS when a topic has that many already. out[i] is
 * names[i]'s outcome. Returns 0 or -1.
 */
int kp_admin_create_partitions(kp_cluster *c, const char *const *names, size_t n, int32_t total,
			       bool validate_only, kp_arena *a, struct kp_admin_outcome *out,
			       kp_error *err);

/*
 * kp_admin_alter_topic_configs - apply `ops` (a value sets the config, a
 * NULL value deletes the topic's own, so that the default applies again)
 * to each of the `n` topics `names` (IncrementalAlterConfigs, KIP-339;
 * the other configs stay). out[i] is names[i]'s outcome. Returns 0 or -1.
 */
int kp_admin_alter_topic_configs(kp_cluster *c, const char *const *names, size_t n,
				 const struct kp_admin_config *ops, size_t nops, bool validate_only,
				 kp_arena *a, struct kp_admin_outcome *out, kp_error *err);

/* DescribeConfigs' sources (ConfigSource), as kp_admin_config_entry has them. */
enum kp_admin_config_source {
	KP_ADMIN_SOURCE_UNKNOWN = 0,
	KP_ADMIN_SOURCE_TOPIC = 1,          /* the topic's own */
	KP_ADMIN_SOURCE_BROKER = 2,         /* a dynamic config of the broker */
	KP_ADMIN_SOURCE_BROKER_DEFAULT = 3, /* a dynamic config of every broker */
	KP_ADMIN_SOURCE_STATIC = 4,         /* the broker's properties file */
	KP_ADMIN_SOURCE_DEFAULT = 5,        /* Kafka's default */
};

/* One synonym of a described config. */
struct kp_admin_synonym {
	const char *name;
	const char *value; /* NULL: sensitive or none */
	int8_t source;     /* enum kp_admin_config_source */
};

/* One config of a topic as DescribeConfigs describes it. */
struct kp_admin_config_entry {
	const char *name;
	const char *value;  /* NULL: sensitive or none */
	int8_t source;      /* enum kp_admin_config_source */
	bool read_only, sensitive;
	const struct kp_admin_synonym *synonyms; /* most significant first */
	int32_t nsynonyms;
};

/* The configs of one topic (or its error). */
struct kp_admin_topic_configs {
	const char *topic;
	int16_t error;
	const char *message;
	struct kp_admin_config_entry *configs; /* sorted by name */
	int32_t nconfigs;
};

/*
 * kp_admin_describe_topic_configs - every config of each of the `n`
 * topics `names` with its value, source and synonyms (DescribeConfigs
 * with IncludeSynonyms) into out[i] (in `a`). Returns 0 or -1 with err.
 */
int kp_admin_describe_topic_configs(kp_cluster *c, const char *const *names, size_t n,
				    kp_arena *a, struct kp_admin_topic_configs *out,
				    kp_error *err);

/* Records to delete: those of topic/partition before `offset`. */
struct kp_admin_cut {
	const char *topic;
	int32_t partition;
	int64_t offset;        /* -1: the high watermark (everything) */
	int64_t low_watermark; /* out: the partition's log start offset afterwards, -1 */
	int16_t error;         /* out: Kafka error code, 0 for none */
};

/*
 * kp_admin_delete_records - delete the records before each cut's offset
 * (DeleteRecords, KIP-107, to each partition's leader), filling each
 * cut's low_watermark and error: OFFSET_OUT_OF_RANGE for an offset past
 * the high watermark, UNKNOWN_TOPIC_OR_PARTITION for a partition that
 * does not exist, LEADER_NOT_AVAILABLE when it has no leader,
 * NETWORK_EXCEPTION when its leader cannot be reached. Returns 0, or -1
 * with err (KP_EPROTO when a leader does not serve DeleteRecords).
 */
int kp_admin_delete_records(kp_cluster *c, struct kp_admin_cut *cuts, size_t n, kp_error *err);

#endif
