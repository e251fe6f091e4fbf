/*
 * membership.c - members of a classic group: lookup, removal, the join
 * phase (prepare, complete), and the answer a join gets. Kafka's
 * ClassicGroup and GroupMetadataManager (classic part).
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

struct kp_group_member *kp_group_member_find(struct kp_group *g, const char *member_id)
{
	struct kp_group_member *m = NULL;

	if (member_id)
		HASH_FIND_STR(g->members, member_id, m);
	return m;
}

struct kp_group_member *kp_group_static_member(struct kp_group *g, const char *instance_id)
{
	struct kp_group_member *m;

	if (!instance_id)
		return NULL;
	for (m = g->members; m; m = m->hh.next)
		if (m->instance_id && strcmp(m->instance_id, instance_id) == 0)
			return m;
	return NULL;
}

/*
 * kp_group_validate_member - Kafka's validateMember: a static instance
 * id held by another member id is FENCED_INSTANCE_ID; an unknown member
 * id UNKNOWN_MEMBER_ID; else NONE.
 */
int16_t kp_group_validate_member(struct kp_group *g, const char *member_id, const char *instance_id)
{
	if (instance_id) {
		struct kp_group_member *s = kp_group_static_member(g, instance_id);

		if (s && strcmp(s->member_id, member_id ? member_id : "") != 0)
			return KP_ERR_FENCED_INSTANCE_ID;
	}
	if (!kp_group_member_find(g, member_id))
		return KP_ERR_UNKNOWN_MEMBER_ID;
	return KP_ERR_NONE;
}

