/*
 * fuzz_log_recover.c - libFuzzer target: log recovery (kp_log_open) over a
 * segment whose .log file is a valid 3-record batch followed by arbitrary
 * bytes, as after a crash or disk corruption, and over what kp_log_append
 * accepted from a client.
 *
 * Input: flags byte, then optional parts, then the .log tail:
 *   flags & 1   u8 n, n bytes: the .index file
 *   flags & 2   u8 n, n bytes: the .timeindex file
 *   flags & 4   u8 r: a recovery-point file holding r (data below is trusted)
 *   flags & 8   log.index.interval.bytes 0 (an index entry per batch), else 100
 *   flags & 16  log.index.size.max.bytes 24 (indexes fill up at once)
 *   flags & 32  log.segment.bytes 200 (the append below rolls a new segment)
 *   flags & 64  recompute the CRCs of the tail's batches (fuzz_fix_crcs)
 *   flags & 128 the tail is not written into the .log but appended after
 *               open with kp_log_append, as a Produce request would
 * The partition directory lives in /dev/shm when there is one (cheap fsync).
 *
 * kp_log_open must succeed or fail with KP_ECORRUPT/KP_EIO. When it
 * succeeds, an appended tail either is refused whole or takes the next
 * offsets; a valid batch appends at the old end and reads back with the
 * same records. Without a recovery point also: the valid first batch
 * survives, every batch kp_log_read returns from the start offset to the
 * end passes kp_batch_validate and holds the offset asked for, and a clean
 * close and reopen keeps the end offset. With one, the data below it is
 * trusted unchecked (as Kafka does), so reads and a lookup by time there
 * need only be memory-safe.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log/log.h"
#include "protocol/errors.h"
#include "record/batch.h"
#include "record/records.h"

#define SEG "00000000000000000000"

static char root[64], dir[96];
static kp_buf first, extra; /* the valid 3-record prefix batch; the 2-record batch appended */

static void rm_dir_files(const char *d)
{
	char path[512];
	struct dirent *de;
	DIR *dh = opendir(d);

	if (!dh)
		return;
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", d, de->d_name);
			unlink(path);
		}
	closedir(dh);
}

static void cleanup(void)
{
	rm_dir_files(dir);
	rmdir(dir);
	rmdir(root);
}

static void build(kp_buf *out, int n, const char *tag)
{
	kp_batch_builder *b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, NULL);
	char key[16], value[32];

	FUZZ_CHECK(b != NULL);
	for (int i = 0; i < n; i++) {
		struct kp_record r = { 0 };
		r.timestamp = 1700000000000 + i;
		r.key_len = snprintf(key, sizeof key, "%s%d", tag, i);
		r.key = (const uint8_t *)key;
		r.value_len = snprintf(value, sizeof value, "value %s %d", tag, i);
		r.value = (const uint8_t *)value;
		FUZZ_CHECK(kp_batch_builder_add(b, &r, NULL) == 0);
	}
	FUZZ_CHECK(kp_batch_builder_finish(b, -1, out, NULL) == 0);
	kp_batch_builder_free(b);
}

static void setup(void)
{
	snprintf(root, sizeof root, "%s/kpfuzz-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	FUZZ_CHECK(mkdtemp(root) != NULL);
	snprintf(dir, sizeof dir, "%s/t-0", root);
	build(&first, 3, "a");
	build(&extra, 2, "b");
	atexit(cleanup);
}

static void write_file(const char *name, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2)
{
	char path[160];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, p1, n1) == (ssize_t)n1 && (n2 == 0 || write(fd, p2, n2) == (ssize_t)n2));
	close(fd);
}

/* part - the next optional part of the input: u8 length and that many bytes. */
static bool part(const uint8_t **p, size_t *left, const uint8_t **q, size_t *n)
{
	if (*left < 1 || *left - 1 < (*p)[0])
		return false;
	*n = (*p)[0];
	*q = *p + 1;
	*p += 1 + *n;
	*left -= 1 + *n;
	return true;
}

/* read_all - read every batch from the start offset to the end, one kp_log_read at a time. */
static void read_all(kp_log *log)
{
	int64_t offset = kp_log_start_offset(log), end = kp_log_end_offset(log);
	struct kp_batch_header h;
	kp_error err;
	kp_buf out;
	long n;

	kp_buf_init(&out);
	while (offset < end) {
		kp_buf_reset(&out);
		FUZZ_CHECK(kp_log_read(log, offset, INT64_MAX, 1, &out, &err) == 0);
		FUZZ_CHECK(out.len > 0);
		n = kp_batch_validate(out.data, out.len, &h, &err);
		FUZZ_CHECK(n > 0 && (size_t)n == out.len);
		FUZZ_CHECK(h.base_offset + h.last_offset_delta >= offset);
		offset = h.base_offset + h.last_offset_delta + 1;
	}
	FUZZ_CHECK(offset == end);
	kp_buf_free(&out);
}

/* read_any - reads and a lookup by time that may fail (trusted data is not checked) but must be safe. */
static void read_any(kp_log *log)
{
	int64_t ts;
	kp_error err;
	kp_buf out;

	kp_buf_init(&out);
	for (int64_t offset = 0; offset < 4; offset++) {
		kp_buf_reset(&out);
		kp_log_read(log, offset, INT64_MAX, 1 << 16, &out, &err);
	}
	kp_log_offset_for_timestamp(log, 0, &ts, &err);
	kp_buf_free(&out);
}

