/*
 * test_log_cleaner.c - unit tests of the log cleaner (lib/log/cleaner*.c):
 * the last value per key stays at its offset, tombstones go after
 * delete.retention.ms and not before, compressed batches stay compressed,
 * a small offset map cleans in parts, appends and truncations while a job
 * runs, a crash at each step of the swap, an idempotent producer's last
 * batch kept as a header. Each test has its own partition directory:
 *
 *   /tmp/kpclean-XXXXXX/t-0/   00000000000000000000.log ... cleaner-offset-checkpoint
 *
 * The three phases run on the test's thread here (begin, run, finish);
 * the cleaner thread is exercised by test_cleaner_thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/cleaner.h"
#include "log/cleaner_internal.h"
#include "log/cleaner_thread.h"
#include "log/log.h"
#include "record/batch.h"
#include "record/compress.h"
#include "record/records.h"
#include "util/buf.h"

#define LOG_FIXTURE_TEMPLATE "/tmp/kpclean-XXXXXX"
#include "log_fixture.h"

#define NOW 1700000000000LL
#define BIG_MAP ((int64_t)1 << 20)

/* cfg_compact - a compacted log with small segments, cleaned at any dirtiness. */
static struct kp_log_config cfg_compact(int64_t segment_bytes)
{
	struct kp_log_config c;

	kp_log_config_default(&c);
	c.segment_bytes = segment_bytes;
	c.index_interval_bytes = 64;
	c.cleanup_compact = true;
	c.min_cleanable_dirty_ratio = 0;
	c.delete_retention_ms = 1000;
	return c;
}

/* append_kvs - one batch of `n` records key[i] -> val[i] (NULL: tombstone); returns its base offset. */
static int64_t append_kvs(kp_log *log, int codec, int64_t pid, int32_t seq, int n, const char **keys,
			  const char **vals, int64_t ts)
{
	kp_batch_builder *b;
	int64_t base;
	kp_error err;
	kp_buf out;

	kp_buf_init(&out);
	b = kp_batch_builder_new(codec, pid, pid >= 0 ? 0 : -1, &err);
	assert_non_null(b);
	for (int i = 0; i < n; i++) {
		struct kp_record r = {
			.timestamp = ts + i,
			.key = (const uint8_t *)keys[i], .key_len = keys[i] ? (int32_t)strlen(keys[i]) : -1,
			.value = (const uint8_t *)vals[i], .value_len = vals[i] ? (int32_t)strlen(vals[i]) : -1,
		};
		assert_int_equal(kp_batch_builder_add(b, &r, &err), 0);
	}
	assert_int_equal(kp_batch_builder_finish(b, seq, &out, &err), 0);
	if (kp_log_append(log, out.data, out.len, 0, &base, NULL, NULL, &err) < 0)
		fail_msg("append: %s", err.msg);
	kp_batch_builder_free(b);
	kp_buf_free(&out);
	return base;
}

static int64_t append_kv(kp_log *log, const char *key, const char *val, int64_t ts)
{
	return append_kvs(log, KP_COMPRESSION_NONE, -1, -1, 1, &key, &val, ts);
}

/* One record read back. */
struct rec {
	int64_t offset;
	char key[32], val[32];
	bool tombstone;
};

/* read_all - every record of the log, in order, into out[] (at most cap); returns the count. */
static size_t read_all(kp_log *log, struct rec *out, size_t cap)
{
	kp_record_iter *it;
	struct kp_record r;
	kp_error err;
	kp_buf b;
	size_t n = 0;
	int rc;

	kp_buf_init(&b);
	if (kp_log_read(log, kp_log_start_offset(log), INT64_MAX, (size_t)1 << 30, &b, &err) < 0)
		fail_msg("read: %s", err.msg);
	it = kp_record_iter_new(b.data, b.len, 0);
	while ((rc = kp_record_iter_next(it, &r, &err)) == 1) {
		assert_true(n < cap);
		out[n].offset = r.offset;
		snprintf(out[n].key, sizeof out[n].key, "%.*s", r.key_len < 0 ? 0 : r.key_len,
			 (const char *)r.key);
		snprintf(out[n].val, sizeof out[n].val, "%.*s", r.value_len < 0 ? 0 : r.value_len,
			 (const char *)r.value);
		out[n++].tombstone = r.value_len < 0;
	}
	if (rc < 0)
		fail_msg("iterate: %s", err.msg);
	kp_record_iter_free(it);
	kp_buf_free(&b);
	return n;
}

