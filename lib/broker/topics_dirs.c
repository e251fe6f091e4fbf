/*
 * topics_dirs.c - the log dirs (log.dirs) of the topic registry: where a
 * new replica goes, and a dir whose disk fails (Kafka's JBOD, KIP-112).
 *
 *   log.dirs=/d0,/d1,/d2
 *   /d0  12 partitions            a new replica goes to the online dir
 *   /d1  11 partitions   <-- new  with the fewest partitions (Kafka's
 *   /d2  offline (EIO)            LogManager.nextLogDirs), unless one
 *                                 already holds its TOPIC-N directory
 *
 * A dir fails when a write, fsync or open in it fails: it goes offline
 * with every partition in it (their logs closed; they stay hosted here
 * and answer KAFKA_STORAGE_ERROR) and nothing opens in it again until
 * the broker restarts; the other dirs keep serving. See topics.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/topics.h"
#include "util/diag.h"
#include "util/file.h"

#include "broker/topics_internal.h"

int kp_topics_dir_count(const kp_topics *t)
{
	return t->ndirs;
}

const char *kp_topics_dir_path(const kp_topics *t, int i)
{
	return i >= 0 && i < t->ndirs ? t->dirs[i].path : NULL;
}

bool kp_topics_dir_offline(const kp_topics *t, int i)
{
	return i >= 0 && i < t->ndirs && t->dirs[i].offline;
}

int kp_topics_online_dirs(const kp_topics *t)
{
	int n = 0;

	for (int i = 0; i < t->ndirs; i++)
		n += !t->dirs[i].offline;
	return n;
}

int kp_topics_dir_index(const kp_topics *t, const char *path)
{
	for (int i = 0; i < t->ndirs; i++)
		if (strcmp(t->dirs[i].path, path) == 0)
			return i;
	return -1;
}

int kp_topics_place(const kp_topics *t, const struct kp_topic *topic, int32_t index)
{
	char pdir[PATH_MAX];
	struct stat st;
	int best = -1;

	for (int i = 0; i < t->ndirs; i++) {
		if (t->dirs[i].offline)
			continue;
		kp_topics_partition_dir(t->dirs[i].path, topic->name, index, false, pdir, sizeof(pdir));
		if (t->ndirs > 1 && stat(pdir, &st) == 0)
			return i;
		if (best < 0 || t->dirs[i].logs < t->dirs[best].logs)
			best = i;
	}
	return best;
}

int kp_topics_dir_of(const kp_topics *t, const char *path)
{
	size_t best_len = 0;
	int best = -1;

	for (int i = 0; i < t->ndirs; i++) {
		size_t len = strlen(t->dirs[i].path);

		if (len > best_len && strncmp(path, t->dirs[i].path, len) == 0 &&
		    (path[len] == '/' || path[len] == '\0')) {
			best = i;
			best_len = len;
		}
	}
	return best;
}

int kp_topics_fail_dir(kp_topics *t, int d)
{
	int n = 0;

	if (d < 0 || d >= t->ndirs || t->dirs[d].offline)
		return -1;
	t->dirs[d].offline = true;
	for (size_t i = 0; i < t->n; i++)
		for (int32_t j = 0; j < t->v[i]->partition_count; j++) {
			struct kp_partition *p = &t->v[i]->partitions[j];

			if (!p->hosted || p->dir != d || !p->log)
				continue;
			kp_log_abandon(p->log); /* nothing more written to the failed disk */
			p->log = NULL;
			n++;
		}
	return n;
}

/*
 * New partition directories made in one metadata publish above which one
 * syncfs(2) of the log dir's filesystem makes them durable, instead of two
 * fsyncs each (partition.metadata, the directory): creating 10,000
 * partitions at once then costs one sync, not 20,000 (each a journal
 * commit on ext4). It also writes back whatever else is dirty on that
 * filesystem, which a burst of creations can afford.
 */
#define KP_SYNCFS_ABOVE 16

int kp_topics_note_created(kp_topics *t, int d, const char *pdir, kp_error *err)
{
	struct kp_topics_dir *ld = &t->dirs[d];
	char **v;

	if (ld->ncreated == ld->capcreated) {
		size_t cap = ld->capcreated ? ld->capcreated * 2 : 16;

		if (!(v = realloc(ld->created, cap * sizeof(*v))))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		ld->created = v;
		ld->capcreated = cap;
	}
	if (!(ld->created[ld->ncreated] = strdup(pdir)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	ld->ncreated++;
	return 0;
}

/* sync_each - fsync each new partition directory's partition.metadata, then the directory. */
static int sync_each(struct kp_topics_dir *d, kp_error *err)
{
	char path[PATH_MAX + 32];
	int fd;

	for (size_t i = 0; i < d->ncreated; i++) {
		snprintf(path, sizeof(path), "%s/partition.metadata", d->created[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) < 0) {
			kp_error_errno(err, "cannot sync %s", path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		if (kp_fsync_dir(d->created[i], err) < 0)
			return -1;
	}
	return 0;
}

/* sync_fs - syncfs(2) of the filesystem holding log dir `d`. */
static int sync_fs(struct kp_topics_dir *d, kp_error *err)
{
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || syncfs(fd) < 0)
		rc = kp_error_errno(err, "cannot sync the filesystem of %s", d->path);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* sync_dir - make log dir `d`'s new partition directories durable, then its own entries. */
static int sync_dir(struct kp_topics_dir *d, kp_error *err)
{
	int rc = 0;

	if (d->ncreated == 0)
		return 0;
	if (!d->offline) {
		rc = d->ncreated > KP_SYNCFS_ABOVE ? sync_fs(d, err) : sync_each(d, err);
		if (rc == 0)
			rc = kp_fsync_dir(d->path, err);
	}
	for (size_t i = 0; i < d->ncreated; i++)
		free(d->created[i]);
	d->ncreated = 0;
	return rc;
}

int kp_topics_sync_created(kp_topics *t, int *failed, kp_error *err)
{
	int rc = 0;

	for (int i = 0; i < t->ndirs; i++)
		if (sync_dir(&t->dirs[i], err) < 0) {
			rc = -1;
			*failed = i;
		}
	return rc;
}

void kp_topics_dirs_free(kp_topics *t)
{
	for (int i = 0; i < t->ndirs; i++) {
		struct kp_topics_dir *d = &t->dirs[i];

		for (size_t j = 0; j < d->ncreated; j++)
			free(d->created[j]);
		free(d->created);
		free(d->path);
	}
}
