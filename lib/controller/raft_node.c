/*
 * raft_node.c - the Raft node's lifecycle, the core's ops (log,
 * quorum-state, clock), delivering committed records to the owner and
 * proposing batches; see raft_node.h. Kafka's KafkaRaftClient driver
 * loop with its listener notifications (RaftClient.Listener.handleCommit,
 * handleLeaderChange).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller/quorum_state.h"
#include "controller/raft_node_internal.h"
#include "protocol/errors.h"
#include "record/records.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/file.h"

#define APPLY_MAX_ENTRIES 32 /* entries read from the log per step of the apply loop */

int64_t kp_rn_now(void)
{
	return kp_mono_ms();
}

int64_t kp_rn_wall(int64_t mono)
{
	return kp_wall_ms() - (kp_mono_ms() - mono);
}

void kp_rn_fail(struct kp_raft_node *n, const kp_error *err)
{
	if (n->failed)
		return;
	n->failed = true;
	n->fatal = *err;
	kp_diag_error("raft: metadata log replica failed: %s", err->msg);
	if (n->tick)
		event_del(n->tick);
	if (n->cb.on_fatal)
		n->cb.on_fatal(n->cb.opaque, err);
}

void kp_rn_schedule(struct kp_raft_node *n)
{
	int64_t now = kp_rn_now(), at = kp_raft_next_deadline(n->raft);
	int64_t p = kp_rn_pending_deadline(n);
	struct timeval tv;

	if (n->failed)
		return;
	if (p < at)
		at = p;
	at = at > now ? at - now : 0;
	if (at > 60000)
		at = 60000;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000 * 1000);
	event_add(n->tick, &tv);
}

/* peer_index - the index of `id` in peers, -1. */
static int peer_index(const struct kp_raft_node *n, int32_t id)
{
	for (int i = 0; i < n->peers.n; i++)
		if (n->peers.v[i].id == id)
			return i;
	return -1;
}

int kp_rn_learn(struct kp_raft_node *n, const struct kp_raft_node_voter *v)
{
	int i = peer_index(n, v->id);

	if (i >= 0 && (n->peers.v[i].port > 0 || v->port == 0))
		return i;
	if (i < 0 && n->peers.n == KP_RAFT_MAX_VOTERS)
		return -1;
	if (i < 0)
		i = n->peers.n++;
	n->peers.v[i] = *v;
	if (v->port > 0 && v->id != n->cfg.node_id)
		kp_diag_info("raft: voter %d is at %s:%d", v->id, v->host, v->port);
	return i;
}

int kp_rn_voter_index(struct kp_raft_node *n, int32_t id)
{
	struct kp_voter_set vs;
	int64_t off;
	int i = peer_index(n, id);

	if ((i >= 0 && n->peers.v[i].port > 0) || !kp_mlog_voter_set(n->log, INT64_MAX, &vs, &off))
		return i;
	for (int k = 0; k < vs.n; k++)
		if (vs.v[k].id == id && vs.v[k].port > 0)
			return kp_rn_learn(n, &vs.v[k]);
	return i;
}

kp_outconn *kp_rn_outconn(struct kp_raft_node *n, int i, enum kp_rn_kind kind)
{
	struct kp_outconn_config oc;
	char client_id[64];
	kp_error err;

	if (i < 0 || i >= n->peers.n || n->peers.v[i].port <= 0)
		return NULL;
	if (n->out[i][kind])
		return n->out[i][kind];
	kp_outconn_config_init(&oc);
	snprintf(client_id, sizeof(client_id), "raft-client-%d", n->cfg.node_id);
	oc.client_id = client_id;
	oc.connect_timeout_ms = n->cfg.request_timeout_ms;
	n->out[i][kind] = kp_outconn_new(n->base, n->peers.v[i].host, n->peers.v[i].port, &oc, &err);
	if (!n->out[i][kind])
		kp_diag_warn("raft: no connection to voter %d: %s", n->peers.v[i].id, err.msg);
	return n->out[i][kind];
}

/* leader_view - the (epoch, leader) on_leader should say: self only once ready. */
static int32_t leader_view(const struct kp_raft_node *n)
{
	int32_t leader = kp_raft_leader(n->raft);

	if (leader == n->cfg.node_id && !(n->ready && kp_raft_role(n->raft) == KP_RAFT_LEADER))
		return -1;
	return leader;
}

