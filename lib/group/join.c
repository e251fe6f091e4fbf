/*
 * join.c - JoinGroup of the classic protocol, in the order Kafka's
 * GroupMetadataManager.classicGroupJoin checks it: group id, session
 * timeout, group size (KIP-389), then a new member (dynamic: KIP-394
 * MEMBER_ID_REQUIRED; static: KIP-345, replacing the old member id) or
 * an existing one (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID), and whether
 * the join starts a rebalance or is answered with the current generation.
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

/* answer - a pending that is done at once with `error` and `member_id` (may be NULL or ""). */
static struct kp_group_pending *answer(struct kp_group_pending *p, int16_t error, const char *member_id)
{
	p->member_id = strdup(member_id ? member_id : "");
	if (!p->member_id) {
		kp_group_pending_free(p);
		return NULL;
	}
	kp_group_pending_complete(p->gc, p, error);
	return p;
}

/* set_protocols - copy a's protocols and timeouts into m; -1 when out of memory. */
static int set_protocols(struct kp_group_member *m, const struct kp_group_join_args *a)
{
	struct kp_group_proto *ps = calloc((size_t)(a->protocol_count ? a->protocol_count : 1), sizeof(*ps));

	if (!ps)
		return -1;
	for (int32_t i = 0; i < a->protocol_count; i++) {
		size_t n = a->protocols[i].metadata_len;

		ps[i].name = strdup(a->protocols[i].name ? a->protocols[i].name : "");
		ps[i].metadata = malloc(n ? n : 1);
		ps[i].metadata_len = n;
		if (ps[i].metadata && n)
			memcpy(ps[i].metadata, a->protocols[i].metadata, n);
		if (!ps[i].name || !ps[i].metadata) {
			for (int32_t j = 0; j <= i; j++) {
				free(ps[j].name);
				free(ps[j].metadata);
			}
			free(ps);
			return -1;
		}
	}
	for (int32_t i = 0; i < m->protocol_count; i++) {
		free(m->protocols[i].name);
		free(m->protocols[i].metadata);
	}
	free(m->protocols);
	m->protocols = ps;
	m->protocol_count = a->protocol_count;
	m->session_timeout_ms = a->session_timeout_ms;
	m->rebalance_timeout_ms = a->rebalance_timeout_ms;
	return 0;
}

/* same_protocols - whether a's protocols equal m's (names, metadata, order): Kafka's matches. */
static bool same_protocols(const struct kp_group_member *m, const struct kp_group_join_args *a)
{
	if (m->protocol_count != a->protocol_count)
		return false;
	for (int32_t i = 0; i < a->protocol_count; i++) {
		const struct kp_group_proto *p = &m->protocols[i];

		if (strcmp(p->name, a->protocols[i].name ? a->protocols[i].name : "") != 0 ||
		    p->metadata_len != a->protocols[i].metadata_len ||
		    (p->metadata_len && memcmp(p->metadata, a->protocols[i].metadata, p->metadata_len)))
			return false;
	}
	return true;
}

/* supports_protocols - Kafka's supportsProtocols: the joining member fits the group. */
static bool supports_protocols(const struct kp_group *g, const struct kp_group_join_args *a)
{
	if (!a->protocol_type || !*a->protocol_type || a->protocol_count <= 0)
		return false;
	if (!g->members)
		return true;
	if (!g->protocol_type || strcmp(g->protocol_type, a->protocol_type) != 0)
		return false;
	for (int32_t i = 0; i < a->protocol_count; i++) {
		bool all = true;

		for (const struct kp_group_member *m = g->members; m && all; m = m->hh.next) {
			all = false;
			for (int32_t j = 0; j < m->protocol_count && !all; j++)
				all = strcmp(m->protocols[j].name, a->protocols[i].name) == 0;
		}
		if (all)
			return true;
	}
	return false;
}

/* await_join - make p m's waiting join (a previous one is answered REBALANCE_IN_PROGRESS). */
static void await_join(struct kp_group_member *m, struct kp_group_pending *p, int64_t now)
{
	if (m->join && m->join != p)
		kp_group_pending_complete(p->gc, m->join, KP_ERR_REBALANCE_IN_PROGRESS);
	m->join = p;
	p->owner = m;
	m->last_heartbeat = now;
}

