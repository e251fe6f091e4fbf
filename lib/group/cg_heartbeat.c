/*
 * cg_heartbeat.c - ConsumerGroupHeartbeat (KIP-848), Kafka's
 * GroupMetadataManager.consumerGroupHeartbeat in four steps:
 *
 *   1. validate the request; find or create the group and the member
 *      (static members by instance id, KIP-345's rules in KIP-848 form);
 *   2. update the member's subscription; bump the group epoch when a
 *      subscription or a subscribed topic's partition count changed;
 *   3. recompute the target assignment when the group epoch passed it;
 *   4. reconcile the member one step (cg_reconcile.c) and answer with its
 *      epoch and, when it changed or the request was a full one, its
 *      assignment.
 *
 * Epoch -1 leaves; -2 (static members) leaves for a while and keeps the
 * partitions until the session times out or the instance comes back.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"
#include "protocol/errors.h"

static int fail(struct kp_cg_heartbeat_result *r, int16_t error, const char *fmt, ...)
{
	va_list ap;

	r->error = error;
	va_start(ap, fmt);
	vsnprintf(r->error_message, sizeof(r->error_message), fmt, ap);
	va_end(ap);
	return 0;
}

static bool empty(const char *s)
{
	return s && !*s;
}

/* validate - Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid; true when r got an error. */
static bool validate(kp_group_coord *gc, const struct kp_cg_heartbeat_args *a,
		     struct kp_cg_heartbeat_result *r)
{
	bool names = a->topics_set && a->topic_count > 0, regex = a->regex && *a->regex;

	if (!a->group_id || empty(a->group_id))
		return fail(r, KP_ERR_INVALID_REQUEST, "GroupId can't be empty."), true;
	if (empty(a->instance_id))
		return fail(r, KP_ERR_INVALID_REQUEST, "InstanceId can't be empty."), true;
	if (empty(a->rack_id))
		return fail(r, KP_ERR_INVALID_REQUEST, "RackId can't be empty."), true;
	if (a->version >= 1 && (!a->member_id || !*a->member_id))
		return fail(r, KP_ERR_INVALID_REQUEST, "MemberId can't be empty."), true;
	if (a->member_epoch > 0 || a->member_epoch == KP_CG_LEAVE_EPOCH) {
		if (!a->member_id || !*a->member_id)
			return fail(r, KP_ERR_INVALID_REQUEST, "MemberId can't be empty."), true;
	} else if (a->member_epoch == KP_CG_JOIN_EPOCH) {
		if (a->rebalance_timeout_ms == -1)
			return fail(r, KP_ERR_INVALID_REQUEST,
				    "RebalanceTimeoutMs must be provided in first request."), true;
		if (!a->owned_set || a->owned_count > 0 || a->owned_unknown)
			return fail(r, KP_ERR_INVALID_REQUEST,
				    "TopicPartitions must be empty when (re-)joining."), true;
		if (!names && !regex)
			return fail(r, KP_ERR_INVALID_REQUEST, a->version >= 1
				    ? "SubscribedTopicNames or SubscribedTopicRegex must be set in first request."
				    : "SubscribedTopicNames must be set in first request."), true;
	} else if (a->member_epoch == KP_CG_STATIC_LEAVE_EPOCH) {
		if (!a->member_id || !*a->member_id)
			return fail(r, KP_ERR_INVALID_REQUEST, "MemberId can't be empty."), true;
		if (!a->instance_id)
			return fail(r, KP_ERR_INVALID_REQUEST, "InstanceId can't be null."), true;
	} else {
		return fail(r, KP_ERR_INVALID_REQUEST, "MemberEpoch is invalid."), true;
	}
	if (regex) {
		regex_t re;

		if (regcomp(&re, a->regex, REG_EXTENDED | REG_NOSUB) != 0)
			return fail(r, KP_ERR_INVALID_REGULAR_EXPRESSION,
				    "SubscribedTopicRegex `%s` is not a valid regular expression.",
				    a->regex), true;
		regfree(&re);
	}
	if (a->server_assignor && !kp_cg_assignor_known(a->server_assignor)) {
		char list[128] = "";

		for (int i = 0; i < 4 && gc->cfg.consumer_assignors[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
				 gc->cfg.consumer_assignors[i]);
		return fail(r, KP_ERR_UNSUPPORTED_ASSIGNOR,
			    "ServerAssignor %s is not supported. Supported assignors: %s.",
			    a->server_assignor, list), true;
	}
	return false;
}

/* kp_cg_new_uuid - a member id as Kafka's Uuid.toString(): 16 random bytes, base64url, 22 characters. */
char *kp_cg_new_uuid(kp_group_coord *gc)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t b[18] = { 0 };
	uint64_t hi = kp_group_random(gc), lo = kp_group_random(gc);
	char *s = malloc(23);

