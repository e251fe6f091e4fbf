/*
 * kgroups_common.c - start-up, messages and exit status shared by the
 * verbs of kgroups; see kgroups.h.
 */
#include "kgroups.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol/errors.h"

void kg_args_init(struct kp_client_args *a)
{
	kp_error err;

	kp_client_args_init(a);
	if (kp_config_set(a->cfg, "allow.auto.create.topics", "false", &err) < 0)
		kp_die("%s", err.msg);
}

kp_cluster *kg_connect(struct kp_client_args *a)
{
	kp_cluster *c = kp_client_connect_any(a);

	kp_config_free(a->cfg);
	a->cfg = NULL;
	return c;
}



const char *kg_i64(char *buf, int64_t v, bool neg_ok)
{
	if (v < 0 && !neg_ok)
		return NULL;
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

const char *kg_error_name(int code)
{
	const char *name = code ? kp_kafka_error_name(code) : "OK";

	return name ? name : "UNKNOWN_SERVER_ERROR";
}

const char *kg_result(const kp_error *e)
{
	if (e->code == KP_EKAFKA)
		return kg_error_name(e->kafka_code);
	if (e->code == KP_ENOTFOUND)
		return "GROUP_ID_NOT_FOUND";
	return "FAILED";
}
