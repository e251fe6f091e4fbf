/*
 * kconsume - write the records of a Kafka topic to standard output, one
 * line each.
 *
 * USAGE
 *   kconsume [-b HOST:PORT[,...]] -t TOPIC [-p PARTITION]
 *            [-o beginning|end|OFFSET|-N] [-e] [-c COUNT] [-k DELIM] [-X KEY=VALUE]...
 *
 * Each record is written as its value and "\n" (a null value as an empty
 * line); with -k as key DELIM value (a null key as nothing). Without -p
 * every partition of the topic is read. -o: from the first retained
 * offset, from the end (the default: new records only), from OFFSET, or
 * from N records before the end of each partition (an OFFSET outside the
 * partition's offsets starts at its nearest end, with a warning). -e exits
 * once every partition has reached the end it had when kconsume started,
 * even if records keep arriving; -c after COUNT records. Output is
 * buffered and flushed whenever kconsume waits for the broker; when
 * standard output is a pipe whose reader has gone, kconsume notices it
 * within fetch.max.wait.ms even if no record arrives. -X sets consumer
 * properties (fetch.max.wait.ms, max.partition.fetch.bytes, ...).
 *
 * EXIT CODES
 *   0  done (-e or -c), interrupted by SIGINT/SIGTERM, or the reader of
 *      standard output went away (EPIPE: quiet, like head(1) expects)
 *   1  failure (no broker, no such topic, a fetch error)
 *   2  bad usage
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cluster.h"
#include "client/consumer.h"
#include "common.h"
#include "common_client.h"
#include "util/config.h"

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_TOPIC("topic to read"),
	KP_OPT_PARTITION("read only this partition"),
	{ 'o', "offset", "beginning|end|OFFSET|-N", "where to start (default end)",
	  "beginning end", 0 },
	{ 'e', "exit", NULL, "exit when the end of every partition is reached", NULL, 0 },
	{ 'c', "count", "COUNT", "exit after COUNT records", NULL, 0 },
	KP_OPT_KEY_DELIMITER("write key DELIM value"),
	KP_OPT_PROPERTY("set a consumer property (repeatable)"),
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

static const struct kp_cmd cmd = {
	"kconsume", "write the records of a Kafka topic to standard output", NULL, opts,
};

struct args {
	struct kp_client_args c; /* -b -t -p -k -X */
	int whence;
	int64_t value;
	bool exit_at_end;
	int64_t count; /* -1: unlimited */
	int64_t seen;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void parse_offset(struct args *a, const char *s)
{
	int64_t v;

	if (strcmp(s, "beginning") == 0) {
		a->whence = KP_SEEK_BEGINNING;
		a->value = 0;
	} else if (strcmp(s, "end") == 0) {
		a->whence = KP_SEEK_END;
		a->value = 0;
	} else if (kp_parse_int64(s, INT64_MIN + 1, INT64_MAX, &v) == 0) {
		a->whence = v < 0 ? KP_SEEK_END : KP_SEEK_OFFSET;
		a->value = v < 0 ? -v : v;
	} else {
		kp_usage_error("bad offset '%s' (want beginning, end, OFFSET or -N)", s);
	}
}

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	switch (id) {
	case 'o': parse_offset(a, arg); break;
	case 'e': a->exit_at_end = true; break;
	case 'c':
		if (kp_parse_int64(arg, 0, INT64_MAX, &a->count) < 0)
			kp_usage_error("bad count '%s'", arg);
		break;
	default: return -1;
	}
	return 0;
}

/* Exit quietly when the reader has gone, loudly on other output errors. */
static void check_output(void)
{
	if (!ferror(stdout))
		return;
	if (errno == EPIPE)
		_Exit(KP_EXIT_OK);
	kp_die("cannot write to standard output: %s", strerror(errno));
}

/*
 * Exit quietly when standard output is a pipe or socket whose reader has
 * gone (poll reports POLLERR), so that `kconsume | head -1` ends even
 * while no record arrives to be written.
 */
static void check_reader(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		_Exit(KP_EXIT_OK);
}

static int on_record(const char *topic, int32_t partition, const struct kp_record *rec, void *opaque)
{
	struct args *a = opaque;

	(void)topic;
	(void)partition;
	if (a->c.delim) {
		if (rec->key_len > 0)
			fwrite(rec->key, 1, (size_t)rec->key_len, stdout);
		fputs(a->c.delim, stdout);
	}
	if (rec->value_len > 0)
		fwrite(rec->value, 1, (size_t)rec->value_len, stdout);
	putchar('\n');
	check_output();
	a->seen++;
	return (a->count >= 0 && a->seen >= a->count) || stop;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Poll until -e, -c, a signal or a failure (exit 1) ends it. */
static void consume(struct args *a, kp_consumer *c)
{
	kp_error err;

	while (!stop) {
		if (a->count >= 0 && a->seen >= a->count)
			break;
		if (a->exit_at_end && kp_consumer_at_end(c))
			break;
		fflush(stdout);
		check_output();
		check_reader();
		if (kp_consumer_poll(c, on_record, a, &err) < 0) {
			fflush(stdout);
			kp_die("%s", err.msg);
		}
	}
	fflush(stdout);
	check_output();
}

int main(int argc, char **argv)
{
	struct args a = { .whence = KP_SEEK_END, .count = -1 };
	static char obuf[1 << 20];
	kp_cluster *cluster;
	kp_consumer *c;
	kp_error err;
	int first;

	kp_client_args_init(&a.c);
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	install_signals();
	cluster = kp_client_connect(&a.c);
	if (!(c = kp_consumer_new(cluster, a.c.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.c.cfg);
	if (kp_consumer_assign(c, a.c.topic, a.c.partition, a.whence, a.value, &err) < 0)
		kp_die("%s", err.msg);
	if (a.count != 0)
		consume(&a, c);
	kp_consumer_free(c);
	kp_cluster_free(cluster);
	return KP_EXIT_OK;
}
