/*
 * cg_assignor.c - the server-side assignors of consumer groups (KIP-848):
 * the target assignment computed from the members' subscriptions and the
 * subscribed topics' partition counts.
 *
 * uniform  (Kafka's UniformAssignor, the default): every partition of a
 *          subscribed topic goes to one member that subscribes to it, the
 *          members' partition counts differ by at most one where their
 *          subscriptions allow it, and a member keeps what it had in the
 *          previous target where it can (sticky): keep, then hand out the
 *          unassigned partitions to the least loaded subscriber, then move
 *          partitions from the most to the least loaded while that narrows
 *          the gap.
 * range    (Kafka's RangeAssignor): per topic, the subscribers in member id
 *          order get contiguous ranges, the first (partitions % members)
 *          one partition more, so that co-partitioned topics line up.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"

bool kp_cg_assignor_known(const char *name)
{
	return name && (strcmp(name, "uniform") == 0 || strcmp(name, "range") == 0);
}

struct ctx {
	kp_group_coord *gc;
	struct kp_group *g;
	struct kp_cg_member **m;  /* members sorted by member id */
	int32_t nm;
	char **topics;            /* candidate topics, sorted, with their partition counts */
	int32_t *parts;
	int32_t nt;
	bool **subs;              /* subs[i][t]: member i subscribes to topic t */
	int32_t *load;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp((*(struct kp_cg_member *const *)a)->member_id,
		      (*(struct kp_cg_member *const *)b)->member_id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kp_cg_subscribes - does a member subscribe to topic (by name or regex)? */
static bool member_subscribes(const struct kp_cg_member *m, const char *topic)
{
	if (m->topic_count && bsearch(&topic, m->topics, (size_t)m->topic_count, sizeof(char *),
				      cmp_str))
		return true;
	if (m->regex && strcmp(topic, "__consumer_offsets") && strcmp(topic, "__transaction_state")) {
		regex_t re;
		size_t n = strlen(m->regex) + 5;
		char *full = malloc(n);
		bool match = false;

		if (!full)
			return false;
		memcpy(full, "^(", 2);
		memcpy(full + 2, m->regex, n - 5);
		memcpy(full + n - 3, ")$", 3);
		if (regcomp(&re, full, REG_EXTENDED | REG_NOSUB) == 0) {
			match = regexec(&re, topic, 0, NULL, 0) == 0;
			regfree(&re);
		}
		free(full);
		return match;
	}
	return false;
}

bool kp_cg_subscribes(kp_group_coord *gc, const struct kp_cgroup *cg, const char *topic)
{
	(void)gc;
	for (struct kp_cg_member *m = cg->members; m; m = m->hh.next)
		if (member_subscribes(m, topic))
			return true;
	return false;
}

struct names {
	char **v;
	int32_t n, cap;
	bool failed;
};

static void names_add(void *arg, const char *topic)
{
	struct names *ns = arg;

	if (ns->failed)
		return;
	if (ns->n == ns->cap) {
		int32_t cap = ns->cap ? ns->cap * 2 : 16;
		char **v = realloc(ns->v, (size_t)cap * sizeof(*v));

		if (!v) {
			ns->failed = true;
			return;
		}
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strdup(topic)))
		ns->failed = true;
	else
		ns->n++;
}

