/*
 * topics.c - the topic registry and its directory layout; see topics.h.
 *
 * Topics live in a plain array: a single node has tens to thousands of
 * topics, and lookups happen per request, not per record.
 */
#include "broker/topics.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/uuid.h"
#include "protocol/errors.h"
#include "util/diag.h"

struct kp_topics {
	char *dir;
	struct kp_log_config logcfg;
	struct kp_topic **v;
	size_t n, cap;
};

kp_topics *kp_topics_new(const char *dir, const struct kp_log_config *cfg)
{
	kp_topics *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->dir = strdup(dir);
	if (!t->dir) {
		free(t);
		return NULL;
	}
	t->logcfg = *cfg;
	return t;
}

static void topic_free(struct kp_topic *topic)
{
	if (!topic)
		return;
	for (int32_t i = 0; i < topic->partition_count; i++)
		kp_log_close(topic->partitions[i].log);
	free(topic->partitions);
	free(topic->name);
	free(topic);
}

void kp_topics_free(kp_topics *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		topic_free(t->v[i]);
	free(t->v);
	free(t->dir);
	free(t);
}

bool kp_topic_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

struct kp_topic *kp_topics_find(const kp_topics *t, const char *name)
{
	for (size_t i = 0; name && i < t->n; i++)
		if (strcmp(t->v[i]->name, name) == 0)
			return t->v[i];
	return NULL;
}

struct kp_topic *kp_topics_find_id(const kp_topics *t, const kp_uuid *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(&t->v[i]->id, id, sizeof(*id)) == 0)
			return t->v[i];
	return NULL;
}

struct kp_partition *kp_topic_partition(struct kp_topic *topic, int32_t index)
{
	if (!topic || index < 0 || index >= topic->partition_count)
		return NULL;
	return &topic->partitions[index];
}

size_t kp_topics_count(const kp_topics *t)
{
	return t->n;
}

struct kp_topic *kp_topics_at(const kp_topics *t, size_t i)
{
	return i < t->n ? t->v[i] : NULL;
}

int64_t kp_partition_high_watermark(const struct kp_partition *p)
{
	return kp_log_end_offset(p->log);
}

void kp_topics_flush(kp_topics *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (int32_t j = 0; j < t->v[i]->partition_count; j++) {
			kp_error err;

			if (kp_log_flush(t->v[i]->partitions[j].log, &err) < 0)
				kp_diag_error("cannot flush %s-%d: %s", t->v[i]->name, j, err.msg);
		}
}

static int topics_add(kp_topics *t, struct kp_topic *topic, kp_error *err)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct kp_topic **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = topic;
	return 0;
}

static struct kp_topic *topic_alloc(const char *name, int32_t partitions)
{
	struct kp_topic *topic = calloc(1, sizeof(*topic));

	if (!topic)
		return NULL;
	topic->name = strdup(name);
	topic->partitions = calloc((size_t)partitions, sizeof(*topic->partitions));
	if (!topic->name || !topic->partitions) {
		topic_free(topic);
		return NULL;
	}
	topic->partition_count = partitions;
	for (int32_t i = 0; i < partitions; i++)
		topic->partitions[i].index = i;
	return topic;
}

/* write_partition_metadata - LOGDIR/TOPIC-N/partition.metadata, as Kafka writes it. */
static int write_partition_metadata(const char *pdir, const kp_uuid *id, kp_error *err)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32], text[KP_UUID_STR_LEN + 1];

	kp_uuid_format(id, text);
	snprintf(path, sizeof(path), "%s/partition.metadata", pdir);
	snprintf(tmp, sizeof(tmp), "%s/partition.metadata.tmp", pdir);
	FILE *f = fopen(tmp, "w");

	if (!f)
		return kp_error_errno(err, "cannot write %s", tmp);
	fprintf(f, "version: 0\ntopic_id: %s\n", text);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return kp_error_errno(err, "cannot write %s", tmp);
	}
	fclose(f);
	if (rename(tmp, path) < 0)
		return kp_error_errno(err, "cannot rename %s", tmp);
	return 0;
}

/* read_partition_metadata - the topic id in `pdir`'s partition.metadata; -1 if absent/bad. */
static int read_partition_metadata(const char *pdir, kp_uuid *id)
{
	char path[PATH_MAX + 32], line[256];
	int rc = -1;

	snprintf(path, sizeof(path), "%s/partition.metadata", pdir);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *v = line + strlen("topic_id:");

		if (strncmp(line, "topic_id:", 9) != 0)
			continue;
		while (*v == ' ')
			v++;
		v[strcspn(v, "\r\n ")] = '\0';
		if (kp_uuid_parse(v, id))
			rc = 0;
	}
	fclose(f);
	return rc;
}

