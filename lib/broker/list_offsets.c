/*
 * list_offsets.c - ListOffsets (key 2), versions 0-10 (KIP-79, KIP-734).
 *
 * A partition's timestamp asks for:
 *   -1 latest           the high watermark (= last stable offset here); for a
 *                       replica (ReplicaId >= 0: a follower, or -2 debugging)
 *                       the log end offset, as Kafka answers without an
 *                       isolation level
 *   -2 earliest         the log start offset
 *   -3 max timestamp    (v7+) the largest timestamp and the first record
 *                       carrying it (kp_log_max_timestamp finds the batch)
 *   -4 earliest local   (v8+) the log start offset (no tiered storage)
 *   -5 latest tiered    (v9+) -1 (no tiered storage)
 *   T >= 0              the first record whose timestamp >= T, in the first
 *                       batch whose max timestamp >= T (kp_log_offset_for_timestamp
 *                       finds the batch), or -1 if none (CLIENT-NOTES rule 15)
 * v0 answers in old_style_offsets (an array of at most max_num_offsets);
 * v1+ in timestamp and offset; v4+ add the leader epoch (-1 when no
 * offset was found, as Kafka's TimestampAndOffset without an epoch).
 */
#include "broker/internal.h"
#include "record/records.h"
#include "util/diag.h"

typedef struct kp_list_offsets_response_list_offsets_topic_response lo_topic;
typedef struct kp_list_offsets_response_list_offsets_partition_response lo_partition;

/*
 * to_record - narrow a batch-level answer to one record, as Kafka does: in
 * the batch holding *offset, the first record whose timestamp is >= `ts`
 * (or == `ts` when `exact`); *offset and *timestamp get it. Both are left
 * alone when the batch cannot be read or holds no such record.
 */
static void to_record(struct kp_partition *p, int64_t ts, bool exact, int64_t *offset,
		      int64_t *timestamp)
{
	kp_record_iter *it = NULL;
	struct kp_record rec;
	kp_error err;
	kp_buf buf;

	kp_buf_init(&buf);
	if (kp_log_read(p->log, *offset, INT64_MAX, 1, &buf, &err) < 0 || buf.len == 0 ||
	    !(it = kp_record_iter_new(buf.data, buf.len, 0)))
		goto out;
	while (kp_record_iter_next(it, &rec, &err) == 1)
		if (exact ? rec.timestamp == ts : rec.timestamp >= ts) {
			*offset = rec.offset;
			*timestamp = rec.timestamp;
			break;
		}
out:
	kp_record_iter_free(it);
	kp_buf_free(&buf);
}

/*
 * lookup - *offset (-1: none) and *timestamp (-1: none) for the requested
 * timestamp `ts` in `p`, asked by a replica (not a consumer) when
 * `replica`. Returns KP_ERR_NONE or the partition's Kafka
 * error (INVALID_REQUEST for an unknown negative `ts`, KAFKA_STORAGE_ERROR).
 */
static int16_t lookup(struct kp_partition *p, int64_t ts, bool replica, int64_t *offset,
		      int64_t *timestamp)
{
	kp_error err;

	kp_error_clear(&err);
	*timestamp = -1;
	switch (ts) {
	case -1:
		*offset = replica ? kp_log_end_offset(p->log) : kp_partition_high_watermark(p);
		return KP_ERR_NONE;
	case -2:
	case -4:
		*offset = kp_log_start_offset(p->log);
		return KP_ERR_NONE;
	case -3:
		if (!kp_log_max_timestamp(p->log, timestamp, offset))
			*offset = -1;
		else
			to_record(p, *timestamp, true, offset, timestamp);
		return KP_ERR_NONE;
	case -5:
		*offset = -1;
		return KP_ERR_NONE;
	default:
		break;
	}
	if (ts < 0) {
		*offset = -1;
		return KP_ERR_INVALID_REQUEST;
	}
	*offset = kp_log_offset_for_timestamp(p->log, ts, timestamp, &err);
	if (*offset < 0 && err.code != KP_EOK && err.code != KP_ENOTFOUND) {
		kp_diag_error("list offsets by time: %s", err.msg);
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
	if (*offset < 0)
		*timestamp = -1;
	else
		to_record(p, ts, false, offset, timestamp);
	return KP_ERR_NONE;
}

static int answer_partition(struct kp_request *rq, struct kp_topic *t,
			    const struct kp_list_offsets_request_list_offsets_partition *rp,
			    lo_partition *out)
{
	struct kp_partition *p = kp_topic_partition(t, rp->partition_index);
	int64_t offset = -1, timestamp = -1;

	out->partition_index = rp->partition_index;
	out->offset = -1;
	out->timestamp = -1;
	out->leader_epoch = -1;
	out->old_style_offsets_count = 0;
	if (!p) {
		out->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return 0;
	}
	if (p->follower || !kp_partition_online(p)) {
		out->error_code = p->follower ? KP_ERR_NOT_LEADER_OR_FOLLOWER
					      : KP_ERR_KAFKA_STORAGE_ERROR;
		return 0;
	}
	out->error_code = lookup(p, rp->timestamp,
				 ((const struct kp_list_offsets_request *)rq->body)->replica_id != -1,
				 &offset, &timestamp);
	if (out->error_code != KP_ERR_NONE)
		return 0;
	out->offset = offset;
	out->timestamp = timestamp;
	out->leader_epoch = offset >= 0 ? p->leader_epoch : -1;
	if (rq->version == 0 && offset >= 0 && rp->max_num_offsets > 0) {
		out->old_style_offsets = kp_request_alloc(rq, sizeof(int64_t));
		if (!out->old_style_offsets)
			return -1;
		out->old_style_offsets[0] = offset;
		out->old_style_offsets_count = 1;
	}
	return 0;
}

int kp_handle_list_offsets(struct kp_request *rq, kp_error *err)
{
	const struct kp_list_offsets_request *req = rq->body;
	struct kp_list_offsets_response *resp = kp_list_offsets_response_new(&rq->arena, 1);
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
	lo_topic *topics = kp_request_alloc(rq, sizeof(*topics) * (size_t)(nt ? nt : 1));

	if (!resp || !topics)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_list_offsets_request_list_offsets_topic *rt = &req->topics[i];
		struct kp_topic *t = kp_topics_find(rq->broker->topics, rt->name);
		int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;

		topics[i].name = rt->name;
		topics[i].partitions = kp_request_alloc(rq, sizeof(lo_partition) * (size_t)(np ? np : 1));
		if (!topics[i].partitions)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		topics[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++)
			if (answer_partition(rq, t, &rt->partitions[j], &topics[i].partitions[j]) < 0)
				return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	resp->topics = topics;
	resp->topics_count = nt;
	KP_RESPOND(rq, LIST_OFFSETS, resp);
	return 0;
}
