/*
 * test_raft_sim.c - a deterministic simulator for the Raft core (lib/raft):
 * thousands of randomized schedules of 1, 3 or 5 voters and an observer,
 * with message loss, duplication, reordering, network partitions, crashes
 * and restarts, checking Raft's safety properties after every step and
 * liveness once the faults stop. Everything (the network, the disks, the
 * clock, the faults, the cores' own randomness) comes from one seed, so a
 * failing seed replays exactly:
 *
 *   KP_RAFT_SEED=1234 build-asan/tests/test_raft_sim    one seed, with a trace
 *   KP_RAFT_SEEDS=1000000 build/tests/test_raft_sim     a longer run (default 30,000)
 *
 * The checkers:
 *   election safety    at most one leader per epoch;
 *   log matching       two logs with an entry of the same offset and epoch
 *                      hold the same entries up to it (a hash chain per log,
 *                      compared through a global (offset, epoch) table);
 *   leader completeness a new leader's log holds every committed entry;
 *   commitment         whatever any replica reports below its high
 *                      watermark agrees with the committed prefix, which
 *                      only grows; a committed entry is never truncated and
 *                      stays on a majority of the voters' disks;
 *   liveness           once every replica is up and the network whole, a
 *                      leader is elected and a new entry is committed on
 *                      every replica within a bounded time.
 * The last tests turn on a deliberately broken rule in the core (a second
 * vote in one epoch, votes without comparing logs) and require the
 * simulator to catch it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uthash.h>

#include "raft/raft.h"

#define MAX_NODES 6
#define FAULT_MS 4000      /* faults happen during up to this much simulated time */
#define HEAL_MS 8000       /* then everything must settle within this */

/* ---- a node's disk: its log and its quorum state ---------------------- */

struct sim_entry {
	int64_t offset;
	int32_t epoch, count;
	bool control;
	uint64_t id;    /* payload: proposal number, 0 for a control entry */
	uint64_t chain; /* hash of this entry and every one before it */
	int32_t commit_epoch; /* in the committed log: the epoch it was first known committed in */
	int n_voters;   /* a VotersRecord: the voter set */
	int32_t voters[MAX_NODES];
};

/* A snapshot: the state of the first `index` entries, ending at offset `end`. */
struct sim_snap {
	int64_t end;
	int32_t epoch;
	uint64_t chain;
	size_t index;
	bool valid;
	int n_voters;   /* the voter set in force at its end, 0: the static one */
	int32_t voters[MAX_NODES];
};

/* end (8), epoch (4), chain (8), index (8), voter count (4), voters (4 each) */
#define SNAP_BYTES (32 + 4 * MAX_NODES)

struct sim_node {
	int32_t id;
	bool voter, up;
	kp_raft *raft;
	struct sim_entry *log; /* the entries after the log start: global index base + i */
	size_t n, cap, base;
	struct sim_snap start;  /* the snapshot the log starts after (base > 0) */
	struct sim_snap latest; /* the newest snapshot taken or installed */
	uint8_t partial[SNAP_BYTES];
	struct kp_raft_snapshot_id partial_id;
	size_t partial_len;
	struct kp_raft_quorum_state st;
	bool has_st;
	int64_t hw;          /* last high watermark it reported since its start */
	int64_t down_until;  /* crashed until then */
	int side;            /* network partition side */
	struct sim *sim;
};

/* ---- the network --------------------------------------------------------- */

struct sim_msg {
	int64_t at;
	uint64_t seq;
	struct kp_raft_msg m;
	struct kp_raft_entry *entries; /* owned copies (data points at ids) */
	uint64_t *ids;
	uint8_t *bytes;                /* an owned copy of a snapshot chunk */
	int32_t (*vsets)[MAX_NODES];   /* owned copies of the entries' voter sets */
};

struct chain_key {
	int64_t offset;
	int32_t epoch;
};

struct chain_rec {
	struct chain_key key;
	uint64_t chain;
	UT_hash_handle hh;
};

struct sim {
	uint64_t seed, rng;
	bool verbose;
	struct kp_raft_config base;
	int n_nodes, n_voters;
	struct sim_node nodes[MAX_NODES];
	struct sim_msg *q;
	size_t nq, capq;
	uint64_t seq;
	int64_t now;
	bool faults;
	bool membership;           /* voter changes among the faults */
	int drop_pct, dup_pct, max_delay, crash_pct, part_pct;
	int64_t next_fault, next_propose, heal_at;
	uint64_t next_id;
	/* the checkers' state */
	int32_t *leader_of;        /* epoch -> leader id, -1 */
	size_t n_leader_of;
	struct sim_entry *committed;
	size_t n_committed;
	struct chain_rec *chains;
	char violation[512];
	int64_t probe_offset;      /* liveness: the entry that must commit */
	long installs;             /* snapshots fetched and installed */
	long changes;              /* voter changes appended */
	int n_cvs;                 /* the newest committed voter set */
	int32_t cvs[MAX_NODES];
};

