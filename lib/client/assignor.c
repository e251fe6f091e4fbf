/*
 * assignor.c - range, roundrobin and cooperative-sticky partition
 * assignment; see assignor.h.
 *
 * Every assignor works on `order`, the member indices sorted by group
 * instance id (else member id), and on the topics sorted by name. The
 * cooperative-sticky assignor is the constrained case of the Java one
 * made simple: with the members' subscriptions equal it gives every
 * member floor(P/n) or ceil(P/n) partitions and moves as few as it can;
 * with unequal subscriptions each unowned partition goes to the least
 * loaded member subscribed to it.
 */
#include "client/assignor.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int kp_assignor_parse(const char *name, kp_error *err)
{
	static const struct {
		const char *name, *java;
		int id;
	} names[] = {
		{ "range", "org.apache.kafka.clients.consumer.RangeAssignor", KP_ASSIGNOR_RANGE },
		{ "roundrobin", "org.apache.kafka.clients.consumer.RoundRobinAssignor",
		  KP_ASSIGNOR_ROUNDROBIN },
		{ "cooperative-sticky", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
		  KP_ASSIGNOR_COOPERATIVE_STICKY },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i].name) == 0 || strcmp(name, names[i].java) == 0)
			return names[i].id;
	return kp_error_set(err, KP_EINVAL,
			    "bad partition.assignment.strategy '%s' (want range, roundrobin or "
			    "cooperative-sticky)", name);
}

const char *kp_assignor_name(int assignor)
{
	switch (assignor) {
	case KP_ASSIGNOR_RANGE: return "range";
	case KP_ASSIGNOR_ROUNDROBIN: return "roundrobin";
	case KP_ASSIGNOR_COOPERATIVE_STICKY: return "cooperative-sticky";
	default: return "?";
	}
}

int kp_assignor_cooperative(int assignor)
{
	return assignor == KP_ASSIGNOR_COOPERATIVE_STICKY;
}

/* What every assignor works with. */
struct ctx {
	const struct kp_assign_topic *topics;
	size_t ntopics;
	struct kp_assign_member *m;
	size_t n;
	size_t *order;  /* member indices, sorted */
	size_t *torder; /* topic indices, sorted by name */
};

static const char *member_key(const struct kp_assign_member *m)
{
	return m->group_instance_id ? m->group_instance_id : m->member_id;
}

static const struct kp_assign_member *sort_members; /* qsort has no context argument */
static const struct kp_assign_topic *sort_topics;

static int cmp_member(const void *a, const void *b)
{
	return strcmp(member_key(&sort_members[*(const size_t *)a]),
		      member_key(&sort_members[*(const size_t *)b]));
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(sort_topics[*(const size_t *)a].name, sort_topics[*(const size_t *)b].name);
}

