/*
 * sync.c - SyncGroup, Heartbeat and LeaveGroup of the classic protocol,
 * with Kafka's checks in Kafka's order (validateSyncGroup,
 * validateClassicGroupHeartbeat, classicGroupLeave).
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

static struct kp_group_pending *sync_answer(struct kp_group_pending *p, int16_t error)
{
	kp_group_pending_complete(p->gc, p, error);
	return p;
}

/* give - complete m's sync p with m's assignment (copied). */
static void give(struct kp_group *g, struct kp_group_member *m, struct kp_group_pending *p)
{
	p->generation_id = g->generation_id;
	p->protocol_type = kp_group_strdup(g->protocol_type);
	p->protocol_name = kp_group_strdup(g->protocol_name);
	p->assignment = malloc(m->assignment_len ? m->assignment_len : 1);
	p->assignment_len = m->assignment_len;
	if (p->assignment && m->assignment_len)
		memcpy(p->assignment, m->assignment, m->assignment_len);
	kp_group_pending_complete(p->gc, p, p->assignment ? KP_ERR_NONE
				  : KP_ERR_COORDINATOR_NOT_AVAILABLE);
}

/* store_assignments - the leader's assignments; members it leaves out get an empty one. */
static int store_assignments(struct kp_group *g, const struct kp_group_sync_args *a)
{
	for (int32_t i = 0; i < a->assignment_count; i++) {
		struct kp_group_member *m = kp_group_member_find(g, a->assignments[i].member_id);
		uint8_t *copy;

		if (!m)
			continue;
		copy = malloc(a->assignments[i].len ? a->assignments[i].len : 1);
		if (!copy)
			return -1;
		if (a->assignments[i].len)
			memcpy(copy, a->assignments[i].data, a->assignments[i].len);
		free(m->assignment);
		m->assignment = copy;
		m->assignment_len = a->assignments[i].len;
	}
	return 0;
}

static bool mismatch(const char *sent, const char *have)
{
	return sent && (!have || strcmp(sent, have) != 0);
}

struct kp_group_pending *kp_group_sync(kp_group_coord *gc, const struct kp_group_sync_args *a,
				       int64_t now)
{
	struct kp_group_pending *p = kp_group_pending_new(gc, KP_GROUP_PENDING_SYNC);
	struct kp_group *g;
	struct kp_group_member *m;
	int16_t error;

	if (!p)
		return NULL;
	if (!a->group_id || !*a->group_id)
		return sync_answer(p, KP_ERR_INVALID_GROUP_ID);
	g = kp_group_find(gc, a->group_id);
	if (g && g->cg)
		return kp_cg_classic_sync(gc, g, a, p, now);
	if (!g)
		return sync_answer(p, KP_ERR_UNKNOWN_MEMBER_ID);
	if (g->state == KP_GROUP_DEAD)
		return sync_answer(p, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	if ((error = kp_group_validate_member(g, a->member_id, a->group_instance_id)))
		return sync_answer(p, error);
	if (a->generation_id != g->generation_id)
		return sync_answer(p, KP_ERR_ILLEGAL_GENERATION);
	if (mismatch(a->protocol_type, g->protocol_type) || mismatch(a->protocol_name, g->protocol_name))
		return sync_answer(p, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	m = kp_group_member_find(g, a->member_id);
	m->last_heartbeat = now;
	if (g->state == KP_GROUP_STABLE || g->state == KP_GROUP_COMPLETING_REBALANCE)
		m->pending_sync = false;
	switch (g->state) {
	case KP_GROUP_PREPARING_REBALANCE:
		return sync_answer(p, KP_ERR_REBALANCE_IN_PROGRESS);
	case KP_GROUP_STABLE:
		give(g, m, p);
		return p;
	case KP_GROUP_COMPLETING_REBALANCE:
		break;
	default:
		return sync_answer(p, KP_ERR_UNKNOWN_MEMBER_ID);
	}
	if (m->sync && m->sync != p)
		kp_group_pending_complete(gc, m->sync, KP_ERR_REBALANCE_IN_PROGRESS);
	m->sync = p;
	p->owner = m;
	p->wait_ms = g->sync_deadline > now ? g->sync_deadline - now : 0;
	if (strcmp(g->leader, m->member_id) != 0)
		return p;
	if (store_assignments(g, a) < 0) {
		kp_group_prepare_rebalance(gc, g, now);
		return p;
	}
	kp_group_set_state(g, KP_GROUP_STABLE, now);
	kp_group_store(gc, g);
	for (struct kp_group_member *o = g->members; o; o = o->hh.next) {
		o->last_heartbeat = now;
		if (o->sync)
			give(g, o, o->sync);
	}
	kp_group_notify(gc, g);
	return p;
}

void kp_group_sync_failed(kp_group_coord *gc, const char *group_id, int32_t generation_id,
			  int64_t now)
{
	struct kp_group *g = group_id ? kp_group_find(gc, group_id) : NULL;

	/* Kafka checks CompletingRebalance: the group is Stable here from the leader's sync on */
	if (!g || g->cg || g->state != KP_GROUP_STABLE || g->generation_id != generation_id)
		return;
	kp_group_prepare_rebalance(gc, g, now);
}

int16_t kp_group_heartbeat(kp_group_coord *gc, const char *group_id, const char *member_id,
			   const char *group_instance_id, int32_t generation_id, int64_t now)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	int16_t error;

	if (!group_id || !*group_id)
		return KP_ERR_INVALID_GROUP_ID;
	if (g && g->cg)
		return kp_cg_classic_heartbeat(gc, g, member_id, group_instance_id, generation_id, now);
	if (!g)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (g->state == KP_GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (g->state == KP_GROUP_EMPTY)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if ((error = kp_group_validate_member(g, member_id, group_instance_id)))
		return error;
	if (generation_id != g->generation_id)
		return KP_ERR_ILLEGAL_GENERATION;
	kp_group_member_find(g, member_id)->last_heartbeat = now;
	if (g->state == KP_GROUP_PREPARING_REBALANCE)
		return KP_ERR_REBALANCE_IN_PROGRESS;
	return KP_ERR_NONE;
}

int16_t kp_group_leave(kp_group_coord *gc, const char *group_id, const char *member_id,
		       const char *group_instance_id, int64_t now)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	struct kp_group_pending_member *pm = NULL;
	struct kp_group_member *m;

	if (!group_id || !*group_id)
		return KP_ERR_INVALID_GROUP_ID;
	if (g && g->cg)
		return kp_cg_classic_leave(gc, g, member_id, group_instance_id, now);
	if (!g)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (g->state == KP_GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if ((!member_id || !*member_id) && group_instance_id) {
		m = kp_group_static_member(g, group_instance_id);
		if (!m)
			return KP_ERR_UNKNOWN_MEMBER_ID;
	} else {
		HASH_FIND_STR(g->pending, member_id ? member_id : "", pm);
		if (pm) {
			HASH_DEL(g->pending, pm);
			free(pm->member_id);
			free(pm);
			kp_group_maybe_complete_join(gc, g, now);
			return KP_ERR_NONE;
		}
		int16_t error = kp_group_validate_member(g, member_id, group_instance_id);

		if (error)
			return error;
		m = kp_group_member_find(g, member_id);
	}
	kp_group_member_remove(gc, g, m, KP_ERR_UNKNOWN_MEMBER_ID, now);
	return KP_ERR_NONE;
}
