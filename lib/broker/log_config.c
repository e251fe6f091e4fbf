/*
 * log_config.c - Kafka's log configs at their three levels, one table:
 *
 *   topic config               broker synonyms (lowest precedence first)
 *   segment.bytes              log.segment.bytes
 *   segment.ms                 log.roll.hours, log.roll.ms
 *   retention.ms               log.retention.hours, .minutes, .ms
 *   retention.bytes            log.retention.bytes
 *   cleanup.policy             log.cleanup.policy
 *   delete.retention.ms        log.cleaner.delete.retention.ms
 *   ...
 *
 * A log's settings: the broker's static properties (config.c parses the
 * older ones, kp_log_config_parse_static these), overridden by dynamic
 * broker defaults in the image (cluster-wide "", then this broker's id),
 * overridden by the topic's configs (Kafka's LogConfig.fromProps over
 * KafkaConfig.extractLogConfigMap). The controller validated every topic
 * value already (metadata/topic_config.c); a value this table cannot take
 * is skipped, never fatal to the broker.
 *
 * The produce settings each topic keeps (struct kp_topic) are found the
 * same way, layer by layer: max.message.bytes, message.timestamp.type
 * (broker: log.message.timestamp.type), and compression.type with
 * compression.gzip.level, compression.lz4.level, compression.zstd.level
 * (KIP-390), whose broker synonyms have the same names. A value a layer
 * holds that is not valid (a dynamic config the controller took as it
 * came) is passed over for the next layer's.
 */
#include "broker/log_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "metadata/image.h"
#include "record/compress.h"
#include "record/recompress.h"
#include "util/diag.h"

enum kind { K_LONG, K_INT, K_RATIO, K_POLICY };

struct entry {
	const char *topic;  /* LogConfig name, NULL for a broker-only synonym */
	const char *broker; /* the broker property */
	enum kind kind;
	size_t field;       /* offsetof in struct kp_log_config */
	int64_t min, max;   /* K_LONG/K_INT: valid range, before `mult` */
	int64_t mult;       /* K_LONG: unit in ms (hours, minutes) */
	bool negative_unlimited; /* a negative value (after mult) means -1: unlimited */
};

#define F(x) offsetof(struct kp_log_config, x)
#define LMAX INT64_MAX
#define IMAX INT32_MAX

/* Lowest precedence first among the synonyms of one field. */
static const struct entry table[] = {
	{ "segment.bytes", "log.segment.bytes", K_LONG, F(segment_bytes), 14, IMAX, 1, false },
	{ NULL, "log.roll.hours", K_LONG, F(segment_ms), 1, IMAX, 3600000, false },
	{ "segment.ms", "log.roll.ms", K_LONG, F(segment_ms), 1, LMAX, 1, false },
	{ "index.interval.bytes", "log.index.interval.bytes", K_INT, F(index_interval_bytes), 0, IMAX, 1, false },
	{ "segment.index.bytes", "log.index.size.max.bytes", K_INT, F(max_index_bytes), 4, IMAX, 1, false },
	{ "flush.messages", "log.flush.interval.messages", K_LONG, F(flush_messages), 1, LMAX, 1, false },
	{ "flush.ms", "log.flush.interval.ms", K_LONG, F(flush_ms), 0, LMAX, 1, false },
	{ NULL, "log.retention.hours", K_LONG, F(retention_ms), INT32_MIN, IMAX, 3600000, true },
	{ NULL, "log.retention.minutes", K_LONG, F(retention_ms), INT32_MIN, IMAX, 60000, true },
	{ "retention.ms", "log.retention.ms", K_LONG, F(retention_ms), -1, LMAX, 1, true },
	{ "retention.bytes", "log.retention.bytes", K_LONG, F(retention_bytes), INT64_MIN, LMAX, 1, true },
	{ "cleanup.policy", "log.cleanup.policy", K_POLICY, 0, 0, 0, 0, false },
	{ "delete.retention.ms", "log.cleaner.delete.retention.ms", K_LONG, F(delete_retention_ms), 0, LMAX, 1, false },
	{ "min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", K_RATIO, F(min_cleanable_dirty_ratio), 0, 0, 0, false },
	{ "min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", K_LONG, F(min_compaction_lag_ms), 0, LMAX, 1, false },
	{ "max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", K_LONG, F(max_compaction_lag_ms), 1, LMAX, 1, false },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

/* parse_policy - "delete", "compact" or both, comma-separated, any spaces; false when invalid. */
static bool parse_policy(const char *v, bool *del, bool *compact)
{
	bool d = false, c = false;

	while (*v) {
		size_t n;

		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == 0)
			break;
		if (n == 6 && strncasecmp(v, "delete", 6) == 0)
			d = true;
		else if (n == 7 && strncasecmp(v, "compact", 7) == 0)
			c = true;
		else
			return false;
		v += n;
	}
	*del = d;
	*compact = c;
	return true; /* "" is Kafka 4's "no cleanup": neither */
}

