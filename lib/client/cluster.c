/*
 * cluster.c - bootstrap, metadata cache and per-broker connections; see
 * cluster.h.
 *
 * The bootstrap connection is kept and used for Metadata; a broker whose
 * advertised host:port equals the bootstrap address shares it instead of
 * opening a second one. Metadata asks only for the topics in the cache
 * (Metadata v4+ carries allow_auto_topic_creation, KIP-204).
 */
#include "client/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"

struct broker {
	int32_t node_id;
	char host[256];
	int port;
	kp_conn *conn; /* NULL until used; never the bootstrap conn */
};

struct topic {
	char *name;
	int32_t count;    /* partitions; 0 until known */
	int32_t *leaders; /* count entries, -1 when leaderless */
	int16_t error;    /* topic-level error of the last Metadata */
	kp_uuid id;       /* topic id (Metadata v10+), zero when unknown */
};

struct kp_cluster {
	struct kp_client_config cfg;
	kp_conn *boot;
	char boot_host[256];
	int boot_port;
	struct broker *brokers;
	size_t nbrokers;
	struct topic *topics;
	size_t ntopics;
};

static int cfg_int(const kp_config *cfg, const char *key, int def, int *out, kp_error *err)
{
	int64_t v;

	if (kp_config_get_int64(cfg, key, def, 0, 1000000000, &v, err) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int kp_client_config_read(const kp_config *cfg, struct kp_client_config *out, kp_error *err)
{
	const char *id = cfg ? kp_config_get_str(cfg, "client.id", "kpipe") : "kpipe";

	memset(out, 0, sizeof *out);
	snprintf(out->client_id, sizeof out->client_id, "%s", id);
	out->request_timeout_ms = 30000;
	out->retry_backoff_ms = 100;
	out->connect_timeout_ms = 3000;
	out->max_block_ms = 10000;
	out->auto_create = true;
	if (!cfg)
		return 0;
	if (cfg_int(cfg, "request.timeout.ms", 30000, &out->request_timeout_ms, err) < 0 ||
	    cfg_int(cfg, "retry.backoff.ms", 100, &out->retry_backoff_ms, err) < 0 ||
	    cfg_int(cfg, "socket.connection.setup.timeout.ms", 3000, &out->connect_timeout_ms, err) < 0 ||
	    cfg_int(cfg, "max.block.ms", 10000, &out->max_block_ms, err) < 0 ||
	    kp_config_get_bool(cfg, "allow.auto.create.topics", true, &out->auto_create, err) < 0)
		return -1;
	return 0;
}

/* Start and length of the `i`th non-empty comma-separated entry, or -1. */
static int bootstrap_span(const char *list, int i, const char **start, size_t *len)
{
	const char *p = list;
	int n = 0;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l > 0 && n++ == i) {
			*start = p;
			*len = l;
			return 0;
		}
		p += l + (e ? 1 : 0);
	}
	return -1;
}

int kp_bootstrap_count(const char *list)
{
	const char *s;
	size_t l;
	int n = 0;

	while (bootstrap_span(list, n, &s, &l) == 0)
		n++;
	return n;
}

int kp_bootstrap_entry(const char *list, int i, char *host, size_t host_size, int *port,
		       kp_error *err)
{
	const char *s;
	size_t l;

	if (bootstrap_span(list, i, &s, &l) < 0)
		return kp_error_set(err, KP_EINVAL, "no broker %d in '%s'", i, list);
	return kp_hostport_parse(s, l, host, host_size, port, err);
}