/* clean - one cleaning, all three phases; returns finish's result (-2: no job). */
static int clean(kp_log *log, int64_t now, int64_t map_bytes, struct kp_clean_result *res)
{
	struct kp_clean_job *job;
	kp_error err;
	int rc;

	if (kp_log_clean_begin(log, now, INT64_MAX, &job, &err) < 0)
		fail_msg("begin: %s", err.msg);
	if (!job)
		return -2;
	if (kp_clean_job_run(job, map_bytes, now, &err) < 0)
		fail_msg("run: %s", err.msg);
	rc = kp_log_clean_finish(log, job, &err);
	if (rc < 0)
		fail_msg("finish: %s", err.msg);
	if (res)
		kp_clean_job_result(job, res);
	kp_clean_job_free(job);
	return rc;
}

/* count_files - how many names in `dir` end with `suffix`. */
static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t sl = strlen(suffix);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strlen(de->d_name) >= sl && strcmp(de->d_name + strlen(de->d_name) - sl, suffix) == 0)
			n++;
	closedir(d);
	return n;
}

/* write_rounds - `rounds` values of keys k0..k(nkeys-1), one record a batch; offsets[r][k]. */
static void write_rounds(kp_log *log, int rounds, int nkeys, int64_t offsets[][16])
{
	char key[16], val[16];

	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < nkeys; k++) {
			snprintf(key, sizeof key, "k%d", k);
			snprintf(val, sizeof val, "v%d", r);
			offsets[r][k] = append_kv(log, key, val, NOW - 100000 + r);
		}
}

/* check_rounds - every record read is one written (same offset), the last round of each key is there. */
static void check_rounds(struct rec *recs, size_t n, int rounds, int nkeys, int64_t offsets[][16],
			 int64_t clean_below)
{
	int seen[16] = { 0 };

	for (size_t i = 0; i < n; i++) {
		int k = atoi(recs[i].key + 1), r = atoi(recs[i].val + 1);

		assert_true(k >= 0 && k < nkeys && r >= 0 && r < rounds);
		assert_int_equal(recs[i].offset, offsets[r][k]); /* offsets unchanged */
		if (recs[i].offset < clean_below) /* cleaned: only the last value of a key */
			assert_int_equal(offsets[r][k], offsets[rounds - 1][k] < clean_below
					 ? offsets[rounds - 1][k] : offsets[r][k]);
		if (r == rounds - 1)
			seen[k]++;
	}
	for (int k = 0; k < nkeys; k++)
		assert_int_equal(seen[k], 1);
}

