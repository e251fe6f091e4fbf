/*
 * kconsume - write the records of Kafka topics to standard output, one
 * line each.
 *
 * USAGE
 *   kconsume [-b HOST:PORT[,...]] -t TOPIC[,...] [-g GROUP] [-p PARTITION]
 *            [-o beginning|end|stored|OFFSET|-N|@TIME] [-e] [-c COUNT]
 *            [-k DELIM] [-f FORMAT] [-J] [-D DELIM] [-0]
 *            [--isolation-level=LEVEL] [-X KEY=VALUE]... [-F FILE]
 *
 * Each record is written as its value and "\n" (a null value as an empty
 * line); with -k as key DELIM value (a null key as nothing); -D or -0 end
 * records with another delimiter; -f prints kcat's format strings
 * (lib/client/record_format.h), -J one JSON record a line
 * (lib/client/record_json.h), which kproduce -J reads back. -t names
 * topics, comma separated; an entry starting with ^ is a regular
 * expression matched against the cluster's topics once at the start.
 * Without -p every partition is read. -o: from the first retained
 * offset, from the end (the default: new records only), from the group's
 * committed offset (stored: -g, or -X group.id without joining; where it
 * has none, auto.offset.reset), from OFFSET, from N records before the
 * end of each partition, or from the first record at or after TIME (ms
 * or ISO 8601; ListOffsets by time). An OFFSET outside the partition's
 * offsets starts at its nearest end, with a warning. -e exits once every
 * partition has reached the end it had when kconsume started, even if
 * records keep arriving; -c after COUNT records. --isolation-level
 * read_committed leaves out aborted transactions and stops at the last
 * stable offset. Output is buffered and flushed whenever kconsume waits
 * for the broker; when standard output is a pipe whose reader has gone,
 * kconsume notices it within fetch.max.wait.ms even if no record
 * arrives. -X sets consumer properties (fetch.max.wait.ms,
 * max.partition.fetch.bytes, ...).
 *
 * With -g GROUP kconsume is a member of consumer group GROUP subscribed to
 * the -t topics and reads the partitions the group gives it
 * (lib/client/group.h does the protocol). -o then applies only where the
 * group has no committed offset. Output goes through our own buffer
 * (kconsume_out.h) so that heartbeats keep flowing while the reader is
 * slow; every commit first writes the buffer out, so a commit never
 * covers a line that was not written.
 *
 * EXIT CODES
 *   0  done (-e or -c), interrupted by SIGINT/SIGTERM, or the reader of
 *      standard output went away (EPIPE: quiet, like head(1) expects)
 *   1  failure (no broker, no such topic, a fetch error)
 *   2  bad usage
 *   3  as 0, but of several -t topics some could not be read (no such
 *      topic, no partition -p; each has its message) and were left out
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cluster.h"
#include "client/consumer.h"
#include "client/group.h"
#include "client/timestamp.h"
#include "common.h"
#include "common_client.h"
#include "kconsume_out.h"
#include "kconsume_topics.h"
#include "util/config.h"

enum { OPT_ISOLATION = 0x100 };

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_TOPIC("topics to read, comma separated; ^REGEX matches topic names"),
	{ 'g', "group", "GROUP", "join consumer group GROUP and commit what is written", NULL, 0 },
	KP_OPT_PARTITION("read only this partition"),
	{ 'o', "offset", "beginning|end|stored|OFFSET|-N|@TIME",
	  "where to start (default end; with -g: where nothing is committed)",
	  "beginning end stored", 0 },
	{ 'e', "exit", NULL, "exit when the end of every partition is reached", NULL, 0 },
	{ 'c', "count", "COUNT", "exit after COUNT records", NULL, 0 },
	KP_OPT_KEY_DELIMITER("write key DELIM value"),
	{ 'f', "format", "FORMAT", "write each record as FORMAT (kcat's %t %p %o %k %s %h %T ...)",
	  NULL, 0 },
	{ 'J', "json", NULL, "write JSON records, one a line (kproduce -J reads them)", NULL, 0 },
	{ 'D', "delimiter", "DELIM", "end records with DELIM, not newline (\\n \\t \\xHH escapes)",
	  NULL, 0 },
	{ '0', "null", NULL, "end records with a NUL byte", NULL, 0 },
	{ OPT_ISOLATION, "isolation-level", "LEVEL",
	  "read_uncommitted (default) or read_committed (no aborted transactions)",
	  "read_uncommitted read_committed", 0 },
	KP_OPT_PROPERTY("set a consumer property (repeatable)"),
	KP_OPT_CONFIG_FILE,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

static const struct kp_cmd cmd = {
	"kconsume", "write the records of Kafka topics to standard output", NULL, opts,
};

struct args {
	struct kp_client_args c; /* -b -t -p -k -X -F */
	int whence;
	int64_t value;
	bool offset_given;       /* -o */
	bool stored;             /* -o stored */
	bool exit_at_end;
	int64_t count;           /* -1: unlimited */
	int64_t seen;
	const char *group;       /* -g, or NULL */
	const char *format;      /* -f, or NULL */
	struct kc_style style;
	kp_buf line;             /* one record's text (outside group mode) */
};

