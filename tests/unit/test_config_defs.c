/*
 * test_config_defs.c - unit tests of lib/metadata/config_defs.c: the
 * generated tables are sorted and found, values are printed as Kafka's
 * ConfigDef.convertToString prints them, synonyms come in Kafka's order
 * and without those before the described name (ConfigHelper), and
 * kp_topic_config_check knows the configs Kafka 4.4 added.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "metadata/config_defs.h"
#include "metadata/topic_config.h"
#include "protocol/errors.h"

static void test_tables_sorted_and_found(void **state)
{
	(void)state;
	for (size_t i = 1; i < kp_topic_config_def_count; i++)
		assert_true(strcmp(kp_topic_config_defs[i - 1].name, kp_topic_config_defs[i].name) < 0);
	for (size_t i = 1; i < kp_broker_config_def_count; i++)
		assert_true(strcmp(kp_broker_config_defs[i - 1].name, kp_broker_config_defs[i].name) < 0);
	const struct kp_topic_config_def *d = kp_topic_config_def("retention.ms");
	assert_non_null(d);
	assert_int_equal(d->type, KP_CONFIG_TYPE_LONG);
	assert_string_equal(d->default_value, "604800000");
	assert_string_equal(d->synonyms[2], "log.retention.hours");
	assert_int_equal(d->factor[2], 3600000);
	assert_null(kp_topic_config_def("log.retention.ms"));
	assert_non_null(kp_broker_config_def("log.retention.ms"));
	assert_null(kp_broker_config_def("log.retention.ms")->default_value);
	assert_string_equal(kp_broker_config_def("log.retention.hours")->default_value, "168");
	for (size_t i = 0; i < kp_topic_config_def_count; i++)
		for (int j = 0; j < KP_CONFIG_MAX_SYNONYMS && kp_topic_config_defs[i].synonyms[j]; j++)
			assert_non_null(kp_broker_config_def(kp_topic_config_defs[i].synonyms[j]));
}

static void check_value(int type, const char *raw, int64_t factor, const char *want)
{
	char buf[128];

	assert_string_equal(kp_config_value_string(type, raw, factor, buf, sizeof(buf)), want);
}

static void test_values_printed_as_kafka(void **state)
{
	(void)state;
	check_value(KP_CONFIG_TYPE_LONG, " 1000 ", 1, "1000");
	check_value(KP_CONFIG_TYPE_LONG, "+7", 1, "7");
	check_value(KP_CONFIG_TYPE_LONG, "2", 3600000, "7200000");
	check_value(KP_CONFIG_TYPE_LONG, "soon", 1, "soon");
	check_value(KP_CONFIG_TYPE_BOOLEAN, "TRUE", 1, "true");
	check_value(KP_CONFIG_TYPE_BOOLEAN, "yes", 1, "yes");
	check_value(KP_CONFIG_TYPE_DOUBLE, "1", 1, "1.0");
	check_value(KP_CONFIG_TYPE_DOUBLE, "0.5", 1, "0.5");
	check_value(KP_CONFIG_TYPE_DOUBLE, "0.1", 1, "0.1");
	check_value(KP_CONFIG_TYPE_DOUBLE, "12345678", 1, "1.2345678E7");
	check_value(KP_CONFIG_TYPE_DOUBLE, "0.0001", 1, "1.0E-4");
	check_value(KP_CONFIG_TYPE_DOUBLE, "0.001", 1, "0.001");
	check_value(KP_CONFIG_TYPE_DOUBLE, "100", 1, "100.0");
	check_value(KP_CONFIG_TYPE_LIST, "compact, delete", 1, "compact,delete");
	check_value(KP_CONFIG_TYPE_LIST, "", 1, "");
	check_value(KP_CONFIG_TYPE_STRING, " CreateTime ", 1, "CreateTime");
}

/* A broker's layers for the synonym test: dynamic default log.retention.ms, static hours. */
static const char *layer(void *arg, int source, const char *name)
{
	(void)arg;
	if (source == KP_CONFIG_SOURCE_BROKER_DEFAULT && strcmp(name, "log.retention.ms") == 0)
		return "5000";
	if (source == KP_CONFIG_SOURCE_STATIC && strcmp(name, "log.retention.hours") == 0)
		return "2";
	return NULL;
}

static const char *no_layer(void *arg, int source, const char *name)
{
	(void)arg, (void)source, (void)name;
	return NULL;
}

static void test_synonyms_in_kafka_order(void **state)
{
	const char *names[] = { "log.retention.ms", "log.retention.minutes", "log.retention.hours",
				NULL };
	struct kp_config_synonym s[8];
	size_t n;

	(void)state;
	n = kp_config_synonyms(names, "log.retention.ms", layer, NULL, s, 8);
	assert_int_equal(n, 3);
	assert_string_equal(s[0].name, "log.retention.ms");
	assert_int_equal(s[0].source, KP_CONFIG_SOURCE_BROKER_DEFAULT);
	assert_string_equal(s[1].value, "2");
	assert_int_equal(s[1].source, KP_CONFIG_SOURCE_STATIC);
	assert_string_equal(s[2].value, "168");
	assert_int_equal(s[2].source, KP_CONFIG_SOURCE_DEFAULT);
	/* described as log.retention.hours: what comes before its first entry is left out */
	n = kp_config_synonyms(names, "log.retention.hours", layer, NULL, s, 8);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].source, KP_CONFIG_SOURCE_STATIC);
	/* nothing set: log.retention.ms has no default, so retention.ms shows no synonym */
	n = kp_config_synonyms(names, "log.retention.ms", no_layer, NULL, s, 8);
	assert_int_equal(n, 0);
}

static void test_newer_configs_checked(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(kp_topic_config_check("compression.zstd.level", "5", msg, sizeof(msg)),
			 KP_ERR_NONE);
	assert_int_equal(kp_topic_config_check("compression.zstd.level", "x", msg, sizeof(msg)),
			 KP_ERR_INVALID_CONFIG);
	assert_int_equal(kp_topic_config_check("remote.log.copy.disable", "TRUE", msg, sizeof(msg)),
			 KP_ERR_NONE);
	assert_int_equal(kp_topic_config_check("no.such.config", "1", msg, sizeof(msg)),
			 KP_ERR_INVALID_CONFIG);
	assert_string_equal(msg, "Unknown topic config name: no.such.config");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_sorted_and_found),
		cmocka_unit_test(test_values_printed_as_kafka),
		cmocka_unit_test(test_synonyms_in_kafka_order),
		cmocka_unit_test(test_newer_configs_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
