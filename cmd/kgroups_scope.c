/*
 * kgroups_scope.c - the partitions -t TOPIC[:P,...] names (reset-offsets,
 * delete-offsets); see kgroups.h.
 */
#include "kgroups.h"

#include <stdlib.h>
#include <string.h>

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, (n ? n : 1) * size);

	if (!q)
		kp_die("out of memory");
	return q;
}

/* Parse the partition list "0,1,2" of -t into t. */
static void parse_partitions(struct kg_topic_arg *t, const char *list, const char *arg)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy)
		kp_die("out of memory");
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		int32_t v;

		if (kp_parse_int32(p, 0, INT32_MAX, &v) < 0)
			kp_usage_error("bad partition '%s' in '%s' (want TOPIC or TOPIC:P[,P...])", p, arg);
		t->partitions = grow(t->partitions, t->npartitions + 1, sizeof *t->partitions);
		t->partitions[t->npartitions++] = v;
	}
	free(copy);
	if (t->npartitions == 0)
		kp_usage_error("no partition in '%s' (want TOPIC or TOPIC:P[,P...])", arg);
}

void kg_scope_add(struct kg_scope *s, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	struct kg_topic_arg *t;

	if (colon == arg || !*arg)
		kp_usage_error("bad topic '%s' (want TOPIC or TOPIC:P[,P...])", arg);
	s->topics = grow(s->topics, s->n + 1, sizeof *s->topics);
	t = &s->topics[s->n++];
	*t = (struct kg_topic_arg){ colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg), NULL, 0 };
	if (!t->topic)
		kp_die("out of memory");
	if (colon)
		parse_partitions(t, colon + 1, arg);
}

void kg_scope_free(struct kg_scope *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->topics[i].topic);
		free(s->topics[i].partitions);
	}
	free(s->topics);
	*s = (struct kg_scope){ 0 };
}

/* Append topic/partition to *tps unless it is there. */
static void add_tp(struct kp_tp **tps, size_t *n, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < *n; i++)
		if ((*tps)[i].partition == partition && strcmp((*tps)[i].topic, topic) == 0)
			return;
	*tps = grow(*tps, *n + 1, sizeof **tps);
	(*tps)[(*n)++] = (struct kp_tp){ topic, partition };
}

/* Every partition of topic t: the metadata's, and the group's committed ones. */
static int whole_topic(kp_cluster *c, const struct kg_topic_arg *t,
		       const struct kp_groups_offset *committed, size_t ncommitted,
		       struct kp_tp **tps, size_t *n, kp_error *err)
{
	int32_t count = 0;
	bool any = false;
	kp_error e;

	for (size_t i = 0; committed && i < ncommitted; i++)
		if (strcmp(committed[i].topic, t->topic) == 0) {
			add_tp(tps, n, committed[i].topic, committed[i].partition);
			any = true;
		}
	if (kp_cluster_topic(c, t->topic, &count, &e) < 0) {
		if (any && e.code == KP_ENOTFOUND) /* deleted, but the group still has offsets */
			return 0;
		if (err)
			*err = e;
		return -1;
	}
	for (int32_t p = 0; p < count; p++)
		add_tp(tps, n, t->topic, p);
	return 0;
}

int kg_scope_partitions(kp_cluster *c, const struct kg_scope *s,
			const struct kp_groups_offset *committed, size_t ncommitted,
			struct kp_tp **tps, size_t *n, kp_error *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct kg_topic_arg *t = &s->topics[i];

		if (t->npartitions == 0) {
			if (whole_topic(c, t, committed, ncommitted, tps, n, err) < 0)
				return -1;
			continue;
		}
		for (size_t j = 0; j < t->npartitions; j++)
			add_tp(tps, n, t->topic, t->partitions[j]);
	}
	return 0;
}
