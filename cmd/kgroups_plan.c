/*
 * kgroups_plan.c - reset-offsets' plan for one group: which partitions,
 * and the new offset of each, computed as kafka-consumer-groups.sh
 * --reset-offsets does; see kgroups.h (kg_plan_group).
 */
#include "kgroups.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

void kg_plan_free(struct kg_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free((char *)p->tps[i].topic);
	free(p->tps);
	free(p->current);
	free(p->target);
	memset(p, 0, sizeof *p);
}

/* Add topic/partition with `target` unless the plan has it. */
static void plan_add(struct kg_plan *p, const char *topic, int32_t partition, int64_t target)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->tps[i].partition == partition && strcmp(p->tps[i].topic, topic) == 0)
			return;
	struct kp_tp *tps = realloc(p->tps, (p->n + 1) * sizeof *tps);
	if (tps)
		p->tps = tps;
	int64_t *cur = realloc(p->current, (p->n + 1) * sizeof *cur);
	if (cur)
		p->current = cur;
	int64_t *tgt = realloc(p->target, (p->n + 1) * sizeof *tgt);
	if (tgt)
		p->target = tgt;
	if (!tps || !cur || !tgt || !(tps[p->n].topic = strdup(topic)))
		kp_die("out of memory");
	tps[p->n].partition = partition;
	cur[p->n] = -1;
	tgt[p->n++] = target;
}

static int64_t committed_of(const struct kp_groups_offset *o, size_t n, const struct kp_tp *tp)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].partition == tp->partition && strcmp(o[i].topic, tp->topic) == 0)
			return o[i].offset;
	return -1;
}

/* The partitions to reset: the CSV plan's, the committed ones (--all-topics) or -t's. */
static int plan_partitions(kp_cluster *c, const char *group, const struct kg_reset *r,
			   const struct kp_groups_offset *committed, size_t ncommitted,
			   struct kg_plan *p, kp_error *err)
{
	struct kp_tp *tps = NULL;
	size_t n = 0;

	if (r->to == KG_TO_FILE) {
		for (size_t i = 0; i < r->ncsv; i++)
			if (!r->csv[i].group || strcmp(r->csv[i].group, group) == 0)
				plan_add(p, r->csv[i].topic, r->csv[i].partition, r->csv[i].offset);
		if (p->n == 0)
			return kp_error_set(err, KP_ENOTFOUND, "%s has no offsets for group '%s'", r->file,
					    group);
	} else if (r->all_topics) {
		for (size_t i = 0; i < ncommitted; i++)
			plan_add(p, committed[i].topic, committed[i].partition, -1);
	} else {
		int rc = kg_scope_partitions(c, &r->scope, NULL, 0, &tps, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++)
			plan_add(p, tps[i].topic, tps[i].partition, -1);
		free(tps);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < p->n; i++)
		p->current[i] = committed_of(committed, ncommitted, &p->tps[i]);
	return 0;
}

/* Each partition's offset at `when` (KP_GROUPS_LATEST, ..., or a timestamp) into out[]. */
static int lookup(kp_cluster *c, const struct kg_plan *p, int64_t when, int64_t *out, kp_error *err)
{
	return kp_groups_log_offsets(c, p->tps, p->n, when, out, NULL, err);
}

/* Clamp the requested targets into each partition's [log start, log end], with warnings. */
static int clamp(kp_cluster *c, struct kg_plan *p, kp_error *err)
{
	int64_t *start = calloc(p->n + 1, sizeof *start), *end = calloc(p->n + 1, sizeof *end);
	int rc = -1;

	if (!start || !end)
		kp_die("out of memory");
	if (lookup(c, p, KP_GROUPS_EARLIEST, start, err) < 0 ||
	    lookup(c, p, KP_GROUPS_LATEST, end, err) < 0)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		bool past = p->target[i] > end[i], before = p->target[i] < start[i];
		int64_t to = past ? end[i] : before ? start[i] : p->target[i];

		if (past || before)
			kp_warn("new offset %" PRId64 " of topic %s partition %d is %s its log %s offset; "
				"using %" PRId64, p->target[i], p->tps[i].topic, (int)p->tps[i].partition,
				past ? "past" : "before", past ? "end" : "start", to);
		p->target[i] = to;
	}
	rc = 0;
out:
	free(start);
	free(end);
	return rc;
}

/* Targets at timestamp `ts`: where no record is that new, the log end offset. */
static int by_time(kp_cluster *c, struct kg_plan *p, int64_t ts, kp_error *err)
{
	int64_t *end = calloc(p->n + 1, sizeof *end);
	int rc = -1;

	if (!end)
		kp_die("out of memory");
	if (lookup(c, p, ts, p->target, err) == 0 && lookup(c, p, KP_GROUPS_LATEST, end, err) == 0) {
		for (size_t i = 0; i < p->n; i++)
			if (p->target[i] < 0)
				p->target[i] = end[i];
		rc = 0;
	}
	free(end);
	return rc;
}

/* --shift-by: committed offset + value (saturating), then clamped. */
static int shift(kp_cluster *c, const char *group, struct kg_plan *p, int64_t by, kp_error *err)
{
	for (size_t i = 0; i < p->n; i++) {
		int64_t cur = p->current[i];
		if (cur < 0)
			return kp_error_set(err, KP_ENOTFOUND, "group '%s' has no committed offset for topic "
					    "%s partition %d to shift", group, p->tps[i].topic,
					    (int)p->tps[i].partition);
		if (by > 0 && cur > INT64_MAX - by)
			p->target[i] = INT64_MAX; /* clamped to the log end below */
		else
			p->target[i] = cur + by < 0 ? 0 : cur + by;
	}
	return clamp(c, p, err);
}

int kg_plan_group(kp_cluster *c, const char *group, const struct kg_reset *r, struct kg_plan *p,
		  kp_error *err)
{
	struct kp_groups_offset *committed;
	size_t ncommitted;
	int rc = -1;

	memset(p, 0, sizeof *p);
	if (kp_groups_fetch_offsets(c, group, &committed, &ncommitted, err) < 0)
		return -1;
	if (plan_partitions(c, group, r, committed, ncommitted, p, err) < 0)
		goto out;
	if (p->n == 0) { /* --all-topics of a group without offsets */
		rc = 0;
		goto out;
	}
	switch (r->to) {
	case KG_TO_EARLIEST: rc = lookup(c, p, KP_GROUPS_EARLIEST, p->target, err); break;
	case KG_TO_LATEST: rc = lookup(c, p, KP_GROUPS_LATEST, p->target, err); break;
	case KG_TO_DATETIME: rc = by_time(c, p, r->value, err); break;
	case KG_TO_DURATION: rc = by_time(c, p, kp_wall_ms() - r->value, err); break;
	case KG_TO_SHIFT: rc = shift(c, group, p, r->value, err); break;
	case KG_TO_OFFSET:
		for (size_t i = 0; i < p->n; i++)
			p->target[i] = r->value;
		/* fall through */
	default: rc = clamp(c, p, err); break;
	}
out:
	kp_groups_offsets_free(committed, ncommitted);
	return rc;
}
