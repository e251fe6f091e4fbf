/*
 * describe_log_dirs.c - DescribeLogDirs (key 35), versions 1-4 (KIP-113;
 * Kafka 4 removed v0, KIP-896; v4 adds the volume's total and usable
 * bytes, KIP-827).
 *
 * One result per log dir in log.dirs, with its absolute path, naming the
 * hosted partitions whose directories are in it: all of them when the
 * request's topics are null, else those it names (partitions not hosted
 * here are left out, as Kafka's ReplicaManager.describeLogDirs does). A
 * partition's size is that of its segments; its offset lag
 * max(high watermark - log end offset, 0), which is 0 for a current log
 * (there are no future logs: no AlterReplicaLogDirs yet). A log dir that
 * failed (log_dir_failure.c) answers KAFKA_STORAGE_ERROR and nothing else.
 *
 *   Results[dir]: LogDir, TotalBytes, UsableBytes
 *     Topics[t]: Name
 *       Partitions[p]: PartitionIndex, PartitionSize, OffsetLag, IsFutureKey
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "broker/internal.h"

typedef struct kp_describe_log_dirs_response_describe_log_dirs_result dld_result;
typedef struct kp_describe_log_dirs_response_describe_log_dirs_topic dld_topic;
typedef struct kp_describe_log_dirs_response_describe_log_dirs_partition dld_partition;

/* wanted - whether `req` asks about partition `index` of topic `name` (null topics: all). */
static bool wanted(const struct kp_describe_log_dirs_request *req, const char *name, int32_t index)
{
	if (req->topics_count < 0)
		return true;
	for (int32_t i = 0; i < req->topics_count; i++) {
		const struct kp_describe_log_dirs_request_describable_log_dir_topic *t = &req->topics[i];

		if (!t->topic || strcmp(t->topic, name) != 0)
			continue;
		for (int32_t j = 0; j < t->partitions_count; j++)
			if (t->partitions[j] == index)
				return true;
	}
	return false;
}

/* in_dir - whether the partition directory `path` is directly in log dir `dir`. */
static bool in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' && !strchr(path + n + 1, '/');
}

/* shown - the hosted partition p of t, when rq asks about it and it lives in `dir`. */
static bool shown(struct kp_request *rq, const struct kp_topic *t, const struct kp_partition *p,
		  const char *dir)
{
	return p->hosted && p->log && in_dir(kp_log_dir(p->log), dir) &&
	       wanted(rq->body, t->name, p->index);
}

/* fill_topic - the partitions of t in `dir` into *out; false when none (or out of memory). */
static bool fill_topic(struct kp_request *rq, const struct kp_topic *t, const char *dir,
		       dld_topic *out)
{
	int32_t n = 0;

	for (int32_t j = 0; j < t->partition_count; j++)
		n += shown(rq, t, &t->partitions[j], dir);
	if (n == 0 || !(out->partitions = kp_request_alloc(rq, sizeof(dld_partition) * (size_t)n)))
		return false;
	out->name = t->name;
	for (int32_t j = 0; j < t->partition_count; j++) {
		const struct kp_partition *p = &t->partitions[j];
		dld_partition *o = &out->partitions[out->partitions_count];
		int64_t lag;

		if (!shown(rq, t, p, dir))
			continue;
		lag = kp_partition_high_watermark(p) - kp_log_end_offset(p->log);
		o->partition_index = p->index;
		o->partition_size = kp_log_size_bytes(p->log);
		o->offset_lag = lag > 0 ? lag : 0;
		out->partitions_count++;
	}
	return true;
}

/* fill_result - log dir `dir`: its path, volume and partitions (`offline`: its error). -1 when out of memory. */
static int fill_result(struct kp_request *rq, const char *dir, bool offline, dld_result *out)
{
	kp_topics *topics = rq->broker->topics;
	size_t nt = topics ? kp_topics_count(topics) : 0;
	char abs[PATH_MAX];
	struct statvfs vfs;

	out->log_dir = realpath(dir, abs) ? kp_arena_strndup(&rq->arena, abs, strlen(abs))
					  : (char *)dir;
	out->total_bytes = out->usable_bytes = -1;
	if (offline) { /* Kafka: KAFKA_STORAGE_ERROR, the path, nothing else */
		out->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
		return out->log_dir ? 0 : -1;
	}
	if (statvfs(dir, &vfs) == 0) {
		out->total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
		out->usable_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	}
	if (!out->log_dir || (nt && !(out->topics = kp_request_alloc(rq, sizeof(dld_topic) * nt))))
		return -1;
	for (size_t i = 0; i < nt; i++)
		if (fill_topic(rq, kp_topics_at(topics, i), dir, &out->topics[out->topics_count]))
			out->topics_count++;
	return 0;
}

int kp_handle_describe_log_dirs(struct kp_request *rq, kp_error *err)
{
	const struct kp_broker_config *cfg = &rq->broker->cfg;
	struct kp_describe_log_dirs_response *resp = kp_describe_log_dirs_response_new(&rq->arena, 1);

	if (!resp || !(resp->results = kp_request_alloc(rq, sizeof(dld_result) *
							 (size_t)(cfg->log_dir_count + 1))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->results_count = cfg->log_dir_count;
	for (int i = 0; i < cfg->log_dir_count; i++)
		if (fill_result(rq, cfg->log_dirs[i],
				rq->broker->topics && kp_topics_dir_offline(rq->broker->topics, i),
				&resp->results[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	KP_RESPOND(rq, DESCRIBE_LOG_DIRS, resp);
	return 0;
}
