/*
 * group.c - a consumer group member's lifecycle, its connection to the
 * group coordinator and the poll loop; see group.h. The protocols live in
 * group_classic.c and group_consumer.c, offsets and partition changes in
 * group_offsets.c.
 *
 * The coordinator gets a connection of its own (not the cluster's
 * per-broker ones, which carry Fetch long-polls), so a heartbeat never
 * waits behind a fetch. Errors that only mean "try again" (the
 * coordinator moved or is loading, the connection dropped) are retried
 * on the next poll after retry.backoff.ms, until they have lasted
 * request.timeout.ms.
 */
#include "client/group_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

#define FIND_COORDINATOR_MAX 6

static int cfg_ms(const kp_config *cfg, const char *key, int def, int min, int *out, kp_error *err)
{
	int64_t v;

	if (kp_config_get_int64(cfg, key, def, min, INT32_MAX, &v, err) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int read_strings(const kp_config *cfg, struct kp_member_config *out, kp_error *err)
{
	const char *proto = kp_config_get_str(cfg, "group.protocol", "classic");
	const char *strategy = kp_config_get_str(cfg, "partition.assignment.strategy", "range");
	const char *inst = kp_config_get_str(cfg, "group.instance.id", "");
	const char *remote = kp_config_get_str(cfg, "group.remote.assignor", "");

	if (strcmp(proto, "classic") == 0 || strcmp(proto, "CLASSIC") == 0)
		out->protocol = KP_MEMBER_CLASSIC;
	else if (strcmp(proto, "consumer") == 0 || strcmp(proto, "CONSUMER") == 0)
		out->protocol = KP_MEMBER_CONSUMER;
	else
		return kp_error_set(err, KP_EINVAL, "bad group.protocol '%s' (want classic or consumer)",
				    proto);
	if ((out->assignor = kp_assignor_parse(strategy, err)) < 0)
		return -1;
	if (strlen(inst) >= sizeof out->instance_id || strlen(remote) >= sizeof out->remote_assignor)
		return kp_error_set(err, KP_EINVAL, "group.instance.id or group.remote.assignor too long");
	strcpy(out->instance_id, inst);
	strcpy(out->remote_assignor, remote);
	return 0;
}

int kp_member_config_read(const kp_config *cfg, struct kp_member_config *out, kp_error *err)
{
	*out = (struct kp_member_config){ KP_MEMBER_CLASSIC, KP_ASSIGNOR_RANGE, 45000, 3000, 300000,
					 5000, "", "" };
	if (!cfg)
		return 0;
	if (read_strings(cfg, out, err) < 0 ||
	    cfg_ms(cfg, "session.timeout.ms", 45000, 1, &out->session_timeout_ms, err) < 0 ||
	    cfg_ms(cfg, "heartbeat.interval.ms", 3000, 1, &out->heartbeat_interval_ms, err) < 0 ||
	    cfg_ms(cfg, "max.poll.interval.ms", 300000, 1, &out->rebalance_timeout_ms, err) < 0 ||
	    cfg_ms(cfg, "auto.commit.interval.ms", 5000, 0, &out->commit_interval_ms, err) < 0)
		return -1;
	if (out->heartbeat_interval_ms >= out->session_timeout_ms)
		return kp_error_set(err, KP_EINVAL,
				    "heartbeat.interval.ms (%d) must be lower than session.timeout.ms (%d)",
				    out->heartbeat_interval_ms, out->session_timeout_ms);
	return 0;
}

/* A member id for the consumer protocol: 16 random bytes as URL-safe base64, like Uuid.toString. */
static char *random_member_id(void)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t r[18] = { 0 };
	char *s = malloc(25);
	int64_t seed = kp_mono_ms() ^ kp_wall_ms();
	FILE *f = fopen("/dev/urandom", "rb");

	if (!f || fread(r, 1, 16, f) != 16)
		for (int i = 0; i < 16; i++)
			r[i] = (uint8_t)(seed >> (i % 8 * 8)) ^ (uint8_t)(i * 37 + rand());
	if (f)
		fclose(f);
	if (!s)
		return NULL;
	for (int i = 0, j = 0; i < 18; i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		for (int k = 3; k >= 0; k--)
			s[j++] = b64[(v >> (6 * k)) & 63];
	}
	s[22] = '\0';
	return s;
}

kp_member *kp_member_new(kp_cluster *cluster, kp_consumer *consumer, const char *group_id,
		       const struct kp_member_config *cfg, const char *const *topics, size_t ntopics,
		       int whence, int64_t value, kp_member_flush_cb flush, void *opaque,
		       kp_error *err)
{
	kp_member *g = calloc(1, sizeof *g);
	int32_t n;

	if (!g || !(g->topics = calloc(ntopics + 1, sizeof *g->topics)))
		goto oom;
	*g = (struct kp_member){ .cluster = cluster, .consumer = consumer, .cfg = *cfg,
				.topics = g->topics, .whence = whence, .value = value, .flush = flush,
				.flush_opaque = opaque, .generation = -1,
				.fetch_wait_ms = kp_consumer_max_wait(consumer),
				.heartbeat_interval_ms = cfg->heartbeat_interval_ms };
	g->member_id = cfg->protocol == KP_MEMBER_CONSUMER ? random_member_id() : strdup("");
	if (!g->member_id || !(g->group_id = strdup(group_id)))
		goto oom;
	if (cfg->protocol == KP_MEMBER_CONSUMER)
		g->generation = 0;
	for (size_t i = 0; i < ntopics; i++, g->ntopics++)
		if (!(g->topics[i] = strdup(topics[i])))
			goto oom;
	for (size_t i = 0; i < ntopics; i++)
		if (kp_cluster_topic(cluster, topics[i], &n, err) < 0)
			goto fail;
	g->next_commit = kp_mono_ms() + cfg->commit_interval_ms;
	return g;
oom:
	kp_error_set(err, KP_ENOMEM, "out of memory");
fail:
	kp_member_free(g);
	return NULL;
}

void kp_member_free(kp_member *g)
{
	if (!g)
		return;
	kp_conn_free(g->coord);
	for (size_t i = 0; i < g->ntopics; i++)
		free(g->topics[i]);
	free(g->topics);
	for (size_t i = 0; i < g->nowned; i++)
		free(g->owned[i].topic);
	free(g->owned);
	kp_tpset_clear(&g->target);
	free(g->member_id);
	free(g->group_id);
	free(g->protocol_name);
	free(g);
}

bool kp_member_is_static(const kp_member *g)
{
	return g->cfg.instance_id[0] != '\0';
}

bool kp_member_coord_error(int code)
{
	return code == KP_ERR_NOT_COORDINATOR || code == KP_ERR_COORDINATOR_NOT_AVAILABLE ||
	       code == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

void kp_member_drop_coordinator(kp_member *g)
{
	kp_conn_free(g->coord);
	g->coord = NULL;
}

/* A connection to some broker, for FindCoordinator: the leader of a subscribed partition. */
static kp_conn *any_broker(kp_member *g, kp_error *err)
{
	int32_t leader = kp_cluster_leader(g->cluster, g->topics[0], 0);

	if (leader < 0 && kp_cluster_refresh(g->cluster, err) < 0)
		return NULL;
	leader = kp_cluster_leader(g->cluster, g->topics[0], 0);
	if (leader < 0) {
		kp_error_kafka(err, KP_ERR_LEADER_NOT_AVAILABLE, "no broker to ask for the coordinator");
		return NULL;
	}
	return kp_cluster_conn(g->cluster, leader, err);
}

/* FindCoordinator (KIP-699 batches keys from v4) and a connection to the answer. */
int kp_member_coordinator(kp_member *g, kp_error *err)
{
	const struct kp_client_config *cc = kp_cluster_config(g->cluster);
	struct kp_find_coordinator_request req;
	struct kp_find_coordinator_response resp;
	kp_conn *conn;
	kp_arena a;
	int v, rc = -1;

	if (g->coord && !kp_conn_broken(g->coord))
		return 0;
	kp_member_drop_coordinator(g);
	if (!(conn = any_broker(g, err)) ||
	    (v = kp_conn_pick_version(conn, KP_API_FIND_COORDINATOR, 0, FIND_COORDINATOR_MAX, err)) < 0)
		return -1;
	kp_arena_init(&a);
	kp_find_coordinator_request_init(&req);
	req.key = g->group_id;
	req.key_type = 0;
	req.coordinator_keys = &g->group_id;
	req.coordinator_keys_count = 1;
	if (kp_conn_call(conn, KP_API_FIND_COORDINATOR, (int16_t)v, &req, &a, &resp,
			 cc->request_timeout_ms, err) < 0)
		goto out;
	if (v >= 4 && resp.coordinators_count != 1) {
		kp_error_set(err, KP_EPROTO, "bad FindCoordinator response from %s", kp_conn_name(conn));
		goto out;
	}
	const struct kp_find_coordinator_response_coordinator *co = v >= 4 ? &resp.coordinators[0] : NULL;
	int16_t code = co ? co->error_code : resp.error_code;
	if (code) {
		kp_error_kafka(err, code, "cannot find the coordinator of group '%s'", g->group_id);
		goto out;
	}
	g->coord = kp_conn_open(co ? co->host : resp.host, co ? co->port : resp.port, cc->client_id,
				cc->connect_timeout_ms, err);
	rc = g->coord ? 0 : -1;
out:
	kp_arena_free(&a);
	return rc;
}

int kp_member_call(kp_member *g, int16_t api, int16_t max_version, const void *req, kp_arena *a,
		  void *resp, int timeout_ms, int *version, kp_error *err)
{
	int v;

	if (kp_member_coordinator(g, err) < 0 ||
	    (v = kp_conn_pick_version(g->coord, api, 0, max_version, err)) < 0)
		return -1;
	if (kp_conn_call(g->coord, api, (int16_t)v, req, a, resp, timeout_ms, err) < 0) {
		kp_member_drop_coordinator(g);
		return -1;
	}
	*version = v;
	return 0;
}

/* Whether `e` only asks for a later retry. */
static bool transient(const kp_error *e)
{
	if (e->code == KP_ECONN || e->code == KP_ETIMEDOUT)
		return true;
	return e->code == KP_EKAFKA &&
	       (kp_member_coord_error(e->kafka_code) || kp_retriable(e->kafka_code) ||
		e->kafka_code == KP_ERR_REBALANCE_IN_PROGRESS);
}

int kp_member_conn_trouble(kp_member *g, kp_error *err)
{
	int64_t now = kp_mono_ms();

	if (err->code == KP_EKAFKA && kp_member_coord_error(err->kafka_code))
		kp_member_drop_coordinator(g);
	if (!g->failing_since)
		g->failing_since = now;
	if (now - g->failing_since > kp_cluster_config(g->cluster)->request_timeout_ms)
		return -1;
	kp_diag_debug("group '%s': %s; retrying", g->group_id, err->msg);
	kp_sleep_ms(kp_cluster_config(g->cluster)->retry_backoff_ms);
	return 0;
}

static int membership(kp_member *g, kp_error *err)
{
	int64_t now = kp_mono_ms();

	if (g->lost) {
		kp_member_lose_all(g);
		g->lost = false;
	}
	if (g->cfg.protocol == KP_MEMBER_CLASSIC) {
		if (g->joined && !g->rejoin && now >= g->next_heartbeat &&
		    kp_classic_heartbeat(g, err) < 0)
			return -1;
		if (!g->joined || g->rejoin)
			return kp_classic_join(g, err);
		return 0;
	}
	if (kp_cgh_reconcile(g, err) < 0)
		return -1;
	if ((g->generation <= 0 || g->send_owned || now >= g->next_heartbeat) &&
	    kp_cgh_heartbeat(g, err) < 0)
		return -1;
	return kp_cgh_reconcile(g, err);
}

static int wait_budget(const kp_member *g)
{
	int64_t left = g->next_heartbeat - kp_mono_ms();

	if (left < 0)
		left = 0;
	return left < g->fetch_wait_ms ? (int)left : g->fetch_wait_ms;
}

int kp_member_poll(kp_member *g, kp_record_cb cb, void *opaque, kp_error *err)
{
	kp_error e;
	int rc;

	if (membership(g, &e) < 0) {
		if (!transient(&e) || kp_member_conn_trouble(g, &e) < 0) {
			if (err)
				*err = e;
			return -1;
		}
		return 0;
	}
	g->failing_since = 0;
	if (g->joined && kp_mono_ms() >= g->next_commit) {
		g->next_commit = kp_mono_ms() + g->cfg.commit_interval_ms;
		if (kp_member_commit(g, &e) < 0)
			kp_diag_warn("%s", e.msg);
	}
	if (kp_consumer_count(g->consumer) == 0) {
		kp_sleep_ms(wait_budget(g));
		return 0;
	}
	kp_consumer_set_max_wait(g->consumer, wait_budget(g));
	rc = kp_consumer_poll(g->consumer, cb, opaque, err);
	kp_consumer_set_max_wait(g->consumer, g->fetch_wait_ms);
	return rc;
}

int kp_member_tick(kp_member *g, kp_error *err)
{
	kp_error e;
	int rc;

	if (!g->coord || kp_conn_broken(g->coord) || kp_mono_ms() < g->next_heartbeat)
		return 0;
	if (g->cfg.protocol == KP_MEMBER_CLASSIC)
		rc = g->joined && !g->rejoin ? kp_classic_heartbeat(g, &e) : 0;
	else
		rc = g->generation > 0 ? kp_cgh_heartbeat(g, &e) : 0;
	if (rc < 0 && !transient(&e)) {
		if (err)
			*err = e;
		return -1;
	}
	return 0;
}

bool kp_member_at_end(const kp_member *g)
{
	return g->has_assignment && !g->target_pending && !g->rejoin &&
	       kp_consumer_at_end(g->consumer);
}

int kp_member_commit(kp_member *g, kp_error *err)
{
	return kp_member_commit_some(g, NULL, 0, err);
}

int kp_member_close(kp_member *g, bool commit, kp_error *err)
{
	int rc = 0;

	if (commit && g->nowned > 0 && kp_member_commit(g, err) < 0)
		rc = -1;
	if (g->cfg.protocol == KP_MEMBER_CLASSIC) {
		if (g->member_id[0] && !kp_member_is_static(g) && kp_classic_leave(g, rc ? NULL : err) < 0)
			rc = -1;
	} else if (g->generation > 0 && kp_cgh_leave(g, rc ? NULL : err) < 0) {
		rc = -1;
	}
	return rc;
}
