/*
 * group.c - the coordinator object: its table of groups, member ids,
 * pending operations, time (kp_group_tick) and the views ListGroups,
 * DescribeGroups and DeleteGroups take.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

void kp_group_config_default(struct kp_group_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->min_session_timeout_ms = 6000;
	cfg->max_session_timeout_ms = 1800000;
	cfg->initial_rebalance_delay_ms = 3000;
	cfg->max_size = INT32_MAX;
	cfg->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
	cfg->offset_metadata_max_bytes = 4096;
	cfg->offsets_retention_check_interval_ms = 600000;
	cfg->consumer_session_timeout_ms = 45000;
	cfg->consumer_heartbeat_interval_ms = 5000;
	cfg->consumer_max_size = INT32_MAX;
	cfg->consumer_assignors[0] = "uniform";
	cfg->consumer_assignors[1] = "range";
	cfg->consumer_upgrade = cfg->consumer_downgrade = true; /* bidirectional */
}

const char *kp_group_state_name(enum kp_group_state s)
{
	static const char *const names[] = { "Empty", "PreparingRebalance", "CompletingRebalance",
					     "Stable", "Dead", "Assigning", "Reconciling" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "Unknown";
}

char *kp_group_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

kp_group_coord *kp_group_coord_new(const struct kp_group_config *cfg)
{
	kp_group_coord *gc = calloc(1, sizeof(*gc));

	if (!gc)
		return NULL;
	gc->cfg = *cfg;
	gc->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
	gc->next_cleanup = INT64_MIN;
	return gc;
}

void kp_group_remove(kp_group_coord *gc, struct kp_group *g)
{
	kp_group_free_members(gc, g);
	kp_group_offsets_free(g);
	kp_cg_free(g->cg);
	HASH_DEL(gc->groups, g);
	free(g->id);
	free(g->protocol_type);
	free(g->protocol_name);
	free(g->leader);
	free(g);
}

/*
 * kp_cg_forget - g stops being a consumer group (deleted, expired, or
 * becoming a classic group): its consumer state goes and the cstore hook
 * writes the tombstones.
 */
void kp_cg_forget(kp_group_coord *gc, struct kp_group *g)
{
	if (!g->cg)
		return;
	kp_cg_free(g->cg);
	g->cg = NULL;
	if (gc->cfg.cstore)
		gc->cfg.cstore(gc->cfg.notify_arg, g->id);
}

void kp_group_coord_free(kp_group_coord *gc)
{
	struct kp_group *g, *tmp;

	if (!gc)
		return;
	gc->cfg.notify = NULL;
	gc->cfg.store = NULL;
	gc->cfg.removed = NULL;
	gc->cfg.cstore = NULL;
	gc->cfg.cremoved_member = NULL;
	HASH_ITER(hh, gc->groups, g, tmp)
		kp_group_remove(gc, g);
	free(gc->view);
	free(gc->view_parts);
	free(gc);
}

struct kp_group *kp_group_find(kp_group_coord *gc, const char *id)
{
	struct kp_group *g = NULL;

	if (id)
		HASH_FIND_STR(gc->groups, id, g);
	return g;
}

struct kp_group *kp_group_get_or_create(kp_group_coord *gc, const char *id, int64_t now)
{
	struct kp_group *g = kp_group_find(gc, id);

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g || !(g->id = strdup(id))) {
		free(g);
		return NULL;
	}
	g->state = KP_GROUP_EMPTY;
	g->state_since = now;
	HASH_ADD_KEYPTR(hh, gc->groups, g->id, strlen(g->id), g);
	return g;
}

void kp_group_set_state(struct kp_group *g, enum kp_group_state s, int64_t now)
{
	g->state = s;
	g->state_since = now;
}

void kp_group_notify(kp_group_coord *gc, struct kp_group *g)
{
	if (gc->cfg.notify)
		gc->cfg.notify(gc->cfg.notify_arg, g->id);
}

