/*
 * topics.c - the topic registry and its directory layout; see topics.h.
 *
 * Topics live in a plain array: a single node has tens to thousands of
 * topics, and lookups happen per request, not per record.
 */
#include "broker/topics.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/uuid.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/file.h"

/* The suffix of a partition directory being created (topics_cluster.c, create_dir). */
#define STAGED_SUFFIX ".creating"

#include "broker/topics_internal.h"

kp_topics *kp_topics_new(char *const *dirs, int ndirs, const struct kp_log_config *cfg)
{
	kp_topics *t;

	if (ndirs < 1 || ndirs > KP_TOPICS_MAX_DIRS || !(t = calloc(1, sizeof(*t))))
		return NULL;
	for (t->ndirs = 0; t->ndirs < ndirs; t->ndirs++)
		if (!(t->dirs[t->ndirs].path = strdup(dirs[t->ndirs]))) {
			kp_topics_free(t);
			return NULL;
		}
	t->logcfg = *cfg;
	return t;
}

void kp_topics_topic_free(struct kp_topic *topic)
{
	if (!topic)
		return;
	for (int32_t i = 0; i < topic->partition_count; i++) {
		kp_log_close(topic->partitions[i].log);
		free(topic->partitions[i].replicas);
		free(topic->partitions[i].isr);
		free(topic->partitions[i].remote);
	}
	free(topic->partitions);
	free(topic->name);
	free(topic);
}

void kp_topics_free(kp_topics *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		kp_topics_topic_free(t->v[i]);
	free(t->v);
	kp_topics_dirs_free(t);
	kp_topics_hw_clear(t);
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
	if (kp_uuid_is_zero(id))
		return NULL;
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
	return p->log ? p->high_watermark : -1;
}

int16_t kp_partition_leader_epoch_error(const struct kp_partition *p, int32_t current)
{
	if (current < 0 || current == p->leader_epoch)
		return KP_ERR_NONE;
	return current < p->leader_epoch ? KP_ERR_FENCED_LEADER_EPOCH : KP_ERR_UNKNOWN_LEADER_EPOCH;
}

bool kp_partition_online(const struct kp_partition *p)
{
	return p->log != NULL;
}

void kp_topics_flush(kp_topics *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (int32_t j = 0; j < t->v[i]->partition_count; j++) {
			kp_error err;

			if (t->v[i]->partitions[j].log && kp_log_flush(t->v[i]->partitions[j].log, &err) < 0)
				kp_diag_error("cannot flush %s-%d: %s", t->v[i]->name, j, err.msg);
		}
}

int kp_topics_add(kp_topics *t, struct kp_topic *topic, kp_error *err)
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

struct kp_topic *kp_topics_topic_alloc(const char *name, int32_t partitions)
{
	struct kp_topic *topic = calloc(1, sizeof(*topic));

	if (!topic)
		return NULL;
	topic->name = strdup(name);
	topic->partitions = calloc((size_t)partitions, sizeof(*topic->partitions));
	if (!topic->name || !topic->partitions) {
		kp_topics_topic_free(topic);
		return NULL;
	}
	topic->partition_count = partitions;
	for (int32_t i = 0; i < partitions; i++)
		topic->partitions[i].index = i;
	return topic;
}

/* kp_topics_partition_dir - "DIR/TOPIC-N", or the staging name "DIR/.TOPIC-N.creating", into `out`. */
void kp_topics_partition_dir(const char *dir, const char *topic, int32_t i, bool staged, char *out,
			  size_t outlen)
{
	if (staged)
		snprintf(out, outlen, "%s/.%s-%d%s", dir, topic, (int)i, STAGED_SUFFIX);
	else
		snprintf(out, outlen, "%s/%s-%d", dir, topic, (int)i);
}

/*
 * kp_topics_write_partition_metadata - PDIR/partition.metadata as Kafka
 * writes it: atomically (a temporary file fsynced and renamed) when
 * `durable`, else written in place and not synced (a directory still
 * being staged, made durable as a whole later: kp_topics_sync_created).
 */
int kp_topics_write_partition_metadata(const char *pdir, const kp_uuid *id, bool durable,
				       kp_error *err)
{
	char path[PATH_MAX + 32], text[64], idtext[KP_UUID_STR_LEN + 1];
	FILE *f;

	kp_uuid_format(id, idtext);
	snprintf(path, sizeof(path), "%s/partition.metadata", pdir);
	snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", idtext);
	if (durable)
		return kp_write_file_atomic(path, text, err);
	if (!(f = fopen(path, "w")))
		return kp_error_errno(err, "cannot write %s", path);
	if (fputs(text, f) < 0 || fclose(f) != 0)
		return kp_error_errno(err, "cannot write %s", path);
	return 0;
}

/* kp_topics_read_partition_metadata - the topic id in `pdir`'s partition.metadata; -1 if absent/bad. */
int kp_topics_read_partition_metadata(const char *pdir, kp_uuid *id)
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

/*
 * open_partitions - open (recover) the log of every partition of `topic`
 * in `dir`. With `offline_ok` (loading at startup), a log that cannot be
 * opened is logged at ERROR and its partition left offline (log NULL) so
 * that the broker serves everything else; otherwise it fails.
 */
