/*
 * config.c - kcontroller's settings under Kafka's names (KafkaConfig,
 * QuorumConfig) with Kafka's defaults:
 *
 *   node.id                                  (required)
 *   controller.quorum.voters                 ID@HOST:PORT,... (required; node.id among them)
 *   listeners                                CONTROLLER://127.0.0.1:9093
 *   controller.listener.names                CONTROLLER (the first is the quorum's)
 *   listener.security.protocol.map           only PLAINTEXT is accepted for now
 *   metadata.log.dir / log.dirs / log.dir    /tmp/kpipe-controller
 *   controller.quorum.election.timeout.ms    1000
 *   controller.quorum.fetch.timeout.ms       2000
 *   controller.quorum.election.backoff.max.ms 1000
 *   controller.quorum.request.timeout.ms     2000
 *   socket.request.max.bytes, connections.max.idle.ms
 *   cluster.id                               ours: the id to format a new data dir with
 *   metadata.log.max.record.bytes.between.snapshots 20971520 (KIP-630 snapshots)
 *   metadata.log.max.snapshot.interval.ms    3600000 (0: never by time)
 *   metadata.log.segment.bytes               1073741824
 *   auto.leader.rebalance.enable             true (leader.imbalance.check.interval.seconds
 *                                            300; leader.imbalance.per.broker.percentage
 *                                            10, unused as in KRaft)
 * A node.id not in controller.quorum.voters runs as an observer until
 * AddRaftVoter makes it a voter (KIP-853).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/internal.h"
#include "controller/raft_node.h"
#include "util/diag.h"

static const char *const known_keys[] = {
	"node.id", "process.roles", "controller.quorum.voters", "listeners",
	"controller.listener.names", "listener.security.protocol.map", "metadata.log.dir",
	"log.dirs", "log.dir", "controller.quorum.election.timeout.ms",
	"controller.quorum.fetch.timeout.ms", "controller.quorum.election.backoff.max.ms",
	"controller.quorum.request.timeout.ms", "socket.request.max.bytes",
	"connections.max.idle.ms", "cluster.id", "controller.quorum.retry.backoff.ms",
	"num.partitions", "default.replication.factor", "broker.session.timeout.ms",
	"broker.heartbeat.interval.ms", "unclean.leader.election.enable",
	"metadata.log.max.record.bytes.between.snapshots", "metadata.log.max.snapshot.interval.ms",
	"metadata.log.segment.bytes", "auto.leader.rebalance.enable",
	"leader.imbalance.check.interval.seconds", "leader.imbalance.per.broker.percentage", NULL,
};

/* split_hostport - "HOST:PORT" or "[V6]:PORT" into host (hsize bytes) and *port; KP_EINVAL. */
static int split_hostport(const char *key, const char *s, char *host, size_t hsize, int *port,
			  kp_error *err)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	const char *h = s[0] == '[' ? s + 1 : s;
	char *end;

	if (!colon || colon < h || (size_t)(colon - h) >= hsize)
		return kp_error_set(err, KP_EINVAL, "%s: bad address '%s': expected HOST:PORT", key, s);
	memcpy(host, h, (size_t)(colon - h));
	host[colon - h] = '\0';
	colon += s[0] == '[' ? 2 : 1;
	long p = strtol(colon, &end, 10);

	if (!*colon || *end || p < 0 || p > 65535)
		return kp_error_set(err, KP_EINVAL, "%s: bad port in '%s'", key, s);
	*port = (int)p;
	return 0;
}

/* parse_voter - "ID@HOST:PORT" (controller.quorum.voters) into out[i]. */
static int parse_voter(const char *s, void *out, int i, kp_error *err)
{
	struct kp_raft_node_voter *e = (struct kp_raft_node_voter *)out + i;
	const char *at = strchr(s, '@');
	char *end;
	long id = strtol(s, &end, 10);

	if (!at || end != at || at == s || id < 0 || id > INT32_MAX)
		return kp_error_set(err, KP_EINVAL,
				    "controller.quorum.voters: bad voter '%s': expected ID@HOST:PORT", s);
	e->id = (int32_t)id;
	return split_hostport("controller.quorum.voters", at + 1, e->host, sizeof(e->host), &e->port,
			      err);
}

/* parse_listener - "NAME://HOST:PORT" into out[i]. */
static int parse_listener(const char *s, void *out, int i, kp_error *err)
{
	struct kp_ctl_endpoint *e = (struct kp_ctl_endpoint *)out + i;
	const char *sep = strstr(s, "://");

	if (!sep || sep == s || (size_t)(sep - s) >= sizeof(e->name))
		return kp_error_set(err, KP_EINVAL,
				    "listeners: bad listener '%s': expected NAME://HOST:PORT", s);
	memcpy(e->name, s, (size_t)(sep - s));
	return split_hostport("listeners", sep + 3, e->host, sizeof(e->host), &e->port, err);
}

