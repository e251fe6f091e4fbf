/*
 * topics_ctl.c - CreateTopics, DeleteTopics and CreatePartitions on the
 * active controller (Kafka's ReplicationControlManager.createTopics,
 * deleteTopics, createPartitions): validation against the image, records
 * in one batch per request, answers once it is committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/uuid.h"
#include "controller/qc_internal.h"
#include "protocol/errors.h"
#include "metadata/topic_config.h"
#include "util/diag.h"

#define MAX_TOPIC_NAME 249 /* Topic.MAX_NAME_LENGTH */

bool kp_qc_topic_name_valid(const char *name, const char **why)
{
	size_t n = name ? strlen(name) : 0;

	*why = NULL;
	if (n == 0)
		*why = "Topic name is illegal, it can't be empty";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		*why = "Topic name cannot be \".\" or \"..\"";
	else if (n > MAX_TOPIC_NAME)
		*why = "Topic name is illegal, it can't be longer than 249 characters";
	else if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		*why = "Topic name is illegal, it contains a character other than ASCII alphanumerics, "
		       "'.', '_' and '-'";
	return *why == NULL;
}

/* check_assignment - a manual assignment: consecutive rows, no duplicates, registered brokers. */
static int check_assignment(const kp_image *img, const struct kp_qc_new_topic *t, kp_error *err)
{
	for (int32_t p = 0; p < t->assigned_partitions; p++) {
		const int32_t *row = t->assignment + (size_t)p * (size_t)t->assigned_rf;
		bool any_active = false;

		for (int16_t i = 0; i < t->assigned_rf; i++) {
			for (int16_t j = 0; j < i; j++)
				if (row[i] == row[j])
					return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
							      "The manual partition assignment "
							      "includes the broker %d more than once",
							      row[i]);
			if (!kp_image_broker(img, row[i]))
				return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
						      "The manual partition assignment includes "
						      "broker %d, but no such broker is registered",
						      row[i]);
			any_active = any_active || kp_qc_broker_active(img, row[i]);
		}
		if (!any_active)
			return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
					      "All brokers specified in the manual partition "
					      "assignment for partition %d are fenced or in controlled "
					      "shutdown", p);
	}
	return 0;
}

