/*
 * kproduce - write the lines of standard input as records to a Kafka topic.
 *
 * USAGE
 *   kproduce [-b HOST:PORT[,...]] -t TOPIC [-p PARTITION] [-k DELIM]
 *            [-a 0|1|all] [-z none|gzip|snappy|lz4|zstd] [-X KEY=VALUE]...
 *
 * One record per input line, the trailing "\n" removed (nothing else: a
 * "\r" stays); an empty line is an empty (not null) value; a last line
 * without "\n" is still a record; empty input writes nothing. With -k, the
 * key is the bytes before the first DELIM and the value those after; a line
 * without DELIM has a null key (like kcat -K). Without -p, keyed records go
 * where the Java client puts them and unkeyed ones to a sticky partition.
 * -X sets Kafka producer properties (linger.ms, batch.size, acks, ...).
 * Batches are sent when full, and when input pauses for linger.ms (5).
 *
 * EXIT CODES
 *   0  every record was acknowledged (acks=0: written to the socket)
 *   1  a record failed, the topic does not exist, no broker was reachable
 *   2  bad usage
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cluster.h"
#include "client/producer.h"
#include "common.h"
#include "util/config.h"
#include "util/diag.h"

static const struct kp_opt opts[] = {
	{ 'b', "broker", "HOST:PORT[,...]", "bootstrap brokers (default 127.0.0.1:9092)", NULL, false },
	{ 't', "topic", "TOPIC", "topic to write to", NULL, true },
	{ 'p', "partition", "PARTITION", "write every record to this partition", NULL, false },
	{ 'k', "key-delimiter", "DELIM", "split each line into key DELIM value", NULL, false },
	{ 'a', "acks", "0|1|all", "acknowledgements to wait for (default all)", "0 1 all", false },
	{ 'z', "compression", "CODEC", "none, gzip, snappy, lz4 or zstd (default none)",
	  "none gzip snappy lz4 zstd", false },
	{ 'X', "property", "KEY=VALUE", "set a producer property (repeatable)", NULL, false },
	{ 0, NULL, NULL, NULL, NULL, false },
};

static const struct kp_cmd cmd = {
	"kproduce", "write the lines of standard input as records to a Kafka topic", NULL, opts,
};

struct args {
	const char *brokers;
	const char *topic;
	int32_t partition;
	const char *delim;
	kp_config *cfg;
};

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
	case 'k':
		if (!*arg)
			kp_usage_error("the key delimiter must not be empty");
		a->delim = arg;
		break;
	case 'a':
		if (strcmp(arg, "0") && strcmp(arg, "1") && strcmp(arg, "all") && strcmp(arg, "-1"))
			kp_usage_error("--acks must be 0, 1 or all, not '%s'", arg);
		kp_config_set(a->cfg, "acks", arg, NULL);
		break;
	case 'z':
		if (kp_compression_parse(arg) < 0)
			kp_usage_error("unknown compression '%s'", arg);
		kp_config_set(a->cfg, "compression.type", arg, NULL);
		break;
	case 'X':
		if (kp_config_set_pair(a->cfg, arg, &err) < 0)
			kp_usage_error("%s", err.msg);
		break;
	default: return -1;
	}
	return 0;
}

/* Standard input, read in large blocks and split at "\n". */
struct input {
	int fd;
	uint8_t *buf;
	size_t cap, start, end;
	bool eof;
};

/* Whether more input arrives within `ms` milliseconds (true at EOF). */
static bool input_wait(struct input *in, int ms)
{
	struct pollfd pfd = { .fd = in->fd, .events = POLLIN };

	return poll(&pfd, 1, ms) != 0;
}

/*
 * Next line into *line and *len (without "\n"): 1, 0 at the end, -1 on a read
 * error, -2 when the idle flush failed. Before blocking on a pipe that stays
 * empty for linger.ms, flushes `p` so that records go out promptly.
 */
static int input_line(struct input *in, kp_producer *p, uint8_t **line, size_t *len)
{
	for (;;) {
		uint8_t *nl = in->buf ? memchr(in->buf + in->start, '\n', in->end - in->start) : NULL;
		if (nl || (in->eof && in->start < in->end)) {
			*line = in->buf + in->start;
			*len = nl ? (size_t)(nl - *line) : in->end - in->start;
			in->start += *len + (nl ? 1 : 0);
			return 1;
		}
		if (in->eof)
			return 0;
		if (in->start > 0) {
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		if (in->cap - in->end < 65536) {
			size_t ncap = in->cap ? in->cap * 2 : 1 << 20;
			uint8_t *nb = realloc(in->buf, ncap);
			if (!nb)
				kp_die("out of memory for a line of %zu bytes", in->end);
			in->buf = nb;
			in->cap = ncap;
		}
		if (!input_wait(in, kp_producer_linger_ms(p))) {
			kp_error err;
			if (kp_producer_flush(p, &err) < 0)
				return -2;
		}
		ssize_t n = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			in->eof = true;
		in->end += (size_t)n;
	}
}

static _Noreturn void die_failed(kp_producer *p, const kp_error *err)
{
	int64_t tag = kp_producer_failed_tag(p);

	if (tag > 0)
		kp_die("record at line %lld %s", (long long)tag, err->msg);
	kp_die("%s", err->msg);
}

static int produce(struct args *a, kp_producer *p)
{
	struct input in = { .fd = 0 };
	struct kp_record rec;
	uint8_t *line;
	size_t len;
	int64_t lineno = 0;
	int rc;
	kp_error err;

	while ((rc = input_line(&in, p, &line, &len)) == 1) {
		lineno++;
		if (len > INT32_MAX)
			kp_die("line %lld is too long (%zu bytes)", (long long)lineno, len);
		memset(&rec, 0, sizeof rec);
		if (a->delim)
			kp_split_key(line, len, a->delim, strlen(a->delim), &rec.key, &rec.key_len,
				     &rec.value, &rec.value_len);
		else {
			rec.key_len = -1;
			rec.value = line;
			rec.value_len = (int32_t)len;
		}
		if (kp_producer_send(p, a->topic, a->partition, &rec, lineno, &err) < 0)
			die_failed(p, &err);
	}
	free(in.buf);
	if (rc == -1)
		kp_die("cannot read standard input: %s", strerror(errno));
	if (rc == -2 || kp_producer_flush(p, &err) < 0) {
		kp_producer_flush(p, &err);
		die_failed(p, &err);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .brokers = "127.0.0.1:9092", .partition = -1 };
	kp_cluster *cluster;
	kp_producer *p;
	kp_error err;
	int first;

	if (!(a.cfg = kp_config_new()))
		kp_die("out of memory");
	kp_config_set(a.cfg, "linger.ms", "5", NULL); /* Kafka 4.0's default; -X may override */
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	if (!a.topic)
		kp_usage_error("a topic (-t) is required");
	kp_diag_to_stderr(KP_DIAG_WARN);
	if (!(cluster = kp_cluster_new(a.brokers, a.cfg, &err)))
		kp_die("%s", err.msg);
	if (!(p = kp_producer_new(cluster, a.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.cfg);
	produce(&a, p);
	kp_producer_free(p);
	kp_cluster_free(cluster);
	return KP_EXIT_OK;
}
