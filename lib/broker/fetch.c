/*
 * fetch.c - Fetch (key 1), versions 0-17, with long polling.
 *
 * Each partition is read with kp_log_read from the fetch offset up to the
 * high watermark, at most partition_max_bytes, within the response's
 * max_bytes (v3+, KIP-74: the first batch is returned whole even if it is
 * larger). v0-1 get magic 0 and v2-3 magic 1 message sets converted with
 * kp_batch_to_legacy; v4+ get the stored v2 batches as they are, never
 * read into memory: kp_log_read_ranges names their file ranges, the
 * response carries them as external records (kp_msg_encode_ext) and the
 * connection sends them from the page cache with sendfile(2)
 * (kp_net_conn_reply_files). The logs' idle segments are cooled only
 * after that (kp_log_cool_idle), so every range of one answer stays
 * valid even when it reads one partition twice (see kp_log_read_ranges).
 * v13+ name topics by topic id (KIP-516). Fetch sessions (v7+, KIP-227)
 * are answered sessionless: session_id 0.
 *
 * Fetching from the closest replica (KIP-392): a follower hosting a
 * partition serves a consumer's Fetch v11+ up to its own high watermark
 * (Kafka's FetchParams.fetchOnlyLeader); a leader told by
 * replica.selector.class to choose replicas by rack answers a consumer
 * in another rack with PreferredReadReplica instead of records
 * (kp_replica_preferred_read).
 *
 * Replication throttles (KIP-73): a follower's Fetch gets no records of a
 * partition that kp_replica_leader_throttled names (leader-throttled here,
 * the follower out of the ISR, the leader quota exceeded), only its
 * offsets, as Kafka's ReplicaManager.readFromLog answers it; the records an
 * answer carries for leader-throttled partitions count against the leader
 * quota when it is sent. Such a partition adds nothing towards min_bytes,
 * so a parked fetch waits for others or for max_wait_ms.
 *
 * Long poll: when fewer than min_bytes are available, no partition has an
 * error and max_wait_ms > 0, the request is parked in the broker's
 * purgatory (purgatory.h) under the keys of the partitions it asks for.
 * An append to one of them wakes it (kp_broker_wake_partition); it then
 * re-counts and responds once min_bytes are there or the deadline has
 * passed. The connection holds its later requests meanwhile.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "broker/internal.h"
#include "broker/replica.h"
#include "record/legacy.h"
#include "util/clock.h"
#include "util/diag.h"

typedef struct kp_fetch_response_fetchable_topic_response fr_topic;
typedef struct kp_fetch_response_partition_data fr_partition;

static struct kp_topic *fetch_topic(struct kp_request *rq, const struct kp_fetch_request_fetch_topic *ft)
{
	if (rq->version >= 13)
		return kp_topics_find_id(rq->broker->topics, &ft->topic_id);
	return kp_topics_find(rq->broker->topics, ft->topic);
}

/*
 * partition_init - an empty answer for partition `index` with the schema's
 * defaults. AbortedTransactions (v4+) of a read is null for
 * read_uncommitted and empty for read_committed (no transactions yet), as
 * from Kafka.
 */
static void partition_init(fr_partition *out, int32_t index, bool read_committed)
{
	memset(out, 0, sizeof(*out));
	out->partition_index = index;
	out->high_watermark = -1;
	out->last_stable_offset = -1;
	out->log_start_offset = -1;
	out->diverging_epoch.epoch = -1;
	out->diverging_epoch.end_offset = -1;
	out->current_leader.leader_id = -1;
	out->current_leader.leader_epoch = -1;
	out->snapshot_id.end_offset = -1;
	out->snapshot_id.epoch = -1;
	out->aborted_transactions_count = read_committed ? 0 : -1;
	out->preferred_read_replica = -1;
	out->records.data = (const uint8_t *)"";
	out->records.len = 0;
}

/*
 * fetch_replica - the follower broker id of rq, or -1 for a consumer
 * (ReplicaId before v15, ReplicaState.ReplicaId from v15, KIP-903).
 */
static int32_t fetch_replica(const struct kp_request *rq)
{
	const struct kp_fetch_request *req = rq->body;

	return rq->version >= 15 ? req->replica_state.replica_id : req->replica_id;
}

/*
 * read_limit - the offset a read stops before: a follower reads up to the
 * log end offset, a consumer up to the high watermark (Kafka's
 * FetchIsolation LOG_END / HIGH_WATERMARK).
 */
