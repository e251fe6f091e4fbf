/*
 * kgroups_group.c - a group's partitions as describe and lag show them:
 * committed offsets joined with the members' assignments and the log end
 * offsets; see kgroups.h (kg_group_load).
 */
#include "kgroups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int row_cmp(const void *a, const void *b)
{
	const struct kg_row *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* The member that is assigned topic/partition, or NULL. */
static const struct kp_groups_member *owner(const struct kp_groups_desc *d, const char *topic,
					    int32_t partition)
{
	for (size_t i = 0; i < d->nmembers; i++)
		for (size_t j = 0; j < d->members[i].nassigned; j++)
			if (d->members[i].assigned[j].partition == partition &&
			    strcmp(d->members[i].assigned[j].topic, topic) == 0)
				return &d->members[i];
	return NULL;
}

static bool has_offset(const struct kg_group *g, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < g->noffsets; i++)
		if (g->offsets[i].partition == partition && strcmp(g->offsets[i].topic, topic) == 0)
			return true;
	return false;
}

/* Rows for the committed partitions and the assigned ones without an offset, sorted. */
static int build_rows(struct kg_group *g)
{
	size_t max = g->noffsets;

	for (size_t i = 0; i < g->desc.nmembers; i++)
		max += g->desc.members[i].nassigned;
	if (!(g->rows = calloc(max + 1, sizeof *g->rows)))
		return -1;
	for (size_t i = 0; i < g->noffsets; i++) {
		const struct kp_groups_offset *o = &g->offsets[i];
		g->rows[g->nrows++] = (struct kg_row){ o->topic, o->partition, o->offset, -1,
						       owner(&g->desc, o->topic, o->partition) };
	}
	for (size_t i = 0; i < g->desc.nmembers; i++) {
		const struct kp_groups_member *m = &g->desc.members[i];
		for (size_t j = 0; j < m->nassigned; j++)
			if (!has_offset(g, m->assigned[j].topic, m->assigned[j].partition))
				g->rows[g->nrows++] = (struct kg_row){ m->assigned[j].topic,
								       m->assigned[j].partition, -1, -1, m };
	}
	if (g->nrows > 1)
		qsort(g->rows, g->nrows, sizeof *g->rows, row_cmp);
	return 0;
}

/* The log end offset of every row (unknown, -1, where ListOffsets failed). */
static int log_ends(kp_cluster *c, struct kg_group *g, kp_error *err)
{
	struct kp_tp *tps = calloc(g->nrows + 1, sizeof *tps);
	int64_t *ends = calloc(g->nrows + 1, sizeof *ends);
	int16_t *codes = calloc(g->nrows + 1, sizeof *codes);
	int rc = -1;

	if (!tps || !ends || !codes) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < g->nrows; i++)
		tps[i] = (struct kp_tp){ g->rows[i].topic, g->rows[i].partition };
	if (g->nrows > 0 && kp_groups_log_offsets(c, tps, g->nrows, KP_GROUPS_LATEST, ends, codes,
						  err) < 0)
		goto out;
	for (size_t i = 0; i < g->nrows; i++) {
		int64_t lag;
		g->rows[i].end = codes[i] ? -1 : ends[i];
		if (kg_row_lag(&g->rows[i], &lag))
			g->total_lag += lag;
	}
	rc = 0;
out:
	free(tps);
	free(ends);
	free(codes);
	return rc;
}

int kg_group_load(kp_cluster *c, const char *group, struct kg_group *g, kp_error *err)
{
	memset(g, 0, sizeof *g);
	if (kp_groups_describe(c, group, &g->desc, err) < 0 ||
	    kp_groups_fetch_offsets(c, group, &g->offsets, &g->noffsets, err) < 0)
		return -1;
	if (build_rows(g) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return log_ends(c, g, err);
}

void kg_group_free(struct kg_group *g)
{
	kp_groups_desc_clear(&g->desc);
	kp_groups_offsets_free(g->offsets, g->noffsets);
	free(g->rows);
	memset(g, 0, sizeof *g);
}

bool kg_row_lag(const struct kg_row *r, int64_t *lag)
{
	if (r->committed < 0 || r->end < 0)
		return false;
	*lag = r->end - r->committed;
	return true;
}

char *kg_assignment(const struct kp_groups_member *m)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		kp_die("out of memory");
	for (size_t i = 0; i < m->nassigned; i++) {
		const char *t = m->assigned[i].topic;
		bool same = i > 0 && strcmp(m->assigned[i - 1].topic, t) == 0;

		if (same)
			fprintf(f, ",%d", (int)m->assigned[i].partition);
		else
			fprintf(f, "%s%s:%d", i ? ";" : "", t, (int)m->assigned[i].partition);
	}
	if (fclose(f) != 0 || !buf)
		kp_die("out of memory");
	return buf;
}