static uint64_t rnd(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t rnd_in(struct sim *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static void trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (!s->verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%6lld ", (long long)s->now);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void violate(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violate(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (s->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->violation, sizeof(s->violation), fmt, ap);
	va_end(ap);
	trace(s, "VIOLATION %s", s->violation);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

/* ---- log matching through a global (offset, epoch) -> chain table ---------- */

static void check_chain(struct sim *s, const struct sim_entry *e)
{
	struct chain_rec *c;
	struct chain_key k;
	memset(&k, 0, sizeof(k));
	k.offset = e->offset;
	k.epoch = e->epoch;
	HASH_FIND(hh, s->chains, &k, sizeof(k), c);
	if (!c) {
		c = calloc(1, sizeof(*c));
		assert_non_null(c);
		c->key = k;
		c->chain = e->chain;
		HASH_ADD(hh, s->chains, key, sizeof(k), c);
	} else if (c->chain != e->chain) {
		violate(s, "log matching: two logs differ before their entry at offset %lld of epoch %d",
			(long long)e->offset, e->epoch);
	}
}

/* ---- the log ops the core drives --------------------------------------- */

static int64_t log_start(const struct sim_node *n)
{
	return n->base ? n->start.end : 0;
}

static int64_t log_end(const struct sim_node *n)
{
	return n->n ? n->log[n->n - 1].offset + n->log[n->n - 1].count : log_start(n);
}

/* The chain hash of the first k entries, if n still knows it. */
static bool node_chain(const struct sim_node *n, size_t k, uint64_t *chain)
{
	if (k == 0) {
		*chain = 7;
		return true;
	}
	if (n->base && k == n->base) {
		*chain = n->start.chain;
		return true;
	}
	if (k <= n->base || k > n->base + n->n)
		return false;
	*chain = n->log[k - 1 - n->base].chain;
	return true;
}

/* The index of the entry of n's log that ends at `offset`, or -1. */
static long entry_ending_at(const struct sim_entry *log, size_t n, int64_t offset)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (log[mid].offset + log[mid].count < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && log[lo].offset + log[lo].count == offset)
		return (long)lo;
	return -1;
}

/* How many entries of n's log end exactly at `offset` (k: the first k
 * entries), or -1 when no entry of n ends there. */
static long entries_to(const struct sim_node *n, int64_t offset)
{
	long i;
	if (offset == log_start(n))
		return (long)n->base;
	i = entry_ending_at(n->log, n->n, offset);
	return i < 0 ? -1 : (long)n->base + i + 1;
}

static int64_t op_end_offset(void *o)
{
	return log_end(o);
}

static int32_t op_last_epoch(void *o)
{
	struct sim_node *n = o;
	return n->n ? n->log[n->n - 1].epoch : n->base ? n->start.epoch : 0;
}

static void op_end_offset_for_epoch(void *o, int32_t epoch, int32_t *found, int64_t *end)
{
	struct sim_node *n = o;
	size_t i = n->n;
	while (i > 0 && n->log[i - 1].epoch > epoch)
		i--;
	if (i == 0 && n->base && n->start.epoch <= epoch) { /* the snapshot counts */
		*found = n->start.epoch;
		*end = n->n ? n->log[0].offset : n->start.end;
		return;
	}
	if (i == 0) {
		*found = -1;
		*end = 0;
		return;
	}
	*found = n->log[i - 1].epoch;
	*end = i < n->n ? n->log[i].offset : log_end(n);
}

static int op_append(void *o, const struct kp_raft_entry *e, size_t cnt)
{
	struct sim_node *n = o;
	for (size_t i = 0; i < cnt; i++) {
		struct sim_entry *x;
		if (e[i].offset != log_end(n))
			violate(n->sim, "node %d appends at %lld, its log ends at %lld", n->id,
				(long long)e[i].offset, (long long)log_end(n));
		if (n->n == n->cap) {
			n->cap = n->cap ? 2 * n->cap : 64;
			n->log = realloc(n->log, n->cap * sizeof(*n->log));
			assert_non_null(n->log);
		}
		x = &n->log[n->n];
		x->offset = e[i].offset;
		x->epoch = e[i].epoch;
		x->count = e[i].count;
		x->control = e[i].control;
		x->id = 0;
		if (e[i].data && e[i].len == sizeof(uint64_t))
			memcpy(&x->id, e[i].data, sizeof(uint64_t));
		x->n_voters = e[i].n_voters > 0 && e[i].n_voters <= MAX_NODES ? e[i].n_voters : 0;
		if (x->n_voters)
			memcpy(x->voters, e[i].voters, sizeof(int32_t) * (size_t)x->n_voters);
		uint64_t prev = 7;
		node_chain(n, n->base + n->n, &prev);
		x->chain = mix(mix(mix(prev, (uint64_t)x->epoch), x->id), (uint64_t)x->count);
		for (int v = 0; v < x->n_voters; v++)
			x->chain = mix(x->chain, 1000 + (uint64_t)x->voters[v]);
		n->n++;
		check_chain(n->sim, x);
	}
	return 0;
}

static int op_truncate(void *o, int64_t offset)
{
	struct sim_node *n = o;
	struct sim *s = n->sim;
	size_t keep = n->n, g;
	if (offset < log_start(n))
		violate(s, "node %d truncates to %lld, below its log start %lld", n->id,
			(long long)offset, (long long)log_start(n));
	while (keep > 0 && n->log[keep - 1].offset + n->log[keep - 1].count > offset)
		keep--;
	g = n->base + keep;
	/* Only a replica still following a deposed leader of an older epoch
	 * than the commit may drop a committed entry (it was not counted). */
	if (keep < n->n && g < s->n_committed && n->log[keep].chain == s->committed[g].chain &&
	    kp_raft_epoch(n->raft) >= s->committed[g].commit_epoch)
		violate(s, "node %d truncates committed entry at offset %lld", n->id,
			(long long)n->log[keep].offset);
	trace(s, "node %d truncates to %lld (%zu entries dropped)", n->id, (long long)offset,
	      n->n - keep);
	n->n = keep;
	return 0;
}

static size_t op_read(void *o, int64_t offset, struct kp_raft_entry *out, size_t max)
{
	struct sim_node *n = o;
	size_t i = 0, k = 0;
	if (offset < log_start(n))
		return 0;
	while (i < n->n && n->log[i].offset + n->log[i].count <= offset)
		i++;
	for (; i < n->n && k < max; i++, k++) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].offset = n->log[i].offset;
		out[k].epoch = n->log[i].epoch;
		out[k].count = n->log[i].count;
		out[k].control = n->log[i].control;
		out[k].data = n->log[i].control ? NULL : (const uint8_t *)&n->log[i].id;
		out[k].len = n->log[i].control ? 0 : sizeof(uint64_t);
		out[k].voters = n->log[i].voters;
		out[k].n_voters = n->log[i].n_voters;
	}
	return k;
}

