/*
 * flusher.c - the background fsync thread of flusher.h.
 *
 *   todo (FIFO) --thread--> fdatasync fds, write leader-epoch-checkpoint
 *                           (when changed), write recovery-point --> done
 *   done --pipe byte--> kp_flusher_poll (loop) --> apply to the log
 *
 * A job owns dup()s of the fds it syncs, so a segment closed or deleted
 * meanwhile cannot make it sync a reused descriptor. Jobs run in order, so
 * the recovery-point files they write only move forward; kp_log_truncate_to
 * waits for the log's job before it writes a smaller one. The leader epoch
 * checkpoint is made durable before the recovery point it covers (epoch.c).
 */
#include "log/flusher.h"
#include "log/log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/file.h"

struct kp_flush_job {
	struct kp_flush_job *next;
	kp_log *log;          /* touched on the loop thread only */
	int64_t target;       /* the log end offset when requested */
	int *fds;             /* owned dup()s: .log, .index, .timeindex per segment */
	size_t nfds;
	char *dir;            /* owned: the partition directory */
	char *epochs;         /* owned: the leader-epoch-checkpoint text to write durably, or NULL */
	bool sync_dir;        /* a roll happened: new file names to make durable */
	bool done;            /* set by the thread, under the mutex */
	kp_error err;         /* the thread's result */
	int rc;
};

struct kp_flusher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;             /* todo grew, a job finished, or stop */
	struct kp_flush_job *todo, **todo_tail;
	struct kp_flush_job *done;     /* finished, not yet applied */
	bool stop;
	int pipe[2];                   /* [0] watched by the loop, [1] written by the thread */
	kp_flusher_error_cb on_error;  /* loop thread only (kp_flusher_on_error), or NULL */
	void *on_error_arg;
};

static void job_free(struct kp_flush_job *j)
{
	for (size_t i = 0; i < j->nfds; i++)
		close(j->fds[i]);
	free(j->fds);
	free(j->dir);
	free(j->epochs);
	free(j);
}

/*
 * run_job - on the thread: make the job's files durable, and the epoch
 * checkpoint (its write fsyncs the directory too), then record the
 * recovery point.
 */
static int run_job(struct kp_flush_job *j, kp_error *err)
{
	for (size_t i = 0; i < j->nfds; i++)
		if (fdatasync(j->fds[i]) < 0)
			return kp_error_errno(err, "%s: fdatasync", j->dir);
	if (j->epochs && kp_epoch_write_file(j->dir, j->epochs, true, err) < 0)
		return -1;
	if (j->sync_dir && !j->epochs && kp_fsync_dir(j->dir, err) < 0)
		return -1;
	return kp_write_recovery_point(j->dir, j->target, err);
}

