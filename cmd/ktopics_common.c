/*
 * ktopics_common.c - the start-up, messages, exit status and formatting
 * every ktopics verb shares; see ktopics.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktopics.h"
#include "protocol/errors.h"

kp_cluster *kt_connect(struct kp_client_args *a)
{
	kp_cluster *c = kp_client_connect_any(a);

	kp_config_free(a->cfg);
	a->cfg = NULL;
	return c;
}



const char *kt_error_name(int code)
{
	return code ? kp_kafka_error_name(code) : NULL;
}

const char *kt_message(const char *m, char *buf, size_t size)
{
	size_t n;

	if (!m || !*m)
		return NULL;
	snprintf(buf, size, "%s", m);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

static const struct kp_col outcome_cols[] = {
	{ "TOPIC", "topic", KP_COL_STR },
	{ "ERROR", "error", KP_COL_STR },
	{ "MESSAGE", "message", KP_COL_STR },
};

int kt_report(const char *verb, const struct kp_admin_outcome *o, size_t n, bool json,
	      int16_t fine)
{
	kp_table *t = kp_table_new(outcome_cols, 3);
	size_t failed = 0;
	char msg[512];

	for (size_t i = 0; i < n; i++) {
		bool bad = o[i].error != 0 && o[i].error != fine;
		const char *m = kt_message(o[i].message, msg, sizeof(msg));
		const char *cells[3] = { o[i].topic, kt_error_name(o[i].error), m };

		if (bad) {
			failed++;
			kp_warn("cannot %s topic '%s': %s%s%s", verb, o[i].topic,
				kt_error_name(o[i].error), m ? ": " : "", m ? m : "");
		}
		kp_table_add(t, cells);
	}
	if (json)
		kp_out_json(kp_table_json(t));
	kp_table_free(t);
	return kp_exit_status(n - failed, failed);
}

const char *kt_ids(const int32_t *ids, int32_t n, char *buf, size_t size)
{
	size_t len = 0;

	if (n <= 0)
		return NULL;
	buf[0] = '\0';
	for (int32_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "", (int)ids[i]);
	return buf;
}

const char *kt_i64(int64_t v, char *buf)
{
	if (v < 0)
		return NULL;
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

const char *kt_source_name(int source)
{
	switch (source) {
	case KP_ADMIN_SOURCE_TOPIC: return "topic";
	case KP_ADMIN_SOURCE_BROKER: return "broker";
	case KP_ADMIN_SOURCE_BROKER_DEFAULT: return "broker-default";
	case KP_ADMIN_SOURCE_STATIC: return "broker-static";
	case KP_ADMIN_SOURCE_DEFAULT: return "default";
	default: return "unknown";
	}
}

struct kp_admin_config kt_parse_config(char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		kp_usage_error("bad config '%s' (want KEY=VALUE)", arg);
	*eq = '\0';
	return (struct kp_admin_config){ arg, eq + 1 };
}

json_t *kt_json_ids(const int32_t *ids, int32_t n)
{
	json_t *a = json_array();

	for (int32_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(ids[i]));
	if (!a)
		kp_die("out of memory");
	return a;
}
