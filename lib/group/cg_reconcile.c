/*
 * cg_reconcile.c - one member's step towards the target assignment
 * (Kafka's CurrentAssignmentBuilder, KIP-848), and the group's map of who
 * owns each partition (currentPartitionEpoch).
 *
 * From the member's assigned partitions A, the target T and the owners:
 *
 *   keep     = A & T
 *   revoke   = A - T           (the member must give these up first)
 *   assign   = T - A, minus partitions another member still owns
 *
 *   revoke not empty and still owned -> UNREVOKED_PARTITIONS, epoch kept,
 *                                       assigned = keep, pending = revoke
 *   assign not empty                 -> target epoch, assigned = keep+assign,
 *                                       STABLE or UNRELEASED_PARTITIONS
 *   some of T still owned elsewhere  -> UNRELEASED_PARTITIONS, target epoch
 *   otherwise                        -> STABLE, target epoch
 *
 * "Still owned" reads the member's own report: a heartbeat without owned
 * partitions (null) counts as still owning everything.
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"

static struct kp_cg_owner *owner_find(struct kp_cgroup *cg, const char *topic, int32_t partition)
{
	struct kp_group_offset_key k;
	struct kp_cg_owner *o = NULL;

	if (kp_cg_offset_key(&k, topic, partition) < 0)
		return NULL;
	HASH_FIND(hh, cg->owners, &k, sizeof(k), o);
	return o;
}

/* kp_cg_owners_drop - m owns nothing any more. */
void kp_cg_owners_drop(struct kp_cgroup *cg, struct kp_cg_member *m)
{
	struct kp_cg_owner *o, *tmp;

	HASH_ITER(hh, cg->owners, o, tmp) {
		if (o->member != m)
			continue;
		HASH_DEL(cg->owners, o);
		free(o);
	}
}

static void own(struct kp_cgroup *cg, struct kp_cg_member *m, const struct kp_cg_tps *s)
{
	for (int32_t i = 0; i < s->n; i++) {
		struct kp_cg_owner *o = owner_find(cg, s->v[i].topic, s->v[i].partition);

		if (!o) {
			if (!(o = calloc(1, sizeof(*o))) ||
			    kp_cg_offset_key(&o->key, s->v[i].topic, s->v[i].partition) < 0) {
				free(o);
				continue;
			}
			HASH_ADD(hh, cg->owners, key, sizeof(o->key), o);
		}
		o->member = m;
		o->epoch = m->epoch;
	}
}

/* kp_cg_owners_update - m owns its assigned and pending revocation partitions at its epoch. */
void kp_cg_owners_update(struct kp_cgroup *cg, struct kp_cg_member *m)
{
	kp_cg_owners_drop(cg, m);
	own(cg, m, &m->assigned);
	own(cg, m, &m->pending_revocation);
}

/* owns_any - does the member (by its report `owned`, NULL: unknown) still own any of s? */
static bool owns_any(const struct kp_cg_tps *owned, const struct kp_cg_tps *s)
{
	if (!owned)
		return true;
	for (int32_t i = 0; i < s->n; i++)
		if (kp_cg_tps_contains(owned, s->v[i].topic, s->v[i].partition))
			return true;
	return false;
}

/* update_epoch - Kafka's Builder.updateMemberEpoch. */
static void update_epoch(struct kp_cg_member *m, int32_t epoch)
{
	m->previous_epoch = m->epoch;
	m->epoch = epoch;
}

/* next - computeNextAssignment from the member's assigned partitions. */
static int next(struct kp_cgroup *cg, struct kp_cg_member *m, int32_t epoch,
		const struct kp_cg_tps *owned)
{
	struct kp_cg_tps keep = { 0 }, revoke = { 0 }, assign = { 0 };
	const struct kp_cg_tps *a = &m->assigned, *t = &m->target;
	bool unreleased = false;
	int rc = -1;

	for (int32_t i = 0; i < a->n; i++)
		if (kp_cg_tps_add(kp_cg_tps_contains(t, a->v[i].topic, a->v[i].partition) ? &keep
				  : &revoke, a->v[i].topic, a->v[i].partition) < 0)
			goto out;
	for (int32_t i = 0; i < t->n; i++) {
		struct kp_cg_owner *o;

		if (kp_cg_tps_contains(a, t->v[i].topic, t->v[i].partition))
			continue;
		o = owner_find(cg, t->v[i].topic, t->v[i].partition);
		if (o && o->member != m) {
			unreleased = true;
			continue;
		}
		if (kp_cg_tps_add(&assign, t->v[i].topic, t->v[i].partition) < 0)
			goto out;
	}
	if (revoke.n > 0 && owns_any(owned, &revoke)) {
		m->state = KP_CG_UNREVOKED_PARTITIONS;
		update_epoch(m, epoch);
		if (kp_cg_tps_copy(&m->assigned, &keep) < 0 ||
		    kp_cg_tps_copy(&m->pending_revocation, &revoke) < 0)
			goto out;
	} else {
		for (int32_t i = 0; i < assign.n; i++)
			if (kp_cg_tps_add(&keep, assign.v[i].topic, assign.v[i].partition) < 0)
				goto out;
		m->state = unreleased ? KP_CG_UNRELEASED_PARTITIONS : KP_CG_STABLE;
		update_epoch(m, cg->assignment_epoch);
		if (kp_cg_tps_copy(&m->assigned, &keep) < 0)
			goto out;
		kp_cg_tps_clear(&m->pending_revocation);
	}
	rc = 0;
out:
	kp_cg_tps_free(&keep);
	kp_cg_tps_free(&revoke);
	kp_cg_tps_free(&assign);
	return rc;
}

/*
 * kp_cg_reconcile - move m one step towards cg's target assignment
 * (m->target at cg->assignment_epoch), given what the member reports it
 * owns (NULL: not reported). Sets *changed when m's epoch, state or
 * partitions changed, and then updates the owners. Returns 0, -1 when out
 * of memory.
 */
int kp_cg_reconcile(struct kp_cgroup *cg, struct kp_cg_member *m, const struct kp_cg_tps *owned,
		    bool *changed)
{
	int32_t epoch = m->epoch, prev = m->previous_epoch;
	enum kp_cg_member_state state = m->state;
	struct kp_cg_tps before = { 0 }, before_pending = { 0 };
	int rc = 0;

	*changed = false;
	if (m->state == KP_CG_STABLE && m->epoch == cg->assignment_epoch)
		return 0;
	if (kp_cg_tps_copy(&before, &m->assigned) < 0 ||
	    kp_cg_tps_copy(&before_pending, &m->pending_revocation) < 0) {
		rc = -1;
		goto out;
	}
	switch (m->state) {
	case KP_CG_STABLE:
		rc = next(cg, m, m->epoch, owned);
		break;
	case KP_CG_UNREVOKED_PARTITIONS:
		if (owns_any(owned, &m->pending_revocation))
			break;
		rc = next(cg, m, m->epoch + 1, owned);
		break;
	case KP_CG_UNRELEASED_PARTITIONS:
	default:
		rc = next(cg, m, m->epoch, owned);
		break;
	}
	*changed = m->epoch != epoch || m->previous_epoch != prev || m->state != state ||
		   !kp_cg_tps_equal(&before, &m->assigned) ||
		   !kp_cg_tps_equal(&before_pending, &m->pending_revocation);
	if (*changed)
		kp_cg_owners_update(cg, m);
out:
	kp_cg_tps_free(&before);
	kp_cg_tps_free(&before_pending);
	return rc;
}
