/*
 * kconsume - write the records of a Kafka topic to standard output, one
 * line each.
 *
 * USAGE
 *   kconsume [-b HOST:PORT[,...]] -t TOPIC [-g GROUP] [-p PARTITION]
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
 * With -g GROUP kconsume is a member of consumer group GROUP subscribed to
 * the -t topics (comma separated) and reads the partitions the group gives
 * it (lib/client/group.h does the protocol). -o then applies only where the
 * group has no committed offset. Output goes through our own buffer,
 * written with poll(2) in PIPE_BUF pieces to a pipe or socket so that
 * heartbeats (kp_member_tick) keep flowing while the reader is slow; every
 * commit first writes the buffer out, so a commit never covers a line that
 * was not written.
 *
 * EXIT CODES
 *   0  done (-e or -c), interrupted by SIGINT/SIGTERM, or the reader of
 *      standard output went away (EPIPE: quiet, like head(1) expects)
 *   1  failure (no broker, no such topic, a fetch error)
 *   2  bad usage
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cluster.h"
#include "client/consumer.h"
#include "client/group.h"
#include "common.h"
#include "common_client.h"
#include "util/config.h"

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_TOPIC("topic to read (with -g: topics, comma separated)"),
	{ 'g', "group", "GROUP", "join consumer group GROUP and commit what is written", NULL, 0 },
	KP_OPT_PARTITION("read only this partition"),
	{ 'o', "offset", "beginning|end|OFFSET|-N",
	  "where to start (default end; with -g: where nothing is committed)",
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
	const char *group; /* -g, or NULL */
};

/* Group mode's output: a buffer written out between polls and before every commit. */
struct out {
	char *buf;
	size_t len, cap;
	bool chunked; /* stdout is a pipe or socket: poll, then write at most PIPE_BUF */
	bool dead;    /* the reader went away */
	kp_member *group;
};

static struct out out;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = stop < 2 ? stop + 1 : 2;
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
	case 'g':
		if (!*arg)
			kp_usage_error("the group must not be empty");
		a->group = arg;
		break;
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

static void out_append(const void *p, size_t n)
{
	if (out.len + n > out.cap) {
		size_t cap = out.cap ? out.cap : 1 << 16;
		while (cap < out.len + n)
			cap *= 2;
		char *b = realloc(out.buf, cap);
		if (!b)
			kp_die("out of memory");
		out.buf = b;
		out.cap = cap;
	}
	memcpy(out.buf + out.len, p, n);
	out.len += n;
}

/* Wait until stdout can take more, sending heartbeats meanwhile; false when it cannot. */
static bool out_wait(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
	kp_error err;
	int n;

	for (;;) {
		if (kp_member_tick(out.group, &err) < 0)
			kp_die("%s", err.msg);
		n = poll(&pfd, 1, 100);
		if (n > 0)
			return !(pfd.revents & (POLLERR | POLLHUP)) || (pfd.revents & POLLOUT);
		if (n < 0 && errno != EINTR)
			return false;
		if (stop > 1) /* a second signal: give up the unwritten lines (not committed) */
			return false;
	}
}

/*
 * Write the whole buffer to stdout (the group's flush callback). Returns
 * 0, or -1 when the reader went away (out.dead) or gave up, so nothing
 * is committed.
 */
static int out_flush(void *opaque)
{
	size_t done = 0;

	(void)opaque;
	if (out.len == 0)
		return out.dead ? -1 : 0;
	while (done < out.len && !out.dead) {
		size_t n = out.len - done;
		if (out.chunked) {
			if (!out_wait()) {
				out.dead = true;
				break;
			}
			n = n > PIPE_BUF ? PIPE_BUF : n;
		}
		ssize_t w = write(STDOUT_FILENO, out.buf + done, n);
		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno == EPIPE)
			out.dead = true;
		else if (w < 0 && errno != EINTR && errno != EAGAIN)
			kp_die("cannot write to standard output: %s", strerror(errno));
	}
	memmove(out.buf, out.buf + done, out.len - done);
	out.len -= done;
	return out.dead ? -1 : 0;
}

