/*
 * config_quorum.c - a broker's KRaft quorum settings (Kafka's
 * QuorumConfig and the broker lifecycle keys of KafkaConfig); see
 * kp_broker_quorum_config_parse in config.h.
 *
 *   controller.quorum.voters             ID@HOST:PORT,...  (static quorum)
 *   controller.quorum.bootstrap.servers  HOST:PORT,...     (KIP-853; ids learnt later)
 *   controller.listener.names            CONTROLLER  (required with a quorum, as Kafka)
 *   process.roles                        broker, or broker,controller (combined mode:
 *                                        node.id a voter, the controller in kbroker)
 *   metadata.log.dir                     the first of log.dirs
 *   broker.rack, broker.heartbeat.interval.ms (2000), broker.session.timeout.ms (9000),
 *   initial.broker.registration.timeout.ms (60000), controller.quorum.election.timeout.ms
 *   (1000), controller.quorum.fetch.timeout.ms (2000), controller.quorum.request.timeout.ms
 *   (2000), controller.quorum.retry.backoff.ms (20)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"

/* split_hostport - "HOST:PORT" or "[V6]:PORT" into `a`; -1 with KP_EINVAL naming `key`. */
static int split_hostport(const char *key, const char *s, struct kp_broker_controller_addr *a,
			  kp_error *err)
{
	const char *h = s[0] == '[' ? s + 1 : s;
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	char *end;

	if (!colon || colon < h || colon == h || (size_t)(colon - h) >= sizeof(a->host))
		return kp_error_set(err, KP_EINVAL, "%s: bad address '%s': expected HOST:PORT", key, s);
	memcpy(a->host, h, (size_t)(colon - h));
	a->host[colon - h] = '\0';
	colon += s[0] == '[' ? 2 : 1;
	long port = strtol(colon, &end, 10);

	if (!*colon || *end || port < 1 || port > 65535)
		return kp_error_set(err, KP_EINVAL, "%s: bad port in '%s'", key, s);
	a->port = (int)port;
	return 0;
}

/* parse_addr - one entry: "ID@HOST:PORT" when `with_id`, else "HOST:PORT" (id -1). */
static int parse_addr(const char *key, const char *s, bool with_id,
		      struct kp_broker_controller_addr *a, kp_error *err)
{
	char *end;

	a->id = -1;
	if (!with_id)
		return split_hostport(key, s, a, err);
	long id = strtol(s, &end, 10);

	if (end == s || *end != '@' || id < 0 || id > INT32_MAX)
		return kp_error_set(err, KP_EINVAL, "%s: bad voter '%s': expected ID@HOST:PORT", key, s);
	a->id = (int32_t)id;
	return split_hostport(key, end + 1, a, err);
}

/* parse_addrs - a comma-separated list of `key` into out[0..*n). */
static int parse_addrs(const char *key, const char *value, bool with_id,
		       struct kp_broker_controller_addr *out, int *n, kp_error *err)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*n = 0;
	for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0; t = strtok_r(NULL, ", \t", &save)) {
		if (*n == KP_BROKER_MAX_VOTERS)
			rc = kp_error_set(err, KP_EINVAL, "%s: more than %d entries", key,
					  KP_BROKER_MAX_VOTERS);
		else if ((rc = parse_addr(key, t, with_id, &out[*n], err)) == 0)
			(*n)++;
	}
	free(copy);
	if (rc == 0 && *n == 0)
		rc = kp_error_set(err, KP_EINVAL, "%s: empty", key);
	return rc;
}

/*
 * check_roles - process.roles is "broker" (node.id not a voter) or
 * "broker,controller" in either order (combined mode: node.id a voter,
 * whose controller runs inside kbroker); a controller alone is kcontroller.
 */