static void test_last_value_per_key(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[20][16];
	struct kp_clean_result res;
	struct rec recs[400];
	kp_log *log = open_log(f, &c);
	int64_t before = kp_log_size_bytes(log), end;
	size_t n;

	write_rounds(log, 20, 10, offsets);
	before = kp_log_size_bytes(log);
	end = kp_log_end_offset(log);
	assert_int_equal(clean(log, NOW, BIG_MAP, &res), 1);
	assert_true(kp_log_size_bytes(log) < before / 2);
	assert_true(res.records_kept < res.records_read);
	assert_int_equal(kp_log_end_offset(log), end);
	assert_int_equal(kp_log_cleaner_checkpoint(log), res.end_offset);
	n = read_all(log, recs, 400);
	check_rounds(recs, n, 20, 10, offsets, res.end_offset);
	assert_true(n < 200);
	assert_int_equal(count_files(f->dir, ".cleaned"), 0);
	assert_int_equal(count_files(f->dir, ".swap"), 0);
	/* the cleaned segments and their indexes survive a reopen, and a second clean changes nothing */
	kp_log_close(log);
	log = open_log(f, &c);
	assert_int_equal(read_all(log, recs, 400), n);
	check_rounds(recs, n, 20, 10, offsets, res.end_offset);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), -2);
	for (int64_t o = kp_log_start_offset(log); o < end; o++) { /* every offset still readable */
		kp_buf b;
		kp_error err;

		kp_buf_init(&b);
		assert_int_equal(kp_log_read(log, o, INT64_MAX, 1, &b, &err), 0);
		assert_true(b.len > 0);
		kp_buf_free(&b);
	}
	kp_log_close(log);
}

static bool has_tombstone(kp_log *log, const char *key)
{
	struct rec recs[200];
	size_t n = read_all(log, recs, 200);

	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].key, key) == 0 && recs[i].tombstone)
			return true;
	return false;
}

/* more_dirt - enough new records to close a segment, so that the log is cleanable again. */
static void more_dirt(kp_log *log, int tag)
{
	char key[16];

	for (int i = 0; i < 12; i++) {
		snprintf(key, sizeof key, "f%d", i);
		append_kv(log, key, tag % 2 ? "x" : "y", NOW);
	}
}

static void test_tombstones_after_delete_retention(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(400);
	struct rec recs[200];
	kp_log *log = open_log(f, &c);
	size_t n;

	append_kv(log, "a", "1", NOW);
	append_kv(log, "b", "1", NOW);
	append_kv(log, "a", NULL, NOW);
	more_dirt(log, 0);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), 1);
	assert_true(has_tombstone(log, "a")); /* kept: the horizon is NOW + 1000 */
	n = read_all(log, recs, 200);
	for (size_t i = 0; i < n; i++)
		assert_false(strcmp(recs[i].key, "a") == 0 && !recs[i].tombstone);
	more_dirt(log, 1);
	assert_int_equal(clean(log, NOW + 999, BIG_MAP, NULL), 1);
	assert_true(has_tombstone(log, "a")); /* before the horizon */
	more_dirt(log, 2);
	assert_int_equal(clean(log, NOW + 1000, BIG_MAP, NULL), 1);
	assert_false(has_tombstone(log, "a")); /* at the horizon: gone */
	n = read_all(log, recs, 200);
	for (size_t i = 0; i < n; i++)
		assert_true(strcmp(recs[i].key, "a") != 0);
	assert_true(strcmp(recs[0].key, "b") == 0);
	kp_log_close(log);
}

/* batch_codecs - the codec of every batch of the log below `below`; returns how many were compressed. */
static int compressed_batches(kp_log *log, int64_t below)
{
	struct kp_batch_header h;
	kp_error err;
	kp_buf b;
	size_t off = 0;
	int n = 0;

	kp_buf_init(&b);
	assert_int_equal(kp_log_read(log, kp_log_start_offset(log), below, (size_t)1 << 30, &b, &err), 0);
	while (off < b.len) {
		long len = kp_batch_validate(b.data + off, b.len - off, &h, &err);

		assert_true(len > 0);
		if (h.record_count > 0)
			assert_int_not_equal(h.attributes & KP_BATCH_COMPRESSION_MASK, 0);
		n += (h.attributes & KP_BATCH_COMPRESSION_MASK) != 0;
		off += (size_t)len;
	}
	kp_buf_free(&b);
	return n;
}