void kp_rn_after_core(struct kp_raft_node *n)
{
	int64_t hw;

	if (n->failed)
		return;
	if (n->ready && kp_raft_role(n->raft) != KP_RAFT_LEADER)
		n->ready = false; /* resigned, or a newer epoch began */
	hw = kp_raft_high_watermark(n->raft);
	if ((hw >= 0 && hw > n->apply_next) || leader_view(n) != n->leader_told || n->snap_deliver ||
	    n->change ||
	    kp_raft_epoch(n->raft) != n->leader_epoch_told ||
	    (!n->ready && kp_raft_role(n->raft) == KP_RAFT_LEADER))
		event_active(n->kick, EV_WRITE, 0);
	kp_rn_schedule(n);
}

void kp_rn_receive(struct kp_raft_node *n, const struct kp_raft_msg *msg)
{
	kp_error err;

	if (n->failed)
		return;
	if (kp_raft_receive(n->raft, msg, kp_rn_now(), &err) < 0) {
		kp_rn_fail(n, &err);
		return;
	}
	kp_rn_after_core(n);
}

void kp_rn_deliver_batch(struct kp_raft_node *n, const struct kp_raft_entry *e, int64_t offset)
{
	kp_record_iter *it = kp_record_iter_new(e->data, e->len, e->offset);
	struct kp_metadata_record rec;
	struct kp_record r;
	kp_arena arena;
	kp_error err;
	int rc;

	if (!it) {
		kp_diag_error("raft: out of memory applying batch at %lld", (long long)e->offset);
		return;
	}
	kp_arena_init(&arena);
	while ((rc = kp_record_iter_next(it, &r, &err)) == 1) {
		if (!r.value || kp_metadata_record_decode(r.value, (size_t)r.value_len, &arena, &rec,
							   &err) < 0) {
			kp_diag_error("raft: skipping undecodable metadata record at offset %lld: %s",
				      (long long)r.offset, r.value ? err.msg : "null value");
			continue;
		}
		if (n->cb.on_record)
			n->cb.on_record(n->cb.opaque, &rec, offset >= 0 ? offset : r.offset, e->epoch);
		kp_arena_free(&arena);
		kp_arena_init(&arena);
	}
	if (rc < 0)
		kp_diag_error("raft: cannot read batch at offset %lld: %s", (long long)e->offset,
			      err.msg);
	kp_arena_free(&arena);
	kp_record_iter_free(it);
}

/*
 * apply_step - deliver the committed entries from apply_next (at most
 * APPLY_MAX_ENTRIES), copied out of the log first since on_record may
 * propose (which reads and appends). Returns how many were delivered.
 */
static size_t apply_step(struct kp_raft_node *n, int64_t hw)
{
	struct kp_raft_entry ents[APPLY_MAX_ENTRIES];
	size_t got = kp_mlog_read(n->log, n->apply_next, ents, APPLY_MAX_ENTRIES), done = 0;
	kp_buf copy;

	kp_buf_init(&copy);
	for (size_t i = 0; i < got; i++)
		kp_buf_append(&copy, ents[i].data, ents[i].len);
	if (copy.oom) {
		kp_buf_free(&copy);
		return 0;
	}
	for (size_t i = 0, pos = 0; i < got && !n->failed; pos += ents[i].len, i++) {
		struct kp_raft_entry e = ents[i];

		e.data = copy.data + pos;
		if (e.offset + e.count > hw || e.offset + e.count <= n->apply_next)
			break; /* not committed yet (or a stale read) */
		if (!e.control)
			kp_rn_deliver_batch(n, &e, -1);
		n->apply_next = e.offset + e.count;
		n->last_applied = n->apply_next - 1;
		n->applied_epoch = e.epoch;
		n->snap_bytes += (int64_t)e.len;
		if (e.epoch == kp_raft_epoch(n->raft) && kp_raft_role(n->raft) == KP_RAFT_LEADER &&
		    kp_raft_leader(n->raft) == n->cfg.node_id)
			n->ready = true; /* our epoch's first entry (LeaderChange) is committed */
		done++;
	}
	kp_buf_free(&copy);
	return done;
}

/* tell_leader - on_leader when the view changed (noted first: the callback may propose). */
static void tell_leader(struct kp_raft_node *n)
{
	int32_t epoch = kp_raft_epoch(n->raft), leader = leader_view(n);

	if (epoch == n->leader_epoch_told && leader == n->leader_told)
		return;
	n->leader_epoch_told = epoch;
	n->leader_told = leader;
	if (n->cb.on_leader)
		n->cb.on_leader(n->cb.opaque, epoch, leader);
}

