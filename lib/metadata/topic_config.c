/*
 * topic_config.c - validation of topic-level configs (CreateTopics on
 * the controller and on a broker), by Kafka's LogConfig definitions:
 * names, types and ranges. Values are trimmed, as Kafka's ConfigDef does;
 * booleans are true/false in any case. The configs Kafka 4.4 has that
 * the table lacks (metadata/config_defs.h: remote storage, ...) are
 * checked by their type alone.
 *
 * Brokers apply them from the image: the log settings (segment.*,
 * retention.*, cleanup.policy, flush.*, compaction's) through
 * broker/log_config.c, max.message.bytes and message.timestamp.type on
 * produce, min.insync.replicas, and the replication throttles'
 * leader.replication.throttled.replicas and
 * follower.replication.throttled.replicas (KIP-73), and compression.type
 * with the level of its codec (compression.gzip.level, .lz4.level,
 * .zstd.level, KIP-390) on produce: batches of another codec are
 * re-compressed (record/recompress.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metadata/config_defs.h"
#include "metadata/topic_config.h"
#include "protocol/errors.h"

/*
 * CT_REPLICAS: a throttled-replicas list, Kafka's ThrottledReplicaListValidator (KIP-73).
 * CT_GZIP_LEVEL: an INT in [min, max] but for 0, GzipCompression.LevelValidator (KIP-390).
 */
enum config_type { CT_LONG, CT_INT, CT_DOUBLE, CT_BOOLEAN, CT_STRING, CT_LIST, CT_REPLICAS,
		   CT_GZIP_LEVEL,
		   CT_ANY /* a newer config known by type only (newer_config): any text */ };

struct topic_config {
	const char *name;
	enum config_type type;
	double min, max;       /* numbers: the valid range */
	const char *const *in; /* strings and list elements: the valid values */
};

#define LMAX 9223372036854775807.0
#define IMAX 2147483647.0

static const char *const compression_types[] = { "uncompressed", "zstd", "lz4", "snappy",
						 "gzip", "producer", NULL };
static const char *const cleanup_policies[] = { "compact", "delete", NULL };
static const char *const timestamp_types[] = { "CreateTime", "LogAppendTime", NULL };

/* Kafka's topic configs (LogConfig), sorted by name. */
static const struct topic_config configs[] = {
	{ "cleanup.policy", CT_LIST, 0, 0, cleanup_policies },
	/* KIP-390 levels: Kafka's GzipCompression, Lz4Compression, ZstdCompression (zstd-jni's min) */
	{ "compression.gzip.level", CT_GZIP_LEVEL, -1, 9, NULL },
	{ "compression.lz4.level", CT_INT, 1, 17, NULL },
	{ "compression.type", CT_STRING, 0, 0, compression_types },
	{ "compression.zstd.level", CT_INT, -131072, 22, NULL },
	{ "delete.retention.ms", CT_LONG, 0, LMAX, NULL },
	{ "file.delete.delay.ms", CT_LONG, 0, LMAX, NULL },
	{ "flush.messages", CT_LONG, 1, LMAX, NULL },
	{ "flush.ms", CT_LONG, 0, LMAX, NULL },
	{ "follower.replication.throttled.replicas", CT_REPLICAS, 0, 0, NULL },
	{ "index.interval.bytes", CT_INT, 0, IMAX, NULL },
	{ "leader.replication.throttled.replicas", CT_REPLICAS, 0, 0, NULL },
	{ "local.retention.bytes", CT_LONG, -2, LMAX, NULL },
	{ "local.retention.ms", CT_LONG, -2, LMAX, NULL },
	{ "max.compaction.lag.ms", CT_LONG, 1, LMAX, NULL },
	{ "max.message.bytes", CT_INT, 0, IMAX, NULL },
	{ "message.downconversion.enable", CT_BOOLEAN, 0, 0, NULL },
	{ "message.timestamp.difference.max.ms", CT_LONG, 0, LMAX, NULL },
	{ "message.timestamp.type", CT_STRING, 0, 0, timestamp_types },
	{ "min.cleanable.dirty.ratio", CT_DOUBLE, 0, 1, NULL },
	{ "min.compaction.lag.ms", CT_LONG, 0, LMAX, NULL },
	{ "min.insync.replicas", CT_INT, 1, IMAX, NULL },
	{ "preallocate", CT_BOOLEAN, 0, 0, NULL },
	{ "remote.storage.enable", CT_BOOLEAN, 0, 0, NULL },
	{ "retention.bytes", CT_LONG, -LMAX - 1, LMAX, NULL },
	{ "retention.ms", CT_LONG, -1, LMAX, NULL },
	{ "segment.bytes", CT_INT, 14, IMAX, NULL },
	{ "segment.index.bytes", CT_INT, 4, IMAX, NULL },
	{ "segment.jitter.ms", CT_LONG, 0, LMAX, NULL },
	{ "segment.ms", CT_LONG, 1, LMAX, NULL },
	{ "unclean.leader.election.enable", CT_BOOLEAN, 0, 0, NULL },
};

static const struct topic_config *find_config(const char *name)
{
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		if (strcmp(configs[i].name, name) == 0)
			return &configs[i];
	return NULL;
}

/*
 * newer_config - a topic config of Kafka 4.4 the table above lacks
 * (compression levels, remote storage, ...; metadata/config_defs.h),
 * checked by its type alone into *tmp; NULL for a name Kafka does not know.
 */
