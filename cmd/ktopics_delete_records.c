/*
 * ktopics_delete_records.c - ktopics delete-records: delete the records
 * of the topics' partitions (every partition, or the one -p names) before
 * an offset, or all of them with --before=end (DeleteRecords, KIP-107,
 * to each partition's leader). Prints each partition's log start offset
 * afterwards; an offset past a partition's end is OFFSET_OUT_OF_RANGE
 * for that partition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktopics.h"
#include "protocol/errors.h"

static const struct kp_opt opts[] = {
	KT_CLIENT_OPTS,
	{ KT_OPT_BEFORE, "before", "OFFSET|end",
	  "delete the records before OFFSET (end: every record)", "end", KP_OPT_REQUIRED },
	KP_OPT_PARTITION("only this partition"),
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kt_delete_records_cmd = {
	"ktopics delete-records", "delete the records of topics before an offset", "TOPIC...", opts,
};

static const struct kp_col cols[] = {
	{ "TOPIC", "topic", KP_COL_STR },
	{ "PARTITION", "partition", KP_COL_INT },
	{ "LOG-START-OFFSET", "log_start_offset", KP_COL_INT },
	{ "ERROR", "error", KP_COL_STR },
};

struct args {
	struct kp_client_args c;
	int64_t before; /* -1: the high watermark; -2: not given */
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	if (id != KT_OPT_BEFORE)
		return -1;
	if (strcmp(arg, "end") == 0)
		a->before = -1;
	else if (kp_parse_int64(arg, 0, INT64_MAX, &a->before) < 0)
		kp_usage_error("bad offset '%s' (want a number or end)", arg);
	return 0;
}

/* cuts - one cut per partition of the described topics (-p: that one only). */
static struct kp_admin_cut *cuts(const struct args *a, const struct kp_admin_topics *t, size_t *n,
				 size_t *failed)
{
	size_t cap = 1;
	struct kp_admin_cut *out;

	for (size_t i = 0; i < t->ntopics; i++)
		cap += (size_t)t->topics[i].npartitions + 1;
	if (!(out = calloc(cap, sizeof(*out))))
		kp_die("out of memory");
	*n = 0;
	for (size_t i = 0; i < t->ntopics; i++) {
		const struct kp_admin_topic *tp = &t->topics[i];

		if (tp->error) {
			kp_warn("cannot delete records of topic '%s': %s", tp->name,
				kt_error_name(tp->error));
			(*failed)++;
		} else if (a->c.partition >= 0) {
			out[(*n)++] = (struct kp_admin_cut){ tp->name, a->c.partition, a->before, -1, 0 };
		} else {
			for (int32_t j = 0; j < tp->npartitions; j++)
				out[(*n)++] = (struct kp_admin_cut){ tp->name, tp->partitions[j].partition,
								     a->before, -1, 0 };
		}
	}
	return out;
}

/* report - the table (or JSON) of the cuts, and a message for each failed one. */
static size_t report(const struct kp_admin_cut *k, size_t n, bool json)
{
	kp_table *t = kp_table_new(cols, json ? 4 : 3);
	char part[16], start[24];
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		const char *cells[4] = { k[i].topic,
					 (snprintf(part, sizeof(part), "%d", (int)k[i].partition), part),
					 kt_i64(k[i].low_watermark, start), kt_error_name(k[i].error) };

		if (k[i].error) {
			kp_warn("cannot delete records of topic '%s' partition %d: %s", k[i].topic,
				(int)k[i].partition, kt_error_name(k[i].error));
			failed++;
			if (!json)
				continue;
		}
		kp_table_add(t, cells);
	}
	kp_table_out(t, json);
	kp_table_free(t);
	return failed;
}

int kt_delete_records(int argc, char **argv)
{
	struct args a = { .before = -2 };
	struct kp_admin_topics t;
	struct kp_admin_cut *k;
	size_t n, failed = 0, cut_failed;
	kp_cluster *c;
	kp_arena arena;
	kp_error err;
	int i;

	kp_client_args_init(&a.c);
	i = kp_opt_parse(&kt_delete_records_cmd, argc, argv, on_opt, &a);
	if (a.before == -2)
		kp_usage_error("say which records go with --before=OFFSET (or --before=end)");
	if (i >= argc)
		kp_usage_error("name at least one topic");
	c = kt_connect(&a.c);
	kp_arena_init(&arena);
	if (kp_admin_describe_topics(c, (const char *const *)argv + i, (size_t)(argc - i), &arena, &t,
				     &err) < 0)
		kp_die("cannot describe topics: %s", err.msg);
	k = cuts(&a, &t, &n, &failed);
	if (n > 0 && kp_admin_delete_records(c, k, n, &err) < 0)
		kp_die("cannot delete records: %s", err.msg);
	cut_failed = report(k, n, a.c.json);
	free(k);
	kp_arena_free(&arena);
	kp_cluster_free(c);
	return kp_exit_status(n - cut_failed, failed + cut_failed);
}
