/*
 * topics_hw.c - the high watermarks of each log dir's partitions, kept
 * across restarts in Kafka's replication-offset-checkpoint file
 * (ReplicaManager.checkpointHighWatermarks, OffsetCheckpointFile):
 *
 *   LOGDIR/replication-offset-checkpoint
 *     0                    version
 *     2                    entries
 *     orders 0 1234        topic partition high-watermark
 *     orders 1 987
 *
 * Written every replica.high.watermark.checkpoint.interval.ms and at a
 * clean stop (temporary file and rename, no fsync on the event loop: a
 * file lost or torn in a crash is ignored whole, and a stale one only
 * holds lower, still committed, values); read once at start, so that a
 * partition's high watermark starts where it was (clamped to its log)
 * instead of at its log start offset until the followers fetch again.
 * See topics.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "broker/topics_internal.h"

#define HW_FILE "replication-offset-checkpoint"

struct kp_topics_hw {
	char *key; /* "TOPIC PARTITION" */
	int64_t offset;
	UT_hash_handle hh;
};

void kp_topics_hw_clear(kp_topics *t)
{
	struct kp_topics_hw *e, *tmp;

	HASH_ITER(hh, t->hw, e, tmp) {
		HASH_DEL(t->hw, e);
		free(e->key);
		free(e);
	}
}

/* add_entry - remember `topic` `partition` at `offset`; false when out of memory. */
static bool add_entry(kp_topics *t, const char *topic, int32_t partition, int64_t offset)
{
	struct kp_topics_hw *e = calloc(1, sizeof(*e));
	char key[300];

	snprintf(key, sizeof(key), "%s %" PRId32, topic, partition);
	if (!e || !(e->key = strdup(key))) {
		free(e);
		return false;
	}
	e->offset = offset;
	HASH_ADD_KEYPTR(hh, t->hw, e->key, strlen(e->key), e);
	return true;
}

/* parse - the file's entries into t->hw; false when it is not a whole version-0 file. */
static bool parse(kp_topics *t, FILE *f)
{
	char topic[256];
	long long n, offset;
	int32_t partition;
	int version;

	if (fscanf(f, "%d %lld", &version, &n) != 2 || version != 0 || n < 0)
		return false;
	for (long long i = 0; i < n; i++) {
		if (fscanf(f, "%255s %" SCNd32 " %lld", topic, &partition, &offset) != 3 ||
		    partition < 0 || offset < 0 || !add_entry(t, topic, partition, offset))
			return false;
	}
	return fscanf(f, "%255s", topic) == EOF;
}

/* load_dir - the checkpoint of log dir `dir` into t->hw; a torn or foreign file adds nothing. */
static int load_dir(kp_topics *t, const char *dir, kp_error *err)
{
	struct kp_topics_hw *keep = t->hw;
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, HW_FILE);
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? 0 : kp_error_errno(err, "cannot read %s", path);
	t->hw = NULL;
	if (!parse(t, f))
		kp_topics_hw_clear(t); /* torn or foreign: its partitions start from their log start */
	fclose(f);
	if (keep) { /* the other dirs' entries: a partition is in one dir only */
		struct kp_topics_hw *e, *tmp;

		HASH_ITER(hh, t->hw, e, tmp) {
			HASH_DEL(t->hw, e);
			HASH_ADD_KEYPTR(hh, keep, e->key, strlen(e->key), e);
		}
		t->hw = keep;
	}
	return 0;
}

int kp_topics_hw_load(kp_topics *t, kp_error *err)
{
	for (int i = 0; i < t->ndirs; i++)
		if (load_dir(t, t->dirs[i].path, err) < 0)
			return -1;
	return 0;
}

int64_t kp_topics_hw_initial(const kp_topics *t, const char *topic, int32_t partition,
			     const kp_log *log)
{
	struct kp_topics_hw *e;
	char key[300];
	int64_t start = kp_log_start_offset(log), end = kp_log_end_offset(log);

	snprintf(key, sizeof(key), "%s %" PRId32, topic, partition);
	HASH_FIND(hh, t->hw, key, strlen(key), e);
	if (!e || e->offset < start)
		return start;
	return e->offset > end ? end : e->offset;
}

/* write_entries - the "TOPIC P HW" line of every online partition of log dir `d` to f; how many in *n. */
static void write_entries(const kp_topics *t, int d, FILE *f, size_t *n)
{
	for (size_t i = 0; i < t->n; i++)
		for (int32_t j = 0; j < t->v[i]->partition_count; j++) {
			const struct kp_partition *p = &t->v[i]->partitions[j];

			if (!p->hosted || !p->log || p->dir != d || p->high_watermark < 0)
				continue;
			if (f)
				fprintf(f, "%s %" PRId32 " %" PRId64 "\n", t->v[i]->name, p->index,
					p->high_watermark);
			(*n)++;
		}
}

/* save_dir - write log dir `d`'s checkpoint (a temporary file renamed over it). */
static int save_dir(const kp_topics *t, int d, kp_error *err)
{
	const char *dir = t->dirs[d].path;
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t n = 0;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, HW_FILE) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, HW_FILE) >= sizeof(tmp))
		return kp_error_set(err, KP_EINVAL, "log dir path too long: %s", dir);
	write_entries(t, d, NULL, &n);
	if (!(f = fopen(tmp, "w")))
		return kp_error_errno(err, "cannot write %s", tmp);
	fprintf(f, "0\n%zu\n", n);
	n = 0;
	write_entries(t, d, f, &n);
	if (fclose(f) != 0) {
		kp_error_errno(err, "cannot write %s", tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0)
		return kp_error_errno(err, "cannot rename %s to %s", tmp, path);
	return 0;
}

int kp_topics_hw_save(const kp_topics *t, kp_error *err)
{
	int rc = 0;

	for (int i = 0; i < t->ndirs; i++)
		if (!t->dirs[i].offline && save_dir(t, i, err) < 0)
			rc = -1;
	return rc;
}