static void *thread_main(void *arg)
{
	kp_flusher *f = arg;
	struct kp_flush_job *j;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->todo && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (!f->todo)
			break;
		j = f->todo;
		f->todo = j->next;
		if (!f->todo)
			f->todo_tail = &f->todo;
		pthread_mutex_unlock(&f->mu);
		kp_error_clear(&j->err);
		j->rc = run_job(j, &j->err);
		pthread_mutex_lock(&f->mu);
		j->done = true;
		j->next = f->done;
		f->done = j;
		pthread_cond_broadcast(&f->cv);
		while (write(f->pipe[1], "", 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int kp_flusher_new(kp_flusher **out, kp_error *err)
{
	kp_flusher *f = calloc(1, sizeof *f);

	*out = NULL;
	if (!f)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	f->todo_tail = &f->todo;
	if (pipe2(f->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(f);
		return kp_error_errno(err, "flusher: pipe");
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->thread, NULL, thread_main, f) != 0) {
		close(f->pipe[0]);
		close(f->pipe[1]);
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return kp_error_set(err, KP_EIO, "flusher: cannot start a thread");
	}
	*out = f;
	return 0;
}

void kp_flusher_free(kp_flusher *f)
{
	struct kp_flush_job *j;

	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	while ((j = f->done)) { /* only if a log was not closed: drop its job */
		f->done = j->next;
		job_free(j);
	}
	close(f->pipe[0]);
	close(f->pipe[1]);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int kp_flusher_fd(const kp_flusher *f)
{
	return f->pipe[0];
}

/* add_fd - dup `fd` into the job; -1 (an index without its file yet) adds nothing. */
static int add_fd(struct kp_flush_job *j, int fd, kp_error *err)
{
	int d;

	if (fd < 0)
		return 0;
	d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return kp_error_errno(err, "%s: dup", j->dir);
	j->fds[j->nfds++] = d;
	return 0;
}

/*
 * make_job - a job for every segment from the recovery point's to the
 * active one (its target is set when it is queued).
 */
static struct kp_flush_job *make_job(kp_log *log, kp_error *err)
{
	size_t first = kp_log_find_segment(log, log->recovery_point);
	struct kp_flush_job *j = calloc(1, sizeof *j);

	if (!j || !(j->dir = strdup(log->dir)) ||
	    !(j->fds = calloc(3 * (log->nsegs - first), sizeof *j->fds))) {
		kp_error_set(err, KP_ENOMEM, "%s: out of memory", log->dir);
		goto fail;
	}
	j->log = log;
	if (kp_log_epochs_take(log, &j->epochs, err) < 0)
		goto fail;
	j->sync_dir = first + 1 < log->nsegs;
	for (size_t i = first; i < log->nsegs; i++) {
		const struct kp_segment *s = &log->segs[i];

		if (add_fd(j, s->fd, err) < 0 || add_fd(j, s->oix.fd, err) < 0 ||
		    add_fd(j, s->tix.fd, err) < 0)
			goto fail;
	}
	return j;
fail:
	if (j)
		kp_flusher_discard(log, j);
	return NULL;
}

/*
 * kp_flusher_prepare - on the loop thread, before an append's write: a
 * job for a flush of `log` (log->flushing must be NULL) holding all it
 * needs (its own dup()s of the fds of every segment from the recovery
 * point's on, and the leader epoch checkpoint text when the file is not
 * durable) but not queued yet, so that queueing it after the write
 * (kp_flusher_commit) cannot fail. The segments must not change until
 * then (no roll, truncation or start move); the epoch cache may only
 * change through kp_log_epochs_changed, which defers its file write to
 * the job. *job gets the job, owned by the caller until committed or
 * discarded. Returns 0 or -1 (KP_ENOMEM, KP_EIO from dup) with *job NULL
 * and nothing changed.
 */
int kp_flusher_prepare(struct kp_log *log, struct kp_flush_job **job, kp_error *err)
{
	*job = make_job(log, err);
	return *job ? 0 : -1;
}

/*
 * kp_flusher_discard - drop a prepared job that is not to be queued (the
 * write it was for failed): the epoch checkpoint it took is written again
 * from the loop (kp_log_epochs_flushed). `job` may be NULL; it is freed.
 */
void kp_flusher_discard(struct kp_log *log, struct kp_flush_job *job)
{
	if (!job)
		return;
	if (job->epochs)
		kp_log_epochs_flushed(log, false);
	job_free(job);
}

/*
 * kp_flusher_commit - queue the prepared `job` of its log, flushing up to
 * the log's end offset now (Kafka's flush up to the log end offset).
 * Takes ownership of `job`; cannot fail.
 */
void kp_flusher_commit(kp_flusher *f, struct kp_flush_job *job)
{
	job->target = kp_log_end_offset(job->log);
	job->log->flushing = job;
	pthread_mutex_lock(&f->mu);
	*f->todo_tail = job;
	f->todo_tail = &job->next;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/*
 * kp_flusher_submit - on the loop thread: queue a flush of `log` up to its
 * current end offset (log->flushing must be NULL): kp_flusher_prepare and
 * kp_flusher_commit at once. Returns 0 or -1 (KP_ENOMEM, KP_EIO from dup).
 */
int kp_flusher_submit(kp_flusher *f, kp_log *log, kp_error *err)
{
	struct kp_flush_job *j;

	if (kp_flusher_prepare(log, &j, err) < 0)
		return -1;
	kp_flusher_commit(f, j);
	return 0;
}

/* apply - on the loop thread: a finished job's result into its log; frees the job. */
static void apply(kp_flusher *f, struct kp_flush_job *j, bool follow_up)
{
	kp_log *log = j->log;
	kp_error err;

	log->flushing = NULL;
	if (j->epochs)
		kp_log_epochs_flushed(log, j->rc == 0);
	if (j->rc < 0) {
		kp_diag_error("cannot flush %s: %s", log->dir, j->err.msg);
		if (f->on_error)
			f->on_error(f->on_error_arg, log->dir, &j->err);
	}
	else if (j->target > log->recovery_point) {
		log->recovery_point = j->target;
		log->cool_due = true; /* closed segments below it may go cold (segment_cold.c) */
	}
	job_free(j);
	if (!follow_up || !log->flush_again)
		return;
	log->flush_again = false;
	if (kp_log_end_offset(log) > log->recovery_point && kp_flusher_submit(f, log, &err) < 0)
		kp_diag_error("cannot flush %s: %s", log->dir, err.msg);
}

void kp_flusher_on_error(kp_flusher *f, kp_flusher_error_cb cb, void *arg)
{
	f->on_error = cb;
	f->on_error_arg = arg;
}

void kp_flusher_poll(kp_flusher *f)
{
	struct kp_flush_job *list, *j;
	char sink[64];

	while (read(f->pipe[0], sink, sizeof sink) > 0)
		;
	pthread_mutex_lock(&f->mu);
	list = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->mu);
	while ((j = list)) {
		list = j->next;
		apply(f, j, true);
	}
}

/*
 * kp_flusher_wait - on the loop thread: block until `log`'s job (if any)
 * has finished and apply it, without a follow-up flush. For close, flush
 * and truncation, which are not on the append path.
 */
void kp_flusher_wait(kp_flusher *f, kp_log *log)
{
	struct kp_flush_job *j = log->flushing, **pp;

	if (!j)
		return;
	pthread_mutex_lock(&f->mu);
	while (!j->done)
		pthread_cond_wait(&f->cv, &f->mu);
	for (pp = &f->done; *pp != j; pp = &(*pp)->next)
		;
	*pp = j->next;
	pthread_mutex_unlock(&f->mu);
	apply(f, j, false);
}
