/*
 * topics_cluster.c - the registry of a KRaft broker, which follows the
 * metadata image instead of its directories: topics are added as the
 * image names them, the partitions assigned to this broker get their
 * directories and logs, and removed topics lose theirs (Kafka's
 * LogManager as ReplicaManager.applyDelta drives it). See topics.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/topics_internal.h"
#include "protocol/errors.h"
#include "util/diag.h"
#include "util/file.h"

int kp_topics_add_empty(kp_topics *t, const char *name, const kp_uuid *id, int32_t partitions,
			struct kp_topic **out, kp_error *err)
{
	struct kp_topic *topic;

	if (kp_topics_find(t, name))
		return kp_error_kafka(err, KP_ERR_TOPIC_ALREADY_EXISTS, "topic '%s' already exists", name);
	if (partitions < 0 || partitions > KP_TOPIC_MAX_PARTITIONS)
		return kp_error_kafka(err, KP_ERR_INVALID_PARTITIONS, "invalid partition count %d",
				      partitions);
	topic = kp_topics_topic_alloc(name, partitions ? partitions : 1);
	if (!topic)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	topic->partition_count = partitions;
	topic->id = *id;
	for (int32_t i = 0; i < partitions; i++) {
		topic->partitions[i].follower = true;
		topic->partitions[i].leader = -1;
	}
	if (kp_topics_add(t, topic, err) < 0) {
		kp_topics_topic_free(topic);
		return -1;
	}
	*out = topic;
	return 0;
}

int kp_topics_grow(struct kp_topic *topic, int32_t partitions, kp_error *err)
{
	struct kp_partition *ps;

	if (partitions < topic->partition_count || partitions > KP_TOPIC_MAX_PARTITIONS)
		return kp_error_set(err, KP_EINVAL, "cannot go from %d to %d partitions",
				    topic->partition_count, partitions);
	if (partitions == topic->partition_count)
		return 0;
	ps = realloc(topic->partitions, sizeof(*ps) * (size_t)partitions);
	if (!ps)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	memset(&ps[topic->partition_count], 0,
	       sizeof(*ps) * (size_t)(partitions - topic->partition_count));
	for (int32_t i = topic->partition_count; i < partitions; i++) {
		ps[i].index = i;
		ps[i].follower = true;
		ps[i].leader = -1;
	}
	topic->partitions = ps;
	topic->partition_count = partitions;
	return 0;
}

/* create_dir - a new DIR/TOPIC-N in log dir `d` holding only partition.metadata, made under a staging name. */
static int create_dir(kp_topics *t, int d, const struct kp_topic *topic, int32_t index,
		      const char *final, kp_error *err)
{
	char staged[PATH_MAX];

	kp_topics_partition_dir(t->dirs[d].path, topic->name, index, true, staged, sizeof(staged));
	if (kp_remove_dir_files(staged, err) < 0)
		return -1;
	if (mkdir(staged, 0755) < 0)
		return kp_error_errno(err, "cannot create %s", staged);
	if (kp_topics_write_partition_metadata(staged, &topic->id, false, err) < 0)
		return -1;
	if (rename(staged, final) < 0)
		return kp_error_errno(err, "cannot rename %s to %s", staged, final);
	return kp_topics_note_created(t, d, final, err); /* made durable once per publish */
}

int kp_topics_open_replica(kp_topics *t, struct kp_topic *topic, int32_t index, kp_error *err)
{
	struct kp_partition *p = kp_topic_partition(topic, index);
	char pdir[PATH_MAX];
	struct stat st;
	kp_uuid id;
	int d;

	if (!p)
		return kp_error_set(err, KP_EINVAL, "%s has no partition %d", topic->name, index);
	if (p->log) {
		p->hosted = true;
		return 0;
	}
	if (p->hosted && kp_topics_dir_offline(t, p->dir)) /* stays offline with its dir */
		return kp_error_set(err, KP_EIO, "%s-%d: log dir %s is offline", topic->name, index,
				    t->dirs[p->dir].path);
	if ((d = kp_topics_place(t, topic, index)) < 0)
		return kp_error_set(err, KP_EIO, "%s-%d: every log dir is offline", topic->name, index);
	if (!p->hosted || p->dir != d) { /* placed from now on, even if the open fails below (the */
		if (p->hosted && t->dirs[p->dir].logs > 0) /* caller then keeps it hosted, offline) */
			t->dirs[p->dir].logs--;
		t->dirs[d].logs++;
		p->dir = d;
	}
	kp_topics_partition_dir(t->dirs[d].path, topic->name, index, false, pdir, sizeof(pdir));
	if (stat(pdir, &st) == 0) {
		bool same = kp_topics_read_partition_metadata(pdir, &id) == 0 &&
			    memcmp(&id, &topic->id, sizeof(id)) == 0;

		if (!same && kp_topics_move_aside(pdir, err) < 0)
			return -1;
		if (!same && create_dir(t, d, topic, index, pdir, err) < 0)
			return -1;
	} else if (errno != ENOENT) {
		return kp_error_errno(err, "cannot stat %s", pdir);
	} else if (create_dir(t, d, topic, index, pdir, err) < 0) {
		return -1;
	}
	if (kp_log_open(pdir, &t->logcfg, &p->log, err) < 0) {
		p->log = NULL;
		return -1;
	}
	p->high_watermark = kp_topics_hw_initial(t, topic->name, index, p->log);
	p->hosted = true;
	return 0;
}

/* remove_replica - close partition `p`'s log and remove its directory; -1 with KP_EIO. */
static int remove_replica(kp_topics *t, struct kp_topic *topic, struct kp_partition *p,
			  kp_error *err)
{
	struct kp_topics_dir *d = &t->dirs[p->dir];
	char pdir[PATH_MAX];

	kp_log_close(p->log);
	p->log = NULL;
	p->hosted = false;
	p->high_watermark = -1;
	if (d->logs > 0)
		d->logs--;
	if (d->offline) /* nothing to touch on a failed disk: a restart finds it as a stray */
		return 0;
	kp_topics_partition_dir(d->path, topic->name, p->index, false, pdir, sizeof(pdir));
	return kp_remove_dir_files(pdir, err);
}

int kp_topics_drop_replica(kp_topics *t, struct kp_topic *topic, int32_t index, kp_error *err)
{
	struct kp_partition *p = kp_topic_partition(topic, index);

	return p && p->hosted ? remove_replica(t, topic, p, err) : 0;
}

int kp_topics_delete(kp_topics *t, struct kp_topic *topic, kp_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == topic) {
			t->v[i] = t->v[--t->n];
			break;
		}
	for (int32_t i = 0; i < topic->partition_count; i++) {
		struct kp_partition *p = &topic->partitions[i];

		if (p->hosted && remove_replica(t, topic, p, err) < 0)
			rc = -1;
	}
	kp_topics_topic_free(topic);
	return rc;
}

int kp_partition_set_ids(int32_t **dst, int32_t *count, const int32_t *ids, int32_t n)
{
	int32_t *v = NULL;

	if (n > 0) {
		v = malloc(sizeof(*v) * (size_t)n);
		if (!v)
			return -1;
		memcpy(v, ids, sizeof(*v) * (size_t)n);
	}
	free(*dst);
	*dst = v;
	*count = n > 0 ? n : 0;
	return 0;
}
