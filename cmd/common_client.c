/*
 * common_client.c - options and start-up shared by kproduce and kconsume;
 * see common_client.h.
 */
#include "common_client.h"

#include <stdlib.h>

#include "util/diag.h"

void kp_client_args_init(struct kp_client_args *a)
{
	const char *env = getenv("KAFKA_BOOTSTRAP_SERVERS");

	*a = (struct kp_client_args){ .brokers = env && *env ? env : "127.0.0.1:9092",
				      .partition = -1 };
	if (!(a->cfg = kp_config_new()))
		kp_die("out of memory");
}

int kp_client_opt(struct kp_client_args *a, int id, const char *arg)
{
	kp_error err;

	switch (id) {
	case 'b':
		a->brokers = arg;
		a->brokers_given = true;
		return 1;
	case 'F':
		if (kp_config_load(a->cfg, arg, &err) < 0)
			kp_die("%s", err.msg);
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
		if (kp_config_set_pair(a->cfg, arg, &err) < 0)
			kp_usage_error("%s", err.msg);
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
