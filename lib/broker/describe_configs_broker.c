/*
 * describe_configs_broker.c - DescribeConfigs of a broker resource, as
 * Kafka's ConfigHelper.createBrokerConfigEntry writes them:
 *   ""        the cluster's dynamic default configs (the image's), each
 *             DYNAMIC_DEFAULT_BROKER_CONFIG with only such synonyms
 *   this id   the broker configs that stand in for topic configs
 *             (lib/metadata/config_defs.h), every config set dynamically
 *             for this broker or the cluster, and every setting given to
 *             this broker, in name order: the value of the first layer
 *             that has it (dynamic for this broker, dynamic default,
 *             static, default), synonyms and source as ConfigHelper's
 *             (log.retention.hours and log.retention.ms are synonyms)
 * Kafka lists all of its several hundred broker configs here; kbroker
 * lists those it knows (tests/differential/accepted.json). Types,
 * documentation and ReadOnly come from the config tables, UNKNOWN / none
 * / false for other names.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/cluster.h"
#include "broker/describe_configs.h"

/*
 * synonym_names - Kafka's broker synonyms of `name`
 * (DynamicBrokerConfig.brokerConfigSynonyms): the group of log.roll.*,
 * log.roll.jitter.*, log.retention.* it belongs to, log.flush.interval.ms
 * with log.flush.scheduler.interval.ms, else itself. out[] has room for
 * KP_CONFIG_MAX_SYNONYMS + 1 and ends with NULL.
 */
static void synonym_names(const char *name, const char **out)
{
	out[0] = name;
	out[1] = NULL;
	if (strcmp(name, "log.flush.scheduler.interval.ms") == 0)
		return;
	for (size_t i = 0; i < kp_topic_config_def_count; i++) {
		const struct kp_topic_config_def *d = &kp_topic_config_defs[i];

		if (!d->synonyms[1])
			continue;
		for (int j = 0; j < KP_CONFIG_MAX_SYNONYMS && d->synonyms[j]; j++)
			if (strcmp(d->synonyms[j], name) == 0) {
				for (j = 0; j < KP_CONFIG_MAX_SYNONYMS; j++)
					out[j] = d->synonyms[j];
				out[KP_CONFIG_MAX_SYNONYMS] = NULL;
				return;
			}
	}
}

/* broker_entry - broker config `name` into `e` (per_broker: this broker's id, else ""). */
static void broker_entry(struct kp_broker *b, const char *name, bool per_broker,
			 struct kp_dc_entry *e)
{
	static const int layers[] = { KP_CONFIG_SOURCE_BROKER, KP_CONFIG_SOURCE_BROKER_DEFAULT,
				      KP_CONFIG_SOURCE_STATIC };
	const struct kp_broker_config_def *d = kp_broker_config_def(name);
	const char *names[KP_CONFIG_MAX_SYNONYMS + 1];
	size_t k = 0;

	memset(e, 0, sizeof(*e));
	e->name = name;
	e->type = d ? d->type : KP_CONFIG_TYPE_UNKNOWN;
	e->doc = d ? d->doc : NULL;
	e->read_only = d && d->read_only;
	e->value = d ? d->default_value : NULL;
	for (size_t l = per_broker ? 0 : 1; l < (per_broker ? 3 : 2); l++) {
		const char *v = kp_dc_layer(b, layers[l], name);

		if (v) {
			e->value = v;
			break;
		}
	}
	synonym_names(name, names);
	e->nsyn = kp_config_synonyms(names, name, kp_dc_layer, b, e->syn, KP_DC_MAX_SYNONYMS);
	for (size_t i = 0; i < e->nsyn; i++) /* the default resource: its own layer only */
		if (per_broker || e->syn[i].source == KP_CONFIG_SOURCE_BROKER_DEFAULT)
			e->syn[k++] = e->syn[i];
	e->nsyn = k;
	e->source = e->nsyn ? e->syn[0].source : KP_CONFIG_SOURCE_DEFAULT;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* add_image_names - the names of resource (BROKER, id)'s dynamic configs to names[]. */
static size_t add_image_names(const kp_image *img, const char *id, const char **names, size_t n,
			      size_t cap)
{
	for (const struct kp_image_config *c = kp_image_config_first(img, KP_CONFIG_RESOURCE_BROKER,
								       id);
	     c && n < cap; c = kp_image_config_next(img, c))
		names[n++] = c->name;
	return n;
}

/* config_names - what resource `id` lists, sorted and unique, into rq's arena. */
static const char **config_names(struct kp_request *rq, const char *id, size_t *count)
{
	const kp_image *img = rq->broker->cluster->image;
	const kp_config *props = rq->broker->props;
	size_t cap = kp_broker_config_def_count + (props ? kp_config_count(props) : 0), n = 0;
	const char **names;

	for (const char *res = id;; res = "") {
		for (const struct kp_image_config *c =
			     kp_image_config_first(img, KP_CONFIG_RESOURCE_BROKER, res);
		     c; c = kp_image_config_next(img, c))
			cap++;
		if (!*res)
			break;
	}
	if (!(names = kp_request_alloc(rq, sizeof(*names) * (cap + 1))))
		return NULL;
	n = add_image_names(img, "", names, n, cap);
	if (*id) {
		n = add_image_names(img, id, names, n, cap);
		for (size_t i = 0; i < kp_broker_config_def_count; i++)
			names[n++] = kp_broker_config_defs[i].name;
		for (size_t i = 0; props && i < kp_config_count(props) && n < cap; i++)
			names[n++] = kp_config_key(props, i);
	}
	qsort(names, n, sizeof(*names), name_cmp);
	*count = 0;
	for (size_t i = 0; i < n; i++)
		if (*count == 0 || strcmp(names[*count - 1], names[i]) != 0)
			names[(*count)++] = names[i];
	return names;
}

int kp_dc_broker(struct kp_request *rq, const dc_resource *r, dc_result *out)
{
	const char *id = r->resource_name ? r->resource_name : "";
	struct kp_dc_entry e;
	const char **names;
	size_t n;

	if (!(names = config_names(rq, id, &n)))
		return -1;
	out->configs = kp_describe_configs_response_describe_configs_resource_result_new(&rq->arena,
											  n + 1);
	if (!out->configs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!kp_dc_asked(r, names[i]))
			continue;
		broker_entry(rq->broker, names[i], *id != '\0', &e);
		if (kp_dc_add(rq, &e, out) < 0)
			return -1;
	}
	return 0;
}