static void names_free(struct names *ns)
{
	for (int32_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

/*
 * kp_cg_subscribed_metadata - the topics some member subscribes to that
 * exist, sorted, with their partition counts: *topics (strings and array
 * malloc'd) and *parts. Returns the count, -1 when out of memory.
 */
int32_t kp_cg_subscribed_metadata(kp_group_coord *gc, const struct kp_cgroup *cg, char ***topics,
				  int32_t **parts)
{
	struct names all = { 0 };
	bool regex = false;
	int32_t n = 0;

	*topics = NULL;
	*parts = NULL;
	for (struct kp_cg_member *m = cg->members; m; m = m->hh.next) {
		for (int32_t i = 0; i < m->topic_count; i++)
			names_add(&all, m->topics[i]);
		regex |= m->regex != NULL;
	}
	if (regex && gc->cfg.topics_each)
		gc->cfg.topics_each(gc->cfg.metadata_arg, names_add, &all);
	if (all.failed || !(*parts = malloc(((size_t)all.n + 1) * sizeof(int32_t)))) {
		names_free(&all);
		return -1;
	}
	if (all.n > 1)
		qsort(all.v, (size_t)all.n, sizeof(char *), cmp_str);
	for (int32_t i = 0; i < all.n; i++) {
		int32_t p = gc->cfg.topic_partitions
			? gc->cfg.topic_partitions(gc->cfg.metadata_arg, all.v[i]) : -1;

		if ((n > 0 && strcmp(all.v[n - 1], all.v[i]) == 0) || p <= 0 ||
		    !kp_cg_subscribes(gc, cg, all.v[i])) {
			free(all.v[i]);
			continue;
		}
		all.v[n] = all.v[i];
		(*parts)[n++] = p;
	}
	*topics = all.v;
	return n;
}

static void ctx_free(struct ctx *c)
{
	for (int32_t i = 0; c->subs && i < c->nm; i++)
		free(c->subs[i]);
	free(c->subs);
	free(c->m);
	free(c->load);
	for (int32_t t = 0; t < c->nt; t++)
		free(c->topics[t]);
	free(c->topics);
	free(c->parts);
}

static int ctx_init(struct ctx *c, kp_group_coord *gc, struct kp_group *g)
{
	struct kp_cgroup *cg = g->cg;
	int32_t i = 0;

	memset(c, 0, sizeof(*c));
	c->gc = gc;
	c->g = g;
	c->nm = (int32_t)HASH_COUNT(cg->members);
	if ((c->nt = kp_cg_subscribed_metadata(gc, cg, &c->topics, &c->parts)) < 0) {
		c->nt = 0;
		return -1;
	}
	c->m = calloc((size_t)c->nm + 1, sizeof(*c->m));
	c->subs = calloc((size_t)c->nm + 1, sizeof(*c->subs));
	c->load = calloc((size_t)c->nm + 1, sizeof(*c->load));
	if (!c->m || !c->subs || !c->load)
		return -1;
	for (struct kp_cg_member *m = cg->members; m; m = m->hh.next)
		c->m[i++] = m;
	if (c->nm > 1)
		qsort(c->m, (size_t)c->nm, sizeof(*c->m), cmp_member);
	for (i = 0; i < c->nm; i++) {
		if (!(c->subs[i] = calloc((size_t)c->nt + 1, sizeof(bool))))
			return -1;
		for (int32_t t = 0; t < c->nt; t++)
			c->subs[i][t] = member_subscribes(c->m[i], c->topics[t]);
	}
	return 0;
}

static int range(struct ctx *c, struct kp_cg_tps *out)
{
	for (int32_t t = 0; t < c->nt; t++) {
		int32_t n = 0, k = 0, next = 0;

		for (int32_t i = 0; i < c->nm; i++)
			n += c->subs[i][t];
		for (int32_t i = 0; n > 0 && i < c->nm; i++) {
			if (!c->subs[i][t])
				continue;
			int32_t count = c->parts[t] / n + (k++ < c->parts[t] % n);

			for (int32_t p = next; p < next + count; p++)
				if (kp_cg_tps_add(&out[i], c->topics[t], p) < 0)
					return -1;
			next += count;
		}
	}
	return 0;
}

/* least - the least loaded subscriber of topic t other than `except`, or -1. */
static int32_t least(struct ctx *c, int32_t t, int32_t except)
{
	int32_t best = -1;

	for (int32_t i = 0; i < c->nm; i++)
		if (i != except && c->subs[i][t] && (best < 0 || c->load[i] < c->load[best]))
			best = i;
	return best;
}

static int32_t owner_of(struct kp_cg_tps *out, int32_t nm, const char *topic, int32_t p)
{
	for (int32_t i = 0; i < nm; i++)
		if (kp_cg_tps_contains(&out[i], topic, p))
			return i;
	return -1;
}

static int uniform(struct ctx *c, struct kp_cg_tps *out)
{
	bool moved = true;

	/* keep what the previous target gave, where still valid */
	for (int32_t i = 0; i < c->nm; i++)
		for (int32_t k = 0; k < c->m[i]->target.n; k++) {
			const struct kp_cg_tp *tp = &c->m[i]->target.v[k];
			char **at = c->nt ? bsearch(&tp->topic, c->topics, (size_t)c->nt,
						    sizeof(char *), cmp_str) : NULL;
			int32_t t = at ? (int32_t)(at - c->topics) : -1;

			if (t < 0 || !c->subs[i][t] || tp->partition >= c->parts[t] ||
			    owner_of(out, c->nm, tp->topic, tp->partition) >= 0)
				continue;
			if (kp_cg_tps_add(&out[i], tp->topic, tp->partition) < 0)
				return -1;
			c->load[i]++;
		}
	/* the rest to the least loaded subscriber */
	for (int32_t t = 0; t < c->nt; t++)
		for (int32_t p = 0; p < c->parts[t]; p++) {
			int32_t i;

			if (owner_of(out, c->nm, c->topics[t], p) >= 0 || (i = least(c, t, -1)) < 0)
				continue;
			if (kp_cg_tps_add(&out[i], c->topics[t], p) < 0)
				return -1;
			c->load[i]++;
		}
	/* balance: move from a member to a subscriber with at least two fewer */
	while (moved) {
		moved = false;
		for (int32_t i = 0; i < c->nm && !moved; i++)
			for (int32_t k = out[i].n - 1; k >= 0 && !moved; k--) {
				char *topic = out[i].v[k].topic;
				int32_t p = out[i].v[k].partition;
				char **at = c->nt ? bsearch(&topic, c->topics, (size_t)c->nt,
							    sizeof(char *), cmp_str) : NULL;
				int32_t j = at ? least(c, (int32_t)(at - c->topics), i) : -1;

				if (j < 0 || c->load[j] + 1 >= c->load[i])
					continue;
				if (kp_cg_tps_add(&out[j], topic, p) < 0)
					return -1;
				kp_cg_tps_remove(&out[i], topic, p);
				c->load[i]--;
				c->load[j]++;
				moved = true;
			}
	}
	return 0;
}

/*
 * kp_cg_assign - compute g's target assignment with `assignor` ("uniform"
 * or "range") into each member's target. Returns 0, -1 when out of memory
 * (targets unchanged).
 */
int kp_cg_assign(kp_group_coord *gc, struct kp_group *g, const char *assignor)
{
	struct ctx c;
	struct kp_cg_tps *out = NULL;
	int rc = -1;

	if (ctx_init(&c, gc, g) < 0 || !(out = calloc((size_t)c.nm + 1, sizeof(*out))))
		goto out;
	if ((strcmp(assignor, "range") == 0 ? range(&c, out) : uniform(&c, out)) < 0)
		goto out;
	for (int32_t i = 0; i < c.nm; i++) {
		kp_cg_tps_free(&c.m[i]->target);
		c.m[i]->target = out[i];
		memset(&out[i], 0, sizeof(out[i]));
	}
	rc = 0;
out:
	for (int32_t i = 0; out && i < c.nm; i++)
		kp_cg_tps_free(&out[i]);
	free(out);
	ctx_free(&c);
	return rc;
}
