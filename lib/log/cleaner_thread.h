/*
 * cleaner_thread.h - the log cleaner's background thread (Kafka's
 * CleanerThread, log.cleaner.threads = 1): runs the jobs that
 * kp_log_clean_begin made, one at a time, and hands them back to the
 * event loop, which applies each with kp_log_clean_finish.
 *
 *   loop thread                          cleaner thread
 *   kp_log_clean_begin -> kp_cleaner_submit
 *                         todo (FIFO) -> kp_clean_job_run (offset map,
 *                                        BASE.log.cleaned ...)
 *   kp_cleaner_take  <- pipe byte  <-   done
 *     kp_log_clean_finish, kp_clean_job_free
 *
 * Jobs hold no pointer into any log, so a log closed meanwhile costs
 * nothing but the cleaned files, which kp_clean_job_free deletes.
 */
#ifndef KP_LOG_CLEANER_THREAD_H
#define KP_LOG_CLEANER_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "log/cleaner.h"
#include "util/error.h"

typedef struct kp_cleaner kp_cleaner;

/*
 * kp_cleaner_new - start the cleaner thread, whose offset map takes
 * `dedupe_buffer_bytes` (log.cleaner.dedupe.buffer.size) while a job
 * runs. Returns 0 and *out (kp_cleaner_free), or -1 with KP_EIO (pipe,
 * thread) or KP_ENOMEM.
 */
int kp_cleaner_new(int64_t dedupe_buffer_bytes, kp_cleaner **out, kp_error *err);

/*
 * kp_cleaner_free - abort the running job, stop and join the thread, and
 * free every job still queued or done (their cleaned files deleted).
 * NULL is fine.
 */
void kp_cleaner_free(kp_cleaner *c);

/* kp_cleaner_fd - readable when jobs are done (owned by `c`); then call kp_cleaner_take. */
int kp_cleaner_fd(const kp_cleaner *c);

/* kp_cleaner_submit - queue `job` (ownership passes to `c` until kp_cleaner_take returns it). */
void kp_cleaner_submit(kp_cleaner *c, struct kp_clean_job *job);

/*
 * kp_cleaner_take - a finished job (ownership back to the caller), or
 * NULL when none is. *rc gets the run's result (0 or -1) and `err` its
 * error. Never blocks; drains the pipe, so call it until it returns NULL.
 */
struct kp_clean_job *kp_cleaner_take(kp_cleaner *c, int *rc, kp_error *err);

/* kp_cleaner_busy - jobs queued or running, not yet taken. */
size_t kp_cleaner_busy(kp_cleaner *c);

#endif