static int cmp_tp(const void *a, const void *b)
{
	const struct kp_tp *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static bool subscribed(const struct kp_assign_member *m, const char *topic)
{
	for (size_t i = 0; i < m->ntopics; i++)
		if (strcmp(m->topics[i], topic) == 0)
			return true;
	return false;
}

static void give(struct kp_assign_member *m, const char *topic, int32_t partition)
{
	m->assigned[m->nassigned++] = (struct kp_tp){ topic, partition };
}

static void assign_range(struct ctx *c)
{
	for (size_t t = 0; t < c->ntopics; t++) {
		const struct kp_assign_topic *tp = &c->topics[c->torder[t]];
		size_t k = 0, i = 0;
		for (size_t j = 0; j < c->n; j++)
			k += subscribed(&c->m[c->order[j]], tp->name);
		if (k == 0)
			continue;
		int32_t per = tp->partitions / (int32_t)k, extra = tp->partitions % (int32_t)k;
		for (size_t j = 0; j < c->n; j++) {
			struct kp_assign_member *m = &c->m[c->order[j]];
			if (!subscribed(m, tp->name))
				continue;
			int32_t ii = (int32_t)i++;
			int32_t start = per * ii + (ii < extra ? ii : extra);
			int32_t len = per + (ii < extra ? 1 : 0);
			for (int32_t p = start; p < start + len; p++)
				give(m, tp->name, p);
		}
	}
}

static void assign_roundrobin(struct ctx *c)
{
	size_t next = 0;

	for (size_t t = 0; t < c->ntopics; t++) {
		const struct kp_assign_topic *tp = &c->topics[c->torder[t]];
		for (int32_t p = 0; p < tp->partitions; p++)
			for (size_t tries = 0; tries < c->n; tries++) {
				struct kp_assign_member *m = &c->m[c->order[next]];
				next = (next + 1) % c->n;
				if (subscribed(m, tp->name)) {
					give(m, tp->name, p);
					break;
				}
			}
	}
}

/* Index of the topic named `name` in c->topics, or -1. */
static long topic_index(const struct ctx *c, const char *name)
{
	for (size_t t = 0; t < c->ntopics; t++)
		if (strcmp(c->topics[t].name, name) == 0)
			return (long)t;
	return -1;
}

/*
 * owner[base[t] + p]: the member (index into c->m) whose claim on
 * partition p of topic t counts (the highest generation, then the first
 * in order), or -1. Claims on unknown partitions or unsubscribed topics
 * are ignored.
 */
static void find_owners(const struct ctx *c, const size_t *base, long *owner)
{
	for (size_t j = 0; j < c->n; j++) {
		size_t mi = c->order[j];
		const struct kp_assign_member *m = &c->m[mi];
		for (size_t k = 0; k < m->nowned; k++) {
			long t = topic_index(c, m->owned[k].topic);
			int32_t p = m->owned[k].partition;
			if (t < 0 || p < 0 || p >= c->topics[t].partitions || !subscribed(m, m->owned[k].topic))
				continue;
			long *o = &owner[base[t] + (size_t)p];
			if (*o < 0 || c->m[*o].generation < m->generation)
				*o = (long)mi;
		}
	}
}

static size_t least_loaded(const struct ctx *c, const char *topic)
{
	size_t best = (size_t)-1;

	for (size_t j = 0; j < c->n; j++) {
		size_t mi = c->order[j];
		if (subscribed(&c->m[mi], topic) &&
		    (best == (size_t)-1 || c->m[mi].nassigned < c->m[best].nassigned))
			best = mi;
	}
	return best;
}

/* Keep each member's owned partitions up to its quota (pass 0: floor, pass 1: +1). */
static void keep_owned(struct ctx *c, const size_t *base, const long *owner, size_t total,
		       bool *taken)
{
	size_t floor_q = total / c->n, extra = total % c->n;

	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < c->n; j++) {
			size_t mi = c->order[j];
			struct kp_assign_member *m = &c->m[mi];
			size_t quota = pass == 0 ? floor_q : floor_q + 1;
			if (pass == 1 && (extra == 0 || m->nassigned != floor_q))
				continue;
			for (size_t t = 0; t < c->ntopics && m->nassigned < quota; t++) {
				size_t ti = c->torder[t];
				for (int32_t p = 0; p < c->topics[ti].partitions && m->nassigned < quota; p++)
					if (owner[base[ti] + (size_t)p] == (long)mi && !taken[base[ti] + (size_t)p]) {
						taken[base[ti] + (size_t)p] = true;
						give(m, c->topics[ti].name, p);
					}
			}
			if (pass == 1 && m->nassigned > floor_q)
				extra--;
		}
}

/* Drop partitions that another member still owns: they move in the next generation. */
static void withhold_moving(struct ctx *c, const size_t *base, const long *owner)
{
	for (size_t mi = 0; mi < c->n; mi++) {
		struct kp_assign_member *m = &c->m[mi];
		size_t w = 0;
		for (size_t k = 0; k < m->nassigned; k++) {
			long t = topic_index(c, m->assigned[k].topic);
			long o = owner[base[t] + (size_t)m->assigned[k].partition];
			if (o < 0 || o == (long)mi)
				m->assigned[w++] = m->assigned[k];
		}
		m->nassigned = w;
	}
}

