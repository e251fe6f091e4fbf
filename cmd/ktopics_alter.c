/*
 * ktopics_alter.c - ktopics alter: grow topics to a number of partitions
 * (CreatePartitions, to the controller) and set or delete their configs
 * one by one (IncrementalAlterConfigs: the configs not named stay as they
 * are; a deleted one falls back to the broker's or Kafka's default).
 * Quiet on success; --json prints each topic's outcome.
 */
#include <stdlib.h>
#include <string.h>

#include "ktopics.h"

#define MAX_CONFIGS 64

static const struct kp_opt opts[] = {
	KT_CLIENT_OPTS,
	{ 'p', "partitions", "COUNT", "grow each topic to COUNT partitions", NULL, 0 },
	{ 'c', "config", "KEY=VALUE", "set a topic config (repeatable)", NULL, KP_OPT_REPEAT },
	{ 'd', "delete-config", "KEY", "delete a topic config: its default applies (repeatable)",
	  NULL, KP_OPT_REPEAT },
	{ KT_OPT_VALIDATE_ONLY, "validate-only", NULL, "only check that the changes could be made",
	  NULL, 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kt_alter_cmd = {
	"ktopics alter", "add partitions to topics, set and delete their configs", "TOPIC...", opts,
};

struct args {
	struct kp_client_args c;
	int32_t partitions; /* -1: unchanged */
	struct kp_admin_config ops[MAX_CONFIGS];
	size_t nops;
	bool validate_only;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (id != 'p' && kp_client_opt(&a->c, id, arg)) /* -p is the count here */
		return 0;
	if ((id == 'c' || id == 'd') && a->nops == MAX_CONFIGS)
		kp_usage_error("at most %d config changes", MAX_CONFIGS);
	switch (id) {
	case 'p':
		if (kp_parse_int32(arg, 1, INT32_MAX, &a->partitions) < 0)
			kp_usage_error("bad partition count '%s'", arg);
		break;
	case 'c': a->ops[a->nops++] = kt_parse_config((char *)arg); break;
	case 'd':
		if (!*arg)
			kp_usage_error("the config to delete must not be empty");
		a->ops[a->nops++] = (struct kp_admin_config){ arg, NULL };
		break;
	case KT_OPT_VALIDATE_ONLY: a->validate_only = true; break;
	default: return -1;
	}
	return 0;
}

/* alter - the partition change, then the config changes; the first failure per topic in out. */
static void alter(kp_cluster *c, const struct args *a, const char *const *names, size_t n,
		  kp_arena *arena, struct kp_admin_outcome *out)
{
	struct kp_admin_outcome *cfg = calloc(n, sizeof(*cfg));
	kp_error err;

	if (!cfg)
		kp_die("out of memory");
	for (size_t k = 0; k < n; k++)
		out[k] = (struct kp_admin_outcome){ names[k], 0, NULL, -1, -1 };
	if (a->partitions > 0 &&
	    kp_admin_create_partitions(c, names, n, a->partitions, a->validate_only, arena, out,
				       &err) < 0)
		kp_die("cannot add partitions: %s", err.msg);
	if (a->nops > 0 &&
	    kp_admin_alter_topic_configs(c, names, n, a->ops, a->nops, a->validate_only, arena, cfg,
					 &err) < 0)
		kp_die("cannot change configs: %s", err.msg);
	for (size_t k = 0; k < n && a->nops > 0; k++)
		if (out[k].error == 0)
			out[k] = cfg[k];
	free(cfg);
}

int kt_alter(int argc, char **argv)
{
	struct args a = { .partitions = -1 };
	struct kp_admin_outcome *out;
	kp_cluster *c;
	kp_arena arena;
	size_t n;
	int i, rc;

	kp_client_args_init(&a.c);
	i = kp_opt_parse(&kt_alter_cmd, argc, argv, on_opt, &a);
	if (i >= argc)
		kp_usage_error("name at least one topic");
	if (a.partitions < 0 && a.nops == 0)
		kp_usage_error("nothing to change (give -p, -c or -d)");
	n = (size_t)(argc - i);
	if (!(out = calloc(n, sizeof(*out))))
		kp_die("out of memory");
	c = kt_connect(&a.c);
	kp_arena_init(&arena);
	alter(c, &a, (const char *const *)argv + i, n, &arena, out);
	rc = kt_report("alter", out, n, a.c.json, 0);
	kp_arena_free(&arena);
	kp_cluster_free(c);
	free(out);
	return rc;
}
