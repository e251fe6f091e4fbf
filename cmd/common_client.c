/*
 * common_client.c - options and start-up shared by the client programs
 * (kproduce, kconsume, ktopics, kgroups); see common_client.h.
 */
#include "common_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/diag.h"

/* The security.protocol values of the Java client; only the first is built. */
static const char *const protocols[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL" };

void kp_client_args_init(struct kp_client_args *a)
{
	const char *env = getenv("KAFKA_BOOTSTRAP_SERVERS");

	*a = (struct kp_client_args){ .brokers = env && *env ? env : "127.0.0.1:9092",
				      .partition = -1 };
	if (!(a->cfg = kp_config_new()))
		kp_die("out of memory");
}

/* Whether `v` is one of the Java client's security.protocol values (any case). */
static bool known_protocol(const char *v)
{
	for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++)
		if (strcasecmp(v, protocols[i]) == 0)
			return true;
	return false;
}

/*
 * unsupported - whether `cfg` asks for what is not built yet: TLS or SASL
 * (security.protocol other than PLAINTEXT, any ssl.* or sasl.* setting),
 * or names an unknown security.protocol; the message goes to msg.
 */
static bool unsupported(const kp_config *cfg, char *msg, size_t size)
{
	for (size_t i = 0; i < kp_config_count(cfg); i++) {
		const char *k = kp_config_key(cfg, i), *v = kp_config_get(cfg, k);

		if (strcmp(k, "security.protocol") == 0 && strcasecmp(v, protocols[0]) != 0) {
			if (known_protocol(v))
				snprintf(msg, size, "security.protocol=%s is not supported yet "
					 "(no TLS or SASL: only PLAINTEXT)", v);
			else
				snprintf(msg, size, "bad security.protocol '%s' (want PLAINTEXT, SSL, "
					 "SASL_PLAINTEXT or SASL_SSL)", v);
			return true;
		}
		if (strncmp(k, "ssl.", 4) == 0 || strncmp(k, "sasl.", 5) == 0) {
			snprintf(msg, size, "%s is not supported yet (no %s: only PLAINTEXT)", k,
				 k[1] == 's' ? "TLS" : "SASL");
			return true;
		}
	}
	return false;
}

/* load_file - -F FILE into a->cfg; exits 1 when it cannot be read or asks for TLS or SASL. */
static void load_file(struct kp_client_args *a, const char *path)
{
	char msg[256];
	kp_error err;

	if (kp_config_load(a->cfg, path, &err) < 0)
		kp_die("%s", err.msg);
	if (unsupported(a->cfg, msg, sizeof msg)) /* an earlier -X would have exited already */
		kp_die("%s: %s", path, msg);
}

/* set_property - -X KEY=VALUE into a->cfg; exits 2 when malformed or asking for TLS or SASL. */
static void set_property(struct kp_client_args *a, const char *pair)
{
	char msg[256];
	kp_error err;

	if (kp_config_set_pair(a->cfg, pair, &err) < 0)
		kp_usage_error("%s", err.msg);
	if (unsupported(a->cfg, msg, sizeof msg))
		kp_usage_error("%s", msg);
}

int kp_client_opt(struct kp_client_args *a, int id, const char *arg)
{
	switch (id) {
	case 'b':
		a->brokers = arg;
		a->brokers_given = true;
		return 1;
	case 'F':
		load_file(a, arg);
		return 1;
	case KP_OPT_ID_JSON:
		a->json = true;
		return 1;
	case 't':
		a->topic = arg;
		return 1;
	case 'p':
		if (kp_parse_int32(arg, 0, INT32_MAX, &a->partition) < 0)
			kp_usage_error("bad partition '%s'", arg);
		return 1;
	case 'k':
		if (!*arg)
			kp_usage_error("the key delimiter must not be empty");
		a->delim = arg;
		return 1;
	case 'X':
		set_property(a, arg);
		return 1;
	default:
		return 0;
	}
}

kp_cluster *kp_client_connect(struct kp_client_args *a)
{
	if (!a->topic)
		kp_usage_error("a topic (-t) is required");
	return kp_client_connect_any(a);
}

kp_cluster *kp_client_connect_any(struct kp_client_args *a)
{
	const char *servers = kp_config_get(a->cfg, "bootstrap.servers");
	kp_cluster *cluster;
	kp_error err;

	if (!a->brokers_given && servers && *servers)
		a->brokers = servers;
	kp_diag_to_stderr(KP_DIAG_WARN);
	if (!(cluster = kp_cluster_new(a->brokers, a->cfg, &err))) {
		if (err.code == KP_EINVAL) /* a malformed -b or -X value */
			kp_usage_error("%s", err.msg);
		if (err.code == KP_ECONN)
			kp_die("%s (is a broker running there? -b HOST:PORT names another)", err.msg);
		kp_die("%s", err.msg);
	}
	return cluster;
}
