/*
 * ktopics_delete.c - ktopics delete: delete topics and their records
 * (DeleteTopics, to the controller). Quiet on success, as rm(1);
 * --if-exists makes a missing topic no error, as rm -f.
 */
#include <stdlib.h>

#include "ktopics.h"
#include "protocol/errors.h"

static const struct kp_opt opts[] = {
	KT_CLIENT_OPTS,
	{ KT_OPT_IF_EXISTS, "if-exists", NULL, "a topic that does not exist is no error", NULL, 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kt_delete_cmd = { "ktopics delete", "delete topics", "TOPIC...", opts };

struct args {
	struct kp_client_args c;
	bool if_exists;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	if (id != KT_OPT_IF_EXISTS)
		return -1;
	a->if_exists = true;
	return 0;
}

int kt_delete(int argc, char **argv)
{
	struct args a = { 0 };
	struct kp_admin_outcome *out;
	kp_cluster *c;
	kp_arena arena;
	kp_error err;
	size_t n;
	int i, rc;

	kp_client_args_init(&a.c);
	i = kp_opt_parse(&kt_delete_cmd, argc, argv, on_opt, &a);
	if (i >= argc)
		kp_usage_error("name at least one topic");
	n = (size_t)(argc - i);
	if (!(out = calloc(n, sizeof(*out))))
		kp_die("out of memory");
	c = kt_connect(&a.c);
	kp_arena_init(&arena);
	if (kp_admin_delete_topics(c, (const char *const *)argv + i, n, &arena, out, &err) < 0)
		kp_die("cannot delete topics: %s", err.msg);
	rc = kt_report("delete", out, n, a.c.json,
		       a.if_exists ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION : KP_ERR_NONE);
	kp_arena_free(&arena);
	kp_cluster_free(c);
	free(out);
	return rc;
}
