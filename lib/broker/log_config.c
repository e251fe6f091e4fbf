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

bool kp_log_config_broker_key(const char *key)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (strcmp(table[i].broker, key) == 0)
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

/* timestamp_type - message.timestamp.type of `topic`: its config, else the broker's (dynamic, static). */
static const char *timestamp_type(const struct kp_broker *b, const char *topic)
{
	const kp_image *img = b->cluster->image;
	char id[16];
	const char *v = kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, topic,
					      "message.timestamp.type");

	snprintf(id, sizeof(id), "%d", b->cfg.node_id);
	if (!v)
		v = kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, id, "log.message.timestamp.type");
	if (!v)
		v = kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "", "log.message.timestamp.type");
	if (!v && b->props)
		v = kp_config_get(b->props, "log.message.timestamp.type");
	return v ? v : "CreateTime";
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
