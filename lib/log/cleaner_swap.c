/*
 * cleaner_swap.c - replacing a group of segments with their cleaned
 * segment on disk, crash-safely (Kafka's LocalLog.replaceSegments and
 * LogLoader's swap-file recovery).
 *
 *   cleaner thread   B.log.cleaned  B.index.cleaned  B.timeindex.cleaned  (fsynced)
 *   1. rename        B.index.cleaned -> B.index.swap, B.timeindex.cleaned ->
 *                    B.timeindex.swap, then B.log.cleaned -> B.log.swap  (the
 *                    marker: from here the swap is decided); fsync dir
 *   2. unlink        the old segments B1..Bk of the group (not B: 3 renames over it)
 *   3. rename        B.index.swap -> B.index, B.timeindex.swap -> B.timeindex,
 *                    then B.log.swap -> B.log; fsync dir
 *
 * Recovery when a log opens (kp_clean_swap_recover):
 *   - *.cleaned files: a cleaning that never swapped; deleted
 *   - B.log.swap: the swap was decided; every segment based in (B, end of
 *     B.log.swap) is deleted, each B.*.swap renamed over B.*, the marker
 *     last. Old segments past the swap's end (their records all dropped)
 *     are kept: they hold no offset the swap holds, only stale data.
 *   - *.index.swap / *.timeindex.swap without a marker: deleted
 */
#include "log/cleaner_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/file.h"

static const char *const exts[] = { ".index", ".timeindex", ".log" }; /* the .log last */

static void path_of(char *out, size_t cap, const char *dir, int64_t base, const char *ext,
		    const char *suffix)
{
	snprintf(out, cap, "%s/%020" PRId64 "%s%s", dir, base, ext, suffix);
}

/* kp_clean_remove_files - unlink BASE.{log,index,timeindex}`suffix` in `dir`, quietly. */
void kp_clean_remove_files(const char *dir, int64_t base, const char *suffix)
{
	char p[PATH_MAX];

	for (size_t i = 0; i < 3; i++) {
		path_of(p, sizeof p, dir, base, exts[i], suffix);
		if (unlink(p) < 0 && errno != ENOENT)
			kp_diag_warn("%s: cannot delete: %s", p, strerror(errno));
	}
}

/* rename_all - BASE.*`from` -> BASE.*`to`, indexes first; a missing index is fine. */
static int rename_all(const char *dir, int64_t base, const char *from, const char *to, kp_error *err)
{
	char a[PATH_MAX], b[PATH_MAX];

	for (size_t i = 0; i < 3; i++) {
		path_of(a, sizeof a, dir, base, exts[i], from);
		path_of(b, sizeof b, dir, base, exts[i], to);
		if (rename(a, b) < 0 && (errno != ENOENT || i == 2))
			return kp_error_errno(err, "%s: rename", a);
	}
	return 0;
}

/*
 * kp_clean_swap_files - steps 1-3 above for the group of segments based
 * at old_bases[0..n) (old_bases[0] is the cleaned segment's base).
 * Returns 0, or -1 with KP_EIO (recovery finishes or undoes what was done).
 */
int kp_clean_swap_files(const char *dir, const int64_t *old_bases, size_t n, kp_error *err)
{
	if (rename_all(dir, old_bases[0], KP_CLEANED_SUFFIX, KP_SWAP_SUFFIX, err) < 0 ||
	    kp_fsync_dir(dir, err) < 0)
		return -1;
	for (size_t i = 1; i < n; i++)
		kp_clean_remove_files(dir, old_bases[i], "");
	if (rename_all(dir, old_bases[0], KP_SWAP_SUFFIX, "", err) < 0)
		return -1;
	return kp_fsync_dir(dir, err);
}

/* swap_end - the offset after the last batch of the file at `path` (its base when empty). */
static int64_t swap_end(const char *path, int64_t base)
{
	FILE *f = fopen(path, "rbe");
	uint8_t h[KP_BATCH_HEADER_SIZE];
	int64_t end = base;
	long pos = 0;

	if (!f)
		return base;
	while (fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, sizeof h, f) == sizeof h) {
		int32_t len = (int32_t)kp_load_u32(h + 8);

		if (len < KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD)
			break;
		end = (int64_t)kp_load_u64(h) + (int32_t)kp_load_u32(h + 23) + 1;
		pos += KP_BATCH_LOG_OVERHEAD + len;
	}
	fclose(f);
	return end;
}