static void member_free(struct kp_group_member *m)
{
	for (int32_t i = 0; i < m->protocol_count; i++) {
		free(m->protocols[i].name);
		free(m->protocols[i].metadata);
	}
	free(m->protocols);
	free(m->member_id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	free(m->assignment);
	free(m);
}

/* detach - complete m's waiting operations with `error`. */
static void detach(kp_group_coord *gc, struct kp_group_member *m, int16_t error)
{
	if (m->join)
		kp_group_pending_complete(gc, m->join, error);
	if (m->sync)
		kp_group_pending_complete(gc, m->sync, error);
}

/* drop_member - answer m's waiting requests UNKNOWN_MEMBER_ID, clear it as leader, free it. */
static void drop_member(kp_group_coord *gc, struct kp_group *g, struct kp_group_member *m)
{
	detach(gc, m, KP_ERR_UNKNOWN_MEMBER_ID);
	if (g->leader && strcmp(g->leader, m->member_id) == 0) {
		free(g->leader);
		g->leader = NULL;
	}
	HASH_DEL(g->members, m);
	member_free(m);
}

void kp_group_free_members(kp_group_coord *gc, struct kp_group *g)
{
	struct kp_group_member *m, *tmp;
	struct kp_group_pending_member *pm, *ptmp;

	HASH_ITER(hh, g->members, m, tmp) {
		detach(gc, m, KP_ERR_NOT_COORDINATOR);
		HASH_DEL(g->members, m);
		member_free(m);
	}
	HASH_ITER(hh, g->pending, pm, ptmp) {
		HASH_DEL(g->pending, pm);
		free(pm->member_id);
		free(pm);
	}
}

void kp_group_pending_member_expire(struct kp_group *g, int64_t now)
{
	struct kp_group_pending_member *pm, *tmp;

	HASH_ITER(hh, g->pending, pm, tmp) {
		if (now < pm->deadline)
			continue;
		HASH_DEL(g->pending, pm);
		free(pm->member_id);
		free(pm);
	}
}

/*
 * kp_group_member_remove - remove m (a leave, an expired session, a
 * member that missed the join phase); its waiting operations get `error`.
 * A stable or completing group rebalances; a preparing one may complete.
 */
void kp_group_member_remove(kp_group_coord *gc, struct kp_group *g, struct kp_group_member *m,
			    int16_t error, int64_t now)
{
	bool was_leader = g->leader && strcmp(g->leader, m->member_id) == 0;

	detach(gc, m, error);
	HASH_DEL(g->members, m);
	member_free(m);
	kp_group_notify(gc, g);
	if (was_leader) {
		free(g->leader);
		g->leader = g->members ? kp_group_strdup(g->members->member_id) : NULL;
	}
	if (g->state == KP_GROUP_STABLE || g->state == KP_GROUP_COMPLETING_REBALANCE)
		kp_group_prepare_rebalance(gc, g, now);
	else if (g->state == KP_GROUP_PREPARING_REBALANCE)
		kp_group_maybe_complete_join(gc, g, now);
}

/* max_rebalance_timeout - the longest rebalance timeout of g's members. */
static int64_t max_rebalance_timeout(const struct kp_group *g)
{
	int64_t t = 0;

	for (const struct kp_group_member *m = g->members; m; m = m->hh.next)
		if (m->rebalance_timeout_ms > t)
			t = m->rebalance_timeout_ms;
	return t;
}

/*
 * kp_group_prepare_rebalance - enter PreparingRebalance: waiting syncs of
 * a completing group get REBALANCE_IN_PROGRESS; a group that was Empty
 * waits group.initial.rebalance.delay.ms for more members (extended while
 * members keep coming, up to the rebalance timeout), as Kafka's
 * InitialDelayedJoin; otherwise the phase ends at once if every member
 * is already waiting in JoinGroup (or none is left).
 */
void kp_group_prepare_rebalance(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	int64_t timeout = max_rebalance_timeout(g);
	int64_t delay = gc->cfg.initial_rebalance_delay_ms;

	if (g->state == KP_GROUP_COMPLETING_REBALANCE) {
		for (struct kp_group_member *m = g->members; m; m = m->hh.next)
			if (m->sync)
				kp_group_pending_complete(gc, m->sync, KP_ERR_REBALANCE_IN_PROGRESS);
		kp_group_notify(gc, g);
	}
	for (struct kp_group_member *m = g->members; m; m = m->hh.next)
		m->pending_sync = false;
	g->initial_delay = g->state == KP_GROUP_EMPTY;
	g->new_member_added = false;
	g->rebalance_deadline = now + timeout;
	g->delay_until = g->initial_delay ? now + (delay < timeout ? delay : timeout) : now;
	kp_group_set_state(g, KP_GROUP_PREPARING_REBALANCE, now);
	kp_group_maybe_complete_join(gc, g, now); /* e.g. the last member left */
}

static bool any_joined(const struct kp_group *g)
{
	for (const struct kp_group_member *m = g->members; m; m = m->hh.next)
		if (m->join)
			return true;
	return false;
}

static bool all_joined(const struct kp_group *g)
{
	if (g->pending)
		return false;
	for (const struct kp_group_member *m = g->members; m; m = m->hh.next)
		if (!m->join)
			return false;
	return true;
}

void kp_group_maybe_complete_join(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	if (g->state != KP_GROUP_PREPARING_REBALANCE || g->initial_delay)
		return;
	if (all_joined(g))
		kp_group_complete_join(gc, g, now);
}

static bool supports(const struct kp_group_member *m, const char *name)
{
	for (int32_t i = 0; i < m->protocol_count; i++)
		if (strcmp(m->protocols[i].name, name) == 0)
			return true;
	return false;
}

/*
 * select_protocol - Kafka's selectProtocol: among the protocols every
 * member supports, the one most members list first (each member votes
 * for its most preferred candidate); ties go to the earlier candidate in
 * the first member's order. NULL when there is none.
 */
static const char *select_protocol(const struct kp_group *g)
{
	const struct kp_group_member *first = g->members;
	const char *best = NULL;
	int best_votes = -1;

	if (!first)
		return NULL;
	for (int32_t i = 0; i < first->protocol_count; i++) {
		const char *cand = first->protocols[i].name;
		bool all = true;
		int votes = 0;

		for (const struct kp_group_member *m = g->members; m && all; m = m->hh.next)
			all = supports(m, cand);
		if (!all)
			continue;
		for (const struct kp_group_member *m = g->members; m; m = m->hh.next) {
			for (int32_t j = 0; j < m->protocol_count; j++) {
				const char *n = m->protocols[j].name;
				bool ok = true;

				for (const struct kp_group_member *o = g->members; o && ok; o = o->hh.next)
					ok = supports(o, n);
				if (ok) {
					votes += strcmp(n, cand) == 0;
					break;
				}
			}
		}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best;
}

/* fill_members - the leader's member list: every member with its selected protocol's metadata. */
static int fill_members(struct kp_group *g, struct kp_group_pending *p)
{
	int32_t n = (int32_t)HASH_COUNT(g->members), i = 0;

	p->members = calloc((size_t)(n ? n : 1), sizeof(*p->members));
	if (!p->members)
		return -1;
	for (struct kp_group_member *m = g->members; m; m = m->hh.next, i++) {
		struct kp_group_join_member *jm = &p->members[i];

		p->member_count = i + 1;
		jm->member_id = strdup(m->member_id);
		jm->group_instance_id = kp_group_strdup(m->instance_id);
		for (int32_t j = 0; j < m->protocol_count; j++) {
			if (strcmp(m->protocols[j].name, g->protocol_name) != 0)
				continue;
			jm->metadata_len = m->protocols[j].metadata_len;
			jm->metadata = malloc(jm->metadata_len ? jm->metadata_len : 1);
			if (jm->metadata)
				memcpy(jm->metadata, m->protocols[j].metadata, jm->metadata_len);
		}
		if (!jm->member_id || !jm->metadata || (m->instance_id && !jm->group_instance_id))
			return -1;
	}
	return 0;
}

/* kp_group_fill_join - complete p (m's join) with g's current generation. */
void kp_group_fill_join(struct kp_group *g, struct kp_group_member *m, struct kp_group_pending *p)
{
	int16_t error = KP_ERR_NONE;

	p->generation_id = g->generation_id;
	free(p->member_id);
	p->member_id = strdup(m->member_id);
	p->protocol_type = kp_group_strdup(g->protocol_type);
	p->protocol_name = kp_group_strdup(g->protocol_name);
	p->leader = kp_group_strdup(g->leader);
	if (!p->member_id || !p->leader)
		error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	else if (strcmp(g->leader, m->member_id) == 0 && fill_members(g, p) < 0)
		error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	kp_group_pending_complete(NULL, p, error);
}

/*
 * kp_group_sync_expire - Kafka's sync timeout: members that sent no
 * SyncGroup within the rebalance timeout after the join phase ended
 * (in CompletingRebalance, or Stable when the leader synced but a
 * follower did not) are removed, and the group rebalances.
 */
void kp_group_sync_expire(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	struct kp_group_member *m, *tmp;
	bool removed = false;

	if ((g->state != KP_GROUP_COMPLETING_REBALANCE && g->state != KP_GROUP_STABLE) ||
	    now < g->sync_deadline)
		return;
	HASH_ITER(hh, g->members, m, tmp) {
		if (!m->pending_sync)
			continue;
		drop_member(gc, g, m);
		removed = true;
	}
	if (!removed)
		return;
	if (!g->leader && g->members)
		g->leader = kp_group_strdup(g->members->member_id);
	kp_group_notify(gc, g);
	kp_group_prepare_rebalance(gc, g, now);
}

/*
 * kp_group_complete_join - end the join phase: dynamic members that did
 * not rejoin are removed, the generation advances, the protocol is
 * selected and every waiting join is answered (the leader with the
 * member list); with no member left the group is Empty. When members
 * are left but none rejoined (static ones), the phase is extended by
 * the rebalance timeout instead, as Kafka does.
 */
void kp_group_complete_join(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	struct kp_group_member *m, *tmp;

	HASH_ITER(hh, g->members, m, tmp) {
		if (m->join || m->instance_id)
			continue;
		drop_member(gc, g, m);
	}
	g->initial_delay = false;
	if (g->members && !any_joined(g)) {
		g->rebalance_deadline = now + max_rebalance_timeout(g);
		return;
	}
	g->generation_id++;
	free(g->protocol_name);
	g->protocol_name = NULL;
	if (!g->members) {
		free(g->leader);
		g->leader = NULL;
		kp_group_set_state(g, KP_GROUP_EMPTY, now);
		kp_group_store(gc, g);
		kp_group_notify(gc, g);
		return;
	}
	if (!g->leader || !kp_group_member_find(g, g->leader) || !kp_group_member_find(g, g->leader)->join) {
		struct kp_group_member *l = g->members;

		for (m = g->members; m; m = m->hh.next)
			if (m->join) {
				l = m;
				break;
			}
		free(g->leader);
		g->leader = strdup(l->member_id);
	}
	g->protocol_name = kp_group_strdup(select_protocol(g));
	kp_group_set_state(g, KP_GROUP_COMPLETING_REBALANCE, now);
	g->sync_deadline = now + max_rebalance_timeout(g);
	for (m = g->members; m; m = m->hh.next) {
		m->pending_sync = true;
		free(m->assignment);
		m->assignment = NULL;
		m->assignment_len = 0;
		m->last_heartbeat = now;
		if (m->join)
			kp_group_fill_join(g, m, m->join);
	}
	kp_group_notify(gc, g);
}
