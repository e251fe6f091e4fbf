/*
 * group_log_consumer.c - consumer (KIP-848) groups in __consumer_offsets,
 * in Kafka's record formats (../shared/kafka-protocol/coordinator/):
 *
 *   key version  key                                   value
 *   3            ConsumerGroupMetadataKey(group)        {Epoch}: the group epoch
 *   4            ConsumerGroupPartitionMetadataKey      (read and ignored; tombstoned)
 *   5            ConsumerGroupMemberMetadataKey(g, m)   subscription, client, rack
 *   6            ConsumerGroupTargetAssignmentMetadata  {AssignmentEpoch}
 *   7            ConsumerGroupTargetAssignmentMember    target partitions by topic id
 *   8            ConsumerGroupCurrentMemberAssignment   epochs, state, assigned and
 *                                                      pending revocation partitions
 *
 * Every change of a group writes its whole state (one batch: metadata,
 * then per member its metadata, target and current assignment); a member
 * that leaves gets tombstones for its three keys; a group that stops
 * being a consumer group gets tombstones for its group keys. Replay
 * applies the records in log order (consumer_group.h, kp_cg_restore_*).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "group/consumer_group.h"
#include "protocol/coordinator_gen.h"
#include "record/records.h"
#include "util/diag.h"

#define KV_METADATA 3
#define KV_PARTITION_METADATA 4
#define KV_MEMBER 5
#define KV_TARGET_METADATA 6
#define KV_TARGET_MEMBER 7
#define KV_CURRENT_ASSIGNMENT 8

typedef struct kp_consumer_group_current_member_assignment_value_topic_partitions cur_tp;
typedef struct kp_consumer_group_target_assignment_member_value_topic_partition tgt_tp;

struct writer {
	struct kp_broker *b;
	const char *group_id;
	kp_batch_builder *bb;
	kp_arena arena;
	kp_error err;
	int rc;
};

/* ids - tps by topic id in w's arena (unknown topics left out): *n entries. */
static cur_tp *ids(struct writer *w, const struct kp_cg_topic_partitions *tps, int32_t count,
		   int32_t *n)
{
	cur_tp *out = kp_arena_alloc(&w->arena, ((size_t)count + 1) * sizeof(*out));

	*n = 0;
	for (int32_t i = 0; out && i < count; i++) {
		struct kp_topic *t = kp_topics_find(w->b->topics, tps[i].topic);

		if (!t)
			continue;
		out[*n] = (cur_tp){ t->id, (int32_t *)tps[i].partitions, tps[i].count };
		(*n)++;
	}
	if (!out)
		w->rc = kp_error_set(&w->err, KP_ENOMEM, "out of memory");
	return out;
}

static void put(struct writer *w, const struct kp_msg_desc *kd, int16_t kv, const void *key,
		const struct kp_msg_desc *vd, const void *value)
{
	if (w->rc == 0)
		w->rc = kp_group_log_record(w->bb, kd, kv, key, vd, 0, value, &w->err);
}

static void on_epochs(void *arg, int32_t group_epoch, int32_t assignment_epoch)
{
	struct writer *w = arg;
	struct kp_consumer_group_metadata_key mk = { (char *)w->group_id };
	struct kp_consumer_group_metadata_value mv = { group_epoch };
	struct kp_consumer_group_target_assignment_metadata_key tk = { (char *)w->group_id };
	struct kp_consumer_group_target_assignment_metadata_value tv = { assignment_epoch };

	put(w, &kp_consumer_group_metadata_key_desc, KV_METADATA, &mk,
	    &kp_consumer_group_metadata_value_desc, &mv);
	put(w, &kp_consumer_group_target_assignment_metadata_key_desc, KV_TARGET_METADATA, &tk,
	    &kp_consumer_group_target_assignment_metadata_value_desc, &tv);
}

static void on_member(void *arg, const struct kp_cg_member_record *m)
{
	struct writer *w = arg;
	struct kp_consumer_group_member_metadata_key k = { (char *)w->group_id, (char *)m->member_id };
	struct kp_consumer_group_member_metadata_value v;

	kp_consumer_group_member_metadata_value_init(&v);
	v.instance_id = (char *)m->instance_id;
	v.rack_id = (char *)m->rack_id;
	v.client_id = (char *)(m->client_id ? m->client_id : "");
	v.client_host = (char *)(m->client_host ? m->client_host : "");
	v.subscribed_topic_names = (char **)m->topics;
	v.subscribed_topic_names_count = m->topic_count;
	v.subscribed_topic_regex = (char *)m->regex;
	v.rebalance_timeout_ms = m->rebalance_timeout_ms;
	v.server_assignor = (char *)m->server_assignor;
	if (m->classic) {
		struct kp_consumer_group_member_metadata_value_classic_protocol *ps =
			kp_arena_alloc(&w->arena, ((size_t)m->protocol_count + 1) * sizeof(*ps));

		for (int32_t i = 0; ps && i < m->protocol_count; i++)
			ps[i] = (struct kp_consumer_group_member_metadata_value_classic_protocol){
				(char *)m->protocols[i].name,
				{ m->protocols[i].metadata, (int32_t)m->protocols[i].metadata_len } };
		v.classic_member_metadata_is_null = false;
		v.classic_member_metadata.session_timeout_ms = m->classic_session_timeout_ms;
		v.classic_member_metadata.supported_protocols = ps;
		v.classic_member_metadata.supported_protocols_count = ps ? m->protocol_count : 0;
	}
	put(w, &kp_consumer_group_member_metadata_key_desc, KV_MEMBER, &k,
	    &kp_consumer_group_member_metadata_value_desc, &v);
}

