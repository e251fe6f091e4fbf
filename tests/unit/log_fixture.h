/*
 * log_fixture.h - the fixture the partition log's unit tests share
 * (test_log.c, test_log_epoch.c, test_producer_state.c): a mkdtemp directory per test holding one
 * partition directory, and helpers to make batches, open logs and look at
 * the files.
 *
 *   LOG_FIXTURE_TEMPLATE/        e.g. "/tmp/kplog-XXXXXX" (the test defines it
 *   `-- t-0/                     before including this header)
 *
 * Everything is `static inline`, so a test that does not use a helper gets
 * no warning for it.
 */
#ifndef KP_TESTS_LOG_FIXTURE_H
#define KP_TESTS_LOG_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/flusher.h"
#include "log/log.h"
#include "record/batch.h"
#include "util/buf.h"

#ifndef LOG_FIXTURE_TEMPLATE
#error "define LOG_FIXTURE_TEMPLATE (a mkdtemp template such as \"/tmp/kplog-XXXXXX\") first"
#endif

/* One test's directories: root (from mkdtemp) and dir, its partition directory root/t-0. */
struct fx {
	char root[64];
	char dir[96];
};

/* rm_flat - remove the files directly in `dir`, then `dir` itself (a missing one is fine). */
static inline void rm_flat(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

/* setup - a cmocka setup: a new struct fx in a fresh LOG_FIXTURE_TEMPLATE directory. */
static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	strcpy(f->root, LOG_FIXTURE_TEMPLATE);
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/t-0", f->root);
	*state = f;
	return 0;
}

/* teardown - the cmocka teardown of setup: the directories removed, the fx freed. */
static inline int teardown(void **state)
{
	struct fx *f = *state;

	rm_flat(f->dir);
	rmdir(f->root);
	free(f);
	return 0;
}

/*
 * put_producer_batch - append to `b` a valid v2 batch (CRC set) at base
 * offset `base` with partition leader epoch `epoch`, of `n` records
 * (offset and timestamp deltas 0..n-1, no key, value `value`) whose
 * timestamps end at `max_ts`, written by producer `pid` at `producer_epoch`
 * from sequence `seq` on (-1, -1, -1: no producer).
 */
static inline void put_producer_batch(kp_buf *b, int64_t base, int32_t epoch, int n, int64_t max_ts,
				      const char *value, int64_t pid, int16_t producer_epoch,
				      int32_t seq)
{
	size_t start = b->len, crc_at, vlen = strlen(value);
	kp_buf rec;

	kp_buf_put_i64(b, base);
	kp_buf_put_i32(b, 0);          /* batchLength, set below */
	kp_buf_put_i32(b, epoch);
	kp_buf_put_i8(b, 2);
	crc_at = b->len;
	kp_buf_put_u32(b, 0);
	kp_buf_put_i16(b, 0);
	kp_buf_put_i32(b, n - 1);
	kp_buf_put_i64(b, max_ts - (n - 1));
	kp_buf_put_i64(b, max_ts);
	kp_buf_put_i64(b, pid);
	kp_buf_put_i16(b, producer_epoch);
	kp_buf_put_i32(b, seq);
	kp_buf_put_i32(b, n);
	for (int i = 0; i < n; i++) {
		kp_buf_init(&rec);
		kp_buf_put_i8(&rec, 0);
		kp_buf_put_varlong(&rec, i);
		kp_buf_put_varint(&rec, i);
		kp_buf_put_varint(&rec, -1);
		kp_buf_put_varint(&rec, (int32_t)vlen);
		kp_buf_append(&rec, value, vlen);
		kp_buf_put_uvarint(&rec, 0);
		kp_buf_put_varint(b, (int32_t)rec.len);
		kp_buf_append(b, rec.data, rec.len);
		kp_buf_free(&rec);
	}
	kp_buf_set_i32(b, start + 8, (int32_t)(b->len - start - 12));
	kp_store_u32(b->data + crc_at, kp_crc32c(0, b->data + start + 21, b->len - start - 21));
}

/* put_batch - put_producer_batch without a producer. */
static inline void put_batch(kp_buf *b, int64_t base, int32_t epoch, int n, int64_t max_ts,
			     const char *value)
{
	put_producer_batch(b, base, epoch, n, max_ts, value, -1, -1, -1);
}

/* open_log - kp_log_open of f->dir with `cfg` (NULL: the defaults); an error fails the test. */
static inline kp_log *open_log(struct fx *f, const struct kp_log_config *cfg)
{
	struct kp_log_config def;
	kp_error err;
	kp_log *log = NULL;

	kp_log_config_default(&def);
	if (kp_log_open(f->dir, cfg ? cfg : &def, &log, &err) < 0)
		fail_msg("open: %s", err.msg);
	return log;
}

/*
 * crash_child - fork. In the child: the log opened with `cfg` (NULL: the
 * defaults), for the caller to write to and then _exit(0) without closing
 * anything, as a crash leaves the files. In the parent: NULL, once the
 * child has exited (the test fails unless with status 0).
 */
static inline kp_log *crash_child(struct fx *f, const struct kp_log_config *cfg)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		return open_log(f, cfg);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return NULL;
}

/* file_size - the size of the file at `path`, -1 when it is missing. */
static inline off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : st.st_size;
}

/* write_text - (re)write the file at `path` with `text`. */
static inline void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* await_rp - run the loop side of `fl` until `log`'s recovery point reaches `want`. */
static inline void await_rp(kp_flusher *fl, kp_log *log, int64_t want)
{
	struct pollfd p = { .fd = kp_flusher_fd(fl), .events = POLLIN };

	for (int i = 0; i < 100 && kp_log_recovery_point(log) < want; i++) {
		assert_true(poll(&p, 1, 100) >= 0);
		kp_flusher_poll(fl);
	}
	assert_int_equal(kp_log_recovery_point(log), want);
}

#endif /* KP_TESTS_LOG_FIXTURE_H */
