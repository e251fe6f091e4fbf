/*
 * config.c - broker settings from Kafka-named properties; see config.h.
 */
#include "broker/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/log_config.h"
#include "broker/topics.h"
#include "net/net.h"
#include "util/diag.h"

static const char *const known_keys[] = {
	"node.id", "broker.id", "listeners", "advertised.listeners", "log.dirs", "log.dir",
	"num.partitions", "auto.create.topics.enable", "default.replication.factor",
	"message.max.bytes", "socket.request.max.bytes", "log.segment.bytes", "log.roll.ms",
	"log.index.interval.bytes", "log.index.size.max.bytes", "log.flush.interval.messages",
	"log.flush.interval.ms", "log.flush.scheduler.interval.ms", "connections.max.idle.ms",
	"group.initial.rebalance.delay.ms", "group.min.session.timeout.ms",
	"group.max.session.timeout.ms", "group.max.size", "offsets.retention.minutes",
	"offsets.retention.check.interval.ms", "offset.metadata.max.bytes",
	"offsets.topic.num.partitions", "offsets.topic.replication.factor",
	"offsets.commit.timeout.ms",
	"group.consumer.session.timeout.ms", "group.consumer.heartbeat.interval.ms",
	"group.consumer.max.size", "group.consumer.assignors", "group.consumer.migration.policy",
	"cluster.id", "process.roles", "controller.quorum.voters",
	"controller.quorum.bootstrap.servers", "controller.listener.names", "metadata.log.dir",
	"broker.rack", "broker.heartbeat.interval.ms", "broker.session.timeout.ms",
	"initial.broker.registration.timeout.ms", "controller.quorum.election.timeout.ms",
	"controller.quorum.fetch.timeout.ms", "controller.quorum.request.timeout.ms",
	"controller.quorum.retry.backoff.ms", "listener.security.protocol.map",
	"replica.lag.time.max.ms", "replica.fetch.wait.max.ms", "replica.fetch.min.bytes",
	"replica.fetch.max.bytes", "replica.fetch.response.max.bytes", "replica.fetch.backoff.ms",
	"replica.socket.timeout.ms", "min.insync.replicas", "inter.broker.listener.name",
	"kpipe.test.high.watermark.ignores.isr", "kpipe.test.isr.admits.lagging.followers",
	"kpipe.test.follower.ignores.diverging.epochs", "replica.high.watermark.checkpoint.interval.ms",
	"unclean.leader.election.enable", "replica.selector.class",
	"leader.replication.throttled.rate", "follower.replication.throttled.rate",
	"replication.quota.window.num", "replication.quota.window.size.seconds",
	"auto.leader.rebalance.enable", "leader.imbalance.check.interval.seconds",
	"leader.imbalance.per.broker.percentage", "producer.id.expiration.ms",
	"producer.id.expiration.check.interval.ms", "log.retention.check.interval.ms", "log.message.timestamp.type", NULL,
};

static bool key_known(const char *key)
{
	for (int i = 0; known_keys[i]; i++)
		if (strcmp(known_keys[i], key) == 0)
			return true;
	return kp_log_config_broker_key(key) || kp_cleaner_config_key(key);
}

int kp_broker_listener_parse(const char *s, struct kp_broker_listener *l, kp_error *err)
{
	const char *sep = strstr(s, "://");

	memset(l, 0, sizeof(*l));
	if (!sep || sep == s || (size_t)(sep - s) >= sizeof(l->name))
		return kp_error_set(err, KP_EINVAL, "bad listener '%s': expected NAME://HOST:PORT", s);
	memcpy(l->name, s, (size_t)(sep - s));
	if (strcmp(l->name, "PLAINTEXT") != 0)
		return kp_error_set(err, KP_EINVAL, "listener '%s': security protocol %s is not supported",
				    s, l->name);
	l->proto = KP_SECURITY_PLAINTEXT;
	const char *hp = sep + 3, *colon;

	if (*hp == '[') {
		const char *close = strchr(hp, ']');

		if (!close || close[1] != ':')
			return kp_error_set(err, KP_EINVAL, "bad listener '%s'", s);
		if ((size_t)(close - hp - 1) >= sizeof(l->host))
			return kp_error_set(err, KP_EINVAL, "bad listener '%s'", s);
		memcpy(l->host, hp + 1, (size_t)(close - hp - 1));
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon || (size_t)(colon - hp) >= sizeof(l->host))
			return kp_error_set(err, KP_EINVAL, "bad listener '%s': expected NAME://HOST:PORT", s);
		memcpy(l->host, hp, (size_t)(colon - hp));
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);

	if (colon[1] == '\0' || *end || port < 0 || port > 65535)
		return kp_error_set(err, KP_EINVAL, "bad port in listener '%s'", s);
	l->port = (int)port;
	return 0;
}

