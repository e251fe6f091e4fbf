/*
 * describe_configs.c - DescribeConfigs (key 32), versions 0-4, on a KRaft
 * cluster member, as Kafka's ConfigHelper.describeConfigs answers it:
 *   topic     every topic config (lib/metadata/config_defs.h) with its
 *             value and source: the topic's own (DYNAMIC_TOPIC_CONFIG,
 *             from the image), else its broker synonym's from this
 *             broker's dynamic configs, the cluster's dynamic default,
 *             this broker's settings (STATIC_BROKER_CONFIG), else Kafka's
 *             default (describe_configs_topic.c)
 *   broker    "" is the cluster's dynamic default configs; this broker's
 *             id its configs (describe_configs_broker.c); another id, or
 *             a name that is not a number, INVALID_REQUEST as Kafka's
 *   filters   ConfigurationKeys (names not found are left out);
 *             IncludeSynonyms (v1+; KIP-226), IncludeDocumentation and
 *             ConfigType (v3+; KIP-569)
 * A topic with an invalid name is INVALID_TOPIC_EXCEPTION, one the image
 * lacks UNKNOWN_TOPIC_OR_PARTITION; another resource type is
 * INVALID_REQUEST (Kafka answers BROKER_LOGGER, CLIENT_METRICS and GROUP
 * resources; kbroker has none of them). Every result carries an error
 * message, "" when there is no error, as Kafka 4's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/describe_configs.h"

bool kp_dc_asked(const dc_resource *r, const char *name)
{
	if (!r->configuration_keys || r->configuration_keys_count <= 0)
		return true;
	for (int32_t i = 0; i < r->configuration_keys_count; i++)
		if (r->configuration_keys[i] && strcmp(r->configuration_keys[i], name) == 0)
			return true;
	return false;
}

const char *kp_dc_layer(void *arg, int source, const char *name)
{
	struct kp_broker *b = arg;
	char id[16];

	switch (source) {
	case KP_CONFIG_SOURCE_BROKER:
		snprintf(id, sizeof(id), "%d", (int)b->cfg.node_id);
		return kp_image_config_value(b->cluster->image, KP_CONFIG_RESOURCE_BROKER, id, name);
	case KP_CONFIG_SOURCE_BROKER_DEFAULT:
		return kp_image_config_value(b->cluster->image, KP_CONFIG_RESOURCE_BROKER, "", name);
	case KP_CONFIG_SOURCE_STATIC:
		return b->props ? kp_config_get(b->props, name) : NULL;
	default:
		return NULL;
	}
}

static char *arena_strdup(struct kp_request *rq, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = kp_request_alloc(rq, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* add_synonyms - e's synonyms into `c`, in rq's arena. */
static int add_synonyms(struct kp_request *rq, const struct kp_dc_entry *e, dc_config *c)
{
	c->synonyms = kp_describe_configs_response_describe_configs_synonym_new(&rq->arena,
										 e->nsyn + 1);
	if (!c->synonyms)
		return -1;
	for (size_t i = 0; i < e->nsyn; i++) {
		c->synonyms[i].name = (char *)e->syn[i].name;
		c->synonyms[i].value = e->syn[i].value ? arena_strdup(rq, e->syn[i].value) : NULL;
		c->synonyms[i].source = e->syn[i].source;
		if (e->syn[i].value && !c->synonyms[i].value)
			return -1;
	}
	c->synonyms_count = (int32_t)e->nsyn;
	return 0;
}

int kp_dc_add(struct kp_request *rq, const struct kp_dc_entry *e, dc_result *out)
{
	const struct kp_describe_configs_request *req = rq->body;
	dc_config *c = &out->configs[out->configs_count];

	c->name = (char *)e->name;
	c->value = e->value ? arena_strdup(rq, e->value) : NULL;
	if (e->value && !c->value)
		return -1;
	c->read_only = e->read_only;
	c->is_default = e->source == KP_CONFIG_SOURCE_DEFAULT;
	c->config_source = e->source;
	c->is_sensitive = false;
	c->config_type = e->type;
	c->documentation = req->include_documentation ? (char *)e->doc : NULL;
	c->synonyms_count = 0;
	if (req->include_synonyms && add_synonyms(rq, e, c) < 0)
		return -1;
	out->configs_count++;
	return 0;
}

/* check_broker - the error for describing broker resource `name`, with *message. */
static int16_t check_broker(struct kp_request *rq, const char *name, char **message)
{
	char *end, text[256];
	long id = strtol(name, &end, 10);

	if (!*name)
		return KP_ERR_NONE;
	if (*end || end == name)
		snprintf(text, sizeof(text), "Broker id must be an integer, but it is: %.100s", name);
	else if (id != rq->broker->cfg.node_id)
		snprintf(text, sizeof(text),
			 "Unexpected broker id, expected %d or empty string, but received %.100s",
			 (int)rq->broker->cfg.node_id, name);
	else
		return KP_ERR_NONE;
	*message = arena_strdup(rq, text);
	return KP_ERR_INVALID_REQUEST;
}

/* check - the error for describing `r` (KP_ERR_NONE when it can be), with *message. */
static int16_t check(struct kp_request *rq, const dc_resource *r, char **message)
{
	const char *name = r->resource_name ? r->resource_name : "";

	switch (r->resource_type) {
	case KP_CONFIG_RESOURCE_TOPIC:
		if (!kp_topic_name_valid(name)) {
			*message = "Topic name is invalid";
			return KP_ERR_INVALID_TOPIC_EXCEPTION;
		}
		return kp_image_topic_by_name(rq->broker->cluster->image, name)
			       ? KP_ERR_NONE : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case KP_CONFIG_RESOURCE_BROKER:
		return check_broker(rq, name, message);
	default:
		*message = "Unsupported resource type";
		return KP_ERR_INVALID_REQUEST;
	}
}

static int describe_one(struct kp_request *rq, const dc_resource *r, dc_result *out)
{
	memset(out, 0, sizeof(*out));
	out->resource_type = r->resource_type;
	out->resource_name = r->resource_name;
	out->error_message = "";
	out->error_code = check(rq, r, &out->error_message);
	if (!out->error_message)
		return -1;
	if (out->error_code != KP_ERR_NONE)
		return 0;
	return r->resource_type == KP_CONFIG_RESOURCE_TOPIC ? kp_dc_topic(rq, r, out)
							    : kp_dc_broker(rq, r, out);
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
