/*
 * group_load_consumer.c - replay of consumer (KIP-848) group records
 * (key versions 3-8, group_log_consumer.c) into lib/group when a
 * __consumer_offsets partition is loaded. Topic ids are named through the
 * broker's topics; partitions of topics that no longer exist are dropped.
 */
#include <string.h>

#include "broker/internal.h"
#include "group/consumer_group.h"
#include "protocol/coordinator_gen.h"
#include "record/records.h"

typedef struct kp_consumer_group_current_member_assignment_value_topic_partitions cur_tp;

/* value - decode r's value (int16 version, then the struct) into out; 1, 0 for a tombstone, -1. */
static int value(const struct kp_record *r, const struct kp_msg_desc *d, kp_arena *a, void *out,
		 kp_error *err)
{
	kp_reader vr;
	int16_t vv;

	if (!r->value)
		return 0;
	kp_reader_init(&vr, r->value, (size_t)r->value_len);
	vv = kp_read_i16(&vr);
	if (vr.failed || vv < 0)
		return kp_error_set(err, KP_EPROTO, "consumer group record value version %d", vv);
	return kp_msg_decode(d, vv, &vr, a, out, err) < 0 ? -1 : 1;
}

/* names - topic-id partitions by topic name (in a). */
static struct kp_cg_topic_partitions *names(struct kp_broker *b, kp_arena *a, const cur_tp *tps,
					    int32_t n, int32_t *count)
{
	struct kp_cg_topic_partitions *out = kp_arena_alloc(a, ((size_t)n + 1) * sizeof(*out));

	*count = 0;
	for (int32_t i = 0; out && i < n; i++) {
		struct kp_topic *t = kp_topics_find_id(b->topics, &tps[i].topic_id);

		if (t)
			out[(*count)++] = (struct kp_cg_topic_partitions){
				t->name, tps[i].partitions, tps[i].partitions_count };
	}
	return out;
}

static int replay_member(struct kp_broker *b, kp_reader *kr, const struct kp_record *r,
			 kp_arena *a, int64_t now, kp_error *err)
{
	struct kp_consumer_group_member_metadata_key k;
	struct kp_consumer_group_member_metadata_value v;
	int rc;

	if (kp_msg_decode(&kp_consumer_group_member_metadata_key_desc, 5, kr, a, &k, err) < 0 ||
	    (rc = value(r, &kp_consumer_group_member_metadata_value_desc, a, &v, err)) < 0)
		return -1;
	struct kp_cg_member_record m = {
		k.member_id, v.instance_id, v.rack_id, v.client_id, v.client_host,
		v.rebalance_timeout_ms, (const char *const *)v.subscribed_topic_names,
		v.subscribed_topic_names_count > 0 ? v.subscribed_topic_names_count : 0,
		v.subscribed_topic_regex, v.server_assignor, false, 0, NULL, 0,
	};
	const struct kp_consumer_group_member_metadata_value_classic_member_metadata *c =
		&v.classic_member_metadata;

	if (rc && !v.classic_member_metadata_is_null) {
		int32_t n = c->supported_protocols_count > 0 ? c->supported_protocols_count : 0;
		struct kp_group_protocol *ps = kp_arena_alloc(a, ((size_t)n + 1) * sizeof(*ps));

		if (!ps)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		for (int32_t i = 0; i < n; i++)
			ps[i] = (struct kp_group_protocol){
				c->supported_protocols[i].name, c->supported_protocols[i].metadata.data,
				c->supported_protocols[i].metadata.len > 0
					? (size_t)c->supported_protocols[i].metadata.len : 0 };
		m.classic = true;
		m.classic_session_timeout_ms = c->session_timeout_ms;
		m.protocols = ps;
		m.protocol_count = n;
	}

	return kp_cg_restore_member(b->groups, k.group_id, k.member_id, rc ? &m : NULL, now);
}