static struct kc_out out;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = stop < 2 ? stop + 1 : 2;
}

/* -o @TIME or s@TIME (kcat's form). */
static bool parse_time_offset(struct args *a, const char *s)
{
	kp_error err;

	if (strncmp(s, "s@", 2) == 0)
		s++;
	if (*s != '@')
		return false;
	if (kp_timestamp_parse(s + 1, &a->value, &err) < 0)
		kp_usage_error("%s", err.msg);
	a->whence = KP_SEEK_TIMESTAMP;
	return true;
}

static void parse_offset(struct args *a, const char *s)
{
	int64_t v;

	a->offset_given = true;
	a->stored = false;
	a->value = 0;
	if (strcmp(s, "beginning") == 0) {
		a->whence = KP_SEEK_BEGINNING;
	} else if (strcmp(s, "end") == 0) {
		a->whence = KP_SEEK_END;
	} else if (strcmp(s, "stored") == 0) {
		a->stored = true;
	} else if (parse_time_offset(a, s)) {
		return;
	} else if (kp_parse_int64(s, INT64_MIN + 1, INT64_MAX, &v) == 0) {
		a->whence = v < 0 ? KP_SEEK_END : KP_SEEK_OFFSET;
		a->value = v < 0 ? -v : v;
	} else {
		kp_usage_error("bad offset '%s' (want beginning, end, stored, OFFSET, -N or @TIME)", s);
	}
}

/* -D DELIM / -0: what ends each record. */
static void set_delimiter(struct args *a, const char *escaped)
{
	kp_buf_reset(&a->style.rdelim);
	if (escaped)
		kp_unescape(escaped, &a->style.rdelim);
	else
		kp_buf_put_i8(&a->style.rdelim, 0);
	if (a->style.rdelim.len == 0)
		kp_usage_error("the record delimiter must not be empty");
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
	case 'f': a->format = arg; break;
	case 'J': a->style.json = true; break;
	case 'D': set_delimiter(a, arg); break;
	case '0': set_delimiter(a, NULL); break;
	case OPT_ISOLATION:
		if (strcmp(arg, "read_uncommitted") && strcmp(arg, "read_committed"))
			kp_usage_error("--isolation-level must be read_uncommitted or read_committed, "
				       "not '%s'", arg);
		kp_config_set(a->c.cfg, "isolation.level", arg, NULL);
		break;
	default: return -1;
	}
	return 0;
}

static int on_record(const char *topic, int32_t partition, const struct kp_record *rec,
		     void *opaque)
{
	struct args *a = opaque;

	a->seen++;
	if (a->group) {
		kc_render(&a->style, topic, partition, rec, &out.buf);
		if (out.buf.len >= (1 << 20))
			kc_out_flush(&out);
		return (a->count >= 0 && a->seen >= a->count) || stop || out.dead;
	}
	kp_buf_reset(&a->line);
	kc_render(&a->style, topic, partition, rec, &a->line);
	fwrite(a->line.data, 1, a->line.len, stdout);
	kc_check_output();
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
		kc_check_output();
		kc_check_reader();
		if (kp_consumer_poll(c, on_record, a, &err) < 0) {
			fflush(stdout);
			kp_die("%s", err.msg);
		}
	}
	fflush(stdout);
	kc_check_output();
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
		if (kc_out_flush(&out) < 0)
			break;
		kc_out_check_reader(&out);
		if (kp_member_poll(g, on_record, a, &err) < 0) {
			kc_out_flush(&out);
			kp_die("%s", err.msg);
		}
	}
	if (!out.dead)
		kc_out_flush(&out);
	if (kp_member_close(g, !out.dead, &err) < 0)
		kp_die("%s", err.msg);
}

