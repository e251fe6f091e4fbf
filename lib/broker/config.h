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
#define KP_BROKER_MAX_VOTERS 16 /* = KP_RAFT_MAX_VOTERS */

/* A controller address: a voter of controller.quorum.voters (ID@HOST:PORT) or a bootstrap server. */
struct kp_broker_controller_addr {
	int32_t id;     /* voter id; -1 for a controller.quorum.bootstrap.servers entry */
	char host[256];
	int port;
};

/*
 * The KRaft quorum a broker (Kafka's process.roles=broker) belongs to:
 * Kafka's QuorumConfig and the broker's lifecycle settings. Empty
 * (n_voters and n_bootstrap 0) only before kp_broker_config_own_quorum
 * made a cluster of one; kbroker refuses to run without one.
 */
struct kp_broker_quorum_config {
	struct kp_broker_controller_addr voters[KP_BROKER_MAX_VOTERS];
	int n_voters;                          /* controller.quorum.voters */
	struct kp_broker_controller_addr bootstrap[KP_BROKER_MAX_VOTERS];
	int n_bootstrap;                       /* controller.quorum.bootstrap.servers */
	char controller_listener[32];          /* first of controller.listener.names (CONTROLLER) */
	char metadata_log_dir[4096];           /* metadata.log.dir, else the first of log.dirs */
	char rack[256];                        /* broker.rack; "" for none */
	int64_t heartbeat_interval_ms;         /* broker.heartbeat.interval.ms (2000) */
	int64_t session_timeout_ms;            /* broker.session.timeout.ms (9000; the controller's) */
	int64_t initial_registration_timeout_ms; /* initial.broker.registration.timeout.ms (60000) */
	int64_t election_timeout_ms;           /* controller.quorum.election.timeout.ms (1000) */
	int64_t fetch_timeout_ms;              /* controller.quorum.fetch.timeout.ms (2000) */
	int64_t request_timeout_ms;            /* controller.quorum.request.timeout.ms (2000) */
	int64_t retry_backoff_ms;              /* controller.quorum.retry.backoff.ms (20) */
	bool combined;                         /* process.roles=broker,controller: the voter
	                                        * node.id and its controller run in kbroker */
};

/* Partition replication (Kafka's ReplicationConfigs), Kafka's names and defaults. */
struct kp_replica_config {
	int64_t lag_time_max_ms;          /* replica.lag.time.max.ms (30000) */
	int32_t fetch_wait_max_ms;        /* replica.fetch.wait.max.ms (500) */
	int32_t fetch_min_bytes;          /* replica.fetch.min.bytes (1) */
	int32_t fetch_max_bytes;          /* replica.fetch.max.bytes (1048576) */
	int32_t fetch_response_max_bytes; /* replica.fetch.response.max.bytes (10485760) */
	int64_t fetch_backoff_ms;         /* replica.fetch.backoff.ms (1000) */
	int64_t hw_checkpoint_ms;         /* replica.high.watermark.checkpoint.interval.ms (5000) */
	int64_t socket_timeout_ms;        /* replica.socket.timeout.ms (30000) */
	int32_t min_insync_replicas;      /* min.insync.replicas (1): a topic may override it */
	char inter_broker_listener[32];   /* inter.broker.listener.name (PLAINTEXT) */
	bool rack_aware_selector;         /* replica.selector.class is Kafka's
	                                   * RackAwareReplicaSelector (KIP-392); unset: false */
	int64_t leader_throttled_rate;    /* leader.replication.throttled.rate, bytes/s
	                                   * (INT64_MAX: none); a dynamic broker config in
	                                   * the image overrides it (KIP-73) */
	int64_t follower_throttled_rate;  /* follower.replication.throttled.rate (INT64_MAX) */
	int32_t quota_window_num;         /* replication.quota.window.num (11) */
	int32_t quota_window_size_s;      /* replication.quota.window.size.seconds (1) */
	bool test_hw_ignores_isr;         /* kpipe.test.high.watermark.ignores.isr (false): a
	                                   * deliberately broken high watermark (the leader's log
	                                   * end offset), for the test that shows the lost-write
	                                   * checker catching it; never for use */
	bool test_isr_admits_lagging;     /* kpipe.test.isr.admits.lagging.followers (false): a
	                                   * deliberately broken ISR expansion (a follower joins
	                                   * on its first fetch, caught up or not); never for use */
	bool test_ignore_diverging;       /* kpipe.test.follower.ignores.diverging.epochs (false):
	                                   * a deliberately broken follower that never truncates
	                                   * (no last fetched epoch, diverging epochs ignored);
	                                   * never for use */
};

/*
 * kp_replica_config_parse - the replication settings of `c` into `out`
 * (config_replica.c). Returns 0, or -1 with KP_EINVAL naming the key.
 */
int kp_replica_config_parse(const kp_config *c, struct kp_replica_config *out, kp_error *err);

/* The log cleaner's settings (config_cleaner.c; Kafka's CleanerConfig). */
struct kp_cleaner_config {
	bool enable;                 /* log.cleaner.enable (true) */
	int32_t threads;             /* log.cleaner.threads (1): 0 cleans nothing, more run as one */
	int64_t dedupe_buffer_bytes; /* log.cleaner.dedupe.buffer.size (134217728): the offset map */
	int64_t backoff_ms;          /* log.cleaner.backoff.ms (15000): idle wait between checks */
};