static int op_save_state(void *o, const struct kp_raft_quorum_state *st)
{
	struct sim_node *n = o;
	if (n->has_st && st->epoch < n->st.epoch)
		violate(n->sim, "node %d saves epoch %d after %d", n->id, st->epoch, n->st.epoch);
	if (n->has_st && st->epoch == n->st.epoch && n->st.voted_id != -1 &&
	    st->voted_id != n->st.voted_id && !n->sim->base.bug_double_vote)
		violate(n->sim, "node %d changes its vote in epoch %d", n->id, st->epoch);
	n->st = *st;
	n->has_st = true;
	return 0;
}

/* ---- snapshots (KIP-630) ------------------------------------------------ */

/* The voter set of the newest VotersRecord in n's log or its snapshot. */
static bool op_voters(void *o, int32_t *ids, int *cnt, int64_t *offset)
{
	struct sim_node *n = o;
	for (size_t i = n->n; i > 0; i--)
		if (n->log[i - 1].n_voters) {
			*cnt = n->log[i - 1].n_voters;
			memcpy(ids, n->log[i - 1].voters, sizeof(int32_t) * (size_t)*cnt);
			*offset = n->log[i - 1].offset;
			return true;
		}
	if (n->base && n->start.n_voters) {
		*cnt = n->start.n_voters;
		memcpy(ids, n->start.voters, sizeof(int32_t) * (size_t)*cnt);
		*offset = n->start.end - 1;
		return true;
	}
	return false;
}

static void op_log_start(void *o, int64_t *offset, int32_t *epoch)
{
	struct sim_node *n = o;
	*offset = log_start(n);
	*epoch = n->base ? n->start.epoch : 0;
}

static bool op_latest_snapshot(void *o, struct kp_raft_snapshot_id *id)
{
	struct sim_node *n = o;
	id->end_offset = n->latest.end;
	id->epoch = n->latest.epoch;
	return n->latest.valid;
}

static void snap_encode(const struct sim_snap *x, uint8_t *b)
{
	uint64_t index = x->index;
	int32_t nv = x->n_voters;
	memset(b, 0, SNAP_BYTES);
	memcpy(b, &x->end, 8);
	memcpy(b + 8, &x->epoch, 4);
	memcpy(b + 12, &x->chain, 8);
	memcpy(b + 20, &index, 8);
	memcpy(b + 28, &nv, 4);
	memcpy(b + 32, x->voters, 4 * (size_t)x->n_voters);
}

static long op_snapshot_read(void *o, const struct kp_raft_snapshot_id *id, int64_t position,
			     uint8_t *buf, size_t max, int64_t *size)
{
	struct sim_node *n = o;
	uint8_t b[SNAP_BYTES];
	size_t len;
	if (!n->latest.valid || id->end_offset != n->latest.end || id->epoch != n->latest.epoch)
		return -1;
	*size = SNAP_BYTES;
	if (position >= SNAP_BYTES)
		return 0;
	snap_encode(&n->latest, b);
	len = SNAP_BYTES - (size_t)position < max ? SNAP_BYTES - (size_t)position : max;
	memcpy(buf, b + position, len);
	return (long)len;
}

static int op_snapshot_write(void *o, const struct kp_raft_snapshot_id *id, int64_t position,
			     const uint8_t *data, size_t len)
{
	struct sim_node *n = o;
	if (position == 0) {
		n->partial_id = *id;
		n->partial_len = 0;
	}
	if ((size_t)position != n->partial_len || n->partial_id.end_offset != id->end_offset ||
	    n->partial_len + len > SNAP_BYTES) {
		violate(n->sim, "node %d writes snapshot bytes out of order", n->id);
		return 0;
	}
	memcpy(n->partial + n->partial_len, data, len);
	n->partial_len += len;
	return 0;
}

static int op_snapshot_install(void *o, const struct kp_raft_snapshot_id *id)
{
	struct sim_node *n = o;
	struct sim *s = n->sim;
	struct sim_snap x = { .valid = true };
	uint64_t index;
	if (n->partial_len != SNAP_BYTES) {
		violate(s, "node %d installs a partial snapshot", n->id);
		return 0;
	}
	memcpy(&x.end, n->partial, 8);
	memcpy(&x.epoch, n->partial + 8, 4);
	memcpy(&x.chain, n->partial + 12, 8);
	memcpy(&index, n->partial + 20, 8);
	x.index = (size_t)index;
	memcpy(&x.n_voters, n->partial + 28, 4);
	if (x.n_voters < 0 || x.n_voters > MAX_NODES)
		x.n_voters = 0;
	memcpy(x.voters, n->partial + 32, 4 * (size_t)x.n_voters);
	if (x.end != id->end_offset || x.index == 0 || x.index > s->n_committed ||
	    s->committed[x.index - 1].chain != x.chain)
		violate(s, "node %d installs snapshot %lld-%d that is not a committed prefix", n->id,
			(long long)id->end_offset, id->epoch);
	trace(s, "node %d installs snapshot %lld-%d", n->id, (long long)x.end, x.epoch);
	s->installs++;
	n->n = 0;
	n->base = x.index;
	n->start = n->latest = x;
	return 0;
}

/* n snapshots its committed state at its high watermark, and may then
 * delete the log below it. */