/*
 * append_tail - append `len` bytes at `tail` as a Produce would: refused
 * whole (malformed; or an idempotent producer's batch out of sequence or
 * from an older epoch), answered as a retry of a batch the log has
 * (nothing written), or in sequence.
 */
static void append_tail(kp_log *log, uint8_t *tail, size_t len)
{
	int64_t end = kp_log_end_offset(log), base, last;
	kp_error err;
	int rc = kp_log_append(log, tail, len, 0, &base, &last, NULL, &err);

	if (rc < 0) {
		FUZZ_CHECK(err.code == KP_ECORRUPT || err.code == KP_EPROTO ||
			   (err.code == KP_EKAFKA &&
			    (err.kafka_code == KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER ||
			     err.kafka_code == KP_ERR_INVALID_PRODUCER_EPOCH)));
		FUZZ_CHECK(kp_log_end_offset(log) == end);
		return;
	}
	if (rc == 1) {
		FUZZ_CHECK(kp_log_end_offset(log) == end && base <= last && last < end);
		return;
	}
	FUZZ_CHECK(base == end && last >= base && kp_log_end_offset(log) == last + 1);
}

/* append_and_read - append `extra` and read it back record by record. */
static void append_and_read(kp_log *log)
{
	int64_t end = kp_log_end_offset(log), base, last;
	kp_record_iter *a, *b;
	struct kp_record ra, rb;
	kp_error err;
	kp_buf copy, out;
	int x, y;

	kp_buf_init(&copy);
	kp_buf_init(&out);
	kp_buf_append(&copy, extra.data, extra.len);
	FUZZ_CHECK(kp_log_append(log, copy.data, copy.len, 5, &base, &last, NULL, &err) == 0);
	FUZZ_CHECK(base == end && last == end + 1 && kp_log_end_offset(log) == end + 2);
	FUZZ_CHECK(kp_log_read(log, base, INT64_MAX, 1, &out, &err) == 0);
	FUZZ_CHECK(kp_batch_validate(out.data, out.len, NULL, &err) == (long)extra.len);
	a = kp_record_iter_new(extra.data, extra.len, INT64_MIN);
	b = kp_record_iter_new(out.data, out.len, INT64_MIN);
	FUZZ_CHECK(a && b);
	do {
		x = kp_record_iter_next(a, &ra, &err);
		y = kp_record_iter_next(b, &rb, &err);
		FUZZ_CHECK(x == y && x >= 0);
		if (x == 1) {
			FUZZ_CHECK(rb.offset == base + ra.offset);
			FUZZ_CHECK(rb.value_len == ra.value_len &&
				   memcmp(rb.value, ra.value, (size_t)ra.value_len) == 0);
		}
	} while (x == 1);
	kp_record_iter_free(a);
	kp_record_iter_free(b);
	kp_buf_free(&copy);
	kp_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *q;
	size_t left = size, n;
	struct kp_log_config cfg;
	bool trusted = false;
	kp_log *log;
	kp_error err;
	int64_t end;
	uint8_t flags, *tail;
	char text[8];

	if (!root[0])
		setup();
	if (size < 1)
		return 0;
	flags = *p++;
	left--;
	rm_dir_files(dir);
	mkdir(dir, 0755);
	if ((flags & 1) && part(&p, &left, &q, &n))
		write_file(SEG ".index", q, n, NULL, 0);
	if ((flags & 2) && part(&p, &left, &q, &n))
		write_file(SEG ".timeindex", q, n, NULL, 0);
	if ((flags & 4) && left > 0) {
		n = (size_t)snprintf(text, sizeof text, "%u\n", *p++);
		left--;
		write_file("recovery-point", (const uint8_t *)text, n, NULL, 0);
		trusted = true;
	}
	tail = malloc(left ? left : 1);
	FUZZ_CHECK(tail != NULL);
	memcpy(tail, p, left);
	if (flags & 64)
		fuzz_fix_crcs(tail, left);
	write_file(SEG ".log", first.data, first.len, tail, (flags & 128) ? 0 : left);

	kp_log_config_default(&cfg);
	cfg.index_interval_bytes = (flags & 8) ? 0 : 100;
	if (flags & 16)
		cfg.max_index_bytes = 24;
	if (flags & 32)
		cfg.segment_bytes = 200;
	if (kp_log_open(dir, &cfg, &log, &err) < 0) {
		FUZZ_CHECK(err.code == KP_ECORRUPT || err.code == KP_EIO);
		free(tail);
		return 0;
	}
	FUZZ_CHECK(kp_log_start_offset(log) == 0);
	if (flags & 128)
		append_tail(log, tail, left);
	free(tail);
	if (!trusted) {
		FUZZ_CHECK(kp_log_end_offset(log) >= 3);
		read_all(log);
	} else {
		read_any(log);
	}
	append_and_read(log);
	if (!trusted)
		read_all(log);
	end = kp_log_end_offset(log);
	kp_log_close(log);
	if (!trusted) {
		FUZZ_CHECK(kp_log_open(dir, &cfg, &log, &err) == 0);
		FUZZ_CHECK(kp_log_end_offset(log) == end);
		read_all(log);
		kp_log_close(log);
	}
	return 0;
}
