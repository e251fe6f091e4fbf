/*
 * cg_restore.c - consumer (KIP-848) groups to and from their records in
 * __consumer_offsets: kp_cg_each_record walks what the cstore hook
 * writes, the kp_cg_restore_* functions apply replayed records in log
 * order (a tombstone removes). Replayed members get a fresh session from
 * the load time, as Kafka's coordinator does when it loads a partition.
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"

/* consumer_group - group_id as a consumer group, created when asked; NULL when out of memory or absent. */
static struct kp_group *consumer_group(kp_group_coord *gc, const char *group_id, bool create,
				       int64_t now)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (!g && !create)
		return NULL;
	if (!g && !(g = kp_group_get_or_create(gc, group_id, now)))
		return NULL;
	if (!g->cg && create) {
		if (!(g->cg = kp_cg_new()))
			return NULL;
		/* the subscribed topics' partition counts are learned at the first heartbeat */
		g->cg->meta_count = -1;
		kp_group_set_state(g, KP_GROUP_EMPTY, now);
	}
	return g->cg ? g : NULL;
}

static struct kp_cg_member *member_for(struct kp_group *g, const char *member_id, int64_t now,
				       int32_t session_ms)
{
	struct kp_cg_member *m = kp_cg_member_find(g->cg, member_id);

	if (m)
		return m;
	if (!(m = calloc(1, sizeof(*m))) || !(m->member_id = strdup(member_id))) {
		free(m);
		return NULL;
	}
	m->session_deadline = now + session_ms;
	HASH_ADD_KEYPTR(hh, g->cg->members, m->member_id, strlen(m->member_id), m);
	return m;
}

int kp_cg_restore_epoch(kp_group_coord *gc, const char *group_id, bool target, int32_t epoch,
			int64_t now)
{
	struct kp_group *g = consumer_group(gc, group_id, epoch >= 0, now);

	if (!g)
		return epoch >= 0 ? -1 : 0;
	if (epoch < 0) {
		if (!target) { /* the group metadata's tombstone: the consumer group is gone */
			kp_cg_free(g->cg);
			g->cg = NULL;
			if (!g->offsets)
				kp_group_remove(gc, g);
			else
				kp_group_set_state(g, KP_GROUP_EMPTY, now);
		}
		return 0;
	}
	if (target)
		g->cg->assignment_epoch = epoch;
	else
		g->cg->group_epoch = epoch;
	kp_cg_state_update(g, now);
	return 0;
}

