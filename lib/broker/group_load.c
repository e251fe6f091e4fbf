/*
 * group_load.c - the coordinator's load_partition / unload_partition: a
 * __consumer_offsets partition's log replayed into lib/group when this
 * broker becomes its leader (the metadata image says so: group_cluster.c),
 * and its groups forgotten when it stops leading it. Records are applied
 * in log order, the last one of a key winning and a tombstone removing
 * (what compaction would leave). Unknown key versions (other coordinators'
 * records, e.g. KIP-848's) are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "protocol/coordinator_gen.h"
#include "record/records.h"
#include "util/diag.h"

#define REPLAY_CHUNK (1 << 20)

/* replay_offset - an OffsetCommit record (key versions 0 and 1). */
static int replay_offset(struct kp_broker *b, kp_reader *kr, int16_t kv, const struct kp_record *r,
			 kp_arena *a, kp_error *err)
{
	struct kp_offset_commit_key k;
	struct kp_offset_commit_value v;
	struct kp_group_offset o;
	kp_reader vr;
	int64_t now = kp_broker_group_now();

	if (kp_msg_decode(&kp_offset_commit_key_desc, kv, kr, a, &k, err) < 0)
		return -1;
	if (!r->value)
		return kp_group_restore_offset(b->groups, k.group, k.topic, k.partition, NULL, now) < 0
			? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
	kp_reader_init(&vr, r->value, (size_t)r->value_len);
	int16_t vv = kp_read_i16(&vr);

	if (vr.failed || vv < 0 || vv > 4)
		return kp_error_set(err, KP_EPROTO, "offset commit value version %d", vv);
	if (kp_msg_decode(&kp_offset_commit_value_desc, vv, &vr, a, &v, err) < 0)
		return -1;
	o = (struct kp_group_offset){ v.offset, vv >= 3 ? v.leader_epoch : -1,
				      v.metadata ? v.metadata : "", v.commit_timestamp,
				      vv == 1 ? v.expire_timestamp : -1 };
	return kp_group_restore_offset(b->groups, k.group, k.topic, k.partition, &o, now) < 0
		? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
}

/* replay_group - a GroupMetadata record (key version 2). */
static int replay_group(struct kp_broker *b, kp_reader *kr, const struct kp_record *r, kp_arena *a,
			kp_error *err)
{
	struct kp_group_metadata_key k;
	struct kp_group_metadata_value v;
	struct kp_group_snapshot s = { 0 };
	struct kp_group_snapshot_member *ms;
	kp_reader vr;
	int rc;

	if (kp_msg_decode(&kp_group_metadata_key_desc, 2, kr, a, &k, err) < 0)
		return -1;
	if (!r->value)
		return kp_group_restore(b->groups, k.group, NULL, kp_broker_group_now()) < 0
			? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
	kp_reader_init(&vr, r->value, (size_t)r->value_len);
	int16_t vv = kp_read_i16(&vr);

	if (vr.failed || vv < 0 || vv > 4)
		return kp_error_set(err, KP_EPROTO, "group metadata value version %d", vv);
	if (kp_msg_decode(&kp_group_metadata_value_desc, vv, &vr, a, &v, err) < 0)
		return -1;
	ms = calloc((size_t)(v.members_count > 0 ? v.members_count : 1), sizeof(*ms));
	if (!ms)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < v.members_count; i++) {
		const struct kp_group_metadata_value_member_metadata *m = &v.members[i];

		ms[i] = (struct kp_group_snapshot_member){
			m->member_id, m->group_instance_id, m->client_id, m->client_host,
			m->rebalance_timeout, m->session_timeout,
			m->subscription.data, m->subscription.len > 0 ? (size_t)m->subscription.len : 0,
			m->assignment.data, m->assignment.len > 0 ? (size_t)m->assignment.len : 0 };
	}
	s = (struct kp_group_snapshot){ k.group, v.protocol_type ? v.protocol_type : "", v.protocol,
					v.leader, v.generation, v.current_state_timestamp, ms,
					v.members_count > 0 ? v.members_count : 0 };
	rc = kp_group_restore(b->groups, k.group, &s, kp_broker_group_now());
	free(ms);
	return rc < 0 ? kp_error_set(err, KP_ENOMEM, "out of memory") : 0;
}

static int replay_record(struct kp_broker *b, const struct kp_record *r, kp_error *err)
{
	kp_arena a;
	kp_reader kr;
	int rc = 0;

	if (!r->key || r->key_len < 2)
		return 0;
	kp_arena_init(&a);
	kp_reader_init(&kr, r->key, (size_t)r->key_len);
	int16_t kv = kp_read_i16(&kr);

	if (kv == 0 || kv == 1)
		rc = replay_offset(b, &kr, kv, r, &a, err);
	else if (kv == 2)
		rc = replay_group(b, &kr, r, &a, err);
	else if (kv >= 3 && kv <= 8)
		rc = kp_group_log_replay_consumer(b, kv, &kr, r, &a, err);
	kp_arena_free(&a);
	return rc;
}

int kp_group_log_load_partition(struct kp_broker *b, int32_t partition, kp_error *err)
{
	struct kp_topic *t = kp_topics_find(b->topics, "__consumer_offsets");
	struct kp_partition *p = kp_topic_partition(t, partition);
	int64_t off, end, n = 0;
	kp_buf buf;
	int rc = 0;

	if (!p || !kp_partition_online(p))
		return 0;
	off = kp_log_start_offset(p->log);
	end = kp_log_end_offset(p->log);
	kp_buf_init(&buf);
	while (off < end && rc == 0) {
		kp_record_iter *it;
		struct kp_record r;

		buf.len = 0;
		if ((rc = kp_log_read(p->log, off, end, REPLAY_CHUNK, &buf, err)) < 0 || buf.len == 0)
			break;
		if (!(it = kp_record_iter_new(buf.data, buf.len, off))) {
			rc = kp_error_set(err, KP_ENOMEM, "out of memory");
			break;
		}
		while (rc == 0 && (rc = kp_record_iter_next(it, &r, err)) == 1) {
			rc = replay_record(b, &r, err);
			n++;
		}
		int64_t next = kp_record_iter_next_offset(it);

		kp_record_iter_free(it);
		if (rc < 0 || next <= off)
			break;
		off = next;
	}
	kp_buf_free(&buf);
	if (rc < 0)
		return -1;
	if (n)
		kp_diag_debug("loaded %lld group record(s) from __consumer_offsets-%d", (long long)n,
			      partition);
	return 0;
}

/* in_partition - whether a group id maps to partition (*(int32_t[2]){partition, count}). */
static bool in_partition(void *arg, const char *group_id)
{
	const int32_t *pc = arg;

	return kp_group_log_partition_for(group_id, pc[1]) == pc[0];
}

void kp_group_log_unload_partition(struct kp_broker *b, int32_t partition)
{
	struct kp_topic *t = kp_topics_find(b->topics, "__consumer_offsets");
	int32_t pc[2] = { partition, t ? t->partition_count : 1 };

	kp_group_unload(b->groups, in_partition, pc);
}
