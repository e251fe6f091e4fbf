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
 * Input is streamed: memory holds the current line, the open batches and
 * at most a few sealed ones per partition (buffer.memory bounds them while
 * the broker is slow or unreachable), never the whole input.
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
#include "common_client.h"
#include "util/config.h"

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	KP_OPT_TOPIC("topic to write to"),
	KP_OPT_PARTITION("write every record to this partition"),
	KP_OPT_KEY_DELIMITER("split each line into key DELIM value"),
	{ 'a', "acks", "0|1|all", "acknowledgements to wait for (default all)", "0 1 all", 0 },
	{ 'z', "compression", "CODEC", "none, gzip, snappy, lz4 or zstd (default none)",
	  "none gzip snappy lz4 zstd", 0 },
	KP_OPT_PROPERTY("set a producer property (repeatable)"),
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

static const struct kp_cmd cmd = {
	"kproduce", "write the lines of standard input as records to a Kafka topic", NULL, opts,
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct kp_client_args *a = ctx;

	if (kp_client_opt(a, id, arg))
		return 0;
	switch (id) {
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

/*
 * Wait until standard input is readable. When nothing arrives within
 * linger.ms, first flush `p` (so that interactive lines are delivered
 * while the writer pauses), then wait without a limit. Returns 0, or -1
 * with the flush failure in `err`.
 */
static int input_wait(struct input *in, kp_producer *p, kp_error *err)
{
	struct pollfd pfd = { .fd = in->fd, .events = POLLIN };

	if (poll(&pfd, 1, kp_producer_linger_ms(p)) != 0)
		return 0;
	if (kp_producer_flush(p, err) < 0)
		return -1;
	poll(&pfd, 1, -1);
	return 0;
}

/* Make room for at least 64 KiB more input, keeping the unread bytes. */
static void input_room(struct input *in)
{
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
}

/*
 * Next line into *line and *len (without "\n", pointing into in->buf until
 * the next call): 1, 0 at the end, -1 on a read error (errno), -2 when the
 * idle flush failed (`err`).
 */
static int input_line(struct input *in, kp_producer *p, uint8_t **line, size_t *len, kp_error *err)
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
		input_room(in);
		if (input_wait(in, p, err) < 0)
			return -2;
		ssize_t n = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
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

/* Send every line of standard input; exits 1 on any failure. */
static void produce(const struct kp_client_args *a, kp_producer *p)
{
	struct input in = { .fd = 0 };
	struct kp_record rec;
	uint8_t *line;
	size_t len;
	int64_t lineno = 0;
	int rc;
	kp_error err;

	while ((rc = input_line(&in, p, &line, &len, &err)) == 1) {
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
	if (rc == -2 || kp_producer_flush(p, &err) < 0)
		die_failed(p, &err);
}

int main(int argc, char **argv)
{
	struct kp_client_args a;
	kp_cluster *cluster;
	kp_producer *p;
	kp_error err;
	int first;

	kp_client_args_init(&a);
	kp_config_set(a.cfg, "linger.ms", "5", NULL); /* Kafka 4.0's default; -X may override */
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	cluster = kp_client_connect(&a);
	if (!(p = kp_producer_new(cluster, a.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.cfg);
	produce(&a, p);
	kp_producer_free(p);
	kp_cluster_free(cluster);
	return KP_EXIT_OK;
}
