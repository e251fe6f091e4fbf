/*
 * admin_groups_coord.c - reaching a group's coordinator for the admin
 * requests (FindCoordinator, then the cluster's connection to the node it
 * names) with the retries admin_groups.h describes; see
 * admin_groups_internal.h.
 */
#include "client/admin_groups_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/clock.h"

#define FIND_COORDINATOR_MAX 6
#define MAX_BROKERS 256

bool kp_groups_coord_error(int code)
{
	return code == KP_ERR_NOT_COORDINATOR || code == KP_ERR_COORDINATOR_NOT_AVAILABLE ||
	       code == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

char *kp_groups_strdup(const char *s)
{
	return strdup(s ? s : "");
}

int kp_groups_tp_cmp(const void *a, const void *b)
{
	const struct kp_groups_tp *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

kp_conn *kp_groups_any_conn(kp_cluster *c, int32_t *node_id, kp_error *err)
{
	int32_t ids[MAX_BROKERS];
	size_t n = kp_cluster_broker_ids(c, ids, MAX_BROKERS);
	kp_conn *conn = NULL;

	if (n == 0 && kp_cluster_refresh(c, err) < 0)
		return NULL;
	if (n == 0 && (n = kp_cluster_broker_ids(c, ids, MAX_BROKERS)) == 0) {
		kp_error_set(err, KP_EPROTO, "the metadata names no broker");
		return NULL;
	}
	for (size_t i = 0; i < n && i < MAX_BROKERS && !conn; i++)
		if ((conn = kp_cluster_conn(c, ids[i], err)))
			*node_id = ids[i];
	return conn;
}

/* One FindCoordinator for `group` through any broker: the coordinator's node id. */
static int find_once(kp_cluster *c, const char *group, int32_t *node_id, kp_error *err)
{
	struct kp_find_coordinator_request req;
	struct kp_find_coordinator_response resp;
	char *key = (char *)group;
	int32_t asked;
	kp_conn *conn;
	kp_arena a;
	int v, rc = -1;

	if (!(conn = kp_groups_any_conn(c, &asked, err)) ||
	    (v = kp_conn_pick_version(conn, KP_API_FIND_COORDINATOR, 0, FIND_COORDINATOR_MAX, err)) < 0)
		return -1;
	kp_arena_init(&a);
	kp_find_coordinator_request_init(&req);
	req.key = key;
	req.key_type = 0; /* a group */
	req.coordinator_keys = &key;
	req.coordinator_keys_count = 1;
	if (kp_conn_call(conn, KP_API_FIND_COORDINATOR, (int16_t)v, &req, &a, &resp,
			 kp_cluster_config(c)->request_timeout_ms, err) < 0) {
		kp_cluster_drop_conn(c, asked);
		goto out;
	}
	if (v >= 4 && resp.coordinators_count != 1) {
		kp_error_set(err, KP_EPROTO, "bad FindCoordinator response from %s", kp_conn_name(conn));
		goto out;
	}
	int16_t code = v >= 4 ? resp.coordinators[0].error_code : resp.error_code;
	if (code) {
		kp_error_kafka(err, code, "cannot find the coordinator of group '%s'", group);
		goto out;
	}
	*node_id = v >= 4 ? resp.coordinators[0].node_id : resp.node_id;
	rc = 0;
out:
	kp_arena_free(&a);
	return rc;
}

/* Whether error `e` is worth another FindCoordinator. */
static bool again(const kp_error *e)
{
	return e->code == KP_ECONN || e->code == KP_ETIMEDOUT || e->code == KP_ENOTFOUND ||
	       (e->code == KP_EKAFKA && kp_groups_coord_error(e->kafka_code));
}

/* Sleep retry.backoff.ms if that ends before `deadline`; false when it would not. */
static bool backoff(kp_cluster *c, int64_t deadline)
{
	int ms = kp_cluster_config(c)->retry_backoff_ms;

	if (kp_mono_ms() + ms >= deadline)
		return false;
	kp_sleep_ms(ms);
	return true;
}

/* kp_groups_coordinator until `deadline` (kp_mono_ms), into `e`. */
static int coordinator_until(kp_cluster *c, const char *group, int64_t deadline,
			     int32_t *node_id, kp_conn **conn, kp_error *e)
{
	for (;;) {
		if (find_once(c, group, node_id, e) == 0) {
			*conn = kp_cluster_conn(c, *node_id, e);
			if (!*conn && e->code == KP_ENOTFOUND && kp_cluster_refresh(c, e) == 0)
				*conn = kp_cluster_conn(c, *node_id, e); /* a broker new to the metadata */
			if (*conn)
				return 0;
		}
		if (!again(e) || !backoff(c, deadline))
			return -1;
	}
}

int kp_groups_coordinator(kp_cluster *c, const char *group, int32_t *node_id, kp_conn **conn,
			  kp_error *err)
{
	int64_t deadline = kp_mono_ms() + kp_cluster_config(c)->request_timeout_ms;
	kp_error e;

	if (coordinator_until(c, group, deadline, node_id, conn, &e) == 0)
		return 0;
	if (err)
		*err = e;
	return -1;
}

int kp_groups_call(kp_cluster *c, const char *group, int16_t api, int16_t min_v, int16_t max_v,
		   const void *req, kp_arena *a, void *resp, int *version, kp_groups_code_fn code,
		   kp_error *err)
{
	int timeout = kp_cluster_config(c)->request_timeout_ms;
	int64_t deadline = kp_mono_ms() + timeout;
	int32_t node;
	kp_conn *conn;
	kp_error e;
	int v, k;

	for (;;) {
		if (coordinator_until(c, group, deadline, &node, &conn, &e) < 0)
			break;
		if ((v = kp_conn_pick_version(conn, api, min_v, max_v, &e)) < 0)
			break;
		if (kp_conn_call(conn, api, (int16_t)v, req, a, resp, timeout, &e) == 0) {
			*version = v;
			k = code ? code(resp, v) : 0;
			if (!kp_groups_coord_error(k))
				return 0;
			kp_error_kafka(&e, k, "group '%s'", group);
		} else {
			kp_cluster_drop_conn(c, node);
		}
		if (!again(&e) || !backoff(c, deadline))
			break;
	}
	if (err)
		*err = e;
	return -1;
}
