/*
 * metadata_log.c - the metadata partition's log and leader-epoch cache;
 * see metadata_log.h.
 *
 * The epoch cache is Kafka's LeaderEpochFileCache kept in memory: one
 * (epoch, start offset) pair per epoch that wrote entries, in increasing
 * order, rebuilt from the batches on open instead of a checkpoint file
 * (the metadata log is small; snapshots will bound it).
 */
#include "controller/metadata_log_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "protocol/codec.h"
#include "record/records.h"
#include "util/clock.h"

#define READ_MAX_BYTES (1 << 20) /* bytes of batches a read returns (the first batch always whole) */
#define CONTROL_TYPE_LEADER_CHANGE 2 /* Kafka's ControlRecordType.LEADER_CHANGE */

int kp_mlog__epoch_note(kp_mlog *l, int32_t epoch, int64_t start)
{
	if (l->n_epochs && l->epochs[l->n_epochs - 1].epoch >= epoch)
		return 0;
	if (l->n_epochs == l->cap_epochs) {
		size_t cap = l->cap_epochs ? 2 * l->cap_epochs : 16;
		struct epoch_start *p = realloc(l->epochs, cap * sizeof(*p));

		if (!p)
			return kp_error_set(&l->err, KP_ENOMEM, "out of memory");
		l->epochs = p;
		l->cap_epochs = cap;
	}
	l->epochs[l->n_epochs++] = (struct epoch_start){ epoch, start };
	return 0;
}

/* rebuild_epochs - read every batch of the log once, noting each epoch's first offset. */
static int rebuild_epochs(kp_mlog *l, kp_error *err)
{
	int64_t off = kp_log_start_offset(l->log), end = kp_log_end_offset(l->log);
	struct kp_batch_header h;

	while (off < end) {
		kp_buf_reset(&l->rbuf);
		if (kp_log_read(l->log, off, INT64_MAX, READ_MAX_BYTES, &l->rbuf, err) < 0)
			return -1;
		if (l->rbuf.len == 0)
			break;
		for (size_t pos = 0; pos + KP_BATCH_HEADER_SIZE <= l->rbuf.len;) {
			if (kp_batch_header_parse(l->rbuf.data + pos, l->rbuf.len - pos, &h, err) < 0)
				return -1;
			size_t size = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;

			if (pos + size > l->rbuf.len)
				break;
			if (kp_mlog__epoch_note(l, h.partition_leader_epoch, h.base_offset) < 0 ||
			    kp_mlog__note_batch(l, h.base_offset, l->rbuf.data + pos, size) < 0)
				return kp_error_set(err, KP_ENOMEM, "out of memory");
			off = h.base_offset + h.last_offset_delta + 1;
			pos += size;
		}
	}
	return 0;
}

int kp_mlog_open(const char *dir, int32_t node_id, const int32_t *voters, int n_voters,
		 int64_t segment_bytes, kp_mlog **out, kp_error *err)
{
	struct kp_log_config cfg;
	kp_mlog *l = calloc(1, sizeof(*l));

	if (!l)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	kp_buf_init(&l->rbuf);
	kp_buf_init(&l->wbuf);
	l->node_id = node_id;
	if (n_voters > KP_RAFT_MAX_VOTERS)
		n_voters = KP_RAFT_MAX_VOTERS;
	memcpy(l->voters, voters, sizeof(*voters) * (size_t)n_voters);
	l->n_voters = n_voters;
	snprintf(l->dir, sizeof(l->dir), "%s/%s-0", dir, KP_METADATA_TOPIC);
	kp_log_config_default(&cfg);
	cfg.producer_state = false; /* control and metadata batches: no producers */
	cfg.persist_start = false;  /* the snapshot the log follows says where it starts */
	if (segment_bytes > 0)
		cfg.segment_bytes = segment_bytes;
	if (kp_log_open(l->dir, &cfg, &l->log, err) < 0 || rebuild_epochs(l, err) < 0) {
		kp_mlog_close(l);
		return -1;
	}
	*out = l;
	return 0;
}

