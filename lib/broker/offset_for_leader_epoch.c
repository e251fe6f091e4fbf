/*
 * offset_for_leader_epoch.c - OffsetForLeaderEpoch (key 23), versions
 * 2-4 as Kafka 4 serves them (KIP-896 removed 0-1; KIP-101, KIP-279,
 * KIP-320): for each partition, the end offset of
 * the asked leader epoch in the leader's log (the first offset of the
 * next larger epoch, or the log end offset for the latest) and the
 * largest epoch at or below it that the log holds (v1+), from the log's
 * leader epoch cache (kp_log_epoch_end_offset), with no error even when
 * there is no such epoch (-1 / -1 above the latest; below every epoch
 * kept, the asked epoch and the first kept epoch's start), as Kafka's
 * Partition.lastOffsetForLeaderEpoch. Only the leader answers, unless
 * the request comes with the debugging replica id -2 (v2's default),
 * which any replica answers (Kafka's fetchOnlyFromLeader); the current
 * leader epoch fences stale callers as Fetch does (FENCED_LEADER_EPOCH,
 * UNKNOWN_LEADER_EPOCH).
 */
#include "broker/internal.h"

typedef struct kp_offset_for_leader_epoch_response_offset_for_leader_topic_result ole_topic;
typedef struct kp_offset_for_leader_epoch_response_epoch_end_offset ole_partition;
typedef struct kp_offset_for_leader_epoch_request_offset_for_leader_partition ole_ask;

#define DEBUGGING_REPLICA_ID (-2)

/* partition_error - the error p answers `ask` with, or NONE. */
static int16_t partition_error(const struct kp_request *rq, const struct kp_partition *p,
			       const ole_ask *ask)
{
	const struct kp_offset_for_leader_epoch_request *req = rq->body;

	if (!p || !p->hosted)
		return p ? KP_ERR_NOT_LEADER_OR_FOLLOWER : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (!kp_partition_online(p))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	if (p->follower && req->replica_id != DEBUGGING_REPLICA_ID)
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	return kp_partition_leader_epoch_error(p, ask->current_leader_epoch);
}

/* answer_topic - every partition of `tr` into `out` (its array in rq's arena). */
static int answer_topic(struct kp_request *rq,
			const struct kp_offset_for_leader_epoch_request_offset_for_leader_topic *tr,
			ole_topic *out)
{
	struct kp_topic *t = kp_topics_find(rq->broker->topics, tr->topic);
	int32_t n = tr->partitions_count > 0 ? tr->partitions_count : 0;
	ole_partition *ps = kp_request_alloc(rq, sizeof(*ps) * (size_t)(n ? n : 1));

	if (!ps)
		return -1;
	out->topic = tr->topic;
	out->partitions = ps;
	out->partitions_count = n;
	for (int32_t i = 0; i < n; i++) {
		const ole_ask *ask = &tr->partitions[i];
		struct kp_partition *p = kp_topic_partition(t, ask->partition);

		ps[i].partition = ask->partition;
		ps[i].leader_epoch = -1;
		ps[i].end_offset = -1;
		ps[i].error_code = partition_error(rq, p, ask);
		if (ps[i].error_code == KP_ERR_NONE)
			kp_log_epoch_end_offset(p->log, ask->leader_epoch, &ps[i].leader_epoch,
						&ps[i].end_offset);
	}
	return 0;
}

int kp_handle_offset_for_leader_epoch(struct kp_request *rq, kp_error *err)
{
	const struct kp_offset_for_leader_epoch_request *req = rq->body;
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	struct kp_offset_for_leader_epoch_response *resp =
		kp_offset_for_leader_epoch_response_new(&rq->arena, 1);
	ole_topic *topics = kp_request_alloc(rq, sizeof(*topics) * (size_t)(n ? n : 1));

	if (!resp || !topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++)
		if (answer_topic(rq, &req->topics[i], &topics[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->topics = topics;
	resp->topics_count = n;
	KP_RESPOND(rq, OFFSET_FOR_LEADER_EPOCH, resp);
	return 0;
}