static void test_compressed_batches(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(1200);
	static const int codecs[] = { KP_COMPRESSION_GZIP, KP_COMPRESSION_SNAPPY, KP_COMPRESSION_LZ4,
				      KP_COMPRESSION_ZSTD };
	const char *keys[5] = { "k0", "k1", "k2", "k3", "k4" }, *vals[5];
	char vbuf[5][16];
	struct kp_clean_result res;
	struct rec recs[400];
	kp_log *log = open_log(f, &c);
	size_t n;

	for (int r = 0; r < 40; r++) {
		for (int i = 0; i < 5; i++) {
			snprintf(vbuf[i], sizeof vbuf[i], "v%d", r);
			vals[i] = vbuf[i];
		}
		/* the last round writes only k0..k2, so batches lose some records only */
		append_kvs(log, codecs[r % 4], -1, -1, r == 39 ? 3 : 5, keys, vals, NOW + r);
	}
	assert_int_equal(clean(log, NOW, BIG_MAP, &res), 1);
	assert_true(compressed_batches(log, res.end_offset) > 0);
	n = read_all(log, recs, 400);
	for (int k = 0; k < 5; k++) {
		int last = -1, count = 0;
		char key[16];

		snprintf(key, sizeof key, "k%d", k);
		for (size_t i = 0; i < n; i++)
			if (strcmp(recs[i].key, key) == 0) {
				last = atoi(recs[i].val + 1);
				count += recs[i].offset < res.end_offset;
				/* offsets: round r's batch starts at 5r, the key at delta k */
				assert_int_equal(recs[i].offset, 5 * atoi(recs[i].val + 1) + k);
			}
		assert_int_equal(last, k < 3 ? 39 : 38);
		assert_true(count <= 1); /* one value a key in the cleaned section */
	}
	kp_log_close(log);
}

static void test_small_map_cleans_in_parts(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[10][16];
	struct kp_clean_result res;
	struct rec recs[400];
	kp_log *log = open_log(f, &c);
	size_t n;
	int rounds = 0;

	write_rounds(log, 10, 16, offsets);
	/* 8 slots: 7 keys fit (load factor 0.9) */
	assert_int_equal(clean(log, NOW, 8 * 24, &res), 1);
	assert_true(res.end_offset < kp_log_end_offset(log) - 16);
	assert_int_equal(kp_log_cleaner_checkpoint(log), res.end_offset);
	n = read_all(log, recs, 400);
	check_rounds(recs, n, 10, 16, offsets, 0 /* not every key deduplicated yet */);
	while (clean(log, NOW, 8 * 24, &res) == 1)
		assert_true(++rounds < 100);
	assert_true(rounds > 1);
	n = read_all(log, recs, 400);
	check_rounds(recs, n, 10, 16, offsets, kp_log_cleaner_checkpoint(log));
	kp_log_close(log);
}

static void test_append_during_job(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[20][16], more[20][16];
	struct kp_clean_job *job;
	struct rec recs[600];
	kp_error err;
	kp_log *log = open_log(f, &c);
	size_t n, k2 = 0;

	write_rounds(log, 10, 8, offsets);
	assert_int_equal(kp_log_clean_begin(log, NOW, INT64_MAX, &job, &err), 0);
	assert_non_null(job);
	write_rounds(log, 10, 8, more); /* rolls more segments meanwhile */
	assert_int_equal(kp_clean_job_run(job, BIG_MAP, NOW, &err), 0);
	assert_int_equal(kp_log_clean_finish(log, job, &err), 1);
	kp_clean_job_free(job);
	n = read_all(log, recs, 600);
	for (size_t i = 0; i < n; i++)
		if (recs[i].offset >= more[0][0])
			k2++;
	assert_int_equal(k2, 80); /* every later record is there */
	assert_int_equal(recs[n - 1].offset, kp_log_end_offset(log) - 1);
	kp_log_close(log);
}