/* rebalance_or_complete - Kafka's maybePrepareRebalanceOrCompleteJoin after m joined. */
static void rebalance_or_complete(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	if (g->state == KP_GROUP_PREPARING_REBALANCE)
		kp_group_maybe_complete_join(gc, g, now);
	else
		kp_group_prepare_rebalance(gc, g, now);
}

/* add_member - a new member `id` (taken) waiting in p; NULL when out of memory (id freed). */
static struct kp_group_member *add_member(kp_group_coord *gc, struct kp_group *g, char *id,
					  const struct kp_group_join_args *a,
					  struct kp_group_pending *p, int64_t now)
{
	struct kp_group_member *m = calloc(1, sizeof(*m));

	if (!m || set_protocols(m, a) < 0)
		goto fail;
	m->member_id = id;
	m->instance_id = kp_group_strdup(a->group_instance_id);
	m->client_id = strdup(a->client_id ? a->client_id : "");
	m->client_host = strdup(a->client_host ? a->client_host : "");
	if (!g->members && !g->protocol_type)
		g->protocol_type = strdup(a->protocol_type);
	if (!g->leader)
		g->leader = strdup(id);
	m->group = g;
	HASH_ADD_KEYPTR(hh, g->members, m->member_id, strlen(m->member_id), m);
	await_join(m, p, now);
	if (g->state == KP_GROUP_PREPARING_REBALANCE && g->initial_delay)
		g->new_member_added = true;
	rebalance_or_complete(gc, g, now);
	return m;
fail:
	free(m);
	free(id);
	return NULL;
}

/* accept_joining - Kafka's acceptJoiningMember (group.max.size). */
static bool accept_joining(const kp_group_coord *gc, struct kp_group *g, const char *member_id)
{
	struct kp_group_member *m = kp_group_member_find(g, member_id);
	int64_t n = 0;

	switch (g->state) {
	case KP_GROUP_PREPARING_REBALANCE:
		for (const struct kp_group_member *o = g->members; o; o = o->hh.next)
			n += o->join != NULL;
		return (m && m->join) || n < gc->cfg.max_size;
	case KP_GROUP_COMPLETING_REBALANCE:
	case KP_GROUP_STABLE:
		return m || (int64_t)HASH_COUNT(g->members) < gc->cfg.max_size;
	default:
		return true;
	}
}

/* join_static_known - KIP-345: a static member rejoins with a new member id. */
static struct kp_group_pending *join_static_known(kp_group_coord *gc, struct kp_group *g,
						  struct kp_group_member *old, char *id,
						  const struct kp_group_join_args *a,
						  struct kp_group_pending *p, int64_t now)
{
	bool leader = g->leader && strcmp(g->leader, old->member_id) == 0;
	bool same = same_protocols(old, a);

	if (old->join)
		kp_group_pending_complete(gc, old->join, KP_ERR_FENCED_INSTANCE_ID);
	if (old->sync)
		kp_group_pending_complete(gc, old->sync, KP_ERR_FENCED_INSTANCE_ID);
	HASH_DEL(g->members, old);
	free(old->member_id);
	old->member_id = id;
	HASH_ADD_KEYPTR(hh, g->members, old->member_id, strlen(old->member_id), old);
	if (leader) {
		free(g->leader);
		g->leader = strdup(id);
	}
	kp_group_notify(gc, g);
	if (g->state == KP_GROUP_STABLE && same) {
		old->last_heartbeat = now;
		p->skip_assignment = leader;
		kp_group_fill_join(g, old, p);
		kp_group_store(gc, g); /* the new member id, as Kafka persists it */
		return p;
	}
	if (set_protocols(old, a) < 0)
		return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, "");
	await_join(old, p, now);
	rebalance_or_complete(gc, g, now);
	return p;
}

static struct kp_group_pending *join_new(kp_group_coord *gc, struct kp_group *g,
					 const struct kp_group_join_args *a,
					 struct kp_group_pending *p, int64_t now)
{
	const char *prefix = a->group_instance_id ? a->group_instance_id : a->client_id;
	char *id;