static int open_partitions(kp_topics *t, const char *dir, struct kp_topic *topic,
			   bool offline_ok, kp_error *err)
{
	char pdir[PATH_MAX];
	int d = kp_topics_dir_index(t, dir);

	for (int32_t i = 0; i < topic->partition_count; i++) {
		kp_topics_partition_dir(dir, topic->name, i, false, pdir, sizeof(pdir));
		topic->partitions[i].dir = d < 0 ? 0 : d;
		if (d >= 0)
			t->dirs[d].logs++;
		if (kp_log_open(pdir, &t->logcfg, &topic->partitions[i].log, err) == 0) {
			topic->partitions[i].high_watermark =
				kp_topics_hw_initial(t, topic->name, i, topic->partitions[i].log);
			continue;
		}
		if (!offline_ok || err->code == KP_ENOMEM)
			return -1;
		kp_diag_error("partition %s is offline: cannot open its log: %s", pdir, err->msg);
		topic->partitions[i].log = NULL;
	}
	return 0;
}

/* kp_topics_move_aside - rename directory `path` to PATH.<ms>-stray, with a WARN. */
int kp_topics_move_aside(const char *path, kp_error *err)
{
	char stray[PATH_MAX + 40];

	snprintf(stray, sizeof(stray), "%s.%" PRId64 "-stray", path, kp_wall_ms());
	if (rename(path, stray) < 0)
		return kp_error_errno(err, "cannot move %s aside", path);
	kp_diag_warn("moved %s, in the way of a new topic, to %s", path, stray);
	return 0;
}

/* split_dir_name - "TOPIC-N" into topic name and partition; false if not that shape. */
static bool split_dir_name(const char *d, char *name, size_t namelen, int32_t *part)
{
	const char *dash = strrchr(d, '-');
	char *end;

	if (!dash || dash == d || !dash[1] || (size_t)(dash - d) >= namelen)
		return false;
	long p = strtol(dash + 1, &end, 10);

	if (*end || p < 0 || p >= KP_TOPIC_MAX_PARTITIONS)
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

/* read_topic_id - the topic id all partition directories of `topic` agree on; -1 (WARN) if none. */
static int read_topic_id(const char *dir, struct kp_topic *topic)
{
	char pdir[PATH_MAX];
	kp_uuid id;

	for (int32_t i = 0; i < topic->partition_count; i++) {
		kp_topics_partition_dir(dir, topic->name, i, false, pdir, sizeof(pdir));
		if (kp_topics_read_partition_metadata(pdir, &id) < 0) {
			kp_diag_warn("skipping topic %s: %s has no valid partition.metadata", topic->name,
				     pdir);
			return -1;
		}
		if (i > 0 && memcmp(&id, &topic->id, sizeof(id)) != 0) {
			kp_diag_warn("skipping topic %s: %s has another topic id than partition 0",
				     topic->name, pdir);
			return -1;
		}
		topic->id = id;
	}
	return 0;
}

static int topic_load(kp_topics *t, const char *dir, const char *name, kp_error *err)
{
	struct kp_topic *topic = kp_topics_topic_alloc(name, count_partitions(dir, name));

	if (!topic)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (read_topic_id(dir, topic) < 0) {
		kp_topics_topic_free(topic);
		return 0;
	}
	if (open_partitions(t, dir, topic, true, err) < 0 || kp_topics_add(t, topic, err) < 0) {
		kp_topics_topic_free(topic);
		return -1;
	}
	return 0;
}

/* remove_staged - remove DIR/NAME, a staging directory of an interrupted topic creation. */
static void remove_staged(const char *dir, const char *name)
{
	char p[PATH_MAX];
	kp_error err;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (kp_remove_dir_files(p, &err) < 0)
		kp_diag_warn("%s", err.msg);
	else
		kp_diag_info("removed %s, left by an interrupted topic creation", p);
}

/* is_staged - whether a directory entry is a staging directory (".TOPIC-N.creating"). */
static bool is_staged(const char *name)
{
	size_t len = strlen(name), slen = strlen(STAGED_SUFFIX);

	return name[0] == '.' && len > slen + 1 && strcmp(name + len - slen, STAGED_SUFFIX) == 0;
}

/* warn_if_dir - WARN about DIR/NAME when it is a directory that is not TOPIC-N. */
static void warn_if_dir(const char *dir, const char *name)
{
	struct stat st;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		kp_diag_warn("ignoring directory %s: not TOPIC-PARTITION", p);
}

int kp_topics_sweep_staged(const char *dir, kp_error *err)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	if (!dh)
		return errno == ENOENT ? 0 : kp_error_errno(err, "cannot read %s", dir);
	while ((de = readdir(dh)))
		if (is_staged(de->d_name))
			remove_staged(dir, de->d_name);
	closedir(dh);
	return 0;
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
		if (is_staged(de->d_name))
			remove_staged(dir, de->d_name);
		else if (de->d_name[0] == '.')
			continue;
		else if (!split_dir_name(de->d_name, name, sizeof(name), &part))
			warn_if_dir(dir, de->d_name);
		else if (strcmp(name, "__cluster_metadata") == 0)
			continue; /* the metadata log, not a topic */
		else if (part == 0 && !kp_topics_find(t, name))
			rc = topic_load(t, dir, name, err);
	}
	closedir(dh);
	return rc;
}

bool kp_topic_is_internal(const char *name)
{
	static const char *const internal[] = { "__consumer_offsets", "__transaction_state",
						"__share_group_state" };

	for (size_t i = 0; name && i < sizeof(internal) / sizeof(internal[0]); i++)
		if (strcmp(name, internal[i]) == 0)
			return true;
	return false;
}