void kp_mlog_close(kp_mlog *l)
{
	if (!l)
		return;
	kp_log_close(l->log);
	free(l->epochs);
	free(l->vrecs);
	kp_buf_free(&l->rbuf);
	kp_buf_free(&l->wbuf);
	free(l);
}

void kp_mlog_set_granting(kp_mlog *l, const int32_t *ids, int n)
{
	if (n > KP_RAFT_MAX_VOTERS)
		n = KP_RAFT_MAX_VOTERS;
	memcpy(l->granting, ids, sizeof(*ids) * (size_t)n);
	l->n_granting = n;
}

const kp_error *kp_mlog_error(const kp_mlog *l)
{
	return &l->err;
}

int64_t kp_mlog_end_offset(void *opaque)
{
	return kp_log_end_offset(((kp_mlog *)opaque)->log);
}

int32_t kp_mlog_last_epoch(void *opaque)
{
	const kp_mlog *l = opaque;

	return l->n_epochs ? l->epochs[l->n_epochs - 1].epoch : l->snap_end ? l->snap_epoch : 0;
}

void kp_mlog_end_offset_for_epoch(void *opaque, int32_t epoch, int32_t *found, int64_t *end)
{
	const kp_mlog *l = opaque;
	size_t i = l->n_epochs;

	while (i > 0 && l->epochs[i - 1].epoch > epoch)
		i--;
	if (i == 0 && l->snap_end && l->snap_epoch <= epoch) { /* the snapshot counts */
		*found = l->snap_epoch;
		*end = l->n_epochs ? l->epochs[0].start : kp_log_end_offset(l->log);
		return;
	}
	if (i == 0) {
		*found = -1;
		*end = 0;
		return;
	}
	*found = l->epochs[i - 1].epoch;
	*end = i < l->n_epochs ? l->epochs[i].start : kp_log_end_offset(l->log);
}

/* voters_array - `ids` as LeaderChangeMessage voters in `a`; NULL when out of memory. */
static struct kp_leader_change_message_voter *voters_array(kp_arena *a, const int32_t *ids, int n)
{
	struct kp_leader_change_message_voter *v = kp_leader_change_message_voter_new(a, (size_t)n);

	for (int i = 0; v && i < n; i++)
		v[i].voter_id = ids[i];
	return v;
}

int kp_mlog_leader_change_batch(const kp_mlog *l, int32_t leader_id, int32_t epoch, kp_buf *out,
				kp_error *err)
{
	static const int type = CONTROL_TYPE_LEADER_CHANGE;
	struct kp_leader_change_message m;
	kp_arena a;
	kp_buf value;
	int rc = -1;

	kp_arena_init(&a);
	kp_buf_init(&value);
	kp_leader_change_message_init(&m);
	m.leader_id = leader_id;
	m.voters = voters_array(&a, l->voters, l->n_voters);
	m.voters_count = l->n_voters;
	m.granting_voters = voters_array(&a, l->granting, l->n_granting);
	m.granting_voters_count = l->n_granting;
	if (!m.voters || !m.granting_voters) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_msg_encode(&kp_leader_change_message_desc, 0, &m, &value, err) < 0)
		goto out;
	rc = kp_control_batch(&type, &value, 1, epoch, out, err);
out:
	kp_buf_free(&value);
	kp_arena_free(&a);
	return rc;
}

