/*
 * log_config.h - a partition log's settings from Kafka's configs, at the
 * three levels Kafka has (LogConfig and its broker synonyms): the
 * broker's static log.* properties, then dynamic cluster-wide and
 * per-broker defaults (ConfigRecords on the broker resource), then the
 * topic's own configs (retention.ms, segment.bytes, cleanup.policy, ...).
 * One table maps each topic config to its broker synonyms.
 */
#ifndef KP_BROKER_LOG_CONFIG_H
#define KP_BROKER_LOG_CONFIG_H

#include <stdbool.h>

#include "log/log.h"
#include "util/config.h"
#include "util/error.h"

struct kp_broker;

/*
 * kp_log_config_broker_key - whether `key` is a broker property this table
 * parses (the log.* synonyms, compression.type and the compression levels).
 */
bool kp_log_config_broker_key(const char *key);

/*
 * kp_log_config_parse_static - the log.* retention, cleanup and roll
 * properties of `c` (log.retention.{hours,minutes,ms}, log.retention.bytes,
 * log.cleanup.policy, log.roll.hours, log.cleaner.{delete.retention.ms,
 * min.cleanable.ratio, min.compaction.lag.ms, max.compaction.lag.ms})
 * into `l`, over what it holds; the more precise synonym wins (ms over
 * minutes over hours, as KafkaConfig). compression.type and
 * compression.{gzip,lz4,zstd}.level are only checked here (Kafka refuses
 * to start with a value out of their ranges; they are applied per topic by
 * kp_topic_log_configs_sync). Returns 0, or -1 with KP_EINVAL naming the
 * key of a value out of range.
 */
int kp_log_config_parse_static(const kp_config *c, struct kp_log_config *l, kp_error *err);

/*
 * kp_log_config_apply_topic - set the field of topic config `name` (Kafka's
 * LogConfig name: "retention.ms") in `l` from `value`. Returns true when
 * `name` is a log setting and `value` valid; false leaves `l` alone (not a
 * log setting, or a value the controller should have refused).
 */
bool kp_log_config_apply_topic(struct kp_log_config *l, const char *name, const char *value);

/*
 * kp_topic_log_config - the settings of topic `topic`'s logs on broker `b`:
 * its static log settings, the image's dynamic broker defaults ("" then
 * this broker's id) and the topic's configs, in that order, into *out.
 */
void kp_topic_log_config(const struct kp_broker *b, const char *topic, struct kp_log_config *out);

/*
 * kp_topic_log_configs_sync - after each publish of the metadata image:
 * every hosted log takes its topic's settings (kp_log_set_config), each
 * topic's max.message.bytes, compacted, log_append_time and its
 * compression.type with the level of that codec (recompress, compression,
 * compression_level: topic config, else the broker's dynamic then static
 * compression.type and compression.*.level) are refreshed, and a change of
 * the log settings or of the compression is logged at INFO.
 */
void kp_topic_log_configs_sync(struct kp_broker *b);

#endif
