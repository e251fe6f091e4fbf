/*
 * cg_tps.c - sets of topic partitions for consumer groups (KIP-848):
 * assigned, pending revocation and target partitions of a member, kept as
 * one array sorted by (topic, partition) with no duplicates. Sets are
 * small (a member's partitions), so lookups are binary searches and
 * inserts move the tail.
 */
#include <stdlib.h>
#include <string.h>

#include "group/group_internal.h"

static int cmp_tp(const char *ta, int32_t pa, const char *tb, int32_t pb)
{
	int c = strcmp(ta, tb);

	if (c)
		return c;
	return pa < pb ? -1 : pa > pb;
}

/* find - index of (topic, partition), or -(insertion point) - 1. */
static int32_t find(const struct kp_cg_tps *s, const char *topic, int32_t partition)
{
	int32_t lo = 0, hi = s->n - 1;

	while (lo <= hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int c = cmp_tp(s->v[mid].topic, s->v[mid].partition, topic, partition);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -lo - 1;
}

void kp_cg_tps_clear(struct kp_cg_tps *s)
{
	for (int32_t i = 0; i < s->n; i++)
		free(s->v[i].topic);
	s->n = 0;
}

void kp_cg_tps_free(struct kp_cg_tps *s)
{
	kp_cg_tps_clear(s);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

bool kp_cg_tps_contains(const struct kp_cg_tps *s, const char *topic, int32_t partition)
{
	return find(s, topic, partition) >= 0;
}

int kp_cg_tps_add(struct kp_cg_tps *s, const char *topic, int32_t partition)
{
	int32_t at = find(s, topic, partition);
	char *t;

	if (at >= 0)
		return 0;
	at = -at - 1;
	if (s->n == s->cap) {
		int32_t cap = s->cap ? s->cap * 2 : 8;
		struct kp_cg_tp *v = realloc(s->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (!(t = strdup(topic)))
		return -1;
	memmove(&s->v[at + 1], &s->v[at], (size_t)(s->n - at) * sizeof(s->v[0]));
	s->v[at].topic = t;
	s->v[at].partition = partition;
	s->n++;
	return 0;
}

void kp_cg_tps_remove(struct kp_cg_tps *s, const char *topic, int32_t partition)
{
	int32_t at = find(s, topic, partition);

	if (at < 0)
		return;
	free(s->v[at].topic);
	memmove(&s->v[at], &s->v[at + 1], (size_t)(s->n - at - 1) * sizeof(s->v[0]));
	s->n--;
}

int kp_cg_tps_copy(struct kp_cg_tps *dst, const struct kp_cg_tps *src)
{
	kp_cg_tps_clear(dst);
	for (int32_t i = 0; i < src->n; i++)
		if (kp_cg_tps_add(dst, src->v[i].topic, src->v[i].partition) < 0)
			return -1;
	return 0;
}

bool kp_cg_tps_equal(const struct kp_cg_tps *a, const struct kp_cg_tps *b)
{
	if (a->n != b->n)
		return false;
	for (int32_t i = 0; i < a->n; i++)
		if (cmp_tp(a->v[i].topic, a->v[i].partition, b->v[i].topic, b->v[i].partition))
			return false;
	return true;
}

/* kp_cg_tps_subset - every element of a is in b. */
bool kp_cg_tps_subset(const struct kp_cg_tps *a, const struct kp_cg_tps *b)
{
	for (int32_t i = 0; i < a->n; i++)
		if (!kp_cg_tps_contains(b, a->v[i].topic, a->v[i].partition))
			return false;
	return true;
}

int kp_cg_tps_from(struct kp_cg_tps *s, const struct kp_cg_topic_partitions *tps, int32_t n)
{
	kp_cg_tps_clear(s);
	for (int32_t i = 0; i < n; i++)
		for (int32_t j = 0; j < tps[i].count; j++)
			if (kp_cg_tps_add(s, tps[i].topic, tps[i].partitions[j]) < 0)
				return -1;
	return 0;
}

/*
 * kp_cg_tps_view - s grouped by topic: *out (count entries) and *parts
 * (their partitions) are malloc'd, the caller frees both; topic pointers
 * borrow s's strings. Returns 0, -1 when out of memory.
 */
int kp_cg_tps_view(const struct kp_cg_tps *s, struct kp_cg_topic_partitions **out,
		   int32_t **parts, int32_t *count)
{
	struct kp_cg_topic_partitions *v = calloc((size_t)s->n + 1, sizeof(*v));
	int32_t *p = malloc(((size_t)s->n + 1) * sizeof(*p));
	int32_t n = 0;

	if (!v || !p) {
		free(v);
		free(p);
		return -1;
	}
	for (int32_t i = 0; i < s->n; i++) {
		if (n == 0 || strcmp(v[n - 1].topic, s->v[i].topic) != 0) {
			v[n].topic = s->v[i].topic;
			v[n].partitions = &p[i];
			v[n].count = 0;
			n++;
		}
		p[i] = s->v[i].partition;
		v[n - 1].count++;
	}
	*out = v;
	*parts = p;
	*count = n;
	return 0;
}

int kp_cg_offset_key(struct kp_group_offset_key *k, const char *topic, int32_t partition)
{
	size_t n = strlen(topic);

	memset(k, 0, sizeof(*k));
	if (n >= sizeof(k->topic))
		return -1;
	memcpy(k->topic, topic, n);
	k->partition = partition;
	return 0;
}
