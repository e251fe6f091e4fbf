/*
 * group_offsets.c - a group member's partitions: OffsetFetch for the
 * start of newly assigned ones, OffsetCommit of consumer positions, and
 * applying a new assignment (revoke with a commit, add from the committed
 * offset or the reset position); see group.h.
 *
 * OffsetFetch is sent without member id and epoch (-1: not validated),
 * which both protocols accept; OffsetCommit carries the generation id
 * (classic) or the member epoch (consumer, KIP-848) and the member id.
 */
#include "client/group_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

#define OFFSET_FETCH_MAX 9
#define OFFSET_COMMIT_MAX 9

void kp_tpset_clear(struct tpset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->tp[i].topic);
	free(s->tp);
	s->tp = NULL;
	s->n = 0;
}

int kp_tpset_add(struct tpset *s, const char *topic, int32_t partition)
{
	struct kp_tp *tp = realloc(s->tp, (s->n + 1) * sizeof *tp);
	char *t = strdup(topic);

	if (tp)
		s->tp = tp;
	if (!tp || !t) {
		free(t);
		return -1;
	}
	s->tp[s->n++] = (struct kp_tp){ t, partition };
	return 0;
}

static bool tp_in(const struct kp_tp *tps, size_t n, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < n; i++)
		if (tps[i].partition == partition && strcmp(tps[i].topic, topic) == 0)
			return true;
	return false;
}

/* Index in topics[0..*n) of `name`, appended if new (names borrowed). */
static size_t topic_slot(const char **topics, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(topics[i], name) == 0)
			return i;
	topics[*n] = name;
	return (*n)++;
}

/* Build OffsetFetch topics (both the v0-7 and the v8+ shapes) for tps in `a`. */
static int fetch_request(kp_member *g, const struct kp_tp *tps, size_t n, kp_arena *a,
			 struct kp_offset_fetch_request *req)
{
	struct kp_offset_fetch_request_offset_fetch_request_group *grp =
		kp_offset_fetch_request_offset_fetch_request_group_new(a, 1);
	struct kp_offset_fetch_request_offset_fetch_request_topic *t =
		kp_offset_fetch_request_offset_fetch_request_topic_new(a, n);
	struct kp_offset_fetch_request_offset_fetch_request_topics *t8 =
		kp_offset_fetch_request_offset_fetch_request_topics_new(a, n);
	const char **names = kp_arena_alloc(a, (n + 1) * sizeof *names);
	size_t nt = 0;

	if (!grp || !t || !t8 || !names)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t k = topic_slot(names, &nt, tps[i].topic);
		if (!t[k].partition_indexes &&
		    !(t[k].partition_indexes = kp_arena_alloc(a, n * sizeof(int32_t))))
			return -1;
		t[k].name = (char *)names[k];
		t[k].partition_indexes[t[k].partition_indexes_count++] = tps[i].partition;
	}
	for (size_t k = 0; k < nt; k++)
		t8[k] = (struct kp_offset_fetch_request_offset_fetch_request_topics){
			t[k].name, t[k].partition_indexes, t[k].partition_indexes_count };
	kp_offset_fetch_request_init(req);
	req->group_id = g->group_id;
	req->topics = t;
	req->topics_count = (int32_t)nt;
	grp->group_id = g->group_id;
	grp->member_id = NULL;
	grp->member_epoch = -1;
	grp->topics = t8;
	grp->topics_count = (int32_t)nt;
	req->groups = grp;
	req->groups_count = 1;
	return 0;
}

/* Store each answered partition's committed offset in out[] (index as in tps). */
static int fetch_result(kp_member *g, const struct kp_offset_fetch_response *r, int v,
			const struct kp_tp *tps, size_t n, int64_t *out, kp_error *err)
{
	int16_t code = v >= 8 ? (r->groups_count == 1 ? r->groups[0].error_code : 0) : r->error_code;

	if (v >= 8 && r->groups_count != 1)
		return kp_error_set(err, KP_EPROTO, "bad OffsetFetch response for group '%s'", g->group_id);
	if (code)
		return kp_error_kafka(err, code, "cannot fetch the offsets of group '%s'", g->group_id);
	int32_t ntop = v >= 8 ? r->groups[0].topics_count : r->topics_count;
	for (int32_t t = 0; t < ntop; t++) {
		const char *name = v >= 8 ? r->groups[0].topics[t].name : r->topics[t].name;
		int32_t np = v >= 8 ? r->groups[0].topics[t].partitions_count : r->topics[t].partitions_count;
		for (int32_t j = 0; j < np; j++) {
			int32_t p = v >= 8 ? r->groups[0].topics[t].partitions[j].partition_index
					   : r->topics[t].partitions[j].partition_index;
			int64_t off = v >= 8 ? r->groups[0].topics[t].partitions[j].committed_offset
					     : r->topics[t].partitions[j].committed_offset;
			int16_t e = v >= 8 ? r->groups[0].topics[t].partitions[j].error_code
					   : r->topics[t].partitions[j].error_code;
			if (e)
				return kp_error_kafka(err, e, "cannot fetch the committed offset of topic %s "
						      "partition %d", name, (int)p);
			for (size_t i = 0; i < n; i++)
				if (tps[i].partition == p && strcmp(tps[i].topic, name) == 0)
					out[i] = off;
		}
	}
	return 0;
}

