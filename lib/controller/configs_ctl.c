/*
 * configs_ctl.c - IncrementalAlterConfigs and AlterConfigs on the active
 * controller (Kafka's ConfigurationControlManager.incrementalAlterConfigs
 * and legacyAlterConfigs) for topic and broker resources: ConfigRecords
 * for the values that change, in one batch per request. Values are taken
 * as they come but for the replication throttles' (KIP-73), which brokers
 * apply: a topic's leader.replication.throttled.replicas and
 * follower.replication.throttled.replicas, a broker's
 * leader.replication.throttled.rate and follower.replication.throttled.rate
 * are checked as Kafka does (INVALID_CONFIG).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/qc_internal.h"
#include "metadata/topic_config.h"
#include "protocol/errors.h"
#include "util/diag.h"

/* AlterConfigOp.OpType ids. */
enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

/* One resource's outcome. */
struct cfg_result {
	int16_t error;
	const char *message;
};

/* check_resource - the resource exists and is of a type served here. */
static int16_t check_resource(const kp_image *img, int8_t type, const char *name,
			      const char **why)
{
	char *end;

	if (type == KP_CONFIG_RESOURCE_TOPIC) {
		if (!name || !kp_image_topic_by_name(img, name)) {
			*why = "The topic does not exist";
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		return 0;
	}
	if (type == KP_CONFIG_RESOURCE_BROKER) {
		if (name && name[0] && (strtol(name, &end, 10) < 0 || *end)) {
			*why = "Illegal broker id";
			return KP_ERR_INVALID_REQUEST;
		}
		return 0;
	}
	*why = "Unsupported resource type";
	return KP_ERR_INVALID_REQUEST;
}

/*
 * rate_error - NULL, or why `v` is not a broker's replication throttle
 * rate (Kafka's QuotaConfig: a LONG, at least 0).
 */
static const char *rate_error(const char *v)
{
	char *end;
	long long n;

	while (*v == ' ' || *v == '\t')
		v++;
	errno = 0;
	n = strtoll(v, &end, 10);
	while (end != v && (*end == ' ' || *end == '\t'))
		end++;
	if (end == v || *end || errno)
		return "Not a number of type LONG";
	return n < 0 ? "Value must be at least 0" : NULL;
}

/*
 * check_value - KP_ERR_NONE, or KP_ERR_INVALID_CONFIG with Kafka's message
 * in op's arena (*why) when `value` (NULL: a deletion, always fine) is
 * not valid for config `name` of a resource of `type`. Only the
 * replication throttles' keys are checked.
 */
static int16_t check_value(struct kp_qc_op *op, int8_t type, const char *name,
			   const char *value, const char **why)
{
	char msg[512];
	const char *e;

	if (!value || !name)
		return KP_ERR_NONE;
	if (type == KP_CONFIG_RESOURCE_TOPIC &&
	    (strcmp(name, "leader.replication.throttled.replicas") == 0 ||
	     strcmp(name, "follower.replication.throttled.replicas") == 0)) {
		if (kp_topic_config_check(name, value, msg, sizeof(msg)) == KP_ERR_NONE)
			return KP_ERR_NONE;
	} else if (type == KP_CONFIG_RESOURCE_BROKER &&
		   (strcmp(name, "leader.replication.throttled.rate") == 0 ||
		    strcmp(name, "follower.replication.throttled.rate") == 0)) {
		if (!(e = rate_error(value)))
			return KP_ERR_NONE;
		snprintf(msg, sizeof(msg), "Invalid value %.200s for configuration %s: %s", value,
			 name, e);
	} else {
		return KP_ERR_NONE;
	}
	*why = kp_arena_strndup(&op->arena, msg, strlen(msg));
	if (!*why)
		*why = "Invalid config value";
	return KP_ERR_INVALID_CONFIG;
}

/* list_has - whether the comma list `list` holds `item`. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		size_t m = strcspn(p, ",");

		if (m == n && strncmp(p, item, n) == 0)
			return true;
		p += m + (p[m] == ',');
	}
	return false;
}

/* list_add - append item (n bytes) to out (cap bytes, len used) unless present. */
static void list_add(char *out, size_t cap, size_t *len, const char *item, size_t n)
{
	char tmp[1024];

	if (n == 0 || n >= sizeof(tmp) || *len + n + 2 > cap)
		return;
	memcpy(tmp, item, n);
	tmp[n] = '\0';
	if (list_has(out, tmp))
		return;
	if (*len)
		out[(*len)++] = ',';
	memcpy(out + *len, tmp, n + 1);
	*len += n;
}

/*
 * list_op - AlterConfigOp APPEND / SUBTRACT on a list config: `cur` (may be
 * NULL) with `items` added or removed, in the arena; NULL when out of memory.
 */
static char *list_op(kp_arena *a, const char *cur, const char *items, bool append)
{
	size_t cap = (cur ? strlen(cur) : 0) + (items ? strlen(items) : 0) + 2, len = 0;
	char *out = kp_arena_alloc(a, cap);
	const char *src[2] = { cur, append ? items : NULL };

	if (!out)
		return NULL;
	out[0] = '\0';
	for (int k = 0; k < 2; k++) {
		for (const char *p = src[k]; p && *p;) {
			size_t m = strcspn(p, ",");
			char tmp[1024];

			if (m < sizeof(tmp)) {
				memcpy(tmp, p, m);
				tmp[m] = '\0';
				if (append || !items || !list_has(items, tmp))
					list_add(out, cap, &len, p, m);
			}
			p += m + (p[m] == ',');
		}
	}
	return out;
}

/* set_config - a ConfigRecord setting (value) or deleting (NULL) `name` if it changes. */
static int set_config(struct kp_qc_op *op, int8_t type, const char *res, const char *name,
		      const char *value, kp_error *err)
{
	const char *cur = kp_image_config_value(op->qc->img, type, res, name);
	struct kp_config_record *c;

	for (size_t i = 0; i < op->recs.n; i++) { /* the same key twice: the last wins */
		const struct kp_config_record *o = op->recs.v[i].msg;

		if (o->resource_type == type && strcmp(o->resource_name, res) == 0 &&
		    strcmp(o->name, name) == 0)
			cur = o->value;
	}
	if ((!cur && !value) || (cur && value && strcmp(cur, value) == 0))
		return 0;
	if (!(c = kp_qc_recs_add(&op->recs, KP_METADATA_CONFIG_RECORD)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	c->resource_type = type;
	c->resource_name = (char *)res;
	c->name = (char *)name;
	c->value = (char *)value;
	return 0;
}

/* duplicate_resource - whether resource i's (type, name) appears earlier in the request. */
static bool duplicate_resource(const int8_t *types, char *const *names, size_t stride, int32_t i)
{
	const char *ni = *(char *const *)((const char *)names + (size_t)i * stride);

	for (int32_t j = 0; j < i; j++) {
		const char *nj = *(char *const *)((const char *)names + (size_t)j * stride);

		if (*(const int8_t *)((const char *)types + (size_t)j * stride) ==
			    *(const int8_t *)((const char *)types + (size_t)i * stride) &&
		    ni && nj && strcmp(ni, nj) == 0)
			return true;
	}
	return false;
}

/*
 * run_resources - the records of every resource of op's request (n of
 * them; the first one's type and name at `types` and `names`, the others
 * `stride` bytes apart; op->state their n results): resource i through
 * one(op, i, &result[i], err), or refused when the same (type, name) came
 * earlier. With `validate_only` no record is kept. Returns 0, or -1 with
 * KP_ENOMEM.
 */
static int run_resources(struct kp_qc_op *op, int32_t n, const int8_t *types,
			 char *const *names, size_t stride, bool validate_only,
			 int (*one)(struct kp_qc_op *, int32_t, struct cfg_result *, kp_error *),
			 kp_error *err)
{
	struct cfg_result *res = op->state;

	for (int32_t i = 0; i < n; i++) {
		if (duplicate_resource(types, names, stride, i)) {
			res[i].error = KP_ERR_INVALID_REQUEST;
			res[i].message = "Duplicate resource";
		} else if (one(op, i, &res[i], err) < 0) {
			return -1;
		}
	}
	if (validate_only)
		op->recs.n = 0;
	return 0;
}

/* incremental_one - resource ri of IncrementalAlterConfigs (records kept only if all valid). */
static int incremental_one(struct kp_qc_op *op, int32_t ri, struct cfg_result *res,
			   kp_error *err)
{
	const struct kp_incremental_alter_configs_request *req = op->rq->body;
	const struct kp_incremental_alter_configs_request_alter_configs_resource *r =
		&req->resources[ri];
	const char *name = r->resource_name ? r->resource_name : "";
	size_t mark = op->recs.n;

	if ((res->error = check_resource(op->qc->img, r->resource_type, name, &res->message)))
		return 0;
	for (int32_t i = 0; i < r->configs_count; i++) {
		const struct kp_incremental_alter_configs_request_alterable_config *c = &r->configs[i];
		const char *cur = kp_image_config_value(op->qc->img, r->resource_type, name, c->name);
		const char *v = c->value;

		if (c->config_operation == OP_DELETE)
			v = NULL;
		else if (c->config_operation == OP_APPEND || c->config_operation == OP_SUBTRACT)
			v = list_op(&op->arena, cur, c->value, c->config_operation == OP_APPEND);
		else if (c->config_operation != OP_SET || !c->value) {
			op->recs.n = mark;
			res->error = KP_ERR_INVALID_REQUEST;
			res->message = "Invalid config operation or a null value";
			return 0;
		}
		if ((res->error = check_value(op, r->resource_type, c->name, v, &res->message))) {
			op->recs.n = mark;
			return 0;
		}
		if (set_config(op, r->resource_type, name, c->name, v, err) < 0)
			return -1;
	}
	return 0;
}

static int incremental_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_incremental_alter_configs_request *req = op->rq->body;

	return run_resources(op, req->resources_count, &req->resources[0].resource_type,
			     &req->resources[0].resource_name, sizeof(req->resources[0]),
			     req->validate_only, incremental_one, err);
}

static void incremental_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct kp_incremental_alter_configs_request *req;
	const struct cfg_result *res = op->state;
	struct kp_incremental_alter_configs_response *resp;
	struct kp_incremental_alter_configs_response_alter_configs_resource_response *t;

	if (!op->rq)
		return;
	req = op->rq->body;
	resp = kp_incremental_alter_configs_response_new(&op->rq->arena, 1);
	t = kp_incremental_alter_configs_response_alter_configs_resource_response_new(
		&op->rq->arena, (size_t)req->resources_count);
	if (!resp || !t)
		return;
	for (int32_t i = 0; i < req->resources_count; i++) {
		t[i].error_code = error ? error : res[i].error;
		t[i].error_message = error ? NULL : (char *)res[i].message;
		t[i].resource_type = req->resources[i].resource_type;
		t[i].resource_name = req->resources[i].resource_name;
	}
	resp->responses = t;
	resp->responses_count = req->resources_count;
	kp_qc_respond(op, resp);
}

/* legacy_one - AlterConfigs: resource ri's configs become exactly the given ones. */
static int legacy_one(struct kp_qc_op *op, int32_t ri, struct cfg_result *res, kp_error *err)
{
	const struct kp_alter_configs_request *req = op->rq->body;
	const struct kp_alter_configs_request_alter_configs_resource *r = &req->resources[ri];
	const char *name = r->resource_name ? r->resource_name : "";

	if ((res->error = check_resource(op->qc->img, r->resource_type, name, &res->message)))
		return 0;
	for (int32_t i = 0; i < r->configs_count; i++)
		if ((res->error = check_value(op, r->resource_type, r->configs[i].name,
					      r->configs[i].value, &res->message)))
			return 0;
	for (const struct kp_image_config *c = kp_image_config_first(op->qc->img, r->resource_type,
								      name);
	     c; c = kp_image_config_next(op->qc->img, c)) {
		bool kept = false;

		for (int32_t i = 0; i < r->configs_count && !kept; i++)
			kept = strcmp(r->configs[i].name, c->name) == 0;
		if (!kept && set_config(op, r->resource_type, name, c->name, NULL, err) < 0)
			return -1;
	}
	for (int32_t i = 0; i < r->configs_count; i++)
		if (set_config(op, r->resource_type, name, r->configs[i].name, r->configs[i].value,
			       err) < 0)
			return -1;
	return 0;
}

static int legacy_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_alter_configs_request *req = op->rq->body;

	return run_resources(op, req->resources_count, &req->resources[0].resource_type,
			     &req->resources[0].resource_name, sizeof(req->resources[0]),
			     req->validate_only, legacy_one, err);
}

