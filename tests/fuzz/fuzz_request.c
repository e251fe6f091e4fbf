/*
 * fuzz_request.c - libFuzzer target: one request frame body (the bytes
 * after the 4-byte size prefix), as the broker gets it from a client.
 *
 * The header is decoded (kp_request_header_decode), then the body for the
 * API and version it names, whichever API of kp_api_table that is; a
 * version outside the schema's range must be rejected with KP_EPROTO.
 * Whatever decodes must encode again as a whole frame (kp_request_encode),
 * and that frame must decode completely to the same header and a body
 * that re-encodes to identical bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/codec.h"

/* decode_frame - header and body of `len` bytes at `p`, which must be consumed exactly. */
static void decode_frame(const uint8_t *p, size_t len, kp_arena *a, struct kp_request_header *h,
			 void **msg)
{
	const struct kp_api_info *api;
	kp_reader r;
	kp_error err;

	kp_reader_init(&r, p, len);
	FUZZ_CHECK(kp_request_header_decode(&r, a, h, &err) >= 0);
	api = kp_api_lookup(h->request_api_key);
	FUZZ_CHECK(api != NULL);
	*msg = kp_arena_alloc(a, kp_msg_size(api->request));
	FUZZ_CHECK(*msg != NULL);
	FUZZ_CHECK(kp_msg_decode(api->request, h->request_api_version, &r, a, *msg, &err) == 0);
	FUZZ_CHECK(kp_reader_left(&r) == 0);
}

static bool same_string(const char *x, const char *y)
{
	return x == y || (x && y && strcmp(x, y) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_request_header hdr, hdr2;
	const struct kp_api_info *api;
	kp_arena arena;
	kp_reader r;
	kp_error err;
	kp_buf f1, f2;
	void *msg, *msg2;
	int16_t key, version;
	int hv, rc;

	kp_arena_init(&arena);
	kp_buf_init(&f1);
	kp_buf_init(&f2);
	kp_reader_init(&r, data, size);
	hv = kp_request_header_decode(&r, &arena, &hdr, &err);
	if (hv < 0) {
		FUZZ_CHECK(err.code == KP_EPROTO);
		goto out;
	}
	FUZZ_CHECK(hv <= 2);
	key = hdr.request_api_key;
	version = hdr.request_api_version;
	if (!(api = kp_api_lookup(key)))
		goto out;
	msg = kp_arena_alloc(&arena, kp_msg_size(api->request));
	FUZZ_CHECK(msg != NULL);
	rc = kp_msg_decode(api->request, version, &r, &arena, msg, &err);
	if (version < api->min_version || version > api->max_version) {
		FUZZ_CHECK(rc < 0 && err.code == KP_EPROTO);
		goto out;
	}
	FUZZ_CHECK(hv == kp_request_header_version(key, version));
	if (rc < 0) {
		FUZZ_CHECK(err.code == KP_EPROTO);
		goto out;
	}

	/* What decoded encodes, and its encoding is a fixed point. */
	FUZZ_CHECK(kp_request_encode(key, version, hdr.correlation_id, hdr.client_id, msg, &f1, &err) == 0);
	FUZZ_CHECK(f1.len >= 4 && kp_load_u32(f1.data) == f1.len - 4);
	decode_frame(f1.data + 4, f1.len - 4, &arena, &hdr2, &msg2);
	FUZZ_CHECK(hdr2.request_api_key == key && hdr2.request_api_version == version);
	FUZZ_CHECK(hdr2.correlation_id == hdr.correlation_id);
	FUZZ_CHECK(same_string(hdr2.client_id, hdr.client_id));
	FUZZ_CHECK(kp_request_encode(key, version, hdr2.correlation_id, hdr2.client_id, msg2, &f2, &err) == 0);
	FUZZ_CHECK(f2.len == f1.len && memcmp(f1.data, f2.data, f1.len) == 0);
out:
	kp_buf_free(&f1);
	kp_buf_free(&f2);
	kp_arena_free(&arena);
	return 0;
}