/* kick_cb - deferred from the core's calls: apply commits and tell leadership, from the loop. */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_raft_node *n = arg;
	int64_t before = n->apply_next, hw;

	if (n->failed || n->applying)
		return;
	n->applying = true;
	if (n->snap_deliver) {
		kp_rn_snapshot_deliver(n); /* the owner's state first, then the records after it */
		before = -1;
	}
	tell_leader(n); /* a new leader elsewhere, or an election: before its records */
	while (!n->failed && (hw = kp_raft_high_watermark(n->raft)) > n->apply_next)
		if (apply_step(n, hw) == 0)
			break;
	if (!n->failed && n->apply_next > before && n->cb.on_committed)
		n->cb.on_committed(n->cb.opaque, n->apply_next);
	if (!n->failed)
		tell_leader(n); /* ourselves, once the LeaderChange is applied */
	if (!n->failed)
		kp_rn_voters_progress(n);
	if (!n->failed)
		kp_rn_snapshot_maybe(n);
	n->applying = false;
	if (!n->failed && kp_raft_high_watermark(n->raft) > n->apply_next && n->apply_next > before)
		event_active(n->kick, EV_WRITE, 0); /* more than a step's worth */
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_raft_node *n = arg;
	int64_t now = kp_rn_now();
	kp_error err;

	if (n->failed)
		return;
	if (kp_raft_tick(n->raft, now, &err) < 0) {
		kp_rn_fail(n, &err);
		return;
	}
	kp_rn_expire_pending(n, now, false);
	kp_rn_after_core(n);
}

/* ---- the core's ops ------------------------------------------------------- */

/* save_state - ops->save_state: the quorum-state file. */
static int save_state(void *opaque, const struct kp_raft_quorum_state *st)
{
	struct kp_raft_node *n = opaque;
	int32_t ids[KP_RAFT_MAX_VOTERS];
	kp_error err;

	for (int i = 0; i < n->cfg.n_voters; i++)
		ids[i] = n->cfg.voters[i].id;
	if (kp_quorum_state_write(n->cfg.log_dir, st, ids, n->cfg.n_voters, &err) < 0) {
		kp_diag_error("%s", err.msg);
		return -1;
	}
	return 0;
}

/* on_role - ops->on_role: one INFO line per change, as Kafka's "Transitioned to" lines. */
static void on_role(void *opaque, enum kp_raft_role role, int32_t epoch, int32_t leader)
{
	kp_diag_info("raft: %s in epoch %d, leader %d", kp_raft_role_name(role), epoch, leader);
}

static void on_high_watermark(void *opaque, int64_t hw)
{
	kp_diag_debug("raft: high watermark %lld", (long long)hw);
}

/* The log's ops, from the core's single opaque (the node) to the kp_mlog. */
static int64_t log_end_offset(void *opaque)
{
	return kp_mlog_end_offset(((struct kp_raft_node *)opaque)->log);
}

static int32_t log_last_epoch(void *opaque)
{
	return kp_mlog_last_epoch(((struct kp_raft_node *)opaque)->log);
}

static void log_end_offset_for_epoch(void *opaque, int32_t epoch, int32_t *found, int64_t *end)
{
	kp_mlog_end_offset_for_epoch(((struct kp_raft_node *)opaque)->log, epoch, found, end);
}

static int log_append(void *opaque, const struct kp_raft_entry *entries, size_t n)
{
	kp_mlog *l = ((struct kp_raft_node *)opaque)->log;

	if (kp_mlog_append(l, entries, n) < 0) {
		kp_diag_error("cannot append to the metadata log: %s", kp_mlog_error(l)->msg);
		return -1;
	}
	return 0;
}

static int log_truncate(void *opaque, int64_t offset)
{
	kp_mlog *l = ((struct kp_raft_node *)opaque)->log;

	if (kp_mlog_truncate(l, offset) < 0) {
		kp_diag_error("cannot truncate the metadata log: %s", kp_mlog_error(l)->msg);
		return -1;
	}
	kp_diag_info("metadata log truncated to %lld", (long long)kp_mlog_end_offset(l));
	return 0;
}

