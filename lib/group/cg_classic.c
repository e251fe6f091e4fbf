/*
 * cg_classic.c - members using the classic protocol in a consumer group
 * (KIP-848's compatibility: Kafka's classicGroupJoinToConsumerGroup and
 * its Sync, Heartbeat and Leave siblings). A classic consumer joining a
 * group that already has consumer-protocol members is not given a leader
 * role: the server-side assignor computes its partitions like anyone
 * else's, and the classic APIs carry the result:
 *
 *   JoinGroup   the subscription (ConsumerProtocolSubscription of its first
 *               protocol: topics, owned partitions, rack) updates the member;
 *               answered at once with generation = member epoch, no leader
 *   SyncGroup   its assigned partitions as a ConsumerProtocolAssignment (in
 *               the version of its subscription)
 *   Heartbeat   REBALANCE_IN_PROGRESS while it must rejoin: the group epoch
 *               moved past it, it has partitions to revoke, or partitions it
 *               waited for were released
 *   LeaveGroup  it is removed and the group epoch bumped
 *
 * A classic member that does not sync within its rebalance timeout after
 * joining, or does not rejoin within it after being told to, is fenced;
 * its session is its JoinGroup's session timeout.
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/codec.h"
#include "protocol/errors.h"

/* subscription - decode the first protocol's ConsumerProtocolSubscription into a's arena. */
static int subscription(const struct kp_group_join_args *a, kp_arena *arena,
			struct kp_consumer_protocol_subscription *s)
{
	if (a->protocol_count < 1)
		return -1;
	return kp_cg_decode_subscription(a->protocols[0].metadata, a->protocols[0].metadata_len,
					 arena, s);
}

/* supports - Kafka's ConsumerGroup.supportsClassicProtocols. */
static bool supports(const struct kp_cgroup *cg, const struct kp_group_join_args *a)
{
	if (!a->protocol_type || strcmp(a->protocol_type, "consumer") != 0 || a->protocol_count < 1)
		return false;
	for (int32_t i = 0; i < a->protocol_count; i++) {
		bool all = true;

		for (const struct kp_cg_member *m = cg->members; m && all; m = m->hh.next) {
			bool has = !m->classic;

			for (int32_t k = 0; m->classic && k < m->protocol_count && !has; k++)
				has = strcmp(m->protocols[k].name, a->protocols[i].name) == 0;
			all = has;
		}
		if (all)
			return true;
	}
	return false;
}

static int set_protocols(struct kp_cg_member *m, const struct kp_group_join_args *a)
{
	struct kp_group_proto *ps = calloc((size_t)a->protocol_count + 1, sizeof(*ps));

	if (!ps)
		return -1;
	for (int32_t i = 0; i < m->protocol_count; i++) {
		free(m->protocols[i].name);
		free(m->protocols[i].metadata);
	}
	free(m->protocols);
	m->protocols = ps;
	m->protocol_count = a->protocol_count;
	for (int32_t i = 0; i < a->protocol_count; i++) {
		ps[i].name = strdup(a->protocols[i].name);
		ps[i].metadata = malloc(a->protocols[i].metadata_len + 1);
		ps[i].metadata_len = a->protocols[i].metadata_len;
		if (!ps[i].name || !ps[i].metadata)
			return -1;
		if (a->protocols[i].metadata_len)
			memcpy(ps[i].metadata, a->protocols[i].metadata, a->protocols[i].metadata_len);
	}
	return 0;
}

static struct kp_group_pending *done(struct kp_group_pending *p, int16_t error,
				     const char *member_id)
{
	free(p->member_id);
	p->member_id = strdup(member_id ? member_id : "");
	kp_group_pending_complete(p->gc, p, error);
	return p;
}

/* join_member - the member a classic JoinGroup names: found, created, or NULL with *error. */
static struct kp_cg_member *join_member(kp_group_coord *gc, struct kp_group *g,
					const struct kp_group_join_args *a, const char *member_id,
					int16_t *error)
{
	struct kp_cg_member *m = kp_cg_member_find(g->cg, member_id), *old;

	if (a->group_instance_id && (old = kp_cg_static_member(g->cg, a->group_instance_id)) &&
	    old != m) {
		if (m) {
			kp_cg_member_remove(gc, g, m);
			g->cg->group_epoch--;
		}
		m = kp_cg_replace_static(gc, g, old, member_id);
		if (m)
			m->epoch = m->previous_epoch = 0;
	} else if (!m) { /* any id, also one MEMBER_ID_REQUIRED handed out, as Kafka does */
		m = kp_cg_member_new(g->cg, member_id);
	} else if (!m->classic) {
		*error = KP_ERR_UNKNOWN_MEMBER_ID; /* a consumer-protocol member's id */
		return NULL;
	}
	if (!m)
		*error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	return m;
}

struct kp_group_pending *kp_cg_classic_join(kp_group_coord *gc, struct kp_group *g,
					    const struct kp_group_join_args *a,
					    struct kp_group_pending *p, int64_t now)
{
	struct kp_consumer_protocol_subscription s;
	struct kp_cg_tps owned = { 0 };
	struct kp_cg_member *m;
	kp_arena arena;
	char *generated = NULL;
	const char *member_id = a->member_id && *a->member_id ? a->member_id : NULL;
	bool stored = true, bump = false, created;
	int16_t error = KP_ERR_NONE;