	if (!s)
		return NULL;
	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)(hi >> (56 - 8 * i));
		b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
	for (int i = 0, o = 0; i < 18; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];

		for (int k = 0; k < 4 && o < 22; k++)
			s[o++] = b64[(v >> (18 - 6 * k)) & 63];
	}
	s[22] = '\0';
	return s;
}

struct kp_cg_member *kp_cg_static_member(struct kp_cgroup *cg, const char *instance_id)
{
	for (struct kp_cg_member *m = cg->members; instance_id && m; m = m->hh.next)
		if (m->instance_id && strcmp(m->instance_id, instance_id) == 0)
			return m;
	return NULL;
}

struct kp_cg_member *kp_cg_member_new(struct kp_cgroup *cg, const char *member_id)
{
	struct kp_cg_member *m = calloc(1, sizeof(*m));

	if (!m || !(m->member_id = strdup(member_id))) {
		free(m);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, cg->members, m->member_id, strlen(m->member_id), m);
	return m;
}

/* reset - a member rejoining with epoch 0 under its id: it owns nothing now. */
static void reset(struct kp_cgroup *cg, struct kp_cg_member *m)
{
	kp_cg_owners_drop(cg, m);
	kp_cg_tps_clear(&m->assigned);
	kp_cg_tps_clear(&m->pending_revocation);
	m->epoch = m->previous_epoch = 0;
	m->state = KP_CG_STABLE;
	m->rebalance_deadline = 0;
}

/* check_epoch - Kafka's throwIfConsumerGroupMemberEpochIsInvalid. */
static bool check_epoch(struct kp_cg_member *m, const struct kp_cg_heartbeat_args *a,
			const struct kp_cg_tps *owned, struct kp_cg_heartbeat_result *r)
{
	int32_t e = a->member_epoch;

	if (e > m->epoch)
		return fail(r, KP_ERR_FENCED_MEMBER_EPOCH,
			    "The consumer group member has a greater member epoch (%d) than the one "
			    "known by the group coordinator (%d). The member must abandon all its "
			    "partitions and rejoin.", e, m->epoch), true;
	if (e < m->epoch && (e != m->previous_epoch || !owned || a->owned_unknown ||
			     !kp_cg_tps_subset(owned, &m->assigned)))
		return fail(r, KP_ERR_FENCED_MEMBER_EPOCH,
			    "The consumer group member has a smaller member epoch (%d) than the one "
			    "known by the group coordinator (%d). The member must abandon all its "
			    "partitions and rejoin.", e, m->epoch), true;
	return false;
}

/*
 * kp_cg_replace_static - a static member comes back under a new member id: it
 * takes over the old one's subscription and partitions at epoch 0, without
 * a rebalance. NULL when out of memory.
 */
struct kp_cg_member *kp_cg_replace_static(kp_group_coord *gc, struct kp_group *g,
					  struct kp_cg_member *old, const char *member_id)
{
	struct kp_cgroup *cg = g->cg;
	struct kp_cg_member *m = kp_cg_member_new(cg, member_id);

	if (!m)
		return NULL;
	m->instance_id = old->instance_id;
	m->rack_id = old->rack_id;
	m->client_id = old->client_id;
	m->client_host = old->client_host;
	m->topics = old->topics;
	m->topic_count = old->topic_count;
	m->regex = old->regex;
	m->server_assignor = old->server_assignor;
	m->rebalance_timeout_ms = old->rebalance_timeout_ms;
	m->assigned = old->assigned;
	m->target = old->target;
	m->classic = old->classic;
	m->classic_session_timeout_ms = old->classic_session_timeout_ms;
	m->protocols = old->protocols;
	m->protocol_count = old->protocol_count;
	old->protocols = NULL;
	old->protocol_count = 0;
	memset(&old->assigned, 0, sizeof(old->assigned));
	memset(&old->target, 0, sizeof(old->target));
	old->instance_id = old->rack_id = old->client_id = old->client_host = NULL;
	old->topics = NULL;
	old->topic_count = 0;
	old->regex = old->server_assignor = NULL;
	kp_cg_owners_drop(cg, old);
	HASH_DEL(cg->members, old);
	if (gc->cfg.cremoved_member)
		gc->cfg.cremoved_member(gc->cfg.notify_arg, g->id, old->member_id);
	kp_cg_member_free(old);
	kp_cg_owners_update(cg, m);
	return m;
}