static void take_snapshot(struct sim *s, struct sim_node *n)
{
	long k = n->hw > log_start(n) ? entries_to(n, n->hw) : -1;
	struct sim_snap x = { .valid = true };
	if (k <= (long)n->base || (n->latest.valid && n->latest.end >= n->hw))
		return;
	x.end = n->hw;
	x.index = (size_t)k;
	x.epoch = n->log[k - 1 - (long)n->base].epoch;
	x.chain = n->log[k - 1 - (long)n->base].chain;
	if (n->base && n->start.n_voters) {
		x.n_voters = n->start.n_voters;
		memcpy(x.voters, n->start.voters, sizeof(x.voters));
	}
	for (long i = 0; i < k - (long)n->base; i++)
		if (n->log[i].n_voters) {
			x.n_voters = n->log[i].n_voters;
			memcpy(x.voters, n->log[i].voters, sizeof(x.voters));
		}
	n->latest = x;
	trace(s, "node %d snapshots at %lld", n->id, (long long)x.end);
	if (rnd_in(s, 0, 1)) {
		size_t drop = (size_t)k - n->base;
		memmove(n->log, n->log + drop, (n->n - drop) * sizeof(*n->log));
		n->n -= drop;
		n->base = (size_t)k;
		n->start = x;
		trace(s, "node %d deletes its log below %lld", n->id, (long long)x.end);
	}
}

/* ---- the network: delay, loss, duplication, partitions ------------------ */

static bool connected(struct sim *s, int32_t a, int32_t b)
{
	return s->nodes[a].side == s->nodes[b].side;
}

static void enqueue(struct sim *s, const struct kp_raft_msg *m, int64_t at)
{
	struct sim_msg *x;
	size_t n = m->type == KP_RAFT_FETCH_RESP ? m->u.fetch_resp.n_entries : 0;
	if (s->nq == s->capq) {
		s->capq = s->capq ? 2 * s->capq : 256;
		s->q = realloc(s->q, s->capq * sizeof(*s->q));
		assert_non_null(s->q);
	}
	x = &s->q[s->nq++];
	x->at = at;
	x->seq = s->seq++;
	x->m = *m;
	x->entries = NULL;
	x->ids = NULL;
	x->bytes = NULL;
	x->vsets = NULL;
	if (m->type == KP_RAFT_FETCH_SNAPSHOT_RESP && m->u.fetch_snapshot_resp.len) {
		x->bytes = malloc(m->u.fetch_snapshot_resp.len);
		assert_non_null(x->bytes);
		memcpy(x->bytes, m->u.fetch_snapshot_resp.data, m->u.fetch_snapshot_resp.len);
		x->m.u.fetch_snapshot_resp.data = x->bytes;
	}
	if (n) {
		x->entries = malloc(n * sizeof(*x->entries));
		x->ids = malloc(n * sizeof(*x->ids));
		x->vsets = malloc(n * sizeof(*x->vsets));
		assert_true(x->entries && x->ids && x->vsets);
		for (size_t i = 0; i < n; i++) {
			x->entries[i] = m->u.fetch_resp.entries[i];
			x->ids[i] = 0;
			if (x->entries[i].data)
				memcpy(&x->ids[i], x->entries[i].data, sizeof(uint64_t));
			x->entries[i].data = x->entries[i].data ? (const uint8_t *)&x->ids[i] : NULL;
			if (x->entries[i].n_voters > 0 && x->entries[i].n_voters <= MAX_NODES) {
				memcpy(x->vsets[i], x->entries[i].voters,
				       sizeof(int32_t) * (size_t)x->entries[i].n_voters);
				x->entries[i].voters = x->vsets[i];
			}
		}
	}
	if (m->type == KP_RAFT_FETCH_RESP)
		x->m.u.fetch_resp.entries = x->entries;
}

static void op_send(void *o, const struct kp_raft_msg *m)
{
	struct sim_node *n = o;
	struct sim *s = n->sim;
	int copies = 1;
	if (m->to < 0 || m->to >= s->n_nodes || !connected(s, m->from, m->to))
		return;
	if (s->faults && (int)rnd_in(s, 0, 99) < s->drop_pct)
		return;
	if (s->faults && (int)rnd_in(s, 0, 99) < s->dup_pct)
		copies = 2;
	while (copies--)
		enqueue(s, m, s->now + rnd_in(s, 1, s->faults ? s->max_delay : 5));
}

/* ---- commitment and leadership checks ------------------------------------- */

static void op_on_hw(void *o, int64_t hw)
{
	struct sim_node *n = o;
	struct sim *s = n->sim;
	long k = entries_to(n, hw), c;
	uint64_t chain = 0, prev = 0;
	int64_t cend = s->n_committed ? s->committed[s->n_committed - 1].offset +
					s->committed[s->n_committed - 1].count : 0;
	n->hw = hw;
	if (hw == 0 || hw < log_start(n))
		return; /* inside its snapshot, committed before */
	if (k < 0 || !node_chain(n, (size_t)k, &chain)) {
		violate(s, "node %d reports high watermark %lld inside an entry or past its log",
			n->id, (long long)hw);
		return;
	}
	if (hw <= cend) {
		c = entry_ending_at(s->committed, s->n_committed, hw);
		if (c + 1 != k || s->committed[c].chain != chain)
			violate(s, "node %d commits up to %lld a log that differs from the committed one",
				n->id, (long long)hw);
		return;
	}
	if (s->n_committed && (!node_chain(n, s->n_committed, &prev) ||
			       prev != s->committed[s->n_committed - 1].chain)) {
		violate(s, "node %d extends the committed log from a different prefix", n->id);
		return;
	}
	s->committed = realloc(s->committed, (size_t)k * sizeof(*s->committed));
	assert_non_null(s->committed);
	for (size_t g = s->n_committed; g < (size_t)k; g++) {
		s->committed[g] = n->log[g - n->base];
		s->committed[g].commit_epoch = kp_raft_epoch(n->raft);
		if (s->committed[g].n_voters) {
			s->n_cvs = s->committed[g].n_voters;
			memcpy(s->cvs, s->committed[g].voters, sizeof(s->cvs));
		}
	}
	s->n_committed = (size_t)k;
	trace(s, "committed up to %lld (node %d)", (long long)hw, n->id);
}

