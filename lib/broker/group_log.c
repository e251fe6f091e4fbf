/*
 * group_log.c - the group coordinator's state in __consumer_offsets, in
 * Kafka's record formats (group-coordinator's OffsetCommitKey/Value and
 * GroupMetadataKey/Value, lib/protocol/coordinator_gen.h): a record key is
 * an int16 key version (1: offset commit, 2: group metadata) and the key
 * struct; a value an int16 value version and the value struct; a null
 * value is a tombstone.
 *
 * A group lives in partition abs(String.hashCode(group id)) %
 * offsets.topic.num.partitions (Kafka's Utils.abs, i.e. & 0x7fffffff).
 * Writes go through kp_log_append of that partition, checked as Kafka's
 * append with acks=-1 (min.insync.replicas first), and a request is
 * answered once the partition's ISR has them (group_replicated.c). The
 * coordinator of a group is the leader of its partition: load_partition
 * replays one partition into lib/group (on one node every partition at
 * startup), unload_partition forgets its groups.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "broker/replica.h"
#include "protocol/coordinator_gen.h"
#include "record/records.h"
#include "util/diag.h"

#define OFFSETS_TOPIC "__consumer_offsets"
#define OFFSET_KEY_VERSION 1
#define OFFSET_VALUE_VERSION 3
#define OFFSET_VALUE_VERSION_EXPIRE 1 /* the one with expireTimestamp, as Kafka writes it */
#define GROUP_KEY_VERSION 2
#define GROUP_VALUE_VERSION 3

/* utf8_next - the next code point of s (invalid bytes read as themselves). */
static uint32_t utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = *p++;
	int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

	if (more)
		c &= 0x3f >> more;
	for (; more > 0 && (*p & 0xc0) == 0x80; more--)
		c = c << 6 | (*p++ & 0x3f);
	*s = p;
	return c;
}

int32_t kp_group_log_partition_for(const char *group_id, int32_t partitions)
{
	const unsigned char *s = (const unsigned char *)group_id;
	uint32_t h = 0;

	while (*s) {
		uint32_t c = utf8_next(&s);

		if (c >= 0x10000) { /* Java strings are UTF-16: a surrogate pair */
			c -= 0x10000;
			h = h * 31 + (0xd800 + (c >> 10));
			c = 0xdc00 + (c & 0x3ff);
		}
		h = h * 31 + c;
	}
	return (int32_t)((h & 0x7fffffff) % (uint32_t)partitions);
}

struct kp_topic *kp_group_log_topic(struct kp_broker *b, int16_t *error)
{
	struct kp_topic *t = kp_topics_find(b->topics, OFFSETS_TOPIC);

	*error = KP_ERR_NONE;
	if (t)
		return t;
	t = kp_broker_create_topic(b, OFFSETS_TOPIC, b->cfg.offsets_topic_partitions, error);
	if (!t)
		*error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	return t;
}

/* add - one record (value NULL: a tombstone) to bb. */
static int add(kp_batch_builder *bb, const kp_buf *key, const kp_buf *value, int64_t ts,
	       kp_error *err)
{
	struct kp_record r = {
		.timestamp = ts,
		.key = key->data, .key_len = (int32_t)key->len,
		.value = value ? value->data : NULL, .value_len = value ? (int32_t)value->len : -1,
	};

	return kp_batch_builder_add(bb, &r, err);
}

static int encode(const struct kp_msg_desc *d, int16_t version, const void *msg, kp_buf *out,
		  kp_error *err)
{
	kp_buf_put_i16(out, version);
	return kp_msg_encode(d, version, msg, out, err);
}

int kp_group_log_record(kp_batch_builder *bb, const struct kp_msg_desc *kd, int16_t kv,
			const void *key, const struct kp_msg_desc *vd, int16_t vv, const void *value,
			kp_error *err)
{
	kp_buf kb, vb;
	int rc;

	kp_buf_init(&kb);
	kp_buf_init(&vb);
	rc = encode(kd, kv, key, &kb, err);
	if (rc == 0 && value)
		rc = encode(vd, vv, value, &vb, err);
	if (rc == 0)
		rc = add(bb, &kb, value ? &vb : NULL, kp_broker_group_now(), err);
	kp_buf_free(&kb);
	kp_buf_free(&vb);
	return rc;
}