/*
 * kp_cleaner_config_parse - the log.cleaner.* settings of `c` into `out`
 * (config_cleaner.c). Returns 0, or -1 with KP_EINVAL naming the key.
 */
int kp_cleaner_config_parse(const kp_config *c, struct kp_cleaner_config *out, kp_error *err);
/* kp_cleaner_config_key - whether `key` is one kp_cleaner_config_parse reads. */
bool kp_cleaner_config_key(const char *key);

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
	int64_t producer_id_expiration_ms;  /* producer.id.expiration.ms (86400000): idle producers forgotten */
	int64_t producer_id_expiration_check_ms; /* producer.id.expiration.check.interval.ms (600000) */
	int64_t log_retention_check_ms;     /* log.retention.check.interval.ms (300000) */
	struct kp_log_config log;           /* log.segment.bytes, log.roll.ms, ... */
	struct kp_group_config group;       /* group.*, offsets.retention.minutes, ... */
	int32_t offsets_topic_partitions;   /* offsets.topic.num.partitions (50) */
	int16_t offsets_topic_replication_factor; /* offsets.topic.replication.factor (1) */
	int64_t offsets_commit_timeout_ms;  /* offsets.commit.timeout.ms (5000): group writes' ISR wait */
	char cluster_id[32];                /* cluster.id: formats a new log dir ("": generate) */
	struct kp_broker_quorum_config quorum; /* the KRaft quorum */
	struct kp_replica_config replica;      /* replica.*, min.insync.replicas */
	struct kp_cleaner_config cleaner;      /* log.cleaner.* (log compaction) */
};

/* kp_broker_config_is_cluster - whether `cfg` names a controller quorum (KRaft broker mode). */
static inline bool kp_broker_config_is_cluster(const struct kp_broker_config *cfg)
{
	return cfg->quorum.n_voters > 0 || cfg->quorum.n_bootstrap > 0;
}

/* The listeners of a broker whose configuration names none. */
#define KP_BROKER_DEFAULT_LISTENERS "PLAINTEXT://127.0.0.1:9092"
/* Whether a broker that names no quorum and no process.roles is a cluster of one. */
#define KP_BROKER_OWN_QUORUM_BY_DEFAULT true

/*
 * kp_broker_config_own_quorum - make `c` (modified in place) a cluster of
 * one when it names no controller quorum and process.roles is
 * broker,controller (or unset, when KP_BROKER_OWN_QUORUM_BY_DEFAULT):
 * combined mode with node.id the only voter, on the listener named by
 * controller.listener.names (default CONTROLLER), added to listeners on a
 * free 127.0.0.1 port when it is not there (config_own_quorum.c has the
 * settings). Returns 1 when it changed `c`, 0 when it left it alone, or
 * -1 with KP_EINVAL (a bad controller.listener.names or listeners too
 * long), KP_EIO (no free port) or KP_ENOMEM. Ours: Kafka wants a quorum
 * named in combined mode.
 */
int kp_broker_config_own_quorum(kp_config *c, kp_error *err);

/*
 * kp_broker_config_combined - combined mode: set in `c` what the
 * controller in this process must share with its broker and may not
 * default on its own: metadata.log.dir, to `cfg`'s (the first log dir
 * unless set; kcontroller alone defaults to another directory). Nothing
 * to do outside combined mode. Returns 0, or -1 with KP_ENOMEM.
 */
int kp_broker_config_combined(kp_config *c, const struct kp_broker_config *cfg, kp_error *err);

/*
 * kp_broker_config_parse - fill `out` from `c` (borrowed), applying
 * defaults for unset keys. Unknown keys are logged at WARN and ignored.
 * On success `out` owns copies of its strings: release them with
 * kp_broker_config_clear. Returns 0, or -1 with KP_EINVAL naming the key
 * of a malformed value (or KP_ENOMEM); `out` then holds nothing to free.
 */
int kp_broker_config_parse(const kp_config *c, struct kp_broker_config *out, kp_error *err);

/*
 * kp_broker_quorum_config_parse - the quorum settings of `c` into `out`
 * (config_quorum.c): controller.quorum.voters / .bootstrap.servers,
 * controller.listener.names (required with either), process.roles
 * ("broker", node.id not a voter; or "broker,controller", node.id a voter),
 * metadata.log.dir (default `first_log_dir`), broker.rack and the
 * heartbeat, session and Raft timeouts, with Kafka's defaults. Neither
 * quorum key set leaves `out` empty. Returns 0, or -1 with
 * KP_EINVAL naming the key.
 */
int kp_broker_quorum_config_parse(const kp_config *c, int32_t node_id, const char *first_log_dir,
				  struct kp_broker_quorum_config *out, kp_error *err);

/* kp_broker_config_clear - free the strings `cfg` owns. */
void kp_broker_config_clear(struct kp_broker_config *cfg);

/*
 * kp_broker_listener_parse - parse one "NAME://HOST:PORT" (HOST may be
 * empty or a bracketed IPv6 address) into `l`. The name must be a
 * security protocol we support (PLAINTEXT). Returns 0 or -1 (KP_EINVAL).
 */
int kp_broker_listener_parse(const char *s, struct kp_broker_listener *l, kp_error *err);

#endif