/* check_reader for group mode: note that the reader has gone instead of exiting. */
static void check_reader_group(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		out.dead = true;
}

static int on_record(const char *topic, int32_t partition, const struct kp_record *rec,
		     void *opaque)
{
	struct args *a = opaque;

	if (a->group) {
		if (a->c.delim) {
			if (rec->key_len > 0)
				out_append(rec->key, (size_t)rec->key_len);
			out_append(a->c.delim, strlen(a->c.delim));
		}
		if (rec->value_len > 0)
			out_append(rec->value, (size_t)rec->value_len);
		out_append("\n", 1);
		a->seen++;
		if (out.len >= (1 << 20))
			out_flush(NULL);
		return (a->count >= 0 && a->seen >= a->count) || stop || out.dead;
	}

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

/* Split the -t list "a,b" into names pointing into *copy (free both). */
static size_t split_topics(const char *list, const char ***topics, char **copy)
{
	char *save = NULL;
	size_t n = 0;

	*copy = strdup(list);
	*topics = calloc(strlen(list) + 1, sizeof **topics);
	if (!*copy || !*topics)
		kp_die("out of memory");
	for (char *t = strtok_r(*copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		(*topics)[n++] = t;
	if (n == 0)
		kp_usage_error("a topic (-t) is required");
	return n;
}

/* Poll as a group member until -e, -c, a signal, the reader leaving or a failure. */
static void consume_group(struct args *a, kp_member *g)
{
	kp_error err;

	while (!stop && !out.dead) {
		if (a->count >= 0 && a->seen >= a->count)
			break;
		if (a->exit_at_end && kp_member_at_end(g))
			break;
		if (out_flush(NULL) < 0)
			break;
		check_reader_group();
		if (kp_member_poll(g, on_record, a, &err) < 0) {
			out_flush(NULL);
			kp_die("%s", err.msg);
		}
	}
	if (!out.dead)
		out_flush(NULL);
	if (kp_member_close(g, !out.dead, &err) < 0)
		kp_die("%s", err.msg);
}

/* kconsume -g: read what the group assigns, from its committed offsets. */
static void run_group(struct args *a, kp_cluster *cluster, kp_consumer *c,
		      const struct kp_member_config *gc)
{
	const char **topics;
	char *copy;
	size_t n = split_topics(a->c.topic, &topics, &copy);
	struct stat st;
	kp_error err;

	out.chunked = fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	out.group = kp_member_new(cluster, c, a->group, gc, topics, n, a->whence, a->value, out_flush,
				 NULL, &err);
	if (!out.group)
		kp_die("%s", err.msg);
	if (a->count != 0)
		consume_group(a, out.group);
	kp_member_free(out.group);
	free(out.buf);
	free(copy);
	free(topics);
}

int main(int argc, char **argv)
{
	struct args a = { .whence = KP_SEEK_END, .count = -1 };
	struct kp_member_config gc;
	static char obuf[1 << 20];
	kp_cluster *cluster;
	kp_consumer *c;
	kp_error err;
	int first;

	kp_client_args_init(&a.c);
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	if (a.group && a.c.partition >= 0)
		kp_usage_error("-p and -g exclude each other (the group assigns the partitions)");
	if (a.group && kp_member_config_read(a.c.cfg, &gc, &err) < 0)
		kp_usage_error("%s", err.msg);
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	install_signals();
	cluster = kp_client_connect(&a.c);
	if (!(c = kp_consumer_new(cluster, a.c.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.c.cfg);
	if (a.group) {
		run_group(&a, cluster, c, &gc);
	} else {
		if (kp_consumer_assign(c, a.c.topic, a.c.partition, a.whence, a.value, &err) < 0)
			kp_die("%s", err.msg);
		if (a.count != 0)
			consume(&a, c);
	}
	kp_consumer_free(c);
	kp_cluster_free(cluster);
	return KP_EXIT_OK;
}