static size_t log_read(void *opaque, int64_t offset, struct kp_raft_entry *out, size_t max)
{
	return kp_mlog_read(((struct kp_raft_node *)opaque)->log, offset, out, max);
}

/* ---- lifecycle ------------------------------------------------------------ */

void kp_raft_node_config_init(struct kp_raft_node_config *cfg, int32_t node_id)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->node_id = node_id;
	snprintf(cfg->listener_name, sizeof(cfg->listener_name), "CONTROLLER");
	cfg->election_timeout_ms = 1000;
	cfg->fetch_timeout_ms = 2000;
	cfg->election_backoff_max_ms = 1000;
	cfg->request_timeout_ms = 2000;
	cfg->retry_backoff_ms = 20;
	cfg->snapshot_max_bytes = 20971520;
	cfg->snapshot_interval_ms = 3600000;
	cfg->segment_bytes = 1073741824;
	cfg->pre_vote = KP_RN_PRE_VOTE_DEFAULT;
}

/* open_core - the metadata log, quorum-state and the Raft core. */
static int open_core(struct kp_raft_node *n, kp_error *err)
{
	struct kp_raft_ops ops = {
		.end_offset = log_end_offset, .last_epoch = log_last_epoch,
		.end_offset_for_epoch = log_end_offset_for_epoch, .append = log_append,
		.truncate = log_truncate, .read = log_read, .save_state = save_state,
		.send = kp_rn_send, .on_high_watermark = on_high_watermark, .on_role = on_role,
		.opaque = n,
	};

	kp_rn_snapshot_ops(&ops);
	struct kp_raft_quorum_state st;
	struct kp_raft_config rc;
	int32_t ids[KP_RAFT_MAX_VOTERS];
	int found;

	for (int i = 0; i < n->cfg.n_voters; i++)
		ids[i] = n->cfg.voters[i].id;
	if (kp_mkdir_p(n->cfg.log_dir, err) < 0 ||
	    kp_mlog_open(n->cfg.log_dir, n->cfg.node_id, ids, n->cfg.n_voters, n->cfg.segment_bytes,
			 &n->log, err) < 0 ||
	    kp_rn_snapshot_open(n, err) < 0 ||
	    (found = kp_quorum_state_read(n->cfg.log_dir, &st, err)) < 0)
		return -1;
	kp_mlog_set_endpoints(n->log, &n->peers, n->cfg.listener_name);
	kp_raft_config_init(&rc, n->cfg.node_id);
	memcpy(rc.voters, ids, sizeof(ids));
	rc.n_voters = n->cfg.n_voters;
	rc.election_timeout_ms = n->cfg.election_timeout_ms;
	rc.fetch_timeout_ms = n->cfg.fetch_timeout_ms;
	rc.election_backoff_max_ms = n->cfg.election_backoff_max_ms;
	rc.request_timeout_ms = n->cfg.request_timeout_ms;
	rc.retry_backoff_ms = n->cfg.retry_backoff_ms;
	rc.fetch_max_wait_ms = KP_RN_FETCH_MAX_WAIT_MS;
	rc.pre_vote = n->cfg.pre_vote;
	rc.seed = (uint64_t)kp_wall_ms() * 2654435761u ^ (uint64_t)n->cfg.node_id;
	n->raft = kp_raft_new(&rc, &ops, found ? &st : NULL, kp_rn_now(), err);
	if (!n->raft)
		return -1;
	kp_diag_info("raft: node %d (%s), metadata log dir %s: log end offset %lld, epoch %d",
		     n->cfg.node_id, kp_raft_is_voter(n->raft) ? "voter" : "observer", n->cfg.log_dir,
		     (long long)kp_mlog_end_offset(n->log), kp_raft_epoch(n->raft));
	return 0;
}

/*
 * init_peers - the endpoints: controller.quorum.voters, this node's own
 * (cfg.self), then those of the newest VotersRecord. Connections open on
 * first use (kp_rn_outconn).
 */
static void init_peers(struct kp_raft_node *n)
{
	struct kp_voter_set vs;
	int64_t off;

	n->peers.n = 0;
	for (int i = 0; i < n->cfg.n_voters; i++)
		n->peers.v[n->peers.n++] = n->cfg.voters[i];
	if (n->cfg.self.port > 0) {
		struct kp_raft_node_voter self = n->cfg.self;

		self.id = n->cfg.node_id;
		kp_rn_learn(n, &self);
	}
	if (kp_mlog_voter_set(n->log, INT64_MAX, &vs, &off))
		for (int i = 0; i < vs.n; i++)
			kp_rn_learn(n, &vs.v[i]);
}

