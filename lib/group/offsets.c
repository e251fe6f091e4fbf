/*
 * offsets.c - committed offsets of a group: OffsetCommit's checks
 * (Kafka's ClassicGroup.validateOffsetCommit), storage, lookup,
 * OffsetDelete, and expiry of the offsets of empty groups (KIP-211).
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

static int make_key(struct kp_group_offset_key *k, const char *topic, int32_t partition)
{
	size_t n = strlen(topic);

	memset(k, 0, sizeof(*k));
	if (n >= sizeof(k->topic))
		return -1;
	memcpy(k->topic, topic, n);
	k->partition = partition;
	return 0;
}

static struct kp_group_offset_entry *find(struct kp_group *g, const char *topic, int32_t partition)
{
	struct kp_group_offset_key k;
	struct kp_group_offset_entry *e = NULL;

	if (!g || !topic || make_key(&k, topic, partition) < 0)
		return NULL;
	HASH_FIND(hh, g->offsets, &k, sizeof(k), e);
	return e;
}

static void entry_free(struct kp_group *g, struct kp_group_offset_entry *e)
{
	HASH_DEL(g->offsets, e);
	free((char *)e->o.metadata);
	free(e);
}

void kp_group_offset_forget(struct kp_group *g, const char *topic, int32_t partition)
{
	struct kp_group_offset_entry *e = find(g, topic, partition);

	if (e)
		entry_free(g, e);
}

void kp_group_offsets_free(struct kp_group *g)
{
	struct kp_group_offset_entry *e, *tmp;

	HASH_ITER(hh, g->offsets, e, tmp)
		entry_free(g, e);
}

/*
 * consumer_commit_check - Kafka's ConsumerGroup.validateOffsetCommit: a
 * member epoch < 0 commits to an empty group (admin tools); else the
 * member must exist, use OffsetCommit v9+ (KIP-848) and send its current
 * epoch (STALE_MEMBER_EPOCH).
 */
static int16_t consumer_commit_check(struct kp_cgroup *cg, const char *member_id, int32_t epoch,
				     int16_t version)
{
	struct kp_cg_member *m;

	if (epoch < 0 && !cg->members)
		return KP_ERR_NONE;
	if (!(m = kp_cg_member_find(cg, member_id)))
		return KP_ERR_UNKNOWN_MEMBER_ID;
	if (version < 9)
		return KP_ERR_UNSUPPORTED_VERSION;
	if (epoch != m->epoch)
		return KP_ERR_STALE_MEMBER_EPOCH;
	return KP_ERR_NONE;
}

int16_t kp_group_commit_check(kp_group_coord *gc, const char *group_id, const char *member_id,
			      const char *group_instance_id, int32_t generation_id, int16_t version,
			      int64_t now)
{
	struct kp_group *g;
	int16_t error;

	if (!group_id) /* "" is a group id here, as Kafka keeps it for old clients */
		return KP_ERR_INVALID_GROUP_ID;
	g = kp_group_find(gc, group_id);
	if (!g) {
		if (generation_id >= 0)
			return version >= 9 ? KP_ERR_GROUP_ID_NOT_FOUND : KP_ERR_ILLEGAL_GENERATION;
		return kp_group_get_or_create(gc, group_id, now) ? KP_ERR_NONE
			: KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	if (g->state == KP_GROUP_DEAD)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (g->cg)
		return consumer_commit_check(g->cg, member_id, generation_id, version);
	if (generation_id < 0 && g->state == KP_GROUP_EMPTY)
		return KP_ERR_NONE;
	/* the member first, then its generation, then the state (Kafka's order) */
	if ((error = kp_group_validate_member(g, member_id, group_instance_id)))
		return error;
	if (generation_id != g->generation_id)
		return KP_ERR_ILLEGAL_GENERATION;
	if (g->state == KP_GROUP_COMPLETING_REBALANCE)
		return KP_ERR_REBALANCE_IN_PROGRESS;
	kp_group_member_find(g, member_id)->last_heartbeat = now;
	return KP_ERR_NONE;
}

int16_t kp_group_commit(kp_group_coord *gc, const char *group_id, const char *topic,
			int32_t partition, const struct kp_group_offset *o, int64_t now)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	(void)now;
	if (!g)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (o->metadata && strlen(o->metadata) > (size_t)gc->cfg.offset_metadata_max_bytes)
		return KP_ERR_OFFSET_METADATA_TOO_LARGE;
	return kp_group_offset_store(g, topic, partition, o) < 0 ? KP_ERR_COORDINATOR_NOT_AVAILABLE
		: KP_ERR_NONE;
}

/*
 * kp_group_offset_store - set g's offset of topic/partition to a copy of
 * *o (no size check: a replayed offset is kept whatever
 * offset.metadata.max.bytes is now). 0, or -1 when out of memory.
 */
int kp_group_offset_store(struct kp_group *g, const char *topic, int32_t partition,
			  const struct kp_group_offset *o)
{
	struct kp_group_offset_entry *e;
	char *copy = strdup(o->metadata ? o->metadata : "");

	if (!copy)
		return -1;
	e = find(g, topic, partition);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || make_key(&e->key, topic, partition) < 0) {
			free(e);
			free(copy);
			return -1;
		}
		HASH_ADD(hh, g->offsets, key, sizeof(e->key), e);
	}
	free((char *)e->o.metadata);
	e->o = *o;
	e->o.metadata = copy;
	return 0;
}

const struct kp_group_offset *kp_group_offset_get(kp_group_coord *gc, const char *group_id,
						  const char *topic, int32_t partition)
{
	struct kp_group_offset_entry *e = find(kp_group_find(gc, group_id), topic, partition);

	return e ? &e->o : NULL;
}