	kp_arena_init(&arena);
	if (!member_id && !(member_id = generated = kp_cg_new_uuid(gc))) {
		error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		goto out;
	}
	if ((int64_t)HASH_COUNT(g->cg->members) >= gc->cfg.consumer_max_size &&
	    !kp_cg_member_find(g->cg, member_id)) {
		error = KP_ERR_GROUP_MAX_SIZE_REACHED;
		goto out;
	}
	if (!supports(g->cg, a) || subscription(a, &arena, &s) < 0) {
		error = KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
		goto out;
	}
	if (generated && a->require_known_member && !a->group_instance_id) {
		error = KP_ERR_MEMBER_ID_REQUIRED; /* KIP-394: rejoin with this id */
		goto out;
	}
	created = !kp_cg_member_find(g->cg, member_id);
	if (!(m = join_member(gc, g, a, member_id, &error)))
		goto out;
	bump = created && !a->group_instance_id;
	m->classic = true;
	m->classic_session_timeout_ms = a->session_timeout_ms;
	m->rebalance_timeout_ms = a->rebalance_timeout_ms;
	for (int32_t i = 0; i < s.owned_partitions_count; i++)
		for (int32_t k = 0; k < s.owned_partitions[i].partitions_count; k++)
			if (kp_cg_tps_add(&owned, s.owned_partitions[i].topic,
					  s.owned_partitions[i].partitions[k]) < 0)
				error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (error || set_protocols(m, a) < 0 ||
	    kp_cg_set_str(&m->client_id, a->client_id ? a->client_id : "", &stored) < 0 ||
	    kp_cg_set_str(&m->client_host, a->client_host ? a->client_host : "", &stored) < 0 ||
	    (a->group_instance_id && kp_cg_set_str(&m->instance_id, a->group_instance_id,
						  &stored) < 0) ||
	    (s.rack_id && kp_cg_set_str(&m->rack_id, s.rack_id, &stored) < 0) ||
	    kp_cg_set_topics(m, (const char *const *)s.topics, s.topics_count > 0 ? s.topics_count : 0,
			     &bump) < 0 ||
	    kp_cg_advance(gc, g, m, &owned, bump, &stored) < 0) {
		error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		goto out;
	}
	m->session_deadline = now + m->classic_session_timeout_ms;
	m->sync_deadline = now + m->rebalance_timeout_ms;
	m->join_deadline = 0;
	m->rebalance_deadline = 0;
	p->generation_id = m->epoch;
	p->protocol_type = kp_group_strdup("consumer");
	p->protocol_name = kp_group_strdup(m->protocols[0].name);
	p->leader = kp_group_strdup("");
	kp_cg_state_update(g, now);
	kp_cg_cstore(gc, g);
	if (!p->protocol_type || !p->protocol_name || !p->leader)
		error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
out:
	p = done(p, error, member_id);
	kp_cg_tps_free(&owned);
	kp_arena_free(&arena);
	free(generated);
	return p;
}

/* classic_member - Kafka's validateConsumerGroupMember + throwIfMemberDoesNotUseClassicProtocol. */
static struct kp_cg_member *classic_member(struct kp_group *g, const char *member_id,
					   const char *instance_id, int16_t *error)
{
	struct kp_cg_member *m = kp_cg_member_find(g->cg, member_id), *s;

	*error = KP_ERR_NONE;
	if (instance_id && (s = kp_cg_static_member(g->cg, instance_id)) && s != m)
		*error = KP_ERR_FENCED_INSTANCE_ID;
	else if (!m || !m->classic)
		*error = KP_ERR_UNKNOWN_MEMBER_ID;
	return *error ? NULL : m;
}

/* encode_assignment - m's assigned partitions as a ConsumerProtocolAssignment into p. */
static int encode_assignment(const struct kp_cg_member *m, struct kp_group_pending *p)
{
	struct kp_consumer_protocol_assignment pa;
	struct kp_cg_topic_partitions *view = NULL;
	int32_t *parts = NULL, n = 0;
	int16_t v = 0;
	kp_buf out;
	kp_error err;
	int rc = -1;

	if (m->protocol_count > 0 && m->protocols[0].metadata_len >= 2)
		v = (int16_t)(m->protocols[0].metadata[0] << 8 | m->protocols[0].metadata[1]);
	v = v < 0 ? 0 : v > 3 ? 3 : v;
	kp_buf_init(&out);
	kp_consumer_protocol_assignment_init(&pa);
	if (kp_cg_tps_view(&m->assigned, &view, &parts, &n) < 0)
		goto fail;
	pa.assigned_partitions = calloc((size_t)n + 1, sizeof(*pa.assigned_partitions));
	if (!pa.assigned_partitions)
		goto fail;
	for (int32_t i = 0; i < n; i++)
		pa.assigned_partitions[i] = (struct kp_consumer_protocol_assignment_topic_partition){
			(char *)view[i].topic, (int32_t *)view[i].partitions, view[i].count };
	pa.assigned_partitions_count = n;
	pa.user_data.len = -1;
	kp_buf_put_i16(&out, v);
	if (kp_msg_encode(&kp_consumer_protocol_assignment_desc, v, &pa, &out, &err) < 0 ||
	    !(p->assignment = malloc(out.len + 1)))
		goto fail;
	memcpy(p->assignment, out.data, out.len);
	p->assignment_len = out.len;
	rc = 0;
fail:
	free(pa.assigned_partitions);
	free(view);
	free(parts);
	kp_buf_free(&out);
	return rc;
}