/* parse_long - a whole number in [min, max]. */
static bool parse_long(const char *v, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	while (end != v && (*end == ' ' || *end == '\t'))
		end++;
	if (errno || end == v || *end || x < min || x > max)
		return false;
	*out = x;
	return true;
}

/* apply - set e's field of `l` from `v`; false when `v` is not a valid value. */
static bool apply(const struct entry *e, struct kp_log_config *l, const char *v)
{
	char *base = (char *)l;
	int64_t x;
	double r;
	char *end;

	switch (e->kind) {
	case K_POLICY:
		return parse_policy(v, &l->cleanup_delete, &l->cleanup_compact);
	case K_RATIO:
		errno = 0;
		r = strtod(v, &end);
		if (errno || end == v || *end || !(r >= 0 && r <= 1))
			return false;
		*(double *)(base + e->field) = r;
		return true;
	case K_INT:
		if (!parse_long(v, e->min, e->max, &x))
			return false;
		*(int32_t *)(base + e->field) = (int32_t)x;
		return true;
	case K_LONG:
		if (!parse_long(v, e->min, e->max, &x))
			return false;
		if (e->negative_unlimited && x < 0)
			x = -1;
		else if (e->mult > 1 && x > INT64_MAX / e->mult)
			x = INT64_MAX;
		else
			x *= e->mult;
		*(int64_t *)(base + e->field) = x;
		return true;
	}
	return false;
}

/* The compression settings: topic configs and broker properties of the same names. */
static const struct {
	const char *key;
	int codec; /* the codec a level is for; -1 for compression.type */
} compression_keys[] = {
	{ "compression.type", -1 },
	{ "compression.gzip.level", KP_COMPRESSION_GZIP },
	{ "compression.lz4.level", KP_COMPRESSION_LZ4 },
	{ "compression.zstd.level", KP_COMPRESSION_ZSTD },
};

#define NCOMPRESSION (sizeof(compression_keys) / sizeof(compression_keys[0]))

/* type_valid - whether `v` is a compression.type value (Kafka's BrokerCompressionType names). */
static bool type_valid(const char *v)
{
	int codec;

	return kp_compression_type_parse(v, &codec);
}

/* level_of - the level `v` gives compression key i, or INT64_MIN when not a valid one. */
static int64_t level_of(size_t i, const char *v)
{
	int64_t x;

	while (*v == ' ' || *v == '\t')
		v++;
	if (!parse_long(v, INT32_MIN, IMAX, &x) ||
	    !kp_compression_level_valid(compression_keys[i].codec, (int)x))
		return INT64_MIN;
	return x;
}

/* compression_valid - whether `v` is a valid value of compression key i. */
static bool compression_valid(size_t i, const char *v)
{
	return compression_keys[i].codec < 0 ? type_valid(v) : level_of(i, v) != INT64_MIN;
}

bool kp_log_config_broker_key(const char *key)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (strcmp(table[i].broker, key) == 0)
			return true;
	for (size_t i = 0; i < NCOMPRESSION; i++)
		if (strcmp(compression_keys[i].key, key) == 0)
			return true;
	return false;
}

int kp_log_config_parse_static(const kp_config *c, struct kp_log_config *l, kp_error *err)
{
	for (size_t i = 0; i < NTABLE; i++) {
		const char *v = kp_config_get(c, table[i].broker);

		if (v && !apply(&table[i], l, v))
			return kp_error_set(err, KP_EINVAL, "%s: invalid value '%s'", table[i].broker, v);
	}
	for (size_t i = 0; i < NCOMPRESSION; i++) {
		const char *v = kp_config_get(c, compression_keys[i].key);

		if (v && !compression_valid(i, v))
			return kp_error_set(err, KP_EINVAL, "%s: invalid value '%s'",
					    compression_keys[i].key, v);
	}
	return 0;
}

bool kp_log_config_apply_topic(struct kp_log_config *l, const char *name, const char *value)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].topic && strcmp(table[i].topic, name) == 0)
			return value && apply(&table[i], l, value);
	return false;
}

/* apply_broker_resource - the image's dynamic configs of broker resource `res` over `l`. */
static void apply_broker_resource(const kp_image *img, const char *res, struct kp_log_config *l)
{
	for (size_t i = 0; i < NTABLE; i++) {
		const char *v = kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, res, table[i].broker);

		if (v && !apply(&table[i], l, v))
			kp_diag_warn("dynamic broker config %s='%s' ignored: invalid", table[i].broker, v);
	}
}

void kp_topic_log_config(const struct kp_broker *b, const char *topic, struct kp_log_config *out)
{
	const kp_image *img = b->cluster ? b->cluster->image : NULL;
	char id[16];

	*out = b->cfg.log;
	if (!img)
		return;
	snprintf(id, sizeof(id), "%d", b->cfg.node_id);
	apply_broker_resource(img, "", out);
	apply_broker_resource(img, id, out);
	for (const struct kp_image_config *c = kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC, topic);
	     c; c = kp_image_config_next(img, c))
		kp_log_config_apply_topic(out, c->name, c->value);
}