size_t kp_group_offsets_each(kp_group_coord *gc, const char *group_id,
			     void (*fn)(void *arg, const char *topic, int32_t partition,
					const struct kp_group_offset *o),
			     void *arg)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	size_t n = 0;

	if (!g)
		return 0;
	for (struct kp_group_offset_entry *e = g->offsets; e; e = e->hh.next, n++)
		fn(arg, e->key.topic, e->key.partition, &e->o);
	return n;
}

static bool uses_consumer_protocol(const struct kp_group *g)
{
	return g->protocol_type && strcmp(g->protocol_type, "consumer") == 0;
}

int16_t kp_group_offset_delete_check(kp_group_coord *gc, const char *group_id)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (!g || g->state == KP_GROUP_DEAD)
		return KP_ERR_GROUP_ID_NOT_FOUND;
	if (g->members && !uses_consumer_protocol(g) && !g->cg)
		return KP_ERR_NON_EMPTY_GROUP;
	return KP_ERR_NONE;
}

/*
 * subscribes - 1 when ConsumerProtocolSubscription `md` (int16 version,
 * then v0's prefix: an int32 count of int16-length topic names) lists
 * topic, 0 when not, -1 when it does not parse.
 */
static int subscribes(const uint8_t *md, size_t len, const char *topic)
{
	size_t pos = 6, tlen = strlen(topic);
	int32_t n;

	if (!md || len < 6)
		return -1;
	n = (int32_t)((uint32_t)md[2] << 24 | (uint32_t)md[3] << 16 | (uint32_t)md[4] << 8 | md[5]);
	if (n < 0)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		int16_t l;

		if (pos + 2 > len)
			return -1;
		l = (int16_t)(md[pos] << 8 | md[pos + 1]);
		pos += 2;
		if (l < 0 || pos + (size_t)l > len)
			return -1;
		if ((size_t)l == tlen && memcmp(md + pos, topic, tlen) == 0)
			return 1;
		pos += (size_t)l;
	}
	return 0;
}

/* subscribed - Kafka's ClassicGroup.isSubscribedToTopic for g's members. */
static bool subscribed(const struct kp_group *g, const char *topic)
{
	if (g->cg)
		return kp_cg_subscribes(NULL, g->cg, topic);
	if (!uses_consumer_protocol(g))
		return false;
	if (!g->protocol_name)
		return g->members != NULL;
	for (const struct kp_group_member *m = g->members; m; m = m->hh.next) {
		int r = -1;

		for (int32_t j = 0; j < m->protocol_count; j++)
			if (strcmp(m->protocols[j].name, g->protocol_name) == 0)
				r = subscribes(m->protocols[j].metadata, m->protocols[j].metadata_len,
					       topic);
		if (r != 0)
			return true;
	}
	return false;
}

int16_t kp_group_offset_delete(kp_group_coord *gc, const char *group_id, const char *topic,
			       int32_t partition)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	struct kp_group_offset_entry *e;

	if (!g || g->state == KP_GROUP_DEAD)
		return KP_ERR_GROUP_ID_NOT_FOUND;
	if (subscribed(g, topic))
		return KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
	e = find(g, topic, partition);
	if (e) {
		if (gc->cfg.removed)
			gc->cfg.removed(gc->cfg.notify_arg, g->id, topic, partition);
		entry_free(g, e);
	}
	return KP_ERR_NONE;
}

/*
 * expired - whether e's offset in g is past its retention at `now`
 * (Kafka's ClassicGroup.offsetExpirationCondition and
 * OffsetExpirationConditionImpl.isOffsetExpired).
 */
static bool expired(const kp_group_coord *gc, const struct kp_group *g,
		    const struct kp_group_offset_entry *e, int64_t now)
{
	int64_t base;

	if (g->cg) { /* consumer groups: from the commit, topics no member subscribes to */
		if (subscribed(g, e->key.topic))
			return false;
		base = e->o.commit_timestamp;
	} else if (!g->protocol_type) /* simple consumers: from the commit */
		base = e->o.commit_timestamp;
	else if (g->state == KP_GROUP_EMPTY) /* from when the group became Empty, if known */
		base = g->state_since != INT64_MIN ? g->state_since : e->o.commit_timestamp;
	else if (g->state == KP_GROUP_STABLE && uses_consumer_protocol(g) &&
		 !subscribed(g, e->key.topic)) /* a topic no member consumes */
		base = e->o.commit_timestamp;
	else
		return false;
	if (e->o.expire_timestamp > 0)
		return now >= e->o.expire_timestamp;
	return now - base >= gc->cfg.offsets_retention_ms;
}

/*
 * kp_group_offsets_expire - expire g's offsets (see kp_group_tick), each
 * told to the removed hook; an Empty group left with no offsets is
 * removed (Kafka's cleanupGroupMetadata), its tombstone told too.
 */
void kp_group_offsets_expire(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	struct kp_group_offset_entry *e, *tmp;

	HASH_ITER(hh, g->offsets, e, tmp) {
		if (!expired(gc, g, e, now))
			continue;
		if (gc->cfg.removed)
			gc->cfg.removed(gc->cfg.notify_arg, g->id, e->key.topic, e->key.partition);
		entry_free(g, e);
	}
	if (g->state == KP_GROUP_EMPTY && !g->offsets && !g->members && !g->pending) {
		kp_cg_forget(gc, g);
		if (gc->cfg.removed)
			gc->cfg.removed(gc->cfg.notify_arg, g->id, NULL, -1);
		kp_group_remove(gc, g);
	}
}