static int64_t read_limit(const struct kp_request *rq, const struct kp_partition *p)
{
	return fetch_replica(rq) >= 0 ? INT64_MAX : kp_partition_high_watermark(p);
}

/*
 * leader_only - whether only the leader may answer rq: a follower's
 * fetch, or a consumer's before v11, which names no rack and cannot be
 * sent to a preferred read replica (Kafka's FetchParams.fetchOnlyLeader:
 * from a follower, or from a consumer without ClientMetadata, which
 * KafkaApis gives every Fetch v11+). Independent of replica.selector.class.
 */
static bool leader_only(const struct kp_request *rq)
{
	return fetch_replica(rq) >= 0 || rq->version < 11;
}

/*
 * partition_error - the error a hosted partition `p` answers fp with, or
 * NONE: NOT_LEADER_OR_FOLLOWER on a broker that is not its leader (but a
 * follower hosting it for a consumer's v11+ fetch, KIP-392) or to a
 * broker that is not one of its replicas, KAFKA_STORAGE_ERROR when
 * offline, and from v9 a current leader epoch other than ours (the one
 * the metadata gave a follower): FENCED_LEADER_EPOCH when older,
 * UNKNOWN_LEADER_EPOCH when newer (KIP-320; -1 skips the check).
 */
static int16_t partition_error(const struct kp_request *rq, const struct kp_partition *p,
			       const struct kp_fetch_request_fetch_partition *fp)
{
	int32_t replica = fetch_replica(rq);

	if ((p->follower && (leader_only(rq) || !p->hosted)) ||
	    (replica >= 0 && !kp_replica_is_follower_of(p, replica)))
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	if (!kp_partition_online(p))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	return rq->version >= 9 ? kp_partition_leader_epoch_error(p, fp->current_leader_epoch)
				: KP_ERR_NONE;
}

/*
 * offsets - fill out's high watermark, last stable offset (the high
 * watermark: no transactions) and log start offset from p.
 */
static void offsets(const struct kp_partition *p, fr_partition *out)
{
	out->high_watermark = kp_partition_high_watermark(p);
	out->last_stable_offset = out->high_watermark;
	out->log_start_offset = kp_log_start_offset(p->log);
}

/*
 * preferred_read - KIP-392: for a consumer's v11+ fetch of `p`, led here,
 * that kp_replica_preferred_read sends to a follower in the consumer's
 * rack, fill `out` with that follower as PreferredReadReplica, no records
 * and the leader's offsets, and return true: the answer goes at once
 * (Kafka's ReplicaManager.readFromLog skips the read, fetchMessages
 * responds immediately when a partition has a preferred read replica).
 */
static bool preferred_read(struct kp_request *rq, const struct kp_topic *t, const struct kp_partition *p,
			   const struct kp_fetch_request_fetch_partition *fp, fr_partition *out)
{
	const struct kp_fetch_request *req = rq->body;
	int32_t id;

	if (leader_only(rq))
		return false;
	id = kp_replica_preferred_read(rq->broker, p, req->rack_id,
				       rq->session ? rq->session->listener : NULL, fp->fetch_offset);
	if (id < 0)
		return false;
	out->preferred_read_replica = id;
	offsets(p, out);
	kp_diag_debug("fetch %s-%d at %lld: preferred read replica %d for client '%s' in rack '%s'",
		      t->name, p->index, (long long)fp->fetch_offset, id,
		      rq->hdr.client_id ? rq->hdr.client_id : "", req->rack_id);
	return true;
}

/*
 * diverging - v12+ with a last fetched epoch, as Kafka's
 * Partition.readRecords: OFFSET_OUT_OF_RANGE in out (and true) when our
 * log holds no end for that epoch (above every epoch kept) or the fetch
 * offset is below the log start; when our log does not hold that epoch up
 * to the fetch offset, out's DivergingEpoch gets the largest epoch we have
 * at or below it and its end offset, and true: the fetcher truncates there
 * (KIP-595 style replication of KIP-101 / KIP-279). False: read on.
 */
