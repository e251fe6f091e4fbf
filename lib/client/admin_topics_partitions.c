/*
 * admin_topics_partitions.c - CreatePartitions (v0-3, KIP-195) to the
 * controller: each topic grows to a new total, the broker placing the
 * new partitions (no assignment given).
 */
#include <string.h>

#include "client/admin_topics_internal.h"

static bool partitions_not_controller(const void *resp)
{
	const struct kp_create_partitions_response *r = resp;

	for (int32_t i = 0; i < r->results_count; i++)
		if (r->results[i].error_code == KP_ERR_NOT_CONTROLLER)
			return true;
	return false;
}

int kp_admin_create_partitions(kp_cluster *c, const char *const *names, size_t n, int32_t total,
			       bool validate_only, kp_arena *a, struct kp_admin_outcome *out,
			       kp_error *err)
{
	struct kp_create_partitions_request req;
	struct kp_create_partitions_response resp;

	kp_msg_init(&kp_create_partitions_request_desc, &req);
	req.timeout_ms = kp_admin_timeout(c);
	req.validate_only = validate_only;
	req.topics = kp_create_partitions_request_create_partitions_topic_new(a, n + 1);
	if (!req.topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		req.topics[i].name = (char *)names[i];
		req.topics[i].count = total;
		req.topics[i].assignments = NULL; /* null: the broker places them */
		req.topics[i].assignments_count = -1;
	}
	req.topics_count = (int32_t)n;
	if (kp_admin_controller_call(c, KP_API_CREATE_PARTITIONS, 0, 3, &req, a, &resp, NULL,
				     partitions_not_controller, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct kp_admin_outcome){ names[i], KP_ERR_UNKNOWN_SERVER_ERROR,
						    "no answer for it", -1, -1 };
		for (int32_t j = 0; j < resp.results_count; j++)
			if (resp.results[j].name && strcmp(resp.results[j].name, names[i]) == 0) {
				out[i].error = resp.results[j].error_code;
				out[i].message = resp.results[j].error_message;
				break;
			}
	}
	return 0;
}