/* check_config - voters present, ids unique, dir set. */
static int check_config(const struct kp_raft_node_config *cfg, kp_error *err)
{
	if (cfg->n_voters < 1 || cfg->n_voters > KP_RAFT_MAX_VOTERS)
		return kp_error_set(err, KP_EINVAL, "controller.quorum.voters: %d voters (1..%d)",
				    cfg->n_voters, KP_RAFT_MAX_VOTERS);
	for (int i = 0; i < cfg->n_voters; i++)
		for (int j = 0; j < i; j++)
			if (cfg->voters[i].id == cfg->voters[j].id)
				return kp_error_set(err, KP_EINVAL,
						    "controller.quorum.voters: voter %d twice",
						    cfg->voters[i].id);
	if (!cfg->log_dir[0])
		return kp_error_set(err, KP_EINVAL, "metadata.log.dir is empty");
	return 0;
}

kp_raft_node *kp_raft_node_new(struct event_base *base, const struct kp_raft_node_config *cfg,
			       const struct kp_raft_node_callbacks *cb, kp_error *err)
{
	struct kp_raft_node *n;

	if (check_config(cfg, err) < 0)
		return NULL;
	if (!(n = calloc(1, sizeof(*n)))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	n->cfg = *cfg;
	if (cb)
		n->cb = *cb;
	n->base = base;
	n->last_applied = -1;
	n->part_fd = -1;
	n->peers.n = 0;
	n->leader_told = KP_RAFT_NO_ID;
	n->leader_epoch_told = -1;
	n->tick = event_new(base, -1, 0, tick_cb, n);
	n->kick = event_new(base, -1, 0, kick_cb, n);
	if (!n->tick || !n->kick) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < cfg->n_voters; i++) /* what open_core's mlog takes endpoints from */
		n->peers.v[n->peers.n++] = cfg->voters[i];
	if (open_core(n, err) < 0)
		goto fail;
	init_peers(n);
	kp_rn_schedule(n);
	if (n->snap_deliver)
		event_active(n->kick, EV_WRITE, 0);
	return n;
fail:
	kp_raft_node_free(n);
	return NULL;
}

void kp_raft_node_free(kp_raft_node *n)
{
	if (!n)
		return;
	for (int i = 0; i < KP_RN_MAX_PENDING; i++)
		kp_ctl_request_free(n->pending[i]);
	memset(n->pending, 0, sizeof(n->pending));
	n->failed = true; /* outconn completions below must not reach the core */
	n->cb.on_fatal = NULL;
	for (int i = 0; i < KP_RAFT_MAX_VOTERS; i++)
		for (int k = 0; k < KP_RN_KINDS; k++)
			kp_outconn_free(n->out[i][k]);
	kp_raft_free(n->raft);
	kp_rn_snapshot_close(n);
	kp_ctl_request_free(n->change);
	kp_mlog_close(n->log);
	if (n->tick)
		event_free(n->tick);
	if (n->kick)
		event_free(n->kick);
	free(n);
}

/* ---- proposing ------------------------------------------------------------ */

/* build_batch - `recs` as one RecordBatch v2 (no key, the framed record as value) into `out`. */
static int build_batch(const struct kp_metadata_record *recs, size_t count, kp_buf *out,
		       kp_error *err)
{
	kp_batch_builder *b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, err);
	int64_t now = kp_wall_ms();
	kp_buf val;
	int rc = 0;

	if (!b)
		return -1;
	kp_buf_init(&val);
	for (size_t i = 0; i < count && rc == 0; i++) {
		struct kp_record r = { .timestamp = now, .key_len = -1 };

		kp_buf_reset(&val);
		if ((rc = kp_metadata_record_encode(&recs[i], &val, err)) < 0)
			break;
		r.value = val.data;
		r.value_len = (int32_t)val.len;
		rc = kp_batch_builder_add(b, &r, err);
	}
	if (rc == 0)
		rc = kp_batch_builder_finish(b, -1, out, err);
	kp_buf_free(&val);
	kp_batch_builder_free(b);
	return rc;
}