static void on_target(void *arg, const char *member_id, const struct kp_cg_topic_partitions *tps,
		      int32_t count)
{
	struct writer *w = arg;
	struct kp_consumer_group_target_assignment_member_key k = { (char *)w->group_id,
								    (char *)member_id };
	struct kp_consumer_group_target_assignment_member_value v;
	int32_t n;
	cur_tp *c = ids(w, tps, count, &n);
	tgt_tp *t = kp_arena_alloc(&w->arena, ((size_t)n + 1) * sizeof(*t));

	if (!c || !t)
		return;
	for (int32_t i = 0; i < n; i++)
		t[i] = (tgt_tp){ c[i].topic_id, c[i].partitions, c[i].partitions_count };
	v.topic_partitions = t;
	v.topic_partitions_count = n;
	put(w, &kp_consumer_group_target_assignment_member_key_desc, KV_TARGET_MEMBER, &k,
	    &kp_consumer_group_target_assignment_member_value_desc, &v);
}

static void on_assignment(void *arg, const struct kp_cg_assignment_record *a)
{
	struct writer *w = arg;
	struct kp_consumer_group_current_member_assignment_key k = { (char *)w->group_id,
								     (char *)a->member_id };
	struct kp_consumer_group_current_member_assignment_value v = {
		a->member_epoch, a->previous_member_epoch, (int8_t)a->state, NULL, 0, NULL, 0,
	};

	v.assigned_partitions = ids(w, a->assigned, a->assigned_count, &v.assigned_partitions_count);
	v.partitions_pending_revocation = ids(w, a->pending_revocation, a->pending_revocation_count,
					      &v.partitions_pending_revocation_count);
	put(w, &kp_consumer_group_current_member_assignment_key_desc, KV_CURRENT_ASSIGNMENT, &k,
	    &kp_consumer_group_current_member_assignment_value_desc, &v);
}

/* group_tombstones - the group-level keys of a group that is no longer a consumer group. */
static void group_tombstones(struct writer *w)
{
	struct kp_consumer_group_metadata_key mk = { (char *)w->group_id };
	struct kp_consumer_group_partition_metadata_key pk = { (char *)w->group_id };
	struct kp_consumer_group_target_assignment_metadata_key tk = { (char *)w->group_id };

	put(w, &kp_consumer_group_partition_metadata_key_desc, KV_PARTITION_METADATA, &pk, NULL,
	    NULL);
	put(w, &kp_consumer_group_target_assignment_metadata_key_desc, KV_TARGET_METADATA, &tk, NULL,
	    NULL);
	put(w, &kp_consumer_group_metadata_key_desc, KV_METADATA, &mk, NULL, NULL);
}

static void writer_finish(struct writer *w, const char *what)
{
	if (w->rc == 0 && w->bb &&
	    kp_group_log_append(w->b, w->group_id, w->bb, NULL) != KP_ERR_NONE)
		w->rc = -1;
	if (w->rc < 0 || !w->bb)
		kp_diag_error("group %s: %s not written%s%s", w->group_id, what,
			      w->err.msg[0] ? ": " : "", w->err.msg);
	kp_batch_builder_free(w->bb);
	kp_arena_free(&w->arena);
}

static void writer_init(struct writer *w, struct kp_broker *b, const char *group_id)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->group_id = group_id;
	w->bb = kp_group_log_builder();
	kp_arena_init(&w->arena);
	if (!w->bb)
		w->rc = -1;
}

/* cstore - lib/group's hook: group_id's consumer group changed (or went). */
static void cstore(void *arg, const char *group_id)
{
	struct writer w;
	struct kp_cg_record_visitor v = { &w, on_epochs, on_member, on_target, on_assignment };

	writer_init(&w, arg, group_id);
	if (w.rc == 0 && !kp_cg_each_record(((struct kp_broker *)arg)->groups, group_id, &v))
		group_tombstones(&w);
	writer_finish(&w, "its consumer group state was");
}

/* cremoved_member - lib/group's hook: member_id left group_id. */
static void cremoved_member(void *arg, const char *group_id, const char *member_id)
{
	struct writer w;
	struct kp_consumer_group_member_metadata_key mk = { (char *)group_id, (char *)member_id };
	struct kp_consumer_group_target_assignment_member_key tk = { (char *)group_id,
								     (char *)member_id };
	struct kp_consumer_group_current_member_assignment_key ck = { (char *)group_id,
								      (char *)member_id };

	writer_init(&w, arg, group_id);
	put(&w, &kp_consumer_group_current_member_assignment_key_desc, KV_CURRENT_ASSIGNMENT, &ck,
	    NULL, NULL);
	put(&w, &kp_consumer_group_target_assignment_member_key_desc, KV_TARGET_MEMBER, &tk, NULL,
	    NULL);
	put(&w, &kp_consumer_group_member_metadata_key_desc, KV_MEMBER, &mk, NULL, NULL);
	writer_finish(&w, "a member's tombstones were");
}

void kp_group_log_consumer_hooks(struct kp_group_config *cfg)
{
	cfg->cstore = cstore;
	cfg->cremoved_member = cremoved_member;
}
