/*
 * describe_configs.c - DescribeConfigs (key 32), versions 0-4, on a KRaft
 * cluster member, from the metadata image's ConfigRecords (Kafka's
 * ConfigAdminManager.describeConfigs over the KRaft metadata cache).
 *
 * What is answered: the configs set dynamically on the resource, in name
 * order, filtered by ConfigurationKeys when given: a topic's
 * (DYNAMIC_TOPIC_CONFIG, source 1), a broker's (DYNAMIC_BROKER_CONFIG, 2)
 * or the cluster-wide broker default's, resource name ""
 * (DYNAMIC_DEFAULT_BROKER_CONFIG, 3). Not yet: the static and default
 * values Kafka lists beside them, synonyms, documentation. A topic the
 * image lacks is UNKNOWN_TOPIC_OR_PARTITION; a broker id that is not a
 * number, or another resource type, INVALID_REQUEST.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"

typedef struct kp_describe_configs_request_describe_configs_resource dc_resource;
typedef struct kp_describe_configs_response_describe_configs_result dc_result;
typedef struct kp_describe_configs_response_describe_configs_resource_result dc_config;

/* asked - whether config `name` is among the resource's keys (all when none are named). */
static bool asked(const dc_resource *r, const char *name)
{
	if (!r->configuration_keys || r->configuration_keys_count <= 0)
		return true;
	for (int32_t i = 0; i < r->configuration_keys_count; i++)
		if (r->configuration_keys[i] && strcmp(r->configuration_keys[i], name) == 0)
			return true;
	return false;
}

/* check - the error for describing `r` (KP_ERR_NONE when it can be), with *source. */
static int16_t check(struct kp_request *rq, const dc_resource *r, int8_t *source)
{
	const kp_image *img = rq->broker->cluster->image;
	const char *name = r->resource_name ? r->resource_name : "";
	char *end;

	if (r->resource_type == KP_CONFIG_RESOURCE_TOPIC) {
		*source = 1;
		return kp_image_topic_by_name(img, name) ? KP_ERR_NONE
							 : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (r->resource_type != KP_CONFIG_RESOURCE_BROKER)
		return KP_ERR_INVALID_REQUEST;
	*source = *name ? 2 : 3;
	if (*name && (strtol(name, &end, 10) < 0 || *end))
		return KP_ERR_INVALID_REQUEST;
	return KP_ERR_NONE;
}

static int describe_one(struct kp_request *rq, const dc_resource *r, dc_result *out)
{
	const kp_image *img = rq->broker->cluster->image;
	const char *name = r->resource_name ? r->resource_name : "";
	const struct kp_image_config *c;
	int8_t source = 0;
	int32_t n = 0;

	memset(out, 0, sizeof(*out));
	out->resource_type = r->resource_type;
	out->resource_name = r->resource_name;
	out->error_code = check(rq, r, &source);
	if (out->error_code != KP_ERR_NONE)
		return 0;
	for (c = kp_image_config_first(img, r->resource_type, name); c;
	     c = kp_image_config_next(img, c))
		n++;
	out->configs = kp_describe_configs_response_describe_configs_resource_result_new(
		&rq->arena, (size_t)n + 1);
	if (!out->configs)
		return -1;
	for (c = kp_image_config_first(img, r->resource_type, name); c;
	     c = kp_image_config_next(img, c)) {
		dc_config *o = &out->configs[out->configs_count];

		if (!asked(r, c->name))
			continue;
		o->name = c->name;
		o->value = c->value;
		o->config_source = source;
		o->synonyms_count = 0;
		out->configs_count++;
	}
	return 0;
}

int kp_handle_describe_configs(struct kp_request *rq, kp_error *err)
{
	const struct kp_describe_configs_request *req = rq->body;
	struct kp_describe_configs_response *resp = kp_describe_configs_response_new(&rq->arena, 1);
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;

	if (!resp || !(resp->results = kp_describe_configs_response_describe_configs_result_new(
			       &rq->arena, (size_t)n + 1)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++)
		if (describe_one(rq, &req->resources[i], &resp->results[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->results_count = n;
	KP_RESPOND(rq, DESCRIBE_CONFIGS, resp);
	return 0;
}