/* kp_group_store - g reached a state worth persisting (Stable, Empty): the store hook. */
void kp_group_store(kp_group_coord *gc, struct kp_group *g)
{
	if (gc->cfg.store)
		gc->cfg.store(gc->cfg.notify_arg, g->id);
}

/* kp_group_random - splitmix64 over the coordinator's state. */
uint64_t kp_group_random(kp_group_coord *gc)
{
	uint64_t z = (gc->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* kp_group_new_member_id - "<prefix>-<random UUID v4>", Kafka's shape; NULL when out of memory. */
char *kp_group_new_member_id(kp_group_coord *gc, const char *prefix)
{
	uint64_t hi = kp_group_random(gc), lo = kp_group_random(gc);
	size_t n = strlen(prefix ? prefix : "") + 40;
	char *id = malloc(n);

	if (!id)
		return NULL;
	hi = (hi & ~0xf000ULL) | 0x4000ULL;
	lo = (lo & ~(3ULL << 62)) | (2ULL << 62);
	snprintf(id, n, "%s-%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
		 prefix ? prefix : "", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
		 (uint64_t)(lo & 0xffffffffffffULL));
	return id;
}

struct kp_group_pending *kp_group_pending_new(kp_group_coord *gc, enum kp_group_pending_kind k)
{
	struct kp_group_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = k;
	p->gc = gc;
	p->generation_id = -1;
	return p;
}

void kp_group_pending_complete(kp_group_coord *gc, struct kp_group_pending *p, int16_t error)
{
	(void)gc;
	p->error = error;
	p->done = true;
	if (p->owner) {
		if (p->owner->join == p)
			p->owner->join = NULL;
		if (p->owner->sync == p)
			p->owner->sync = NULL;
		p->owner = NULL;
	}
}

void kp_group_pending_free(struct kp_group_pending *p)
{
	if (!p)
		return;
	if (p->owner) {
		if (p->owner->join == p)
			p->owner->join = NULL;
		if (p->owner->sync == p)
			p->owner->sync = NULL;
	}
	for (int32_t i = 0; i < p->member_count; i++) {
		free(p->members[i].member_id);
		free(p->members[i].group_instance_id);
		free(p->members[i].metadata);
	}
	free(p->members);
	free(p->member_id);
	free(p->protocol_type);
	free(p->protocol_name);
	free(p->leader);
	free(p->assignment);
	free(p);
}

/* tick_group - one group's deadlines; may remove the group (offset cleanup). */
static void tick_group(kp_group_coord *gc, struct kp_group *g, int64_t now, bool cleanup)
{
	struct kp_group_member *m, *tmp;

	if (g->cg) {
		kp_cg_tick(gc, g, now);
		if (cleanup)
			kp_group_offsets_expire(gc, g, now);
		return;
	}
	kp_group_pending_member_expire(g, now);
again: /* a removal may complete the join phase, which removes others */
	HASH_ITER(hh, g->members, m, tmp) {
		if (m->join || m->sync)
			continue;
		if (now >= m->last_heartbeat + m->session_timeout_ms) {
			kp_group_member_remove(gc, g, m, KP_ERR_UNKNOWN_MEMBER_ID, now);
			goto again;
		}
	}
	if (g->state == KP_GROUP_PREPARING_REBALANCE) {
		if (g->initial_delay && now >= g->delay_until) {
			int64_t remaining = g->rebalance_deadline - now;

			if (g->new_member_added && remaining > 0) {
				int64_t d = gc->cfg.initial_rebalance_delay_ms;

				g->delay_until = now + (d < remaining ? d : remaining);
				g->new_member_added = false;
			} else {
				kp_group_complete_join(gc, g, now);
			}
		} else if (now >= g->rebalance_deadline) {
			kp_group_complete_join(gc, g, now);
		} else {
			kp_group_maybe_complete_join(gc, g, now);
		}
	}
	kp_group_sync_expire(gc, g, now);
	if (cleanup)
		kp_group_offsets_expire(gc, g, now);
}

void kp_group_tick(kp_group_coord *gc, int64_t now)
{
	struct kp_group *g, *tmp;
	bool cleanup = now >= gc->next_cleanup;

	if (cleanup)
		gc->next_cleanup = now + gc->cfg.offsets_retention_check_interval_ms;
	HASH_ITER(hh, gc->groups, g, tmp)
		tick_group(gc, g, now, cleanup);
}

static void info_of(const struct kp_group *g, struct kp_group_info *out)
{
	out->group_id = g->id;
	out->type = g->cg ? "consumer" : "classic";
	out->state = g->state;
	out->protocol_type = g->protocol_type ? g->protocol_type : "";
	out->protocol_name = g->protocol_name ? g->protocol_name : "";
	out->generation_id = g->generation_id;
	out->member_count = (int32_t)(g->cg ? HASH_COUNT(g->cg->members) : HASH_COUNT(g->members));
	if (g->cg) {
		out->protocol_type = "consumer";
		out->generation_id = g->cg->group_epoch;
	}
}

void kp_group_unload(kp_group_coord *gc, bool (*match)(void *arg, const char *group_id), void *arg)
{
	struct kp_group *g, *tmp;

	HASH_ITER(hh, gc->groups, g, tmp) {
		if (!match(arg, g->id))
			continue;
		kp_group_notify(gc, g); /* before the id goes: waiters see NOT_COORDINATOR */
		kp_group_remove(gc, g);
	}
}

bool kp_group_describe(kp_group_coord *gc, const char *group_id, struct kp_group_info *out)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (!g)
		return false;
	info_of(g, out);
	return true;
}

bool kp_group_member_at(kp_group_coord *gc, const char *group_id, int32_t i,
			struct kp_group_member_info *out)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	struct kp_group_member *m;

	if (!g || g->cg || i < 0)
		return false;
	for (m = g->members; m && i > 0; m = m->hh.next)
		i--;
	if (!m)
		return false;
	memset(out, 0, sizeof(*out));
	out->member_id = m->member_id;
	out->group_instance_id = m->instance_id;
	out->client_id = m->client_id ? m->client_id : "";
	out->client_host = m->client_host ? m->client_host : "";
	for (int32_t j = 0; g->protocol_name && j < m->protocol_count; j++)
		if (strcmp(m->protocols[j].name, g->protocol_name) == 0) {
			out->metadata = m->protocols[j].metadata;
			out->metadata_len = m->protocols[j].metadata_len;
		}
	out->assignment = m->assignment;
	out->assignment_len = m->assignment_len;
	return true;
}

