/*
 * admin_groups_list.c - ListGroups on every broker (each answers for the
 * groups it coordinates); see admin_groups.h.
 */
#include "client/admin_groups_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/clock.h"

#define LIST_GROUPS_MAX 5
#define MAX_BROKERS 256

struct acc {
	struct kp_groups_listed *g;
	size_t n, cap;
};

void kp_groups_listed_free(struct kp_groups_listed *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		free(g[i].group_id);
		free(g[i].state);
		free(g[i].type);
		free(g[i].protocol_type);
	}
	free(g);
}

static int cmp_listed(const void *a, const void *b)
{
	return strcmp(((const struct kp_groups_listed *)a)->group_id,
		      ((const struct kp_groups_listed *)b)->group_id);
}

/* Append `lg` unless a broker already listed it (a group moving between coordinators). */
static int add(struct acc *acc, const struct kp_list_groups_response_listed_group *lg,
	       kp_error *err)
{
	struct kp_groups_listed *g;

	for (size_t i = 0; i < acc->n; i++)
		if (strcmp(acc->g[i].group_id, lg->group_id ? lg->group_id : "") == 0)
			return 0;
	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? acc->cap * 2 : 16;
		if (!(g = realloc(acc->g, cap * sizeof *g)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		acc->g = g;
		acc->cap = cap;
	}
	g = &acc->g[acc->n];
	*g = (struct kp_groups_listed){ kp_groups_strdup(lg->group_id), kp_groups_strdup(lg->group_state),
					kp_groups_strdup(lg->group_type),
					kp_groups_strdup(lg->protocol_type) };
	acc->n++;
	if (!g->group_id || !g->state || !g->type || !g->protocol_type)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return 0;
}

/* One ListGroups to broker `conn`: 0 with the groups added, 1 to try again later, -1. */
static int list_once(kp_conn *conn, int v, int timeout, struct acc *acc, kp_error *err)
{
	static char *types[] = { "classic", "consumer" };
	struct kp_list_groups_request req;
	struct kp_list_groups_response resp;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	kp_list_groups_request_init(&req);
	req.states_filter_count = 0;
	req.types_filter = types;
	req.types_filter_count = 2;
	if (kp_conn_call(conn, KP_API_LIST_GROUPS, (int16_t)v, &req, &a, &resp, timeout, err) < 0)
		goto out;
	if (resp.error_code == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
	    resp.error_code == KP_ERR_COORDINATOR_NOT_AVAILABLE) {
		rc = 1;
		kp_error_kafka(err, resp.error_code, "cannot list the groups of broker %s",
			       kp_conn_name(conn));
		goto out;
	}
	if (resp.error_code) {
		kp_error_kafka(err, resp.error_code, "cannot list the groups of broker %s",
			       kp_conn_name(conn));
		goto out;
	}
	rc = 0;
	for (int32_t i = 0; i < resp.groups_count && rc == 0; i++)
		rc = add(acc, &resp.groups[i], err);
out:
	kp_arena_free(&a);
	return rc;
}

/* The groups of broker `id`, retrying while it loads them, until request.timeout.ms. */
static int list_broker(kp_cluster *c, int32_t id, struct acc *acc, kp_error *err)
{
	const struct kp_client_config *cc = kp_cluster_config(c);
	int64_t deadline = kp_mono_ms() + cc->request_timeout_ms;
	kp_conn *conn;
	int v, rc;

	for (;;) {
		if (!(conn = kp_cluster_conn(c, id, err)) ||
		    (v = kp_conn_pick_version(conn, KP_API_LIST_GROUPS, 0, LIST_GROUPS_MAX, err)) < 0)
			return -1;
		if ((rc = list_once(conn, v, cc->request_timeout_ms, acc, err)) <= 0)
			return rc;
		if (kp_mono_ms() + cc->retry_backoff_ms >= deadline)
			return -1;
		kp_sleep_ms(cc->retry_backoff_ms);
	}
}

int kp_groups_list(kp_cluster *c, struct kp_groups_listed **out, size_t *n, kp_error *err)
{
	int32_t ids[MAX_BROKERS];
	struct acc acc = { 0 };
	size_t nb;

	*out = NULL;
	*n = 0;
	if (kp_cluster_refresh(c, err) < 0)
		return -1;
	nb = kp_cluster_broker_ids(c, ids, MAX_BROKERS);
	for (size_t i = 0; i < nb && i < MAX_BROKERS; i++)
		if (list_broker(c, ids[i], &acc, err) < 0) {
			kp_groups_listed_free(acc.g, acc.n);
			return -1;
		}
	if (acc.n > 1)
		qsort(acc.g, acc.n, sizeof *acc.g, cmp_listed);
	*out = acc.g;
	*n = acc.n;
	return 0;
}