/* name_base - the base offset of "<20 digits><rest>" when rest is `rest`, else -1. */
static int64_t name_base(const char *name, const char *rest)
{
	int64_t v = 0;

	if (strlen(name) != 20 + strlen(rest) || strcmp(name + 20, rest) != 0)
		return -1;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

/* complete - finish the decided swap of the segment based at `base`, whose log ends at `end`. */
static int complete(const char *dir, int64_t base, int64_t end, const int64_t *segs, size_t nsegs,
		    kp_error *err)
{
	kp_diag_warn("%s: completing the interrupted swap of cleaned segment %" PRId64, dir, base);
	for (size_t i = 0; i < nsegs; i++)
		if (segs[i] > base && segs[i] < end)
			kp_clean_remove_files(dir, segs[i], "");
	return rename_all(dir, base, KP_SWAP_SUFFIX, "", err);
}

/* Names found in a partition directory. */
struct listing {
	int64_t *segs, *swaps; /* bases of BASE.log, BASE.log.swap */
	size_t nsegs, nswaps, cap_segs, cap_swaps;
};

static int push(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
	int64_t *nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if (!(nv = realloc(*v, *cap * sizeof *nv)))
			return -1;
		*v = nv;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* scan_dir - list segments and swap markers; delete *.cleaned files. */
static int scan_dir(const char *dir, struct listing *l, kp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];
	size_t n;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : kp_error_errno(err, "%s: opendir", dir);
	while (rc == 0 && (de = readdir(d))) {
		n = strlen(de->d_name);
		if (n > 8 && strcmp(de->d_name + n - 8, KP_CLEANED_SUFFIX) == 0) {
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			if (unlink(p) < 0 && errno != ENOENT)
				rc = kp_error_errno(err, "%s: unlink", p);
		} else if (name_base(de->d_name, ".log") >= 0) {
			if (push(&l->segs, &l->nsegs, &l->cap_segs, name_base(de->d_name, ".log")) < 0)
				rc = kp_error_set(err, KP_ENOMEM, "%s: out of memory", dir);
		} else if (name_base(de->d_name, ".log" KP_SWAP_SUFFIX) >= 0) {
			if (push(&l->swaps, &l->nswaps, &l->cap_swaps,
				 name_base(de->d_name, ".log" KP_SWAP_SUFFIX)) < 0)
				rc = kp_error_set(err, KP_ENOMEM, "%s: out of memory", dir);
		}
	}
	closedir(d);
	return rc;
}

/* drop_stray_swaps - index .swap files left without their marker. */
static int drop_stray_swaps(const char *dir, kp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];
	size_t n;

	if (!d)
		return kp_error_errno(err, "%s: opendir", dir);
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n <= 5 || strcmp(de->d_name + n - 5, KP_SWAP_SUFFIX) != 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (unlink(p) < 0 && errno != ENOENT)
			kp_diag_warn("%s: cannot delete: %s", p, strerror(errno));
	}
	closedir(d);
	return 0;
}

/*
 * kp_clean_swap_recover - on open, before the segments are listed: delete
 * what an interrupted cleaning left and complete an interrupted swap (see
 * the top of this file). Returns 0, or -1 with KP_EIO or KP_ENOMEM.
 */
int kp_clean_swap_recover(const char *dir, kp_error *err)
{
	struct listing l = { 0 };
	char p[PATH_MAX];
	int rc;

	rc = scan_dir(dir, &l, err);
	for (size_t i = 0; rc == 0 && i < l.nswaps; i++) {
		path_of(p, sizeof p, dir, l.swaps[i], ".log", KP_SWAP_SUFFIX);
		rc = complete(dir, l.swaps[i], swap_end(p, l.swaps[i]), l.segs, l.nsegs, err);
	}
	if (rc == 0 && l.nswaps > 0)
		rc = kp_fsync_dir(dir, err);
	if (rc == 0)
		rc = drop_stray_swaps(dir, err);
	free(l.segs);
	free(l.swaps);
	return rc;
}
