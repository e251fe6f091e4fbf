/*
 * raft_fetch.c - pull-based replication of the Raft log (KIP-595's Fetch)
 * and the high watermark.
 *
 *   follower                                   leader
 *     | Fetch(epoch, fetch_offset = LEO,          |
 *     |       last_fetched_epoch)                 | validate against its log:
 *     |------------------------------------------>|  end_offset_for_epoch(last)
 *     |  entries from fetch_offset, HW            |  differs -> diverging
 *     |<------------------------------------------|     (epoch, end offset)
 *     |  or diverging: truncate to                |  else progress[follower] =
 *     |  min(end, own end of that epoch), refetch |     fetch_offset; HW =
 *                                                 |     majority's offset
 *
 * The leader holds a fetch that has nothing to return (long poll) until
 * an entry is appended, the high watermark moves past what that replica
 * was last told, or fetch_max_wait_ms passes. The high watermark is the
 * offset a majority of voters (the leader's own log end included) have
 * reached, and moves only once that covers the leader's LeaderChange
 * entry, so that nothing of an older epoch is committed by counting
 * replicas alone (the Raft paper's figure 8). A follower's high watermark
 * is the leader's, capped by its own log end offset.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

void kp_raft__reset_progress(kp_raft *r)
{
	for (int i = 0; i < KP_RAFT_MAX_VOTERS; i++) {
		struct kp_raft_progress *p = &r->voters[i];
		memset(p, 0, sizeof(*p));
		p->id = i < r->n_vs ? r->vs[i] : -1;
		p->end_offset = p->last_fetch_ms = p->last_caught_up_ms = p->hw_sent = -1;
	}
	r->n_observers = 0;
}

struct kp_raft_progress *kp_raft__progress(kp_raft *r, int32_t id, bool create)
{
	int i = kp_raft__voter_index(r, id);
	struct kp_raft_progress *p;
	if (i >= 0)
		return &r->voters[i];
	for (i = 0; i < r->n_observers; i++)
		if (r->observers[i].id == id)
			return &r->observers[i];
	if (!create || r->n_observers == KP_RAFT_MAX_OBSERVERS)
		return NULL;
	p = &r->observers[r->n_observers++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->end_offset = p->last_fetch_ms = p->last_caught_up_ms = p->hw_sent = -1;
	return p;
}

/* The follower or observer sends its next Fetch, unless one is in flight. */
void kp_raft__send_fetch(kp_raft *r)
{
	struct kp_raft_msg m;
	int32_t target = r->leader;
	if (r->fetch_corr && r->now < r->fetch_sent_ms + r->cfg.request_timeout_ms)
		return;
	if (r->fetch_corr) { /* timed out: send another */
		r->fetch_corr = 0;
		r->next_fetch_ms = r->now;
	}
	if (r->now < r->next_fetch_ms)
		return;
	if (target == KP_RAFT_NO_ID) /* an observer asks any voter who leads */
		target = r->vs[kp_raft__random(r, 0, r->n_vs - 1)];
	if (r->snap_fetch.end_offset >= 0 && target == r->leader) {
		kp_raft__send_snapshot_fetch(r);
		return;
	}
	kp_raft__msg_init(r, &m, KP_RAFT_FETCH_REQ, target);
	m.corr = r->fetch_corr = r->next_corr++;
	m.u.fetch.fetch_offset = r->ops.end_offset(r->ops.opaque);
	m.u.fetch.last_fetched_epoch = r->ops.last_epoch(r->ops.opaque);
	r->fetch_sent_ms = r->now;
	r->fetch_target = target;
	kp_raft__send(r, &m);
}

/* A Fetch response to `req` (or, if NULL, to the caller's choice) with
 * nothing in it yet: no divergence, no snapshot, our high watermark. */
void kp_raft__fetch_resp_init(kp_raft *r, struct kp_raft_msg *m, const struct kp_raft_msg *req)
{
	kp_raft__msg_init(r, m, KP_RAFT_FETCH_RESP, req ? req->from : KP_RAFT_NO_ID);
	m->corr = req ? req->corr : 0;
	m->u.fetch_resp.high_watermark = r->hw;
	m->u.fetch_resp.diverging_epoch = -1;
	m->u.fetch_resp.snapshot.end_offset = -1;
	m->u.fetch_resp.snapshot.epoch = -1;
}