static void test_truncation_during_job_discards(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[20][16];
	struct kp_clean_job *job;
	struct rec recs[400];
	kp_error err;
	kp_log *log = open_log(f, &c);
	size_t n;

	write_rounds(log, 10, 8, offsets);
	assert_int_equal(kp_log_clean_begin(log, NOW, INT64_MAX, &job, &err), 0);
	assert_non_null(job);
	assert_int_equal(kp_log_truncate_to(log, offsets[2][3], &err), 0);
	/* the run reads the truncated file through its fd: it fails, or cleans what it saw */
	if (kp_clean_job_run(job, BIG_MAP, NOW, &err) == 0)
		assert_true(count_files(f->dir, ".log.cleaned") > 0);
	assert_int_equal(kp_log_clean_finish(log, job, &err), 0);
	kp_clean_job_free(job);
	assert_int_equal(count_files(f->dir, ".cleaned"), 0);
	n = read_all(log, recs, 400);
	assert_int_equal(n, 2 * 8 + 3); /* nothing cleaned, the truncation stands */
	assert_int_equal(kp_log_end_offset(log), offsets[2][3]);
	kp_log_close(log);
}

static void test_truncation_below_checkpoint_resets_it(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[10][16], cp;
	kp_error err;
	kp_log *log = open_log(f, &c);

	write_rounds(log, 10, 8, offsets);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), 1);
	cp = kp_log_cleaner_checkpoint(log);
	assert_true(cp > offsets[3][0]);
	/* truncated to the checkpoint: the clean section is intact */
	assert_int_equal(kp_log_truncate_to(log, cp, &err), 0);
	more_dirt(log, 0);
	assert_int_equal(kp_log_cleaner_checkpoint(log), cp);
	/* below it, then other batches: the section is dirty again (Kafka's maybeTruncateCheckpoint) */
	assert_int_equal(kp_log_truncate_to(log, cp - 2, &err), 0);
	more_dirt(log, 1);
	assert_true(kp_log_end_offset(log) > cp);
	assert_int_equal(kp_log_cleaner_checkpoint(log), kp_log_start_offset(log));
	kp_log_close(log);
}

/* run_unswapped - begin and run a cleaning of `log`, leaving the cleaned files; returns the job. */
static struct kp_clean_job *run_unswapped(kp_log *log)
{
	struct kp_clean_job *job;
	kp_error err;

	assert_int_equal(kp_log_clean_begin(log, NOW, INT64_MAX, &job, &err), 0);
	assert_non_null(job);
	assert_int_equal(kp_clean_job_run(job, BIG_MAP, NOW, &err), 0);
	assert_true(job->ngroups >= 1);
	return job;
}

static void rename_ext(const char *dir, int64_t base, const char *ext, const char *from, const char *to)
{
	char a[256], b[256];

	snprintf(a, sizeof a, "%s/%020lld%s%s", dir, (long long)base, ext, from);
	snprintf(b, sizeof b, "%s/%020lld%s%s", dir, (long long)base, ext, to);
	assert_int_equal(rename(a, b), 0);
}

/* crash_at - clean, then leave the files as a crash at `step` would, and reopen. */
static void crash_at(struct fx *f, int step)
{
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[10][16];
	struct kp_clean_job *job;
	struct rec recs[400];
	kp_log *log = open_log(f, &c);
	size_t n, before;
	int64_t base, next_base;

	write_rounds(log, 10, 8, offsets);
	before = read_all(log, recs, 400);
	kp_log_close(log);
	c.segment_bytes = 100000; /* groups of several segments */
	log = open_log(f, &c);
	job = run_unswapped(log);
	base = job->segs[job->groups[0].first].base;
	next_base = job->groups[0].n > 1 ? job->segs[job->groups[0].first + 1].base : -1;
	kp_log_close(log); /* "crash": the job never finishes */
	if (step >= 1) { /* .cleaned -> .swap, marker last */
		rename_ext(f->dir, base, ".index", ".cleaned", ".swap");
		if (step >= 2) {
			rename_ext(f->dir, base, ".timeindex", ".cleaned", ".swap");
			rename_ext(f->dir, base, ".log", ".cleaned", ".swap");
		}
	}
	if (step >= 3 && next_base >= 0) /* an old segment of the group deleted */
		kp_clean_remove_files(f->dir, next_base, "");
	if (step >= 4) /* the index already renamed into place */
		rename_ext(f->dir, base, ".index", ".swap", "");
	for (size_t g = 0; g < job->ngroups; g++)
		job->groups[g].written = false; /* recovery must remove what is left */
	kp_clean_job_free(job);
	log = open_log(f, &c);
	assert_int_equal(count_files(f->dir, ".cleaned"), 0);
	assert_int_equal(count_files(f->dir, ".swap"), 0);
	n = read_all(log, recs, 400);
	if (step < 2)
		assert_int_equal(n, before); /* discarded: the log as it was */
	else
		assert_true(n < before); /* completed: group 0 is cleaned */
	check_rounds(recs, n, 10, 8, offsets, 0);
	kp_log_close(log);
}

