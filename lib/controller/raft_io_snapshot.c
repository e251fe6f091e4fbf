/*
 * raft_io_snapshot.c - FetchSnapshot (KIP-630) on the wire both ways, as
 * KafkaRaftClient builds it (RaftUtil.singletonFetchSnapshotRequest and
 * the response): topic __cluster_metadata partition 0, the snapshot id,
 * the position, and the chunk as UnalignedRecords (raw file bytes, not
 * batch-aligned).
 */
#include <string.h>

#include "controller/raft_node_internal.h"
#include "util/diag.h"

#define FETCH_SNAPSHOT_VERSION 1
#define FETCH_SNAPSHOT_MAX_BYTES 0x7fffffff

int kp_rn_send_fetch_snapshot(struct kp_raft_node *c, kp_outconn *oc, struct kp_rn_sent *p,
			      const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_fetch_snapshot_request req;
	struct kp_fetch_snapshot_request_topic_snapshot t;
	struct kp_fetch_snapshot_request_partition_snapshot d;

	kp_fetch_snapshot_request_init(&req);
	kp_fetch_snapshot_request_topic_snapshot_init(&t);
	kp_fetch_snapshot_request_partition_snapshot_init(&d);
	d.partition = 0;
	d.current_leader_epoch = m->epoch;
	d.snapshot_id.end_offset = m->u.fetch_snapshot.id.end_offset;
	d.snapshot_id.epoch = m->u.fetch_snapshot.id.epoch;
	d.position = m->u.fetch_snapshot.position;
	t.name = (char *)KP_METADATA_TOPIC;
	t.partitions = &d;
	t.partitions_count = 1;
	req.cluster_id = c->cfg.cluster_id[0] ? c->cfg.cluster_id : NULL;
	req.replica_id = m->from;
	req.max_bytes = FETCH_SNAPSHOT_MAX_BYTES;
	req.topics = &t;
	req.topics_count = 1;
	return kp_outconn_send(oc, KP_API_FETCH_SNAPSHOT, FETCH_SNAPSHOT_VERSION, &req,
			       c->cfg.request_timeout_ms, kp_rn_on_response, p, err);
}

int kp_rn_fetch_snapshot_msg(const struct kp_rn_sent *p, const void *resp, struct kp_raft_msg *m)
{
	const struct kp_fetch_snapshot_response *r = resp;

	m->type = KP_RAFT_FETCH_SNAPSHOT_RESP;
	if (r->error_code || r->topics_count != 1 || r->topics[0].partitions_count != 1)
		return -1;
	const struct kp_fetch_snapshot_response_partition_snapshot *d = &r->topics[0].partitions[0];

	m->error = d->error_code;
	m->epoch = d->current_leader.leader_epoch >= 0 ? d->current_leader.leader_epoch : p->epoch;
	m->leader_id = d->current_leader.leader_id;
	m->u.fetch_snapshot_resp.id.end_offset = d->snapshot_id.end_offset;
	m->u.fetch_snapshot_resp.id.epoch = d->snapshot_id.epoch;
	m->u.fetch_snapshot_resp.size = d->size;
	m->u.fetch_snapshot_resp.position = d->position;
	m->u.fetch_snapshot_resp.data = d->unaligned_records.data;
	m->u.fetch_snapshot_resp.len = d->unaligned_records.len > 0
					       ? (size_t)d->unaligned_records.len : 0;
	return 0;
}

int kp_rn_respond_fetch_snapshot(struct kp_ctl_request *rq, const struct kp_raft_msg *m)
{
	struct kp_fetch_snapshot_response *r = kp_fetch_snapshot_response_new(&rq->arena, 1);
	struct kp_fetch_snapshot_response_topic_snapshot *t =
		kp_fetch_snapshot_response_topic_snapshot_new(&rq->arena, 1);
	struct kp_fetch_snapshot_response_partition_snapshot *d =
		kp_fetch_snapshot_response_partition_snapshot_new(&rq->arena, 1);
	size_t len = m->u.fetch_snapshot_resp.len;

	if (!r || !t || !d)
		return -1;
	d->index = 0;
	d->error_code = m->error;
	d->snapshot_id.end_offset = m->u.fetch_snapshot_resp.id.end_offset;
	d->snapshot_id.epoch = m->u.fetch_snapshot_resp.id.epoch;
	d->current_leader.leader_id = m->leader_id;
	d->current_leader.leader_epoch = m->epoch;
	d->size = m->u.fetch_snapshot_resp.size;
	d->position = m->u.fetch_snapshot_resp.position;
	d->unaligned_records.len = (int32_t)len;
	d->unaligned_records.data = len ? kp_arena_memdup(&rq->arena, m->u.fetch_snapshot_resp.data,
							  len) : NULL;
	if (len && !d->unaligned_records.data)
		return -1;
	t->name = (char *)KP_METADATA_TOPIC;
	t->partitions = d;
	t->partitions_count = 1;
	r->topics = t;
	r->topics_count = 1;
	kp_ctl_respond(rq, r);
	return 0;
}