static void answer(kp_raft *r, struct kp_raft_progress *p, uint64_t corr, int64_t offset)
{
	struct kp_raft_msg m;
	struct kp_raft_entry entries[256];
	size_t max = r->cfg.fetch_max_entries;
	if (max == 0 || max > 256)
		max = 256;
	kp_raft__fetch_resp_init(r, &m, NULL);
	m.to = p->id;
	m.corr = corr;
	m.u.fetch_resp.entries = entries;
	m.u.fetch_resp.n_entries = r->ops.read(r->ops.opaque, offset, entries, max);
	p->hw_sent = r->hw;
	p->parked = false;
	kp_raft__send(r, &m);
}

void kp_raft__answer_parked(kp_raft *r, bool all)
{
	struct kp_raft_progress *set[2] = { r->voters, r->observers };
	int n[2] = { r->n_vs, r->n_observers };
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n[s]; i++) {
			struct kp_raft_progress *p = &set[s][i];
			if (p->parked && (all || r->now >= p->parked_deadline || r->hw > p->hw_sent))
				answer(r, p, p->parked_corr, p->parked_offset);
		}
}

static int cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

void kp_raft__update_hw(kp_raft *r)
{
	int64_t ends[KP_RAFT_MAX_VOTERS], hw;
	int n = r->n_vs;
	for (int i = 0; i < n; i++)
		ends[i] = r->voters[i].id == r->cfg.node_id ? r->ops.end_offset(r->ops.opaque)
							     : r->voters[i].end_offset;
	qsort(ends, (size_t)n, sizeof(ends[0]), cmp_desc);
	hw = ends[n / 2]; /* reached by n/2 + 1 voters */
	if (hw <= r->epoch_start_offset && !r->cfg.bug_early_commit)
		return;
	if (hw <= r->hw)
		return;
	r->hw = hw;
	if (r->ops.on_high_watermark)
		r->ops.on_high_watermark(r->ops.opaque, hw);
	kp_raft__answer_parked(r, false);
}

/* An error answer to a Fetch or FetchSnapshot, with our epoch and leader. */
static void refuse(kp_raft *r, const struct kp_raft_msg *m, int16_t code)
{
	struct kp_raft_msg out;
	kp_raft__fetch_resp_init(r, &out, m);
	if (m->type == KP_RAFT_FETCH_SNAPSHOT_REQ) {
		kp_raft__msg_init(r, &out, KP_RAFT_FETCH_SNAPSHOT_RESP, m->from);
		out.corr = m->corr;
	}
	out.error = code;
	out.u.fetch_resp.high_watermark = -1;
	kp_raft__send(r, &out);
}

/* Refuses a Fetch or FetchSnapshot that this replica cannot serve
 * (not the leader, or another epoch); true when it did. */
bool kp_raft__fetch_refused(kp_raft *r, const struct kp_raft_msg *m)
{
	if (r->role != KP_RAFT_LEADER && m->epoch <= r->epoch) {
		refuse(r, m, m->epoch < r->epoch ? KP_RAFT_ERR_FENCED_LEADER_EPOCH
						 : KP_RAFT_ERR_NOT_LEADER);
		return true;
	}
	if (m->epoch != r->epoch) {
		refuse(r, m, m->epoch < r->epoch ? KP_RAFT_ERR_FENCED_LEADER_EPOCH
						 : KP_RAFT_ERR_UNKNOWN_LEADER_EPOCH);
		return true;
	}
	return false;
}

/* Whether the fetcher's log diverges from ours; if so answer it. */
static bool diverges(kp_raft *r, const struct kp_raft_msg *m)
{
	struct kp_raft_msg out;
	int32_t last = m->u.fetch.last_fetched_epoch, found = -1;
	int64_t off = m->u.fetch.fetch_offset, end = 0;
	if (kp_raft__needs_snapshot(r, m))
		return true;
	if (off == 0 && last == 0)
		return false;
	r->ops.end_offset_for_epoch(r->ops.opaque, last, &found, &end);
	if (found == last && end >= off)
		return false;
	kp_raft__fetch_resp_init(r, &out, m);
	out.u.fetch_resp.diverging_epoch = found < 0 ? 0 : found;
	out.u.fetch_resp.diverging_end_offset = found < 0 ? 0 : end;
	kp_raft__send(r, &out);
	return true;
}

