/*
 * ktopics_create.c - ktopics create: make topics (CreateTopics, to the
 * controller). Without -p and -r the brokers' num.partitions and
 * default.replication.factor apply; -a places each partition's replicas
 * on named brokers instead ("1:2,2:3" is two partitions, each on two
 * brokers, the first of each the preferred leader). Quiet on success, as
 * mkdir(1); --json prints each topic's outcome.
 */
#include <stdlib.h>
#include <string.h>

#include "ktopics.h"
#include "protocol/errors.h"

#define MAX_CONFIGS 64

static const struct kp_opt opts[] = {
	KT_CLIENT_OPTS,
	{ 'p', "partitions", "COUNT", "number of partitions (default: the broker's num.partitions)",
	  NULL, 0 },
	{ 'r', "replication-factor", "COUNT",
	  "replicas of each partition (default: the broker's default.replication.factor)", NULL, 0 },
	{ 'a', "assignment", "ASSIGNMENT",
	  "replicas of each partition: BROKER:BROKER,... one group per partition", NULL, 0 },
	{ 'c', "config", "KEY=VALUE", "a topic config (repeatable)", NULL, KP_OPT_REPEAT },
	{ KT_OPT_IF_NOT_EXISTS, "if-not-exists", NULL, "a topic that exists already is no error",
	  NULL, 0 },
	{ KT_OPT_VALIDATE_ONLY, "validate-only", NULL, "only check that the topics could be created",
	  NULL, 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kt_create_cmd = { "ktopics create", "create topics", "TOPIC...", opts };

struct args {
	struct kp_client_args c;
	int32_t partitions;
	int16_t replication_factor;
	int32_t *assignment; /* rows of `replicas` ids, `partitions` rows */
	int32_t replicas;
	bool partitions_given;
	struct kp_admin_config configs[MAX_CONFIGS];
	size_t nconfigs;
	bool if_not_exists, validate_only;
};

/* parse_assignment - "1:2,2:3" into a->assignment, a->partitions x a->replicas. */
static void parse_assignment(struct args *a, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	size_t n = 0, cap = 16;
	int32_t *ids = malloc(cap * sizeof(*ids));

	if (!copy || !ids)
		kp_die("out of memory");
	free(a->assignment); /* the last -a wins */
	a->partitions = 0;
	for (char *group = strtok_r(copy, ",", &save); group; group = strtok_r(NULL, ",", &save)) {
		int32_t count = 0;
		char *gsave = NULL;

		for (char *id = strtok_r(group, ":", &gsave); id; id = strtok_r(NULL, ":", &gsave)) {
			if (n == cap && !(ids = realloc(ids, (cap *= 2) * sizeof(*ids))))
				kp_die("out of memory");
			if (kp_parse_int32(id, 0, INT32_MAX, &ids[n++]) < 0)
				kp_usage_error("bad broker id '%s' in assignment '%s'", id, s);
			count++;
		}
		if (a->partitions > 0 && count != a->replicas)
			kp_usage_error("every partition of '%s' needs the same number of replicas", s);
		a->replicas = count;
		a->partitions++;
	}
	if (a->partitions == 0 || a->replicas == 0)
		kp_usage_error("bad assignment '%s' (want BROKER:BROKER,... per partition)", s);
	free(copy);
	a->assignment = ids;
}

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;
	int32_t v;

	if (id != 'p' && kp_client_opt(&a->c, id, arg)) /* -p is the count here */
		return 0;
	switch (id) {
	case 'p':
		if (kp_parse_int32(arg, 1, INT32_MAX, &a->partitions) < 0)
			kp_usage_error("bad partition count '%s'", arg);
		a->partitions_given = true;
		break;
	case 'r':
		if (kp_parse_int32(arg, 1, INT16_MAX, &v) < 0)
			kp_usage_error("bad replication factor '%s'", arg);
		a->replication_factor = (int16_t)v;
		break;
	case 'a': parse_assignment(a, arg); break;
	case 'c':
		if (a->nconfigs == MAX_CONFIGS)
			kp_usage_error("at most %d configs", MAX_CONFIGS);
		a->configs[a->nconfigs++] = kt_parse_config((char *)arg);
		break;
	case KT_OPT_IF_NOT_EXISTS: a->if_not_exists = true; break;
	case KT_OPT_VALIDATE_ONLY: a->validate_only = true; break;
	default: return -1;
	}
	return 0;
}

int kt_create(int argc, char **argv)
{
	struct args a = { .partitions = -1, .replication_factor = -1 };
	struct kp_admin_new_topic *t;
	struct kp_admin_outcome *out;
	kp_cluster *c;
	kp_arena arena;
	kp_error err;
	size_t n;
	int i, rc;

	kp_client_args_init(&a.c);
	i = kp_opt_parse(&kt_create_cmd, argc, argv, on_opt, &a);
	if (i >= argc)
		kp_usage_error("name at least one topic");
	if (a.assignment && (a.replication_factor != -1 || a.partitions_given))
		kp_usage_error("-a cannot go with -p or -r (the assignment says how many)");
	n = (size_t)(argc - i);
	t = calloc(n, sizeof(*t));
	out = calloc(n, sizeof(*out));
	if (!t || !out)
		kp_die("out of memory");
	for (size_t k = 0; k < n; k++)
		t[k] = (struct kp_admin_new_topic){ argv[i + (int)k], a.partitions, a.replication_factor,
						    a.assignment, a.replicas, a.configs, a.nconfigs };
	c = kt_connect(&a.c);
	kp_arena_init(&arena);
	if (kp_admin_create_topics(c, t, n, a.validate_only, &arena, out, &err) < 0)
		kp_die("cannot create topics: %s", err.msg);
	rc = kt_report("create", out, n, a.c.json,
		       a.if_not_exists ? KP_ERR_TOPIC_ALREADY_EXISTS : KP_ERR_NONE);
	kp_arena_free(&arena);
	kp_cluster_free(c);
	free(t);
	free(out);
	free(a.assignment);
	return rc;
}