int64_t kp_raft_node_propose(kp_raft_node *n, const struct kp_metadata_record *recs, size_t count,
			     kp_error *err)
{
	int64_t base = -1;
	kp_buf batch;

	if (n->failed)
		return kp_error_set(err, KP_EIO, "the metadata log failed: %s", n->fatal.msg);
	if (!kp_raft_node_is_leader(n))
		return kp_error_kafka(err, KP_ERR_NOT_CONTROLLER, "node %d is not the active controller",
				      n->cfg.node_id);
	if (count == 0 || count > INT32_MAX)
		return kp_error_set(err, KP_EINVAL, "a batch of %zu records", count);
	kp_buf_init(&batch);
	if (build_batch(recs, count, &batch, err) < 0)
		goto out;
	base = kp_raft_propose(n->raft, batch.data, batch.len, (int32_t)count, kp_rn_now(), err);
	if (base < 0 && err->code == KP_EKAFKA)
		kp_error_kafka(err, KP_ERR_NOT_CONTROLLER, "node %d is not the active controller",
			       n->cfg.node_id);
	else if (base < 0)
		kp_rn_fail(n, err);
	kp_rn_after_core(n);
out:
	kp_buf_free(&batch);
	return base;
}

/* ---- accessors and shutdown ----------------------------------------------- */

int64_t kp_raft_node_high_watermark(const kp_raft_node *n)
{
	return kp_raft_high_watermark(n->raft);
}

int64_t kp_raft_node_log_end_offset(const kp_raft_node *n)
{
	return kp_mlog_end_offset(n->log);
}

int64_t kp_raft_node_last_applied(const kp_raft_node *n)
{
	return n->last_applied;
}

int32_t kp_raft_node_leader(const kp_raft_node *n)
{
	return kp_raft_leader(n->raft);
}

int32_t kp_raft_node_epoch(const kp_raft_node *n)
{
	return kp_raft_epoch(n->raft);
}

bool kp_raft_node_is_leader(const kp_raft_node *n)
{
	return n->ready && !n->failed && kp_raft_role(n->raft) == KP_RAFT_LEADER;
}

bool kp_raft_node_is_voter(const kp_raft_node *n)
{
	return kp_raft_is_voter(n->raft);
}

const struct kp_raft_node_voter *kp_raft_node_voter(const kp_raft_node *n, int32_t id)
{
	int i = peer_index(n, id);

	return i < 0 || !kp_raft_node_is_voter_id(n, id) ? NULL : &n->peers.v[i];
}

bool kp_raft_node_is_voter_id(const kp_raft_node *n, int32_t id)
{
	int32_t ids[KP_RAFT_MAX_VOTERS];
	int cnt = kp_raft_voters(n->raft, ids);

	for (int i = 0; i < cnt; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int kp_raft_node_voters(const kp_raft_node *n, struct kp_raft_node_voter *out)
{
	int32_t ids[KP_RAFT_MAX_VOTERS];
	int cnt = kp_raft_voters(n->raft, ids);

	for (int i = 0; i < cnt; i++) {
		int k = peer_index(n, ids[i]);

		if (k >= 0)
			out[i] = n->peers.v[k];
		else
			out[i] = (struct kp_raft_node_voter){ .id = ids[i] };
	}
	return cnt;
}

const struct kp_raft_node_config *kp_raft_node_config(const kp_raft_node *n)
{
	return &n->cfg;
}

const kp_raft *kp_raft_node_raft(const kp_raft_node *n)
{
	return n->raft;
}

void kp_raft_node_resign(kp_raft_node *n)
{
	if (n->failed)
		return;
	if (kp_raft_role(n->raft) == KP_RAFT_LEADER)
		kp_diag_info("raft: resigning leadership of epoch %d", kp_raft_epoch(n->raft));
	n->ready = false;
	kp_raft_resign(n->raft, kp_rn_now());
	kp_rn_after_core(n);
}

bool kp_raft_node_resigning(const kp_raft_node *n)
{
	for (int i = 0; i < n->peers.n; i++)
		if (n->out[i][KP_RN_END] && kp_outconn_in_flight(n->out[i][KP_RN_END]) > 0)
			return true;
	return false;
}

void kp_raft_node_flush(kp_raft_node *n)
{
	kp_rn_expire_pending(n, 0, true);
}

bool kp_raft_node_failed(const kp_raft_node *n, kp_error *err)
{
	if (n->failed && err)
		*err = n->fatal;
	return n->failed;
}
