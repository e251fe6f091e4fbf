/*
 * config_replica.c - the settings of partition replication, under
 * Kafka's names with Kafka's defaults (ReplicationConfigs,
 * ServerLogConfigs.MIN_IN_SYNC_REPLICAS, replica.selector.class of
 * KIP-392, the replication throttles of KIP-73); see config.h.
 */
#include <stdio.h>
#include <string.h>

#include "broker/config.h"

#define RACK_AWARE_SELECTOR "org.apache.kafka.common.replica.RackAwareReplicaSelector"

/*
 * parse_selector - replica.selector.class (KIP-392): unset or empty, the
 * leader serves every consumer (Kafka's default, null); Kafka's
 * RackAwareReplicaSelector, the rack-aware choice of replica_select.c.
 * Any other class is refused: Kafka would load it, kbroker cannot.
 */
static int parse_selector(const kp_config *c, struct kp_replica_config *o, kp_error *err)
{
	const char *v = kp_config_get_str(c, "replica.selector.class", "");

	if (!*v)
		return 0;
	if (strcmp(v, RACK_AWARE_SELECTOR) != 0)
		return kp_error_set(err, KP_EINVAL, "replica.selector.class: '%s' cannot be loaded; "
				    "kbroker has only " RACK_AWARE_SELECTOR, v);
	o->rack_aware_selector = true;
	return 0;
}

/*
 * parse_throttles - the replication throttles (KIP-73, Kafka's QuotaConfig):
 * leader.replication.throttled.rate and follower.replication.throttled.rate
 * in bytes/s, at least 0, default Long.MAX_VALUE (none), which Kafka reads
 * only as dynamic broker configs and kbroker also from its own settings;
 * replication.quota.window.num (11) and replication.quota.window.size.seconds
 * (1), the windows their rates are sampled over, at least 1.
 */
static int parse_throttles(const kp_config *c, struct kp_replica_config *o, kp_error *err)
{
	int64_t num, size;

	if (kp_config_get_int64(c, "leader.replication.throttled.rate", INT64_MAX, 0, INT64_MAX,
				&o->leader_throttled_rate, err) < 0 ||
	    kp_config_get_int64(c, "follower.replication.throttled.rate", INT64_MAX, 0, INT64_MAX,
				&o->follower_throttled_rate, err) < 0 ||
	    kp_config_get_int64(c, "replication.quota.window.num", 11, 1, INT32_MAX - 1, &num,
				err) < 0 ||
	    kp_config_get_int64(c, "replication.quota.window.size.seconds", 1, 1,
				INT32_MAX / 1000, &size, err) < 0)
		return -1;
	o->quota_window_num = (int32_t)num;
	o->quota_window_size_s = (int32_t)size;
	return 0;
}

int kp_replica_config_parse(const kp_config *c, struct kp_replica_config *o, kp_error *err)
{
	const char *ib = kp_config_get_str(c, "inter.broker.listener.name", "PLAINTEXT");
	int64_t v[5];

	memset(o, 0, sizeof(*o));
	if (kp_config_get_int64(c, "replica.lag.time.max.ms", 30000, 1, INT32_MAX,
				&o->lag_time_max_ms, err) < 0 ||
	    kp_config_get_int64(c, "replica.fetch.wait.max.ms", 500, 0, INT32_MAX, &v[0], err) < 0 ||
	    kp_config_get_int64(c, "replica.fetch.min.bytes", 1, 1, INT32_MAX, &v[1], err) < 0 ||
	    kp_config_get_int64(c, "replica.fetch.max.bytes", 1048576, 0, INT32_MAX, &v[2], err) < 0 ||
	    kp_config_get_int64(c, "replica.fetch.response.max.bytes", 10485760, 0, INT32_MAX,
				&v[3], err) < 0 ||
	    kp_config_get_int64(c, "replica.fetch.backoff.ms", 1000, 0, INT32_MAX,
				&o->fetch_backoff_ms, err) < 0 ||
	    kp_config_get_int64(c, "replica.high.watermark.checkpoint.interval.ms", 5000, 1,
				INT32_MAX, &o->hw_checkpoint_ms, err) < 0 ||
	    kp_config_get_int64(c, "replica.socket.timeout.ms", 30000, 1, INT32_MAX,
				&o->socket_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "min.insync.replicas", 1, 1, INT16_MAX, &v[4], err) < 0)
		return -1;
	if (kp_config_get_bool(c, "kpipe.test.high.watermark.ignores.isr", false,
			       &o->test_hw_ignores_isr, err) < 0 ||
	    kp_config_get_bool(c, "kpipe.test.isr.admits.lagging.followers", false,
			       &o->test_isr_admits_lagging, err) < 0 ||
	    kp_config_get_bool(c, "kpipe.test.follower.ignores.diverging.epochs", false,
			       &o->test_ignore_diverging, err) < 0 ||
	    parse_selector(c, o, err) < 0 || parse_throttles(c, o, err) < 0)
		return -1;
	o->fetch_wait_max_ms = (int32_t)v[0];
	o->fetch_min_bytes = (int32_t)v[1];
	o->fetch_max_bytes = (int32_t)v[2];
	o->fetch_response_max_bytes = (int32_t)v[3];
	o->min_insync_replicas = (int32_t)v[4];
	if (o->socket_timeout_ms < o->fetch_wait_max_ms)
		return kp_error_set(err, KP_EINVAL, "replica.socket.timeout.ms (%lld) must be at "
				    "least replica.fetch.wait.max.ms (%d)",
				    (long long)o->socket_timeout_ms, o->fetch_wait_max_ms);
	if (!*ib || strlen(ib) >= sizeof(o->inter_broker_listener))
		return kp_error_set(err, KP_EINVAL, "inter.broker.listener.name: '%s' is not a "
				    "listener name", ib);
	snprintf(o->inter_broker_listener, sizeof(o->inter_broker_listener), "%s", ib);
	return 0;
}