/*
 * parse_list - split `value` at commas and spaces and parse each item
 * with `one` into out[0..*n) (at most max). -1 with err.
 */
static int parse_list(const char *key, const char *value, void *out, int max, int *n,
		      int (*one)(const char *, void *, int, kp_error *), kp_error *err)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*n = 0;
	for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0;
	     t = strtok_r(NULL, ", \t", &save)) {
		if (*n == max)
			rc = kp_error_set(err, KP_EINVAL, "%s: more than %d entries", key, max);
		else if ((rc = one(t, out, *n, err)) == 0)
			(*n)++;
	}
	free(copy);
	if (rc == 0 && *n == 0)
		rc = kp_error_set(err, KP_EINVAL, "%s: empty", key);
	return rc;
}

/* check_protocol - the quorum listener's security protocol must be PLAINTEXT. */
static int check_protocol(const kp_config *c, const char *name, kp_error *err)
{
	const char *map = kp_config_get(c, "listener.security.protocol.map");
	char want[80];

	if (!map || strcmp(name, "PLAINTEXT") == 0)
		return 0;
	snprintf(want, sizeof(want), "%s:", name);
	const char *p = strstr(map, want);

	if (!p || strncmp(p + strlen(want), "PLAINTEXT", 9) == 0)
		return 0;
	return kp_error_set(err, KP_EINVAL, "listener %s: only PLAINTEXT is supported", name);
}

/* parse_timeouts - the controller.quorum.* timings (QuorumConfig). */
static int parse_timeouts(const kp_config *c, struct kp_raft_node_config *o, kp_error *err)
{
	if (kp_config_get_int64(c, "controller.quorum.election.timeout.ms", 1000, 1, INT32_MAX,
				&o->election_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.fetch.timeout.ms", 2000, 1, INT32_MAX,
				&o->fetch_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.election.backoff.max.ms", 1000, 1, INT32_MAX,
				&o->election_backoff_max_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.request.timeout.ms", 2000, 1, INT32_MAX,
				&o->request_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.retry.backoff.ms", 20, 0, INT32_MAX,
				&o->retry_backoff_ms, err) < 0)
		return -1;
	return 0;
}

/* parse_snapshots - KIP-630's snapshot thresholds and the metadata log's segment size. */
static int parse_snapshots(const kp_config *c, struct kp_raft_node_config *o, kp_error *err)
{
	return kp_config_get_int64(c, "metadata.log.max.record.bytes.between.snapshots", 20971520,
				   1, INT64_MAX / 2, &o->snapshot_max_bytes, err) < 0 ||
	       kp_config_get_int64(c, "metadata.log.max.snapshot.interval.ms", 3600000, 0,
				   INT64_MAX / 2, &o->snapshot_interval_ms, err) < 0 ||
	       kp_config_get_int64(c, "metadata.log.segment.bytes", 1073741824, 1024, INT32_MAX,
				   &o->segment_bytes, err) < 0 ? -1 : 0;
}

/* parse_ids - node.id and the voters. */
static int parse_ids(const kp_config *c, struct kp_raft_node_config *o, kp_error *err)
{
	const char *voters = kp_config_get(c, "controller.quorum.voters");
	int64_t id;

	if (!kp_config_get(c, "node.id"))
		return kp_error_set(err, KP_EINVAL, "node.id is required (this node's id in "
				    "controller.quorum.voters)");
	if (kp_config_get_int64(c, "node.id", -1, 0, INT32_MAX, &id, err) < 0)
		return -1;
	o->node_id = (int32_t)id;
	if (!voters)
		return kp_error_set(err, KP_EINVAL, "controller.quorum.voters is required");
	return parse_list("controller.quorum.voters", voters, o->voters, KP_RAFT_MAX_VOTERS,
			  &o->n_voters, parse_voter, err);
}

/* parse_dirs - metadata.log.dir, else the first of log.dirs / log.dir, else `def`. */
static void parse_dirs(const kp_config *c, const char *def, struct kp_raft_node_config *o)
{
	const char *d = kp_config_get(c, "metadata.log.dir");

	if (!d)
		d = kp_config_get(c, "log.dirs");
	if (!d)
		d = kp_config_get(c, "log.dir");
	if (!d)
		d = def;
	size_t n = strcspn(d, ", \t");

	snprintf(o->log_dir, sizeof(o->log_dir), "%.*s", (int)n, d);
	snprintf(o->cluster_id, sizeof(o->cluster_id), "%s", kp_config_get_str(c, "cluster.id", ""));
}