/* kconsume -g: read what the group assigns, from its committed offsets. */
static void run_group(struct args *a, kp_cluster *cluster, kp_consumer *c,
		      const struct kp_member_config *gc, char **topics, size_t n)
{
	struct stat st;
	kp_error err;

	out.chunked = fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	out.stop = &stop;
	out.group = kp_member_new(cluster, c, a->group, gc, (const char *const *)topics, n, a->whence,
				  a->value, kc_out_flush, &out, &err);
	if (!out.group)
		kp_die("%s", err.msg);
	if (a->count != 0)
		consume_group(a, out.group);
	kp_member_free(out.group);
	kp_buf_free(&out.buf);
}

/*
 * Where a partition without a committed offset starts with -o stored
 * (or, with -g and no -o, when -X auto.offset.reset is set): Kafka's
 * auto.offset.reset, latest unless set.
 */
static void reset_policy(struct args *a)
{
	const char *r = kp_config_get(a->c.cfg, "auto.offset.reset");

	if (a->offset_given && !a->stored)
		return;
	if (!r || strcmp(r, "latest") == 0)
		a->whence = KP_SEEK_END;
	else if (strcmp(r, "earliest") == 0)
		a->whence = KP_SEEK_BEGINNING;
	else if (strcmp(r, "none") == 0)
		a->whence = KP_SEEK_NONE;
	else
		kp_usage_error("auto.offset.reset must be earliest, latest or none, not '%s'", r);
	a->value = 0;
}

/* Options that exclude each other, and what -o stored needs. */
static void check_args(struct args *a, char **stored_group)
{
	const char *g;
	kp_error err;

	if (a->group && a->c.partition >= 0)
		kp_usage_error("-p and -g exclude each other (the group assigns the partitions)");
	if (a->style.json && (a->format || a->c.delim || a->style.rdelim.len))
		kp_usage_error("-J writes JSON records: -f, -k, -D and -0 do not apply");
	if (a->format && (a->c.delim || a->style.rdelim.len))
		kp_usage_error("-f says how to write a record: -k, -D and -0 do not apply");
	if (a->format && !(a->style.fmt = kp_record_format_new(a->format, &err)))
		kp_usage_error("%s", err.msg);
	g = a->stored ? (a->group ? a->group : kp_config_get(a->c.cfg, "group.id")) : NULL;
	if (a->stored && !g)
		kp_usage_error("-o stored needs a group: -g GROUP, or -X group.id=GROUP to read from "
			       "its offsets without joining");
	if (g && !(*stored_group = strdup(g)))
		kp_die("out of memory");
	reset_policy(a);
	a->style.kdelim = a->c.delim;
}

int main(int argc, char **argv)
{
	struct args a = { .whence = KP_SEEK_END, .count = -1 };
	struct kp_member_config gc = { .protocol = 0 };
	static char obuf[1 << 20];
	char *stored_group = NULL;
	kp_cluster *cluster;
	kp_consumer *c;
	char **topics;
	size_t n, nread;
	kp_error err;
	int first;

	kp_client_args_init(&a.c);
	kp_buf_init(&a.style.rdelim);
	kp_buf_init(&a.line);
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	check_args(&a, &stored_group);
	if ((a.group || stored_group) && kp_member_config_read(a.c.cfg, &gc, &err) < 0)
		kp_usage_error("%s", err.msg);
	if (kp_consumer_config_check(a.c.cfg, &err) < 0)
		kp_usage_error("%s", err.msg);
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	install_signals();
	cluster = kp_client_connect(&a.c);
	if (!(c = kp_consumer_new(cluster, a.c.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.c.cfg);
	nread = n = kc_topics(a.c.topic, a.c.brokers, cluster, &topics);
	if (kc_readable(cluster, topics, &nread, a.c.partition) > 0)
		kc_exit_status = KP_EXIT_PARTIAL; /* the others are read */
	if (a.group) {
		run_group(&a, cluster, c, &gc, topics, nread);
	} else {
		struct kc_start st = { a.whence, a.value, a.stored ? stored_group : NULL, &gc };
		kc_assign(cluster, c, topics, nread, a.c.partition, &st);
		if (a.count != 0)
			consume(&a, c);
	}
	kc_topics_free(topics, n);
	kp_consumer_free(c);
	kp_cluster_free(cluster);
	kp_record_format_free(a.style.fmt);
	kp_buf_free(&a.style.rdelim);
	kp_buf_free(&a.line);
	free(stored_group);
	return kc_exit_status;
}
