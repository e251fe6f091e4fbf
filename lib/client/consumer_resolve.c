/*
 * consumer_resolve.c - a partition's start position: ListOffsets (v0-v7)
 * for the log start offset, the end (the high watermark, or the last
 * stable offset with read_committed) and, for KP_SEEK_TIMESTAMP, the
 * first offset at or after a time; see consumer_internal.h.
 */
#include "client/consumer_internal.h"

#include "protocol/errors.h"
#include "util/diag.h"

/*
 * ListOffsets for partition `p` at `timestamp` (-1 latest, -2 earliest,
 * else the first offset whose timestamp is at or after it; *out -1 when
 * there is none).
 */
static int list_offset(kp_consumer *c, const struct cpart *p, int64_t timestamp, int64_t *out,
		       kp_error *err)
{
	struct kp_list_offsets_request req;
	struct kp_list_offsets_response resp;
	struct kp_list_offsets_request_list_offsets_topic t = { .name = p->topic };
	struct kp_list_offsets_request_list_offsets_partition lp = {
		.partition_index = p->partition, .current_leader_epoch = -1,
		.timestamp = timestamp, .max_num_offsets = 1,
	};
	int32_t leader = kp_cluster_leader(c->cluster, p->topic, p->partition);
	int16_t min = c->isolation ? 2 : timestamp >= 0 ? 1 : 0; /* isolation v2+, times v1+ */
	kp_conn *conn;
	kp_arena arena;
	int v, rc = -1;

	if (leader < 0)
		return kp_error_kafka(err, KP_ERR_LEADER_NOT_AVAILABLE, "topic %s partition %d",
				      p->topic, (int)p->partition);
	if (!(conn = kp_cluster_conn(c->cluster, leader, err)) ||
	    (v = kp_conn_pick_version(conn, KP_API_LIST_OFFSETS, min, KP_CLIENT_LIST_OFFSETS_MAX,
				      err)) < 0)
		return -1;
	t.partitions = &lp;
	t.partitions_count = 1;
	kp_msg_init(&kp_list_offsets_request_desc, &req);
	req.replica_id = -1;
	req.isolation_level = c->isolation;
	req.topics = &t;
	req.topics_count = 1;
	kp_arena_init(&arena);
	if (kp_conn_call(conn, KP_API_LIST_OFFSETS, (int16_t)v, &req, &arena, &resp,
			 kp_cluster_config(c->cluster)->request_timeout_ms, err) < 0)
		goto out;
	if (resp.topics_count != 1 || resp.topics[0].partitions_count != 1) {
		kp_error_set(err, KP_EPROTO, "bad ListOffsets response from %s", kp_conn_name(conn));
		goto out;
	}
	const struct kp_list_offsets_response_list_offsets_partition_response *r =
		&resp.topics[0].partitions[0];
	if (r->error_code) {
		kp_error_kafka(err, r->error_code, "cannot look up offsets of topic %s partition %d",
			       p->topic, (int)p->partition);
		goto out;
	}
	*out = v == 0 ? (r->old_style_offsets_count > 0 ? r->old_style_offsets[0] : 0) : r->offset;
	rc = 0;
out:
	kp_arena_free(&arena);
	return rc;
}

/* Where `p` wants to start, given the log's start and end offsets; -1 on failure. */
static int wanted(kp_consumer *c, struct cpart *p, int64_t begin, int64_t end, int64_t *want,
		  kp_error *err)
{
	switch (p->whence) {
	case KP_SEEK_BEGINNING:
		*want = begin;
		return 0;
	case KP_SEEK_END:
		*want = end - p->value;
		return 0;
	case KP_SEEK_TIMESTAMP:
		if (list_offset(c, p, p->value, want, err) < 0)
			return -1;
		if (*want < 0) /* no record at or after that time */
			*want = end;
		return 0;
	case KP_SEEK_NONE:
		return kp_error_set(err, KP_ERANGE, "topic %s partition %d has no committed offset "
				    "to start from", p->topic, (int)p->partition);
	default:
		*want = p->value;
		return 0;
	}
}

int kp_consumer_resolve(kp_consumer *c, struct cpart *p, kp_error *err)
{
	int64_t begin, end, want = 0;

	if (list_offset(c, p, -2, &begin, err) < 0 || list_offset(c, p, -1, &end, err) < 0 ||
	    wanted(c, p, begin, end, &want, err) < 0)
		return -1;
	p->position = want < begin ? begin : want > end ? end : want;
	if (p->whence == KP_SEEK_OFFSET && p->position != want)
		kp_diag_warn("offset %lld is out of range for topic %s partition %d (log start offset %lld, "
			     "log end offset %lld); reading from offset %lld", (long long)want, p->topic,
			     (int)p->partition, (long long)begin, (long long)end, (long long)p->position);
	if (p->stop_at < 0)
		p->stop_at = end;
	if (p->position >= p->stop_at)
		p->at_end = true;
	return 0;
}
