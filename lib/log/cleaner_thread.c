/*
 * cleaner_thread.c - the log cleaner's thread of cleaner_thread.h, built
 * like flusher.c:
 *
 *   todo (FIFO) --thread--> kp_clean_job_run --> done (FIFO)
 *   done --pipe byte--> kp_cleaner_take (loop)
 *
 * Each job runs with the wall clock of its start as `now` (tombstone
 * delete horizons).
 */
#include "log/cleaner_thread.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/clock.h"

struct entry {
	struct entry *next;
	struct kp_clean_job *job;
	int rc;
	kp_error err;
};

struct kp_cleaner {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry *todo, **todo_tail;
	struct entry *done, **done_tail;
	struct kp_clean_job *running;
	size_t busy;
	bool stop;
	int64_t dedupe;
	int pipe[2];
};

static void *thread_main(void *arg)
{
	kp_cleaner *c = arg;
	struct entry *e;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->todo && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		e = c->todo;
		if (!(c->todo = e->next))
			c->todo_tail = &c->todo;
		c->running = e->job;
		pthread_mutex_unlock(&c->mu);
		kp_error_clear(&e->err);
		e->rc = kp_clean_job_run(e->job, c->dedupe, kp_wall_ms(), &e->err);
		pthread_mutex_lock(&c->mu);
		c->running = NULL;
		e->next = NULL;
		*c->done_tail = e;
		c->done_tail = &e->next;
		while (write(c->pipe[1], "", 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int kp_cleaner_new(int64_t dedupe_buffer_bytes, kp_cleaner **out, kp_error *err)
{
	kp_cleaner *c = calloc(1, sizeof *c);

	*out = NULL;
	if (!c)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	c->todo_tail = &c->todo;
	c->done_tail = &c->done;
	c->dedupe = dedupe_buffer_bytes;
	if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(c);
		return kp_error_errno(err, "log cleaner: pipe");
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, thread_main, c) != 0) {
		close(c->pipe[0]);
		close(c->pipe[1]);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return kp_error_set(err, KP_EIO, "log cleaner: cannot start a thread");
	}
	*out = c;
	return 0;
}

static void free_list(struct entry *e)
{
	struct entry *next;

	for (; e; e = next) {
		next = e->next;
		kp_clean_job_free(e->job);
		free(e);
	}
}

void kp_cleaner_free(kp_cleaner *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	if (c->running)
		kp_clean_job_abort(c->running);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	free_list(c->todo);
	free_list(c->done);
	close(c->pipe[0]);
	close(c->pipe[1]);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int kp_cleaner_fd(const kp_cleaner *c)
{
	return c->pipe[0];
}

void kp_cleaner_submit(kp_cleaner *c, struct kp_clean_job *job)
{
	struct entry *e = calloc(1, sizeof *e);

	if (!e) { /* nothing to clean then: the job is dropped */
		kp_clean_job_free(job);
		return;
	}
	e->job = job;
	pthread_mutex_lock(&c->mu);
	*c->todo_tail = e;
	c->todo_tail = &e->next;
	c->busy++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

struct kp_clean_job *kp_cleaner_take(kp_cleaner *c, int *rc, kp_error *err)
{
	struct kp_clean_job *job = NULL;
	struct entry *e;
	char sink[64];

	while (read(c->pipe[0], sink, sizeof sink) > 0)
		;
	pthread_mutex_lock(&c->mu);
	if ((e = c->done)) {
		if (!(c->done = e->next))
			c->done_tail = &c->done;
		c->busy--;
	}
	pthread_mutex_unlock(&c->mu);
	if (!e)
		return NULL;
	job = e->job;
	*rc = e->rc;
	*err = e->err;
	free(e);
	return job;
}

size_t kp_cleaner_busy(kp_cleaner *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->busy;
	pthread_mutex_unlock(&c->mu);
	return n;
}