/* voters_batch - the VotersRecord batch of the core's entry `e`, endpoints from l->endpoints. */
static int voters_batch(kp_mlog *l, const struct kp_raft_entry *e, kp_buf *out)
{
	struct kp_voter_set set = { .n = 0 };

	for (int i = 0; i < e->n_voters && i < KP_RAFT_MAX_VOTERS; i++) {
		struct kp_raft_node_voter *v = &set.v[set.n++];

		v->id = e->voters[i];
		for (int k = 0; l->endpoints && k < l->endpoints->n; k++)
			if (l->endpoints->v[k].id == v->id)
				*v = l->endpoints->v[k];
	}
	return kp_voters_record_batch(&set, l->listener[0] ? l->listener : "CONTROLLER", e->epoch,
				      false, out, &l->err);
}

/* append_one - write entry `e` at the log end, checking the offsets the log assigns. */
static int append_one(kp_mlog *l, const struct kp_raft_entry *e)
{
	int64_t base = -1, last = -1;

	kp_buf_reset(&l->wbuf);
	if (e->data)
		kp_buf_append(&l->wbuf, e->data, e->len);
	else if (e->n_voters > 0 ? voters_batch(l, e, &l->wbuf) < 0
				 : kp_mlog_leader_change_batch(l, l->node_id, e->epoch, &l->wbuf,
							       &l->err) < 0)
		return -1;
	if (l->wbuf.oom)
		return kp_error_set(&l->err, KP_ENOMEM, "out of memory");
	if (e->offset != kp_log_end_offset(l->log))
		return kp_error_set(&l->err, KP_EINVAL, "append at offset %lld but the log ends at %lld",
				    (long long)e->offset, (long long)kp_log_end_offset(l->log));
	if (kp_log_append(l->log, l->wbuf.data, l->wbuf.len, e->epoch, &base, &last, NULL, &l->err) < 0)
		return -1;
	if (last - base + 1 != e->count)
		return kp_error_set(&l->err, KP_ECORRUPT, "entry at %lld holds %lld offsets, not %d",
				    (long long)base, (long long)(last - base + 1), e->count);
	if (kp_mlog__epoch_note(l, e->epoch, base) < 0)
		return -1;
	return kp_mlog__note_batch(l, base, l->wbuf.data, l->wbuf.len);
}

int kp_mlog_append(void *opaque, const struct kp_raft_entry *entries, size_t n)
{
	kp_mlog *l = opaque;

	for (size_t i = 0; i < n; i++)
		if (append_one(l, &entries[i]) < 0)
			return -1;
	return kp_log_sync_data(l->log, &l->err); /* durable before the core counts it */
}

int kp_mlog_truncate(void *opaque, int64_t offset)
{
	kp_mlog *l = opaque;

	if (kp_log_truncate_to(l->log, offset, &l->err) < 0)
		return -1;
	int64_t end = kp_log_end_offset(l->log);

	while (l->n_epochs && l->epochs[l->n_epochs - 1].start >= end)
		l->n_epochs--;
	kp_mlog__forget_from(l, end);
	return kp_log_flush(l->log, &l->err);
}

size_t kp_mlog_read(void *opaque, int64_t offset, struct kp_raft_entry *out, size_t max)
{
	kp_mlog *l = opaque;
	struct kp_batch_header h;
	size_t n = 0;

	kp_buf_reset(&l->rbuf);
	if (offset >= kp_log_end_offset(l->log) ||
	    kp_log_read(l->log, offset, INT64_MAX, READ_MAX_BYTES, &l->rbuf, &l->err) < 0)
		return 0;
	for (size_t pos = 0; n < max && pos + KP_BATCH_HEADER_SIZE <= l->rbuf.len;) {
		if (kp_batch_header_parse(l->rbuf.data + pos, l->rbuf.len - pos, &h, &l->err) < 0)
			break;
		size_t size = KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length;

		if (pos + size > l->rbuf.len)
			break;
		out[n++] = (struct kp_raft_entry){
			.offset = h.base_offset, .epoch = h.partition_leader_epoch,
			.count = h.last_offset_delta + 1, .control = (h.attributes & KP_BATCH_CONTROL) != 0,
			.data = l->rbuf.data + pos, .len = size,
		};
		pos += size;
	}
	return n;
}