/* find_member - step 1's member: found, created, or r's error (NULL with r->error set). */
static struct kp_cg_member *find_member(kp_group_coord *gc, struct kp_group *g,
					const struct kp_cg_heartbeat_args *a, const char *member_id,
					const struct kp_cg_tps *owned, bool *created,
					struct kp_cg_heartbeat_result *r)
{
	struct kp_cgroup *cg = g->cg;
	bool joining = a->member_epoch == KP_CG_JOIN_EPOCH;
	struct kp_cg_member *m = kp_cg_member_find(cg, member_id), *old;

	if (a->instance_id && (old = kp_cg_static_member(cg, a->instance_id)) && old != m) {
		if (!joining) {
			fail(r, KP_ERR_FENCED_INSTANCE_ID, "Static member %s with instance id %s is "
			     "fenced by existing member %s.", member_id, a->instance_id, old->member_id);
			return NULL;
		}
		if (old->epoch != KP_CG_STATIC_LEAVE_EPOCH) {
			fail(r, KP_ERR_UNRELEASED_INSTANCE_ID, "Static member %s with instance id %s "
			     "cannot join the group because the instance id is owned by %s member.",
			     member_id, a->instance_id, old->member_id);
			return NULL;
		}
		if (m) { /* a member id of its own too: it goes */
			kp_cg_member_remove(gc, g, m);
			cg->group_epoch--; /* the replacement below is not a new member */
		}
		m = kp_cg_replace_static(gc, g, old, member_id);
		*created = false;
		return m ? m : (fail(r, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory"), NULL);
	}
	if (!m) {
		if (!joining) {
			if (a->instance_id)
				fail(r, KP_ERR_UNKNOWN_MEMBER_ID, "Instance id %s is unknown.",
				     a->instance_id);
			else
				fail(r, KP_ERR_UNKNOWN_MEMBER_ID, "Member %s is not a member of group %s.",
				     member_id, a->group_id);
			return NULL;
		}
		if (!(m = kp_cg_member_new(cg, member_id)))
			fail(r, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
		*created = m != NULL;
		return m;
	}
	if (joining)
		reset(cg, m);
	else if (check_epoch(m, a, owned, r))
		return NULL;
	return m;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int kp_cg_set_str(char **dst, const char *src, bool *changed)
{
	char *c;

	if (str_eq(*dst, src))
		return 0;
	if (src && !(c = strdup(src)))
		return -1;
	free(*dst);
	*dst = src ? c : NULL;
	*changed = true;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kp_cg_set_topics - the subscribed names, sorted and deduplicated; *changed when they differ. */
int kp_cg_set_topics(struct kp_cg_member *m, const char *const *topics, int32_t n, bool *changed)
{
	char **v = calloc((size_t)n + 1, sizeof(*v));
	int32_t k = 0;

	if (!v)
		return -1;
	for (int32_t i = 0; i < n; i++)
		if (topics[i] && !(v[k++] = strdup(topics[i])))
			goto fail;
	if (k > 1)
		qsort(v, (size_t)k, sizeof(*v), cmp_str);
	n = 0;
	for (int32_t i = 0; i < k; i++) {
		if (n > 0 && strcmp(v[n - 1], v[i]) == 0)
			free(v[i]);
		else
			v[n++] = v[i];
	}
	bool same = n == m->topic_count;

	for (int32_t i = 0; same && i < n; i++)
		same = strcmp(v[i], m->topics[i]) == 0;
	if (same) {
		for (int32_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return 0;
	}
	for (int32_t i = 0; i < m->topic_count; i++)
		free(m->topics[i]);
	free(m->topics);
	m->topics = v;
	m->topic_count = n;
	*changed = true;
	return 0;
fail:
	for (int32_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return -1;
}

/* update_member - step 2's member fields; *bump when the subscription changed, *stored when anything did. */
static int update_member(struct kp_cg_member *m, const struct kp_cg_heartbeat_args *a, bool *bump,
			 bool *stored)
{
	bool sub = false;

	if ((a->instance_id && kp_cg_set_str(&m->instance_id, a->instance_id, stored) < 0) ||
	    (a->rack_id && kp_cg_set_str(&m->rack_id, a->rack_id, stored) < 0) ||
	    kp_cg_set_str(&m->client_id, a->client_id ? a->client_id : "", stored) < 0 ||
	    kp_cg_set_str(&m->client_host, a->client_host ? a->client_host : "", stored) < 0)
		return -1;
	if (a->rebalance_timeout_ms != -1 && a->rebalance_timeout_ms != m->rebalance_timeout_ms) {
		m->rebalance_timeout_ms = a->rebalance_timeout_ms;
		*stored = true;
	}
	if ((a->server_assignor && kp_cg_set_str(&m->server_assignor, a->server_assignor, &sub) < 0) ||
	    (a->topics_set && kp_cg_set_topics(m, a->topics, a->topic_count, &sub) < 0) ||
	    (a->regex && kp_cg_set_str(&m->regex, *a->regex ? a->regex : NULL, &sub) < 0))
		return -1;
	*bump |= sub;
	*stored |= sub;
	return 0;
}

/* refresh_metadata - the subscribed topics' partition counts; *bump when they changed. */
static int refresh_metadata(kp_group_coord *gc, struct kp_cgroup *cg, bool *bump)
{
	char **topics;
	int32_t *parts;
	int32_t n = kp_cg_subscribed_metadata(gc, cg, &topics, &parts);
	bool same;

	if (n < 0)
		return -1;
	same = cg->meta_count < 0 || n == cg->meta_count; /* < 0: replayed, not known yet */
	for (int32_t i = 0; same && cg->meta_count >= 0 && i < n; i++)
		same = strcmp(topics[i], cg->meta_topics[i]) == 0 &&
		       parts[i] == cg->meta_partitions[i];
	for (int32_t i = 0; i < cg->meta_count; i++)
		free(cg->meta_topics[i]);
	free(cg->meta_topics);
	free(cg->meta_partitions);
	cg->meta_topics = topics;
	cg->meta_partitions = parts;
	cg->meta_count = n;
	*bump |= !same;
	return 0;
}

/* group_for - step 1's group: found, created when joining, or r's error (NULL). */
static struct kp_group *group_for(kp_group_coord *gc, const struct kp_cg_heartbeat_args *a,
				  int64_t now, struct kp_cg_heartbeat_result *r)
{
	struct kp_group *g = kp_group_find(gc, a->group_id);
	bool joining = a->member_epoch == KP_CG_JOIN_EPOCH;

	if (g && g->state == KP_GROUP_DEAD)
		g = NULL;
	if (!g && !joining)
		return fail(r, KP_ERR_GROUP_ID_NOT_FOUND, "Consumer group %s not found.",
			    a->group_id), NULL;
	if (g && !g->cg && joining && g->members && kp_cg_upgrade(gc, g, now) == 0)
		return g; /* KIP-848's online upgrade */
	if (g && !g->cg && !(joining && g->state == KP_GROUP_EMPTY && !g->members && !g->pending))
		return fail(r, KP_ERR_GROUP_ID_NOT_FOUND, "Group %s is not a consumer group.",
			    a->group_id), NULL;
	if (!g && !(g = kp_group_get_or_create(gc, a->group_id, now)))
		return fail(r, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory"), NULL;
	if (!g->cg) { /* new, or an empty classic group becoming a consumer group */
		if (g->protocol_type && gc->cfg.removed)
			gc->cfg.removed(gc->cfg.notify_arg, g->id, NULL, -1);
		free(g->protocol_type);
		free(g->protocol_name);
		free(g->leader);
		g->protocol_type = g->protocol_name = g->leader = NULL;
		g->generation_id = 0;
		if (!(g->cg = kp_cg_new()))
			return fail(r, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory"), NULL;
		/*
		 * Kafka 4.4 answers the first member of a new group with epoch 2
		 * (tests/differential/consumer_groups.json): start one epoch on.
		 */
		g->cg->group_epoch = g->cg->assignment_epoch = 1;
		kp_group_set_state(g, KP_GROUP_EMPTY, now);
	}
	return g;
}

static int leave(kp_group_coord *gc, const struct kp_cg_heartbeat_args *a, int64_t now,
		 struct kp_cg_heartbeat_result *r)
{
	struct kp_group *g = kp_group_find(gc, a->group_id);
	struct kp_cg_member *m;

	if (!g || !g->cg || g->state == KP_GROUP_DEAD)
		return fail(r, KP_ERR_GROUP_ID_NOT_FOUND, g && !g->cg ?
			    "Group %s is not a consumer group." : "Consumer group %s not found.",
			    a->group_id);
	if (!a->instance_id) {
		if (!(m = kp_cg_member_find(g->cg, a->member_id)))
			return fail(r, KP_ERR_UNKNOWN_MEMBER_ID, "Member %s is not a member of group %s.",
				    a->member_id, a->group_id);
	} else {
		if (!(m = kp_cg_static_member(g->cg, a->instance_id)))
			return fail(r, KP_ERR_UNKNOWN_MEMBER_ID, "Instance id %s is unknown.",
				    a->instance_id);
		if (strcmp(m->member_id, a->member_id) != 0)
			return fail(r, KP_ERR_FENCED_INSTANCE_ID, "Static member %s with instance id %s "
				    "is fenced by existing member %s.", a->member_id, a->instance_id,
				    m->member_id);
	}
	if (!(r->member_id = strdup(a->member_id)))
		return -1;
	r->member_epoch = a->member_epoch;
	if (a->instance_id && a->member_epoch == KP_CG_STATIC_LEAVE_EPOCH) {
		m->epoch = KP_CG_STATIC_LEAVE_EPOCH;
		kp_cg_tps_clear(&m->pending_revocation);
		m->rebalance_deadline = 0;
		kp_cg_owners_update(g->cg, m);
	} else {
		kp_cg_fence(gc, g, m, now);
		if (!g->cg) /* downgraded to a classic group */
			return 0;
	}
	kp_cg_state_update(g, now);
	kp_cg_cstore(gc, g);
	return 0;
}

/* respond - the member's id, epoch and, when asked, its assignment (copied into r). */
static int respond(kp_group_coord *gc, const struct kp_cg_member *m, bool with_assignment,
		   struct kp_cg_heartbeat_result *r)
{
	struct kp_cg_topic_partitions *view = NULL;
	int32_t *parts = NULL, n = 0;
	int rc = -1;

	if (!(r->member_id = strdup(m->member_id)))
		return -1;
	r->member_epoch = m->epoch;
	r->heartbeat_interval_ms = gc->cfg.consumer_heartbeat_interval_ms;
	r->has_assignment = with_assignment;
	if (!with_assignment)
		return 0;
	if (kp_cg_tps_view(&m->assigned, &view, &parts, &n) < 0 ||
	    !(r->assignment = calloc((size_t)n + 1, sizeof(*r->assignment))))
		goto out;
	for (int32_t i = 0; i < n; i++) {
		char *t = strdup(view[i].topic);
		int32_t *p = malloc((size_t)view[i].count * sizeof(*p) + 1);

		if (!t || !p) {
			free(t);
			free(p);
			goto out;
		}
		memcpy(p, view[i].partitions, (size_t)view[i].count * sizeof(*p));
		r->assignment[i] = (struct kp_cg_topic_partitions){ t, p, view[i].count };
		r->assignment_count = i + 1;
	}
	rc = 0;
out:
	free(view);
	free(parts);
	return rc;
}

/*
 * kp_cg_advance - steps 2-4 for member m after its fields were updated:
 * the subscribed topics' metadata, the group epoch (bumped when `bump` or
 * the metadata changed), the target assignment, and m's reconciliation
 * with what it owns (`owned`, NULL: not reported). *stored is set when
 * something to persist changed. 0, or -1 when out of memory.
 */
int kp_cg_advance(kp_group_coord *gc, struct kp_group *g, struct kp_cg_member *m,
		  const struct kp_cg_tps *owned, bool bump, bool *stored)
{
	bool changed = false;

	if (refresh_metadata(gc, g->cg, &bump) < 0)
		return -1;
	if (bump)
		g->cg->group_epoch++;
	if (g->cg->group_epoch > g->cg->assignment_epoch) {
		if (kp_cg_assign(gc, g, kp_cg_preferred_assignor(gc, g->cg)) < 0)
			return -1;
		g->cg->assignment_epoch = g->cg->group_epoch;
		*stored = true;
	}
	if (kp_cg_reconcile(g->cg, m, owned, &changed) < 0)
		return -1;
	*stored |= changed || bump;
	return 0;
}

int kp_cg_heartbeat(kp_group_coord *gc, const struct kp_cg_heartbeat_args *a, int64_t now,
		    struct kp_cg_heartbeat_result *r)
{
	struct kp_cg_tps owned = { 0 }, before = { 0 };
	struct kp_group *g;
	struct kp_cg_member *m;
	char *generated = NULL;
	const char *member_id = a->member_id ? a->member_id : "";
	bool created = false, bump = false, stored = false, changed = false, full;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (validate(gc, a, r))
		return 0;
	if (a->member_epoch == KP_CG_LEAVE_EPOCH || a->member_epoch == KP_CG_STATIC_LEAVE_EPOCH)
		return leave(gc, a, now, r) < 0 ? (r->error = KP_ERR_UNKNOWN_SERVER_ERROR, -1) : 0;
	if (!(g = group_for(gc, a, now, r)))
		return r->error == KP_ERR_UNKNOWN_SERVER_ERROR ? -1 : 0;
	if (!*member_id && !(member_id = generated = kp_cg_new_uuid(gc)))
		goto oom;
	if ((int64_t)HASH_COUNT(g->cg->members) >= gc->cfg.consumer_max_size &&
	    !kp_cg_member_find(g->cg, member_id)) {
		fail(r, KP_ERR_GROUP_MAX_SIZE_REACHED, "The consumer group has reached its maximum "
		     "capacity of %d members.", gc->cfg.consumer_max_size);
		rc = 0;
		goto out;
	}
	if (a->owned_set && kp_cg_tps_from(&owned, a->owned, a->owned_count) < 0)
		goto oom;
	const struct kp_cg_tps *owned_p = a->owned_set && !a->owned_unknown ? &owned : NULL;

	if (!(m = find_member(gc, g, a, member_id, owned_p, &created, r))) {
		rc = r->error == KP_ERR_UNKNOWN_SERVER_ERROR ? -1 : 0;
		goto out;
	}
	bump = created;
	stored = created || a->member_epoch == KP_CG_JOIN_EPOCH;
	enum kp_cg_member_state prev_state = m->state;
	int32_t prev_epoch = m->epoch;

	if (kp_cg_tps_copy(&before, &m->assigned) < 0 || update_member(m, a, &bump, &stored) < 0 ||
	    kp_cg_advance(gc, g, m, owned_p, bump, &stored) < 0)
		goto oom;
	changed = !kp_cg_tps_equal(&before, &m->assigned);
	m->session_deadline = now + gc->cfg.consumer_session_timeout_ms;
	if (m->state != KP_CG_UNREVOKED_PARTITIONS)
		m->rebalance_deadline = 0;
	else if (prev_state != KP_CG_UNREVOKED_PARTITIONS || prev_epoch != m->epoch ||
		 !m->rebalance_deadline)
		m->rebalance_deadline = now + m->rebalance_timeout_ms;
	full = a->member_epoch == KP_CG_JOIN_EPOCH ||
	       (a->rebalance_timeout_ms != -1 && (a->topics_set || a->regex) && a->owned_set);
	if (respond(gc, m, full || changed, r) < 0)
		goto oom;
	kp_cg_state_update(g, now);
	if (stored)
		kp_cg_cstore(gc, g);
	rc = 0;
	goto out;
oom:
	fail(r, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
out:
	kp_cg_tps_free(&owned);
	kp_cg_tps_free(&before);
	free(generated);
	return rc;
}

void kp_cg_result_free(struct kp_cg_heartbeat_result *r)
{
	for (int32_t i = 0; r->assignment && i < r->assignment_count; i++) {
		free((char *)r->assignment[i].topic);
		free((int32_t *)r->assignment[i].partitions);
	}
	free(r->assignment);
	free(r->member_id);
	memset(r, 0, sizeof(*r));
}
