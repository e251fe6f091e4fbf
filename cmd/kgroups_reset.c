/*
 * kgroups_reset.c - `kgroups reset-offsets`: plan new committed offsets
 * for groups without members (kgroups_plan.c computes them), print the
 * plan, and commit it with --execute.
 */
#include "kgroups.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common_out.h"

enum {
	OPT_ALL_TOPICS = 0x100, OPT_EARLIEST, OPT_LATEST, OPT_TO_OFFSET, OPT_DATETIME, OPT_SHIFT,
	OPT_DURATION, OPT_FILE, OPT_EXECUTE, OPT_EXPORT,
};

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_CONFIG_FILE,
	KP_OPT_PROPERTY("set a client property (repeatable)"),
	{ 't', "topic", "TOPIC[:PARTITION,...]", "reset this topic (or these partitions; repeatable)",
	  NULL, KP_OPT_REPEAT },
	{ OPT_ALL_TOPICS, "all-topics", NULL, "reset every partition the group has an offset for",
	  NULL, 0 },
	{ OPT_EARLIEST, "to-earliest", NULL, "to the log start offset", NULL, 0 },
	{ OPT_LATEST, "to-latest", NULL, "to the log end offset", NULL, 0 },
	{ OPT_TO_OFFSET, "to-offset", "OFFSET", "to OFFSET", NULL, 0 },
	{ OPT_DATETIME, "to-datetime", "DATETIME",
	  "to the first record at or after DATETIME (YYYY-MM-DDTHH:MM:SS[.sss][ZONE])", NULL, 0 },
	{ OPT_SHIFT, "shift-by", "N", "by N from the committed offset (N < 0: back)", NULL, 0 },
	{ OPT_DURATION, "by-duration", "DURATION",
	  "to the first record at or after DURATION ago (PnDTnHnMnS)", NULL, 0 },
	{ OPT_FILE, "from-file", "FILE", "to the offsets of a CSV plan (TOPIC,PARTITION,OFFSET)",
	  "file", 0 },
	{ OPT_EXECUTE, "execute", NULL, "commit the new offsets (without: only show them)", NULL, 0 },
	{ OPT_EXPORT, "export", NULL, "print the plan as CSV, for --from-file", NULL, 0 },
	KP_OPT_JSON,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kg_reset_cmd = {
	"kgroups reset-offsets",
	"plan new committed offsets for groups without members; --execute commits them",
	"GROUP...", opts,
};

static const struct kp_col cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "TOPIC", "topic", KP_COL_STR },
	{ "PARTITION", "partition", KP_COL_INT },
	{ "CURRENT-OFFSET", "current_offset", KP_COL_INT },
	{ "NEW-OFFSET", "new_offset", KP_COL_INT },
};

struct args {
	struct kp_client_args c;
	struct kg_reset r;
	bool execute, export;
};

/* Record the one --to-... (or --shift-by, --by-duration, --from-file) given. */
static void set_to(struct args *a, int to, int64_t value)
{
	if (a->r.to != KG_TO_NONE)
		kp_usage_error("give one of --to-earliest, --to-latest, --to-offset, --to-datetime, "
			       "--shift-by, --by-duration and --from-file");
	a->r.to = to;
	a->r.value = value;
}

/* The value of an option that takes one (--to-offset and the like). */
static int64_t value_of(int id, const char *arg)
{
	int64_t v = 0;

	if (id == OPT_TO_OFFSET && kp_parse_int64(arg, 0, INT64_MAX, &v) < 0)
		kp_usage_error("bad offset '%s'", arg);
	if (id == OPT_SHIFT && kp_parse_int64(arg, INT64_MIN + 1, INT64_MAX, &v) < 0)
		kp_usage_error("bad shift '%s'", arg);
	if (id == OPT_DATETIME && kg_parse_datetime(arg, &v) < 0)
		kp_usage_error("bad date and time '%s' (want YYYY-MM-DDTHH:MM:SS[.sss], then Z or an "
			       "offset like +01:00; without one UTC)", arg);
	if (id == OPT_DURATION && kg_parse_duration(arg, &v) < 0)
		kp_usage_error("bad duration '%s' (want ISO-8601 PnDTnHnMnS, like PT1H30M or P1D)", arg);
	return v;
}

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (id == 't') { /* before kp_client_opt, which has its own -t */
		kg_scope_add(&a->r.scope, arg);
		return 0;
	}
	if (kp_client_opt(&a->c, id, arg))
		return 0;
	switch (id) {
	case OPT_ALL_TOPICS: a->r.all_topics = true; break;
	case OPT_EARLIEST: set_to(a, KG_TO_EARLIEST, 0); break;
	case OPT_LATEST: set_to(a, KG_TO_LATEST, 0); break;
	case OPT_TO_OFFSET: set_to(a, KG_TO_OFFSET, value_of(id, arg)); break;
	case OPT_DATETIME: set_to(a, KG_TO_DATETIME, value_of(id, arg)); break;
	case OPT_SHIFT: set_to(a, KG_TO_SHIFT, value_of(id, arg)); break;
	case OPT_DURATION: set_to(a, KG_TO_DURATION, value_of(id, arg)); break;
	case OPT_FILE:
		set_to(a, KG_TO_FILE, 0);
		a->r.file = arg;
		break;
	case OPT_EXECUTE: a->execute = true; break;
	case OPT_EXPORT: a->export = true; break;
	default: return -1;
	}
	return 0;
}

