/*
 * ktopics_describe.c - ktopics describe: each partition of the named
 * topics (every topic without a name; internal ones only with --internal)
 * with its leader, replicas, in-sync replicas, offline replicas and log
 * start and end offsets, one a line; with --configs instead each config
 * of the topics with its value and where the value comes from (the
 * topic's own, the broker's, Kafka's default). --json prints both in one
 * document (ktopics_describe_out.c).
 */
#include <stdlib.h>
#include <string.h>

#include "ktopics.h"
#include "protocol/errors.h"

static const struct kp_opt opts[] = {
	KT_CLIENT_OPTS,
	{ KT_OPT_INTERNAL, "internal", NULL, "describe internal topics too (when none is named)",
	  NULL, 0 },
	{ KT_OPT_CONFIGS, "configs", NULL, "print the topics' configs instead of their partitions",
	  NULL, 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kt_describe_cmd = {
	"ktopics describe", "describe topics: partitions, replicas, offsets, configs", "[TOPIC]...",
	opts,
};

static const struct kp_col cols[] = {
	{ "TOPIC", "topic", KP_COL_STR },
	{ "PARTITION", "partition", KP_COL_INT },
	{ "LEADER", "leader", KP_COL_INT },
	{ "REPLICAS", "replicas", KP_COL_STR },
	{ "ISR", "isr", KP_COL_STR },
	{ "OFFLINE", "offline", KP_COL_STR },
	{ "LOG-START-OFFSET", "log_start_offset", KP_COL_INT },
	{ "LOG-END-OFFSET", "log_end_offset", KP_COL_INT },
};

struct args {
	struct kp_client_args c;
	bool internal, configs;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	if (id == KT_OPT_INTERNAL)
		a->internal = true;
	else if (id == KT_OPT_CONFIGS)
		a->configs = true;
	else
		return -1;
	return 0;
}

/* print_partitions - the partition table of the topics in `t`. */
static void print_partitions(const struct kp_admin_topics *t)
{
	kp_table *tab = kp_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	char part[16], leader[16], start[24], end[24], r[512], isr[512], off[512];

	for (size_t i = 0; i < t->ntopics; i++)
		for (int32_t j = 0; j < t->topics[i].npartitions; j++) {
			const struct kp_admin_partition *p = &t->topics[i].partitions[j];
			const char *cells[8] = {
				t->topics[i].name,
				(snprintf(part, sizeof(part), "%d", (int)p->partition), part),
				p->leader < 0 ? NULL
					      : (snprintf(leader, sizeof(leader), "%d", (int)p->leader),
						 leader),
				kt_ids(p->replicas, p->nreplicas, r, sizeof(r)),
				kt_ids(p->isr, p->nisr, isr, sizeof(isr)),
				kt_ids(p->offline, p->noffline, off, sizeof(off)),
				kt_i64(p->log_start, start),
				kt_i64(p->log_end, end),
			};

			kp_table_add(tab, cells);
		}
	kp_table_print(tab, stdout);
	kp_table_free(tab);
}

/*
 * keep - drop from `t` the topics not to show: internal ones unless named
 * or --internal; the ones with an error get a message. Returns how many
 * failed.
 */
static size_t keep(struct kp_admin_topics *t, bool named, bool internal)
{
	size_t k = 0, failed = 0;

	for (size_t i = 0; i < t->ntopics; i++) {
		struct kp_admin_topic *tp = &t->topics[i];

		if (tp->error) {
			kp_warn("cannot describe topic '%s': %s", tp->name, kt_error_name(tp->error));
			failed++;
		} else if (named || internal || !tp->internal) {
			t->topics[k++] = *tp;
		}
	}
	t->ntopics = k;
	return failed;
}

/* configs - DescribeConfigs of every topic in `t` (NULL when there is none). */
static struct kp_admin_topic_configs *configs(kp_cluster *c, const struct kp_admin_topics *t,
					      kp_arena *arena)
{
	const char **names = kp_arena_alloc(arena, sizeof(*names) * (t->ntopics + 1));
	struct kp_admin_topic_configs *out = kp_arena_alloc(arena, sizeof(*out) * (t->ntopics + 1));
	kp_error err;

	if (!names || !out)
		kp_die("out of memory");
	for (size_t i = 0; i < t->ntopics; i++)
		names[i] = t->topics[i].name;
	if (t->ntopics > 0 &&
	    kp_admin_describe_topic_configs(c, names, t->ntopics, arena, out, &err) < 0)
		kp_die("cannot describe configs: %s", err.msg);
	return out;
}

int kt_describe(int argc, char **argv)
{
	struct args a = { 0 };
	struct kp_admin_topics t;
	struct kp_admin_topic_configs *cfgs = NULL;
	size_t failed, nerr = 0;
	kp_cluster *c;
	kp_arena arena;
	kp_error err;
	int i;

	kp_client_args_init(&a.c);
	i = kp_opt_parse(&kt_describe_cmd, argc, argv, on_opt, &a);
	c = kt_connect(&a.c);
	kp_arena_init(&arena);
	if (kp_admin_describe_topics(c, i < argc ? (const char *const *)argv + i : NULL,
				     (size_t)(argc - i), &arena, &t, &err) < 0)
		kp_die("cannot describe topics: %s", err.msg);
	failed = keep(&t, i < argc, a.internal);
	if ((a.c.json || !a.configs) && kp_admin_list_offsets(c, &t, &err) < 0)
		kp_die("cannot read log offsets: %s", err.msg);
	if (a.c.json || a.configs)
		cfgs = configs(c, &t, &arena);
	for (size_t k = 0; cfgs && k < t.ntopics; k++)
		nerr += kt_configs_failed(&cfgs[k]);
	if (a.c.json)
		kp_out_json(kt_describe_json(&t, cfgs));
	else if (a.configs)
		kt_print_configs(cfgs, t.ntopics);
	else
		print_partitions(&t);
	kp_arena_free(&arena);
	kp_cluster_free(c);
	return kp_exit_status(t.ntopics - nerr, failed + nerr);
}
