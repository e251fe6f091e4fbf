/*
 * test_log_recover.c - unit tests of log recovery (lib/log/recover.c) on
 * damaged segment files: a missing, corrupt, torn or inconsistent offset
 * or time index is rebuilt from the .log (the files end up byte for byte
 * as the appends wrote them, and reads and lookups by time answer as
 * before), and a torn or corrupt .log tail is cut at the last good batch
 * and reported through kp_diag (lib/ never prints) with the offsets and
 * bytes concerned. Each test works in its own mkdtemp directory:
 *
 *   /tmp/kprec-XXXXXX/
 *   `-- t-0/                 the partition directory
 *       |-- 00000000000000000000.log / .index / .timeindex
 *       `-- recovery-point
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "record/batch.h"
#include "util/buf.h"
#include "util/diag.h"

#define LOG_FIXTURE_TEMPLATE "/tmp/kprec-XXXXXX"
#include "log_fixture.h"

#define BATCHES 10 /* per log: 2 records each, 85 bytes, timestamps 100, 110, ... */
#define BATCH_BYTES 85

/* the WARN and ERROR lines kp_diag gave the sink since the last reset, '\n'-separated */
static char diag_text[8192];

static void diag_sink(int level, const char *line, void *opaque)
{
	size_t n = strlen(diag_text);

	(void)opaque;
	if (level <= KP_DIAG_WARN && n + strlen(line) + 2 < sizeof diag_text)
		snprintf(diag_text + n, sizeof diag_text - n, "%s\n", line);
}

static int setup_diag(void **state)
{
	diag_text[0] = 0;
	kp_diag_set_sink(diag_sink, NULL);
	return setup(state);
}

static int teardown_diag(void **state)
{
	kp_diag_set_sink(NULL, NULL);
	return teardown(state);
}

static char *seg_file(struct fx *f, const char *ext)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%020d%s", f->dir, 0, ext);
	return path;
}

/* an index entry for every batch but the first, so that every entry can be checked */
static void dense_config(struct kp_log_config *cfg)
{
	kp_log_config_default(cfg);
	cfg->index_interval_bytes = 0;
}

/* read_file - the bytes of the file at `path` (free()); *n their count. */
static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p;
	long len;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	p = malloc((size_t)len + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return p;
}

/* pwrite_file - write `n` bytes at `pos` into the file at `path`. */
static void pwrite_file(const char *path, const void *p, size_t n, off_t pos)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, pos), (ssize_t)n);
	close(fd);
}

static void append_file(const char *path, const void *p, size_t n)
{
	pwrite_file(path, p, n, file_size(path));
}

/* write_log - BATCHES batches appended and the log closed cleanly (recovery point at the end). */
static void write_log(struct fx *f, const struct kp_log_config *cfg)
{
	kp_log *log = open_log(f, cfg);
	kp_error err;
	kp_buf b;

	for (int i = 0; i < BATCHES; i++) {
		kp_buf_init(&b);
		put_batch(&b, 0, 3, 2, 100 + 10 * i, "hello");
		if (kp_log_append(log, b.data, b.len, 3, NULL, NULL, NULL, &err) < 0)
			fail_msg("append: %s", err.msg);
		kp_buf_free(&b);
	}
	kp_log_close(log);
	assert_int_equal(file_size(seg_file(f, ".log")), BATCHES * BATCH_BYTES);
}

/* the .index and .timeindex bytes of a log */
struct indexes {
	uint8_t *oix, *tix;
	size_t noix, ntix;
};

static void save_indexes(struct fx *f, struct indexes *ix)
{
	ix->oix = read_file(seg_file(f, ".index"), &ix->noix);
	ix->tix = read_file(seg_file(f, ".timeindex"), &ix->ntix);
	assert_int_equal(ix->noix, (BATCHES - 1) * 8);
	assert_true(ix->ntix >= (BATCHES - 1) * 12);
}

/*
 * check_log - reopen after the damage: the log ends at `end`, every offset
 * reads back from its own batch, every timestamp finds its batch, and once
 * closed again the index files are `want`'s (NULL: not compared).
 */
static void check_log(struct fx *f, const struct kp_log_config *cfg, int64_t end, const struct indexes *want)
{
	kp_log *log = open_log(f, cfg);
	struct indexes got;
	int64_t ts, max_off;
	kp_error err;
	kp_buf out;

	assert_int_equal(kp_log_end_offset(log), end);
	for (int64_t o = 0; o < end; o++) {
		kp_buf_init(&out);
		if (kp_log_read(log, o, INT64_MAX, 1, &out, &err) < 0)
			fail_msg("read %lld: %s", (long long)o, err.msg);
		assert_true(out.len == BATCH_BYTES);
		assert_int_equal((int64_t)kp_load_u64(out.data), o & ~1);
		assert_true(kp_batch_validate(out.data, out.len, NULL, &err) == BATCH_BYTES);
		kp_buf_free(&out);
	}
	for (int i = 0; i < end / 2; i++) {
		assert_int_equal(kp_log_offset_for_timestamp(log, 100 + 10 * i - 5, &ts, &err), 2 * i);
		assert_int_equal(ts, 100 + 10 * i);
	}
	assert_int_equal(kp_log_offset_for_timestamp(log, 100 + 10 * (end / 2), NULL, &err), -1);
	assert_true(kp_log_max_timestamp(log, &ts, &max_off));
	assert_int_equal(ts, 100 + 10 * (end / 2 - 1));
	assert_int_equal(max_off, end - 1);
	kp_log_close(log);
	if (!want)
		return;
	got.oix = read_file(seg_file(f, ".index"), &got.noix);
	got.tix = read_file(seg_file(f, ".timeindex"), &got.ntix);
	assert_int_equal(got.noix, want->noix);
	assert_memory_equal(got.oix, want->oix, want->noix);
	assert_int_equal(got.ntix, want->ntix);
	assert_memory_equal(got.tix, want->tix, want->ntix);
	free(got.oix);
	free(got.tix);
}

