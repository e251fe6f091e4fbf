/*
 * flusher.h - fsync off the event loop: one background thread that makes
 * partition logs durable for the flush policy (log.flush.interval.messages,
 * log.flush.interval.ms; Kafka's LogManager flush scheduler and
 * UnifiedLog.flush).
 *
 *   loop thread                          flusher thread
 *   kp_log_append / kp_log_flush_tick
 *     -> job {dup'd fds, end offset} ->  fdatasync .log/.index/.timeindex
 *                                        write recovery-point atomically
 *   kp_flusher_poll  <- pipe byte    <-  job done
 *     advance log->recovery_point
 *
 * A log's state is only touched on the loop thread; the thread sees only
 * the job (its own dup'd fds and paths). At most one job per log is in
 * flight; kp_log_close, kp_log_flush and kp_log_truncate_to wait for it.
 */
#ifndef KP_LOG_FLUSHER_H
#define KP_LOG_FLUSHER_H

#include "util/error.h"

typedef struct kp_flusher kp_flusher;

/*
 * kp_flusher_new - start the flusher thread. Returns 0 and *out (free
 * with kp_flusher_free), or -1 with KP_ENOMEM or KP_EIO (pipe, thread).
 */
int kp_flusher_new(kp_flusher **out, kp_error *err);

/*
 * kp_flusher_free - stop and join the thread (NULL is fine). Every log
 * using `f` must be closed first.
 */
void kp_flusher_free(kp_flusher *f);

/*
 * kp_flusher_fd - a descriptor (owned by `f`) that becomes readable when
 * jobs have completed; the loop watches it and then calls kp_flusher_poll.
 */
int kp_flusher_fd(const kp_flusher *f);

/*
 * kp_flusher_poll - on the loop thread: apply every completed job (advance
 * the logs' recovery points, start a follow-up flush a log asked for
 * meanwhile). Never blocks. Failed fsyncs are logged at ERROR and leave
 * the recovery point where it was.
 */
void kp_flusher_poll(kp_flusher *f);

/*
 * kp_flusher_on_error - have `cb(arg, dir, err)` called on the loop
 * thread (from kp_flusher_poll, or a log's wait for its job) after a job of the log in partition
 * directory `dir` failed (`err` says how; both valid during the call
 * only). The callback must not close or free logs (other finished jobs
 * may still be applied in the same poll): the broker only notes the
 * failure there and acts on it from its loop. NULL `cb` removes it.
 */
typedef void (*kp_flusher_error_cb)(void *arg, const char *dir, const kp_error *err);
void kp_flusher_on_error(kp_flusher *f, kp_flusher_error_cb cb, void *arg);

/*
 * For lib/log's append path (log.c), which prepares the job of the flush
 * an append will trigger before writing, so that an append whose flush
 * job cannot be made fails having written nothing (a client's retry is
 * then no duplicate) and queueing it after the write cannot fail:
 *
 *   kp_flusher_prepare -> write ok     -> kp_flusher_commit
 *                      -> write failed -> kp_flusher_discard
 *
 * Documented where they are defined (flusher.c).
 */
struct kp_log;
struct kp_flush_job;
int kp_flusher_prepare(struct kp_log *log, struct kp_flush_job **job, kp_error *err);
void kp_flusher_commit(kp_flusher *f, struct kp_flush_job *job);
void kp_flusher_discard(struct kp_log *log, struct kp_flush_job *job);

#endif
