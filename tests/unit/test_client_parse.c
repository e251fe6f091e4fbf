/*
 * test_client_parse.c - the client's pure helpers: bootstrap lists and
 * host:port parsing, -k key splitting, compression names, client config
 * defaults and keyed partition placement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/cluster.h"
#include "client/conn.h"
#include "client/producer.h"
#include "record/records.h"

static void test_bootstrap_list(void **state)
{
	char host[64];
	int port = 0;
	kp_error err;

	(void)state;
	assert_int_equal(kp_bootstrap_count("a:1,b:2,,c:3,"), 3);
	assert_int_equal(kp_bootstrap_count(""), 0);
	assert_int_equal(kp_bootstrap_entry("a:1,b:2,,c:3", 2, host, sizeof host, &port, &err), 0);
	assert_string_equal(host, "c");
	assert_int_equal(port, 3);
	assert_int_equal(kp_bootstrap_entry("[::1]:9092", 0, host, sizeof host, &port, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9092);
	assert_int_equal(kp_bootstrap_entry("a:1", 1, host, sizeof host, &port, &err), -1);
}

static void test_hostport_bad(void **state)
{
	static const char *const bad[] = { "host", "host:", ":9092", "h:0", "h:65536", "h:12x" };
	char host[64];
	int port;
	kp_error err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(kp_hostport_parse(bad[i], strlen(bad[i]), host, sizeof host, &port, &err), -1);
		assert_int_equal(err.code, KP_EINVAL);
	}
}

static void check_split(const char *line, const char *delim, const char *key, const char *value)
{
	const uint8_t *k, *v;
	int32_t kl, vl;

	kp_split_key((const uint8_t *)line, strlen(line), delim, strlen(delim), &k, &kl, &v, &vl);
	if (!key) {
		assert_null(k);
		assert_int_equal(kl, -1);
	} else {
		assert_int_equal(kl, (int32_t)strlen(key));
		assert_memory_equal(k, key, (size_t)kl);
	}
	assert_int_equal(vl, (int32_t)strlen(value));
	assert_memory_equal(v, value, (size_t)vl);
}

static void test_split_key(void **state)
{
	(void)state;
	check_split("k v w", " ", "k", "v w");
	check_split("novalue", " ", NULL, "novalue");
	check_split("a::b::c", "::", "a", "b::c");
	check_split(":x", ":", "", "x");
	check_split("x:", ":", "x", "");
	check_split("", ":", NULL, "");
}

static void test_compression_names(void **state)
{
	(void)state;
	assert_int_equal(kp_compression_parse("none"), KP_COMPRESSION_NONE);
	assert_int_equal(kp_compression_parse("gzip"), KP_COMPRESSION_GZIP);
	assert_int_equal(kp_compression_parse("snappy"), KP_COMPRESSION_SNAPPY);
	assert_int_equal(kp_compression_parse("lz4"), KP_COMPRESSION_LZ4);
	assert_int_equal(kp_compression_parse("zstd"), KP_COMPRESSION_ZSTD);
	assert_int_equal(kp_compression_parse("brotli"), -1);
}

static void test_config_defaults(void **state)
{
	struct kp_client_config c;
	kp_config *cfg = kp_config_new();
	kp_error err;

	(void)state;
	assert_int_equal(kp_client_config_read(NULL, &c, &err), 0);
	assert_int_equal(c.request_timeout_ms, 30000);
	assert_int_equal(c.retry_backoff_ms, 100);
	assert_true(c.auto_create);
	assert_int_equal(kp_config_set_pair(cfg, "allow.auto.create.topics=false", NULL), 0);
	assert_int_equal(kp_client_config_read(cfg, &c, &err), 0);
	assert_false(c.auto_create);
	assert_int_equal(kp_config_set_pair(cfg, "request.timeout.ms=soon", NULL), 0);
	assert_int_equal(kp_client_config_read(cfg, &c, &err), -1);
	kp_config_free(cfg);
}

/* Placement must be a pure function of key and count, within range. */
static void test_partition_for_key(void **state)
{
	char key[16];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof key, "key-%d", i);
		int32_t p = kp_partition_for_key(key, (size_t)n, 3);
		assert_true(p >= 0 && p < 3);
		assert_int_equal(p, kp_partition_for_key(key, (size_t)n, 3));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootstrap_list),
		cmocka_unit_test(test_hostport_bad),
		cmocka_unit_test(test_split_key),
		cmocka_unit_test(test_compression_names),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_partition_for_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