int kp_raft__on_fetch_req(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	struct kp_raft_progress *p;
	int64_t off = m->u.fetch.fetch_offset;
	if (kp_raft__fetch_refused(r, m))
		return 0;
	p = kp_raft__progress(r, m->from, true);
	if (!p || off < 0 || m->u.fetch.last_fetched_epoch > r->epoch) {
		refuse(r, m, KP_RAFT_ERR_NOT_LEADER);
		return 0;
	}
	p->parked = false; /* a newer fetch replaces a held one */
	if (diverges(r, m))
		return 0;
	p->end_offset = off;
	p->last_fetch_ms = r->now;
	p->acked = true;
	if (off >= r->ops.end_offset(r->ops.opaque))
		p->last_caught_up_ms = r->now;
	kp_raft__update_hw(r);
	if (r->role != KP_RAFT_LEADER)
		return 0; /* it resigned: its removal is committed */
	if (off >= r->ops.end_offset(r->ops.opaque) && p->hw_sent == r->hw &&
	    r->cfg.fetch_max_wait_ms > 0) {
		p->parked = true;
		p->parked_corr = m->corr;
		p->parked_offset = off;
		p->parked_deadline = r->now + r->cfg.fetch_max_wait_ms;
		return 0;
	}
	answer(r, p, m->corr, off);
	(void)err;
	return 0;
}

/* Truncates to where our log and the leader's agree (KIP-595 / KIP-320). */
static int truncate_diverging(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	int32_t found = -1;
	int64_t end = 0, to = m->u.fetch_resp.diverging_end_offset;
	r->ops.end_offset_for_epoch(r->ops.opaque, m->u.fetch_resp.diverging_epoch, &found, &end);
	if (found < 0)
		end = 0;
	if (end < to)
		to = end;
	if (to < r->hw)
		return kp_error_set(err, KP_ECORRUPT,
				    "leader %d asks to truncate to %lld, below the high watermark %lld",
				    m->from, (long long)to, (long long)r->hw);
	if (r->ops.truncate(r->ops.opaque, to) < 0)
		return kp_error_set(err, KP_EIO, "cannot truncate the log to offset %lld",
				    (long long)to);
	kp_raft__refresh_voters(r);
	return 0;
}

static int append_fetched(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	const struct kp_raft_entry *e = m->u.fetch_resp.entries;
	size_t n = m->u.fetch_resp.n_entries;
	int64_t end = r->ops.end_offset(r->ops.opaque);
	if (n == 0)
		return 0;
	if (e[0].offset != end)
		return 1; /* not where our log ends: a stale answer */
	for (size_t i = 1; i < n; i++)
		if (e[i].offset != e[i - 1].offset + e[i - 1].count || e[i].epoch < e[i - 1].epoch)
			return 1;
	if (r->ops.append(r->ops.opaque, e, n) < 0)
		return kp_error_set(err, KP_EIO, "cannot append %zu fetched entries at offset %lld",
				    n, (long long)end);
	kp_raft__refresh_voters(r);
	return 0;
}

int kp_raft__on_fetch_resp(kp_raft *r, const struct kp_raft_msg *m, kp_error *err)
{
	int64_t hw = m->u.fetch_resp.high_watermark, end;
	int rc;
	if (!r->fetch_corr || m->corr != r->fetch_corr || m->from != r->fetch_target)
		return 0;
	r->fetch_corr = 0;
	r->next_fetch_ms = r->now + r->cfg.retry_backoff_ms;
	if (m->error || r->role != KP_RAFT_FOLLOWER || m->epoch != r->epoch ||
	    m->from != r->leader)
		return 0;
	r->election_deadline = r->now + r->cfg.fetch_timeout_ms;
	r->last_fetch_ok_ms = r->now;
	r->next_fetch_ms = r->now;
	if (m->u.fetch_resp.snapshot.end_offset >= 0) {
		r->snap_fetch = m->u.fetch_resp.snapshot; /* KIP-630: fetch it, then the log */
		r->snap_position = 0;
		kp_raft__send_fetch(r);
		return 0;
	}
	if (m->u.fetch_resp.diverging_epoch >= 0)
		rc = truncate_diverging(r, m, err);
	else
		rc = append_fetched(r, m, err);
	if (rc < 0)
		return -1;
	end = r->ops.end_offset(r->ops.opaque);
	if (rc == 0 && m->u.fetch_resp.diverging_epoch < 0 && hw >= 0) {
		if (hw > end)
			hw = end;
		if (hw > r->hw) {
			r->hw = hw;
			if (r->ops.on_high_watermark)
				r->ops.on_high_watermark(r->ops.opaque, hw);
			kp_raft__refresh_voters(r); /* a voter change may now be committed */
		}
	}
	kp_raft__send_fetch(r);
	return 0;
}
