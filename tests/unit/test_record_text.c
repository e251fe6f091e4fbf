/*
 * test_record_text.c - records as text for the tools: base64, timestamps
 * written by people, kcat's escapes and format strings, and the JSON record
 * lines of kconsume -J / kproduce -J (every byte string survives a round
 * trip: null, empty, UTF-8 with NUL bytes, and every byte value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/base64.h"
#include "client/record_format.h"
#include "client/record_json.h"
#include "client/timestamp.h"

static void assert_buf(const kp_buf *b, const void *want, size_t n)
{
	assert_int_equal(b->len, n);
	if (n)
		assert_memory_equal(b->data, want, n);
}

static void test_base64(void **state)
{
	static const struct { const char *raw, *b64; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t all[256];
	kp_buf b, d;
	kp_error err;

	(void)state;
	kp_buf_init(&b);
	kp_buf_init(&d);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		kp_buf_reset(&b);
		kp_base64_encode((const uint8_t *)v[i].raw, strlen(v[i].raw), &b);
		assert_buf(&b, v[i].b64, strlen(v[i].b64));
		kp_buf_reset(&d);
		assert_int_equal(kp_base64_decode(v[i].b64, strlen(v[i].b64), &d, &err), 0);
		assert_buf(&d, v[i].raw, strlen(v[i].raw));
	}
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	kp_buf_reset(&b);
	kp_buf_reset(&d);
	kp_base64_encode(all, sizeof all, &b);
	assert_int_equal(kp_base64_decode((const char *)b.data, b.len, &d, &err), 0);
	assert_buf(&d, all, sizeof all);
	kp_buf_reset(&d);
	assert_int_equal(kp_base64_decode("Zm8", 3, &d, &err), 0); /* padding optional */
	assert_buf(&d, "fo", 2);
	assert_int_equal(kp_base64_decode("Zm 8", 4, &d, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_int_equal(kp_base64_decode("Z", 1, &d, &err), -1);
	assert_int_equal(kp_base64_decode("Zg=", 3, &d, &err), -1);
	kp_buf_free(&b);
	kp_buf_free(&d);
}

static void test_timestamps(void **state)
{
	static const struct { const char *s; int64_t ms; } good[] = {
		{ "0", 0 }, { "1714566600000", 1714566600000 },
		{ "2024-05-01", 1714521600000 }, { "2024-05-01T12:30", 1714566600000 },
		{ "2024-05-01 12:30:00", 1714566600000 }, { "2024-05-01T12:30:00Z", 1714566600000 },
		{ "2024-05-01T12:30:00.25Z", 1714566600250 }, { "2024-05-01T14:30:00+02:00", 1714566600000 },
		{ "2024-05-01T10:30:00-0200", 1714566600000 }, { "2024-05-01T13:30:00.001+01", 1714566600001 },
	};
	static const char *const bad[] = { "", "-1", "now", "2024-13-01", "2024-05-01T25:00",
					   "2024-05-01T12:30:00Q", "2024-05-01T", "12:30", "1e3" };
	int64_t ms;
	kp_error err;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(kp_timestamp_parse(good[i].s, &ms, &err), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(kp_timestamp_parse(bad[i], &ms, &err), -1);
		assert_int_equal(err.code, KP_EINVAL);
	}
}

static void test_unescape(void **state)
{
	kp_buf b;

	(void)state;
	kp_buf_init(&b);
	kp_unescape("a\\tb\\nc\\rd\\\\e\\x41\\x4a2\\0z\\101\\65\\q\\", &b);
	/* kcat's rule: \0NNN is octal, \NNN without the 0 decimal */
	assert_buf(&b, "a\tb\nc\rd\\eAJ2\0zeAq\\", 18);
	kp_buf_free(&b);
}

static void test_format(void **state)
{
	static const struct kp_record_header hs[] = {
		{ "a", 1, (const uint8_t *)"1", 1 }, { "n", 1, NULL, -1 }, { "e", 1, (const uint8_t *)"", 0 },
	};
	struct kp_record rec = { .offset = 42, .timestamp = 1714566600000, .key = NULL, .key_len = -1,
				 .value = (const uint8_t *)"val", .value_len = 3, .headers = hs,
				 .header_count = 3 };
	const char *want = "t/7@42 k=[] K=-1 S=3 T=1714566600000 h=a=1,n=NULL,e= %\tval";
	kp_record_format *f;
	kp_buf b;
	kp_error err;

	(void)state;
	kp_buf_init(&b);
	assert_non_null(f = kp_record_format_new("%t/%p@%o k=[%k] K=%K S=%S T=%T h=%h %%\\t%s", &err));
	kp_record_format_render(f, "t", 7, &rec, &b);
	assert_buf(&b, want, strlen(want));
	kp_record_format_free(f);
	kp_buf_reset(&b);
	assert_non_null(f = kp_record_format_new("%R", &err));
	kp_record_format_render(f, "t", 0, &rec, &b);
	assert_buf(&b, "\0\0\0\3", 4);
	kp_record_format_free(f);
	assert_null(kp_record_format_new("%s %z", &err));
	assert_int_equal(err.code, KP_EINVAL);
	assert_null(kp_record_format_new("50%", &err));
	kp_buf_free(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(kp_utf8_valid((const uint8_t *)"", 0));
	assert_true(kp_utf8_valid((const uint8_t *)"a\0b", 3));
	assert_true(kp_utf8_valid((const uint8_t *)"\xc3\xa4\xe2\x98\x83\xf0\x9f\x98\x80", 9));
	assert_false(kp_utf8_valid((const uint8_t *)"\xff", 1));
	assert_false(kp_utf8_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
	assert_false(kp_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
	assert_false(kp_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(kp_utf8_valid((const uint8_t *)"\xe2\x98", 2));     /* cut short */
}

/* Encode `in` as a JSON line, decode it, and check every field came back. */
static void round_trip(const struct kp_record *in)
{
	struct kp_json_record r;
	kp_buf b;
	kp_error err;

	kp_buf_init(&b);
	kp_json_record_init(&r);
	assert_int_equal(kp_record_json_encode("topic", 3, in, &b, &err), 0);
	assert_int_equal(kp_record_json_decode((const char *)b.data, b.len, &r, &err), 0);
	assert_string_equal(r.topic, "topic");
	assert_int_equal(r.partition, 3);
	assert_int_equal(r.offset, in->offset);
	assert_true(r.has_timestamp);
	assert_int_equal(r.rec.timestamp, in->timestamp);
	assert_int_equal(r.rec.key_len, in->key_len);
	assert_int_equal(r.rec.value_len, in->value_len);
	if (in->key_len > 0)
		assert_memory_equal(r.rec.key, in->key, (size_t)in->key_len);
	if (in->value_len > 0)
		assert_memory_equal(r.rec.value, in->value, (size_t)in->value_len);
	assert_int_equal(r.rec.header_count, in->header_count);
	for (int32_t i = 0; i < in->header_count; i++) {
		assert_int_equal(r.rec.headers[i].key_len, in->headers[i].key_len);
		assert_memory_equal(r.rec.headers[i].key, in->headers[i].key, (size_t)in->headers[i].key_len);
		assert_int_equal(r.rec.headers[i].value_len, in->headers[i].value_len);
		if (in->headers[i].value_len > 0)
			assert_memory_equal(r.rec.headers[i].value, in->headers[i].value,
					    (size_t)in->headers[i].value_len);
	}
	kp_json_record_clear(&r);
	kp_buf_free(&b);
}

static void test_json_round_trip(void **state)
{
	uint8_t all[256];
	struct kp_record_header hs[] = {
		{ "text", 4, (const uint8_t *)"v\0w", 3 }, { "null", 4, NULL, -1 },
		{ "empty", 5, (const uint8_t *)"", 0 }, { "bin", 3, all, 256 },
		{ "\xff\xfe", 2, (const uint8_t *)"k", 1 }, { "text", 4, (const uint8_t *)"again", 5 },
	};
	struct kp_record rec = { .offset = 9, .timestamp = 1714566600000, .key = NULL, .key_len = -1,
				 .value = NULL, .value_len = -1 };

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	round_trip(&rec);
	rec.key = (const uint8_t *)"";
	rec.key_len = 0;
	rec.value = all;
	rec.value_len = 256;
	rec.headers = hs;
	rec.header_count = 6;
	round_trip(&rec);
	rec.key = (const uint8_t *)"\xe2\x98\x83 \"quoted\" \\ \n";
	rec.key_len = (int32_t)strlen((const char *)rec.key);
	rec.value = (const uint8_t *)"nul\0inside";
	rec.value_len = 10;
	rec.timestamp = -1;
	round_trip(&rec);
}

static void test_json_lenient_input(void **state)
{
	const char *line = " {\"value\":{\"a\":[1,2]},\"key\":\"aGk=\",\"key_encoding\":\"base64\","
			   "\"headers\":{\"m\":\"n\",\"o\":null},\"timestamp\":\"2024-05-01T12:30:00Z\","
			   "\"unknown\":[1]} ";
	struct kp_json_record r;
	kp_error err;

	(void)state;
	kp_json_record_init(&r);
	assert_int_equal(kp_record_json_decode(line, strlen(line), &r, &err), 0);
	assert_null(r.topic);
	assert_int_equal(r.partition, -1);
	assert_int_equal(r.rec.timestamp, 1714566600000);
	assert_int_equal(r.rec.key_len, 2);
	assert_memory_equal(r.rec.key, "hi", 2);
	assert_int_equal(r.rec.value_len, 11);
	assert_memory_equal(r.rec.value, "{\"a\":[1,2]}", 11);
	assert_int_equal(r.rec.header_count, 2);
	assert_int_equal(r.rec.headers[1].value_len, -1);
	line = "{\"headers\":[[\"k\",\"v\"]]}";
	assert_int_equal(kp_record_json_decode(line, strlen(line), &r, &err), 0);
	assert_int_equal(r.rec.header_count, 1);
	assert_int_equal(r.rec.key_len, -1);
	assert_int_equal(r.rec.value_len, -1);
	assert_false(r.has_timestamp);
	kp_json_record_clear(&r);
}

static void test_json_errors(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"partition\":-2}", "{\"partition\":\"1\"}",
		"{\"value\":\"@@\",\"value_encoding\":\"base64\"}",
		"{\"value\":\"x\",\"value_encoding\":\"rot13\"}",
		"{\"headers\":[{\"value\":\"v\"}]}", "{\"headers\":[1]}", "{\"timestamp\":-5}",
		"{\"topic\":7}", "{\"a\":1,\"a\":2}", "{\"value\":1,\"value_encoding\":\"base64\"}",
	};
	struct kp_json_record r;
	kp_error err;

	(void)state;
	kp_json_record_init(&r);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(kp_record_json_decode(bad[i], strlen(bad[i]), &r, &err), -1);
		assert_int_equal(err.code, KP_EINVAL);
	}
	kp_json_record_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_lenient_input),
		cmocka_unit_test(test_json_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
