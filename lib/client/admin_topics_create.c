/*
 * admin_topics_create.c - CreateTopics (v2-7) to the controller: a
 * partition count and replication factor (-1 for the broker's defaults,
 * v4+, KIP-464) or an explicit assignment, and topic configs; v5+ says
 * what was created (partitions, replication factor).
 */
#include <string.h>

#include "client/admin_topics_internal.h"

typedef struct kp_create_topics_request_creatable_topic ct_topic;
typedef struct kp_create_topics_response_creatable_topic_result ct_result;

static bool create_not_controller(const void *resp)
{
	const struct kp_create_topics_response *r = resp;

	for (int32_t i = 0; i < r->topics_count; i++)
		if (r->topics[i].error_code == KP_ERR_NOT_CONTROLLER)
			return true;
	return false;
}

/* fill_topic - the request's topic `o` from `t`, in `a`. */
static int fill_topic(kp_arena *a, const struct kp_admin_new_topic *t, ct_topic *o)
{
	o->name = (char *)t->name;
	o->num_partitions = t->assignment ? -1 : t->partitions;
	o->replication_factor = t->assignment ? -1 : t->replication_factor;
	if (t->assignment) {
		o->assignments = kp_create_topics_request_creatable_replica_assignment_new(
			a, (size_t)t->partitions + 1);
		if (!o->assignments)
			return -1;
		for (int32_t p = 0; p < t->partitions; p++) {
			o->assignments[p].partition_index = p;
			o->assignments[p].broker_ids = (int32_t *)t->assignment + (size_t)p * (size_t)t->replicas;
			o->assignments[p].broker_ids_count = t->replicas;
		}
		o->assignments_count = t->partitions;
	}
	o->configs = kp_create_topics_request_creatable_topic_config_new(a, t->nconfigs + 1);
	if (!o->configs)
		return -1;
	for (size_t i = 0; i < t->nconfigs; i++) {
		o->configs[i].name = (char *)t->configs[i].name;
		o->configs[i].value = (char *)t->configs[i].value;
	}
	o->configs_count = (int32_t)t->nconfigs;
	return 0;
}

/* outcome - the answer for the i-th requested name (each answer used once). */
static void outcome(const struct kp_create_topics_response *r, bool *used, int16_t version,
		    const char *name, struct kp_admin_outcome *out)
{
	*out = (struct kp_admin_outcome){ name, KP_ERR_UNKNOWN_SERVER_ERROR, "no answer for it", -1,
					  -1 };
	for (int32_t i = 0; i < r->topics_count; i++) {
		const ct_result *t = &r->topics[i];

		if (used[i] || !t->name || strcmp(t->name, name) != 0)
			continue;
		used[i] = true;
		out->error = t->error_code;
		out->message = t->error_message;
		if (version >= 5 && t->error_code == KP_ERR_NONE) {
			out->partitions = t->num_partitions;
			out->replication_factor = t->replication_factor;
		}
		return;
	}
}

int kp_admin_create_topics(kp_cluster *c, const struct kp_admin_new_topic *t, size_t n,
			   bool validate_only, kp_arena *a, struct kp_admin_outcome *out,
			   kp_error *err)
{
	struct kp_create_topics_request req;
	struct kp_create_topics_response resp;
	int16_t version;
	bool *used;

	kp_msg_init(&kp_create_topics_request_desc, &req);
	req.timeout_ms = kp_admin_timeout(c);
	req.validate_only = validate_only;
	req.topics = kp_create_topics_request_creatable_topic_new(a, n + 1);
	if (!req.topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (fill_topic(a, &t[i], &req.topics[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	req.topics_count = (int32_t)n;
	if (kp_admin_controller_call(c, KP_API_CREATE_TOPICS, 2, 7, &req, a, &resp, &version,
				     create_not_controller, err) < 0)
		return -1;
	if (!(used = kp_arena_alloc(a, (size_t)resp.topics_count + 1)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		outcome(&resp, used, version, t[i].name, &out[i]);
	return 0;
}
