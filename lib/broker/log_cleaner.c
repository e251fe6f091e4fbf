/*
 * log_cleaner.c - the broker's log cleaner (Kafka's LogCleaner and
 * CleanerThread over LogCleanerManager.grabFilthiestCompactedLog): one
 * cleaning at a time, of the dirtiest compacted log hosted here, leader
 * or follower (each replica compacts its own log, as in Kafka).
 *
 *   tick (log.cleaner.backoff.ms)                 cleaner thread (lib/log)
 *     every hosted log with cleanup.policy
 *     compact: kp_log_clean_stats; the
 *     highest ratio among the eligible
 *     -> kp_log_clean_begin -> submit  ------->   kp_clean_job_run
 *   done_cb (its pipe)                 <-------   done
 *     the partition by name, still the
 *     log of the job's directory?
 *     -> kp_log_clean_finish; at once the next dirtiest, as Kafka's
 *        thread does, else wait for the next tick
 *
 * The first uncleanable offset is bounded by the partition's high
 * watermark (Kafka: the last stable offset). A partition whose log was
 * closed or replaced while its job ran gets nothing: the job's cleaned
 * files are deleted.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker/internal.h"
#include "log/cleaner_thread.h"
#include "util/clock.h"
#include "util/diag.h"

struct kp_broker_cleaner {
	kp_cleaner *thread;
	struct event *tick, *done;
	bool busy;         /* a job is out */
	char *topic;       /* its partition (owned) */
	int32_t partition;
	int64_t started_ms; /* monotonic, when it was submitted */
};

/* pick - the hosted compacted log with the highest cleanable ratio among the eligible, or NULL. */
static struct kp_partition *pick(struct kp_broker *b, struct kp_topic **topic)
{
	struct kp_partition *best = NULL;
	struct kp_clean_stats st;
	double ratio = -1;
	int64_t now = kp_wall_ms();

	for (size_t i = 0; b->topics && i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		for (int32_t j = 0; j < t->partition_count; j++) {
			struct kp_partition *p = &t->partitions[j];

			if (!p->log || !kp_log_get_config(p->log)->cleanup_compact)
				continue;
			kp_log_clean_stats(p->log, now, kp_partition_high_watermark(p), &st);
			if (st.eligible && st.ratio > ratio) {
				ratio = st.ratio;
				best = p;
				*topic = t;
			}
		}
	}
	return best;
}

/* start_next - submit a cleaning of the dirtiest log, if any; true when one is out. */
static bool start_next(struct kp_broker *b)
{
	struct kp_broker_cleaner *c = b->cleaner;
	struct kp_clean_job *job;
	struct kp_topic *t = NULL;
	struct kp_partition *p;
	kp_error err;

	if (c->busy || b->stopping || !(p = pick(b, &t)))
		return false;
	if (kp_log_clean_begin(p->log, kp_wall_ms(), kp_partition_high_watermark(p), &job, &err) < 0) {
		kp_diag_warn("cannot start cleaning %s-%d: %s", t->name, p->index, err.msg);
		return false;
	}
	if (!job)
		return false;
	free(c->topic);
	if (!(c->topic = strdup(t->name))) {
		kp_clean_job_free(job);
		return false;
	}
	c->partition = p->index;
	c->busy = true;
	c->started_ms = kp_mono_ms();
	kp_diag_debug("cleaning %s-%d", t->name, p->index);
	kp_cleaner_submit(c->thread, job);
	return true;
}

/* job_log - the log the job was made for, if it is still open here. */
static kp_log *job_log(struct kp_broker *b, const struct kp_clean_job *job)
{
	struct kp_broker_cleaner *c = b->cleaner;
	struct kp_partition *p;

	if (!b->topics || !c->topic)
		return NULL;
	p = kp_topic_partition(kp_topics_find(b->topics, c->topic), c->partition);
	if (!p || !p->log || strcmp(kp_log_dir(p->log), kp_clean_job_dir(job)) != 0)
		return NULL;
	return p->log;
}

/* apply - a finished job into its log; returns true when it swapped cleaned segments in. */
static bool apply(struct kp_broker *b, struct kp_clean_job *job, int rc, const kp_error *run_err)
{
	struct kp_broker_cleaner *c = b->cleaner;
	struct kp_clean_result r;
	kp_log *log = job_log(b, job);
	kp_error err;
	int done = 0;

	if (rc < 0)
		kp_diag_warn("cleaning %s-%d failed: %s", c->topic, c->partition, run_err->msg);
	else if (log && (done = kp_log_clean_finish(log, job, &err)) < 0)
		kp_diag_error("cannot swap the cleaned segments of %s-%d: %s", c->topic, c->partition,
			      err.msg);
	if (done == 1) {
		kp_clean_job_result(job, &r);
		kp_diag_info("cleaned %s-%d up to offset %lld: %zu segment(s) of %lld bytes into %zu "
			     "of %lld, %lld of %lld records kept, in %lld ms", c->topic, c->partition,
			     (long long)r.end_offset, r.segments_in, (long long)r.bytes_read,
			     r.segments_out, (long long)r.bytes_written, (long long)r.records_kept,
			     (long long)r.records_read, (long long)(kp_mono_ms() - c->started_ms));
	}
	kp_clean_job_free(job);
	c->busy = false;
	return done == 1;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;
	struct kp_clean_job *job;
	bool again = false;
	kp_error err;
	int rc;

	(void)fd;
	(void)what;
	while ((job = kp_cleaner_take(b->cleaner->thread, &rc, &err)))
		again |= apply(b, job, rc, &err);
	if (again) /* Kafka's thread goes on at once while logs need cleaning */
		start_next(b);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_next(arg);
}

int kp_broker_log_cleaner_start(struct kp_broker *b, kp_error *err)
{
	const struct kp_cleaner_config *cfg = &b->cfg.cleaner;
	int64_t ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 1;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };
	struct kp_broker_cleaner *c;

	if (!cfg->enable || cfg->threads < 1)
		return 0;
	if (!(c = calloc(1, sizeof *c)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	b->cleaner = c;
	if (kp_cleaner_new(cfg->dedupe_buffer_bytes, &c->thread, err) < 0)
		return -1;
	c->done = event_new(b->base, kp_cleaner_fd(c->thread), EV_READ | EV_PERSIST, done_cb, b);
	c->tick = event_new(b->base, -1, EV_PERSIST, tick_cb, b);
	if (!c->done || !c->tick || event_add(c->done, NULL) < 0 || event_add(c->tick, &tv) < 0)
		return kp_error_set(err, KP_EIO, "cannot start the log cleaner");
	return 0;
}

void kp_broker_log_cleaner_free(struct kp_broker *b)
{
	struct kp_broker_cleaner *c = b->cleaner;

	if (!c)
		return;
	kp_cleaner_free(c->thread); /* aborts the job out, deletes its files */
	if (c->done)
		event_free(c->done);
	if (c->tick)
		event_free(c->tick);
	free(c->topic);
	free(c);
	b->cleaner = NULL;
}