/* place_topic - the replicas of every partition of `t` into *out (malloc'd; rows of *rf). */
static int place_topic(const kp_image *img, const struct kp_qc_config *cfg,
		       const struct kp_qc_new_topic *t, uint32_t start, int32_t **out,
		       int32_t *partitions, int16_t *rf, kp_error *err)
{
	struct kp_qc_usable_broker *usable = NULL;
	size_t n;
	int rc;

	*partitions = t->num_partitions == -1 ? cfg->num_partitions : t->num_partitions;
	*rf = t->replication_factor == -1 ? cfg->default_replication_factor : t->replication_factor;
	if (*partitions <= 0)
		return kp_error_kafka(err, KP_ERR_INVALID_PARTITIONS, "Number of partitions was set "
				      "to an invalid non-positive value");
	if (*rf <= 0)
		return kp_error_kafka(err, KP_ERR_INVALID_REPLICATION_FACTOR, "Replication factor "
				      "must be larger than 0, or -1 to use the default value");
	if (!(*out = malloc((size_t)*partitions * (size_t)*rf * sizeof(**out))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	n = kp_qc_usable_brokers(img, &usable);
	rc = kp_qc_place(usable, n, *partitions, *rf, start, 0, *out, err);
	free(usable);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * add_partition - a PartitionRecord for partition `index` of topic `id`
 * with `replicas` (rf of them): ISR the active replicas (all of them for a
 * placement), leader the first of the ISR, epochs 0.
 */
static int add_partition(const kp_image *img, const kp_uuid *id, int32_t index,
			 const int32_t *replicas, int16_t rf, struct kp_qc_recs *out, kp_error *err)
{
	struct kp_partition_record *p = kp_qc_recs_add(out, KP_METADATA_PARTITION_RECORD);
	int32_t *isr;
	int32_t n = 0;

	if (!p || !(p->replicas = kp_arena_memdup(out->arena, replicas, (size_t)rf * 4)) ||
	    !(isr = kp_arena_alloc(out->arena, (size_t)rf * 4)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int16_t i = 0; i < rf; i++)
		if (kp_qc_broker_active(img, replicas[i]))
			isr[n++] = replicas[i];
	p->topic_id = *id;
	p->partition_id = index;
	p->replicas_count = rf;
	p->isr = isr;
	p->isr_count = n;
	p->leader = n > 0 ? isr[0] : KP_IMAGE_NO_LEADER;
	p->leader_epoch = 0;
	p->partition_epoch = 0;
	return 0;
}

int kp_qc_adopted_topic_records(const struct kp_qc_adopted_topic *t, int32_t broker,
				struct kp_qc_recs *out, kp_error *err)
{
	struct kp_topic_record *tr = kp_qc_recs_add(out, KP_METADATA_TOPIC_RECORD);

	if (!tr)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	tr->name = (char *)t->name;
	tr->topic_id = t->id;
	for (int32_t i = 0; i < t->partitions; i++) {
		struct kp_partition_record *p = kp_qc_recs_add(out, KP_METADATA_PARTITION_RECORD);

		if (!p || !(p->replicas = kp_arena_memdup(out->arena, &broker, 4)) ||
		    !(p->isr = kp_arena_memdup(out->arena, &broker, 4)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		p->topic_id = t->id;
		p->partition_id = i;
		p->replicas_count = 1;
		p->isr_count = 1;
		p->leader = broker;
		p->leader_epoch = 0;
		p->partition_epoch = 0;
	}
	return 0;
}

/* add_configs - ConfigRecords of topic `name` for every config with a value. */
static int add_configs(const struct kp_qc_new_topic *t, struct kp_qc_recs *out, kp_error *err)
{
	for (int32_t i = 0; i < t->config_count; i++) {
		struct kp_config_record *c;

		if (!t->config_values[i])
			continue;
		if (!t->config_names[i] || !t->config_names[i][0])
			return kp_error_kafka(err, KP_ERR_INVALID_CONFIG, "empty config name");
		if (!(c = kp_qc_recs_add(out, KP_METADATA_CONFIG_RECORD)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		c->resource_type = KP_CONFIG_RESOURCE_TOPIC;
		c->resource_name = (char *)t->name;
		c->name = (char *)t->config_names[i];
		c->value = (char *)t->config_values[i];
	}
	return 0;
}

int kp_qc_create_topic_records(const kp_image *img, const struct kp_qc_config *cfg,
			       const struct kp_qc_new_topic *t, const kp_uuid *topic_id,
			       uint32_t start, struct kp_qc_recs *out, int32_t *partitions,
			       int16_t *rf, kp_error *err)
{
	struct kp_topic_record *tr;
	int32_t *placed = NULL;
	const int32_t *rows = t->assignment;
	const char *why;
	int rc = -1;

	if (!kp_qc_topic_name_valid(t->name, &why))
		return kp_error_kafka(err, KP_ERR_INVALID_TOPIC_EXCEPTION, "%s", why);
	if (kp_image_topic_by_name(img, t->name))
		return kp_error_kafka(err, KP_ERR_TOPIC_ALREADY_EXISTS, "Topic '%s' already exists",
				      t->name);
	if (rows && (t->num_partitions != -1 || t->replication_factor != -1))
		return kp_error_kafka(err, KP_ERR_INVALID_REQUEST, "A manual partition assignment "
				      "was specified, but numPartitions or replicationFactor was "
				      "not set to -1");
	if (rows) {
		*partitions = t->assigned_partitions;
		*rf = t->assigned_rf;
		if (check_assignment(img, t, err) < 0)
			return -1;
	} else if (place_topic(img, cfg, t, start, &placed, partitions, rf, err) < 0) {
		return -1;
	} else {
		rows = placed;
	}
	if (!(tr = kp_qc_recs_add(out, KP_METADATA_TOPIC_RECORD))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	tr->name = (char *)t->name;
	tr->topic_id = *topic_id;
	for (int32_t p = 0; p < *partitions; p++)
		if (add_partition(img, topic_id, p, rows + (size_t)p * (size_t)*rf, *rf, out, err) < 0)
			goto out;
	rc = add_configs(t, out, err);
out:
	free(placed);
	return rc;
}

/* ---- request handlers -------------------------------------------------------- */

/* One topic's outcome, for the answer. */
struct topic_result {
	int16_t error;
	char *message;    /* in the op's arena, NULL if none */
	kp_uuid id;
	int32_t partitions;
	int16_t rf;
};

/* set_error - a topic's error code and message from `err` (Kafka's name suffix removed). */
static void set_error(struct kp_qc_op *op, struct topic_result *r, const kp_error *err)
{
	const char *cut = strrchr(err->msg, ':');
	size_t n = cut && err->code == KP_EKAFKA ? (size_t)(cut - err->msg) : strlen(err->msg);

	r->error = err->code == KP_EKAFKA ? (int16_t)err->kafka_code : KP_ERR_UNKNOWN_SERVER_ERROR;
	r->message = kp_arena_strndup(&op->arena, err->msg, n);
}

/* new_topic - the request's topic `c` as placement input (assignment rows in the arena). */
static int new_topic(struct kp_qc_op *op, const struct kp_create_topics_request_creatable_topic *c,
		     struct kp_qc_new_topic *t, kp_error *err)
{
	memset(t, 0, sizeof(*t));
	t->name = c->name;
	t->num_partitions = c->num_partitions;
	t->replication_factor = c->replication_factor;
	if (c->assignments_count > 0) {
		int16_t rf = (int16_t)c->assignments[0].broker_ids_count;
		int32_t *rows = kp_arena_alloc(&op->arena, (size_t)c->assignments_count *
							   (size_t)(rf ? rf : 1) * 4);

		uint8_t *seen = kp_arena_alloc(&op->arena, (size_t)c->assignments_count);

		if (!rows || !seen)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		memset(seen, 0, (size_t)c->assignments_count);
		/* any order; each of 0..n-1 once (ReplicationControlManager.createTopic) */
		for (int32_t i = 0; i < c->assignments_count; i++) {
			const struct kp_create_topics_request_creatable_replica_assignment *a =
				&c->assignments[i];
			int32_t p = a->partition_index;

			if (p >= 0 && p < c->assignments_count && seen[p])
				return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
						      "Found multiple manual partition assignments "
						      "for partition %d", p);
			if (p < 0 || p >= c->assignments_count)
				return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
						      "partitions should be a consecutive 0-based "
						      "integer sequence");
			if (a->broker_ids_count != rf || rf == 0)
				return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
						      "All partitions should have the same number "
						      "of replicas");
			seen[p] = 1;
			memcpy(rows + (size_t)p * (size_t)rf, a->broker_ids, (size_t)rf * 4);
		}
		t->assignment = rows;
		t->assigned_partitions = c->assignments_count;
		t->assigned_rf = rf;
	}
	t->config_count = c->configs_count;
	t->config_names = kp_arena_alloc(&op->arena, (size_t)c->configs_count * sizeof(char *) + 1);
	t->config_values = kp_arena_alloc(&op->arena, (size_t)c->configs_count * sizeof(char *) + 1);
	if (!t->config_names || !t->config_values)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < c->configs_count; i++) {
		char msg[512];

		if (kp_topic_config_check(c->configs[i].name, c->configs[i].value, msg,
					  sizeof(msg)) != KP_ERR_NONE)
			return kp_error_kafka(err, KP_ERR_INVALID_CONFIG, "%s", msg);
		((const char **)t->config_names)[i] = c->configs[i].name;
		((const char **)t->config_values)[i] = c->configs[i].value;
	}
	return 0;
}

/* duplicate_name - whether topic i's name appears elsewhere in the request. */
static bool duplicate_name(const struct kp_create_topics_request *req, int32_t i)
{
	for (int32_t j = 0; j < req->topics_count; j++)
		if (j != i && req->topics[i].name && req->topics[j].name &&
		    strcmp(req->topics[i].name, req->topics[j].name) == 0)
			return true;
	return false;
}

/* first_of_name - the index of the first topic of the request named as topic i. */
static int32_t first_of_name(const struct kp_create_topics_request *req, int32_t i)
{
	for (int32_t j = 0; j < i; j++)
		if (req->topics[i].name && req->topics[j].name &&
		    strcmp(req->topics[i].name, req->topics[j].name) == 0)
			return j;
	return i;
}

/* create_one - validate topic i and append its records (none kept on error). */
static int create_one(struct kp_qc_op *op, const struct kp_create_topics_request *req, int32_t i,
		      struct topic_result *r, kp_error *err)
{
	struct kp_qc_new_topic t;
	size_t mark = op->recs.n;
	kp_error terr;

	if (duplicate_name(req, i)) {
		kp_error_kafka(&terr, KP_ERR_INVALID_REQUEST, "Duplicate topic name.");
		set_error(op, r, &terr);
		return 0;
	}
	if (kp_uuid_random(&r->id, err) < 0)
		return -1;
	if (new_topic(op, &req->topics[i], &t, &terr) < 0 ||
	    kp_qc_create_topic_records(op->qc->img, &op->qc->cfg, &t, &r->id,
				       (uint32_t)r->id.b[7] << 8 | r->id.b[9], &op->recs,
				       &r->partitions, &r->rf, &terr) < 0) {
		if (terr.code == KP_ENOMEM)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		op->recs.n = mark;
		set_error(op, r, &terr);
		memset(&r->id, 0, sizeof(r->id));
	}
	return 0;
}

static int create_topics_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_create_topics_request *req = op->rq->body;
	struct topic_result *res = op->state;

	for (int32_t i = 0; i < req->topics_count; i++)
		if (create_one(op, req, i, &res[i], err) < 0)
			return -1;
	if (req->validate_only)
		op->recs.n = 0;
	return 0;
}

static void create_topics_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct kp_create_topics_request *req;
	const struct topic_result *res = op->state;
	struct kp_create_topics_response *resp;
	struct kp_create_topics_response_creatable_topic_result *t;

	if (!op->rq)
		return;
	req = op->rq->body;
	resp = kp_create_topics_response_new(&op->rq->arena, 1);
	t = kp_create_topics_response_creatable_topic_result_new(&op->rq->arena,
								 (size_t)req->topics_count);
	if (!resp || !t)
		return;
	int32_t n = 0;

	for (int32_t i = 0; i < req->topics_count; i++) {
		int16_t code = error ? error : res[i].error;

		if (duplicate_name(req, i))
			continue;
		t[n].name = req->topics[i].name;
		t[n].error_code = code;
		t[n].error_message = error ? NULL : res[i].message;
		t[n].num_partitions = code ? -1 : res[i].partitions;
		t[n].replication_factor = code ? -1 : res[i].rf;
		if (!code && !req->validate_only) {
			t[n].topic_id = res[i].id;
			kp_diag_info("controller: created topic %s with %d partition(s)",
				     t[n].name, res[i].partitions);
		}
		n++;
	}
	/* then each duplicated name once, as ControllerApis.createTopics answers them */
	for (int32_t i = 0; i < req->topics_count; i++) {
		if (!duplicate_name(req, i) || first_of_name(req, i) != i)
			continue;
		t[n].name = req->topics[i].name;
		t[n].error_code = error ? error : res[i].error;
		t[n].error_message = error ? NULL : res[i].message;
		t[n].num_partitions = -1;
		t[n].replication_factor = -1;
		n++;
	}
	resp->topics = t;
	resp->topics_count = n;
	kp_qc_respond(op, resp);
}

int kp_qc_create_topics(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err)
{
	const struct kp_create_topics_request *req = rq->body;

	size_t n = (size_t)(req->topics_count > 0 ? req->topics_count : 0);

	return kp_qc_submit_new(qc, rq, n * sizeof(struct topic_result), create_topics_run,
				create_topics_finish, err);
}

/* ---- DeleteTopics ------------------------------------------------------------ */

/* delete_target - topic i of the request (v6: name or id; older: names) in the image. */
static const struct kp_image_topic *delete_target(const kp_image *img,
						  const struct kp_delete_topics_request *req,
						  int32_t i, const char **name, kp_uuid *id,
						  int16_t *error)
{
	static const kp_uuid zero;
	const struct kp_image_topic *t;

	*name = req->topics_count > 0 ? req->topics[i].name : req->topic_names[i];
	memset(id, 0, sizeof(*id));
	if (req->topics_count > 0)
		*id = req->topics[i].topic_id;
	if (*name && memcmp(id, &zero, sizeof(zero)) != 0) {
		*error = KP_ERR_INVALID_REQUEST;
		return NULL;
	}
	t = *name ? kp_image_topic_by_name(img, *name) : kp_image_topic_by_id(img, id);
	if (!t)
		*error = *name ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION : KP_ERR_UNKNOWN_TOPIC_ID;
	return t;
}

static int32_t delete_count(const struct kp_delete_topics_request *req)
{
	return req->topics_count > 0 ? req->topics_count
				     : req->topic_names_count > 0 ? req->topic_names_count : 0;
}

static int delete_topics_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_delete_topics_request *req = op->rq->body;
	struct topic_result *res = op->state;
	int32_t n = delete_count(req);

	for (int32_t i = 0; i < n; i++) {
		const char *name;
		const struct kp_image_topic *t = delete_target(op->qc->img, req, i, &name, &res[i].id,
							       &res[i].error);
		struct kp_remove_topic_record *r;
		bool again = false;

		if (!t)
			continue;
		res[i].id = t->id;
		res[i].message = kp_arena_strndup(&op->arena, t->name, strlen(t->name));
		for (int32_t j = 0; j < i && !again; j++)
			again = !res[j].error && memcmp(&res[j].id, &t->id, sizeof(t->id)) == 0;
		if (again)
			continue; /* named twice: one RemoveTopicRecord */
		if (!res[i].message || !(r = kp_qc_recs_add(&op->recs, KP_METADATA_REMOVE_TOPIC_RECORD)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		r->topic_id = t->id;
		kp_diag_info("controller: deleting topic %s", t->name);
	}
	return 0;
}

static void delete_topics_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct kp_delete_topics_request *req;
	const struct topic_result *res = op->state;
	struct kp_delete_topics_response *resp;
	struct kp_delete_topics_response_deletable_topic_result *t;
	int32_t n;

	if (!op->rq)
		return;
	req = op->rq->body;
	n = delete_count(req);
	resp = kp_delete_topics_response_new(&op->rq->arena, 1);
	t = kp_delete_topics_response_deletable_topic_result_new(&op->rq->arena, (size_t)n);
	if (!resp || !t)
		return;
	for (int32_t i = 0; i < n; i++) {
		/* the name as found (the request's when unknown) */
		t[i].name = res[i].message ? res[i].message
			    : req->topics_count > 0 ? req->topics[i].name : req->topic_names[i];
		t[i].topic_id = res[i].id;
		t[i].error_code = error ? error : res[i].error;
	}
	resp->responses = t;
	resp->responses_count = n;
	kp_qc_respond(op, resp);
}

int kp_qc_delete_topics(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			kp_error *err)
{
	return kp_qc_submit_new(qc, rq, (size_t)delete_count(rq->body) * sizeof(struct topic_result),
				delete_topics_run, delete_topics_finish, err);
}

/* ---- CreatePartitions ---------------------------------------------------------- */

/* new_partition_rows - the replicas of `add` new partitions of `t` (manual or placed). */
static int new_partition_rows(struct kp_qc_op *op,
			      const struct kp_create_partitions_request_create_partitions_topic *c,
			      const struct kp_image_topic *t, int32_t add, int16_t rf,
			      int32_t *rows, kp_error *err)
{
	struct kp_qc_usable_broker *usable = NULL;
	size_t n;
	int rc;

	if (c->assignments_count < 0) {
		n = kp_qc_usable_brokers(op->qc->img, &usable);
		rc = kp_qc_place(usable, n, add, rf, (uint32_t)t->id.b[3], t->partition_count,
				 rows, err);
		free(usable);
		return rc;
	}
	if (c->assignments_count != add)
		return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "Attempted to add %d "
				      "additional partition(s), but only %d assignment(s) were "
				      "specified", add, c->assignments_count);
	for (int32_t p = 0; p < add; p++) {
		const struct kp_create_partitions_request_create_partitions_assignment *a =
			&c->assignments[p];

		if (a->broker_ids_count != rf)
			return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT, "The manual "
					      "partition assignment includes a partition with %d "
					      "replica(s), but this is not consistent with previous "
					      "partitions, which have %d replica(s)",
					      a->broker_ids_count, rf);
		for (int16_t i = 0; i < rf; i++)
			if (!kp_image_broker(op->qc->img, a->broker_ids[i]))
				return kp_error_kafka(err, KP_ERR_INVALID_REPLICA_ASSIGNMENT,
						      "The manual partition assignment includes "
						      "broker %d, but no such broker is registered",
						      a->broker_ids[i]);
		memcpy(rows + (size_t)p * (size_t)rf, a->broker_ids, (size_t)rf * 4);
	}
	return 0;
}

/* add_partitions - validate one topic of CreatePartitions and append its PartitionRecords. */
static int add_partitions(struct kp_qc_op *op,
			  const struct kp_create_partitions_request_create_partitions_topic *c,
			  kp_error *err)
{
	const struct kp_image_topic *t = kp_image_topic_by_name(op->qc->img, c->name);
	const struct kp_image_partition *p0 = t ? kp_image_topic_partition(t, 0) : NULL;
	int32_t add, *rows;
	int16_t rf;
	int rc = 0;

	if (!t || !p0)
		return kp_error_kafka(err, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
				      "This server does not host this topic-partition");
	add = c->count - t->partition_count;
	rf = (int16_t)p0->replicas.count;
	if (add < 0)
		return kp_error_kafka(err, KP_ERR_INVALID_PARTITIONS, "The topic %s currently has "
				      "%d partition(s); %d would not be an increase", c->name,
				      t->partition_count, c->count);
	if (add == 0)
		return kp_error_kafka(err, KP_ERR_INVALID_PARTITIONS, "Topic already has %d "
				      "partition(s)", t->partition_count);
	if (!(rows = malloc((size_t)add * (size_t)rf * 4)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (new_partition_rows(op, c, t, add, rf, rows, err) < 0)
		rc = -1;
	for (int32_t p = 0; rc == 0 && p < add; p++)
		rc = add_partition(op->qc->img, &t->id, t->partition_count + p,
				   rows + (size_t)p * (size_t)rf, rf, &op->recs, err);
	free(rows);
	return rc;
}

static int create_partitions_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_create_partitions_request *req = op->rq->body;
	struct topic_result *res = op->state;

	for (int32_t i = 0; i < req->topics_count; i++) {
		size_t mark = op->recs.n;
		kp_error terr;

		if (add_partitions(op, &req->topics[i], &terr) == 0)
			continue;
		if (terr.code == KP_ENOMEM)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		op->recs.n = mark;
		set_error(op, &res[i], &terr);
	}
	if (req->validate_only)
		op->recs.n = 0;
	return 0;
}

static void create_partitions_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct kp_create_partitions_request *req;
	const struct topic_result *res = op->state;
	struct kp_create_partitions_response *resp;
	struct kp_create_partitions_response_create_partitions_topic_result *t;

	if (!op->rq)
		return;
	req = op->rq->body;
	resp = kp_create_partitions_response_new(&op->rq->arena, 1);
	t = kp_create_partitions_response_create_partitions_topic_result_new(
		&op->rq->arena, (size_t)req->topics_count);
	if (!resp || !t)
		return;
	for (int32_t i = 0; i < req->topics_count; i++) {
		t[i].name = req->topics[i].name;
		t[i].error_code = error ? error : res[i].error;
		t[i].error_message = error ? NULL : res[i].message;
	}
	resp->results = t;
	resp->results_count = req->topics_count;
	kp_qc_respond(op, resp);
}

int kp_qc_create_partitions(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			    kp_error *err)
{
	const struct kp_create_partitions_request *req = rq->body;

	size_t n = (size_t)(req->topics_count > 0 ? req->topics_count : 0);

	return kp_qc_submit_new(qc, rq, n * sizeof(struct topic_result), create_partitions_run,
				create_partitions_finish, err);
}