static void free_indexes(struct indexes *ix)
{
	free(ix->oix);
	free(ix->tix);
}

/* diag_has - whether a WARN/ERROR line so far contains `text`. */
static bool diag_has(const char *text)
{
	return strstr(diag_text, text) != NULL;
}

static void test_missing_index_rebuilt(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	assert_int_equal(unlink(seg_file(f, ".index")), 0);
	check_log(f, &cfg, 2 * BATCHES, &want);
	assert_true(diag_has("rebuilding"));
	free_indexes(&want);
}

static void test_missing_timeindex_rebuilt(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	assert_int_equal(unlink(seg_file(f, ".timeindex")), 0);
	check_log(f, &cfg, 2 * BATCHES, &want);
	assert_true(diag_has("rebuilding"));
	free_indexes(&want);
}

/* garbage over a time index entry (a timestamp going back) */
static void test_corrupt_timeindex_rebuilt(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;
	uint8_t junk[12];

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	memset(junk, 0x5a, sizeof junk);
	kp_store_u64(junk, 7); /* below the first entry's timestamp */
	pwrite_file(seg_file(f, ".timeindex"), junk, sizeof junk, 4 * 12);
	check_log(f, &cfg, 2 * BATCHES, &want);
	assert_true(diag_has("rebuilding"));
	free_indexes(&want);
}

/* a torn last entry in each index (a partial write): dropped, the entries before it kept */
static void test_torn_index_entries(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	append_file(seg_file(f, ".index"), "\0\0\0", 3);
	append_file(seg_file(f, ".timeindex"), "\0\0\0\0\0\0\0", 7);
	check_log(f, &cfg, 2 * BATCHES, &want);
	free_indexes(&want);
}

/*
 * An offset index entry that points into the middle of a batch (the last
 * trusted one is checked against the batch there) and one that points
 * past the end of the .log: both indexes are rebuilt.
 */
static void test_inconsistent_index_rebuilt(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;
	uint8_t entry[8];

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	memcpy(entry, want.oix + want.noix - 8, 8);
	kp_store_u32(entry + 4, kp_load_u32(entry + 4) + 1);
	pwrite_file(seg_file(f, ".index"), entry, 8, (off_t)want.noix - 8);
	check_log(f, &cfg, 2 * BATCHES, &want);
	assert_true(diag_has("rebuilding"));

	diag_text[0] = 0;
	kp_store_u32(entry, 2 * BATCHES + 5);
	kp_store_u32(entry + 4, BATCHES * BATCH_BYTES + 100);
	append_file(seg_file(f, ".index"), entry, 8);
	check_log(f, &cfg, 2 * BATCHES, &want);
	assert_true(diag_has("rebuilding"));
	free_indexes(&want);
}

/* the .log lost its tail below the recovery point: indexes cut to what is left */
static void test_log_shorter_than_index(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	assert_int_equal(truncate(seg_file(f, ".log"), 6 * BATCH_BYTES), 0);
	want.noix = 5 * 8; /* entries for batches 1..5 */
	want.ntix = 5 * 12;
	check_log(f, &cfg, 12, &want);
	free_indexes(&want);
}

/*
 * Garbage after the last batch: cut, and reported with the file, the
 * bytes dropped, their position and the offset the log now ends at.
 */
static void test_garbage_tail_reported(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	struct indexes want;
	char expect[512];

	dense_config(&cfg);
	write_log(f, &cfg);
	save_indexes(f, &want);
	append_file(seg_file(f, ".log"), "garbage garbage garbage garbage!", 32);
	check_log(f, &cfg, 2 * BATCHES, &want);
	assert_int_equal(file_size(seg_file(f, ".log")), BATCHES * BATCH_BYTES);
	snprintf(expect, sizeof expect, "%s: truncating 32 bytes at position %d", seg_file(f, ".log"),
		 BATCHES * BATCH_BYTES);
	assert_true(diag_has(expect));
	assert_true(diag_has("after offset 19 "));
	free_indexes(&want);
}

/* a batch with a bad CRC in the middle of the unflushed part: it and everything after go */
static void test_corrupt_batch_cuts_the_rest(void **state)
{
	struct fx *f = *state;
	struct kp_log_config cfg;
	char path[160];

	dense_config(&cfg);
	write_log(f, &cfg);
	snprintf(path, sizeof path, "%s/recovery-point", f->dir);
	write_text(path, "4\n"); /* as if batches 2.. were never flushed */
	pwrite_file(seg_file(f, ".log"), "\x7f", 1, 6 * BATCH_BYTES + 70);
	check_log(f, &cfg, 12, NULL);
	assert_int_equal(file_size(seg_file(f, ".log")), 6 * BATCH_BYTES);
	assert_true(diag_has("truncating 340 bytes at position 510"));
	assert_true(diag_has("after offset 11 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_index_rebuilt, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_missing_timeindex_rebuilt, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_corrupt_timeindex_rebuilt, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_torn_index_entries, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_inconsistent_index_rebuilt, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_log_shorter_than_index, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_garbage_tail_reported, setup_diag, teardown_diag),
		cmocka_unit_test_setup_teardown(test_corrupt_batch_cuts_the_rest, setup_diag, teardown_diag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