static void test_crash_before_swap(void **state)
{
	crash_at(*state, 0);
}

static void test_crash_during_rename_to_swap(void **state)
{
	crash_at(*state, 1);
}

static void test_crash_after_swap_marker(void **state)
{
	crash_at(*state, 2);
}

static void test_crash_after_old_deleted(void **state)
{
	crash_at(*state, 3);
}

static void test_crash_during_final_rename(void **state)
{
	crash_at(*state, 4);
}

/* remove_snapshots - delete the producer snapshots of `dir`: the state must come from the batches. */
static void remove_snapshots(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".snapshot")) {
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			assert_int_equal(unlink(p), 0);
		}
	closedir(d);
}

static void test_producer_last_batch_kept(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(500);
	const char *key = "p", *val = "x";
	struct kp_batch_header h;
	kp_error err;
	kp_buf b;
	kp_log *log = open_log(f, &c);
	int64_t last_base = -1;
	size_t off = 0;
	bool found = false;

	for (int s = 0; s < 5; s++)
		last_base = append_kvs(log, KP_COMPRESSION_NONE, 4242, s, 1, &key, &val, NOW);
	for (int i = 0; i < 20; i++) /* the producer's key written again by others */
		append_kv(log, "p", "y", NOW);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), 1);
	kp_buf_init(&b);
	assert_int_equal(kp_log_read(log, kp_log_start_offset(log), INT64_MAX, (size_t)1 << 30, &b, &err), 0);
	for (; off < b.len; off += (size_t)kp_batch_validate(b.data + off, b.len - off, &h, &err)) {
		assert_true(kp_batch_validate(b.data + off, b.len - off, &h, &err) > 0);
		if (h.producer_id == 4242) {
			assert_false(found);
			found = true;
			assert_int_equal(h.base_offset, last_base);
			assert_int_equal(h.record_count, 0);
			assert_int_equal(h.base_sequence, 4);
			assert_int_equal(h.last_offset_delta, 0);
		}
	}
	assert_true(found);
	kp_buf_free(&b);
	/* the producer state rebuilt from the log alone still knows the producer's sequence */
	kp_log_close(log);
	remove_snapshots(f->dir);
	log = open_log(f, &c);
	assert_int_equal(kp_log_producer_count(log), 1);
	kp_buf_init(&b);
	{
		kp_batch_builder *bb = kp_batch_builder_new(0, 4242, 0, &err);
		struct kp_record r = { .timestamp = NOW, .key = (const uint8_t *)"p", .key_len = 1,
				       .value = (const uint8_t *)"z", .value_len = 1 };

		assert_int_equal(kp_batch_builder_add(bb, &r, &err), 0);
		assert_int_equal(kp_batch_builder_finish(bb, 7, &b, &err), 0); /* a gap: refused */
		assert_int_equal(kp_log_append(log, b.data, b.len, 0, NULL, NULL, NULL, &err), -1);
		assert_int_equal(err.code, KP_EKAFKA);
		kp_buf_reset(&b);
		assert_int_equal(kp_batch_builder_add(bb, &r, &err), 0);
		assert_int_equal(kp_batch_builder_finish(bb, 5, &b, &err), 0); /* the next one: taken */
		assert_int_equal(kp_log_append(log, b.data, b.len, 0, NULL, NULL, NULL, &err), 0);
		kp_batch_builder_free(bb);
	}
	kp_buf_free(&b);
	kp_log_close(log);
}

