/*
 * kgroups_lag.c - `kgroups lag`: each group's lag per topic (the sum over
 * its partitions of log end offset minus committed offset), once or, with
 * --watch, every INTERVAL until interrupted (or --count rounds).
 */
#include "kgroups.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common_out.h"
#include "util/clock.h"

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_CONFIG_FILE,
	KP_OPT_PROPERTY("set a client property (repeatable)"),
	{ 'w', "watch", "INTERVAL", "print again every INTERVAL (seconds, or with unit ms, s, m, h)",
	  NULL, 0 },
	{ 'c', "count", "COUNT", "with --watch: stop after COUNT rounds", NULL, 0 },
	KP_OPT_JSON,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

const struct kp_cmd kg_lag_cmd = {
	"kgroups lag", "print each group's lag per topic, once or every INTERVAL", "[GROUP]...", opts,
};

/* With --watch the first column is the time of the round. */
static const struct kp_col cols[] = {
	{ "TIME", "time", KP_COL_STR },
	{ "GROUP", "group", KP_COL_STR },
	{ "TOPIC", "topic", KP_COL_STR },
	{ "PARTITIONS", "partitions", KP_COL_INT },
	{ "LAG", "lag", KP_COL_INT },
};
#define NCOLS (sizeof cols / sizeof cols[0])

struct args {
	struct kp_client_args c;
	int64_t interval_ms; /* 0: no --watch */
	int64_t count;       /* rounds; -1: until interrupted */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	switch (id) {
	case 'w':
		if (kg_parse_interval(arg, &a->interval_ms) < 0)
			kp_usage_error("bad interval '%s' (want seconds, or a number with ms, s, m or h)",
				       arg);
		break;
	case 'c':
		if (kp_parse_int64(arg, 1, INT64_MAX, &a->count) < 0)
			kp_usage_error("bad count '%s'", arg);
		break;
	default: return -1;
	}
	return 0;
}

/* One row per topic of g: its partitions and their summed known lag. */
static void add_group(kp_table *t, const struct kg_group *g, const char *time)
{
	for (size_t i = 0; i < g->nrows;) {
		const char *topic = g->rows[i].topic;
		int64_t sum = 0, lag, n = 0;
		bool known = false;
		char np[24], l[24];

		for (; i < g->nrows && strcmp(g->rows[i].topic, topic) == 0; i++, n++)
			if (kg_row_lag(&g->rows[i], &lag)) {
				sum += lag;
				known = true;
			}
		const char *row[] = { time, g->desc.group_id, topic, kg_i64(np, n, false),
				      known ? kg_i64(l, sum, true) : NULL };
		kp_table_add(t, time ? row : row + 1);
	}
}

/* Whether a listed group is a consumer group (or only holds offsets). */
static bool consumer_group(const struct kp_groups_listed *g)
{
	return !strcmp(g->protocol_type, "consumer") || !*g->protocol_type;
}

/* Load group `name` and add its rows; false (reported) when that failed. */
static bool show_group(kp_cluster *c, const char *name, kp_table *t, const char *time)
{
	struct kg_group g;
	kp_error err;
	bool ok = kg_group_load(c, name, &g, &err) == 0;

	if (ok)
		add_group(t, &g, time);
	else
		kp_warn("%s", err.msg);
	kg_group_free(&g);
	return ok;
}

/* One round: the named groups' (or every consumer group's) lag; returns its exit status. */
static int lag_round(kp_cluster *c, const struct args *a, char **names, size_t nnames)
{
	struct kp_groups_listed *list = NULL;
	size_t nlist = 0, ok = 0, failed = 0;
	char when[32];
	const char *time = a->interval_ms ? kg_format_time(kp_wall_ms(), when) : NULL;
	kp_table *t = kp_table_new(time ? cols : cols + 1, time ? NCOLS : NCOLS - 1);
	kp_error err;

	if (nnames == 0 && kp_groups_list(c, &list, &nlist, &err) < 0) {
		kp_warn("%s", err.msg);
		failed++;
	}
	for (size_t i = 0; i < (nnames ? nnames : nlist); i++) {
		if (!nnames && !consumer_group(&list[i]))
			continue;
		show_group(c, nnames ? names[i] : list[i].group_id, t, time) ? ok++ : failed++;
	}
	kp_table_out(t, a->c.json);
	if (time && !a->c.json && kp_out_tty())
		putchar('\n');
	fflush(stdout);
	kp_table_free(t);
	kp_groups_listed_free(list, nlist);
	return kp_exit_status(ok, failed);
}

/* Sleep `ms`, in short steps so that a signal ends it at once. */
static void nap(int64_t ms)
{
	for (int64_t end = kp_mono_ms() + ms; !stop && kp_mono_ms() < end;) {
		int64_t left = end - kp_mono_ms();
		kp_sleep_ms(left < 100 ? left : 100);
	}
}

int kg_lag(int argc, char **argv)
{
	struct args a = { .count = -1 };
	struct sigaction sa;
	kp_cluster *cluster;
	int first, status;

	kg_args_init(&a.c);
	first = kp_opt_parse(&kg_lag_cmd, argc, argv, on_opt, &a);
	if (a.count > 0 && !a.interval_ms)
		kp_usage_error("-c counts the rounds of --watch");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cluster = kg_connect(&a.c);
	for (int64_t round = 1;; round++) {
		status = lag_round(cluster, &a, argv + first, (size_t)(argc - first));
		if (!a.interval_ms || round == a.count || stop)
			break;
		nap(a.interval_ms);
		if (stop)
			break;
	}
	kp_cluster_free(cluster);
	return stop ? KP_EXIT_OK : status;
}