/* parse_listeners - a comma-separated list into `out` (at most KP_BROKER_MAX_LISTENERS),
 * leaving out the one named `skip` (combined mode's controller listener; NULL: none). */
static int parse_listeners(const char *key, const char *value, struct kp_broker_listener *out,
			   int *count, const char *skip, kp_error *err)
{
	char *copy = strdup(value), *save = NULL;
	size_t skip_len = skip ? strlen(skip) : 0;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*count = 0;
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (skip_len && strncmp(tok, skip, skip_len) == 0 &&
		    strncmp(tok + skip_len, "://", 3) == 0)
			continue;
		if (*count == KP_BROKER_MAX_LISTENERS || kp_broker_listener_parse(tok, &out[*count], err) < 0) {
			if (*count == KP_BROKER_MAX_LISTENERS)
				kp_error_set(err, KP_EINVAL, "%s: too many listeners", key);
			free(copy);
			return -1;
		}
		(*count)++;
	}
	free(copy);
	if (*count == 0)
		return kp_error_set(err, KP_EINVAL, "%s: no listener given", key);
	return 0;
}

static int parse_log_dirs(const char *value, struct kp_broker_config *out, kp_error *err)
{
	char *copy = strdup(value), *save = NULL;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (out->log_dir_count == KP_BROKER_MAX_LOG_DIRS) {
			free(copy);
			return kp_error_set(err, KP_EINVAL, "log.dirs: too many directories");
		}
		out->log_dirs[out->log_dir_count] = strdup(tok);
		if (!out->log_dirs[out->log_dir_count]) {
			free(copy);
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		}
		out->log_dir_count++;
	}
	free(copy);
	if (out->log_dir_count == 0)
		return kp_error_set(err, KP_EINVAL, "log.dirs: no directory given");
	return 0;
}

static int parse_numbers(const kp_config *c, struct kp_broker_config *o, kp_error *err)
{
	int64_t v;

	const char *idkey = kp_config_get(c, "node.id") ? "node.id" : "broker.id";
	if (kp_config_get_int64(c, idkey, 1, 0, INT32_MAX, &v, err) < 0)
		return -1;
	o->node_id = (int32_t)v;
	if (kp_config_get_int64(c, "num.partitions", 1, 1, KP_TOPIC_MAX_PARTITIONS, &v, err) < 0)
		return -1;
	o->num_partitions = (int32_t)v;
	if (kp_config_get_int64(c, "default.replication.factor", 1, 1, INT16_MAX, &v, err) < 0)
		return -1;
	o->default_replication_factor = (int16_t)v;
	if (kp_config_get_int64(c, "message.max.bytes", 1048588, 0, INT32_MAX, &v, err) < 0)
		return -1;
	o->message_max_bytes = (int32_t)v;
	if (kp_config_get_int64(c, "socket.request.max.bytes", 104857600, 1, INT32_MAX,
				&o->socket_request_max_bytes, err) < 0)
		return -1;
	if (kp_config_get_int64(c, "connections.max.idle.ms", 600000, -1, INT64_MAX / 2,
				&o->connections_max_idle_ms, err) < 0 ||
	    kp_config_get_int64(c, "log.flush.scheduler.interval.ms", INT64_MAX, 1, INT64_MAX,
				&o->flush_scheduler_ms, err) < 0 ||
	    kp_config_get_int64(c, "producer.id.expiration.ms", 86400000, 1, INT32_MAX,
				&o->producer_id_expiration_ms, err) < 0 ||
	    kp_config_get_int64(c, "producer.id.expiration.check.interval.ms", 600000, 1,
				INT32_MAX, &o->producer_id_expiration_check_ms, err) < 0 ||
	    kp_config_get_int64(c, "log.retention.check.interval.ms", 300000, 1, INT32_MAX,
				&o->log_retention_check_ms, err) < 0)
		return -1;
	return kp_config_get_bool(c, "auto.create.topics.enable", true, &o->auto_create_topics, err);
}