size_t kp_group_count(const kp_group_coord *gc)
{
	return HASH_COUNT(gc->groups);
}

bool kp_group_at(kp_group_coord *gc, size_t i, struct kp_group_info *out)
{
	struct kp_group *g;

	for (g = gc->groups; g && i > 0; g = g->hh.next)
		i--;
	if (!g)
		return false;
	info_of(g, out);
	return true;
}

int16_t kp_group_delete(kp_group_coord *gc, const char *group_id)
{
	struct kp_group *g;

	if (!group_id) /* "" is a group id here, as Kafka keeps it for old clients */
		return KP_ERR_INVALID_GROUP_ID;
	g = kp_group_find(gc, group_id);
	if (!g || g->state == KP_GROUP_DEAD)
		return KP_ERR_GROUP_ID_NOT_FOUND;
	if (g->state != KP_GROUP_EMPTY)
		return KP_ERR_NON_EMPTY_GROUP;
	kp_cg_forget(gc, g);
	if (gc->cfg.removed) {
		for (struct kp_group_offset_entry *e = g->offsets; e; e = e->hh.next)
			gc->cfg.removed(gc->cfg.notify_arg, g->id, e->key.topic, e->key.partition);
		gc->cfg.removed(gc->cfg.notify_arg, g->id, NULL, -1);
	}
	kp_group_remove(gc, g);
	return KP_ERR_NONE;
}
