/*
 * kproduce - write the lines of standard input as records to a Kafka topic.
 *
 * USAGE
 *   kproduce [-b HOST:PORT[,...]] [-t TOPIC] [-p PARTITION] [-k DELIM]
 *            [-H NAME=VALUE]... [-J] [-D DELIM] [-0] [-a 0|1|all] [-z CODEC]
 *            [--linger-ms=MS] [--batch-size=BYTES] [--timestamp=TIME]
 *            [-X KEY=VALUE]... [-F FILE]
 *
 * One record per input line, the trailing "\n" removed (nothing else: a
 * "\r" stays); an empty line is an empty (not null) value; a last line
 * without "\n" is still a record; empty input writes nothing. -D (kcat's
 * escapes) or -0 (NUL) cut records at another delimiter. With -k, the key
 * is the bytes before the first DELIM and the value those after; a line
 * without DELIM has a null key (like kcat -K). -H adds a header to every
 * record. With -J every line is a JSON record (lib/client/record_json.h:
 * topic, partition, key, value, headers, timestamp, with base64 for bytes
 * that are not UTF-8), what kconsume -J writes; -t and -p then override
 * the lines' topic and partition. Without -p (or a partition in the
 * line), keyed records go where the Java client puts them and unkeyed
 * ones to a sticky partition. Records get the current time unless
 * --timestamp or the line's "timestamp" gives one.
 *
 * -X sets Kafka producer properties (linger.ms, batch.size, acks,
 * enable.idempotence, max.in.flight.requests.per.connection, ...); -a,
 * -z, --linger-ms and --batch-size set four of them. Batches are sent
 * when full, and when input pauses for linger.ms (5). With acks=all the
 * producer is idempotent and keeps up to 5 requests in flight per broker
 * (lib/client/producer.h). Input is streamed: memory holds the current
 * record, the open batches and a few sealed ones per partition
 * (buffer.memory bounds them while the broker is slow or unreachable),
 * never the whole input. On a terminal, standard error shows progress.
 *
 * EXIT CODES
 *   0  every record was acknowledged (acks=0: written to the socket)
 *   1  a record failed, the topic does not exist, no broker was reachable,
 *      a -J line is not a JSON record
 *   2  bad usage
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cluster.h"
#include "client/producer.h"
#include "client/record_format.h"
#include "client/record_json.h"
#include "client/timestamp.h"
#include "common.h"
#include "common_client.h"
#include "kproduce_input.h"
#include "kproduce_progress.h"
#include "util/config.h"

enum { OPT_LINGER = 0x100, OPT_BATCH_SIZE, OPT_TIMESTAMP };

static const struct kp_opt opts[] = {
	KP_OPT_BROKER,
	{ 't', "topic", "TOPIC", "topic to write to (required unless -J lines name theirs)", NULL, 0 },
	KP_OPT_PARTITION("write every record to this partition"),
	KP_OPT_KEY_DELIMITER("split each line into key DELIM value"),
	{ 'H', "header", "NAME=VALUE", "add this header to every record (repeatable)", NULL,
	  KP_OPT_REPEAT },
	{ 'J', "json", NULL, "read JSON records, one a line (what kconsume -J writes)", NULL, 0 },
	{ 'D', "delimiter", "DELIM", "end records at DELIM, not newline (\\n \\t \\xHH escapes)",
	  NULL, 0 },
	{ '0', "null", NULL, "end records at NUL bytes (find -print0)", NULL, 0 },
	{ 'a', "acks", "0|1|all", "acknowledgements to wait for (default all)", "0 1 all", 0 },
	{ 'z', "compression", "CODEC", "none, gzip, snappy, lz4 or zstd (default none)",
	  "none gzip snappy lz4 zstd", 0 },
	{ OPT_LINGER, "linger-ms", "MS", "wait up to MS for a batch to fill (linger.ms, default 5)",
	  NULL, 0 },
	{ OPT_BATCH_SIZE, "batch-size", "BYTES", "largest batch per partition (batch.size)", NULL, 0 },
	{ OPT_TIMESTAMP, "timestamp", "TIME", "timestamp of every record: ms since the epoch or ISO 8601",
	  NULL, 0 },
	KP_OPT_PROPERTY("set a producer property (repeatable)"),
	KP_OPT_CONFIG_FILE,
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

static const struct kp_cmd cmd = {
	"kproduce", "write the lines of standard input as records to a Kafka topic", NULL, opts,
};

struct args {
	struct kp_client_args c;       /* -b -t -p -k -X -F */
	bool json;                     /* -J */
	kp_buf delim;                  /* -D or -0; empty: "\n" */
	struct kp_record_header *hdrs; /* -H, strings borrowed from argv */
	int32_t nhdrs;
	bool has_ts;                   /* --timestamp */
	int64_t ts;
};

