/*
 * kgroups_list.c - `kgroups list`: every consumer group of the cluster
 * with its type, state and protocol type (ListGroups on every broker).
 */
#include "kgroups.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common_out.h"

#define OPT_STATE 's'

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_CONFIG_FILE,
	KP_OPT_PROPERTY("set a client property (repeatable)"),
	{ OPT_STATE, "state", "STATE[,...]", "only groups in one of these states (Stable, Empty, ...)",
	  NULL, 0 },
	KP_OPT_JSON,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kg_list_cmd = {
	"kgroups list", "list the consumer groups with their type, state and protocol type", NULL,
	opts,
};

static const struct kp_col cols[] = {
	{ "GROUP", "group", KP_COL_STR },
	{ "TYPE", "type", KP_COL_STR },
	{ "STATE", "state", KP_COL_STR },
	{ "PROTOCOL-TYPE", "protocol_type", KP_COL_STR },
};

struct args {
	struct kp_client_args c;
	const char *states; /* -s, or NULL */
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	if (id != OPT_STATE)
		return -1;
	if (!*arg)
		kp_usage_error("the state list must not be empty");
	a->states = arg;
	return 0;
}

/* Whether `state` is in the comma-separated `list` (any case); a NULL list takes all. */
static bool wanted(const char *list, const char *state)
{
	size_t n = strlen(state);

	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncasecmp(p, state, n) == 0)
			return true;
		p += l + (e ? 1 : 0);
	}
	return !list;
}

/* A cell: NULL ("-", JSON null) for an empty string. */
static const char *cell(const char *s)
{
	return s && *s ? s : NULL;
}

int kg_list(int argc, char **argv)
{
	struct args a;
	struct kp_groups_listed *groups;
	kp_cluster *cluster;
	kp_table *t;
	kp_error err;
	size_t n;
	int first;

	kg_args_init(&a.c);
	a.states = NULL;
	if ((first = kp_opt_parse(&kg_list_cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	cluster = kg_connect(&a.c);
	if (kp_groups_list(cluster, &groups, &n, &err) < 0)
		kp_die("%s", err.msg);
	t = kp_table_new(cols, sizeof cols / sizeof cols[0]);
	for (size_t i = 0; i < n; i++)
		if (wanted(a.states, groups[i].state)) {
			const char *row[] = { groups[i].group_id, cell(groups[i].type), cell(groups[i].state),
					      cell(groups[i].protocol_type) };
			kp_table_add(t, row);
		}
	kp_table_out(t, a.c.json);
	kp_table_free(t);
	kp_groups_listed_free(groups, n);
	kp_cluster_free(cluster);
	return KP_EXIT_OK;
}
