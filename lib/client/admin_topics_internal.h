/*
 * admin_topics_internal.h - what the admin_topics_*.c files share: where
 * a request goes (any broker, the controller, a partition's leader) and
 * the retry rule. Not installed.
 */
#ifndef KP_CLIENT_ADMIN_TOPICS_INTERNAL_H
#define KP_CLIENT_ADMIN_TOPICS_INTERNAL_H

#include "client/admin_topics.h"
#include "client/conn.h"
#include "protocol/codec.h"
#include "protocol/errors.h"

/* A deadline in monotonic ms: now + request.timeout.ms. */
int64_t kp_admin_deadline(kp_cluster *c);

/* kp_admin_timeout - request.timeout.ms (what a broker-side timeout field is set to). */
int kp_admin_timeout(kp_cluster *c);

/*
 * kp_admin_metadata - Metadata (v4-12, no auto-creation) for the `n`
 * topics `names` (none when n is 0: brokers and controller only), or
 * every topic when `names` is NULL, from any broker;
 * the answer decoded into `a`. Returns 0 or -1 with err.
 */
int kp_admin_metadata(kp_cluster *c, const char *const *names, size_t n, kp_arena *a,
		      struct kp_metadata_response *resp, kp_error *err);

/*
 * kp_admin_any_conn - a connection to some broker of the cluster (from
 * the brokers known, else from fresh metadata), its node id in *node.
 * NULL with err when none can be reached.
 */
kp_conn *kp_admin_any_conn(kp_cluster *c, int32_t *node, kp_error *err);

/*
 * kp_admin_node_conn - the connection to broker `node` (kp_cluster_conn),
 * after refreshing c's brokers when it did not know that one. NULL with
 * err (KP_ENOTFOUND, KP_ECONN).
 */
kp_conn *kp_admin_node_conn(kp_cluster *c, int32_t node, kp_error *err);

/*
 * kp_admin_call - pick the version of `api` this broker and [min, max]
 * share and send `req`, decoding the answer into `resp` (in `a`);
 * *version (may be NULL) gets the version. A broken connection is dropped
 * from `c` (node >= 0). Returns 0 or -1 with err.
 */
int kp_admin_call(kp_cluster *c, int32_t node, kp_conn *conn, int16_t api, int16_t min,
		  int16_t max, const void *req, kp_arena *a, void *resp, int16_t *version,
		  kp_error *err);

/*
 * kp_admin_controller_call - kp_admin_call to the controller Metadata
 * names, again (after retry.backoff.ms and fresh metadata) while
 * `not_controller(resp)` says the answer was NOT_CONTROLLER, or the
 * connection broke, until request.timeout.ms has passed. Returns 0 (the
 * last answer in resp) or -1 with err.
 */
int kp_admin_controller_call(kp_cluster *c, int16_t api, int16_t min, int16_t max,
			     const void *req, kp_arena *a, void *resp, int16_t *version,
			     bool (*not_controller)(const void *resp), kp_error *err);

/* kp_admin_strdup - `s` copied into `a` (NULL stays NULL); NULL when out of memory. */
char *kp_admin_strdup(kp_arena *a, const char *s);

/* kp_admin_retry_leader - whether a partition error means "ask the new leader". */
bool kp_admin_retry_leader(int16_t error);

/*
 * kp_admin_leaders - the leader of each of the `n` topic/partition pairs
 * (topics[i], partitions[i]) into leaders[i] (-1: none; *errors[i] then
 * why), from fresh Metadata. Returns 0 or -1 with err.
 */
int kp_admin_leaders(kp_cluster *c, const char *const *topics, const int32_t *partitions,
		     size_t n, int32_t *leaders, int16_t *errors, kp_error *err);

#endif
