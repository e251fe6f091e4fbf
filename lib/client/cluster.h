/*
 * cluster.h - the client's view of a Kafka cluster: bootstrap, the
 * metadata cache (brokers, topics, partition leaders) and one lazily
 * opened connection per broker. Producer and consumer are built on it.
 *
 * Configuration uses the Java client's names (read from a kp_config, all
 * optional): client.id (kpipe), request.timeout.ms (30000),
 * retry.backoff.ms (100), socket.connection.setup.timeout.ms (3000: total
 * time to reach a bootstrap broker), allow.auto.create.topics (true),
 * max.block.ms (10000: how long to wait for a topic's metadata).
 */
#ifndef KP_CLIENT_CLUSTER_H
#define KP_CLIENT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/conn.h"
#include "util/config.h"
#include "util/error.h"

/* Highest versions whose semantics this client implements. */
#define KP_CLIENT_METADATA_MAX 12
#define KP_CLIENT_PRODUCE_MAX 9
#define KP_CLIENT_FETCH_MAX 12    /* v13+ names topics by id */
#define KP_CLIENT_LIST_OFFSETS_MAX 7

struct kp_client_config {
	char client_id[128];
	int request_timeout_ms;
	int retry_backoff_ms;
	int connect_timeout_ms;
	int max_block_ms;
	bool auto_create;
};

/*
 * kp_client_config_read - fill `out` from `cfg` (may be NULL: defaults).
 * Returns 0 or -1 with KP_EINVAL naming a malformed key.
 */
int kp_client_config_read(const kp_config *cfg, struct kp_client_config *out, kp_error *err);

typedef struct kp_cluster kp_cluster;

/*
 * kp_bootstrap_count - number of "host:port" entries in a bootstrap list
 * "h1:p1,h2:p2" (empty entries are skipped); kp_bootstrap_entry - the
 * `i`th entry parsed into `host` (host_size bytes) and *port. Return -1
 * with KP_EINVAL for a malformed entry.
 */
int kp_bootstrap_count(const char *list);
int kp_bootstrap_entry(const char *list, int i, char *host, size_t host_size, int *port,
		       kp_error *err);

/*
 * kp_cluster_new - connect to the first reachable broker of `bootstrap`
 * (a comma-separated host:port list), retrying the list with backoff until
 * socket.connection.setup.timeout.ms passes. `cfg` is read, not kept.
 * Returns the cluster or NULL with KP_EINVAL / KP_ECONN (naming the last
 * broker tried) / KP_ENOMEM in `err`.
 */
kp_cluster *kp_cluster_new(const char *bootstrap, const kp_config *cfg, kp_error *err);

/* kp_cluster_free - close every connection and free `c` (NULL is fine). */
void kp_cluster_free(kp_cluster *c);

/* kp_cluster_config - the configuration in effect (owned by `c`). */
const struct kp_client_config *kp_cluster_config(const kp_cluster *c);

/*
 * kp_cluster_topic - make sure `topic`'s metadata is cached (asking the
 * broker, with auto-creation if configured, and retrying while leaders are
 * not yet elected, until max.block.ms). *partitions gets its partition
 * count. Returns 0, or -1: KP_ENOTFOUND "topic 'x' does not exist and the
 * broker did not create it (UNKNOWN_TOPIC_OR_PARTITION)", KP_EKAFKA for
 * other topic errors, or connection errors.
 */
int kp_cluster_topic(kp_cluster *c, const char *topic, int32_t *partitions, kp_error *err);

/*
 * kp_cluster_refresh - re-read metadata for every cached topic (after
 * NOT_LEADER_OR_FOLLOWER and friends). Returns 0 or -1.
 */
int kp_cluster_refresh(kp_cluster *c, kp_error *err);

/*
 * kp_cluster_leader - the leader's node id of `topic`/`partition` from the
 * cache, or -1 when unknown or leaderless.
 */
int32_t kp_cluster_leader(const kp_cluster *c, const char *topic, int32_t partition);

/*
 * kp_cluster_topic_id - the topic id of cached `topic` (Metadata v10+,
 * KIP-516) into *id; false when the topic is not cached or the broker
 * sent no id. kp_cluster_topic_name - the cached topic whose id is `id`
 * (the name is owned by the cluster), or NULL.
 */
bool kp_cluster_topic_id(const kp_cluster *c, const char *topic, kp_uuid *id);
const char *kp_cluster_topic_name(const kp_cluster *c, const kp_uuid *id);

/*
 * kp_cluster_conn - the connection to broker `node_id`, opened on first use
 * (and reopened if broken). Owned by the cluster. NULL with KP_ENOTFOUND
 * for an unknown node or a connection error in `err`.
 */
kp_conn *kp_cluster_conn(kp_cluster *c, int32_t node_id, kp_error *err);

/*
 * kp_cluster_conn_existing - broker `node_id`'s open, unbroken connection,
 * or NULL; never connects (for reading responses to requests sent on it).
 */
kp_conn *kp_cluster_conn_existing(kp_cluster *c, int32_t node_id);

/*
 * kp_cluster_broker_ids - the node ids of the brokers the last Metadata
 * response named (none before the first kp_cluster_refresh or
 * kp_cluster_topic), in that response's order: the first `max` of them
 * into ids[] (ids may be NULL when max is 0). Returns how many there are,
 * which may exceed `max`.
 */
size_t kp_cluster_broker_ids(const kp_cluster *c, int32_t *ids, size_t max);

/* kp_cluster_drop_conn - close broker `node_id`'s connection (after an I/O error). */
void kp_cluster_drop_conn(kp_cluster *c, int32_t node_id);

/*
 * kp_retriable - whether Kafka error `code` is worth retrying after a
 * metadata refresh (leader moved, topic being created, broker busy).
 */
bool kp_retriable(int code);

#endif