/* Whether n's log (or the snapshot it starts after) holds the first k
 * committed entries. */
static bool holds_committed_prefix(const struct sim *s, const struct sim_node *n, size_t k)
{
	uint64_t chain;
	if (k == 0)
		return true;
	if (k < n->base)
		k = n->base; /* the hash chain of the snapshot covers what is before */
	return k <= s->n_committed && node_chain(n, k, &chain) && chain == s->committed[k - 1].chain;
}

static bool holds_committed(const struct sim *s, const struct sim_node *n)
{
	return holds_committed_prefix(s, n, s->n_committed);
}

static void op_on_role(void *o, enum kp_raft_role role, int32_t epoch, int32_t leader)
{
	struct sim_node *n = o;
	struct sim *s = n->sim;
	trace(s, "node %d: %s epoch %d leader %d", n->id, kp_raft_role_name(role), epoch, leader);
	if (role != KP_RAFT_LEADER)
		return;
	if ((size_t)epoch >= s->n_leader_of) {
		size_t m = (size_t)epoch + 16;
		s->leader_of = realloc(s->leader_of, m * sizeof(*s->leader_of));
		assert_non_null(s->leader_of);
		for (size_t i = s->n_leader_of; i < m; i++)
			s->leader_of[i] = -1;
		s->n_leader_of = m;
	}
	if (s->leader_of[epoch] >= 0 && s->leader_of[epoch] != n->id)
		violate(s, "election safety: nodes %d and %d both lead epoch %d",
			s->leader_of[epoch], n->id, epoch);
	s->leader_of[epoch] = n->id;
	/* Raft's leader completeness: every entry committed in an earlier
	 * epoch (a leader of a lower epoch may be elected after a higher
	 * one has committed more; those it need not hold) */
	size_t k = 0;
	while (k < s->n_committed && s->committed[k].commit_epoch < epoch)
		k++;
	if (!holds_committed_prefix(s, n, k))
		violate(s, "leader completeness: leader %d of epoch %d lacks committed entries",
			n->id, epoch);
}

/* Every quorum of the newest committed voter set holds every committed
 * entry: it is on the disks of more than half... of the voters less half
 * (with one change at a time, n - n/2 of them, a majority for an odd n). */
static void check_durable(struct sim *s)
{
	int have = 0;
	for (int i = 0; i < s->n_cvs; i++)
		have += holds_committed(s, &s->nodes[s->cvs[i]]);
	if (have < s->n_cvs - s->n_cvs / 2)
		violate(s, "a committed entry is on %d of %d voters only", have, s->n_cvs);
}

/* ---- nodes: start, crash ------------------------------------------------- */

static void node_start(struct sim *s, struct sim_node *n)
{
	struct kp_raft_config cfg = s->base;
	struct kp_raft_ops ops = {
		.end_offset = op_end_offset, .last_epoch = op_last_epoch,
		.end_offset_for_epoch = op_end_offset_for_epoch, .append = op_append,
		.truncate = op_truncate, .read = op_read, .save_state = op_save_state,
		.send = op_send, .on_high_watermark = op_on_hw, .on_role = op_on_role,
		.log_start = op_log_start, .latest_snapshot = op_latest_snapshot,
		.snapshot_read = op_snapshot_read, .snapshot_write = op_snapshot_write,
		.snapshot_install = op_snapshot_install, .voters = op_voters, .opaque = n,
	};
	kp_error err;
	cfg.node_id = n->id;
	cfg.seed = s->seed * 1000003ULL + rnd(s);
	n->raft = kp_raft_new(&cfg, &ops, n->has_st ? &n->st : NULL, s->now, &err);
	assert_non_null(n->raft);
	n->up = true;
	n->hw = -1;
	trace(s, "node %d starts: epoch %d leader %d voted %d, log end %lld", n->id,
	      n->st.epoch, n->st.leader_id, n->st.voted_id, (long long)log_end(n));
}

static void node_crash(struct sim *s, struct sim_node *n)
{
	trace(s, "node %d crashes", n->id);
	kp_raft_free(n->raft);
	n->raft = NULL;
	n->up = false;
	n->partial_len = 0;
	n->down_until = s->now + rnd_in(s, 20, 600);
}

static void step_result(struct sim *s, struct sim_node *n, int rc, const kp_error *err)
{
	if (rc < 0)
		violate(s, "node %d fails: %s", n->id, err->msg);
}

/* ---- faults and proposals ------------------------------------------------- */

/* The leader of the highest epoch among the running nodes, or NULL. */
static struct sim_node *current_leader(struct sim *s)
{
	struct sim_node *best = NULL;
	for (int i = 0; i < s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->up && kp_raft_role(n->raft) == KP_RAFT_LEADER &&
		    (!best || kp_raft_epoch(n->raft) > kp_raft_epoch(best->raft)))
			best = n;
	}
	return best;
}

