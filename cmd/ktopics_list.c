/*
 * ktopics_list.c - ktopics list: the names of the cluster's topics, one
 * a line, sorted; internal topics (__consumer_offsets, ...) only with
 * --internal; with PATTERNs (shell globs, fnmatch(3)) only the names
 * matching one of them.
 */
#include <fnmatch.h>

#include "ktopics.h"

static const struct kp_opt opts[] = {
	KT_CLIENT_OPTS,
	{ KT_OPT_INTERNAL, "internal", NULL, "list internal topics too", NULL, 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kt_list_cmd = {
	"ktopics list", "list topics (those matching a PATTERN)", "[PATTERN]...", opts,
};

static const struct kp_col cols[] = { { "TOPIC", "topic", KP_COL_STR } };

struct args {
	struct kp_client_args c;
	bool internal;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	if (id != KT_OPT_INTERNAL)
		return -1;
	a->internal = true;
	return 0;
}

/* matches - whether `name` matches one of the patterns (any when there are none). */
static bool matches(const char *name, char **patterns, int n)
{
	for (int i = 0; i < n; i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return true;
	return n == 0;
}

int kt_list(int argc, char **argv)
{
	struct args a = { 0 };
	struct kp_admin_topics topics;
	kp_cluster *c;
	kp_table *t;
	kp_arena arena;
	kp_error err;
	int i;

	kp_client_args_init(&a.c);
	i = kp_opt_parse(&kt_list_cmd, argc, argv, on_opt, &a);
	c = kt_connect(&a.c);
	kp_arena_init(&arena);
	if (kp_admin_describe_topics(c, NULL, 0, &arena, &topics, &err) < 0)
		kp_die("cannot list topics: %s", err.msg);
	t = kp_table_new(cols, 1);
	for (size_t k = 0; k < topics.ntopics; k++) {
		const struct kp_admin_topic *tp = &topics.topics[k];

		if (tp->error || (tp->internal && !a.internal) || !matches(tp->name, argv + i, argc - i))
			continue;
		kp_table_add(t, (const char *const[]){ tp->name });
	}
	kp_table_out(t, a.c.json);
	kp_table_free(t);
	kp_arena_free(&arena);
	kp_cluster_free(c);
	return KP_EXIT_OK;
}