/* -H NAME=VALUE (NAME alone: a null value, as kcat -H does). */
static void add_header(struct args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct kp_record_header *h = realloc(a->hdrs, (size_t)(a->nhdrs + 1) * sizeof *h);

	if (!h)
		kp_die("out of memory");
	a->hdrs = h;
	h = &a->hdrs[a->nhdrs++];
	h->key = arg;
	h->key_len = (int32_t)(eq ? (size_t)(eq - arg) : strlen(arg));
	h->value = eq ? (const uint8_t *)eq + 1 : NULL;
	h->value_len = eq ? (int32_t)strlen(eq + 1) : -1;
	if (h->key_len == 0)
		kp_usage_error("a header needs a name: -H NAME=VALUE, not '%s'", arg);
}

/* A whole number option that becomes producer property `key`. */
static void number_property(struct args *a, const char *opt, const char *key, const char *arg,
			    int64_t max)
{
	int64_t v;

	if (kp_parse_int64(arg, 0, max, &v) < 0)
		kp_usage_error("%s must be a whole number from 0 to %lld, not '%s'", opt, (long long)max,
			       arg);
	kp_config_set(a->c.cfg, key, arg, NULL);
}

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;
	kp_error err;

	if (kp_client_opt(&a->c, id, arg))
		return 0;
	switch (id) {
	case 'a':
		if (strcmp(arg, "0") && strcmp(arg, "1") && strcmp(arg, "all") && strcmp(arg, "-1"))
			kp_usage_error("--acks must be 0, 1 or all, not '%s'", arg);
		kp_config_set(a->c.cfg, "acks", arg, NULL);
		break;
	case 'z':
		if (kp_compression_parse(arg) < 0)
			kp_usage_error("unknown compression '%s'", arg);
		kp_config_set(a->c.cfg, "compression.type", arg, NULL);
		break;
	case 'H': add_header(a, arg); break;
	case 'J': a->json = true; break;
	case 'D':
		kp_buf_reset(&a->delim);
		kp_unescape(arg, &a->delim);
		if (a->delim.len == 0)
			kp_usage_error("the record delimiter must not be empty");
		break;
	case '0':
		kp_buf_reset(&a->delim);
		kp_buf_put_i8(&a->delim, 0);
		break;
	case OPT_LINGER: number_property(a, "--linger-ms", "linger.ms", arg, 1000000); break;
	case OPT_BATCH_SIZE: number_property(a, "--batch-size", "batch.size", arg, INT32_MAX); break;
	case OPT_TIMESTAMP:
		if (kp_timestamp_parse(arg, &a->ts, &err) < 0)
			kp_usage_error("%s", err.msg);
		a->has_ts = true;
		break;
	default: return -1;
	}
	return 0;
}

static _Noreturn void die_failed(kp_producer *p, const kp_error *err)
{
	int64_t tag = kp_producer_failed_tag(p);

	if (tag > 0)
		kp_die("record at line %lld %s", (long long)tag, err->msg);
	kp_die("%s", err->msg);
}

/* Deliver what came before a bad input line, then exit 1 naming it. */
static _Noreturn void die_line(kp_producer *p, int64_t lineno, const char *msg)
{
	kp_error err;

	if (kp_producer_flush(p, &err) < 0)
		die_failed(p, &err);
	kp_die("line %lld: %s", (long long)lineno, msg);
}

/* rec's headers followed by -H's, in `scratch` (grown as needed). */
static void with_headers(const struct args *a, struct kp_record *rec,
			 struct kp_record_header **scratch, size_t *cap)
{
	size_t n = (size_t)rec->header_count + (size_t)a->nhdrs;

	if (a->nhdrs == 0)
		return;
	if (rec->header_count == 0) {
		rec->headers = a->hdrs;
		rec->header_count = a->nhdrs;
		return;
	}
	if (n > *cap) {
		struct kp_record_header *h = realloc(*scratch, n * sizeof *h);
		if (!h)
			kp_die("out of memory");
		*scratch = h;
		*cap = n;
	}
	memcpy(*scratch, rec->headers, (size_t)rec->header_count * sizeof **scratch);
	memcpy(*scratch + rec->header_count, a->hdrs, (size_t)a->nhdrs * sizeof **scratch);
	rec->headers = *scratch;
	rec->header_count = (int32_t)n;
}

/* State of a -J run. */
struct json_in {
	struct kp_json_record jr;
	struct kp_record_header *hdrs;
	size_t cap;
};