int kp_group_log_offset_record(kp_batch_builder *bb, const char *group_id, const char *topic,
			       int32_t partition, const struct kp_group_offset *o, kp_error *err)
{
	struct kp_offset_commit_key k = { (char *)group_id, (char *)topic, partition };
	struct kp_offset_commit_value v;
	int16_t vv = o && o->expire_timestamp > 0 ? OFFSET_VALUE_VERSION_EXPIRE : OFFSET_VALUE_VERSION;
	kp_buf kb, vb;
	int rc;

	kp_buf_init(&kb);
	kp_buf_init(&vb);
	kp_msg_init(&kp_offset_commit_value_desc, &v);
	if (o) {
		v.offset = o->offset;
		v.leader_epoch = o->leader_epoch;
		v.metadata = (char *)o->metadata;
		v.commit_timestamp = o->commit_timestamp;
		v.expire_timestamp = o->expire_timestamp > 0 ? o->expire_timestamp : -1;
	}
	rc = encode(&kp_offset_commit_key_desc, OFFSET_KEY_VERSION, &k, &kb, err);
	if (rc == 0 && o)
		rc = encode(&kp_offset_commit_value_desc, vv, &v, &vb, err);
	if (rc == 0)
		rc = add(bb, &kb, o ? &vb : NULL, kp_broker_group_now(), err);
	kp_buf_free(&kb);
	kp_buf_free(&vb);
	return rc;
}

/* group_record - group_id's GroupMetadata record; a tombstone when asked or the group is gone. */
static int group_record(struct kp_broker *b, kp_batch_builder *bb, const char *group_id,
			bool tombstone, kp_error *err)
{
	struct kp_group_metadata_key k = { (char *)group_id };
	struct kp_group_metadata_value v;
	struct kp_group_snapshot s = { 0 };
	bool exists = !tombstone && kp_group_snapshot_get(b->groups, group_id, &s);
	struct kp_group_metadata_value_member_metadata *ms = NULL;
	kp_buf kb, vb;
	int rc;

	kp_buf_init(&kb);
	kp_buf_init(&vb);
	rc = encode(&kp_group_metadata_key_desc, GROUP_KEY_VERSION, &k, &kb, err);
	if (rc == 0 && exists) {
		ms = calloc((size_t)(s.member_count ? s.member_count : 1), sizeof(*ms));
		if (!ms)
			rc = kp_error_set(err, KP_ENOMEM, "out of memory");
		kp_msg_init(&kp_group_metadata_value_desc, &v);
		v.protocol_type = (char *)s.protocol_type;
		v.generation = s.generation_id;
		v.protocol = (char *)s.protocol_name;
		v.leader = (char *)s.leader;
		v.current_state_timestamp = s.state_timestamp;
		for (int32_t i = 0; ms && i < s.member_count; i++) {
			const struct kp_group_snapshot_member *m = &s.members[i];

			ms[i] = (struct kp_group_metadata_value_member_metadata){
				(char *)m->member_id, (char *)m->group_instance_id, (char *)m->client_id,
				(char *)m->client_host, m->rebalance_timeout_ms, m->session_timeout_ms,
				{ m->subscription, (int32_t)m->subscription_len },
				{ m->assignment, (int32_t)m->assignment_len } };
		}
		v.members = ms;
		v.members_count = s.member_count;
		if (rc == 0)
			rc = encode(&kp_group_metadata_value_desc, GROUP_VALUE_VERSION, &v, &vb, err);
	}
	if (rc == 0)
		rc = add(bb, &kb, exists ? &vb : NULL, kp_broker_group_now(), err);
	free(ms);
	free(s.members);
	kp_buf_free(&kb);
	kp_buf_free(&vb);
	return rc;
}

