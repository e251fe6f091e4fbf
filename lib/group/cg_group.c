/*
 * cg_group.c - consumer (KIP-848) groups as objects: members, fencing by
 * session and rebalance timeouts, the state Kafka reports, the views
 * ConsumerGroupDescribe takes, and replay from __consumer_offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

struct kp_cgroup *kp_cg_new(void)
{
	return calloc(1, sizeof(struct kp_cgroup));
}

static void meta_free(struct kp_cgroup *cg)
{
	for (int32_t i = 0; i < cg->meta_count; i++)
		free(cg->meta_topics[i]);
	free(cg->meta_topics);
	free(cg->meta_partitions);
	cg->meta_topics = NULL;
	cg->meta_partitions = NULL;
	cg->meta_count = 0;
}

void kp_cg_member_free(struct kp_cg_member *m)
{
	if (!m)
		return;
	free(m->member_id);
	free(m->instance_id);
	free(m->rack_id);
	free(m->client_id);
	free(m->client_host);
	for (int32_t i = 0; i < m->topic_count; i++)
		free(m->topics[i]);
	free(m->topics);
	free(m->regex);
	free(m->server_assignor);
	for (int32_t i = 0; i < m->protocol_count; i++) {
		free(m->protocols[i].name);
		free(m->protocols[i].metadata);
	}
	free(m->protocols);
	kp_cg_tps_free(&m->assigned);
	kp_cg_tps_free(&m->pending_revocation);
	kp_cg_tps_free(&m->target);
	free(m);
}

void kp_cg_free(struct kp_cgroup *cg)
{
	struct kp_cg_member *m, *tmp;
	struct kp_cg_owner *o, *otmp;

	if (!cg)
		return;
	HASH_ITER(hh, cg->members, m, tmp) {
		HASH_DEL(cg->members, m);
		kp_cg_member_free(m);
	}
	HASH_ITER(hh, cg->owners, o, otmp) {
		HASH_DEL(cg->owners, o);
		free(o);
	}
	meta_free(cg);
	free(cg);
}

struct kp_cg_member *kp_cg_member_find(struct kp_cgroup *cg, const char *member_id)
{
	struct kp_cg_member *m = NULL;

	if (member_id)
		HASH_FIND_STR(cg->members, member_id, m);
	return m;
}

/* kp_cg_state_update - g->state from its consumer group (Kafka's ConsumerGroup.maybeUpdateGroupState). */
void kp_cg_state_update(struct kp_group *g, int64_t now)
{
	struct kp_cgroup *cg = g->cg;
	enum kp_group_state s = KP_GROUP_STABLE;

	if (!cg->members)
		s = KP_GROUP_EMPTY;
	else if (cg->group_epoch > cg->assignment_epoch)
		s = KP_GROUP_ASSIGNING;
	else
		for (struct kp_cg_member *m = cg->members; m; m = m->hh.next)
			if (m->state != KP_CG_STABLE || m->epoch != cg->assignment_epoch)
				s = KP_GROUP_RECONCILING;
	if (s != g->state)
		kp_group_set_state(g, s, now);
}

/* kp_cg_cstore - g's state changed: its state, then the cstore hook. */
void kp_cg_cstore(kp_group_coord *gc, struct kp_group *g)
{
	if (g->cg)
		kp_cg_state_update(g, g->state_since);
	if (gc->cfg.cstore)
		gc->cfg.cstore(gc->cfg.notify_arg, g->id);
}

/*
 * kp_cg_member_remove - fence m: its partitions are free, its records
 * go (cremoved_member) and the group epoch is bumped so that the others
 * are reassigned (Kafka's consumerGroupFenceMember). The caller stores.
 */
void kp_cg_member_remove(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *m)
{
	struct kp_cgroup *cg = g->cg;

	kp_cg_owners_drop(cg, m);
	HASH_DEL(cg->members, m);
	if (gc->cfg.cremoved_member)
		gc->cfg.cremoved_member(gc->cfg.notify_arg, g->id, m->member_id);
	kp_cg_member_free(m);
	cg->group_epoch++;
}

/*
 * kp_cg_fence - remove m (it left, or its session or rebalance timeout
 * passed) and compute the others' target assignment for the bumped epoch
 * at once, as Kafka does with group.consumer.assignment.interval.ms=0.
 * When m was the last consumer-protocol member among classic ones, the
 * group becomes a classic group instead (g->cg is then NULL).
 */
void kp_cg_fence(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *m, int64_t now)
{
	if (!m->classic && kp_cg_maybe_downgrade(gc, g, m, now))
		return; /* the group is a classic one now (g->cg NULL) */
	kp_cg_member_remove(gc, g, m);
	if (kp_cg_assign(gc, g, kp_cg_preferred_assignor(gc, g->cg)) == 0)
		g->cg->assignment_epoch = g->cg->group_epoch;
}

void kp_cg_tick(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	struct kp_cg_member *m, *tmp;
	bool changed = false;

	HASH_ITER(hh, g->cg->members, m, tmp) {
		bool session = now >= m->session_deadline;
		bool rebalance = m->rebalance_deadline && now >= m->rebalance_deadline &&
				 m->state == KP_CG_UNREVOKED_PARTITIONS;
		/* classic members: no SyncGroup after the join, no rejoin when told */
		bool classic = (m->sync_deadline && now >= m->sync_deadline) ||
			       (m->join_deadline && now >= m->join_deadline);

		if (!session && !rebalance && !classic)
			continue;
		kp_cg_fence(gc, g, m, now);
		if (!g->cg)
			return; /* downgraded: a classic group now */
		changed = true;
	}
	if (changed) {
		kp_cg_state_update(g, now);
		kp_cg_cstore(gc, g);
	}
}

