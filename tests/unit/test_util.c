/*
 * test_util.c - unit tests of lib/util: properties files (java.util.Properties
 * syntax: comments, separators, continuations, escapes), -o KEY=VALUE
 * pairs, arena and buffer size guards, Kafka error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/error.h"

/* load - a config from `text` written to a temporary file; -1 and `err` on failure. */
static int load(const char *text, kp_config **out, kp_error *err)
{
	char path[] = "/tmp/kputil-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	*out = kp_config_new();
	assert_non_null(*out);
	rc = kp_config_load(*out, path, err);
	unlink(path);
	return rc;
}

static void expect(const kp_config *c, const char *key, const char *value)
{
	const char *got = kp_config_get(c, key);

	if (!got)
		fail_msg("key '%s' missing", key);
	assert_string_equal(got, value);
}

static void test_properties_syntax(void **state)
{
	kp_config *c;
	kp_error err;

	(void)state;
	assert_int_equal(load("# comment\n"
			      "! also a comment\n"
			      "  \n"
			      "a=1\n"
			      "b : 2\n"
			      "c 3\n"
			      "d = x = y\n"
			      "listeners=PLAINTEXT://127.0.0.1:9092\n"
			      "  e\t=\tspaced out  \r\n",
			      &c, &err), 0);
	expect(c, "a", "1");
	expect(c, "b", "2");
	expect(c, "c", "3");
	expect(c, "d", "x = y");
	expect(c, "listeners", "PLAINTEXT://127.0.0.1:9092");
	expect(c, "e", "spaced out");
	assert_int_equal(kp_config_count(c), 6);
	kp_config_free(c);
}

static void test_properties_continuation(void **state)
{
	kp_config *c;
	kp_error err;

	(void)state;
	assert_int_equal(load("list=a,\\\n"
			      "     b,\\\n"
			      "\tc\n"
			      "# a comment ending in a backslash is not continued \\\n"
			      "after.comment=yes\n"
			      "path=C:\\\\\n"
			      "next=1\n"
			      "cont.comment=x\\\n"
			      "#y\n"
			      "last=z\\",
			      &c, &err), 0);
	expect(c, "list", "a,b,c");
	expect(c, "after.comment", "yes");
	expect(c, "path", "C:\\");
	expect(c, "next", "1");
	expect(c, "cont.comment", "x#y");
	expect(c, "last", "z");
	kp_config_free(c);
}

static void test_properties_escapes(void **state)
{
	kp_config *c;
	kp_error err;

	(void)state;
	assert_int_equal(load("key\\=with\\:seps\\ and\\ space = v\n"
			      "tabs=a\\tb\n"
			      "unicode=caf\\u00e9 \\u20ac\n"
			      "other=\\q\\\\\n",
			      &c, &err), 0);
	expect(c, "key=with:seps and space", "v");
	expect(c, "tabs", "a\tb");
	expect(c, "unicode", "caf\xc3\xa9 \xe2\x82\xac");
	expect(c, "other", "q\\");
	kp_config_free(c);
}

static void test_properties_errors(void **state)
{
	kp_config *c;
	kp_error err;

	(void)state;
	assert_int_equal(load("a=1\nnoseparator\n", &c, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_non_null(strstr(err.msg, ":2: expected KEY=VALUE"));
	assert_non_null(strstr(err.msg, "/tmp/kputil-"));
	kp_config_free(c);
	assert_int_equal(load("=1\n", &c, &err), -1);
	assert_non_null(strstr(err.msg, ":1: empty configuration key"));
	kp_config_free(c);
	c = kp_config_new();
	assert_int_equal(kp_config_load(c, "/nonexistent/server.properties", &err), -1);
	assert_int_equal(err.code, KP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/server.properties"));
	kp_config_free(c);
}

static void test_set_pair(void **state)
{
	kp_config *c = kp_config_new();
	kp_error err;
	int64_t v;

	(void)state;
	assert_int_equal(kp_config_set_pair(c, "client.id=a:b=c", &err), 0);
	expect(c, "client.id", "a:b=c");
	assert_int_equal(kp_config_set_pair(c, "weird:key=v", &err), 0);
	expect(c, "weird:key", "v");
	assert_int_equal(kp_config_set_pair(c, " spaced = v ", &err), 0);
	expect(c, "spaced", "v");
	assert_int_equal(kp_config_set_pair(c, "novalue", &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_int_equal(kp_config_set_pair(c, "=v", &err), -1);
	assert_int_equal(kp_config_set_pair(c, "n=12x", &err), 0);
	assert_int_equal(kp_config_get_int64(c, "n", 0, 0, 100, &v, &err), -1);
	assert_non_null(strstr(err.msg, "n: '12x'"));
	kp_config_free(c);
}

static void test_arena_guards(void **state)
{
	kp_arena a;
	char *p;

	(void)state;
	kp_arena_init(&a);
	assert_null(kp_arena_alloc(&a, SIZE_MAX));
	assert_null(kp_arena_alloc(&a, SIZE_MAX - 8));
	assert_null(kp_arena_strndup(&a, "x", SIZE_MAX));
	p = kp_arena_alloc(&a, 0);
	assert_non_null(p);
	p = kp_arena_strndup(&a, "hello", 3);
	assert_string_equal(p, "hel");
	p = kp_arena_alloc(&a, 100000); /* larger than a block */
	assert_non_null(p);
	assert_int_equal(p[99999], 0);
	kp_arena_free(&a);
}

static void test_buf_guards(void **state)
{
	kp_buf b;
	kp_reader r;
	uint8_t three[3] = { 1, 2, 3 };

	(void)state;
	kp_buf_init(&b);
	kp_buf_put_i32(&b, 7);
	assert_false(kp_buf_reserve(&b, SIZE_MAX - 2));
	assert_true(b.oom);
	kp_buf_put_i32(&b, 8);
	assert_int_equal(b.len, 4);
	kp_buf_free(&b);
	kp_reader_init(&r, three, sizeof three);
	assert_null(kp_read_bytes(&r, SIZE_MAX));
	assert_true(r.failed);
	assert_int_equal(kp_read_i8(&r), 0);
}

static void test_kafka_error_names(void **state)
{
	kp_error err;

	(void)state;
	kp_error_kafka(&err, 6, "topic %s", "t");
	assert_string_equal(err.msg, "topic t: NOT_LEADER_OR_FOLLOWER");
	kp_error_kafka(&err, 30000, "topic %s", "t");
	assert_string_equal(err.msg, "topic t: kafka error 30000");
	assert_int_equal(err.kafka_code, 30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_properties_syntax),
		cmocka_unit_test(test_properties_continuation),
		cmocka_unit_test(test_properties_escapes),
		cmocka_unit_test(test_properties_errors),
		cmocka_unit_test(test_set_pair),
		cmocka_unit_test(test_arena_guards),
		cmocka_unit_test(test_buf_guards),
		cmocka_unit_test(test_kafka_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
