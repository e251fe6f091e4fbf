/*
 * topic_names.c - every topic of a cluster (Metadata for all topics); see
 * topic_names.h. It opens its own connection, so that no request of the
 * cluster's connections is disturbed.
 */
#include "client/topic_names.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/codec.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void kp_topic_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* The topics of Metadata response `m` into *names / *n. */
static int collect(const struct kp_metadata_response *m, bool internal, char ***names, size_t *n,
		   kp_error *err)
{
	char **out = calloc((size_t)(m->topics_count > 0 ? m->topics_count : 0) + 1, sizeof *out);
	size_t k = 0;

	if (!out)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < m->topics_count; i++) {
		const struct kp_metadata_response_metadata_response_topic *t = &m->topics[i];
		if (t->error_code || !t->name || (t->is_internal && !internal))
			continue;
		if (!(out[k++] = strdup(t->name))) {
			kp_topic_names_free(out, k);
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		}
	}
	qsort(out, k, sizeof *out, by_name);
	*names = out;
	*n = k;
	return 0;
}

/* Ask over `conn`. */
static int ask(kp_conn *conn, const struct kp_client_config *cc, bool internal, char ***names,
	       size_t *n, kp_error *err)
{
	struct kp_metadata_request req;
	struct kp_metadata_response resp;
	kp_arena arena;
	int v, rc = -1;

	if ((v = kp_conn_pick_version(conn, KP_API_METADATA, 1, KP_CLIENT_METADATA_MAX, err)) < 0)
		return -1;
	kp_msg_init(&kp_metadata_request_desc, &req);
	req.topics = NULL;
	req.topics_count = -1; /* null: every topic */
	req.allow_auto_topic_creation = false;
	kp_arena_init(&arena);
	if (kp_conn_call(conn, KP_API_METADATA, (int16_t)v, &req, &arena, &resp,
			 cc->request_timeout_ms, err) == 0)
		rc = collect(&resp, internal, names, n, err);
	kp_arena_free(&arena);
	return rc;
}

int kp_topic_names(const char *bootstrap, const kp_cluster *cluster, bool internal, char ***names,
		   size_t *n, kp_error *err)
{
	const struct kp_client_config *cc = kp_cluster_config(cluster);
	int count = kp_bootstrap_count(bootstrap), port, rc = -1;
	char host[256];

	kp_error_set(err, KP_EINVAL, "no broker address in '%s'", bootstrap);
	for (int i = 0; i < count && rc < 0; i++) {
		kp_conn *conn;
		if (kp_bootstrap_entry(bootstrap, i, host, sizeof host, &port, err) < 0)
			return -1;
		if (!(conn = kp_conn_open(host, port, cc->client_id, cc->connect_timeout_ms, err)))
			continue;
		rc = ask(conn, cc, internal, names, n, err);
		kp_conn_free(conn);
	}
	return rc;
}