/* KIP-853: the leader adds a node that is not a voter, or removes one. */
static void change_voters(struct sim *s)
{
	struct sim_node *l = current_leader(s);
	int32_t ids[KP_RAFT_MAX_VOTERS], id = (int32_t)rnd_in(s, 0, s->n_nodes - 1);
	int n;
	int64_t off;
	kp_error err;
	bool member = false;
	if (!l)
		return;
	n = kp_raft_voters(l->raft, ids);
	for (int i = 0; i < n; i++)
		member |= ids[i] == id;
	off = member ? kp_raft_remove_voter(l->raft, id, s->now, &err)
		     : kp_raft_add_voter(l->raft, id, s->now, &err);
	trace(s, "node %d %s voter %d: %s", l->id, member ? "removes" : "adds", id,
	      off >= 0 ? "appended" : err.msg);
	s->changes += off >= 0;
}

static void partition(struct sim *s)
{
	for (int i = 0; i < s->n_nodes; i++)
		s->nodes[i].side = (int)rnd_in(s, 0, 1);
	trace(s, "partition");
}

static void heal(struct sim *s)
{
	for (int i = 0; i < s->n_nodes; i++)
		s->nodes[i].side = 0;
}

static void fault(struct sim *s)
{
	int k = (int)rnd_in(s, 0, 99);
	struct sim_node *n = &s->nodes[rnd_in(s, 0, s->n_nodes - 1)];
	if (k < s->crash_pct && n->up)
		node_crash(s, n);
	else if (k < s->crash_pct + s->part_pct)
		partition(s);
	else if (k < s->crash_pct + 2 * s->part_pct)
		heal(s);
	else if (k < s->crash_pct + 2 * s->part_pct + 10 && n->up &&
		 kp_raft_role(n->raft) == KP_RAFT_LEADER) {
		trace(s, "node %d resigns", n->id);
		kp_raft_resign(n->raft, s->now); /* a graceful shutdown's first step */
	} else if (k < s->crash_pct + 2 * s->part_pct + 40 && n->up) {
		take_snapshot(s, n);
	} else if (k < s->crash_pct + 2 * s->part_pct + 55 && s->membership) {
		change_voters(s);
	}
	s->next_fault = s->now + rnd_in(s, 20, 300);
}

/* Proposes an entry on a leader (the one of the highest epoch). */
static int64_t propose(struct sim *s)
{
	struct sim_node *best = current_leader(s);
	uint64_t id = ++s->next_id;
	int64_t off;
	kp_error err;
	if (!best)
		return -1;
	off = kp_raft_propose(best->raft, (const uint8_t *)&id, sizeof(id),
			      (int32_t)rnd_in(s, 1, 3), s->now, &err);
	trace(s, "node %d proposes %llu at %lld", best->id, (unsigned long long)id,
	      (long long)off);
	return off;
}

/* ---- the event loop ---------------------------------------------------------- */

static void deliver(struct sim *s, size_t qi)
{
	struct sim_msg x = s->q[qi];
	struct sim_node *n = &s->nodes[x.m.to];
	kp_error err;
	s->q[qi] = s->q[--s->nq];
	if (n->up && connected(s, x.m.from, x.m.to))
		step_result(s, n, kp_raft_receive(n->raft, &x.m, s->now, &err), &err);
	free(x.entries);
	free(x.ids);
	free(x.bytes);
	free(x.vsets);
}

/* The earliest pending event's time, and the message it is if one. */
static int64_t next_event(struct sim *s, long *msg)
{
	int64_t t = s->faults ? (s->next_fault < s->heal_at ? s->next_fault : s->heal_at)
			      : INT64_MAX;
	*msg = -1;
	if (s->next_propose < t)
		t = s->next_propose;
	for (int i = 0; i < s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		int64_t d = n->up ? kp_raft_next_deadline(n->raft) : n->down_until;
		if (d < t)
			t = d;
	}
	for (size_t i = 0; i < s->nq; i++)
		if (s->q[i].at < t || (s->q[i].at == t && *msg >= 0 && s->q[i].seq < s->q[*msg].seq) ||
		    (s->q[i].at == t && *msg < 0)) {
			t = s->q[i].at;
			*msg = (long)i;
		}
	return t < s->now ? s->now : t;
}

static void run_timers(struct sim *s)
{
	kp_error err;
	for (int i = 0; i < s->n_nodes && !s->violation[0]; i++) {
		struct sim_node *n = &s->nodes[i];
		if (!n->up && n->down_until <= s->now)
			node_start(s, n);
		else if (n->up && kp_raft_next_deadline(n->raft) <= s->now)
			step_result(s, n, kp_raft_tick(n->raft, s->now, &err), &err);
	}
	if (s->faults && s->now >= s->heal_at) {
		s->faults = false;
		heal(s);
		trace(s, "faults stop");
		for (int i = 0; i < s->n_nodes; i++)
			if (!s->nodes[i].up)
				s->nodes[i].down_until = s->now;
	} else if (s->faults && s->now >= s->next_fault) {
		fault(s);
	}
}

/* Liveness: after the faults, an entry proposed then reaches every node's
 * high watermark. Returns true when shown. */
static bool progressed(struct sim *s, int64_t *probe_end, int64_t *probe_at)
{
	int64_t off;
	if (s->faults)
		return false;
	if (*probe_end >= 0) {
		bool all = true;
		for (int i = 0; i < s->n_nodes; i++)
			all = all && s->nodes[i].up && s->nodes[i].hw >= *probe_end;
		if (all)
			return true;
		if (s->now - *probe_at < 1000)
			return false;
	}
	off = propose(s);
	if (off >= 0) {
		*probe_end = off + 1;
		*probe_at = s->now;
	}
	return false;
}

static void step(struct sim *s, int64_t *probe_end, int64_t *probe_at)
{
	long msg;
	s->now = next_event(s, &msg);
	if (msg >= 0) {
		deliver(s, (size_t)msg);
	} else if (s->now >= s->next_propose) {
		if (s->faults)
			propose(s);
		else if (progressed(s, probe_end, probe_at))
			s->next_propose = INT64_MAX;
		if (s->next_propose != INT64_MAX)
			s->next_propose = s->now + rnd_in(s, 10, 80);
	} else {
		run_timers(s);
	}
	check_durable(s);
}

