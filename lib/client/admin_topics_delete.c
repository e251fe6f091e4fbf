/*
 * admin_topics_delete.c - DeleteTopics (v1-6) by name, to the controller
 * (v6 names topics in Topics, KIP-516; before it in TopicNames).
 */
#include <string.h>

#include "client/admin_topics_internal.h"

static bool delete_not_controller(const void *resp)
{
	const struct kp_delete_topics_response *r = resp;

	for (int32_t i = 0; i < r->responses_count; i++)
		if (r->responses[i].error_code == KP_ERR_NOT_CONTROLLER)
			return true;
	return false;
}

int kp_admin_delete_topics(kp_cluster *c, const char *const *names, size_t n, kp_arena *a,
			   struct kp_admin_outcome *out, kp_error *err)
{
	struct kp_delete_topics_request req;
	struct kp_delete_topics_response resp;

	kp_msg_init(&kp_delete_topics_request_desc, &req);
	req.timeout_ms = kp_admin_timeout(c);
	req.topics = kp_delete_topics_request_delete_topic_state_new(a, n + 1);
	req.topic_names = kp_arena_alloc(a, sizeof(*req.topic_names) * (n + 1));
	if (!req.topics || !req.topic_names)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		req.topics[i].name = req.topic_names[i] = (char *)names[i];
	req.topics_count = req.topic_names_count = (int32_t)n;
	if (kp_admin_controller_call(c, KP_API_DELETE_TOPICS, 1, 6, &req, a, &resp, NULL,
				     delete_not_controller, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct kp_admin_outcome){ names[i], KP_ERR_UNKNOWN_SERVER_ERROR,
						    "no answer for it", -1, -1 };
		for (int32_t j = 0; j < resp.responses_count; j++)
			if (resp.responses[j].name && strcmp(resp.responses[j].name, names[i]) == 0) {
				out[i].error = resp.responses[j].error_code;
				out[i].message = resp.responses[j].error_message;
				break;
			}
	}
	return 0;
}
