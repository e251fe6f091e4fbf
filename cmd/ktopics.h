/*
 * ktopics.h - what the files of ktopics (cmd/ktopics*.c) share: each
 * verb's entry point and option table, the start-up common to all verbs,
 * and how outcomes become messages, JSON and an exit status.
 */
#ifndef KP_CMD_KTOPICS_H
#define KP_CMD_KTOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/admin_topics.h"
#include "common.h"
#include "common_client.h"
#include "common_out.h"

/* The verbs (ktopics_VERB.c): option table and entry point. */
extern const struct kp_cmd kt_create_cmd, kt_list_cmd, kt_describe_cmd, kt_alter_cmd,
	kt_delete_cmd, kt_delete_records_cmd;
int kt_create(int argc, char **argv);
int kt_list(int argc, char **argv);
int kt_describe(int argc, char **argv);
int kt_alter(int argc, char **argv);
int kt_delete(int argc, char **argv);
int kt_delete_records(int argc, char **argv);

/* The option rows every verb has. */
#define KT_CLIENT_OPTS                                                            \
	KP_OPT_BROKER, KP_OPT_CONFIG_FILE,                                        \
	KP_OPT_PROPERTY("set a client property (repeatable)"), KP_OPT_JSON

/* Long-only option ids of ktopics' own (0x100 on; the shared rows use 0x1f0 on). */
enum {
	KT_OPT_IF_NOT_EXISTS = 0x100,
	KT_OPT_IF_EXISTS,
	KT_OPT_VALIDATE_ONLY,
	KT_OPT_INTERNAL,
	KT_OPT_CONFIGS,
	KT_OPT_BEFORE,
};

/* kt_connect - kp_client_connect_any, then frees a->cfg (read by then). */
kp_cluster *kt_connect(struct kp_client_args *a);



/*
 * kt_report - the outcomes of a verb that changes topics: each failure
 * (an error other than `fine`, 0 for none) as "ktopics: cannot VERB
 * topic 'T': ERROR_NAME: message" on stderr; with `json` the outcomes as
 * a JSON array on stdout ([{"topic", "error", "message"}]); returns the
 * exit status (kp_exit_status).
 */
int kt_report(const char *verb, const struct kp_admin_outcome *o, size_t n, bool json,
	      int16_t fine);

/* kt_error_name - Kafka's name for error `code`, NULL for 0. */
const char *kt_error_name(int code);

/* kt_message - a broker's message without its trailing full stop, in buf (NULL: none). */
const char *kt_message(const char *m, char *buf, size_t size);

/* kt_ids - "1,2,3" for `n` node ids in `buf`, NULL when n is 0 (shown "-"). */
const char *kt_ids(const int32_t *ids, int32_t n, char *buf, size_t size);

/* kt_i64 - `v` in decimal in `buf` (24 bytes), NULL when v < 0. */
const char *kt_i64(int64_t v, char *buf);

/* kt_source_name - "topic", "broker", "broker-default", "broker-static", "default" or "unknown". */
const char *kt_source_name(int source);

/* kt_parse_config - split "KEY=VALUE" (exits 2 when there is no '=' or no key). */
struct kp_admin_config kt_parse_config(char *arg);

/* kt_json_ids - `n` node ids as a new JSON array. */
json_t *kt_json_ids(const int32_t *ids, int32_t n);

/* kt_uuid - a topic id as Kafka prints it (URL-safe base64, no padding) in buf (23 bytes). */
const char *kt_uuid(const uint8_t id[16], char *buf);

/*
 * kt_configs_failed - whether DescribeConfigs failed for one topic (the
 * message printed then: 1, else 0).
 */
size_t kt_configs_failed(const struct kp_admin_topic_configs *c);

/* kt_print_configs - the config table (TOPIC CONFIG VALUE SOURCE) of `n` topics. */
void kt_print_configs(const struct kp_admin_topic_configs *c, size_t n);

/*
 * kt_describe_json - {"topics": [...]}: each topic of `t` with its id,
 * partitions (leader, replicas, ISR, offline replicas, log offsets) and,
 * from cfgs[i] (may be NULL), its configs with source and synonyms.
 */
json_t *kt_describe_json(const struct kp_admin_topics *t,
			 const struct kp_admin_topic_configs *cfgs);

#endif
