/*
 * config.h - the broker's settings, read from a kp_config under Kafka's
 * key names (Kafka's KafkaConfig / server.properties) with Kafka's
 * defaults, except that a broker run with no arguments listens on
 * PLAINTEXT://127.0.0.1:9092 and keeps its data in /tmp/kpipe-logs.
 */
#ifndef KP_BROKER_CONFIG_H
#define KP_BROKER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "group/group.h"
#include "log/log.h"
#include "util/config.h"
#include "util/error.h"

#define KP_BROKER_MAX_LISTENERS 8
#define KP_BROKER_MAX_LOG_DIRS 8

/* One entry of `listeners` / `advertised.listeners`: NAME://HOST:PORT. */
struct kp_broker_listener {
	char name[32];  /* listener name, e.g. "PLAINTEXT" */
	int proto;      /* enum kp_security_protocol */
	char host[256]; /* "" = all interfaces */
	int port;
};

struct kp_broker_config {
	int32_t node_id;                    /* node.id or broker.id (1) */
	struct kp_broker_listener listeners[KP_BROKER_MAX_LISTENERS];
	int listener_count;                 /* listeners (PLAINTEXT://127.0.0.1:9092) */
	struct kp_broker_listener advertised[KP_BROKER_MAX_LISTENERS];
	int advertised_count;               /* advertised.listeners (= listeners) */
	char *log_dirs[KP_BROKER_MAX_LOG_DIRS];
	int log_dir_count;                  /* log.dirs or log.dir (/tmp/kpipe-logs) */
	int32_t num_partitions;             /* num.partitions (1) */
	bool auto_create_topics;            /* auto.create.topics.enable (true) */
	int16_t default_replication_factor; /* default.replication.factor (1) */
	int32_t message_max_bytes;          /* message.max.bytes (1048588) */
	int64_t socket_request_max_bytes;   /* socket.request.max.bytes (104857600) */
	int64_t connections_max_idle_ms;    /* connections.max.idle.ms (600000) */
	int64_t flush_scheduler_ms;         /* log.flush.scheduler.interval.ms (INT64_MAX: never) */
	struct kp_log_config log;           /* log.segment.bytes, log.roll.ms, ... */
	struct kp_group_config group;       /* group.*, offsets.retention.minutes, ... */
	int32_t offsets_topic_partitions;   /* offsets.topic.num.partitions (50) */
	int16_t offsets_topic_replication_factor; /* offsets.topic.replication.factor (1 here; one node) */
};

/*
 * kp_broker_config_parse - fill `out` from `c` (borrowed), applying
 * defaults for unset keys. Unknown keys are logged at WARN and ignored.
 * On success `out` owns copies of its strings: release them with
 * kp_broker_config_clear. Returns 0, or -1 with KP_EINVAL naming the key
 * of a malformed value (or KP_ENOMEM); `out` then holds nothing to free.
 */
int kp_broker_config_parse(const kp_config *c, struct kp_broker_config *out, kp_error *err);

/* kp_broker_config_clear - free the strings `cfg` owns. */
void kp_broker_config_clear(struct kp_broker_config *cfg);

/*
 * kp_broker_listener_parse - parse one "NAME://HOST:PORT" (HOST may be
 * empty or a bracketed IPv6 address) into `l`. The name must be a
 * security protocol we support (PLAINTEXT). Returns 0 or -1 (KP_EINVAL).
 */
int kp_broker_listener_parse(const char *s, struct kp_broker_listener *l, kp_error *err);

#endif