/*
 * topic_setting - topic config `name` of `topic`, else broker property
 * `broker_key` (dynamic for this broker, dynamic cluster default, static):
 * the first layer's value that `valid` (NULL: any) accepts, or NULL.
 */
static const char *topic_setting(const struct kp_broker *b, const char *topic, const char *name,
				 const char *broker_key, bool (*valid)(const char *))
{
	const kp_image *img = b->cluster->image;
	const char *layer[4];
	char id[16];

	snprintf(id, sizeof(id), "%d", b->cfg.node_id);
	layer[0] = kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, topic, name);
	layer[1] = kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, id, broker_key);
	layer[2] = kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "", broker_key);
	layer[3] = b->props ? kp_config_get(b->props, broker_key) : NULL;
	for (int i = 0; i < 4; i++)
		if (layer[i] && (!valid || valid(layer[i])))
			return layer[i];
	return NULL;
}

/* timestamp_type - message.timestamp.type of `topic`: its config, else the broker's (dynamic, static). */
static const char *timestamp_type(const struct kp_broker *b, const char *topic)
{
	const char *v = topic_setting(b, topic, "message.timestamp.type",
				      "log.message.timestamp.type", NULL);

	return v ? v : "CreateTime";
}

/* level_valid_gzip, _lz4, _zstd - topic_setting's predicates for the levels. */
static bool level_valid_gzip(const char *v) { return compression_valid(1, v); }
static bool level_valid_lz4(const char *v) { return compression_valid(2, v); }
static bool level_valid_zstd(const char *v) { return compression_valid(3, v); }

/*
 * sync_compression - t's compression.type and the level of its codec
 * (Kafka's LogConfig.compression, KIP-390); INFO when they change.
 */
static void sync_compression(struct kp_broker *b, struct kp_topic *t)
{
	static bool (*const level_valid[])(const char *) = { level_valid_gzip, level_valid_lz4,
							     level_valid_zstd };
	const char *type = topic_setting(b, t->name, "compression.type", "compression.type",
					 type_valid);
	const char *v;
	int codec = KP_COMPRESSION_PRODUCER, level = 0;
	bool recompress;

	if (type)
		kp_compression_type_parse(type, &codec);
	recompress = codec != KP_COMPRESSION_PRODUCER;
	if (recompress)
		level = kp_compression_level_default(codec);
	for (size_t i = 1; recompress && i < NCOMPRESSION; i++)
		if (compression_keys[i].codec == codec &&
		    (v = topic_setting(b, t->name, compression_keys[i].key, compression_keys[i].key,
				       level_valid[i - 1])))
			level = (int)level_of(i, v);
	if (recompress == t->recompress && (!recompress || (t->compression == codec &&
							    t->compression_level == level)))
		return;
	t->recompress = recompress;
	t->compression = (int8_t)(recompress ? codec : KP_COMPRESSION_NONE);
	t->compression_level = level;
	kp_diag_info("compression.type of %s: %s (level %d)", t->name,
		     type ? type : "producer", level);
}

/* sync_topic - t's hosted logs and its produce settings take the topic's current configs. */
static void sync_topic(struct kp_broker *b, struct kp_topic *t)
{
	const char *mmb = kp_image_config_value(b->cluster->image, KP_CONFIG_RESOURCE_TOPIC, t->name,
						"max.message.bytes");
	struct kp_log_config cfg;
	int64_t max = 0;
	int changed = 0;

	if (mmb && !parse_long(mmb, 0, IMAX, &max))
		max = 0;
	t->max_message_bytes = (int32_t)max;
	t->log_append_time = strcmp(timestamp_type(b, t->name), "LogAppendTime") == 0;
	sync_compression(b, t);
	kp_topic_log_config(b, t->name, &cfg);
	t->compacted = cfg.cleanup_compact;
	for (int32_t i = 0; i < t->partition_count; i++)
		if (t->partitions[i].log)
			changed += kp_log_set_config(t->partitions[i].log, &cfg);
	if (changed > 0)
		kp_diag_info("log settings of %s: segment.bytes %lld, segment.ms %lld, retention.ms %lld, "
			     "retention.bytes %lld, cleanup.policy %s%s%s (%d partition(s) here)",
			     t->name, (long long)cfg.segment_bytes, (long long)cfg.segment_ms,
			     (long long)cfg.retention_ms, (long long)cfg.retention_bytes,
			     cfg.cleanup_delete ? "delete" : "",
			     cfg.cleanup_delete && cfg.cleanup_compact ? "," : "",
			     cfg.cleanup_compact ? "compact" : "", changed);
}

void kp_topic_log_configs_sync(struct kp_broker *b)
{
	if (!b->cluster || !b->cluster->image)
		return;
	for (size_t i = 0; i < kp_topics_count(b->topics); i++)
		sync_topic(b, kp_topics_at(b->topics, i));
}
