/*
 * offset_commit.c - OffsetCommit (key 8, v0-9) and OffsetDelete (key 47, v0).
 *
 * OffsetCommit: the member is checked once (Kafka's validateOffsetCommit,
 * lib/group kp_group_commit_check), and an error there is every
 * partition's; a topic or partition the broker does not have is
 * UNKNOWN_TOPIC_OR_PARTITION, as KafkaApis answers. A generation id of
 * -1 commits for a group with no members (standalone consumers, tools).
 * v0 has no generation (a simple commit). The commit timestamp is the
 * broker's clock unless v1 gives one; v2-4's RetentionTimeMs (other than
 * -1) sets an explicit expiry of now + that, as Kafka's
 * OffsetAndMetadata.fromRequest still does; later versions leave expiry
 * to offsets.retention.minutes (KIP-211). The offsets are written first
 * and taken, and the request answered, once the ISR of the group's
 * __consumer_offsets partition has them (group_replicated.c); a write that
 * does not get there in offsets.commit.timeout.ms fails every partition
 * with COORDINATOR_NOT_AVAILABLE, a lost leadership with NOT_COORDINATOR.
 */
#include <string.h>

#include "broker/internal.h"
#include "record/records.h"

typedef struct kp_offset_commit_request_offset_commit_request_topic oc_req_topic;
typedef struct kp_offset_commit_response_offset_commit_response_topic oc_topic;
typedef struct kp_offset_commit_response_offset_commit_response_partition oc_partition;

/* partition_known - whether this broker has topic/partition (Kafka's metadataCache check). */
static bool partition_known(struct kp_request *rq, const char *topic, int32_t partition)
{
	struct kp_topic *t = topic ? kp_topics_find(rq->broker->topics, topic) : NULL;

	return t && partition >= 0 && partition < t->partition_count;
}

/* offset_of - the offset a request partition commits, at the broker's time `now`. */
static struct kp_group_offset offset_of(const struct kp_request *rq,
	const struct kp_offset_commit_request_offset_commit_request_partition *rp, int64_t now)
{
	const struct kp_offset_commit_request *req = rq->body;
	struct kp_group_offset o = {
		.offset = rp->committed_offset,
		.leader_epoch = rq->version >= 6 ? rp->committed_leader_epoch : -1,
		.metadata = rp->committed_metadata ? rp->committed_metadata : "",
		.commit_timestamp = rq->version == 1 && rp->commit_timestamp != -1
			? rp->commit_timestamp : now,
		.expire_timestamp = rq->version >= 2 && rq->version <= 4 && req->retention_time_ms != -1
			? now + req->retention_time_ms : -1,
	};

	return o;
}

/*
 * check_topic - fill out's partitions with the errors known before
 * writing (unknown topic, the group's error, metadata too large) and add
 * a record to bb for each partition that has none.
 */
static int check_topic(struct kp_request *rq, const oc_req_topic *rt, int16_t group_error,
		       int64_t now, kp_batch_builder *bb, oc_topic *out)
{
	const struct kp_offset_commit_request *req = rq->body;
	int32_t n = rt->partitions_count > 0 ? rt->partitions_count : 0;
	oc_partition *ps = kp_offset_commit_response_offset_commit_response_partition_new(&rq->arena,
										   (size_t)n);
	size_t max_md = (size_t)rq->broker->cfg.group.offset_metadata_max_bytes;
	kp_error err;

	if (!ps)
		return -1;
	out->name = rt->name;
	out->partitions = ps;
	out->partitions_count = n;
	for (int32_t i = 0; i < n; i++) {
		struct kp_group_offset o = offset_of(rq, &rt->partitions[i], now);

		ps[i].partition_index = rt->partitions[i].partition_index;
		if (!partition_known(rq, rt->name, ps[i].partition_index))
			ps[i].error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		else if (group_error)
			ps[i].error_code = group_error;
		else if (strlen(o.metadata) > max_md)
			ps[i].error_code = KP_ERR_OFFSET_METADATA_TOO_LARGE;
		else if (kp_group_log_offset_record(bb, req->group_id, rt->name, ps[i].partition_index,
						    &o, &err) < 0)
			return -1;
	}
	return 0;
}

/* apply - after the write: the partitions without an error take the offset (or write_error). */
static void apply(struct kp_request *rq, const oc_req_topic *rt, int16_t write_error, int64_t now,
		  oc_topic *out)
{
	const struct kp_offset_commit_request *req = rq->body;

	for (int32_t i = 0; i < out->partitions_count; i++) {
		struct kp_group_offset o = offset_of(rq, &rt->partitions[i], now);

		if (out->partitions[i].error_code)
			continue;
		out->partitions[i].error_code = write_error ? write_error
			: kp_group_commit(rq->broker->groups, req->group_id, rt->name,
					  out->partitions[i].partition_index, &o, now);
	}
}