kp_cluster *kp_cluster_new(const char *bootstrap, const kp_config *cfg, kp_error *err)
{
	kp_cluster *c = calloc(1, sizeof *c);
	int n = kp_bootstrap_count(bootstrap), backoff;
	int64_t deadline;

	if (!c) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	if (kp_client_config_read(cfg, &c->cfg, err) < 0)
		goto fail;
	if (n == 0) {
		kp_error_set(err, KP_EINVAL, "no broker address in '%s'", bootstrap);
		goto fail;
	}
	for (int i = 0; i < n; i++) /* validate all before trying any */
		if (kp_bootstrap_entry(bootstrap, i, c->boot_host, sizeof c->boot_host,
				       &c->boot_port, err) < 0)
			goto fail;
	deadline = kp_mono_ms() + c->cfg.connect_timeout_ms;
	backoff = c->cfg.retry_backoff_ms;
	for (;;) {
		for (int i = 0; i < n; i++) {
			int64_t left = deadline - kp_mono_ms();
			kp_bootstrap_entry(bootstrap, i, c->boot_host, sizeof c->boot_host,
					   &c->boot_port, NULL);
			c->boot = kp_conn_open(c->boot_host, c->boot_port, c->cfg.client_id,
					       left > 0 ? (int)left : 1, err);
			if (c->boot)
				return c;
			if (err && err->code != KP_ECONN && err->code != KP_ETIMEDOUT)
				goto fail;
		}
		if (kp_mono_ms() + backoff >= deadline)
			goto fail;
		kp_sleep_ms(backoff);
		backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
	}
fail:
	kp_cluster_free(c);
	return NULL;
}

static void topic_clear(struct topic *t)
{
	free(t->leaders);
	t->leaders = NULL;
	t->count = 0;
}

void kp_cluster_free(kp_cluster *c)
{
	if (!c)
		return;
	kp_conn_free(c->boot);
	for (size_t i = 0; i < c->nbrokers; i++)
		kp_conn_free(c->brokers[i].conn);
	free(c->brokers);
	for (size_t i = 0; i < c->ntopics; i++) {
		topic_clear(&c->topics[i]);
		free(c->topics[i].name);
	}
	free(c->topics);
	free(c);
}

const struct kp_client_config *kp_cluster_config(const kp_cluster *c)
{
	return &c->cfg;
}

static struct topic *topic_find(const kp_cluster *c, const char *name)
{
	for (size_t i = 0; i < c->ntopics; i++)
		if (strcmp(c->topics[i].name, name) == 0)
			return &c->topics[i];
	return NULL;
}

static struct broker *broker_find(const kp_cluster *c, int32_t node_id)
{
	for (size_t i = 0; i < c->nbrokers; i++)
		if (c->brokers[i].node_id == node_id)
			return &c->brokers[i];
	return NULL;
}

static bool is_boot(const kp_cluster *c, const struct broker *b)
{
	return b->port == c->boot_port && strcmp(b->host, c->boot_host) == 0;
}

/* Replace the broker list, keeping connections whose address is unchanged. */
static int brokers_update(kp_cluster *c, const struct kp_metadata_response *m, kp_error *err)
{
	struct broker *nb = calloc((size_t)m->brokers_count + 1, sizeof *nb);

	if (!nb)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < m->brokers_count; i++) {
		const struct kp_metadata_response_metadata_response_broker *mb = &m->brokers[i];
		struct broker *old = broker_find(c, mb->node_id);
		nb[i].node_id = mb->node_id;
		snprintf(nb[i].host, sizeof nb[i].host, "%s", mb->host ? mb->host : "");
		nb[i].port = mb->port;
		if (old && old->port == nb[i].port && strcmp(old->host, nb[i].host) == 0) {
			nb[i].conn = old->conn;
			old->conn = NULL;
		}
	}
	for (size_t i = 0; i < c->nbrokers; i++)
		kp_conn_free(c->brokers[i].conn);
	free(c->brokers);
	c->brokers = nb;
	c->nbrokers = (size_t)m->brokers_count;
	return 0;
}