/* parse_group_config - the group coordinator's settings, Kafka's names and defaults. */
/* assignor_name - a group.consumer.assignors entry: Kafka's short name or class name. */
static const char *assignor_name(const char *s, size_t n)
{
	static const char *const names[][2] = {
		{ "uniform", "org.apache.kafka.coordinator.group.assignor.UniformAssignor" },
		{ "range", "org.apache.kafka.coordinator.group.assignor.RangeAssignor" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (int k = 0; k < 2; k++)
			if (strlen(names[i][k]) == n && strncmp(names[i][k], s, n) == 0)
				return names[i][0];
	return NULL;
}

/* parse_migration_policy - group.consumer.migration.policy (KIP-848), case-insensitive as Kafka's. */
static int parse_migration_policy(const kp_config *c, struct kp_group_config *g, kp_error *err)
{
	const char *p = kp_config_get_str(c, "group.consumer.migration.policy", "bidirectional");

	if (strcasecmp(p, "bidirectional") == 0)
		g->consumer_upgrade = g->consumer_downgrade = true;
	else if (strcasecmp(p, "upgrade") == 0 || strcasecmp(p, "downgrade") == 0 ||
		 strcasecmp(p, "disabled") == 0) {
		g->consumer_upgrade = strcasecmp(p, "upgrade") == 0;
		g->consumer_downgrade = strcasecmp(p, "downgrade") == 0;
	} else {
		return kp_error_set(err, KP_EINVAL, "group.consumer.migration.policy: '%s' is not "
				    "bidirectional, upgrade, downgrade or disabled", p);
	}
	return 0;
}

/* parse_consumer_group_config - the group.consumer.* settings of KIP-848's coordinator. */
static int parse_consumer_group_config(const kp_config *c, struct kp_group_config *g, kp_error *err)
{
	const char *list = kp_config_get_str(c, "group.consumer.assignors", "uniform,range");
	int64_t v[3];
	int n = 0;

	if (kp_config_get_int64(c, "group.consumer.session.timeout.ms", 45000, 1, INT32_MAX, &v[0],
				err) < 0 ||
	    kp_config_get_int64(c, "group.consumer.heartbeat.interval.ms", 5000, 1, INT32_MAX, &v[1],
				err) < 0 ||
	    kp_config_get_int64(c, "group.consumer.max.size", INT32_MAX, 1, INT32_MAX, &v[2], err) < 0)
		return -1;
	g->consumer_session_timeout_ms = (int32_t)v[0];
	g->consumer_heartbeat_interval_ms = (int32_t)v[1];
	g->consumer_max_size = (int32_t)v[2];
	memset(g->consumer_assignors, 0, sizeof(g->consumer_assignors));
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		size_t lead = strspn(p, " ");
		const char *name;

		while (len > lead && p[len - 1] == ' ')
			len--;
		if (!(name = assignor_name(p + lead, len - lead)) || n == 4)
			return kp_error_set(err, KP_EINVAL, "group.consumer.assignors: unknown assignor "
					    "'%.*s' (uniform, range)", (int)(len - lead), p + lead);
		g->consumer_assignors[n++] = name;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	if (n == 0)
		return kp_error_set(err, KP_EINVAL, "group.consumer.assignors: empty");
	return parse_migration_policy(c, g, err);
}

static int parse_group_config(const kp_config *c, struct kp_broker_config *o, kp_error *err)
{
	struct kp_group_config *g = &o->group;
	int64_t v[8];

	kp_group_config_default(g);
	if (kp_config_get_int64(c, "group.initial.rebalance.delay.ms", g->initial_rebalance_delay_ms,
				0, INT32_MAX, &v[0], err) < 0 ||
	    kp_config_get_int64(c, "group.min.session.timeout.ms", g->min_session_timeout_ms, 0,
				INT32_MAX, &v[1], err) < 0 ||
	    kp_config_get_int64(c, "group.max.session.timeout.ms", g->max_session_timeout_ms, 0,
				INT32_MAX, &v[2], err) < 0 ||
	    kp_config_get_int64(c, "group.max.size", g->max_size, 1, INT32_MAX, &v[3], err) < 0 ||
	    kp_config_get_int64(c, "offsets.retention.minutes", 10080, 1, INT32_MAX, &v[4], err) < 0 ||
	    kp_config_get_int64(c, "offset.metadata.max.bytes", 4096, 0, INT32_MAX, &v[5], err) < 0 ||
	    kp_config_get_int64(c, "offsets.retention.check.interval.ms", 600000, 1, INT64_MAX / 2,
				&g->offsets_retention_check_interval_ms, err) < 0 ||
	    kp_config_get_int64(c, "offsets.topic.num.partitions", 50, 1, KP_TOPIC_MAX_PARTITIONS,
				&v[6], err) < 0 ||
	    kp_config_get_int64(c, "offsets.topic.replication.factor", 1, 1, INT16_MAX, &v[7],
				err) < 0)
		return -1;
	if (parse_consumer_group_config(c, g, err) < 0 ||
	    kp_config_get_int64(c, "offsets.commit.timeout.ms", 5000, 1, INT32_MAX,
				&o->offsets_commit_timeout_ms, err) < 0)
		return -1;
	o->offsets_topic_partitions = (int32_t)v[6];
	o->offsets_topic_replication_factor = (int16_t)v[7];
	g->initial_rebalance_delay_ms = (int32_t)v[0];
	g->min_session_timeout_ms = (int32_t)v[1];
	g->max_session_timeout_ms = (int32_t)v[2];
	g->max_size = (int32_t)v[3];
	g->offsets_retention_ms = v[4] * 60000;
	g->offset_metadata_max_bytes = (int32_t)v[5];
	return 0;
}

static int parse_log_config(const kp_config *c, struct kp_log_config *l, kp_error *err)
{
	int64_t v;

	kp_log_config_default(l);
	if (kp_config_get_int64(c, "log.segment.bytes", l->segment_bytes, 14, INT32_MAX,
				&l->segment_bytes, err) < 0 ||
	    kp_config_get_int64(c, "log.roll.ms", l->segment_ms, 1, INT64_MAX, &l->segment_ms, err) < 0 ||
	    kp_config_get_int64(c, "log.flush.interval.messages", l->flush_messages, 1, INT64_MAX,
				&l->flush_messages, err) < 0 ||
	    kp_config_get_int64(c, "log.flush.interval.ms", l->flush_ms, 0, INT64_MAX,
				&l->flush_ms, err) < 0)
		return -1;
	if (kp_config_get_int64(c, "log.index.interval.bytes", l->index_interval_bytes, 0, INT32_MAX,
				&v, err) < 0)
		return -1;
	l->index_interval_bytes = (int32_t)v;
	if (kp_config_get_int64(c, "log.index.size.max.bytes", l->max_index_bytes, 4, INT32_MAX,
				&v, err) < 0)
		return -1;
	l->max_index_bytes = (int32_t)v;
	return kp_log_config_parse_static(c, l, err);
}

/*
 * controller_listener - in combined mode (process.roles names the
 * controller too), the first of controller.listener.names, copied into
 * buf: that listener is the embedded controller's, not the broker's.
 * NULL otherwise.
 */
static const char *controller_listener(const kp_config *c, char *buf, size_t size)
{
	const char *roles = kp_config_get_str(c, "process.roles", "broker");
	const char *names = kp_config_get_str(c, "controller.listener.names", "");
	size_t n = strcspn(names, ", \t");

	if (!strstr(roles, "controller") || n == 0 || n >= size)
		return NULL;
	memcpy(buf, names, n);
	buf[n] = '\0';
	return buf;
}

int kp_broker_config_parse(const kp_config *c, struct kp_broker_config *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < kp_config_count(c); i++)
		if (!key_known(kp_config_key(c, i)))
			kp_diag_warn("unknown configuration key '%s' ignored", kp_config_key(c, i));
	if (parse_numbers(c, out, err) < 0 || parse_log_config(c, &out->log, err) < 0 ||
	    parse_group_config(c, out, err) < 0 ||
	    kp_replica_config_parse(c, &out->replica, err) < 0 ||
	    kp_cleaner_config_parse(c, &out->cleaner, err) < 0)
		goto fail;
	const char *ls = kp_config_get_str(c, "listeners", KP_BROKER_DEFAULT_LISTENERS);
	char name[64];
	const char *skip = controller_listener(c, name, sizeof(name));

	if (parse_listeners("listeners", ls, out->listeners, &out->listener_count, skip, err) < 0 ||
	    parse_listeners("advertised.listeners", kp_config_get_str(c, "advertised.listeners", ls),
			    out->advertised, &out->advertised_count, skip, err) < 0)
		goto fail;
	const char *dirs = kp_config_get(c, "log.dirs");

	if (!dirs)
		dirs = kp_config_get_str(c, "log.dir", "/tmp/kpipe-logs");
	if (parse_log_dirs(dirs, out, err) < 0 ||
	    kp_broker_quorum_config_parse(c, out->node_id, out->log_dirs[0], &out->quorum, err) < 0)
		goto fail;

	const char *cid = kp_config_get_str(c, "cluster.id", "");

	if (strlen(cid) >= sizeof(out->cluster_id)) {
		kp_error_set(err, KP_EINVAL, "cluster.id: '%s' is too long", cid);
		goto fail;
	}
	snprintf(out->cluster_id, sizeof(out->cluster_id), "%s", cid);
	return 0;
fail:
	kp_broker_config_clear(out);
	return -1;
}

void kp_broker_config_clear(struct kp_broker_config *cfg)
{
	for (int i = 0; i < cfg->log_dir_count; i++)
		free(cfg->log_dirs[i]);
	cfg->log_dir_count = 0;
}