struct kp_group_pending *kp_cg_classic_sync(kp_group_coord *gc, struct kp_group *g,
					    const struct kp_group_sync_args *a,
					    struct kp_group_pending *p, int64_t now)
{
	int16_t error;
	struct kp_cg_member *m = classic_member(g, a->member_id, a->group_instance_id, &error);

	if (!m)
		return done(p, error, a->member_id);
	if (a->generation_id != m->epoch)
		return done(p, KP_ERR_ILLEGAL_GENERATION, a->member_id);
	if ((a->protocol_type && strcmp(a->protocol_type, "consumer") != 0) ||
	    (a->protocol_name && (m->protocol_count < 1 ||
				  strcmp(a->protocol_name, m->protocols[0].name) != 0)))
		return done(p, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, a->member_id);
	if (g->cg->group_epoch > m->epoch && m->state != KP_CG_UNREVOKED_PARTITIONS) {
		if (!m->join_deadline)
			m->join_deadline = now + m->rebalance_timeout_ms;
		return done(p, KP_ERR_REBALANCE_IN_PROGRESS, a->member_id);
	}
	m->sync_deadline = 0;
	m->session_deadline = now + m->classic_session_timeout_ms;
	p->generation_id = m->epoch;
	p->protocol_type = kp_group_strdup("consumer");
	p->protocol_name = kp_group_strdup(m->protocols[0].name);
	if (!p->protocol_type || !p->protocol_name || encode_assignment(m, p) < 0)
		return done(p, KP_ERR_COORDINATOR_NOT_AVAILABLE, a->member_id);
	return done(p, KP_ERR_NONE, a->member_id);
}

/* waiting_on_unreleased - Kafka's ConsumerGroup.waitingOnUnreleasedPartition. */
static bool waiting_on_unreleased(struct kp_cgroup *cg, const struct kp_cg_member *m)
{
	struct kp_group_offset_key k;
	struct kp_cg_owner *o;

	if (m->state != KP_CG_UNRELEASED_PARTITIONS)
		return false;
	for (int32_t i = 0; i < m->target.n; i++) {
		if (kp_cg_tps_contains(&m->assigned, m->target.v[i].topic, m->target.v[i].partition) ||
		    kp_cg_offset_key(&k, m->target.v[i].topic, m->target.v[i].partition) < 0)
			continue;
		o = NULL;
		HASH_FIND(hh, cg->owners, &k, sizeof(k), o);
		if (o)
			return true;
	}
	return false;
}

int16_t kp_cg_classic_heartbeat(kp_group_coord *gc, struct kp_group *g, const char *member_id,
				const char *instance_id, int32_t generation_id, int64_t now)
{
	int16_t error;
	struct kp_cg_member *m = classic_member(g, member_id, instance_id, &error);

	if (!m)
		return error;
	if (generation_id != m->epoch)
		return KP_ERR_ILLEGAL_GENERATION;
	m->session_deadline = now + m->classic_session_timeout_ms;
	if (m->epoch < g->cg->group_epoch || m->state == KP_CG_UNREVOKED_PARTITIONS ||
	    (m->state == KP_CG_UNRELEASED_PARTITIONS && !waiting_on_unreleased(g->cg, m))) {
		if (!m->join_deadline)
			m->join_deadline = now + m->rebalance_timeout_ms;
		return KP_ERR_REBALANCE_IN_PROGRESS;
	}
	return KP_ERR_NONE;
}

int16_t kp_cg_classic_leave(kp_group_coord *gc, struct kp_group *g, const char *member_id,
			    const char *instance_id, int64_t now)
{
	struct kp_cg_member *m;

	if (instance_id) {
		if (!(m = kp_cg_static_member(g->cg, instance_id)))
			return KP_ERR_UNKNOWN_MEMBER_ID;
		if (member_id && *member_id && strcmp(member_id, m->member_id) != 0)
			return KP_ERR_FENCED_INSTANCE_ID;
	} else if (!(m = kp_cg_member_find(g->cg, member_id))) {
		return KP_ERR_UNKNOWN_MEMBER_ID;
	}
	if (!m->classic)
		return KP_ERR_UNKNOWN_MEMBER_ID;
	kp_cg_fence(gc, g, m, now);
	if (!g->cg)
		return KP_ERR_NONE;
	kp_cg_state_update(g, now);
	kp_cg_cstore(gc, g);
	return KP_ERR_NONE;
}