static int dup_or_null(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

/* restore_protocols - a classic member's protocols from its record. */
static int restore_protocols(struct kp_cg_member *m, const struct kp_cg_member_record *r)
{
	for (int32_t i = 0; i < m->protocol_count; i++) {
		free(m->protocols[i].name);
		free(m->protocols[i].metadata);
	}
	free(m->protocols);
	m->protocols = NULL;
	m->protocol_count = 0;
	m->classic = r->classic;
	m->classic_session_timeout_ms = r->classic_session_timeout_ms;
	if (!r->classic)
		return 0;
	if (!(m->protocols = calloc((size_t)r->protocol_count + 1, sizeof(*m->protocols))))
		return -1;
	for (int32_t i = 0; i < r->protocol_count; i++, m->protocol_count++) {
		m->protocols[i].name = strdup(r->protocols[i].name ? r->protocols[i].name : "");
		m->protocols[i].metadata = malloc(r->protocols[i].metadata_len + 1);
		m->protocols[i].metadata_len = r->protocols[i].metadata_len;
		if (!m->protocols[i].name || !m->protocols[i].metadata)
			return -1;
		if (r->protocols[i].metadata_len)
			memcpy(m->protocols[i].metadata, r->protocols[i].metadata,
			       r->protocols[i].metadata_len);
	}
	return 0;
}

int kp_cg_restore_member(kp_group_coord *gc, const char *group_id, const char *member_id,
			 const struct kp_cg_member_record *r, int64_t now)
{
	struct kp_group *g = consumer_group(gc, group_id, r != NULL, now);
	struct kp_cg_member *m;

	if (!g)
		return r ? -1 : 0;
	if (!r) {
		if ((m = kp_cg_member_find(g->cg, member_id))) {
			kp_cg_owners_drop(g->cg, m);
			HASH_DEL(g->cg->members, m);
			kp_cg_member_free(m);
		}
		kp_cg_state_update(g, now);
		return 0;
	}
	if (!(m = member_for(g, member_id, now, gc->cfg.consumer_session_timeout_ms)))
		return -1;
	for (int32_t i = 0; i < m->topic_count; i++)
		free(m->topics[i]);
	free(m->topics);
	m->topic_count = 0;
	if (!(m->topics = calloc((size_t)r->topic_count + 1, sizeof(char *))))
		return -1;
	for (int32_t i = 0; i < r->topic_count; i++, m->topic_count++)
		if (!(m->topics[i] = strdup(r->topics[i])))
			return -1;
	m->rebalance_timeout_ms = r->rebalance_timeout_ms;
	if (restore_protocols(m, r) < 0)
		return -1;
	if (dup_or_null(&m->instance_id, r->instance_id) < 0 ||
	    dup_or_null(&m->rack_id, r->rack_id) < 0 ||
	    dup_or_null(&m->client_id, r->client_id) < 0 ||
	    dup_or_null(&m->client_host, r->client_host) < 0 ||
	    dup_or_null(&m->regex, r->regex && *r->regex ? r->regex : NULL) < 0 ||
	    dup_or_null(&m->server_assignor, r->server_assignor) < 0)
		return -1;
	kp_cg_state_update(g, now);
	return 0;
}

int kp_cg_restore_target(kp_group_coord *gc, const char *group_id, const char *member_id,
			 const struct kp_cg_topic_partitions *tps, int32_t count, int64_t now)
{
	struct kp_group *g = consumer_group(gc, group_id, tps != NULL, now);
	struct kp_cg_member *m;

	if (!g)
		return tps ? -1 : 0;
	if (!(m = kp_cg_member_find(g->cg, member_id))) {
		if (!tps)
			return 0;
		if (!(m = member_for(g, member_id, now, gc->cfg.consumer_session_timeout_ms)))
			return -1;
	}
	if (!tps) {
		kp_cg_tps_clear(&m->target);
		return 0;
	}
	return kp_cg_tps_from(&m->target, tps, count);
}

int kp_cg_restore_assignment(kp_group_coord *gc, const char *group_id, const char *member_id,
			     const struct kp_cg_assignment_record *a, int64_t now)
{
	struct kp_group *g = consumer_group(gc, group_id, a != NULL, now);
	struct kp_cg_member *m;

	if (!g)
		return a ? -1 : 0;
	if (!(m = kp_cg_member_find(g->cg, member_id))) {
		if (!a)
			return 0;
		if (!(m = member_for(g, member_id, now, gc->cfg.consumer_session_timeout_ms)))
			return -1;
	}
	if (!a) {
		kp_cg_tps_clear(&m->assigned);
		kp_cg_tps_clear(&m->pending_revocation);
		kp_cg_owners_drop(g->cg, m);
		return 0;
	}
	m->epoch = a->member_epoch;
	m->previous_epoch = a->previous_member_epoch;
	m->state = a->state;
	if (kp_cg_tps_from(&m->assigned, a->assigned, a->assigned_count) < 0 ||
	    kp_cg_tps_from(&m->pending_revocation, a->pending_revocation,
			   a->pending_revocation_count) < 0)
		return -1;
	kp_cg_owners_update(g->cg, m);
	kp_cg_state_update(g, now);
	return 0;
}

/* visit - one callback with s grouped by topic; false when out of memory. */
static bool view(const struct kp_cg_tps *s, struct kp_cg_topic_partitions **v, int32_t **p,
		 int32_t *n)
{
	return kp_cg_tps_view(s, v, p, n) == 0;
}

bool kp_cg_each_record(kp_group_coord *gc, const char *group_id,
		       const struct kp_cg_record_visitor *v)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (!g || !g->cg)
		return false;
	v->epochs(v->arg, g->cg->group_epoch, g->cg->assignment_epoch);
	for (struct kp_cg_member *m = g->cg->members; m; m = m->hh.next) {
		struct kp_group_protocol *ps = calloc((size_t)m->protocol_count + 1, sizeof(*ps));
		struct kp_cg_member_record mr = {
			m->member_id, m->instance_id, m->rack_id, m->client_id, m->client_host,
			m->rebalance_timeout_ms, (const char *const *)m->topics, m->topic_count,
			m->regex, m->server_assignor, m->classic, m->classic_session_timeout_ms, ps,
			ps ? m->protocol_count : 0,
		};

		for (int32_t i = 0; ps && i < m->protocol_count; i++)
			ps[i] = (struct kp_group_protocol){ m->protocols[i].name, m->protocols[i].metadata,
							    m->protocols[i].metadata_len };
		struct kp_cg_topic_partitions *tv = NULL, *av = NULL, *pv = NULL;
		int32_t *tp = NULL, *ap = NULL, *pp = NULL, tn = 0, an = 0, pn = 0;

		v->member(v->arg, &mr);
		free(ps);
		if (view(&m->target, &tv, &tp, &tn))
			v->target(v->arg, m->member_id, tv, tn);
		if (view(&m->assigned, &av, &ap, &an) && view(&m->pending_revocation, &pv, &pp, &pn)) {
			struct kp_cg_assignment_record ar = {
				m->member_id, m->epoch, m->previous_epoch, m->state, av, pv, an, pn,
			};

			v->assignment(v->arg, &ar);
		}
		free(tv);
		free(tp);
		free(av);
		free(ap);
		free(pv);
		free(pp);
	}
	return true;
}