/* What a commit's answer needs once its write is settled (in rq's arena). */
struct commit_answer {
	struct kp_offset_commit_response *resp;
	int64_t now;
};

/* commit_done - kp_replicated_done: apply the offsets (or the write's error) and answer. */
static void commit_done(struct kp_request *rq, void *arg, int16_t write_error)
{
	const struct kp_offset_commit_request *req = rq->body;
	struct commit_answer *a = arg;

	for (int32_t i = 0; i < a->resp->topics_count; i++)
		apply(rq, &req->topics[i], write_error, a->now, &a->resp->topics[i]);
	KP_RESPOND(rq, OFFSET_COMMIT, a->resp);
}

/*
 * kp_handle_offset_commit - check, write every accepted offset to the
 * group's __consumer_offsets partition in one batch, then, once the
 * partition's ISR has the batch (within offsets.commit.timeout.ms), apply
 * them and answer: an answered commit survives the loss of the leader,
 * as Kafka's coordinator writes with acks=-1.
 */
int kp_handle_offset_commit(struct kp_request *rq, kp_error *err)
{
	const struct kp_offset_commit_request *req = rq->body;
	struct commit_answer *a = kp_request_alloc(rq, sizeof(*a));
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	oc_topic *ts = kp_offset_commit_response_offset_commit_response_topic_new(&rq->arena, (size_t)n);
	int32_t generation = rq->version >= 1 ? req->generation_id_or_member_epoch : -1;
	kp_batch_builder *bb = kp_group_log_builder();
	struct kp_group_write w;
	int16_t group_error, write_error = KP_ERR_NONE;
	bool written = false;
	int rc = 0;

	if (!a || !ts || !bb || !(a->resp = kp_offset_commit_response_new(&rq->arena, 1)))
		goto nomem;
	a->now = kp_broker_group_now();
	group_error = kp_group_commit_check(rq->broker->groups, req->group_id,
					    req->member_id ? req->member_id : "",
					    rq->version >= 7 ? req->group_instance_id : NULL,
					    generation, rq->version, a->now);
	for (int32_t i = 0; i < n && rc == 0; i++)
		rc = check_topic(rq, &req->topics[i], group_error, a->now, bb, &ts[i]);
	if (rc < 0)
		goto nomem;
	if (kp_batch_builder_count(bb) > 0) {
		write_error = kp_group_log_append(rq->broker, req->group_id, bb, &w);
		written = write_error == KP_ERR_NONE;
	}
	kp_batch_builder_free(bb);
	a->resp->topics = ts;
	a->resp->topics_count = n;
	if (!written) {
		commit_done(rq, a, write_error);
		return 0;
	}
	return kp_request_respond_replicated(rq, &w, rq->broker->cfg.offsets_commit_timeout_ms,
					     commit_done, a, err);
nomem:
	kp_batch_builder_free(bb);
	return kp_error_set(err, KP_ENOMEM, "out of memory");
}

typedef struct kp_offset_delete_response_offset_delete_response_topic od_topic;
typedef struct kp_offset_delete_response_offset_delete_response_partition od_partition;

/*
 * kp_handle_offset_delete - KIP-496: a group-level error (GROUP_ID_NOT_FOUND,
 * INVALID_GROUP_ID, NON_EMPTY_GROUP) is the top-level error code, with no
 * topics; per partition UNKNOWN_TOPIC_OR_PARTITION or
 * GROUP_SUBSCRIBED_TO_TOPIC.
 */
int kp_handle_offset_delete(struct kp_request *rq, kp_error *err)
{
	const struct kp_offset_delete_request *req = rq->body;
	struct kp_offset_delete_response *resp = kp_offset_delete_response_new(&rq->arena, 1);
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	od_topic *ts = kp_offset_delete_response_offset_delete_response_topic_new(&rq->arena, (size_t)n);
	kp_group_coord *gc = rq->broker->groups;

	if (!resp || !ts)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (!req->group_id || !*req->group_id)
		resp->error_code = KP_ERR_INVALID_GROUP_ID;
	else
		resp->error_code = kp_group_offset_delete_check(gc, req->group_id);
	for (int32_t i = 0; i < n && !resp->error_code; i++) {
		const struct kp_offset_delete_request_offset_delete_request_topic *rt = &req->topics[i];
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;
		od_partition *ps = kp_offset_delete_response_offset_delete_response_partition_new(
			&rq->arena, (size_t)np);
		if (!ps)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		ts[i].name = rt->name;
		ts[i].partitions = ps;
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			ps[j].partition_index = rt->partitions[j].partition_index;
			ps[j].error_code = partition_known(rq, rt->name, ps[j].partition_index)
				? kp_group_offset_delete(gc, req->group_id, rt->name, ps[j].partition_index)
				: KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
	}
	if (!resp->error_code) {
		resp->topics = ts;
		resp->topics_count = n;
	}
	KP_RESPOND(rq, OFFSET_DELETE, resp);
	return 0;
}