static const struct topic_config *newer_config(const char *name, struct topic_config *tmp)
{
	const struct kp_topic_config_def *d = kp_topic_config_def(name);

	if (!d)
		return NULL;
	*tmp = (struct topic_config){ d->name, CT_ANY, -LMAX - 1, LMAX, NULL };
	if (d->type == KP_CONFIG_TYPE_BOOLEAN)
		tmp->type = CT_BOOLEAN;
	else if (d->type == KP_CONFIG_TYPE_LONG)
		tmp->type = CT_LONG;
	else if (d->type == KP_CONFIG_TYPE_DOUBLE)
		tmp->type = CT_DOUBLE;
	else if (d->type == KP_CONFIG_TYPE_INT || d->type == KP_CONFIG_TYPE_SHORT)
		*tmp = (struct topic_config){ d->name, CT_INT, -IMAX - 1, IMAX, NULL };
	return tmp;
}

/* trim - `s` (n bytes) without leading and trailing white space, as [*start, *start + *n). */
static void trim(const char *s, size_t n, const char **start, size_t *len)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*start = s;
	*len = n;
}

/* one_of - whether s[0..n) is one of the NULL-terminated `in`. */
static bool one_of(const char *s, size_t n, const char *const *in)
{
	for (; *in; in++)
		if (strlen(*in) == n && strncmp(*in, s, n) == 0)
			return true;
	return false;
}

/* check_list - a comma-separated list of `in` values (Kafka: no empty elements). */
static const char *check_list(const char *v, const char *const *in)
{
	const char *s;
	size_t n;

	for (;;) {
		const char *end = strchr(v, ',');

		trim(v, end ? (size_t)(end - v) : strlen(v), &s, &n);
		if (!one_of(s, n, in))
			return "not a list of valid values";
		if (!end)
			return NULL;
		v = end + 1;
	}
}

/*
 * replica_entry - whether s[0..n) is empty or PARTITION:BROKER, both all
 * digits (Kafka's pattern "([0-9]+:[0-9]+)?").
 */
static bool replica_entry(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t a, b;

	if (n == 0)
		return true;
	if (!colon)
		return false;
	a = (size_t)(colon - s);
	b = n - a - 1;
	if (a == 0 || b == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (i != a && !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * check_replicas - Kafka's ThrottledReplicaListValidator: comma-separated
 * PARTITION:BROKER entries, or the literal "*" (beside empty entries only);
 * blanks around entries and empty entries are allowed.
 */
static const char *check_replicas(const char *v)
{
	bool star = false, listed = false, bad = false;
	const char *s;
	size_t n;

	for (;;) {
		const char *end = strchr(v, ',');

		trim(v, end ? (size_t)(end - v) : strlen(v), &s, &n);
		if (n == 1 && *s == '*')
			star = true;
		else if (!replica_entry(s, n))
			bad = true;
		else
			listed |= n > 0;
		if (!end)
			break;
		v = end + 1;
	}
	if (star ? !bad && !listed : !bad)
		return NULL;
	return "must be the literal '*' or a list of replicas in the following format: "
	       "[partitionId]:[brokerId],[partitionId]:[brokerId],...";
}

/* check_number - NULL, or why `v` is not a number of c's type within c's range. */
static const char *check_number(const struct topic_config *c, const char *v)
{
	char *end;
	double d;

	errno = 0;
	if (c->type == CT_DOUBLE) {
		d = strtod(v, &end);
	} else {
		long long l = strtoll(v, &end, 10);

		d = (double)l;
		if (c->type == CT_INT && (l < INT32_MIN || l > INT32_MAX))
			errno = ERANGE;
	}
	if (end == v || *end || errno)
		return c->type == CT_LONG ? "not a number of type LONG"
		     : c->type == CT_INT  ? "not a number of type INT"
					  : "not a number of type DOUBLE";
	if (d < c->min || d > c->max)
		return "value out of range";
	return NULL;
}

/* check_value - NULL, or why `value` (trimmed) is invalid for `c`. */
static const char *check_value(const struct topic_config *c, const char *value)
{
	const char *s;
	size_t n;

	trim(value, strlen(value), &s, &n);
	switch (c->type) {
	case CT_BOOLEAN:
		if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
		    (n == 5 && strncasecmp(s, "false", 5) == 0))
			return NULL;
		return "expected value to be either true or false";
	case CT_STRING:
		return one_of(s, n, c->in) ? NULL : "not one of the valid values";
	case CT_LIST:
		return check_list(value, c->in);
	case CT_REPLICAS:
		return check_replicas(value);
	case CT_ANY:
		return NULL;
	default: {
		char num[64];
		const char *why;

		if (n >= sizeof(num))
			return "not a number";
		memcpy(num, s, n);
		num[n] = '\0';
		if (c->type != CT_GZIP_LEVEL)
			return check_number(c, num);
		why = check_number(&(struct topic_config){ c->name, CT_INT, c->min, c->max, NULL }, num);
		if (why && strcmp(why, "value out of range") != 0)
			return why;
		if (why || strtol(num, NULL, 10) == 0)
			return "Value must be between 1 and 9 or equal to -1";
		return NULL;
	}
	}
}

int16_t kp_topic_config_check(const char *name, const char *value, char *msg, size_t size)
{
	struct topic_config newer;
	const struct topic_config *c = find_config(name ? name : "");
	const char *why = NULL;

	if (!c)
		c = newer_config(name ? name : "", &newer);
	if (!c)
		snprintf(msg, size, "Unknown topic config name: %s", name ? name : "");
	else if (!value)
		snprintf(msg, size, "Null value not supported for topic config: %s", name);
	else if ((why = check_value(c, value)) && c->type == CT_REPLICAS)
		snprintf(msg, size, "Invalid value %.200s for configuration %s: %s %s", value, name,
			 name, why); /* Kafka's validator names the config again */
	else if (why)
		snprintf(msg, size, "Invalid value %.200s for configuration %s: %s", value, name, why);
	else
		return KP_ERR_NONE;
	return KP_ERR_INVALID_CONFIG;
}
