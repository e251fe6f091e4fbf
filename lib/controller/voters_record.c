/*
 * voters_record.c - VotersRecord control batches (KIP-853) written and
 * read; see voters_record.h.
 */
#include "controller/voters_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "protocol/codec.h"
#include "record/batch.h"
#include "record/records.h"
#include "util/arena.h"
#include "util/clock.h"

/* voters_value - the VotersRecord of `set` encoded (version 0) into `out`. */
static int voters_value(const struct kp_voter_set *set, const char *listener, kp_buf *out,
			kp_error *err)
{
	struct kp_voters_record m;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	kp_voters_record_init(&m);
	m.version = 0;
	m.voters = kp_voters_record_voter_new(&a, (size_t)set->n);
	struct kp_voters_record_endpoint *ep = kp_voters_record_endpoint_new(&a, (size_t)set->n);

	if (!m.voters || !ep) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	m.voters_count = set->n;
	for (int i = 0; i < set->n; i++) {
		m.voters[i].voter_id = set->v[i].id;
		ep[i].name = (char *)listener;
		ep[i].host = (char *)set->v[i].host;
		ep[i].port = (uint16_t)set->v[i].port;
		m.voters[i].endpoints = &ep[i];
		m.voters[i].endpoints_count = set->v[i].port > 0 ? 1 : 0;
		m.voters[i].kraft_version_feature.min_supported_version = 0;
		m.voters[i].kraft_version_feature.max_supported_version = 1;
	}
	rc = kp_msg_encode(&kp_voters_record_desc, 0, &m, out, err);
out:
	kp_arena_free(&a);
	return rc;
}

/* add_control - one control record (key version 0, `type`) holding `value` to `b`. */
static int add_control(kp_batch_builder *b, int type, const kp_buf *value, kp_error *err)
{
	uint8_t key[4] = { 0, 0, 0, (uint8_t)type };
	struct kp_record rec = {
		.timestamp = kp_wall_ms(), .key = key, .key_len = 4,
		.value = value->data, .value_len = (int32_t)value->len,
	};

	return kp_batch_builder_add(b, &rec, err);
}

int kp_control_batch(const int *types, const kp_buf *values, int n, int32_t epoch, kp_buf *out,
		     kp_error *err)
{
	kp_batch_builder *b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, err);
	size_t at = out->len;
	int rc = -1;

	if (!b)
		return -1;
	for (int i = 0; i < n; i++)
		if (add_control(b, types[i], &values[i], err) < 0)
			goto out;
	if (kp_batch_builder_finish(b, -1, out, err) < 0)
		goto out;
	kp_batch_set_partition_leader_epoch(out->data + at, epoch);
	kp_batch_set_control(out->data + at, out->len - at);
	rc = 0;
out:
	kp_batch_builder_free(b);
	return rc;
}

int kp_voters_record_batch(const struct kp_voter_set *set, const char *listener, int32_t epoch,
			   bool kraft_version, kp_buf *out, kp_error *err)
{
	static const int types[2] = { KP_CONTROL_KRAFT_VERSION, KP_CONTROL_KRAFT_VOTERS };
	struct kp_kraft_version_record kv;
	kp_buf values[2]; /* KRaftVersionRecord, VotersRecord */
	int first = kraft_version ? 0 : 1, rc = -1;

	kp_buf_init(&values[0]);
	kp_buf_init(&values[1]);
	kp_kraft_version_record_init(&kv);
	kv.kraft_version = 1;
	if (kp_msg_encode(&kp_kraft_version_record_desc, 0, &kv, &values[0], err) < 0 ||
	    voters_value(set, listener, &values[1], err) < 0)
		goto out;
	rc = kp_control_batch(types + first, values + first, 2 - first, epoch, out, err);
out:
	kp_buf_free(&values[0]);
	kp_buf_free(&values[1]);
	return rc;
}

/* decode_voters - a VotersRecord value into *out. */
static int decode_voters(const struct kp_record *r, struct kp_voter_set *out, kp_error *err)
{
	struct kp_voters_record m;
	kp_reader rd;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	kp_reader_init(&rd, r->value, (size_t)r->value_len);
	if (kp_msg_decode(&kp_voters_record_desc, 0, &rd, &a, &m, err) < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < m.voters_count && out->n < KP_RAFT_MAX_VOTERS; i++) {
		struct kp_raft_node_voter *v = &out->v[out->n++];

		v->id = m.voters[i].voter_id;
		if (m.voters[i].endpoints_count > 0 && m.voters[i].endpoints[0].host) {
			snprintf(v->host, sizeof(v->host), "%s", m.voters[i].endpoints[0].host);
			v->port = m.voters[i].endpoints[0].port;
		}
	}
	rc = 1;
out:
	kp_arena_free(&a);
	return rc;
}

int kp_voters_record_parse(const uint8_t *p, size_t len, struct kp_voter_set *out,
			   kp_error *err)
{
	struct kp_batch_header h;
	struct kp_record r;

	if (kp_batch_header_parse(p, len, &h, NULL) < 0 || !(h.attributes & KP_BATCH_CONTROL) ||
	    (h.attributes & KP_BATCH_COMPRESSION_MASK) != KP_COMPRESSION_NONE)
		return 0;
	size_t size = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;
	const uint8_t *q = p + KP_BATCH_HEADER_SIZE, *end = p + (size < len ? size : len);

	for (int32_t i = 0; i < h.record_count; i++) {
		if (!kp_batch_control_record_next(&q, end, &r))
			return kp_error_set(err, KP_EPROTO, "malformed control record at %lld",
					    (long long)h.base_offset + i);
		if (r.key_len >= 4 && kp_load_u16(r.key + 2) == KP_CONTROL_KRAFT_VOTERS)
			return decode_voters(&r, out, err);
	}
	return 0;
}

int kp_voter_set_ids(const struct kp_voter_set *set, int32_t *ids)
{
	for (int i = 0; i < set->n; i++)
		ids[i] = set->v[i].id;
	return set->n;
}