/* The combinations that make sense, else exit 2. */
static void check_args(const struct args *a, int operands)
{
	if (a->r.to == KG_TO_NONE)
		kp_usage_error("say where to: --to-earliest, --to-latest, --to-offset, --to-datetime, "
			       "--shift-by, --by-duration or --from-file");
	if (a->r.to == KG_TO_FILE && (a->r.scope.n > 0 || a->r.all_topics))
		kp_usage_error("--from-file names its partitions: no -t or --all-topics with it");
	if (a->r.to != KG_TO_FILE && (a->r.scope.n > 0) == a->r.all_topics)
		kp_usage_error("name the partitions to reset: -t TOPIC[:PARTITION,...] or --all-topics");
	if (a->export && a->c.json)
		kp_usage_error("--export and --json exclude each other");
	if (operands == 0)
		kp_usage_error("name a group");
}

/* Fail unless `group` has no members (one that does not exist is fine: the commit creates it). */
static int check_inactive(kp_cluster *c, const char *group, kp_error *err)
{
	struct kp_groups_desc d;
	int rc = kp_groups_describe(c, group, &d, err);

	if (rc < 0 && err->code == KP_ENOTFOUND)
		rc = 0;
	else if (rc == 0 && (d.nmembers > 0 || (strcmp(d.state, "Empty") && strcmp(d.state, "Dead"))))
		rc = kp_error_set(err, KP_EINVAL, "group '%s' has %zu active member%s (state %s): its "
				  "offsets can be reset only while it has none; stop its consumers "
				  "first", group, d.nmembers, d.nmembers == 1 ? "" : "s", d.state);
	kp_groups_desc_clear(&d);
	return rc;
}

/* The plan's rows into the table and, for --export, CSV lines into `csv`. */
static void add_plan(const struct kg_plan *p, const char *group, bool with_group, kp_table *t,
		     FILE *csv)
{
	char part[24], cur[24], to[24];

	for (size_t i = 0; i < p->n; i++) {
		const char *row[] = { group, p->tps[i].topic, kg_i64(part, p->tps[i].partition, false),
				      kg_i64(cur, p->current[i], false), kg_i64(to, p->target[i], false) };
		kp_table_add(t, row);
		if (with_group)
			fprintf(csv, "%s,", group);
		fprintf(csv, "%s,%d,%" PRId64 "\n", p->tps[i].topic, (int)p->tps[i].partition,
			p->target[i]);
	}
}

/* Plan the reset of one group (with --execute, commit it); false (reported) on failure. */
static bool reset_group(kp_cluster *c, const struct args *a, const char *group, bool with_group,
			kp_table *t, FILE *csv)
{
	struct kg_plan p = { 0 };
	kp_error err;
	bool ok = false;

	if (check_inactive(c, group, &err) < 0 || kg_plan_group(c, group, &a->r, &p, &err) < 0)
		goto out;
	if (a->execute && kp_groups_commit(c, group, p.tps, p.target, p.n, NULL, &err) < 0)
		goto out;
	add_plan(&p, group, with_group, t, csv);
	ok = true;
out:
	if (!ok)
		kp_warn("%s", err.msg);
	kg_plan_free(&p);
	return ok;
}

/* The plan as a table, JSON or CSV (--export). */
static void output(const struct args *a, kp_table *t, const char *csv)
{
	if (a->export)
		fputs(csv, stdout);
	else
		kp_table_out(t, a->c.json);
	if (!a->execute && !a->export && !a->c.json && kp_out_tty())
		printf("\n(dry run: --execute commits these offsets)\n");
}

static void free_csv(struct kg_reset *r)
{
	for (size_t i = 0; i < r->ncsv; i++) {
		free(r->csv[i].group);
		free(r->csv[i].topic);
	}
	free(r->csv);
}

int kg_reset(int argc, char **argv)
{
	struct args a = { 0 };
	size_t ok = 0, failed = 0, csv_len = 0;
	char *csv = NULL;
	FILE *csv_out;
	kp_cluster *cluster;
	kp_table *t;
	int first;

	kg_args_init(&a.c);
	first = kp_opt_parse(&kg_reset_cmd, argc, argv, on_opt, &a);
	check_args(&a, argc - first);
	if (a.r.to == KG_TO_FILE)
		kg_csv_read(&a.r, a.r.file);
	cluster = kg_connect(&a.c);
	t = kp_table_new(cols, sizeof cols / sizeof cols[0]);
	if (!(csv_out = open_memstream(&csv, &csv_len)))
		kp_die("out of memory");
	for (int i = first; i < argc; i++)
		reset_group(cluster, &a, argv[i], argc - first > 1, t, csv_out) ? ok++ : failed++;
	if (fclose(csv_out) != 0)
		kp_die("out of memory");
	output(&a, t, csv);
	free(csv);
	kp_table_free(t);
	kg_scope_free(&a.r.scope);
	free_csv(&a.r);
	kp_cluster_free(cluster);
	return kp_exit_status(ok, failed);
}