int kp_raft_node_config_parse(const kp_config *c, const char *default_dir,
			      struct kp_raft_node_config *out, kp_error *err)
{
	const char *names = kp_config_get_str(c, "controller.listener.names", "CONTROLLER");

	kp_raft_node_config_init(out, -1);
	snprintf(out->listener_name, sizeof(out->listener_name), "%.*s",
		 (int)strcspn(names, ", \t"), names);
	if (parse_ids(c, out, err) < 0 || parse_timeouts(c, out, err) < 0 ||
	    parse_snapshots(c, out, err) < 0)
		return -1;
	parse_dirs(c, default_dir, out);
	return 0;
}

/* warn_unknown - one WARN per setting kcontroller does not know. */
static void warn_unknown(const kp_config *c)
{
	for (size_t i = 0; i < kp_config_count(c); i++) {
		const char *k = kp_config_key(c, i);
		bool known = false;

		for (int j = 0; known_keys[j] && !known; j++)
			known = strcmp(known_keys[j], k) == 0;
		if (!known)
			kp_diag_warn("unknown setting %s ignored", k);
	}
}

/* parse_sockets - listeners (PLAINTEXT only) and the connection limits. */
static int parse_sockets(const kp_config *c, struct kp_controller_config *o, kp_error *err)
{
	if (kp_config_get_int64(c, "socket.request.max.bytes", 104857600, 1, INT32_MAX,
				&o->socket_request_max_bytes, err) < 0 ||
	    kp_config_get_int64(c, "connections.max.idle.ms", 600000, -1, INT64_MAX / 2,
				&o->connections_max_idle_ms, err) < 0 ||
	    parse_list("listeners", kp_config_get_str(c, "listeners", "CONTROLLER://127.0.0.1:9093"),
		       o->listeners, KP_CTL_MAX_LISTENERS, &o->n_listeners, parse_listener, err) < 0)
		return -1;
	for (int i = 0; i < o->n_listeners; i++)
		if (check_protocol(c, o->listeners[i].name, err) < 0)
			return -1;
	return 0;
}

/* keep_controller_listeners - drop the listeners not in controller.listener.names. */
static void keep_controller_listeners(const kp_config *c, struct kp_controller_config *o)
{
	const char *names = kp_config_get_str(c, "controller.listener.names", "CONTROLLER");
	int n = 0;

	for (int i = 0; i < o->n_listeners; i++) {
		const char *at = strstr(names, o->listeners[i].name);
		size_t len = strlen(o->listeners[i].name);
		bool named = at && (at == names || at[-1] == ',' || at[-1] == ' ') &&
			     (at[len] == '\0' || at[len] == ',' || at[len] == ' ');

		if (named)
			o->listeners[n++] = o->listeners[i];
	}
	o->n_listeners = n;
}

int kp_controller_config_parse(const kp_config *c, bool embedded,
			       struct kp_controller_config *o, kp_error *err)
{
	memset(o, 0, sizeof(*o));
	if (!embedded)
		warn_unknown(c);
	if (kp_raft_node_config_parse(c, "/tmp/kpipe-controller", &o->raft, err) < 0)
		return -1;
	bool voter = false;

	for (int i = 0; i < o->raft.n_voters; i++)
		voter = voter || o->raft.voters[i].id == o->raft.node_id;
	if (!voter)
		kp_diag_warn("node.id %d is not in controller.quorum.voters: an observer until "
			     "added (AddRaftVoter)", o->raft.node_id);
	if (parse_sockets(c, o, err) < 0 || kp_qc_config_parse(c, &o->qc, err) < 0)
		return -1;
	if (embedded)
		keep_controller_listeners(c, o);
	if (o->n_listeners == 0)
		return kp_error_set(err, KP_EINVAL, "listeners: none is named in "
				    "controller.listener.names");
	for (int i = 0; i < o->n_listeners; i++) { /* our quorum endpoint, as a new voter */
		const struct kp_ctl_endpoint *l = &o->listeners[i];

		if (i == 0 || strcmp(l->name, o->raft.listener_name) == 0) {
			o->raft.self.id = o->raft.node_id;
			snprintf(o->raft.self.host, sizeof(o->raft.self.host), "%s", l->host);
			o->raft.self.port = l->port;
		}
	}
	return 0;
}