/* write_to - group_id's partition of t, checked for a write (Kafka's append with acks=-1). */
static struct kp_partition *write_to(struct kp_broker *b, struct kp_topic *t, const char *group_id,
				     int16_t *error)
{
	struct kp_partition *p = kp_topic_partition(t, kp_group_log_partition_for(group_id,
										   t->partition_count));

	*error = KP_ERR_NONE;
	if (p && p->follower)
		*error = KP_ERR_NOT_COORDINATOR; /* a cluster: another broker leads the partition */
	else if (!p || !kp_partition_online(p))
		*error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	else if (p->isr_count < kp_replica_min_isr(b, t))
		*error = KP_ERR_COORDINATOR_NOT_AVAILABLE; /* NOT_ENOUGH_REPLICAS, normalized */
	return *error ? NULL : p;
}

int16_t kp_group_log_append(struct kp_broker *b, const char *group_id, kp_batch_builder *bb,
			    struct kp_group_write *w)
{
	int16_t error;
	struct kp_topic *t = kp_group_log_topic(b, &error);
	struct kp_partition *p = t ? write_to(b, t, group_id, &error) : NULL;
	int64_t last = -1;
	kp_buf out;
	kp_error err;

	if (!p)
		return error;
	if (kp_batch_builder_count(bb) > 0) {
		kp_buf_init(&out);
		if (kp_batch_builder_finish(bb, -1, &out, &err) < 0 ||
		    kp_log_append(p->log, out.data, out.len, p->leader_epoch, NULL, &last, NULL, &err) < 0) {
			kp_diag_error("cannot write group %s to %s-%d: %s", group_id, OFFSETS_TOPIC,
				      p->index, err.msg);
			kp_broker_log_failed(b, kp_log_dir(p->log), &err); /* KP_EIO: its dir goes offline */
			kp_buf_free(&out);
			return KP_ERR_COORDINATOR_NOT_AVAILABLE;
		}
		kp_buf_free(&out);
		kp_broker_wake_partition(b, t, p->index);
		kp_replica_maybe_advance_hw(b, t, p);
	}
	if (w)
		*w = (struct kp_group_write){ t->id, p->index, p->leader_epoch, last + 1 };
	return KP_ERR_NONE;
}

int16_t kp_group_log_tail(struct kp_broker *b, const char *group_id, struct kp_group_write *w)
{
	struct kp_topic *t = kp_topics_find(b->topics, OFFSETS_TOPIC); /* asks for nothing */
	struct kp_partition *p = t ? kp_topic_partition(t, kp_group_log_partition_for(
					     group_id, t->partition_count)) : NULL;

	if (!t)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (p && p->follower)
		return KP_ERR_NOT_COORDINATOR;
	if (!p || !kp_partition_online(p))
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	*w = (struct kp_group_write){ t->id, p->index, p->leader_epoch, kp_log_end_offset(p->log) };
	return KP_ERR_NONE;
}

kp_batch_builder *kp_group_log_builder(void)
{
	kp_error err;

	return kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, &err);
}

/* store - lib/group's hook: group_id became Stable or Empty. */
static void store(void *arg, const char *group_id)
{
	struct kp_broker *b = arg;
	kp_batch_builder *bb = kp_group_log_builder();
	kp_error err;

	if (!bb || group_record(b, bb, group_id, false, &err) < 0 ||
	    kp_group_log_append(b, group_id, bb, NULL) != KP_ERR_NONE)
		kp_diag_error("group %s: its metadata was not written", group_id);
	kp_batch_builder_free(bb);
}

/* removed - lib/group's hook: an offset expired or was deleted, or the group went. */
static void removed(void *arg, const char *group_id, const char *topic, int32_t partition)
{
	struct kp_broker *b = arg;
	kp_batch_builder *bb = kp_group_log_builder();
	kp_error err;
	int rc = -1;

	if (bb)
		rc = topic ? kp_group_log_offset_record(bb, group_id, topic, partition, NULL, &err)
			   : group_record(b, bb, group_id, true, &err);
	if (rc < 0 || kp_group_log_append(b, group_id, bb, NULL) != KP_ERR_NONE)
		kp_diag_error("group %s: a tombstone was not written", group_id);
	kp_batch_builder_free(bb);
}

void kp_group_log_hooks(struct kp_group_config *cfg)
{
	cfg->store = store;
	cfg->removed = removed;
	kp_group_log_consumer_hooks(cfg);
}
