/*
 * fuzz_response.c - libFuzzer target: a response frame body as the client
 * library gets it from a broker (kp_response_decode).
 *
 * Input: u16 API (index into kp_api_table, modulo its size), u16 version
 * (modulo max_version + 3, minus 1, so -1 and max + 1 come up too), then
 * the frame body: response header and response. A version outside the
 * schema's range must be rejected; whatever decodes must encode again
 * (kp_response_encode) and that frame must decode to the same correlation
 * id and a body that re-encodes to identical bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kp_api_info *api;
	int32_t corr, corr2;
	kp_arena arena;
	kp_error err;
	kp_buf f1, f2;
	void *msg, *msg2;
	int16_t version;
	int rc;

	if (size < 4)
		return 0;
	api = &kp_api_table[kp_load_u16(data) % kp_api_count];
	version = (int16_t)(kp_load_u16(data + 2) % (api->max_version + 3) - 1);
	kp_arena_init(&arena);
	kp_buf_init(&f1);
	kp_buf_init(&f2);
	msg = kp_arena_alloc(&arena, kp_msg_size(api->response));
	msg2 = kp_arena_alloc(&arena, kp_msg_size(api->response));
	FUZZ_CHECK(msg && msg2);
	rc = kp_response_decode(api->api_key, version, data + 4, size - 4, &arena, &corr, msg, &err);
	if (version < api->min_version || version > api->max_version) {
		FUZZ_CHECK(rc < 0 && err.code == KP_EINVAL);
		goto out;
	}
	if (rc < 0) {
		FUZZ_CHECK(err.code == KP_EPROTO);
		goto out;
	}

	FUZZ_CHECK(kp_response_encode(api->api_key, version, corr, msg, &f1, &err) == 0);
	FUZZ_CHECK(f1.len >= 4 && kp_load_u32(f1.data) == f1.len - 4);
	FUZZ_CHECK(kp_response_decode(api->api_key, version, f1.data + 4, f1.len - 4, &arena, &corr2,
				      msg2, &err) == 0);
	FUZZ_CHECK(corr2 == corr);
	FUZZ_CHECK(kp_response_encode(api->api_key, version, corr2, msg2, &f2, &err) == 0);
	FUZZ_CHECK(f2.len == f1.len && memcmp(f1.data, f2.data, f1.len) == 0);
out:
	kp_buf_free(&f1);
	kp_buf_free(&f2);
	kp_arena_free(&arena);
	return 0;
}
