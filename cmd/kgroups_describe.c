/*
 * kgroups_describe.c - `kgroups describe`: a group's partitions with their
 * committed offset, log end offset, lag and member (the default), its
 * members and assignments (--members), or its state and total lag
 * (--state); --json gives all of it as one document.
 */
#include "kgroups.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common_out.h"

enum { OPT_MEMBERS = 0x100, OPT_STATE };
enum view { VIEW_OFFSETS, VIEW_MEMBERS, VIEW_STATE };

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_CONFIG_FILE,
	KP_OPT_PROPERTY("set a client property (repeatable)"),
	{ 'a', "all-groups", NULL, "describe every group", NULL, 0 },
	{ OPT_MEMBERS, "members", NULL, "show the members and their assignments", NULL, 0 },
	{ OPT_STATE, "state", NULL, "show the state, coordinator and total lag", NULL, 0 },
	KP_OPT_JSON,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kg_describe_cmd = {
	"kgroups describe", "show groups' members, committed offsets, log end offsets and lag",
	"[GROUP]...", opts,
};

static const struct kp_col offset_cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "TOPIC", "topic", KP_COL_STR },
	{ "PARTITION", "partition", KP_COL_INT },
	{ "CURRENT-OFFSET", "current_offset", KP_COL_INT },
	{ "LOG-END-OFFSET", "log_end_offset", KP_COL_INT },
	{ "LAG", "lag", KP_COL_INT },
	{ "CONSUMER-ID", "consumer_id", KP_COL_STR },
	{ "HOST", "host", KP_COL_STR },
	{ "CLIENT-ID", "client_id", KP_COL_STR },
};

static const struct kp_col member_cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "CONSUMER-ID", "consumer_id", KP_COL_STR },
	{ "HOST", "host", KP_COL_STR },
	{ "CLIENT-ID", "client_id", KP_COL_STR },
	{ "INSTANCE-ID", "instance_id", KP_COL_STR },
	{ "#PARTITIONS", "partitions", KP_COL_INT },
	{ "ASSIGNMENT", "assignment", KP_COL_STR },
};

static const struct kp_col state_cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "COORDINATOR", "coordinator", KP_COL_STR },
	{ "TYPE", "type", KP_COL_STR },
	{ "STATE", "state", KP_COL_STR },
	{ "PROTOCOL-TYPE", "protocol_type", KP_COL_STR },
	{ "ASSIGNOR", "assignor", KP_COL_STR },
	{ "#MEMBERS", "members", KP_COL_INT },
	{ "TOTAL-LAG", "total_lag", KP_COL_INT },
};

#define NCOLS(c) (sizeof(c) / sizeof((c)[0]))

struct args {
	struct kp_client_args c;
	bool all;
	int view;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	switch (id) {
	case 'a': a->all = true; break;
	case OPT_MEMBERS:
	case OPT_STATE:
		if (a->view != VIEW_OFFSETS)
			kp_usage_error("--members and --state exclude each other");
		a->view = id == OPT_MEMBERS ? VIEW_MEMBERS : VIEW_STATE;
		break;
	default: return -1;
	}
	return 0;
}

/* A cell for a string that may be empty: NULL ("-") then. */
static const char *cell(const char *s)
{
	return s && *s ? s : NULL;
}

static void add_offsets(kp_table *t, const struct kg_group *g)
{
	char p[24], cur[24], end[24], lag[24];

	for (size_t i = 0; i < g->nrows; i++) {
		const struct kg_row *r = &g->rows[i];
		const struct kp_groups_member *m = r->member;
		int64_t l;
		const char *row[] = { g->desc.group_id, r->topic, kg_i64(p, r->partition, false),
				      kg_i64(cur, r->committed, false), kg_i64(end, r->end, false),
				      kg_row_lag(r, &l) ? kg_i64(lag, l, true) : NULL,
				      m ? m->member_id : NULL, m ? m->host : NULL, m ? m->client_id : NULL };
		kp_table_add(t, row);
	}
}

static void add_members(kp_table *t, const struct kg_group *g)
{
	char n[24];

	for (size_t i = 0; i < g->desc.nmembers; i++) {
		const struct kp_groups_member *m = &g->desc.members[i];
		char *assignment = kg_assignment(m);
		const char *row[] = { g->desc.group_id, m->member_id, m->host, m->client_id,
				      m->instance_id, kg_i64(n, (int64_t)m->nassigned, false),
				      cell(assignment) };
		kp_table_add(t, row);
		free(assignment);
	}
}

static void add_state(kp_table *t, const struct kg_group *g)
{
	char coord[300], n[24], lag[24];
	const struct kp_groups_desc *d = &g->desc;

	snprintf(coord, sizeof coord, "%s (%d)", d->coordinator_addr, (int)d->coordinator);
	const char *row[] = { d->group_id, coord, d->type, d->state, cell(d->protocol_type),
			      cell(d->assignor), kg_i64(n, (int64_t)d->nmembers, false),
			      kg_i64(lag, g->total_lag, true) };
	kp_table_add(t, row);
}