static int check_roles(const kp_config *c, int32_t node_id, struct kp_broker_quorum_config *o,
		       kp_error *err)
{
	const char *roles = kp_config_get_str(c, "process.roles", "broker");
	bool voter = false;

	for (int i = 0; i < o->n_voters; i++)
		voter = voter || o->voters[i].id == node_id;
	o->combined = strcmp(roles, "broker,controller") == 0 ||
		      strcmp(roles, "controller,broker") == 0;
	if (!o->combined && strcmp(roles, "broker") != 0)
		return kp_error_set(err, KP_EINVAL, "process.roles: '%s' is not broker or "
				    "broker,controller (a controller alone is kcontroller)", roles);
	if (voter && !o->combined)
		return kp_error_set(err, KP_EINVAL, "node.id %d is a voter in controller.quorum.voters: "
				    "set process.roles=broker,controller to run its controller here",
				    node_id);
	if (!voter && o->combined)
		return kp_error_set(err, KP_EINVAL, "process.roles=broker,controller: node.id %d is "
				    "not in controller.quorum.voters", node_id);
	return 0;
}

static int parse_times(const kp_config *c, struct kp_broker_quorum_config *o, kp_error *err)
{
	return kp_config_get_int64(c, "broker.heartbeat.interval.ms", 2000, 1, INT32_MAX,
				   &o->heartbeat_interval_ms, err) < 0 ||
	       kp_config_get_int64(c, "broker.session.timeout.ms", 9000, 1, INT32_MAX,
				   &o->session_timeout_ms, err) < 0 ||
	       kp_config_get_int64(c, "initial.broker.registration.timeout.ms", 60000, 1, INT32_MAX,
				   &o->initial_registration_timeout_ms, err) < 0 ||
	       kp_config_get_int64(c, "controller.quorum.election.timeout.ms", 1000, 1, INT32_MAX,
				   &o->election_timeout_ms, err) < 0 ||
	       kp_config_get_int64(c, "controller.quorum.fetch.timeout.ms", 2000, 1, INT32_MAX,
				   &o->fetch_timeout_ms, err) < 0 ||
	       kp_config_get_int64(c, "controller.quorum.request.timeout.ms", 2000, 1, INT32_MAX,
				   &o->request_timeout_ms, err) < 0 ||
	       kp_config_get_int64(c, "controller.quorum.retry.backoff.ms", 20, 0, INT32_MAX,
				   &o->retry_backoff_ms, err) < 0
		       ? -1 : 0;
}

int kp_broker_quorum_config_parse(const kp_config *c, int32_t node_id, const char *first_log_dir,
				  struct kp_broker_quorum_config *o, kp_error *err)
{
	const char *voters = kp_config_get(c, "controller.quorum.voters");
	const char *boot = kp_config_get(c, "controller.quorum.bootstrap.servers");
	const char *names = kp_config_get(c, "controller.listener.names");
	const char *rack = kp_config_get_str(c, "broker.rack", "");
	const char *mdir = kp_config_get_str(c, "metadata.log.dir", first_log_dir);

	memset(o, 0, sizeof(*o));
	if (!voters && !boot)
		return 0;
	if ((voters && parse_addrs("controller.quorum.voters", voters, true, o->voters,
				   &o->n_voters, err) < 0) ||
	    (boot && parse_addrs("controller.quorum.bootstrap.servers", boot, false, o->bootstrap,
				 &o->n_bootstrap, err) < 0) ||
	    check_roles(c, node_id, o, err) < 0 || parse_times(c, o, err) < 0)
		return -1;
	if (!voters)
		return kp_error_set(err, KP_EINVAL, "controller.quorum.bootstrap.servers alone is not "
				    "supported yet: set controller.quorum.voters");
	if (!names || !*names)
		return kp_error_set(err, KP_EINVAL, "controller.listener.names is required with "
				    "controller.quorum.voters or controller.quorum.bootstrap.servers");
	size_t n = strcspn(names, ", \t");

	if (n == 0 || n >= sizeof(o->controller_listener) || strlen(rack) >= sizeof(o->rack) ||
	    strlen(mdir) >= sizeof(o->metadata_log_dir))
		return kp_error_set(err, KP_EINVAL, "controller.listener.names, broker.rack or "
				    "metadata.log.dir: value too long or empty");
	memcpy(o->controller_listener, names, n);
	snprintf(o->rack, sizeof(o->rack), "%s", rack);
	snprintf(o->metadata_log_dir, sizeof(o->metadata_log_dir), "%s", mdir);
	return 0;
}