static bool diverging(const struct kp_request *rq, const struct kp_partition *p,
		      const struct kp_fetch_request_fetch_partition *fp, fr_partition *out)
{
	int32_t epoch;
	int64_t end;

	if (rq->version < 12 || fp->last_fetched_epoch < 0)
		return false;
	kp_log_epoch_end_offset(p->log, fp->last_fetched_epoch, &epoch, &end);
	if (epoch < 0 || end < 0 || fp->fetch_offset < kp_log_start_offset(p->log)) {
		out->error_code = KP_ERR_OFFSET_OUT_OF_RANGE; /* offsets stay -1, as Kafka's */
		return true;
	}
	if (epoch >= fp->last_fetched_epoch && end >= fp->fetch_offset)
		return false;
	out->diverging_epoch.epoch = epoch;
	out->diverging_epoch.end_offset = end;
	offsets(p, out);
	return true;
}

#define FETCH_MAX_RANGES 64 /* segments one partition's answer may span */

/* The file ranges of one partition's external records, in the request's arena. */
struct fetch_file {
	struct fetch_file *next;
	kp_log *log;    /* the log the ranges are of: cooled once they are duplicated (fetch_send) */
	size_t n;
	struct kp_log_range r[];
};

struct fetch_budget {
	int64_t left;   /* response max_bytes still unused */
	bool got_data;  /* some partition already returned bytes */
	size_t total;   /* bytes of records collected */
	bool error;     /* some partition has an error */
	struct fetch_file *files, **tail; /* external records in response order (v4+) */
	size_t nfiles;
	size_t throttled; /* bytes of leader-throttled partitions' records for a follower */
};

/* budget_init - an empty budget. */
static void budget_init(struct fetch_budget *bud)
{
	memset(bud, 0, sizeof(*bud));
	bud->tail = &bud->files;
}

/*
 * partition_max - the byte limit for the next partition: 0 and false when
 * it must return nothing (max_bytes used up by earlier partitions).
 */
static bool partition_max(const struct kp_fetch_request_fetch_partition *fp,
			  const struct fetch_budget *bud, size_t *max)
{
	int64_t m = fp->partition_max_bytes < bud->left ? fp->partition_max_bytes : bud->left;

	*max = m > 0 ? (size_t)m : 1;
	return m > 0 || !bud->got_data;
}

/*
 * read_ranges - v4+: the file ranges of one partition's records (limits as
 * read_partition); *len gets their total. With `keep`, they are copied
 * into the arena and appended to bud->files.
 */