static int partition_open(const kp_topics *t, const char *dir, struct kp_topic *topic, int32_t i,
			  bool create, kp_error *err)
{
	char pdir[PATH_MAX];

	snprintf(pdir, sizeof(pdir), "%s/%s-%d", dir, topic->name, i);
	if (create && mkdir(pdir, 0755) < 0 && errno != EEXIST)
		return kp_error_errno(err, "cannot create %s", pdir);
	if (create && write_partition_metadata(pdir, &topic->id, err) < 0)
		return -1;
	return kp_log_open(pdir, &t->logcfg, &topic->partitions[i].log, err);
}

int kp_topics_create(kp_topics *t, const char *name, int32_t partitions, struct kp_topic **out,
		     kp_error *err)
{
	if (!kp_topic_name_valid(name))
		return kp_error_kafka(err, KP_ERR_INVALID_TOPIC_EXCEPTION, "invalid topic name '%s'", name);
	if (kp_topics_find(t, name))
		return kp_error_kafka(err, KP_ERR_TOPIC_ALREADY_EXISTS, "topic '%s' already exists", name);
	if (partitions < 1 || partitions > 100000)
		return kp_error_kafka(err, KP_ERR_INVALID_PARTITIONS, "invalid partition count %d", partitions);
	struct kp_topic *topic = topic_alloc(name, partitions);

	if (!topic)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (kp_uuid_random(&topic->id, err) < 0)
		goto fail;
	for (int32_t i = 0; i < partitions; i++)
		if (partition_open(t, t->dir, topic, i, true, err) < 0)
			goto fail;
	if (topics_add(t, topic, err) < 0)
		goto fail;
	*out = topic;
	return 0;
fail:
	topic_free(topic);
	return -1;
}

/* split_dir_name - "TOPIC-N" into topic name and partition; false if not that shape. */
static bool split_dir_name(const char *d, char *name, size_t namelen, int32_t *part)
{
	const char *dash = strrchr(d, '-');
	char *end;

	if (!dash || dash == d || !dash[1] || (size_t)(dash - d) >= namelen)
		return false;
	long p = strtol(dash + 1, &end, 10);

	if (*end || p < 0 || p > 100000)
		return false;
	memcpy(name, d, (size_t)(dash - d));
	name[dash - d] = '\0';
	*part = (int32_t)p;
	return kp_topic_name_valid(name);
}

/* count_partitions - highest N+1 of dirs NAME-N in `dir`. */
static int32_t count_partitions(const char *dir, const char *topic)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char name[256];
	int32_t part, max = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh)))
		if (split_dir_name(de->d_name, name, sizeof(name), &part) && strcmp(name, topic) == 0 &&
		    part + 1 > max)
			max = part + 1;
	closedir(dh);
	return max;
}

static int topic_load(kp_topics *t, const char *dir, const char *name, kp_error *err)
{
	int32_t n = count_partitions(dir, name);
	struct kp_topic *topic = topic_alloc(name, n);
	char pdir[PATH_MAX];

	if (!topic)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++) {
		kp_uuid id;

		snprintf(pdir, sizeof(pdir), "%s/%s-%d", dir, name, i);
		if (read_partition_metadata(pdir, &id) < 0) {
			kp_diag_warn("skipping topic %s: %s has no valid partition.metadata", name, pdir);
			topic_free(topic);
			return 0;
		}
		if (i == 0)
			topic->id = id;
		if (partition_open(t, dir, topic, i, false, err) < 0)
			goto fail;
	}
	if (topics_add(t, topic, err) < 0)
		goto fail;
	return 0;
fail:
	topic_free(topic);
	return -1;
}

int kp_topics_load(kp_topics *t, const char *dir, kp_error *err)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char name[256];
	int32_t part;
	int rc = 0;

	if (!dh)
		return errno == ENOENT ? 0 : kp_error_errno(err, "cannot read %s", dir);
	while (rc == 0 && (de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		if (!split_dir_name(de->d_name, name, sizeof(name), &part)) {
			struct stat st;
			char p[PATH_MAX];

			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
				kp_diag_warn("ignoring directory %s: not TOPIC-PARTITION", p);
			continue;
		}
		if (part != 0 || kp_topics_find(t, name))
			continue;
		rc = topic_load(t, dir, name, err);
	}
	closedir(dh);
	return rc;
}
