/*
 * admin_topics_route.c - where the topic admin requests go: any broker
 * of the metadata, the controller Metadata names (KRaft brokers name a
 * live broker, which forwards to the active controller, KIP-590), or a
 * partition's leader; see admin_topics_internal.h.
 */
#include <string.h>

#include "client/admin_topics_internal.h"
#include "util/clock.h"

#define MAX_BROKERS 256

int64_t kp_admin_deadline(kp_cluster *c)
{
	return kp_mono_ms() + kp_cluster_config(c)->request_timeout_ms;
}

int kp_admin_timeout(kp_cluster *c)
{
	return kp_cluster_config(c)->request_timeout_ms;
}

char *kp_admin_strdup(kp_arena *a, const char *s)
{
	return s ? kp_arena_strndup(a, s, strlen(s)) : NULL;
}

/* first_conn - a connection to the first broker of c's list that can be reached, or NULL. */
static kp_conn *first_conn(kp_cluster *c, int32_t *node, kp_error *err)
{
	int32_t ids[MAX_BROKERS];
	size_t n = kp_cluster_broker_ids(c, ids, MAX_BROKERS);
	kp_conn *conn;

	if (n == 0)
		kp_error_set(err, KP_ENOTFOUND, "the cluster's metadata names no broker");
	for (size_t i = 0; i < n && i < MAX_BROKERS; i++)
		if ((conn = kp_cluster_conn(c, ids[i], err))) {
			*node = ids[i];
			return conn;
		}
	return NULL;
}

kp_conn *kp_admin_node_conn(kp_cluster *c, int32_t node, kp_error *err)
{
	kp_error first;
	kp_conn *conn = kp_cluster_conn(c, node, &first);

	if (conn || first.code != KP_ENOTFOUND) {
		if (!conn && err)
			*err = first;
		return conn;
	}
	if (kp_cluster_refresh(c, err) < 0) /* a broker the cluster did not know yet */
		return NULL;
	return kp_cluster_conn(c, node, err);
}

kp_conn *kp_admin_any_conn(kp_cluster *c, int32_t *node, kp_error *err)
{
	kp_conn *conn;

	if (kp_cluster_broker_ids(c, NULL, 0) > 0 && (conn = first_conn(c, node, NULL)))
		return conn; /* the brokers known already */
	if (kp_cluster_refresh(c, err) < 0)
		return NULL;
	return first_conn(c, node, err);
}

int kp_admin_call(kp_cluster *c, int32_t node, kp_conn *conn, int16_t api, int16_t min,
		  int16_t max, const void *req, kp_arena *a, void *resp, int16_t *version,
		  kp_error *err)
{
	int v = kp_conn_pick_version(conn, api, min, max, err);
	int timeout = kp_admin_timeout(c) + 5000; /* beyond the broker's own timeout */

	if (v < 0)
		return -1;
	if (version)
		*version = (int16_t)v;
	if (kp_conn_call(conn, api, (int16_t)v, req, a, resp, timeout, err) < 0) {
		if (node >= 0 && kp_conn_broken(conn))
			kp_cluster_drop_conn(c, node);
		return -1;
	}
	return 0;
}

int kp_admin_metadata(kp_cluster *c, const char *const *names, size_t n, kp_arena *a,
		      struct kp_metadata_response *resp, kp_error *err)
{
	struct kp_metadata_request req;
	int32_t node;
	kp_conn *conn = kp_admin_any_conn(c, &node, err);

	if (!conn)
		return -1;
	kp_msg_init(&kp_metadata_request_desc, &req);
	req.allow_auto_topic_creation = false;
	if (names) {
		req.topics = kp_metadata_request_metadata_request_topic_new(a, n + 1);
		if (!req.topics)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			req.topics[i].name = (char *)names[i];
		req.topics_count = (int32_t)n;
	} else {
		req.topics = NULL;
		req.topics_count = -1; /* every topic */
	}
	return kp_admin_call(c, node, conn, KP_API_METADATA, 4, KP_CLIENT_METADATA_MAX, &req, a, resp,
			     NULL, err);
}

