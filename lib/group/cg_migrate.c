/*
 * cg_migrate.c - KIP-848's online migration between the two kinds of
 * group, as Kafka does under group.consumer.migration.policy (default
 * bidirectional; upgrade or downgrade allow one way, disabled neither):
 *
 *   upgrade    a consumer-protocol member joins a classic group that has
 *              members: the group becomes a consumer group, each classic
 *              member kept as a classic member of it (its subscription and
 *              last assignment read from its ConsumerProtocolSubscription and
 *              ConsumerProtocolAssignment, at the classic generation), and
 *              their waiting JoinGroup/SyncGroup answered
 *              REBALANCE_IN_PROGRESS;
 *   downgrade  the last consumer-protocol member leaves a group whose other
 *              members all use the classic protocol: it becomes a classic
 *              group at the group epoch, in PreparingRebalance, so that the
 *              classic members rejoin and their leader assigns.
 *
 * A classic group upgrades only if it uses the "consumer" protocol type, has
 * a selected protocol whose metadata parses, and fits group.consumer.max.size.
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/codec.h"
#include "protocol/errors.h"

/* decode - a "consumer" embedded protocol struct (int16 version, then the body) into `a`. */
static int decode(const struct kp_msg_desc *d, int16_t max, const uint8_t *data, size_t len,
		  kp_arena *a, void *out)
{
	kp_reader r;
	kp_error err;
	int16_t v;

	kp_reader_init(&r, data, len);
	v = kp_read_i16(&r);
	if (r.failed || v < 0)
		return -1;
	return kp_msg_decode(d, v > max ? max : v, &r, a, out, &err);
}

int kp_cg_decode_subscription(const uint8_t *data, size_t len, kp_arena *a,
			      struct kp_consumer_protocol_subscription *s)
{
	return decode(&kp_consumer_protocol_subscription_desc, 3, data, len, a, s);
}

/* member_metadata - m's metadata for the group's selected protocol, or NULL. */
static const struct kp_group_proto *selected(const struct kp_group *g,
					     const struct kp_group_member *m)
{
	for (int32_t i = 0; g->protocol_name && i < m->protocol_count; i++)
		if (strcmp(m->protocols[i].name, g->protocol_name) == 0)
			return &m->protocols[i];
	return NULL;
}

/* convert_member - classic member m as a classic member of cg; -1 on a parse error or no memory. */
static int convert_member(struct kp_group *g, struct kp_cgroup *cg, struct kp_group_member *m,
			  kp_arena *a, int64_t now)
{
	const struct kp_group_proto *p = selected(g, m);
	struct kp_consumer_protocol_subscription s;
	struct kp_consumer_protocol_assignment as = { 0 };
	struct kp_cg_member *c;
	bool ignored;

	if (!p || kp_cg_decode_subscription(p->metadata, p->metadata_len, a, &s) < 0 ||
	    (m->assignment_len > 0 &&
	     decode(&kp_consumer_protocol_assignment_desc, 3, m->assignment, m->assignment_len, a,
		    &as) < 0))
		return -1;
	if (!(c = kp_cg_member_new(cg, m->member_id)))
		return -1;
	c->classic = true;
	c->epoch = c->previous_epoch = g->generation_id;
	c->state = KP_CG_STABLE;
	c->rebalance_timeout_ms = m->rebalance_timeout_ms;
	c->classic_session_timeout_ms = m->session_timeout_ms;
	c->session_deadline = now + m->session_timeout_ms;
	if (!(c->protocols = calloc((size_t)m->protocol_count + 1, sizeof(*c->protocols))))
		return -1;
	for (int32_t i = 0; i < m->protocol_count; i++, c->protocol_count++) {
		c->protocols[i].name = strdup(m->protocols[i].name);
		c->protocols[i].metadata = malloc(m->protocols[i].metadata_len + 1);
		c->protocols[i].metadata_len = m->protocols[i].metadata_len;
		if (!c->protocols[i].name || !c->protocols[i].metadata)
			return -1;
		if (m->protocols[i].metadata_len)
			memcpy(c->protocols[i].metadata, m->protocols[i].metadata,
			       m->protocols[i].metadata_len);
	}
	for (int32_t i = 0; i < as.assigned_partitions_count; i++)
		for (int32_t k = 0; k < as.assigned_partitions[i].partitions_count; k++)
			if (kp_cg_tps_add(&c->assigned, as.assigned_partitions[i].topic,
					  as.assigned_partitions[i].partitions[k]) < 0)
				return -1;
	if (kp_cg_tps_copy(&c->target, &c->assigned) < 0 ||
	    kp_cg_set_str(&c->instance_id, m->instance_id, &ignored) < 0 ||
	    kp_cg_set_str(&c->client_id, m->client_id, &ignored) < 0 ||
	    kp_cg_set_str(&c->client_host, m->client_host, &ignored) < 0 ||
	    (s.rack_id && kp_cg_set_str(&c->rack_id, s.rack_id, &ignored) < 0) ||
	    kp_cg_set_topics(c, (const char *const *)s.topics, s.topics_count > 0 ? s.topics_count : 0,
			     &ignored) < 0)
		return -1;
	kp_cg_owners_update(cg, c);
	return 0;
}

