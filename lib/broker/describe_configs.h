/*
 * describe_configs.h - what describe_configs.c, describe_configs_topic.c
 * and describe_configs_broker.c share: one described config before it is
 * written into the answer. Not installed.
 */
#ifndef KP_BROKER_DESCRIBE_CONFIGS_H
#define KP_BROKER_DESCRIBE_CONFIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/internal.h"
#include "metadata/config_defs.h"

typedef struct kp_describe_configs_request_describe_configs_resource dc_resource;
typedef struct kp_describe_configs_response_describe_configs_result dc_result;
typedef struct kp_describe_configs_response_describe_configs_resource_result dc_config;

#define KP_DC_MAX_SYNONYMS (4 * KP_CONFIG_MAX_SYNONYMS + 1)

/* One described config (DescribeConfigsResourceResult); strings borrowed. */
struct kp_dc_entry {
	const char *name;
	const char *value;   /* NULL: none */
	int8_t source;       /* enum kp_config_source */
	bool read_only;
	int8_t type;         /* enum kp_config_type */
	const char *doc;     /* NULL: none */
	struct kp_config_synonym syn[KP_DC_MAX_SYNONYMS];
	size_t nsyn;
};

/* kp_dc_asked - whether config `name` is among r's keys (all when none are named). */
bool kp_dc_asked(const dc_resource *r, const char *name);

/*
 * kp_dc_layer - broker config `name` in one layer of broker `arg` (a
 * struct kp_broker *): its dynamic configs in the image (source BROKER),
 * the cluster's dynamic default (BROKER_DEFAULT) or its settings as given
 * (STATIC); NULL when not set there (a kp_config_layer_fn).
 */
const char *kp_dc_layer(void *arg, int source, const char *name);

/*
 * kp_dc_add - append `e` to out->configs (allocated by the caller with
 * room for it), as rq's version and flags want it: synonyms only when
 * asked for, documentation only when asked for, IsDefault (v0) for
 * DEFAULT_CONFIG. Copies e's value into rq's arena. -1 when out of memory.
 */
int kp_dc_add(struct kp_request *rq, const struct kp_dc_entry *e, dc_result *out);

/*
 * kp_dc_topic / kp_dc_broker - the configs of existing topic r (every
 * topic config, describe_configs_topic.c) / of broker r, this broker or
 * "" for the cluster's dynamic default (describe_configs_broker.c), into
 * `out`. -1 when out of memory.
 */
int kp_dc_topic(struct kp_request *rq, const dc_resource *r, dc_result *out);
int kp_dc_broker(struct kp_request *rq, const dc_resource *r, dc_result *out);

#endif