static void test_not_compacted_or_not_dirty(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	struct kp_clean_stats st;
	kp_log *log;

	c.cleanup_compact = false;
	log = open_log(f, &c);
	for (int i = 0; i < 100; i++) { /* distinct keys: a big clean section once cleaned */
		char key[16];

		snprintf(key, sizeof key, "u%d", i);
		append_kv(log, key, "v", NOW);
	}
	kp_log_clean_stats(log, NOW, INT64_MAX, &st);
	assert_false(st.eligible);
	assert_true(st.ratio > 0.99);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), -2);
	kp_log_close(log);
	c.cleanup_compact = true;
	c.min_cleanable_dirty_ratio = 0.5;
	log = open_log(f, &c);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), 1);
	more_dirt(log, 0); /* a little dirt over a big clean section: below the ratio */
	kp_log_clean_stats(log, NOW, INT64_MAX, &st);
	assert_true(st.ratio > 0 && st.ratio < 0.5);
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), -2);
	/* the high watermark limits it: nothing below the first segment's end */
	kp_log_clean_stats(log, NOW, 0, &st);
	assert_int_equal(st.first_uncleanable, st.first_dirty);
	kp_log_close(log);
}

static void test_min_compaction_lag(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[10][16];
	kp_log *log;

	c.min_compaction_lag_ms = 60000;
	log = open_log(f, &c);
	write_rounds(log, 10, 8, offsets); /* timestamps NOW - 100000 + r */
	assert_int_equal(clean(log, NOW - 100000 + 59999, BIG_MAP, NULL), -2); /* too new */
	assert_int_equal(clean(log, NOW, BIG_MAP, NULL), 1);
	kp_log_close(log);
}

static void test_cleaner_thread(void **state)
{
	struct fx *f = *state;
	struct kp_log_config c = cfg_compact(600);
	int64_t offsets[10][16];
	struct kp_clean_job *job;
	struct pollfd p;
	kp_cleaner *cl;
	kp_error err;
	kp_log *log = open_log(f, &c);
	int rc = -1;

	write_rounds(log, 10, 8, offsets);
	assert_int_equal(kp_cleaner_new(BIG_MAP, &cl, &err), 0);
	assert_int_equal(kp_log_clean_begin(log, NOW, INT64_MAX, &job, &err), 0);
	assert_non_null(job);
	kp_cleaner_submit(cl, job);
	p = (struct pollfd){ .fd = kp_cleaner_fd(cl), .events = POLLIN };
	job = NULL;
	for (int i = 0; i < 100 && !job; i++) {
		assert_true(poll(&p, 1, 100) >= 0);
		job = kp_cleaner_take(cl, &rc, &err);
	}
	assert_non_null(job);
	assert_int_equal(rc, 0);
	assert_int_equal(kp_log_clean_finish(log, job, &err), 1);
	kp_clean_job_free(job);
	assert_int_equal(kp_cleaner_busy(cl), 0);
	/* a job still queued at free is dropped, its files removed */
	more_dirt(log, 1);
	assert_int_equal(kp_log_clean_begin(log, NOW, INT64_MAX, &job, &err), 0);
	assert_non_null(job);
	kp_cleaner_submit(cl, job);
	kp_cleaner_free(cl);
	assert_int_equal(count_files(f->dir, ".cleaned"), 0);
	kp_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_value_per_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tombstones_after_delete_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compressed_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_map_cleans_in_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_during_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_during_job_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_below_checkpoint_resets_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_during_rename_to_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_swap_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_old_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_during_final_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_producer_last_batch_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_compacted_or_not_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_compaction_lag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleaner_thread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
