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
 * from N records before the end of each partition. -e exits once every
 * partition's end is reached; -c after COUNT records. Output is buffered
 * and flushed whenever kconsume waits for the broker. -X sets consumer
 * properties (fetch.max.wait.ms, max.partition.fetch.bytes, ...).
 *
 * EXIT CODES
 *   0  done (-e or -c), interrupted by SIGINT/SIGTERM, or the reader of
 *      standard output went away (EPIPE: quiet, like head(1) expects)
 *   1  failure (no broker, no such topic, a fetch error)
 *   2  bad usage
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cluster.h"
#include "client/consumer.h"
#include "common.h"
#include "util/config.h"
#include "util/diag.h"

static const struct kp_opt opts[] = {
	{ 'b', "broker", "HOST:PORT[,...]", "bootstrap brokers (default 127.0.0.1:9092)", NULL, false },
	{ 't', "topic", "TOPIC", "topic to read", NULL, true },
	{ 'p', "partition", "PARTITION", "read only this partition", NULL, false },
	{ 'o', "offset", "beginning|end|OFFSET|-N", "where to start (default end)",
	  "beginning end", false },
	{ 'e', "exit", NULL, "exit when the end of every partition is reached", NULL, false },
	{ 'c', "count", "COUNT", "exit after COUNT records", NULL, false },
	{ 'k', "key-delimiter", "DELIM", "write key DELIM value", NULL, false },
	{ 'X', "property", "KEY=VALUE", "set a consumer property (repeatable)", NULL, false },
	{ 0, NULL, NULL, NULL, NULL, false },
};

static const struct kp_cmd cmd = {
	"kconsume", "write the records of a Kafka topic to standard output", NULL, opts,
};

struct args {
	const char *brokers;
	const char *topic;
	int32_t partition;
	int whence;
	int64_t value;
	bool exit_at_end;
	int64_t count; /* -1: unlimited */
	const char *delim;
	kp_config *cfg;
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
	kp_error err;

	switch (id) {
	case 'b': a->brokers = arg; break;
	case 't': a->topic = arg; break;
	case 'p':
		if (kp_parse_int32(arg, 0, INT32_MAX, &a->partition) < 0)
			kp_usage_error("bad partition '%s'", arg);
		break;
	case 'o': parse_offset(a, arg); break;
	case 'e': a->exit_at_end = true; break;
	case 'c':
		if (kp_parse_int64(arg, 0, INT64_MAX, &a->count) < 0)
			kp_usage_error("bad count '%s'", arg);
		break;
	case 'k':
		a->delim = arg;
		break;
	case 'X':
		if (kp_config_set_pair(a->cfg, arg, &err) < 0)
			kp_usage_error("%s", err.msg);
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

static int on_record(const char *topic, int32_t partition, const struct kp_record *rec, void *opaque)
{
	struct args *a = opaque;

	(void)topic;
	(void)partition;
	if (a->delim) {
		if (rec->key_len > 0)
			fwrite(rec->key, 1, (size_t)rec->key_len, stdout);
		fputs(a->delim, stdout);
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

static int consume(struct args *a, kp_consumer *c)
{
	kp_error err;
	int rc = 0;

	while (!stop && rc == 0) {
		if (a->count >= 0 && a->seen >= a->count)
			break;
		if (a->exit_at_end && kp_consumer_at_end(c))
			break;
		fflush(stdout);
		check_output();
		rc = kp_consumer_poll(c, on_record, a, &err);
		if (rc < 0) {
			fflush(stdout);
			kp_die("%s", err.msg);
		}
		rc = 0;
	}
	fflush(stdout);
	check_output();
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .brokers = "127.0.0.1:9092", .partition = -1, .whence = KP_SEEK_END,
			  .count = -1 };
	static char obuf[1 << 20];
	kp_cluster *cluster;
	kp_consumer *c;
	kp_error err;
	int first;

	if (!(a.cfg = kp_config_new()))
		kp_die("out of memory");
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	if (!a.topic)
		kp_usage_error("a topic (-t) is required");
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	install_signals();
	kp_diag_to_stderr(KP_DIAG_WARN);
	if (!(cluster = kp_cluster_new(a.brokers, a.cfg, &err)))
		kp_die("%s", err.msg);
	if (!(c = kp_consumer_new(cluster, a.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.cfg);
	if (kp_consumer_assign(c, a.topic, a.partition, a.whence, a.value, &err) < 0)
		kp_die("%s", err.msg);
	if (a.count != 0)
		consume(&a, c);
	kp_consumer_free(c);
	kp_cluster_free(cluster);
	return KP_EXIT_OK;
}