/* controller_once - one try at the controller; *retry when worth trying again. */
static int controller_once(kp_cluster *c, int16_t api, int16_t min, int16_t max, const void *req,
			   kp_arena *a, void *resp, int16_t *version,
			   bool (*not_controller)(const void *resp), bool *retry, kp_error *err)
{
	struct kp_metadata_response md;
	kp_conn *conn;

	*retry = false;
	if (kp_admin_metadata(c, (const char *const[]){ NULL }, 0, a, &md, err) < 0) {
		*retry = err && (err->code == KP_ECONN || err->code == KP_ETIMEDOUT);
		return -1;
	}
	if (md.controller_id < 0 || !(conn = kp_admin_node_conn(c, md.controller_id, err))) {
		*retry = true;
		return md.controller_id < 0 ? kp_error_set(err, KP_ENOTFOUND, "no controller") : -1;
	}
	if (kp_admin_call(c, md.controller_id, conn, api, min, max, req, a, resp, version, err) < 0) {
		*retry = kp_conn_broken(conn) || (err && err->code == KP_ECONN);
		return -1;
	}
	*retry = not_controller(resp);
	return 0;
}

int kp_admin_controller_call(kp_cluster *c, int16_t api, int16_t min, int16_t max,
			     const void *req, kp_arena *a, void *resp, int16_t *version,
			     bool (*not_controller)(const void *resp), kp_error *err)
{
	int64_t deadline = kp_admin_deadline(c);
	int backoff = kp_cluster_config(c)->retry_backoff_ms;
	bool retry;
	int rc;

	for (;;) {
		rc = controller_once(c, api, min, max, req, a, resp, version, not_controller, &retry,
				     err);
		if (!retry || kp_mono_ms() + backoff >= deadline)
			return rc;
		kp_sleep_ms(backoff);
	}
}

bool kp_admin_retry_leader(int16_t error)
{
	return error == KP_ERR_NOT_LEADER_OR_FOLLOWER || error == KP_ERR_LEADER_NOT_AVAILABLE ||
	       error == KP_ERR_FENCED_LEADER_EPOCH || error == KP_ERR_UNKNOWN_LEADER_EPOCH ||
	       error == KP_ERR_REPLICA_NOT_AVAILABLE;
}

/* leader_of - the leader of topic/partition in `md` (-1 and *error when none). */
static int32_t leader_of(const struct kp_metadata_response *md, const char *topic,
			 int32_t partition, int16_t *error)
{
	for (int32_t i = 0; i < md->topics_count; i++) {
		const struct kp_metadata_response_metadata_response_topic *t = &md->topics[i];

		if (!t->name || strcmp(t->name, topic) != 0)
			continue;
		if (t->error_code) {
			*error = t->error_code;
			return -1;
		}
		for (int32_t j = 0; j < t->partitions_count; j++)
			if (t->partitions[j].partition_index == partition) {
				*error = t->partitions[j].leader_id < 0 ? KP_ERR_LEADER_NOT_AVAILABLE
									 : KP_ERR_NONE;
				return t->partitions[j].leader_id;
			}
	}
	*error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	return -1;
}

int kp_admin_leaders(kp_cluster *c, const char *const *topics, const int32_t *partitions,
		     size_t n, int32_t *leaders, int16_t *errors, kp_error *err)
{
	struct kp_metadata_response md;
	const char **names;
	size_t k = 0;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	if (!(names = kp_arena_alloc(&a, sizeof(*names) * (n + 1)))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < k && strcmp(names[j], topics[i]) != 0)
			j++;
		if (j == k)
			names[k++] = topics[i];
	}
	if (kp_admin_metadata(c, names, k, &a, &md, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		leaders[i] = leader_of(&md, topics[i], partitions[i], &errors[i]);
	rc = 0;
out:
	kp_arena_free(&a);
	return rc;
}