	if (g->state == KP_GROUP_DEAD)
		return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, "");
	if (!supports_protocols(g, a))
		return answer(p, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, "");
	if (!(id = kp_group_new_member_id(gc, prefix)))
		return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, "");
	if (a->group_instance_id) {
		struct kp_group_member *old = kp_group_static_member(g, a->group_instance_id);

		if (old)
			return join_static_known(gc, g, old, id, a, p, now);
	} else if (a->require_known_member) {
		struct kp_group_pending_member *pm = calloc(1, sizeof(*pm));

		if (!pm) {
			free(id);
			return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, "");
		}
		pm->member_id = id;
		pm->deadline = now + a->session_timeout_ms;
		HASH_ADD_KEYPTR(hh, g->pending, pm->member_id, strlen(pm->member_id), pm);
		return answer(p, KP_ERR_MEMBER_ID_REQUIRED, id);
	}
	if (!add_member(gc, g, id, a, p, now))
		return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, "");
	return p;
}

static struct kp_group_pending *join_existing(kp_group_coord *gc, struct kp_group *g,
					      const struct kp_group_join_args *a,
					      struct kp_group_pending *p, int64_t now)
{
	struct kp_group_pending_member *pm = NULL;
	struct kp_group_member *m;
	int16_t error;

	if (g->state == KP_GROUP_DEAD)
		return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, a->member_id);
	if (!supports_protocols(g, a))
		return answer(p, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, a->member_id);
	HASH_FIND_STR(g->pending, a->member_id, pm);
	if (pm) {
		char *id = pm->member_id;

		HASH_DEL(g->pending, pm);
		free(pm);
		if (!add_member(gc, g, id, a, p, now))
			return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, "");
		return p;
	}
	error = kp_group_validate_member(g, a->member_id, a->group_instance_id);
	if (error)
		return answer(p, error, a->member_id);
	m = kp_group_member_find(g, a->member_id);
	bool leader = g->leader && strcmp(g->leader, m->member_id) == 0;
	bool unchanged = same_protocols(m, a);

	if ((g->state == KP_GROUP_COMPLETING_REBALANCE && unchanged) ||
	    (g->state == KP_GROUP_STABLE && unchanged && !leader)) {
		m->last_heartbeat = now;
		kp_group_fill_join(g, m, p);
		return p;
	}
	if (set_protocols(m, a) < 0)
		return answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, a->member_id);
	await_join(m, p, now);
	rebalance_or_complete(gc, g, now);
	return p;
}

struct kp_group_pending *kp_group_join(kp_group_coord *gc, const struct kp_group_join_args *a,
				       int64_t now)
{
	struct kp_group_pending *p = kp_group_pending_new(gc, KP_GROUP_PENDING_JOIN);
	bool unknown = !a->member_id || !*a->member_id;
	struct kp_group *g;

	if (!p)
		return NULL;
	if (!a->group_id || !*a->group_id)
		return answer(p, KP_ERR_INVALID_GROUP_ID, a->member_id);
	if (a->session_timeout_ms < gc->cfg.min_session_timeout_ms ||
	    a->session_timeout_ms > gc->cfg.max_session_timeout_ms)
		return answer(p, KP_ERR_INVALID_SESSION_TIMEOUT, a->member_id);
	g = unknown ? kp_group_get_or_create(gc, a->group_id, now) : kp_group_find(gc, a->group_id);
	if (!g)
		return answer(p, unknown ? KP_ERR_COORDINATOR_NOT_AVAILABLE : KP_ERR_UNKNOWN_MEMBER_ID,
			      a->member_id);
	if (g->cg) { /* an empty consumer group becomes a classic group, else the member joins it */
		if (g->cg->members)
			return kp_cg_classic_join(gc, g, a, p, now);
		kp_cg_forget(gc, g);
	}
	if (!accept_joining(gc, g, a->member_id)) {
		struct kp_group_pending_member *pm = NULL;

		HASH_FIND_STR(g->pending, a->member_id ? a->member_id : "", pm);
		if (pm) {
			HASH_DEL(g->pending, pm);
			free(pm->member_id);
			free(pm);
		}
		return answer(p, KP_ERR_GROUP_MAX_SIZE_REACHED, "");
	}
	p = unknown ? join_new(gc, g, a, p, now) : join_existing(gc, g, a, p, now);
	if (p && !p->done)
		p->wait_ms = g->rebalance_deadline > now ? g->rebalance_deadline - now : 0;
	return p;
}