static int topics_update(kp_cluster *c, const struct kp_metadata_response *m, kp_error *err)
{
	for (int32_t i = 0; i < m->topics_count; i++) {
		const struct kp_metadata_response_metadata_response_topic *mt = &m->topics[i];
		struct topic *t = mt->name ? topic_find(c, mt->name) : NULL;
		int32_t n = 0;
		if (!t)
			continue;
		t->error = mt->error_code;
		t->id = mt->topic_id;
		topic_clear(t);
		for (int32_t j = 0; j < mt->partitions_count; j++)
			if (mt->partitions[j].partition_index >= n)
				n = mt->partitions[j].partition_index + 1;
		if (mt->error_code || n == 0)
			continue;
		if (!(t->leaders = malloc((size_t)n * sizeof *t->leaders)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		t->count = n;
		for (int32_t j = 0; j < n; j++)
			t->leaders[j] = -1;
		for (int32_t j = 0; j < mt->partitions_count; j++) {
			const struct kp_metadata_response_metadata_response_partition *p = &mt->partitions[j];
			if (p->partition_index >= 0 && p->error_code != KP_ERR_LEADER_NOT_AVAILABLE)
				t->leaders[p->partition_index] = p->leader_id;
		}
	}
	return 0;
}

/* A connection for Metadata: the bootstrap one, else any broker's. */
static kp_conn *metadata_conn(kp_cluster *c, kp_error *err)
{
	if (c->boot && kp_conn_broken(c->boot)) {
		kp_conn_free(c->boot);
		c->boot = NULL;
	}
	if (!c->boot)
		c->boot = kp_conn_open(c->boot_host, c->boot_port, c->cfg.client_id,
				       c->cfg.connect_timeout_ms, err);
	if (c->boot)
		return c->boot;
	for (size_t i = 0; i < c->nbrokers; i++) {
		kp_conn *conn = kp_cluster_conn(c, c->brokers[i].node_id, NULL);
		if (conn)
			return conn;
	}
	return NULL;
}

int kp_cluster_refresh(kp_cluster *c, kp_error *err)
{
	struct kp_metadata_request req;
	struct kp_metadata_response resp;
	kp_arena arena;
	kp_conn *conn;
	int v, rc = -1;

	if (!(conn = metadata_conn(c, err)))
		return -1;
	if ((v = kp_conn_pick_version(conn, KP_API_METADATA, 1, KP_CLIENT_METADATA_MAX, err)) < 0)
		return -1;
	kp_arena_init(&arena);
	kp_msg_init(&kp_metadata_request_desc, &req);
	req.allow_auto_topic_creation = c->cfg.auto_create;
	req.topics = kp_arena_alloc(&arena, (c->ntopics + 1) * sizeof *req.topics);
	if (!req.topics) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	req.topics_count = (int32_t)c->ntopics;
	for (size_t i = 0; i < c->ntopics; i++)
		req.topics[i].name = c->topics[i].name;
	if (kp_conn_call(conn, KP_API_METADATA, (int16_t)v, &req, &arena, &resp,
			 c->cfg.request_timeout_ms, err) < 0)
		goto out;
	if (brokers_update(c, &resp, err) < 0 || topics_update(c, &resp, err) < 0)
		goto out;
	rc = 0;
out:
	kp_arena_free(&arena);
	return rc;
}

static struct topic *topic_add(kp_cluster *c, const char *name, kp_error *err)
{
	struct topic *t = realloc(c->topics, (c->ntopics + 1) * sizeof *t);

	if (!t) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	c->topics = t;
	t = &c->topics[c->ntopics];
	memset(t, 0, sizeof *t);
	if (!(t->name = strdup(name))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	c->ntopics++;
	return t;
}

static bool topic_ready(const struct topic *t)
{
	if (t->error || t->count == 0)
		return false;
	for (int32_t i = 0; i < t->count; i++)
		if (t->leaders[i] < 0)
			return false;
	return true;
}

int kp_cluster_topic(kp_cluster *c, const char *topic, int32_t *partitions, kp_error *err)
{
	struct topic *t = topic_find(c, topic);
	int64_t start = kp_mono_ms(), deadline = start + c->cfg.max_block_ms;
	int64_t unknown_deadline = start + (c->cfg.auto_create ? 2000 : 1000);

	if (!t && !(t = topic_add(c, topic, err)))
		return -1;
	for (;;) {
		if (t->count == 0 || !topic_ready(t)) {
			if (kp_cluster_refresh(c, err) < 0)
				return -1;
			t = topic_find(c, topic);
		}
		if (topic_ready(t))
			break;
		int64_t now = kp_mono_ms();
		if (t->error == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION && now >= unknown_deadline)
			return kp_error_set(err, KP_ENOTFOUND,
					    "topic '%s' does not exist and the broker did not create it"
					    " (UNKNOWN_TOPIC_OR_PARTITION)", topic);
		if (t->error && !kp_retriable(t->error))
			return kp_error_kafka(err, t->error, "topic '%s'", topic);
		if (now >= deadline) {
			if (t->count > 0) /* usable, some partitions leaderless */
				break;
			return kp_error_kafka(err, t->error ? t->error : KP_ERR_LEADER_NOT_AVAILABLE,
					      "no metadata for topic '%s' after %d ms", topic,
					      c->cfg.max_block_ms);
		}
		kp_sleep_ms(c->cfg.retry_backoff_ms);
	}
	*partitions = t->count;
	return 0;
}

int32_t kp_cluster_leader(const kp_cluster *c, const char *topic, int32_t partition)
{
	const struct topic *t = topic_find(c, topic);

	if (!t || partition < 0 || partition >= t->count)
		return -1;
	return t->leaders[partition];
}

bool kp_cluster_topic_id(const kp_cluster *c, const char *topic, kp_uuid *id)
{
	static const kp_uuid zero;
	const struct topic *t = topic_find(c, topic);

	if (!t || memcmp(&t->id, &zero, sizeof zero) == 0)
		return false;
	*id = t->id;
	return true;
}

const char *kp_cluster_topic_name(const kp_cluster *c, const kp_uuid *id)
{
	for (size_t i = 0; i < c->ntopics; i++)
		if (memcmp(&c->topics[i].id, id, sizeof *id) == 0)
			return c->topics[i].name;
	return NULL;
}

kp_conn *kp_cluster_conn(kp_cluster *c, int32_t node_id, kp_error *err)
{
	struct broker *b = broker_find(c, node_id);

	if (!b) {
		kp_error_set(err, KP_ENOTFOUND, "no broker with node id %d in the metadata", (int)node_id);
		return NULL;
	}
	if (is_boot(c, b) && c->boot && !kp_conn_broken(c->boot))
		return c->boot;
	if (b->conn && kp_conn_broken(b->conn)) {
		kp_conn_free(b->conn);
		b->conn = NULL;
	}
	if (!b->conn)
		b->conn = kp_conn_open(b->host, b->port, c->cfg.client_id, c->cfg.connect_timeout_ms,
				       err);
	return b->conn;
}

kp_conn *kp_cluster_conn_existing(kp_cluster *c, int32_t node_id)
{
	struct broker *b = broker_find(c, node_id);

	if (!b)
		return NULL;
	if (is_boot(c, b) && c->boot && !kp_conn_broken(c->boot))
		return c->boot;
	return b->conn && !kp_conn_broken(b->conn) ? b->conn : NULL;
}

size_t kp_cluster_broker_ids(const kp_cluster *c, int32_t *ids, size_t max)
{
	for (size_t i = 0; i < c->nbrokers && i < max; i++)
		ids[i] = c->brokers[i].node_id;
	return c->nbrokers;
}

void kp_cluster_drop_conn(kp_cluster *c, int32_t node_id)
{
	struct broker *b = broker_find(c, node_id);

	if (!b)
		return;
	if (is_boot(c, b) && c->boot) {
		kp_conn_free(c->boot);
		c->boot = NULL;
	}
	kp_conn_free(b->conn);
	b->conn = NULL;
}

bool kp_retriable(int code)
{
	switch (code) {
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_LEADER_NOT_AVAILABLE:
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_REQUEST_TIMED_OUT:
	case KP_ERR_BROKER_NOT_AVAILABLE:
	case KP_ERR_REPLICA_NOT_AVAILABLE:
	case KP_ERR_NETWORK_EXCEPTION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case KP_ERR_KAFKA_STORAGE_ERROR:
	case KP_ERR_FENCED_LEADER_EPOCH:
	case KP_ERR_UNKNOWN_LEADER_EPOCH:
	case KP_ERR_OFFSET_NOT_AVAILABLE:
	case KP_ERR_THROTTLING_QUOTA_EXCEEDED:
		return true;
	default:
		return false;
	}
}