static void legacy_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct kp_alter_configs_request *req;
	const struct cfg_result *res = op->state;
	struct kp_alter_configs_response *resp;
	struct kp_alter_configs_response_alter_configs_resource_response *t;

	if (!op->rq)
		return;
	req = op->rq->body;
	resp = kp_alter_configs_response_new(&op->rq->arena, 1);
	t = kp_alter_configs_response_alter_configs_resource_response_new(
		&op->rq->arena, (size_t)req->resources_count);
	if (!resp || !t)
		return;
	for (int32_t i = 0; i < req->resources_count; i++) {
		t[i].error_code = error ? error : res[i].error;
		t[i].error_message = error ? NULL : (char *)res[i].message;
		t[i].resource_type = req->resources[i].resource_type;
		t[i].resource_name = req->resources[i].resource_name;
	}
	resp->responses = t;
	resp->responses_count = req->resources_count;
	kp_qc_respond(op, resp);
}

int kp_qc_incremental_alter_configs(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
				    kp_error *err)
{
	const struct kp_incremental_alter_configs_request *req = rq->body;
	size_t n = (size_t)(req->resources_count > 0 ? req->resources_count : 0);

	return kp_qc_submit_new(qc, rq, n * sizeof(struct cfg_result), incremental_run,
				incremental_finish, err);
}

int kp_qc_alter_configs(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err)
{
	const struct kp_alter_configs_request *req = rq->body;
	size_t n = (size_t)(req->resources_count > 0 ? req->resources_count : 0);

	return kp_qc_submit_new(qc, rq, n * sizeof(struct cfg_result), legacy_run, legacy_finish,
				err);
}