/* ---- one seed ------------------------------------------------------------------ */

/* What a test fixes instead of the seed: broken rules, and the shape. */
struct knobs {
	bool double_vote, stale_vote, early_commit, hasty_change;
	int voters;    /* 0: from the seed */
	int observers; /* -1 with voters set: none; else from the seed */
	int pre_vote;  /* 0: from the seed, 1 on, -1 off */
};

static void setup(struct sim *s, uint64_t seed, const struct knobs *b)
{
	int k;
	memset(s, 0, sizeof(*s));
	s->seed = s->rng = seed;
	k = (int)rnd_in(s, 0, 9);
	s->n_voters = k == 0 ? 1 : k < 6 ? 3 : 5;
	s->n_nodes = s->n_voters + (int)rnd_in(s, 0, 1);
	if (b->voters)
		s->n_nodes = (s->n_voters = b->voters) + (b->observers < 0 ? 0 : b->observers);
	kp_raft_config_init(&s->base, 0);
	s->base.n_voters = s->n_voters;
	for (int i = 0; i < s->n_voters; i++)
		s->base.voters[i] = i;
	s->base.election_timeout_ms = 100;
	s->base.fetch_timeout_ms = 200;
	s->base.election_backoff_max_ms = 100;
	s->base.request_timeout_ms = 100;
	s->base.retry_backoff_ms = 10;
	s->base.fetch_max_wait_ms = 40;
	s->base.fetch_max_entries = (size_t)rnd_in(s, 1, 4);
	s->base.snapshot_chunk_bytes = (size_t)rnd_in(s, 5, SNAP_BYTES + 4);
	s->base.pre_vote = b->pre_vote ? b->pre_vote > 0 : rnd_in(s, 0, 1);
	s->base.bug_double_vote = b->double_vote;
	s->base.bug_stale_vote = b->stale_vote;
	s->base.bug_early_commit = b->early_commit;
	s->base.bug_hasty_change = b->hasty_change;
	s->drop_pct = (int)rnd_in(s, 0, 25);
	s->dup_pct = (int)rnd_in(s, 0, 10);
	s->max_delay = (int)rnd_in(s, 1, 60);
	s->crash_pct = (int)rnd_in(s, 5, 40);
	s->part_pct = (int)rnd_in(s, 0, 25);
	s->faults = true;
	s->membership = rnd_in(s, 0, 1);
	s->n_cvs = s->n_voters;
	for (int i = 0; i < s->n_voters; i++)
		s->cvs[i] = i;
	s->heal_at = rnd_in(s, FAULT_MS / 4, FAULT_MS);
	s->next_fault = rnd_in(s, 0, 200);
	s->next_propose = rnd_in(s, 0, 50);
	for (int i = 0; i < s->n_nodes; i++) {
		s->nodes[i].id = i;
		s->nodes[i].voter = i < s->n_voters;
		s->nodes[i].sim = s;
	}
	for (int i = 0; i < s->n_nodes; i++)
		node_start(s, &s->nodes[i]);
}

static void teardown(struct sim *s)
{
	struct chain_rec *c, *tmp;
	for (int i = 0; i < s->n_nodes; i++) {
		kp_raft_free(s->nodes[i].raft);
		free(s->nodes[i].log);
	}
	for (size_t i = 0; i < s->nq; i++) {
		free(s->q[i].entries);
		free(s->q[i].ids);
		free(s->q[i].bytes);
		free(s->q[i].vsets);
	}
	HASH_ITER(hh, s->chains, c, tmp) {
		HASH_DEL(s->chains, c);
		free(c);
	}
	free(s->q);
	free(s->leader_of);
	free(s->committed);
}

/* Runs one seed; returns false with *why filled on a violation. */
static bool run_seed(uint64_t seed, const struct knobs *b, bool verbose, char *why, size_t len,
		     int64_t *committed, long *installs, long *changes)
{
	struct sim s;
	int64_t probe_end = -1, probe_at = 0;
	long events = 0;
	setup(&s, seed, b);
	s.verbose = verbose;
	while (!s.violation[0] && (s.faults || s.next_propose != INT64_MAX)) {
		step(&s, &probe_end, &probe_at);
		if (s.now > s.heal_at + HEAL_MS)
			violate(&s, "liveness: no entry committed on every node %d ms after the faults stopped",
				HEAL_MS);
		else if (++events > 5000000)
			violate(&s, "livelock: 5000000 events");
	}
	bool ok = !s.violation[0];
	if (committed)
		*committed = (int64_t)s.n_committed;
	if (installs)
		*installs += s.installs;
	if (changes)
		*changes += s.changes;
	snprintf(why, len, "%s (%d voters, %d nodes)", s.violation, s.n_voters, s.n_nodes);
	teardown(&s);
	return ok;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : dflt;
}

/* ---- the tests ------------------------------------------------------------------- */

/* Every seed (30,000 by default; KP_RAFT_SEEDS, from KP_RAFT_SEED_BASE) keeps
 * every safety property and makes progress once the faults stop. With
 * KP_RAFT_SEED set, that one seed runs with a trace on standard error. */