/* OffsetFetch for tps: out[i] is the committed offset, -1 where there is none. */
static int offset_fetch(kp_member *g, const struct kp_tp *tps, size_t n, int64_t *out,
			kp_error *err)
{
	int timeout = kp_cluster_config(g->cluster)->request_timeout_ms;

	for (;;) {
		struct kp_offset_fetch_request req;
		struct kp_offset_fetch_response resp;
		kp_arena a;
		int v, rc = -1;
		kp_arena_init(&a);
		for (size_t i = 0; i < n; i++)
			out[i] = -1;
		if (fetch_request(g, tps, n, &a, &req) < 0)
			kp_error_set(err, KP_ENOMEM, "out of memory");
		else if (kp_member_call(g, KP_API_OFFSET_FETCH, OFFSET_FETCH_MAX, &req, &a, &resp, timeout,
				       &v, err) == 0)
			rc = fetch_result(g, &resp, v, tps, n, out, err);
		kp_arena_free(&a);
		if (rc == 0) {
			g->failing_since = 0;
			return 0;
		}
		bool again = err && (err->code == KP_ECONN || err->code == KP_ETIMEDOUT ||
				     (err->code == KP_EKAFKA && (kp_member_coord_error(err->kafka_code) ||
								 kp_retriable(err->kafka_code))));
		if (!again || kp_member_conn_trouble(g, err) < 0)
			return -1;
	}
}

int kp_member_committed(kp_member *g, const struct kp_tp *tps, size_t n, int64_t *out,
			kp_error *err)
{
	return n > 0 ? offset_fetch(g, tps, n, out, err) : 0;
}

/* Start reading the newly assigned tps from their committed offsets (or the reset position). */
static int add_partitions(kp_member *g, const struct kp_tp *tps, size_t n, kp_error *err)
{
	int64_t *off = calloc(n + 1, sizeof *off);
	struct owned *o = realloc(g->owned, (g->nowned + n + 1) * sizeof *o);
	int rc = -1;

	if (o)
		g->owned = o;
	if (!off || !o) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (n > 0 && offset_fetch(g, tps, n, off, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int whence = off[i] >= 0 ? KP_SEEK_OFFSET : g->whence;
		int64_t value = off[i] >= 0 ? off[i] : g->value;
		char *t = strdup(tps[i].topic);
		if (!t) {
			kp_error_set(err, KP_ENOMEM, "out of memory");
			goto out;
		}
		g->owned[g->nowned++] = (struct owned){ t, tps[i].partition, off[i] };
		if (kp_consumer_assign(g->consumer, t, tps[i].partition, whence, value, err) < 0)
			goto out;
		kp_diag_debug("group '%s': assigned topic %s partition %d from %s %lld", g->group_id, t,
			      (int)tps[i].partition, off[i] >= 0 ? "committed offset" : "reset",
			      (long long)value);
	}
	rc = 0;
out:
	free(off);
	return rc;
}

static bool owns(const kp_member *g, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < g->nowned; i++)
		if (g->owned[i].partition == partition && strcmp(g->owned[i].topic, topic) == 0)
			return true;
	return false;
}

static void drop_owned(kp_member *g, size_t i)
{
	kp_consumer_unassign(g->consumer, g->owned[i].topic, g->owned[i].partition);
	free(g->owned[i].topic);
	g->owned[i] = g->owned[--g->nowned];
}

void kp_member_lose_all(kp_member *g)
{
	while (g->nowned > 0)
		drop_owned(g, g->nowned - 1);
}

int kp_member_assign_set(kp_member *g, const struct kp_tp *tps, size_t n, bool *revoked,
			kp_error *err)
{
	struct kp_tp *rev = calloc(g->nowned + 1, sizeof *rev), *add = calloc(n + 1, sizeof *add);
	size_t nrev = 0, nadd = 0;
	kp_error e;
	int rc = -1;

	if (!rev || !add) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < g->nowned; i++)
		if (!tp_in(tps, n, g->owned[i].topic, g->owned[i].partition))
			rev[nrev++] = (struct kp_tp){ g->owned[i].topic, g->owned[i].partition };
	for (size_t i = 0; i < n; i++)
		if (!owns(g, tps[i].topic, tps[i].partition) &&
		    !tp_in(add, nadd, tps[i].topic, tps[i].partition))
			add[nadd++] = tps[i];
	if (nrev > 0 && kp_member_commit_some(g, rev, nrev, &e) < 0)
		kp_diag_warn("%s", e.msg);
	for (size_t i = g->nowned; i-- > 0;)
		if (!tp_in(tps, n, g->owned[i].topic, g->owned[i].partition))
			drop_owned(g, i);
	*revoked = nrev > 0;
	rc = add_partitions(g, add, nadd, err);
	g->has_assignment = true;
