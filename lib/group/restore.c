/*
 * restore.c - groups to and from their persisted form: the snapshot the
 * broker writes as a GroupMetadataValue record in __consumer_offsets,
 * and loading groups and offsets replayed from that log (Kafka's
 * GroupCoordinatorShard replay of GroupMetadata and OffsetCommit records).
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

bool kp_group_snapshot_get(kp_group_coord *gc, const char *group_id, struct kp_group_snapshot *out)
{
	struct kp_group *g = kp_group_find(gc, group_id);
	int32_t n, i = 0;

	memset(out, 0, sizeof(*out));
	if (!g || g->state == KP_GROUP_DEAD || g->cg)
		return false;
	n = (int32_t)HASH_COUNT(g->members);
	out->group_id = g->id;
	out->protocol_type = g->protocol_type ? g->protocol_type : "";
	out->protocol_name = g->protocol_name;
	out->leader = g->leader;
	out->generation_id = g->generation_id;
	out->state_timestamp = g->state_since != INT64_MIN ? g->state_since : -1;
	out->members = calloc((size_t)(n ? n : 1), sizeof(*out->members));
	if (!out->members)
		return true; /* member_count 0: the group persists without members */
	for (struct kp_group_member *m = g->members; m; m = m->hh.next, i++) {
		struct kp_group_snapshot_member *sm = &out->members[i];

		sm->member_id = m->member_id;
		sm->group_instance_id = m->instance_id;
		sm->client_id = m->client_id ? m->client_id : "";
		sm->client_host = m->client_host ? m->client_host : "";
		sm->rebalance_timeout_ms = m->rebalance_timeout_ms;
		sm->session_timeout_ms = m->session_timeout_ms;
		sm->subscription = (const uint8_t *)"";
		for (int32_t j = 0; g->protocol_name && j < m->protocol_count; j++)
			if (strcmp(m->protocols[j].name, g->protocol_name) == 0) {
				sm->subscription = m->protocols[j].metadata;
				sm->subscription_len = m->protocols[j].metadata_len;
			}
		sm->assignment = m->assignment ? m->assignment : (const uint8_t *)"";
		sm->assignment_len = m->assignment_len;
	}
	out->member_count = n;
	return true;
}

/* copy_bytes - a malloc'd copy of n bytes (at least one byte allocated); NULL when out of memory. */
static uint8_t *copy_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (c && n)
		memcpy(c, p, n);
	return c;
}

/* restore_member - one member of s into g; -1 when out of memory. */
static int restore_member(struct kp_group *g, const struct kp_group_snapshot *s,
			  const struct kp_group_snapshot_member *sm, int64_t now)
{
	struct kp_group_member *m = calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->group = g;
	m->member_id = strdup(sm->member_id ? sm->member_id : "");
	m->instance_id = sm->group_instance_id ? strdup(sm->group_instance_id) : NULL;
	m->client_id = strdup(sm->client_id ? sm->client_id : "");
	m->client_host = strdup(sm->client_host ? sm->client_host : "");
	m->session_timeout_ms = sm->session_timeout_ms;
	m->rebalance_timeout_ms = sm->rebalance_timeout_ms >= 0 ? sm->rebalance_timeout_ms
		: sm->session_timeout_ms;
	m->protocols = calloc(1, sizeof(*m->protocols));
	m->assignment = copy_bytes(sm->assignment, sm->assignment_len);
	m->assignment_len = sm->assignment_len;
	m->last_heartbeat = now;
	if (m->protocols) {
		m->protocol_count = 1;
		m->protocols[0].name = strdup(s->protocol_name ? s->protocol_name : "");
		m->protocols[0].metadata = copy_bytes(sm->subscription, sm->subscription_len);
		m->protocols[0].metadata_len = sm->subscription_len;
	}
	if (!m->member_id) {
		free(m->instance_id);
		free(m->client_id);
		free(m->client_host);
		if (m->protocols) {
			free(m->protocols[0].name);
			free(m->protocols[0].metadata);
		}
		free(m->protocols);
		free(m->assignment);
		free(m);
		return -1;
	}
	/* in the group from here on: kp_group_free_members frees what was allocated */
	HASH_ADD_KEYPTR(hh, g->members, m->member_id, strlen(m->member_id), m);
	if (!m->client_id || !m->client_host || !m->protocols ||
	    !m->protocols[0].name || !m->protocols[0].metadata || !m->assignment ||
	    (sm->group_instance_id && !m->instance_id))
		return -1;
	return 0;
}

int kp_group_restore(kp_group_coord *gc, const char *group_id, const struct kp_group_snapshot *s,
		     int64_t now)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (g && g->cg) { /* a classic record before the group became a consumer group */
		if (!s)
			return 0;
		kp_cg_free(g->cg);
		g->cg = NULL;
	}
	if (g) {
		kp_group_free_members(gc, g);
		free(g->protocol_type);
		free(g->protocol_name);
		free(g->leader);
		g->protocol_type = g->protocol_name = g->leader = NULL;
	}
	if (!s) {
		if (g && !g->offsets)
			kp_group_remove(gc, g);
		else if (g)
			kp_group_set_state(g, KP_GROUP_EMPTY, now);
		return 0;
	}
	if (!g && !(g = kp_group_get_or_create(gc, group_id, now)))
		return -1;
	g->generation_id = s->generation_id;
	g->protocol_type = *s->protocol_type ? strdup(s->protocol_type) : NULL;
	g->protocol_name = s->protocol_name ? strdup(s->protocol_name) : NULL;
	g->leader = s->leader ? strdup(s->leader) : NULL;
	for (int32_t i = 0; i < s->member_count; i++)
		if (restore_member(g, s, &s->members[i], now) < 0)
			return -1;
	/* no currentStateTimestamp (older records): offsets count from their commits, as in Kafka */
	kp_group_set_state(g, g->members ? KP_GROUP_STABLE : KP_GROUP_EMPTY,
			   s->state_timestamp >= 0 ? s->state_timestamp : INT64_MIN);
	return 0;
}

int kp_group_restore_offset(kp_group_coord *gc, const char *group_id, const char *topic,
			    int32_t partition, const struct kp_group_offset *o, int64_t now)
{
	struct kp_group *g = kp_group_find(gc, group_id);

	if (!o) {
		if (g)
			kp_group_offset_forget(g, topic, partition);
		return 0;
	}
	if (!g && !(g = kp_group_get_or_create(gc, group_id, now)))
		return -1;
	return kp_group_offset_store(g, topic, partition, o);
}