static int read_ranges(struct kp_request *rq, struct kp_partition *p,
		       const struct kp_fetch_request_fetch_partition *fp, struct fetch_budget *bud,
		       bool keep, size_t *len, kp_error *err)
{
	struct kp_log_range r[FETCH_MAX_RANGES];
	struct fetch_file *ff;
	size_t max, n = 0;

	*len = 0;
	if (!partition_max(fp, bud, &max))
		return 0;
	if (kp_log_read_ranges(p->log, fp->fetch_offset, read_limit(rq, p), max, r,
			       FETCH_MAX_RANGES, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		*len += (size_t)r[i].len;
	if ((bud->got_data && *len > max) || *len > INT32_MAX)
		*len = n = 0;
	if (!keep || n == 0)
		return 0;
	if (!(ff = kp_request_alloc(rq, sizeof(*ff) + n * sizeof(r[0]))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	ff->next = NULL;
	ff->log = p->log;
	ff->n = n;
	memcpy(ff->r, r, n * sizeof(r[0]));
	*bud->tail = ff;
	bud->tail = &ff->next;
	bud->nfiles++;
	return 0;
}

/*
 * read_partition - v0-3: read and convert one partition's records
 * into `out`, at most min(partition_max_bytes, what is left of max_bytes).
 * The first partition with data returns its first batch whole even when
 * larger (KIP-74); a later partition whose next batch does not fit
 * returns nothing, so the response stays within max_bytes.
 */
static int read_partition(struct kp_request *rq, struct kp_partition *p,
			  const struct kp_fetch_request_fetch_partition *fp, struct fetch_budget *bud,
			  kp_buf *out, kp_error *err)
{
	size_t max;

	if (!partition_max(fp, bud, &max))
		return 0;
	if (kp_log_read(p->log, fp->fetch_offset, read_limit(rq, p), max, out, err) < 0)
		return -1;
	if (bud->got_data && out->len > max)
		out->len = 0;
	if (out->len > 0) {
		kp_buf legacy;

		kp_buf_init(&legacy);
		if (kp_batch_to_legacy(out->data, out->len, rq->version <= 1 ? 0 : 1, &legacy, err) < 0) {
			kp_buf_free(&legacy);
			return -1;
		}
		kp_buf_free(out);
		*out = legacy;
	}
	return 0;
}

/*
 * fetch_partition - answer one partition into `out` (may be NULL to only
 * count bytes). v0-3 records are copied into the request's arena; v4+
 * records are external (data NULL), their ranges in bud->files.
 */
static int fetch_partition(struct kp_request *rq, struct kp_topic *t, int16_t topic_error,
			   const struct kp_fetch_request_fetch_partition *fp, struct fetch_budget *bud,
			   fr_partition *out)
{
	fr_partition tmp;
	struct kp_partition *p = kp_topic_partition(t, fp->partition);
	kp_buf recs;
	size_t ext = 0;
	kp_error err;
	int32_t replica = fetch_replica(rq);
	bool throttled;

	if (!out)
		out = &tmp;
	partition_init(out, fp->partition,
		       ((const struct kp_fetch_request *)rq->body)->isolation_level == 1);
	if (!p) {
		out->error_code = t ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION : topic_error;
		out->aborted_transactions_count = 0; /* Kafka: [] when nothing was read */
		bud->error = true;
		return 0;
	}
	if ((out->error_code = partition_error(rq, p, fp)) != KP_ERR_NONE) {
		bud->error = true;
		return 0;
	}
	if (preferred_read(rq, t, p, fp, out) || diverging(rq, p, fp, out)) {
		bud->error = true; /* answered at once, as an error is */
		return 0;
	}
	kp_buf_init(&recs);
	throttled = replica >= 0 &&
		    kp_replica_leader_throttled(rq->broker, p, replica, kp_mono_ms());
	if (!throttled && (rq->version >= 4 ? read_ranges(rq, p, fp, bud, out != &tmp, &ext, &err)
					    : read_partition(rq, p, fp, bud, &recs, &err))) {
		out->error_code = err.code == KP_ERANGE ? KP_ERR_OFFSET_OUT_OF_RANGE
							: KP_ERR_KAFKA_STORAGE_ERROR;
		/* Kafka answers a failed read without offsets */
		out->high_watermark = out->last_stable_offset = out->log_start_offset = -1;
		if (err.code != KP_ERANGE)
			kp_diag_error("fetch from %s-%d: %s", t->name, p->index, err.msg);
		else if (replica < 0) /* a consumer resets its position on this: say why */
			kp_diag_info("fetch %s-%d at %lld for client '%s' (v%d) out of range [%lld, %lld] as %s, leader epoch %d",
				     t->name, p->index, (long long)fp->fetch_offset,
				     rq->hdr.client_id ? rq->hdr.client_id : "", rq->version,
				     (long long)kp_log_start_offset(p->log), (long long)kp_log_end_offset(p->log),
				     p->follower ? "follower" : "leader", p->leader_epoch);
		bud->error = true;
		goto done;
	}
	if (replica >= 0)
		kp_replica_follower_fetched(rq->broker, t, p, replica,
					    ((const struct kp_fetch_request *)rq->body)->replica_state.replica_epoch,
					    fp->fetch_offset, fp->log_start_offset);
	if (replica >= 0 && p->leader_throttled)
		bud->throttled += ext + recs.len;
	offsets(p, out);
	if (ext > 0) {
		bud->got_data = true;
		bud->left -= (int64_t)ext;
		bud->total += ext;
		out->records.data = NULL; /* external: its ranges are in bud->files */
		out->records.len = (int32_t)ext;
	} else if (recs.len > 0) {
		bud->got_data = true;
		bud->left -= (int64_t)recs.len;
		bud->total += recs.len;
		if (out != &tmp) {
			out->records.data = kp_arena_memdup(&rq->arena, recs.data, recs.len);
			out->records.len = (int32_t)recs.len;
			if (!out->records.data) {
				kp_buf_free(&recs);
				return -1;
			}
		}
	}
done:
	kp_buf_free(&recs);
	return 0;
}

/* fetch_collect - run the whole fetch; with resp, fill it; always count bytes into bud. */
static int fetch_collect(struct kp_request *rq, struct kp_fetch_response *resp, struct fetch_budget *bud)
{
	const struct kp_fetch_request *req = rq->body;
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
	fr_topic *topics = NULL;

	bud->left = req->max_bytes > 0 ? req->max_bytes : 0;
	if (resp && !(topics = kp_request_alloc(rq, sizeof(*topics) * (size_t)(nt ? nt : 1))))
		return -1;
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_fetch_request_fetch_topic *ft = &req->topics[i];
		struct kp_topic *t = fetch_topic(rq, ft);
		int16_t terr = rq->version >= 13 ? KP_ERR_UNKNOWN_TOPIC_ID : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		int32_t np = ft->partitions_count > 0 ? ft->partitions_count : 0;
		fr_partition *ps = NULL;

		if (resp) {
			ps = kp_request_alloc(rq, sizeof(*ps) * (size_t)(np ? np : 1));
			if (!ps)
				return -1;
			topics[i].topic = ft->topic;
			topics[i].topic_id = ft->topic_id;
			topics[i].partitions = ps;
			topics[i].partitions_count = np;
		}
		for (int32_t j = 0; j < np; j++)
			if (fetch_partition(rq, t, terr, &ft->partitions[j], bud, ps ? &ps[j] : NULL) < 0)
				return -1;
	}
	if (resp) {
		resp->responses = topics;
		resp->responses_count = nt;
	}
	return 0;
}

/*
 * file_parts - the kp_net_file_part list of the external records noted in
 * `refs` (one per bud->files entry, same order); malloc'ed, NULL without
 * memory. *n gets its length.
 */
static struct kp_net_file_part *file_parts(const struct fetch_budget *bud, const struct kp_ext_ref *refs,
					   size_t *n)
{
	struct kp_net_file_part *parts;
	size_t k = 0, i = 0;

	for (const struct fetch_file *f = bud->files; f; f = f->next)
		k += f->n;
	if (!(parts = malloc(sizeof(*parts) * (k ? k : 1))))
		return NULL;
	for (const struct fetch_file *f = bud->files; f; f = f->next, i++)
		for (size_t j = 0; j < f->n; j++)
			parts[(*n)++] = (struct kp_net_file_part){ refs[i].pos, f->r[j].fd, f->r[j].pos,
								   f->r[j].len };
	return parts;
}

/*
 * read_logs - the log of each of bud's external records (malloc'ed,
 * bud->nfiles of them), to cool once their ranges are duplicated; NULL
 * without memory (they are cooled by a later read).
 */
static kp_log **read_logs(const struct fetch_budget *bud)
{
	kp_log **v = malloc(sizeof(*v) * (bud->nfiles ? bud->nfiles : 1));
	size_t i = 0;

	for (const struct fetch_file *f = bud->files; v && f; f = f->next)
		v[i++] = f->log;
	return v;
}

/*
 * fetch_send - encode `resp` with its external records and queue it with
 * their file ranges (kp_net_conn_reply_files); frees rq. Without external
 * records it is kp_request_respond. The leader-throttled bytes of `bud`
 * count against the leader quota.
 */
static void fetch_send(struct kp_request *rq, const struct kp_fetch_response *resp,
		       const struct fetch_budget *bud)
{
	kp_net_conn *conn = rq->conn;
	struct kp_ext_sink sink = { NULL, bud->nfiles, 0 };
	struct kp_net_file_part *parts = NULL;
	size_t n = 0;
	kp_log **logs;
	kp_error err;
	kp_buf out;

	if (bud->throttled > 0) /* KafkaApis records it as the answer goes */
		kp_replica_leader_throttle_record(rq->broker, (int64_t)bud->throttled,
						  kp_mono_ms());
	if (bud->nfiles == 0) {
		KP_RESPOND(rq, FETCH, resp);
		return;
	}
	kp_buf_init(&out);
	sink.refs = malloc(sizeof(*sink.refs) * bud->nfiles);
	if (!sink.refs) {
		kp_error_set(&err, KP_ENOMEM, "out of memory");
		goto send;
	}
	if (kp_response_encode_ext(rq->api_key, rq->version, rq->hdr.correlation_id, resp, &out,
				   &sink, &err) < 0)
		goto send;
	if (sink.n != bud->nfiles)
		kp_error_set(&err, KP_EINVAL, "%zu external records encoded, %zu expected", sink.n,
			     bud->nfiles);
	else if (!(parts = file_parts(bud, sink.refs, &n)))
		kp_error_set(&err, KP_ENOMEM, "out of memory");
send:
	logs = read_logs(bud); /* bud lives in rq's arena */
	kp_request_free(rq);
	if (parts)
		kp_net_conn_reply_files(conn, &out, parts, n); /* duplicates the fds */
	else
		kp_net_conn_fail(conn, err.msg);
	for (size_t i = 0; logs && i < bud->nfiles; i++) /* bud itself is the caller's */
		kp_log_cool_idle(logs[i]); /* only now: one log may be read twice for one answer */
	free(logs);
	free(parts);
	free(sink.refs);
	kp_buf_free(&out);
}

/* fetch_build - the whole response in rq's arena (bytes counted into bud); NULL without memory. */
static struct kp_fetch_response *fetch_build(struct kp_request *rq, struct fetch_budget *bud)
{
	struct kp_fetch_response *resp = kp_fetch_response_new(&rq->arena, 1);

	if (!resp)
		return NULL;
	return fetch_collect(rq, resp, bud) < 0 ? NULL : resp;
}

/* fetch_respond - build the response and send it; frees rq. */
static void fetch_respond(struct kp_request *rq)
{
	struct fetch_budget bud;

	budget_init(&bud);
	struct kp_fetch_response *resp = fetch_build(rq, &bud);

	if (!resp) {
		kp_net_conn *conn = rq->conn;

		kp_request_free(rq);
		kp_net_conn_fail(conn, "out of memory building a fetch response");
		return;
	}
	fetch_send(rq, resp, &bud);
}

/*
 * fetch_waiting - the purgatory's callback for a parked fetch `arg` (its
 * request): on a wake, answer once min_bytes are there, else wait on; on
 * expiry, hangup or shutdown answer with what there is; on close free it.
 */
static bool fetch_waiting(void *arg, enum kp_op_reason why)
{
	struct kp_request *rq = arg;
	const struct kp_fetch_request *req = rq->body;
	struct fetch_budget bud;

	if (why == KP_OP_CLOSED) {
		kp_request_free(rq);
		return true;
	}
	budget_init(&bud);
	if (why == KP_OP_WAKE && !rq->broker->stopping && fetch_collect(rq, NULL, &bud) == 0 &&
	    !bud.error && bud.total < (size_t)req->min_bytes)
		return false;
	fetch_respond(rq);
	return true;
}

/* fetch_park - park rq until one of its partitions gets data or max_wait_ms passes. */
static int fetch_park(struct kp_request *rq, kp_error *err)
{
	const struct kp_fetch_request *req = rq->body;
	struct kp_watch_key *keys;
	size_t n = 0, cap = 0;
	int rc;

	for (int32_t i = 0; i < req->topics_count; i++)
		cap += (size_t)req->topics[i].partitions_count;
	if (!(keys = malloc(sizeof(*keys) * (cap ? cap : 1))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_fetch_request_fetch_topic *ft = &req->topics[i];
		const struct kp_topic *t = fetch_topic(rq, ft);

		for (int32_t j = 0; t && j < ft->partitions_count; j++)
			kp_watch_key_partition(&keys[n++], &t->id, ft->partitions[j].partition);
	}
	rc = kp_purgatory_park(rq->broker->purgatory, rq->conn, req->max_wait_ms, keys, n,
			       fetch_waiting, rq, err);
	free(keys);
	return rc;
}

/* asks_partitions - whether the request names any partition (Kafka answers an empty one at once). */
static bool asks_partitions(const struct kp_fetch_request *req)
{
	for (int32_t i = 0; i < req->topics_count; i++)
		if (req->topics[i].partitions_count > 0)
			return true;
	return false;
}

/*
 * kp_handle_fetch - answer at once when min_bytes are available, a
 * partition has an error, no partition is asked for (the Java consumer's
 * Fetch on close) or max_wait_ms is 0; else park. The response is
 * built first so the common case reads each partition once; a parked
 * request leaves that (smaller than min_bytes) draft in its arena.
 */
int kp_handle_fetch(struct kp_request *rq, kp_error *err)
{
	const struct kp_fetch_request *req = rq->body;
	struct fetch_budget bud;

	budget_init(&bud);
	struct kp_fetch_response *resp = fetch_build(rq, &bud);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (req->max_wait_ms > 0 && req->min_bytes > 0 && !rq->broker->stopping && !bud.error &&
	    bud.total < (size_t)req->min_bytes && asks_partitions(req))
		return fetch_park(rq, err);
	fetch_send(rq, resp, &bud);
	return 0;
}