static int assign_sticky(struct ctx *c, size_t total)
{
	size_t *base = calloc(c->ntopics + 1, sizeof *base);
	long *owner = malloc((total + 1) * sizeof *owner);
	bool *taken = calloc(total + 1, sizeof *taken);
	size_t assignable = 0;
	int rc = -1;

	if (!base || !owner || !taken)
		goto out;
	for (size_t t = 0; t < c->ntopics; t++) {
		base[t + 1] = base[t] + (size_t)c->topics[t].partitions;
		if (least_loaded(c, c->topics[t].name) != (size_t)-1)
			assignable += (size_t)c->topics[t].partitions;
	}
	for (size_t i = 0; i < total; i++)
		owner[i] = -1;
	find_owners(c, base, owner);
	keep_owned(c, base, owner, assignable, taken);
	for (size_t t = 0; t < c->ntopics; t++) {
		size_t ti = c->torder[t];
		for (int32_t p = 0; p < c->topics[ti].partitions; p++) {
			size_t mi = least_loaded(c, c->topics[ti].name);
			if (!taken[base[ti] + (size_t)p] && mi != (size_t)-1)
				give(&c->m[mi], c->topics[ti].name, p);
		}
	}
	withhold_moving(c, base, owner);
	rc = 0;
out:
	free(base);
	free(owner);
	free(taken);
	return rc;
}

static int run(struct ctx *c, int assignor, size_t total)
{
	switch (assignor) {
	case KP_ASSIGNOR_RANGE: assign_range(c); return 0;
	case KP_ASSIGNOR_ROUNDROBIN: assign_roundrobin(c); return 0;
	default: return assign_sticky(c, total);
	}
}

int kp_assign(int assignor, const struct kp_assign_topic *topics, size_t ntopics,
	      struct kp_assign_member *members, size_t n, kp_error *err)
{
	struct ctx c = { topics, ntopics, members, n, NULL, NULL };
	size_t total = 0;
	int rc = -1;

	if (assignor < KP_ASSIGNOR_RANGE || assignor > KP_ASSIGNOR_COOPERATIVE_STICKY)
		return kp_error_set(err, KP_EINVAL, "unknown assignor %d", assignor);
	for (size_t t = 0; t < ntopics; t++)
		total += topics[t].partitions > 0 ? (size_t)topics[t].partitions : 0;
	for (size_t i = 0; i < n; i++) {
		members[i].nassigned = 0;
		if (!(members[i].assigned = malloc((total + 1) * sizeof *members[i].assigned)))
			goto out;
	}
	if (!(c.order = malloc((n + 1) * sizeof *c.order)) ||
	    !(c.torder = malloc((ntopics + 1) * sizeof *c.torder)))
		goto out;
	for (size_t i = 0; i < n; i++)
		c.order[i] = i;
	for (size_t t = 0; t < ntopics; t++)
		c.torder[t] = t;
	sort_members = members;
	sort_topics = topics;
	qsort(c.order, n, sizeof *c.order, cmp_member);
	qsort(c.torder, ntopics, sizeof *c.torder, cmp_topic);
	if (n > 0 && run(&c, assignor, total) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		qsort(members[i].assigned, members[i].nassigned, sizeof *members[i].assigned, cmp_tp);
	rc = 0;
out:
	free(c.order);
	free(c.torder);
	if (rc < 0) {
		kp_assign_free(members, n);
		kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	return rc;
}

void kp_assign_free(struct kp_assign_member *members, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(members[i].assigned);
		members[i].assigned = NULL;
		members[i].nassigned = 0;
	}
}
