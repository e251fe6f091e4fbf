/*
 * admin_topics_alter.c - IncrementalAlterConfigs (v0-1, KIP-339) of
 * topics, to any broker (KRaft brokers forward it to the controller,
 * KIP-590): SET a value, DELETE the topic's own (the default applies
 * again); the topic's other configs stay as they are.
 */
#include <string.h>

#include "client/admin_topics_internal.h"

#define RESOURCE_TOPIC 2
#define OP_SET 0
#define OP_DELETE 1

typedef struct kp_incremental_alter_configs_request_alter_configs_resource iac_resource;

/* fill - resource `r` for topic `name` with `ops`, in `a`. */
static int fill(kp_arena *a, const char *name, const struct kp_admin_config *ops, size_t nops,
		iac_resource *r)
{
	r->resource_type = RESOURCE_TOPIC;
	r->resource_name = (char *)name;
	r->configs = kp_incremental_alter_configs_request_alterable_config_new(a, nops + 1);
	if (!r->configs)
		return -1;
	for (size_t i = 0; i < nops; i++) {
		r->configs[i].name = (char *)ops[i].name;
		r->configs[i].value = (char *)ops[i].value;
		r->configs[i].config_operation = ops[i].value ? OP_SET : OP_DELETE;
	}
	r->configs_count = (int32_t)nops;
	return 0;
}

int kp_admin_alter_topic_configs(kp_cluster *c, const char *const *names, size_t n,
				 const struct kp_admin_config *ops, size_t nops, bool validate_only,
				 kp_arena *a, struct kp_admin_outcome *out, kp_error *err)
{
	struct kp_incremental_alter_configs_request req;
	struct kp_incremental_alter_configs_response resp;
	int32_t node;
	kp_conn *conn;

	kp_msg_init(&kp_incremental_alter_configs_request_desc, &req);
	req.validate_only = validate_only;
	req.resources = kp_incremental_alter_configs_request_alter_configs_resource_new(a, n + 1);
	if (!req.resources)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (fill(a, names[i], ops, nops, &req.resources[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	req.resources_count = (int32_t)n;
	if (!(conn = kp_admin_any_conn(c, &node, err)) ||
	    kp_admin_call(c, node, conn, KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, &req, a, &resp, NULL,
			  err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct kp_admin_outcome){ names[i], KP_ERR_UNKNOWN_SERVER_ERROR,
						    "no answer for it", -1, -1 };
		for (int32_t j = 0; j < resp.responses_count; j++)
			if (resp.responses[j].resource_name &&
			    strcmp(resp.responses[j].resource_name, names[i]) == 0) {
				out[i].error = resp.responses[j].error_code;
				out[i].message = resp.responses[j].error_message;
				break;
			}
	}
	return 0;
}