out:
	free(rev);
	free(add);
	return rc;
}

/* Fill the OffsetCommit topics in `a` from owned partitions whose position moved. */
static long commit_request(kp_member *g, const struct kp_tp *only, size_t n, kp_arena *a,
			   struct kp_offset_commit_request *req, int64_t *pos)
{
	struct kp_offset_commit_request_offset_commit_request_topic *t =
		kp_offset_commit_request_offset_commit_request_topic_new(a, g->nowned + 1);
	const char **names = kp_arena_alloc(a, (g->nowned + 1) * sizeof *names);
	size_t nt = 0;
	long count = 0;

	if (!t || !names)
		return -1;
	for (size_t i = 0; i < g->nowned; i++) {
		const struct owned *o = &g->owned[i];
		pos[i] = kp_consumer_position(g->consumer, o->topic, o->partition);
		if (pos[i] < 0 || pos[i] == o->committed || (only && !tp_in(only, n, o->topic, o->partition))) {
			pos[i] = -1;
			continue;
		}
		size_t k = topic_slot(names, &nt, o->topic);
		t[k].name = o->topic;
		if (!t[k].partitions &&
		    !(t[k].partitions = kp_offset_commit_request_offset_commit_request_partition_new(
			      a, g->nowned)))
			return -1;
		struct kp_offset_commit_request_offset_commit_request_partition *p =
			&t[k].partitions[t[k].partitions_count++];
		p->partition_index = o->partition;
		p->committed_offset = pos[i];
		p->committed_leader_epoch = -1;
		count++;
	}
	kp_offset_commit_request_init(req);
	req->group_id = g->group_id;
	req->generation_id_or_member_epoch =
		g->cfg.protocol == KP_MEMBER_CONSUMER || g->joined ? g->generation : -1;
	req->member_id = g->member_id;
	req->group_instance_id = kp_member_is_static(g) ? g->cfg.instance_id : NULL;
	req->topics = t;
	req->topics_count = (int32_t)nt;
	return count;
}

/* Apply an OffsetCommit response: note what was committed; the first error in err. */
static int commit_result(kp_member *g, const struct kp_offset_commit_response *r,
			 const int64_t *pos, kp_error *err)
{
	int rc = 0;

	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t j = 0; j < r->topics[t].partitions_count; j++) {
			const struct kp_offset_commit_response_offset_commit_response_partition *p =
				&r->topics[t].partitions[j];
			for (size_t i = 0; i < g->nowned; i++) {
				struct owned *o = &g->owned[i];
				if (o->partition != p->partition_index || strcmp(o->topic, r->topics[t].name))
					continue;
				if (!p->error_code && pos[i] >= 0)
					o->committed = pos[i];
				else if (p->error_code && rc == 0)
					rc = kp_error_kafka(err, p->error_code, "cannot commit offset %lld of "
							    "topic %s partition %d for group '%s'",
							    (long long)pos[i], o->topic, (int)o->partition,
							    g->group_id);
			}
		}
	return rc;
}

static int commit_once(kp_member *g, const struct kp_tp *only, size_t n, kp_error *err)
{
	int64_t *pos = calloc(g->nowned + 1, sizeof *pos);
	struct kp_offset_commit_request req;
	struct kp_offset_commit_response resp;
	kp_arena a;
	int v, rc = -1;

	kp_arena_init(&a);
	if (!pos) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	long count = commit_request(g, only, n, &a, &req, pos);
	if (count <= 0) {
		rc = count == 0 ? 0 : kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_member_call(g, KP_API_OFFSET_COMMIT, OFFSET_COMMIT_MAX, &req, &a, &resp,
			  kp_cluster_config(g->cluster)->request_timeout_ms, &v, err) < 0)
		goto out;
	rc = commit_result(g, &resp, pos, err);
out:
	kp_arena_free(&a);
	free(pos);
	return rc;
}

int kp_member_commit_some(kp_member *g, const struct kp_tp *only, size_t n, kp_error *err)
{
	if (g->flush && g->flush(g->flush_opaque) < 0)
		return kp_error_set(err, KP_EIO, "output not flushed; offsets of group '%s' not committed",
				    g->group_id);
	for (int attempt = 0;; attempt++) {
		if (commit_once(g, only, n, err) == 0)
			return 0;
		if (err && err->code == KP_EKAFKA) {
			int c = err->kafka_code;
			if (c == KP_ERR_REBALANCE_IN_PROGRESS || c == KP_ERR_ILLEGAL_GENERATION ||
			    c == KP_ERR_UNKNOWN_MEMBER_ID)
				g->rejoin = true;
			if (kp_member_coord_error(c))
				kp_member_drop_coordinator(g);
		}
		bool again = err && (err->code == KP_ECONN || err->code == KP_ETIMEDOUT ||
				     (err->code == KP_EKAFKA && kp_member_coord_error(err->kafka_code)));
		if (!again || attempt >= 3)
			return -1;
		kp_sleep_ms(kp_cluster_config(g->cluster)->retry_backoff_ms);
	}
}
