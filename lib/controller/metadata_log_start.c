/*
 * metadata_log_start.c - the snapshot the metadata log starts after
 * (KIP-630; Kafka's KafkaMetadataLog.deleteBeforeSnapshot and
 * truncateToLatestSnapshot) and the VotersRecords it holds (KIP-853;
 * Kafka's VoterSetHistory); see metadata_log.h.
 *
 *   snapshot (end S, epoch E)   log: [kept whole segment | S ........ end)
 *                                          ^ unreadable   ^ log start
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/metadata_log_internal.h"
#include "util/diag.h"

int kp_mlog__note_batch(kp_mlog *l, int64_t offset, const uint8_t *p, size_t len)
{
	struct kp_voter_set set;
	kp_error err;
	int rc = kp_voters_record_parse(p, len, &set, &err);

	if (rc < 0)
		kp_diag_error("metadata log: skipping VotersRecord at %lld: %s", (long long)offset,
			      err.msg);
	if (rc <= 0)
		return 0;
	if (l->n_vrecs == l->cap_vrecs) {
		size_t cap = l->cap_vrecs ? 2 * l->cap_vrecs : 4;
		struct voters_at *v = realloc(l->vrecs, cap * sizeof(*v));

		if (!v)
			return kp_error_set(&l->err, KP_ENOMEM, "out of memory");
		l->vrecs = v;
		l->cap_vrecs = cap;
	}
	l->vrecs[l->n_vrecs].offset = offset;
	l->vrecs[l->n_vrecs++].set = set;
	return 0;
}

void kp_mlog__forget_from(kp_mlog *l, int64_t offset)
{
	while (l->n_vrecs && l->vrecs[l->n_vrecs - 1].offset >= offset)
		l->n_vrecs--;
}

/* trim_epochs - the epoch cache from `start` on (LeaderEpochFileCache.truncateFromStart). */
static void trim_epochs(kp_mlog *l, int64_t start)
{
	size_t drop = 0;

	while (drop + 1 < l->n_epochs && l->epochs[drop + 1].start <= start)
		drop++;
	if (drop < l->n_epochs && l->epochs[drop].start >= kp_log_end_offset(l->log))
		drop = l->n_epochs; /* nothing of the log is left at or past start */
	if (drop)
		memmove(l->epochs, l->epochs + drop, (l->n_epochs - drop) * sizeof(*l->epochs));
	l->n_epochs -= drop;
	if (l->n_epochs && l->epochs[0].start < start)
		l->epochs[0].start = start;
}

/* trim_voters - VotersRecords below `start` are the snapshot's business now. */
static void trim_voters(kp_mlog *l, int64_t start)
{
	size_t drop = 0;

	while (drop < l->n_vrecs && l->vrecs[drop].offset < start)
		drop++;
	if (drop)
		memmove(l->vrecs, l->vrecs + drop, (l->n_vrecs - drop) * sizeof(*l->vrecs));
	l->n_vrecs -= drop;
}

/* set_snapshot - the log follows the snapshot (end_offset, epoch) with `voters` (NULL: none). */
static void set_snapshot(kp_mlog *l, int64_t end_offset, int32_t epoch,
			 const struct kp_voter_set *voters)
{
	l->snap_end = end_offset;
	l->snap_epoch = epoch;
	if (voters)
		l->snap_voters = *voters;
	else
		memset(&l->snap_voters, 0, sizeof(l->snap_voters));
}

int kp_mlog_reset_at(kp_mlog *l, int64_t end_offset, int32_t epoch,
		     const struct kp_voter_set *voters, kp_error *err)
{
	if (kp_log_reset_at(l->log, end_offset, err) < 0)
		return -1;
	l->n_epochs = 0;
	l->n_vrecs = 0;
	set_snapshot(l, end_offset, epoch, voters);
	return 0;
}

int kp_mlog_start_after(kp_mlog *l, int64_t end_offset, int32_t epoch,
			const struct kp_voter_set *voters, kp_error *err)
{
	int deleted;

	if (end_offset < l->snap_end)
		return 0;
	if (end_offset > kp_log_end_offset(l->log) || end_offset < kp_log_start_offset(l->log))
		return kp_mlog_reset_at(l, end_offset, epoch, voters, err);
	if ((deleted = kp_log_advance_start(l->log, end_offset, err)) < 0)
		return -1;
	trim_epochs(l, end_offset);
	trim_voters(l, end_offset);
	set_snapshot(l, end_offset, epoch, voters);
	return deleted;
}

void kp_mlog_log_start(void *opaque, int64_t *offset, int32_t *epoch)
{
	const kp_mlog *l = opaque;

	*offset = l->snap_end;
	*epoch = l->snap_end ? l->snap_epoch : 0;
}

bool kp_mlog_voter_set(const kp_mlog *l, int64_t before, struct kp_voter_set *out,
		       int64_t *offset)
{
	for (size_t i = l->n_vrecs; i > 0; i--) {
		if (l->vrecs[i - 1].offset < before) {
			*out = l->vrecs[i - 1].set;
			*offset = l->vrecs[i - 1].offset;
			return true;
		}
	}
	if (l->snap_end && l->snap_voters.n > 0 && l->snap_end <= before) {
		*out = l->snap_voters;
		*offset = l->snap_end - 1;
		return true;
	}
	return false;
}

bool kp_mlog_voters(void *opaque, int32_t *ids, int *n, int64_t *offset)
{
	struct kp_voter_set set;

	if (!kp_mlog_voter_set(opaque, INT64_MAX, &set, offset))
		return false;
	*n = kp_voter_set_ids(&set, ids);
	return true;
}

void kp_mlog_set_endpoints(kp_mlog *l, const struct kp_voter_set *known, const char *listener)
{
	l->endpoints = known;
	snprintf(l->listener, sizeof(l->listener), "%s", listener);
}

const char *kp_mlog_dir(const kp_mlog *l)
{
	return l->dir;
}

int64_t kp_mlog_log_start_offset(const kp_mlog *l)
{
	return kp_log_start_offset(l->log);
}

size_t kp_mlog_segments_below(const kp_mlog *l, int64_t offset)
{
	return kp_log_segments_below(l->log, offset);
}
