/*
 * api_versions.c - ApiVersions (key 18), versions 0-4 (KIP-35, KIP-511; v4 only
 * lets SupportedFeatures MinVersion be 0, KAFKA-17011: we list no features).
 *
 * The answer lists exactly the dispatch table (every API from v0; see
 * CLIENT-NOTES rule 1). The response header is always v0 (the codec
 * handles that). A request at a version we do not serve gets error 35
 * UNSUPPORTED_VERSION with a v0 body listing our ApiVersions range, so
 * the client retries at a version we serve. v3+ requests whose
 * ClientSoftwareName or ClientSoftwareVersion does not match Kafka's
 * pattern get INVALID_REQUEST with no API keys, as from Kafka.
 */
#include <ctype.h>
#include <string.h>

#include "broker/internal.h"

/* fill_api_keys - the served table into resp (arena memory). */
static int fill_api_keys(struct kp_request *rq, struct kp_api_versions_response *resp)
{
	struct kp_api_versions_response_api_version *keys =
		kp_request_alloc(rq, sizeof(*keys) * (size_t)kp_api_entry_count);
	struct kp_api_entry e;
	int n = 0;

	if (!keys)
		return -1;
	for (int i = 0; i < kp_api_entry_count; i++) {
		if (!kp_api_served(rq->broker, kp_api_entries[i].api_key, &e))
			continue;
		keys[n].api_key = e.api_key;
		keys[n].min_version = e.min_version;
		keys[n].max_version = e.max_version;
		n++;
	}
	resp->api_keys = keys;
	resp->api_keys_count = n;
	return 0;
}

/*
 * software_name_valid - whether `s` matches Kafka's pattern for
 * ClientSoftwareName and ClientSoftwareVersion (v3+):
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?  (ApiVersionsRequest.isValid).
 */
static bool software_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int kp_handle_api_versions(struct kp_request *rq, kp_error *err)
{
	const struct kp_api_versions_request *req = rq->body;
	struct kp_api_versions_response *resp = kp_api_versions_response_new(&rq->arena, 1);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (rq->version >= 3 && (!software_name_valid(req->client_software_name) ||
				 !software_name_valid(req->client_software_version))) {
		/* Kafka answers INVALID_REQUEST with no API keys */
		resp->error_code = KP_ERR_INVALID_REQUEST;
		KP_RESPOND(rq, API_VERSIONS, resp);
		return 0;
	}
	if (fill_api_keys(rq, resp) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (rq->version >= 3 && rq->session &&
	    kp_session_set_client_software(rq->session, req->client_software_name,
					   req->client_software_version) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	KP_RESPOND(rq, API_VERSIONS, resp);
	return 0;
}

void kp_api_versions_unsupported(struct kp_request *rq)
{
	struct kp_api_versions_response *resp = kp_api_versions_response_new(&rq->arena, 1);
	struct kp_api_versions_response_api_version *key = kp_request_alloc(rq, sizeof(*key));
	struct kp_api_entry e;

	if (!resp || !key || !kp_api_served(rq->broker, 18, &e)) {
		kp_request_finish(rq);
		return;
	}
	resp->error_code = KP_ERR_UNSUPPORTED_VERSION;
	key->api_key = KP_API_API_VERSIONS;
	key->min_version = e.min_version;
	key->max_version = e.max_version;
	resp->api_keys = key;
	resp->api_keys_count = 1;
	rq->version = 0;
	KP_RESPOND(rq, API_VERSIONS, resp);
}
