/*
 * kgroups_delete.c - `kgroups delete` (DeleteGroups: a group without
 * members, with its committed offsets) and `kgroups delete-offsets`
 * (OffsetDelete: some topics' committed offsets of a group).
 */
#include "kgroups.h"

#include <stdlib.h>
#include <string.h>

#include "common_out.h"

static const struct kp_opt delete_opts[] = {
	KP_OPT_BROKER,
	KP_OPT_CONFIG_FILE,
	KP_OPT_PROPERTY("set a client property (repeatable)"),
	KP_OPT_JSON,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kg_delete_cmd = {
	"kgroups delete", "delete groups that have no members, with their committed offsets",
	"GROUP...", delete_opts,
};

static const struct kp_opt delete_offsets_opts[] = {
	KP_OPT_BROKER,
	KP_OPT_CONFIG_FILE,
	KP_OPT_PROPERTY("set a client property (repeatable)"),
	{ 't', "topic", "TOPIC[:PARTITION,...]",
	  "delete the offsets of this topic (or of these partitions; repeatable)", NULL,
	  KP_OPT_REQUIRED | KP_OPT_REPEAT },
	KP_OPT_JSON,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kg_delete_offsets_cmd = {
	"kgroups delete-offsets", "delete a group's committed offsets of some topics", "GROUP...",
	delete_offsets_opts,
};

static const struct kp_col delete_cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "RESULT", "result", KP_COL_STR },
};

static const struct kp_col offset_cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "TOPIC", "topic", KP_COL_STR },
	{ "PARTITION", "partition", KP_COL_INT },
	{ "RESULT", "result", KP_COL_STR },
};

struct args {
	struct kp_client_args c;
	struct kg_scope scope;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (id == 't') { /* before kp_client_opt, which has its own -t */
		kg_scope_add(&a->scope, arg);
		return 0;
	}
	return kp_client_opt(&a->c, id, arg) ? 0 : -1;
}

static void print(const struct kp_client_args *c, kp_table *t)
{
	kp_table_out(t, c->json);
	kp_table_free(t);
}

int kg_delete(int argc, char **argv)
{
	struct args a = { 0 };
	size_t ok = 0, failed = 0;
	kp_cluster *cluster;
	kp_table *t;
	int first;

	kg_args_init(&a.c);
	if ((first = kp_opt_parse(&kg_delete_cmd, argc, argv, on_opt, &a)) == argc)
		kp_usage_error("name a group to delete");
	cluster = kg_connect(&a.c);
	t = kp_table_new(delete_cols, sizeof delete_cols / sizeof delete_cols[0]);
	for (int i = first; i < argc; i++) {
		kp_error err;
		bool done = kp_groups_delete(cluster, argv[i], &err) == 0;
		const char *row[] = { argv[i], done ? "deleted" : kg_result(&err) };

		if (!done)
			kp_warn("%s", err.msg);
		done ? ok++ : failed++;
		kp_table_add(t, row);
	}
	print(&a.c, t);
	kp_cluster_free(cluster);
	return kp_exit_status(ok, failed);
}

/* The partitions of the scope for `group` (the whole topics with its committed partitions). */
static int scope_partitions(kp_cluster *c, const struct kg_scope *s, const char *group,
			    struct kp_tp **tps, size_t *n, kp_error *err)
{
	struct kp_groups_offset *committed;
	size_t ncommitted;
	int rc;

	if (kp_groups_fetch_offsets(c, group, &committed, &ncommitted, err) < 0)
		return -1;
	rc = kg_scope_partitions(c, s, committed, ncommitted, tps, n, err);
	for (size_t i = 0; i < *n; i++) /* the topics must outlive `committed` */
		(*tps)[i].topic = strdup((*tps)[i].topic);
	for (size_t i = 0; i < *n; i++)
		if (!(*tps)[i].topic)
			kp_die("out of memory");
	kp_groups_offsets_free(committed, ncommitted);
	return rc;
}

/* OffsetDelete for one group: a row per partition; counts partitions (and the group) done and failed. */
static void delete_group_offsets(kp_cluster *c, const struct kg_scope *s, const char *group,
				 kp_table *t, size_t *ok, size_t *failed)
{
	struct kp_tp *tps = NULL;
	int16_t *codes = NULL;
	size_t n = 0;
	kp_error err;
	char p[24];

	if (scope_partitions(c, s, group, &tps, &n, &err) < 0)
		goto fail;
	if (!(codes = calloc(n + 1, sizeof *codes)))
		kp_die("out of memory");
	if (kp_groups_delete_offsets(c, group, tps, n, codes, &err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *row[] = { group, tps[i].topic, kg_i64(p, tps[i].partition, false),
				      codes[i] ? kg_error_name(codes[i]) : "deleted" };
		if (codes[i])
			kp_warn("cannot delete the offset of group '%s' for topic %s partition %d: %s",
				group, tps[i].topic, (int)tps[i].partition, kg_error_name(codes[i]));
		codes[i] ? (*failed)++ : (*ok)++;
		kp_table_add(t, row);
	}
	goto out;
fail:
	kp_warn("%s", err.msg);
	(*failed)++;
out:
	for (size_t i = 0; i < n; i++)
		free((char *)tps[i].topic);
	free(tps);
	free(codes);
}

int kg_delete_offsets(int argc, char **argv)
{
	struct args a = { 0 };
	size_t ok = 0, failed = 0;
	kp_cluster *cluster;
	kp_table *t;
	int first;

	kg_args_init(&a.c);
	first = kp_opt_parse(&kg_delete_offsets_cmd, argc, argv, on_opt, &a);
	if (a.scope.n == 0)
		kp_usage_error("name the topics whose offsets to delete (-t)");
	if (first == argc)
		kp_usage_error("name a group");
	cluster = kg_connect(&a.c);
	t = kp_table_new(offset_cols, sizeof offset_cols / sizeof offset_cols[0]);
	for (int i = first; i < argc; i++)
		delete_group_offsets(cluster, &a.scope, argv[i], t, &ok, &failed);
	print(&a.c, t);
	kg_scope_free(&a.scope);
	kp_cluster_free(cluster);
	return kp_exit_status(ok, failed);
}