int kp_cg_upgrade(kp_group_coord *gc, struct kp_group *g, int64_t now)
{
	struct kp_cgroup *cg;
	kp_arena a;
	int rc = -1;

	if (!gc->cfg.consumer_upgrade || !g->protocol_type ||
	    strcmp(g->protocol_type, "consumer") != 0 || !g->protocol_name ||
	    (int64_t)HASH_COUNT(g->members) > gc->cfg.consumer_max_size || !(cg = kp_cg_new()))
		return -1;
	kp_arena_init(&a);
	cg->group_epoch = cg->assignment_epoch = g->generation_id;
	for (struct kp_group_member *m = g->members; m; m = m->hh.next)
		if (convert_member(g, cg, m, &a, now) < 0)
			goto out;
	for (struct kp_group_member *m = g->members; m; m = m->hh.next) {
		if (m->join)
			kp_group_pending_complete(gc, m->join, KP_ERR_REBALANCE_IN_PROGRESS);
		if (m->sync)
			kp_group_pending_complete(gc, m->sync, KP_ERR_REBALANCE_IN_PROGRESS);
	}
	kp_group_notify(gc, g);
	kp_group_free_members(gc, g);
	if (gc->cfg.removed) /* the classic GroupMetadata record goes */
		gc->cfg.removed(gc->cfg.notify_arg, g->id, NULL, -1);
	free(g->protocol_type);
	free(g->protocol_name);
	free(g->leader);
	g->protocol_type = g->protocol_name = g->leader = NULL;
	g->cg = cg;
	cg = NULL;
	kp_cg_state_update(g, now);
	rc = 0;
out:
	kp_cg_free(cg);
	kp_arena_free(&a);
	return rc;
}

/* classic_member - c as a member of the classic group g (no assignment); NULL when out of memory. */
static struct kp_group_member *classic_member(struct kp_group *g, const struct kp_cg_member *c,
					      int64_t now)
{
	struct kp_group_member *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->group = g;
	m->member_id = strdup(c->member_id);
	m->instance_id = kp_group_strdup(c->instance_id);
	m->client_id = strdup(c->client_id ? c->client_id : "");
	m->client_host = strdup(c->client_host ? c->client_host : "");
	m->session_timeout_ms = c->classic_session_timeout_ms;
	m->rebalance_timeout_ms = c->rebalance_timeout_ms;
	m->last_heartbeat = now;
	m->protocols = calloc((size_t)c->protocol_count + 1, sizeof(*m->protocols));
	if (!m->member_id || !m->client_id || !m->client_host || !m->protocols ||
	    (c->instance_id && !m->instance_id)) {
		free(m->member_id);
		free(m->instance_id);
		free(m->client_id);
		free(m->client_host);
		free(m->protocols);
		free(m);
		return NULL;
	}
	/* in the group from here on: kp_group_free_members frees what was allocated */
	HASH_ADD_KEYPTR(hh, g->members, m->member_id, strlen(m->member_id), m);
	for (int32_t i = 0; i < c->protocol_count; i++, m->protocol_count++) {
		m->protocols[i].name = strdup(c->protocols[i].name);
		m->protocols[i].metadata = malloc(c->protocols[i].metadata_len + 1);
		m->protocols[i].metadata_len = c->protocols[i].metadata_len;
		if (!m->protocols[i].name || !m->protocols[i].metadata)
			return NULL;
		if (c->protocols[i].metadata_len)
			memcpy(m->protocols[i].metadata, c->protocols[i].metadata,
			       c->protocols[i].metadata_len);
	}
	return m;
}

bool kp_cg_maybe_downgrade(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *leaving,
			   int64_t now)
{
	struct kp_cgroup *cg = g->cg;
	int32_t n = 0;

	if (!gc->cfg.consumer_downgrade)
		return false;
	for (struct kp_cg_member *c = cg->members; c; c = c->hh.next) {
		if (c == leaving)
			continue;
		if (!c->classic)
			return false;
		n++;
	}
	if (n == 0 || n > gc->cfg.max_size || !(g->protocol_type = strdup("consumer")))
		return false;
	for (struct kp_cg_member *c = cg->members; c; c = c->hh.next)
		if (c != leaving && !classic_member(g, c, now))
			break; /* out of memory: the group rebalances with those made */
	g->generation_id = cg->group_epoch;
	for (struct kp_cg_member *c = cg->members; c; c = c->hh.next)
		if (gc->cfg.cremoved_member)
			gc->cfg.cremoved_member(gc->cfg.notify_arg, g->id, c->member_id);
	kp_cg_forget(gc, g); /* the consumer group's records go */
	kp_group_set_state(g, KP_GROUP_STABLE, now);
	kp_group_prepare_rebalance(gc, g, now);
	kp_group_store(gc, g);
	return true;
}