/* Whether the `len` bytes at `line` are only blanks (a -J line that is skipped). */
static bool blank(const uint8_t *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* Send the JSON record of line `lineno`. */
static void send_json(const struct args *a, kp_producer *p, struct json_in *ji, const uint8_t *line,
		      size_t len, int64_t lineno)
{
	struct kp_record rec;
	const char *topic;
	unsigned flags = 0;
	kp_error err;

	if (blank(line, len))
		return;
	if (kp_record_json_decode((const char *)line, len, &ji->jr, &err) < 0)
		die_line(p, lineno, err.msg);
	if (!(topic = a->c.topic ? a->c.topic : ji->jr.topic))
		die_line(p, lineno, "the record names no topic (give one with -t)");
	rec = ji->jr.rec;
	with_headers(a, &rec, &ji->hdrs, &ji->cap);
	if (ji->jr.has_timestamp || a->has_ts)
		flags = KP_SEND_TIMESTAMP;
	if (!ji->jr.has_timestamp && a->has_ts)
		rec.timestamp = a->ts;
	if (kp_producer_send_flags(p, topic, a->c.partition >= 0 ? a->c.partition : ji->jr.partition,
				   &rec, flags, lineno, &err) < 0)
		die_failed(p, &err);
}

/* Send line `lineno` as a record (split at -k, with -H headers). */
static void send_line(const struct args *a, kp_producer *p, const uint8_t *line, size_t len,
		      int64_t lineno)
{
	struct kp_record rec;
	kp_error err;

	if (len > INT32_MAX)
		kp_die("line %lld is too long (%zu bytes)", (long long)lineno, len);
	memset(&rec, 0, sizeof rec);
	if (a->c.delim) {
		kp_split_key(line, len, a->c.delim, strlen(a->c.delim), &rec.key, &rec.key_len,
			     &rec.value, &rec.value_len);
	} else {
		rec.key_len = -1;
		rec.value = line;
		rec.value_len = (int32_t)len;
	}
	rec.headers = a->hdrs;
	rec.header_count = a->nhdrs;
	rec.timestamp = a->ts;
	if (kp_producer_send_flags(p, a->c.topic, a->c.partition, &rec,
				   a->has_ts ? KP_SEND_TIMESTAMP : 0, lineno, &err) < 0)
		die_failed(p, &err);
}

/* Send every record of standard input; exits 1 on any failure. */
static void produce(const struct args *a, kp_producer *p)
{
	struct kp_input in;
	struct kp_progress pr;
	struct json_in ji = { .hdrs = NULL };
	uint8_t *line;
	size_t len;
	int64_t lineno = 0;
	int rc;
	kp_error err;

	kp_input_init(&in, STDIN_FILENO, a->delim.len ? a->delim.data : (const uint8_t *)"\n",
		      a->delim.len ? a->delim.len : 1);
	kp_json_record_init(&ji.jr);
	kp_progress_init(&pr);
	while ((rc = kp_input_next(&in, p, &line, &len, &err)) == 1) {
		lineno++;
		if (a->json)
			send_json(a, p, &ji, line, len, lineno);
		else
			send_line(a, p, line, len, lineno);
		kp_progress_add(&pr, len);
	}
	kp_input_free(&in);
	kp_json_record_clear(&ji.jr);
	free(ji.hdrs);
	if (rc == -1)
		kp_die("cannot read standard input: %s", strerror(errno));
	if (rc == -2 || kp_producer_flush(p, &err) < 0)
		die_failed(p, &err);
	kp_progress_done(&pr);
}

/* Options that exclude each other, and -t unless -J. */
static void check_args(const struct args *a)
{
	if (a->json && a->c.delim)
		kp_usage_error("-J and -k exclude each other (a JSON record has its own key)");
	if (a->json && a->delim.len)
		kp_usage_error("-J reads one JSON record a line: -D and -0 do not apply");
	if (!a->json && !a->c.topic)
		kp_usage_error("a topic (-t) is required");
}

int main(int argc, char **argv)
{
	struct args a = { .nhdrs = 0 };
	kp_cluster *cluster;
	kp_producer *p;
	kp_error err;
	int first;

	kp_client_args_init(&a.c);
	kp_buf_init(&a.delim);
	kp_config_set(a.c.cfg, "linger.ms", "5", NULL); /* Kafka 4.0's default; -X may override */
	if ((first = kp_opt_parse(&cmd, argc, argv, on_opt, &a)) != argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	if (a.delim.oom)
		kp_die("out of memory");
	check_args(&a);
	if (kp_producer_config_check(a.c.cfg, &err) < 0)
		kp_usage_error("%s", err.msg);
	cluster = a.c.topic ? kp_client_connect(&a.c) : kp_client_connect_any(&a.c);
	if (!(p = kp_producer_new(cluster, a.c.cfg, &err)))
		kp_usage_error("%s", err.msg);
	kp_config_free(a.c.cfg);
	produce(&a, p);
	kp_producer_free(p);
	kp_cluster_free(cluster);
	kp_buf_free(&a.delim);
	free(a.hdrs);
	return KP_EXIT_OK;
}