static json_t *jint(bool known, int64_t v)
{
	return known ? json_integer((json_int_t)v) : json_null();
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *must(json_t *j)
{
	if (!j)
		kp_die("out of memory");
	return j;
}

static json_t *offsets_json(const struct kg_group *g)
{
	json_t *a = must(json_array());

	for (size_t i = 0; i < g->nrows; i++) {
		const struct kg_row *r = &g->rows[i];
		const struct kp_groups_member *m = r->member;
		int64_t lag = 0;
		bool known = kg_row_lag(r, &lag);

		json_array_append_new(a, must(json_pack(
			"{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "topic", r->topic,
			"partition", (json_int_t)r->partition,
			"current_offset", jint(r->committed >= 0, r->committed),
			"log_end_offset", jint(r->end >= 0, r->end), "lag", jint(known, lag),
			"consumer_id", jstr(m ? m->member_id : NULL), "host", jstr(m ? m->host : NULL),
			"client_id", jstr(m ? m->client_id : NULL))));
	}
	return a;
}

static json_t *members_json(const struct kp_groups_desc *d)
{
	json_t *a = must(json_array());

	for (size_t i = 0; i < d->nmembers; i++) {
		const struct kp_groups_member *m = &d->members[i];
		json_t *as = must(json_array());

		for (size_t j = 0; j < m->nassigned; j++)
			json_array_append_new(as, must(json_pack("{s:s, s:I}", "topic", m->assigned[j].topic,
								 "partition",
								 (json_int_t)m->assigned[j].partition)));
		json_array_append_new(a, must(json_pack(
			"{s:s, s:s, s:s, s:o, s:o}", "consumer_id", m->member_id, "host", m->host,
			"client_id", m->client_id, "instance_id", jstr(m->instance_id), "assignment", as)));
	}
	return a;
}

/* Everything about group g as one JSON object. */
static json_t *group_json(const struct kg_group *g)
{
	const struct kp_groups_desc *d = &g->desc;

	return must(json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:i, s:s}, s:o, s:o, s:I}",
			      "group", d->group_id, "type", d->type, "state", d->state,
			      "protocol_type", jstr(cell(d->protocol_type)),
			      "assignor", jstr(cell(d->assignor)), "coordinator", "id", (int)d->coordinator,
			      "address", d->coordinator_addr, "members", members_json(d),
			      "offsets", offsets_json(g), "total_lag", (json_int_t)g->total_lag));
}

/* The groups to describe: the operands, or with -a every listed group (*list to free). */
static char **group_names(kp_cluster *c, const struct args *a, int argc, char **argv, int first,
			  size_t *n, struct kp_groups_listed **list, size_t *nlist)
{
	kp_error err;
	char **names;

	*list = NULL;
	*nlist = 0;
	if (!a->all) {
		*n = (size_t)(argc - first);
		return argv + first;
	}
	if (kp_groups_list(c, list, nlist, &err) < 0)
		kp_die("%s", err.msg);
	if (!(names = calloc(*nlist + 1, sizeof *names)))
		kp_die("out of memory");
	for (size_t i = 0; i < *nlist; i++)
		names[i] = (*list)[i].group_id;
	*n = *nlist;
	return names;
}

/* On a terminal, after the offsets table: each group's state, members and total lag. */
static void print_summary(const struct kg_group *g)
{
	const struct kp_groups_desc *d = &g->desc;

	printf("group %s: %s, %zu member%s, total lag %" PRId64 "\n", d->group_id, d->state,
	       d->nmembers, d->nmembers == 1 ? "" : "s", g->total_lag);
}

/* Load each named group into groups[] (the *ok loaded ones first); failures are reported. */
static void load_all(kp_cluster *c, char **names, size_t n, struct kg_group *groups, size_t *ok,
		     size_t *failed)
{
	for (size_t i = 0; i < n; i++) {
		struct kg_group *g = &groups[*ok];
		kp_error err;

		if (kg_group_load(c, names[i], g, &err) < 0) {
			kp_warn("%s", err.msg);
			kg_group_free(g);
			(*failed)++;
			continue;
		}
		(*ok)++;
	}
}

/* Print the `n` groups: the view's table (and a summary on a terminal), or JSON. */
static void output(const struct args *a, const struct kg_group *groups, size_t n)
{
	static const struct kp_col *const view_cols[] = { offset_cols, member_cols, state_cols };
	static const size_t view_ncols[] = { NCOLS(offset_cols), NCOLS(member_cols), NCOLS(state_cols) };
	static void (*const add[])(kp_table *, const struct kg_group *) = { add_offsets, add_members,
									   add_state };
	kp_table *t;
	json_t *doc;

	if (a->c.json) {
		doc = must(json_array());
		for (size_t i = 0; i < n; i++)
			json_array_append_new(doc, group_json(&groups[i]));
		kp_out_json(doc);
		return;
	}
	t = kp_table_new(view_cols[a->view], view_ncols[a->view]);
	for (size_t i = 0; i < n; i++)
		add[a->view](t, &groups[i]);
	kp_table_print(t, stdout);
	kp_table_free(t);
	if (a->view == VIEW_OFFSETS && n > 0 && kp_out_tty()) {
		putchar('\n');
		for (size_t i = 0; i < n; i++)
			print_summary(&groups[i]);
	}
}

int kg_describe(int argc, char **argv)
{
	struct args a = { .view = VIEW_OFFSETS };
	struct kp_groups_listed *list;
	size_t n, nlist, ok = 0, failed = 0;
	struct kg_group *groups;
	kp_cluster *cluster;
	char **names;
	int first;

	kg_args_init(&a.c);
	first = kp_opt_parse(&kg_describe_cmd, argc, argv, on_opt, &a);
	if (a.all == (first < argc))
		kp_usage_error(a.all ? "-a and GROUP operands exclude each other"
				     : "name a group (or -a for all of them)");
	cluster = kg_connect(&a.c);
	names = group_names(cluster, &a, argc, argv, first, &n, &list, &nlist);
	if (!(groups = calloc(n + 1, sizeof *groups)))
		kp_die("out of memory");
	load_all(cluster, names, n, groups, &ok, &failed);
	output(&a, groups, ok);
	for (size_t i = 0; i < ok; i++)
		kg_group_free(&groups[i]);
	free(groups);
	if (a.all)
		free(names);
	kp_groups_listed_free(list, nlist);
	kp_cluster_free(cluster);
	return kp_exit_status(ok, failed);
}