static int replay_target(struct kp_broker *b, kp_reader *kr, const struct kp_record *r,
			 kp_arena *a, int64_t now, kp_error *err)
{
	struct kp_consumer_group_target_assignment_member_key k;
	struct kp_consumer_group_target_assignment_member_value v;
	struct kp_cg_topic_partitions *tps = NULL;
	int32_t n = 0;
	int rc;

	if (kp_msg_decode(&kp_consumer_group_target_assignment_member_key_desc, 7, kr, a, &k,
			  err) < 0 ||
	    (rc = value(r, &kp_consumer_group_target_assignment_member_value_desc, a, &v, err)) < 0)
		return -1;
	if (rc) {
		cur_tp *c = kp_arena_alloc(a, ((size_t)v.topic_partitions_count + 1) * sizeof(*c));

		for (int32_t i = 0; c && i < v.topic_partitions_count; i++)
			c[i] = (cur_tp){ v.topic_partitions[i].topic_id, v.topic_partitions[i].partitions,
					 v.topic_partitions[i].partitions_count };
		if (!c || !(tps = names(b, a, c, v.topic_partitions_count, &n)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	return kp_cg_restore_target(b->groups, k.group_id, k.member_id, tps, n, now);
}

static int replay_assignment(struct kp_broker *b, kp_reader *kr, const struct kp_record *r,
			     kp_arena *a, int64_t now, kp_error *err)
{
	struct kp_consumer_group_current_member_assignment_key k;
	struct kp_consumer_group_current_member_assignment_value v;
	struct kp_cg_assignment_record ar = { 0 };
	int rc;

	if (kp_msg_decode(&kp_consumer_group_current_member_assignment_key_desc, 8, kr, a, &k,
			  err) < 0 ||
	    (rc = value(r, &kp_consumer_group_current_member_assignment_value_desc, a, &v, err)) < 0)
		return -1;
	if (rc) {
		ar.member_id = k.member_id;
		ar.member_epoch = v.member_epoch;
		ar.previous_member_epoch = v.previous_member_epoch;
		ar.state = v.state >= 0 && v.state <= 2 ? (enum kp_cg_member_state)v.state
							  : KP_CG_UNKNOWN;
		ar.assigned = names(b, a, v.assigned_partitions, v.assigned_partitions_count,
				    &ar.assigned_count);
		ar.pending_revocation = names(b, a, v.partitions_pending_revocation,
					      v.partitions_pending_revocation_count,
					      &ar.pending_revocation_count);
		if (!ar.assigned || !ar.pending_revocation)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	return kp_cg_restore_assignment(b->groups, k.group_id, k.member_id, rc ? &ar : NULL, now);
}

/* replay_epoch - ConsumerGroupMetadata (3) or ConsumerGroupTargetAssignmentMetadata (6). */
static int replay_epoch(struct kp_broker *b, int16_t kv, kp_reader *kr, const struct kp_record *r,
			kp_arena *a, int64_t now, kp_error *err)
{
	struct kp_consumer_group_metadata_key k; /* both keys are {GroupId} */
	struct kp_consumer_group_metadata_value mv;
	struct kp_consumer_group_target_assignment_metadata_value tv;
	int rc;

	if (kp_msg_decode(kv == 3 ? &kp_consumer_group_metadata_key_desc
			  : &kp_consumer_group_target_assignment_metadata_key_desc, kv, kr, a, &k,
			  err) < 0)
		return -1;
	rc = kv == 3 ? value(r, &kp_consumer_group_metadata_value_desc, a, &mv, err)
		     : value(r, &kp_consumer_group_target_assignment_metadata_value_desc, a, &tv, err);
	if (rc < 0)
		return -1;
	return kp_cg_restore_epoch(b->groups, k.group_id, kv == 6,
				   rc == 0 ? -1 : kv == 3 ? mv.epoch : tv.assignment_epoch, now);
}

int kp_group_log_replay_consumer(struct kp_broker *b, int16_t kv, kp_reader *kr,
				 const struct kp_record *r, kp_arena *a, kp_error *err)
{
	int64_t now = kp_broker_group_now();
	int rc = 0;

	switch (kv) {
	case 3:
	case 6:
		rc = replay_epoch(b, kv, kr, r, a, now, err);
		break;
	case 5:
		rc = replay_member(b, kr, r, a, now, err);
		break;
	case 7:
		rc = replay_target(b, kr, r, a, now, err);
		break;
	case 8:
		rc = replay_assignment(b, kr, r, a, now, err);
		break;
	default: /* 4: partition metadata, recomputed from the topics instead */
		break;
	}
	if (rc < 0 && !err->msg[0])
		kp_error_set(err, KP_ENOMEM, "out of memory");
	return rc;
}