static void test_seeds_keep_safety_and_liveness(void **state)
{
	struct knobs none = { 0 };
	char why[600];
	uint64_t one = env_u64("KP_RAFT_SEED", 0);
	uint64_t base = env_u64("KP_RAFT_SEED_BASE", 1), n = env_u64("KP_RAFT_SEEDS", 30000);
	int64_t committed, total = 0;
	long installs = 0, changes = 0;
	(void)state;
	if (one) {
		bool ok = run_seed(one, &none, true, why, sizeof(why), &committed, NULL, NULL);
		fprintf(stderr, "seed %llu: %s, %lld entries committed\n", (unsigned long long)one,
			ok ? "ok" : why, (long long)committed);
		assert_true(ok);
		return;
	}
	for (uint64_t seed = base; seed < base + n; seed++) {
		if (!run_seed(seed, &none, false, why, sizeof(why), &committed, &installs, &changes)) {
			fprintf(stderr, "seed %llu: %s\nreplay: KP_RAFT_SEED=%llu %s\n",
				(unsigned long long)seed, why, (unsigned long long)seed,
				"build-asan/tests/test_raft_sim");
			fail();
		}
		total += committed;
	}
	fprintf(stderr, "%llu seeds, %lld committed entries, %ld snapshots installed, "
		"%ld voter changes, no violation\n", (unsigned long long)n, (long long)total,
		installs, changes);
	assert_true(total > (int64_t)n); /* the schedules do commit things */
	assert_true(installs > (long)n / 100); /* and do catch replicas up from snapshots */
	assert_true(changes > (long)n / 100);  /* and change the voter set */
}

/* With a broken rule the simulator finds a violation of `expect` within
 * `max` seeds, and that seed replays to the same violation. */
static void expect_caught(const struct knobs *b, const char *expect, uint64_t max)
{
	char why[600], again[600];
	for (uint64_t seed = 1; seed <= max; seed++) {
		if (run_seed(seed, b, false, why, sizeof(why), NULL, NULL, NULL))
			continue;
		fprintf(stderr, "caught at seed %llu: %s\n", (unsigned long long)seed, why);
		assert_non_null(strstr(why, expect));
		assert_false(run_seed(seed, b, false, again, sizeof(again), NULL, NULL, NULL));
		assert_string_equal(why, again);
		return;
	}
	fail_msg("the broken rule went unnoticed for %llu seeds", (unsigned long long)max);
}

static void test_catches_a_second_vote_in_one_epoch(void **state)
{
	struct knobs b = { .double_vote = true };
	(void)state;
	expect_caught(&b, "election safety", 2000);
}

static void test_catches_votes_for_a_stale_log(void **state)
{
	struct knobs b = { .stale_vote = true };
	(void)state;
	expect_caught(&b, "commit", 2000);
}

/* Counting replicas of an older epoch's entries as commitment (the Raft
 * paper's figure 8): a committed entry can then be overwritten. */
static void test_catches_commit_by_counting_old_entries(void **state)
{
	struct knobs b = { .early_commit = true };
	(void)state;
	expect_caught(&b, "commit", 20000);
}

/* Runs the simulation without faults or proposals until `until` (ms). */
static void run_quiet_until(struct sim *s, int64_t until)
{
	int64_t probe_end = -1, probe_at = 0;
	while (s->now < until && !s->violation[0])
		step(s, &probe_end, &probe_at);
}

/* The leader every node agrees on, or -1. */
static int32_t agreed_leader(struct sim *s, int32_t *epoch)
{
	int32_t leader = kp_raft_leader(s->nodes[0].raft);
	*epoch = kp_raft_epoch(s->nodes[0].raft);
	for (int i = 1; i < s->n_nodes; i++)
		if (kp_raft_leader(s->nodes[i].raft) != leader || kp_raft_epoch(s->nodes[i].raft) != *epoch)
			return -1;
	return leader;
}

/* A follower cut off from the others for 2 s, then back: the epoch it
 * reached alone. With pre-votes the leader and epoch stay; without, the
 * returning voter's higher epoch deposes the leader. */
static int32_t epochs_after_isolation(bool pre_vote, int32_t *before)
{
	struct knobs k = { .voters = 3, .observers = -1, .pre_vote = pre_vote ? 1 : -1 };
	struct sim s;
	int32_t leader, epoch, victim;
	setup(&s, 7, &k);
	s.faults = false;
	s.next_propose = INT64_MAX;
	run_quiet_until(&s, 1000);
	leader = agreed_leader(&s, before);
	assert_true(leader >= 0);
	victim = (leader + 1) % 3;
	s.nodes[victim].side = 1;
	run_quiet_until(&s, 3000);
	s.nodes[victim].side = 0;
	run_quiet_until(&s, 4500);
	assert_string_equal(s.violation, "");
	int32_t now_leader = agreed_leader(&s, &epoch);
	assert_true(now_leader >= 0); /* settled again either way */
	if (pre_vote)
		assert_int_equal(now_leader, leader);
	teardown(&s);
	return epoch;
}

static void test_pre_vote_keeps_a_working_leader(void **state)
{
	int32_t before, after;
	(void)state;
	after = epochs_after_isolation(true, &before);
	assert_int_equal(after, before);
	after = epochs_after_isolation(false, &before);
	assert_true(after > before); /* the check can fail: without pre-votes it does */
}

/* Voter changes one at a time, each after the last one (and the leader's
 * own epoch) committed (the Raft dissertation's single-server changes, with
 * Ongaro's 2015 fix): without that, two sets without a common quorum can
 * each elect a leader. */
static void test_catches_overlapping_voter_changes(void **state)
{
	struct knobs b = { .hasty_change = true };
	(void)state;
	expect_caught(&b, "", 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds_keep_safety_and_liveness),
		cmocka_unit_test(test_pre_vote_keeps_a_working_leader),
		cmocka_unit_test(test_catches_a_second_vote_in_one_epoch),
		cmocka_unit_test(test_catches_votes_for_a_stale_log),
		cmocka_unit_test(test_catches_commit_by_counting_old_entries),
		cmocka_unit_test(test_catches_overlapping_voter_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