int16_t kp_cg_fetch_check(kp_group_coord *gc, const char *group_id, const char *member_id,
			  int32_t member_epoch)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	struct kp_cg_member *m;

	if (!g || !g->cg || (!member_id && member_epoch < 0))
		return KP_ERR_NONE;
	if (!(m = kp_cg_member_find(g->cg, member_id)))
		return KP_ERR_UNKNOWN_MEMBER_ID;
	return member_epoch != m->epoch ? KP_ERR_STALE_MEMBER_EPOCH : KP_ERR_NONE;
}

bool kp_cg_is_consumer_group(kp_group_coord *gc, const char *group_id)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	return g && g->cg;
}

/* kp_cg_preferred_assignor - the members' most common server assignor, else the configured default. */
const char *kp_cg_preferred_assignor(kp_group_coord *gc, const struct kp_cgroup *cg)
{
	const char *best = NULL;
	int32_t best_n = 0;

	for (const struct kp_cg_member *m = cg->members; m; m = m->hh.next) {
		int32_t n = 0;

		if (!m->server_assignor)
			continue;
		for (const struct kp_cg_member *o = cg->members; o; o = o->hh.next)
			n += o->server_assignor && strcmp(o->server_assignor, m->server_assignor) == 0;
		if (n > best_n || (n == best_n && strcmp(m->server_assignor, best) < 0)) {
			best = m->server_assignor;
			best_n = n;
		}
	}
	return best ? best : gc->cfg.consumer_assignors[0] ? gc->cfg.consumer_assignors[0] : "uniform";
}

int16_t kp_cg_describe(kp_group_coord *gc, const char *group_id, struct kp_cg_info *out,
		       char *msg, size_t msg_len)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (!g || !g->cg) {
		if (msg)
			snprintf(msg, msg_len, g ? "Group %s is not a consumer group." :
				 "Group %s not found.", group_id ? group_id : "");
		return KP_ERR_GROUP_ID_NOT_FOUND;
	}
	out->group_id = g->id;
	out->state = kp_group_state_name(g->state);
	out->group_epoch = g->cg->group_epoch;
	out->assignment_epoch = g->cg->assignment_epoch;
	out->assignor = kp_cg_preferred_assignor(gc, g->cg);
	out->member_count = (int32_t)HASH_COUNT(g->cg->members);
	return KP_ERR_NONE;
}

bool kp_cg_member_at(kp_group_coord *gc, const char *group_id, int32_t i,
		     struct kp_cg_member_info *out)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	struct kp_cg_member *m;
	struct kp_cg_topic_partitions *va = NULL, *vt = NULL;
	int32_t *pa = NULL, *pt = NULL;

	if (!g || !g->cg || i < 0)
		return false;
	for (m = g->cg->members; m && i > 0; m = m->hh.next)
		i--;
	if (!m)
		return false;
	memset(out, 0, sizeof(*out));
	if (kp_cg_tps_view(&m->assigned, &va, &pa, &out->assigned_count) < 0 ||
	    kp_cg_tps_view(&m->target, &vt, &pt, &out->target_count) < 0) {
		free(va);
		free(pa);
		return false;
	}
	/* one block per call: assigned then target views, kept in gc until the next call */
	free(gc->view);
	free(gc->view_parts);
	gc->view = NULL;
	gc->view_parts = NULL;
	struct kp_cg_topic_partitions *v = calloc((size_t)(out->assigned_count +
							   out->target_count) + 1, sizeof(*v));
	int32_t *p = calloc((size_t)(m->assigned.n + m->target.n) + 1, sizeof(*p));

	if (!v || !p) {
		free(v);
		free(p);
		free(va);
		free(pa);
		free(vt);
		free(pt);
		return false;
	}
	memcpy(p, pa, (size_t)m->assigned.n * sizeof(*p));
	memcpy(p + m->assigned.n, pt, (size_t)m->target.n * sizeof(*p));
	for (int32_t k = 0; k < out->assigned_count; k++) {
		v[k] = va[k];
		v[k].partitions = p + (va[k].partitions - pa);
	}
	for (int32_t k = 0; k < out->target_count; k++) {
		v[out->assigned_count + k] = vt[k];
		v[out->assigned_count + k].partitions = p + m->assigned.n + (vt[k].partitions - pt);
	}
	free(va);
	free(pa);
	free(vt);
	free(pt);
	gc->view = v;
	gc->view_parts = p;
	out->assigned = v;
	out->target = v + out->assigned_count;
	out->member_id = m->member_id;
	out->instance_id = m->instance_id;
	out->rack_id = m->rack_id;
	out->client_id = m->client_id ? m->client_id : "";
	out->client_host = m->client_host ? m->client_host : "";
	out->member_epoch = m->epoch;
	out->topics = (const char *const *)m->topics;
	out->topic_count = m->topic_count;
	out->regex = m->regex;
	return true;
}
