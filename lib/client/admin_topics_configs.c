/*
 * admin_topics_configs.c - the configs of topics: DescribeConfigs (v1-4)
 * with IncludeSynonyms (KIP-226), to any broker; each topic's configs
 * sorted by name (Kafka lists them in its hash map's order).
 */
#include <stdlib.h>
#include <string.h>

#include "client/admin_topics_internal.h"

#define RESOURCE_TOPIC 2

typedef struct kp_describe_configs_response_describe_configs_result dc_result;
typedef struct kp_describe_configs_response_describe_configs_resource_result dc_config;

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct kp_admin_config_entry *)x)->name,
		      ((const struct kp_admin_config_entry *)y)->name);
}

/* entries - r's configs as out's, in `a`. */
static int entries(kp_arena *a, const dc_result *r, struct kp_admin_topic_configs *out)
{
	out->configs = kp_arena_alloc(a, sizeof(*out->configs) * ((size_t)r->configs_count + 1));
	if (!out->configs)
		return -1;
	for (int32_t i = 0; i < r->configs_count; i++) {
		const dc_config *c = &r->configs[i];
		struct kp_admin_config_entry *e = &out->configs[out->nconfigs++];
		struct kp_admin_synonym *s;

		*e = (struct kp_admin_config_entry){ c->name ? c->name : "", c->value,
						     c->config_source, c->read_only, c->is_sensitive,
						     NULL, 0 };
		s = kp_arena_alloc(a, sizeof(*s) * ((size_t)(c->synonyms_count > 0
								  ? c->synonyms_count : 0) + 1));
		if (!s)
			return -1;
		for (int32_t j = 0; j < c->synonyms_count; j++)
			s[j] = (struct kp_admin_synonym){ c->synonyms[j].name, c->synonyms[j].value,
							  c->synonyms[j].source };
		e->synonyms = s;
		e->nsynonyms = c->synonyms_count > 0 ? c->synonyms_count : 0;
	}
	qsort(out->configs, (size_t)out->nconfigs, sizeof(*out->configs), entry_cmp);
	return 0;
}

int kp_admin_describe_topic_configs(kp_cluster *c, const char *const *names, size_t n,
				    kp_arena *a, struct kp_admin_topic_configs *out,
				    kp_error *err)
{
	struct kp_describe_configs_request req;
	struct kp_describe_configs_response resp;
	int32_t node;
	kp_conn *conn;

	kp_msg_init(&kp_describe_configs_request_desc, &req);
	req.include_synonyms = true;
	req.resources = kp_describe_configs_request_describe_configs_resource_new(a, n + 1);
	if (!req.resources)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		req.resources[i].resource_type = RESOURCE_TOPIC;
		req.resources[i].resource_name = (char *)names[i];
		req.resources[i].configuration_keys = NULL;
		req.resources[i].configuration_keys_count = -1; /* all */
	}
	req.resources_count = (int32_t)n;
	if (!(conn = kp_admin_any_conn(c, &node, err)) ||
	    kp_admin_call(c, node, conn, KP_API_DESCRIBE_CONFIGS, 1, 4, &req, a, &resp, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct kp_admin_topic_configs){ names[i], KP_ERR_UNKNOWN_SERVER_ERROR,
							  "no answer for it", NULL, 0 };
		for (int32_t j = 0; j < resp.results_count; j++) {
			const dc_result *r = &resp.results[j];

			if (!r->resource_name || strcmp(r->resource_name, names[i]) != 0)
				continue;
			out[i].error = r->error_code;
			out[i].message = r->error_message && *r->error_message ? r->error_message
									       : NULL;
			if (r->error_code == 0 && entries(a, r, &out[i]) < 0)
				return kp_error_set(err, KP_ENOMEM, "out of memory");
			break;
		}
	}
	return 0;
}
