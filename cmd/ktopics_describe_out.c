/*
 * ktopics_describe_out.c - what ktopics describe prints besides the
 * partition table: the config table (--configs) and the JSON document
 * (--json); see ktopics.h.
 */
#include <stdio.h>
#include <string.h>

#include "ktopics.h"

static const struct kp_col config_cols[] = {
	{ "TOPIC", "topic", KP_COL_STR },
	{ "CONFIG", "config", KP_COL_STR },
	{ "VALUE", "value", KP_COL_STR },
	{ "SOURCE", "source", KP_COL_STR },
};

const char *kt_uuid(const uint8_t id[16], char *buf)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t k = 0;

	for (int i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)id[i] << 16 | (i + 1 < 16 ? (uint32_t)id[i + 1] << 8 : 0) |
			     (i + 2 < 16 ? id[i + 2] : 0);

		buf[k++] = abc[v >> 18 & 63];
		buf[k++] = abc[v >> 12 & 63];
		if (i + 1 < 16)
			buf[k++] = abc[v >> 6 & 63];
		if (i + 2 < 16)
			buf[k++] = abc[v & 63];
	}
	buf[k] = '\0';
	return buf;
}

size_t kt_configs_failed(const struct kp_admin_topic_configs *c)
{
	char msg[512];
	const char *m;

	if (!c->error)
		return 0;
	m = kt_message(c->message, msg, sizeof(msg));
	kp_warn("cannot describe the configs of topic '%s': %s%s%s", c->topic,
		kt_error_name(c->error), m ? ": " : "", m ? m : "");
	return 1;
}

void kt_print_configs(const struct kp_admin_topic_configs *c, size_t n)
{
	kp_table *t = kp_table_new(config_cols, 4);

	for (size_t i = 0; i < n; i++)
		for (int32_t j = 0; !c[i].error && j < c[i].nconfigs; j++) {
			const struct kp_admin_config_entry *e = &c[i].configs[j];
			const char *cells[4] = { c[i].topic, e->name, e->value,
						 kt_source_name(e->source) };

			kp_table_add(t, cells);
		}
	kp_table_print(t, stdout);
	kp_table_free(t);
}

/* jstr - a JSON string, or null for NULL. */
static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ji64 - a JSON integer, or null when v < 0. */
static json_t *ji64(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *config_json(const struct kp_admin_config_entry *e)
{
	json_t *syn = json_array();

	for (int32_t k = 0; syn && k < e->nsynonyms; k++)
		json_array_append_new(syn, json_pack("{s:s, s:o, s:s}", "name", e->synonyms[k].name,
						     "value", jstr(e->synonyms[k].value), "source",
						     kt_source_name(e->synonyms[k].source)));
	return json_pack("{s:s, s:o, s:s, s:b, s:b, s:o}", "name", e->name, "value",
			 jstr(e->value), "source", kt_source_name(e->source), "read_only",
			 e->read_only, "sensitive", e->sensitive, "synonyms", syn ? syn : json_null());
}

static json_t *partition_json(const struct kp_admin_partition *p)
{
	return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "partition", p->partition,
			 "leader", ji64(p->leader), "leader_epoch", ji64(p->leader_epoch),
			 "replicas", kt_json_ids(p->replicas, p->nreplicas), "isr",
			 kt_json_ids(p->isr, p->nisr), "offline", kt_json_ids(p->offline, p->noffline),
			 "log_start_offset", ji64(p->log_start), "log_end_offset", ji64(p->log_end),
			 "error", jstr(kt_error_name(p->error)));
}

static json_t *topic_json(const struct kp_admin_topic *t, const struct kp_admin_topic_configs *c)
{
	json_t *parts = json_array(), *configs = c && !c->error ? json_array() : json_null();
	char id[24];

	for (int32_t j = 0; parts && j < t->npartitions; j++)
		json_array_append_new(parts, partition_json(&t->partitions[j]));
	for (int32_t j = 0; c && !c->error && configs && j < c->nconfigs; j++)
		json_array_append_new(configs, config_json(&c->configs[j]));
	return json_pack("{s:s, s:s, s:b, s:o, s:o}", "topic", t->name, "topic_id",
			 kt_uuid(t->id, id), "internal", t->internal, "partitions",
			 parts ? parts : json_null(), "configs", configs ? configs : json_null());
}

json_t *kt_describe_json(const struct kp_admin_topics *t,
			 const struct kp_admin_topic_configs *cfgs)
{
	json_t *topics = json_array();

	for (size_t i = 0; topics && i < t->ntopics; i++)
		if (json_array_append_new(topics, topic_json(&t->topics[i], cfgs ? &cfgs[i] : NULL)) < 0)
			kp_die("out of memory");
	if (!topics)
		kp_die("out of memory");
	return json_pack("{s:o}", "topics", topics);
}
