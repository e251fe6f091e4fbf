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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/internal.h"
#include "util/diag.h"

static const char *const known_keys[] = {
	"node.id", "process.roles", "controller.quorum.voters", "listeners",
	"controller.listener.names", "listener.security.protocol.map", "metadata.log.dir",
	"log.dirs", "log.dir", "controller.quorum.election.timeout.ms",
	"controller.quorum.fetch.timeout.ms", "controller.quorum.election.backoff.max.ms",
	"controller.quorum.request.timeout.ms", "socket.request.max.bytes",
	"connections.max.idle.ms", "cluster.id", NULL,
};

/* split_hostport - "HOST:PORT" or "[V6]:PORT" into `e`; -1 with KP_EINVAL. */
static int split_hostport(const char *key, const char *s, struct kp_ctl_endpoint *e, kp_error *err)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	const char *h = s[0] == '[' ? s + 1 : s;
	char *end;

	if (!colon || colon < h || (size_t)(colon - h) >= sizeof(e->host))
		return kp_error_set(err, KP_EINVAL, "%s: bad address '%s': expected HOST:PORT", key, s);
	memcpy(e->host, h, (size_t)(colon - h));
	e->host[colon - h] = '\0';
	colon += s[0] == '[' ? 2 : 1;
	long port = strtol(colon, &end, 10);

	if (!*colon || *end || port < 0 || port > 65535)
		return kp_error_set(err, KP_EINVAL, "%s: bad port in '%s'", key, s);
	e->port = (int)port;
	return 0;
}

/* parse_voter - "ID@HOST:PORT" (controller.quorum.voters). */
static int parse_voter(const char *s, struct kp_ctl_endpoint *e, kp_error *err)
{
	const char *at = strchr(s, '@');
	char *end;
	long id = strtol(s, &end, 10);

	if (!at || end != at || at == s || id < 0 || id > INT32_MAX)
		return kp_error_set(err, KP_EINVAL,
				    "controller.quorum.voters: bad voter '%s': expected ID@HOST:PORT", s);
	e->id = (int32_t)id;
	return split_hostport("controller.quorum.voters", at + 1, e, err);
}

/* parse_listener - "NAME://HOST:PORT". */
static int parse_listener(const char *s, struct kp_ctl_endpoint *e, kp_error *err)
{
	const char *sep = strstr(s, "://");

	if (!sep || sep == s || (size_t)(sep - s) >= sizeof(e->name))
		return kp_error_set(err, KP_EINVAL, "listeners: bad listener '%s': expected NAME://HOST:PORT", s);
	memcpy(e->name, s, (size_t)(sep - s));
	return split_hostport("listeners", sep + 3, e, err);
}

/*
 * parse_list - split `value` at commas and spaces and parse each item
 * with `one` into out[0..*n) (at most max). -1 with err.
 */
static int parse_list(const char *key, const char *value, struct kp_ctl_endpoint *out, int max, int *n,
		      int (*one)(const char *, struct kp_ctl_endpoint *, kp_error *), kp_error *err)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*n = 0;
	for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0; t = strtok_r(NULL, ", \t", &save)) {
		if (*n == max)
			rc = kp_error_set(err, KP_EINVAL, "%s: more than %d entries", key, max);
		else if ((rc = one(t, &out[*n], err)) == 0)
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

static int parse_timeouts(const kp_config *c, struct kp_controller_config *o, kp_error *err)
{
	if (kp_config_get_int64(c, "controller.quorum.election.timeout.ms", 1000, 1, INT32_MAX,
				&o->election_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.fetch.timeout.ms", 2000, 1, INT32_MAX,
				&o->fetch_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.election.backoff.max.ms", 1000, 1, INT32_MAX,
				&o->election_backoff_max_ms, err) < 0 ||
	    kp_config_get_int64(c, "controller.quorum.request.timeout.ms", 2000, 1, INT32_MAX,
				&o->request_timeout_ms, err) < 0 ||
	    kp_config_get_int64(c, "socket.request.max.bytes", 104857600, 1, INT32_MAX,
				&o->socket_request_max_bytes, err) < 0 ||
	    kp_config_get_int64(c, "connections.max.idle.ms", 600000, -1, INT64_MAX / 2,
				&o->connections_max_idle_ms, err) < 0)
		return -1;
	return 0;
}

/* parse_ids - node.id, the voters, and node.id among them. */
static int parse_ids(const kp_config *c, struct kp_controller_config *o, kp_error *err)
{
	const char *voters = kp_config_get(c, "controller.quorum.voters");
	int64_t id;

	if (!kp_config_get(c, "node.id"))
		return kp_error_set(err, KP_EINVAL, "node.id is required");
	if (kp_config_get_int64(c, "node.id", -1, 0, INT32_MAX, &id, err) < 0)
		return -1;
	o->node_id = (int32_t)id;
	if (!voters)
		return kp_error_set(err, KP_EINVAL, "controller.quorum.voters is required");
	if (parse_list("controller.quorum.voters", voters, o->voters, KP_RAFT_MAX_VOTERS, &o->n_voters,
		       parse_voter, err) < 0)
		return -1;
	for (int i = 0; i < o->n_voters; i++)
		if (o->voters[i].id == o->node_id)
			return 0;
	return kp_error_set(err, KP_EINVAL, "node.id %d is not in controller.quorum.voters", o->node_id);
}

/* parse_dirs - metadata.log.dir, else the first of log.dirs / log.dir. */
static void parse_dirs(const kp_config *c, struct kp_controller_config *o)
{
	const char *d = kp_config_get(c, "metadata.log.dir");

	if (!d)
		d = kp_config_get(c, "log.dirs");
	if (!d)
		d = kp_config_get(c, "log.dir");
	if (!d)
		d = "/tmp/kpipe-controller";
	size_t n = strcspn(d, ", \t");

	snprintf(o->log_dir, sizeof(o->log_dir), "%.*s", (int)n, d);
	snprintf(o->cluster_id, sizeof(o->cluster_id), "%s", kp_config_get_str(c, "cluster.id", ""));
}

int kp_controller_config_parse(const kp_config *c, struct kp_controller_config *o, kp_error *err)
{
	const char *names = kp_config_get_str(c, "controller.listener.names", "CONTROLLER");

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < kp_config_count(c); i++) {
		const char *k = kp_config_key(c, i);
		bool known = false;

		for (int j = 0; known_keys[j] && !known; j++)
			known = strcmp(known_keys[j], k) == 0;
		if (!known)
			kp_diag_warn("unknown setting %s ignored", k);
	}
	snprintf(o->listener_name, sizeof(o->listener_name), "%.*s", (int)strcspn(names, ", \t"), names);
	if (parse_ids(c, o, err) < 0 || parse_timeouts(c, o, err) < 0 ||
	    parse_list("listeners", kp_config_get_str(c, "listeners", "CONTROLLER://127.0.0.1:9093"),
		       o->listeners, KP_CTL_MAX_LISTENERS, &o->n_listeners, parse_listener, err) < 0)
		return -1;
	for (int i = 0; i < o->n_listeners; i++)
		if (check_protocol(c, o->listeners[i].name, err) < 0)
			return -1;
	parse_dirs(c, o);
	return 0;
}
