/*
 * describe_configs_topic.c - DescribeConfigs of a topic: every topic
 * config Kafka has (lib/metadata/config_defs.h), in name order, as
 * Kafka's ConfigHelper.createTopicConfigEntry writes them:
 *   value     the topic's own (the image's ConfigRecord), else the first
 *             broker synonym set in this broker's dynamic configs, the
 *             cluster's dynamic default or its settings, converted to the
 *             topic config's unit (log.retention.hours -> retention.ms),
 *             else Kafka's default; printed as Kafka prints the parsed
 *             value (kp_config_value_string)
 *   synonyms  the topic's own value (DYNAMIC_TOPIC_CONFIG) first, then
 *             the broker synonyms by source (kp_config_synonyms: Kafka
 *             leaves out those before the first synonym's name, so
 *             retention.ms shows none for a log.retention.hours)
 *   source    the first synonym's, DEFAULT_CONFIG when there is none
 * Configs the image holds for the topic that Kafka does not know (set by
 * an older kbroker) follow, as Kafka lists a topic's unknown properties:
 * type UNKNOWN, their value as stored.
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/describe_configs.h"

/* broker_value - the topic config's value from its broker synonyms or default, into buf. */
static const char *broker_value(struct kp_broker *b, const struct kp_topic_config_def *d,
				char *buf, size_t size)
{
	static const int layers[] = { KP_CONFIG_SOURCE_BROKER, KP_CONFIG_SOURCE_BROKER_DEFAULT,
				      KP_CONFIG_SOURCE_STATIC };

	for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]); l++)
		for (int i = 0; i < KP_CONFIG_MAX_SYNONYMS && d->synonyms[i]; i++) {
			const char *v = kp_dc_layer(b, layers[l], d->synonyms[i]);

			if (v)
				return kp_config_value_string(d->type, v, d->factor[i], buf, size);
		}
	return d->default_value;
}

/* topic_entry - config `d` of `topic` into `e`; the value may be in buf. */
static void topic_entry(struct kp_broker *b, const char *topic,
			const struct kp_topic_config_def *d, struct kp_dc_entry *e, char *buf,
			size_t size)
{
	const char *own = kp_image_config_value(b->cluster->image, KP_CONFIG_RESOURCE_TOPIC, topic,
						d->name);

	memset(e, 0, sizeof(*e));
	e->name = d->name;
	e->type = d->type;
	e->doc = d->doc;
	if (own) {
		e->value = kp_config_value_string(d->type, own, 1, buf, size);
		e->syn[e->nsyn++] = (struct kp_config_synonym){ d->name, e->value,
							       KP_CONFIG_SOURCE_TOPIC };
	} else {
		e->value = broker_value(b, d, buf, size);
	}
	if (d->synonyms[0])
		e->nsyn += kp_config_synonyms(d->synonyms, d->synonyms[0], kp_dc_layer, b,
					      e->syn + e->nsyn, KP_DC_MAX_SYNONYMS - e->nsyn);
	e->source = e->nsyn ? e->syn[0].source : KP_CONFIG_SOURCE_DEFAULT;
}

/* unknown_configs - the topic's configs Kafka does not know, after the others. */
static int unknown_configs(struct kp_request *rq, const dc_resource *r, dc_result *out)
{
	const kp_image *img = rq->broker->cluster->image;
	struct kp_dc_entry e;

	for (const struct kp_image_config *c = kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC,
								       r->resource_name);
	     c; c = kp_image_config_next(img, c)) {
		if (kp_topic_config_def(c->name) || !kp_dc_asked(r, c->name))
			continue;
		memset(&e, 0, sizeof(e));
		e.name = c->name;
		e.value = c->value;
		e.source = KP_CONFIG_SOURCE_TOPIC;
		e.syn[e.nsyn++] = (struct kp_config_synonym){ c->name, c->value,
							     KP_CONFIG_SOURCE_TOPIC };
		if (kp_dc_add(rq, &e, out) < 0)
			return -1;
	}
	return 0;
}

int kp_dc_topic(struct kp_request *rq, const dc_resource *r, dc_result *out)
{
	const kp_image *img = rq->broker->cluster->image;
	size_t n = kp_topic_config_def_count;
	struct kp_dc_entry e;
	char buf[1024];

	for (const struct kp_image_config *c = kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC,
								       r->resource_name);
	     c; c = kp_image_config_next(img, c))
		n++;
	out->configs = kp_describe_configs_response_describe_configs_resource_result_new(&rq->arena,
											  n + 1);
	if (!out->configs)
		return -1;
	for (size_t i = 0; i < kp_topic_config_def_count; i++) {
		const struct kp_topic_config_def *d = &kp_topic_config_defs[i];

		if (!kp_dc_asked(r, d->name))
			continue;
		topic_entry(rq->broker, r->resource_name, d, &e, buf, sizeof(buf));
		if (kp_dc_add(rq, &e, out) < 0)
			return -1;
	}
	return unknown_configs(rq, r, out);
}
