/*
 * raft_snapshot.c - replicas too far behind catch up from a snapshot
 * (KIP-630: FetchSnapshot).
 *
 *   follower                                    leader (log starts at S)
 *     | Fetch(offset < S, or last epoch older   |
 *     |       than the snapshot at S)            |
 *     |----------------------------------------->|
 *     |<------------- snapshot id (end, epoch) --|  its latest snapshot
 *     | FetchSnapshot(id, position 0)            |
 *     |----------------------------------------->|
 *     |<-------- bytes [0, n), size -------------|  snapshot_chunk_bytes each
 *     |   ... until position == size             |
 *     | install: the log restarts at id.end_offset, the owner reloads
 *     | Fetch(id.end_offset, id.epoch) ---------->|  the log from there
 *
 * The leader answers a Fetch with a snapshot id when the fetch offset is
 * below its log start, or at it with another epoch, or when the last
 * fetched epoch is older than the snapshot at the log start (Kafka's
 * KafkaMetadataLog.validateOffsetAndEpoch). A follower fetches one
 * snapshot at a time from its leader; a snapshot the leader no longer
 * has (SNAPSHOT_NOT_FOUND) sends it back to Fetch, which names the
 * newer one.
 */
#include <string.h>

#include "raft/raft_internal.h"

bool kp_raft__needs_snapshot(kp_raft *r, const struct kp_raft_msg *m)
{
	struct kp_raft_msg out;
	struct kp_raft_snapshot_id id;
	int64_t start = 0, off = m->u.fetch.fetch_offset;
	int32_t start_epoch = 0, last = m->u.fetch.last_fetched_epoch;
	if (!r->ops.log_start || !r->ops.latest_snapshot)
		return false;
	r->ops.log_start(r->ops.opaque, &start, &start_epoch);
	if (start <= 0 || !(off < start || (off == start && last != start_epoch) ||
			    last < start_epoch))
		return false;
	if (!r->ops.latest_snapshot(r->ops.opaque, &id))
		return false;
	kp_raft__fetch_resp_init(r, &out, m);
	out.u.fetch_resp.snapshot = id;
	kp_raft__send(r, &out);
	return true;
}

int kp_raft__on_snapshot_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_raft_msg out;
	struct kp_raft_progress *p;
	int64_t size = 0;
	long n = -1;
	if (kp_raft__fetch_refused(r, m))
		return 0;
	p = kp_raft__progress(r, m->from, true);
	if (p)
		p->last_fetch_ms = r->now; /* alive and following: counts for check-quorum */
	kp_raft__msg_init(r, &out, KP_RAFT_FETCH_SNAPSHOT_RESP, m->from);
	out.corr = m->corr;
	out.u.fetch_snapshot_resp.id = m->u.fetch_snapshot.id;
	out.u.fetch_snapshot_resp.position = m->u.fetch_snapshot.position;
	if (r->ops.snapshot_read && r->chunk && m->u.fetch_snapshot.position >= 0)
		n = r->ops.snapshot_read(r->ops.opaque, &m->u.fetch_snapshot.id,
					 m->u.fetch_snapshot.position, r->chunk,
					 r->cfg.snapshot_chunk_bytes, &size);
	if (n < 0) {
		out.error = KP_RAFT_ERR_SNAPSHOT_NOT_FOUND;
	} else {
		out.u.fetch_snapshot_resp.size = size;
		out.u.fetch_snapshot_resp.data = r->chunk;
		out.u.fetch_snapshot_resp.len = (size_t)n;
	}
	kp_raft__send(r, &out);
	(void)err;
	return 0;
}

void kp_raft__send_snapshot_fetch(kp_raft *r)
{
	struct kp_raft_msg m;
	kp_raft__msg_init(r, &m, KP_RAFT_FETCH_SNAPSHOT_REQ, r->leader);
	m.corr = r->fetch_corr = r->next_corr++;
	m.u.fetch_snapshot.id = r->snap_fetch;
	m.u.fetch_snapshot.position = r->snap_position;
	r->fetch_sent_ms = r->now;
	r->fetch_target = r->leader;
	kp_raft__send(r, &m);
}

static bool same_id(const struct kp_raft_snapshot_id *a, const struct kp_raft_snapshot_id *b)
{
	return a->end_offset == b->end_offset && a->epoch == b->epoch;
}

/* Stores a received chunk; installs the snapshot once whole. */
static int store_chunk(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	const struct kp_raft_snapshot_id *id = &r->snap_fetch;
	size_t len = m->u.fetch_snapshot_resp.len;
	if (len == 0 && r->snap_position < m->u.fetch_snapshot_resp.size) {
		r->snap_fetch.end_offset = -1; /* no progress: ask Fetch again */
		return 0;
	}
	if (r->ops.snapshot_write(r->ops.opaque, id, r->snap_position,
				  m->u.fetch_snapshot_resp.data, len) < 0)
		return kp_error_set(err, KP_EIO, "cannot write snapshot %lld-%d at %lld",
				    (long long)id->end_offset, id->epoch,
				    (long long)r->snap_position);
	r->snap_position += (int64_t)len;
	if (r->snap_position < m->u.fetch_snapshot_resp.size)
		return 0;
	if (r->ops.snapshot_install(r->ops.opaque, id) < 0)
		return kp_error_set(err, KP_EIO, "cannot install snapshot %lld-%d",
				    (long long)id->end_offset, id->epoch);
	r->snap_fetch.end_offset = -1;
	kp_raft__refresh_voters(r);
	return 0;
}

int kp_raft__on_snapshot_resp(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	if (!r->fetch_corr || m->corr != r->fetch_corr || m->from != r->fetch_target)
		return 0;
	r->fetch_corr = 0;
	r->next_fetch_ms = r->now + r->cfg.retry_backoff_ms;
	if (r->role != KP_RAFT_FOLLOWER || m->epoch != r->epoch || m->from != r->leader ||
	    r->snap_fetch.end_offset < 0)
		return 0;
	if (m->error == KP_RAFT_ERR_SNAPSHOT_NOT_FOUND)
		r->snap_fetch.end_offset = -1;
	if (m->error || !same_id(&m->u.fetch_snapshot_resp.id, &r->snap_fetch) ||
	    m->u.fetch_snapshot_resp.position != r->snap_position || !r->ops.snapshot_write ||
	    !r->ops.snapshot_install)
		return 0;
	r->election_deadline = r->now + r->cfg.fetch_timeout_ms;
	r->last_fetch_ok_ms = r->now;
	r->next_fetch_ms = r->now;
	if (store_chunk(r, m, err) < 0)
		return -1;
	kp_raft__send_fetch(r);
	return 0;
}
