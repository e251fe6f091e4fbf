/*
 * headers.c - the API table lookup, request/response header versions and
 * whole frames (size prefix, header, body) on top of the generic codec.
 *
 *   request frame   int32 size | RequestHeader | body
 *     header v0     int16 api_key | int16 api_version | int32 correlation_id
 *     header v1     v0 | nullable string client_id (int16 length, always)
 *     header v2     v1 | tagged-field section
 *   response frame  int32 size | ResponseHeader | body
 *     header v0     int32 correlation_id
 *     header v1     v0 | tagged-field section
 *
 * Header versions: protocol guide "Headers", KIP-482 (flexible versions use
 * request header v2 / response header v1), KIP-511 (ApiVersions responses
 * always use response header v0), ControlledShutdownRequest.json (v0 uses
 * request header v0).
 */
#include <stdint.h>
#include <string.h>

#include "protocol/codec.h"
#include "protocol/codec_internal.h"

const struct kp_api_info *kp_api_lookup(int16_t api_key)
{
	size_t lo = 0, hi = kp_api_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (kp_api_table[mid].api_key == api_key)
			return &kp_api_table[mid];
		if (kp_api_table[mid].api_key < api_key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool api_flexible(const struct kp_api_info *api, int16_t version)
{
	return api->flexible_min >= 0 && version >= api->flexible_min;
}

int kp_request_header_version(int16_t api_key, int16_t api_version)
{
	const struct kp_api_info *api = kp_api_lookup(api_key);

	if (!api)
		return -1;
	if (api_key == KP_API_CONTROLLED_SHUTDOWN && api_version == 0)
		return 0;
	return api_flexible(api, api_version) ? 2 : 1;
}

int kp_response_header_version(int16_t api_key, int16_t api_version)
{
	const struct kp_api_info *api = kp_api_lookup(api_key);

	if (!api)
		return -1;
	if (api_key == KP_API_API_VERSIONS)
		return 0;
	return api_flexible(api, api_version) ? 1 : 0;
}

int kp_request_header_decode(kp_reader *r, kp_arena *arena,
			     struct kp_request_header *hdr, kp_error *err)
{
	const struct kp_api_info *api;
	int16_t key, version;
	int hv = 1;

	kp_msg_init(&kp_request_header_desc, hdr);
	if (kp_reader_left(r) < 4)
		return kp_error_set(err, KP_EPROTO, "request header truncated");
	key = (int16_t)kp_load_u16(r->data + r->pos);
	version = (int16_t)kp_load_u16(r->data + r->pos + 2);
	api = kp_api_lookup(key);
	if (api && version >= api->min_version && version <= api->max_version)
		hv = kp_request_header_version(key, version);
	if (kp_msg_decode(&kp_request_header_desc, (int16_t)hv, r, arena, hdr, err) < 0)
		return -1;
	if (hv == 0)
		hdr->client_id = NULL;
	return hv;
}

/* Check api_key/version and return the API, or NULL with KP_EINVAL. */
static const struct kp_api_info *frame_api(int16_t api_key, int16_t version, kp_error *err)
{
	const struct kp_api_info *api = kp_api_lookup(api_key);

	if (!api) {
		kp_error_set(err, KP_EINVAL, "unknown api key %d", api_key);
		return NULL;
	}
	if (version < api->min_version || version > api->max_version) {
		kp_error_set(err, KP_EINVAL, "%s: version %d outside %d-%d", api->name, version,
			     api->min_version, api->max_version);
		return NULL;
	}
	return api;
}

/*
 * Patch the size prefix at `start` (counting `extra` bytes not in `out`),
 * or undo the frame on failure.
 */
static int frame_finish(kp_buf *out, size_t start, int64_t extra, int rc, kp_error *err)
{
	if (rc == 0 && out->oom)
		rc = kp_error_set(err, KP_ENOMEM, "out of memory encoding frame");
	if (rc == 0 && (int64_t)(out->len - start - 4) + extra > INT32_MAX)
		rc = kp_error_set(err, KP_ERANGE, "frame too large");
	if (rc < 0) {
		if (out->len > start)
			out->len = start;
		return -1;
	}
	kp_buf_set_i32(out, start, (int32_t)((int64_t)(out->len - start - 4) + extra));
	return 0;
}

int kp_request_encode(int16_t api_key, int16_t version, int32_t correlation_id,
		      const char *client_id, const void *msg, kp_buf *out, kp_error *err)
{
	const struct kp_api_info *api = frame_api(api_key, version, err);
	struct kp_request_header h;
	size_t start = out->len;
	int hv, rc;

	if (!api)
		return -1;
	hv = kp_request_header_version(api_key, version);
	kp_msg_init(&kp_request_header_desc, &h);
	h.request_api_key = api_key;
	h.request_api_version = version;
	h.correlation_id = correlation_id;
	memcpy(&h.client_id, &client_id, sizeof(char *)); /* only read by the encoder */
	kp_buf_put_i32(out, 0);
	rc = kp_msg_encode(&kp_request_header_desc, (int16_t)hv, &h, out, err);
	if (rc == 0)
		rc = kp_msg_encode(api->request, version, msg, out, err);
	return frame_finish(out, start, 0, rc, err);
}

int kp_response_encode_ext(int16_t api_key, int16_t version, int32_t correlation_id,
			   const void *msg, kp_buf *out, struct kp_ext_sink *ext, kp_error *err)
{
	const struct kp_api_info *api = frame_api(api_key, version, err);
	struct kp_response_header h;
	size_t start = out->len, n0 = ext ? ext->n : 0;
	int64_t extra = 0;
	int hv, rc;

	if (!api)
		return -1;
	hv = kp_response_header_version(api_key, version);
	kp_msg_init(&kp_response_header_desc, &h);
	h.correlation_id = correlation_id;
	kp_buf_put_i32(out, 0);
	rc = kp_msg_encode(&kp_response_header_desc, (int16_t)hv, &h, out, err);
	if (rc == 0)
		rc = kp_msg_encode_ext(api->response, version, msg, out, ext, err);
	for (size_t i = n0; rc == 0 && ext && i < ext->n; i++)
		extra += ext->refs[i].len;
	rc = frame_finish(out, start, extra, rc, err);
	if (rc < 0 && ext)
		ext->n = n0;
	return rc;
}

int kp_response_encode(int16_t api_key, int16_t version, int32_t correlation_id,
		       const void *msg, kp_buf *out, kp_error *err)
{
	return kp_response_encode_ext(api_key, version, correlation_id, msg, out, NULL, err);
}

int kp_response_decode(int16_t api_key, int16_t version, const uint8_t *body, size_t len,
		       kp_arena *arena, int32_t *correlation_id, void *msg, kp_error *err)
{
	const struct kp_api_info *api = frame_api(api_key, version, err);
	struct kp_response_header h;
	kp_reader r;

	if (!api)
		return -1;
	kp_reader_init(&r, body, len);
	if (kp_msg_decode(&kp_response_header_desc, (int16_t)kp_response_header_version(api_key, version),
			  &r, arena, &h, err) < 0)
		return -1;
	if (correlation_id)
		*correlation_id = h.correlation_id;
	return kp_msg_decode(api->response, version, &r, arena, msg, err);
}
