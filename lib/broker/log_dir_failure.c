/*
 * log_dir_failure.c - a log dir whose disk fails goes offline alone
 * (Kafka's LogDirFailureChannel and ReplicaManager.handleLogDirFailure,
 * KIP-112):
 *
 *   produce / replica fetch / group write / flusher
 *     | KP_EIO from the log of DIR/TOPIC-N
 *     v
 *   kp_broker_log_failed: bit of DIR set, event activated (nothing closed
 *     |                   here: the caller may still hold the log)
 *     v  (next loop turn)
 *   dir_failure_cb: kp_topics_fail_dir: DIR offline, its partitions'
 *                   logs closed -> KAFKA_STORAGE_ERROR to clients;
 *                   no log dir left: the broker stops with an error
 *
 * The other dirs keep serving. The controller is not told (KIP-858's
 * OfflineLogDirs needs directory ids, not kept yet): a partition this
 * broker leads in the failed dir stays led here, offline, until it
 * restarts or a leader election moves it.
 */
#include <event2/event.h>
#include <stdlib.h>

#include "broker/internal.h"
#include "util/diag.h"

/* dir_failure_cb - take every log dir that failed since the last turn offline. */
static void dir_failure_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;
	uint32_t failing = b->dirs_failing;
	kp_error err;

	b->dirs_failing = 0;
	for (int d = 0; d < kp_topics_dir_count(b->topics); d++) {
		int n;

		if (!(failing & (1u << d)) || (n = kp_topics_fail_dir(b->topics, d)) < 0)
			continue;
		kp_diag_error("log dir %s is offline: %d partition(s) in it are offline until kbroker "
			      "is restarted with the disk mended",
			      kp_topics_dir_path(b->topics, d), n);
	}
	if (kp_topics_online_dirs(b->topics) > 0)
		return;
	kp_error_set(&err, KP_EIO, "shutting down: every log dir has failed (the errors above say "
		     "how; mend or replace the disks of log.dirs, then start again)");
	kp_broker_fail(b, &err);
}

void kp_broker_log_failed(struct kp_broker *b, const char *path, const kp_error *why)
{
	int d;

	if (!why || why->code != KP_EIO || !b->topics || (d = kp_topics_dir_of(b->topics, path)) < 0 ||
	    kp_topics_dir_offline(b->topics, d) || (b->dirs_failing & (1u << d)))
		return;
	kp_diag_error("log dir %s failed: %s", kp_topics_dir_path(b->topics, d), why->msg);
	if (!b->dir_failure && !(b->dir_failure = event_new(b->base, -1, 0, dir_failure_cb, b)))
		return; /* out of memory: the next failure tries again */
	b->dirs_failing |= 1u << d;
	event_active(b->dir_failure, 0, 0);
}

void kp_broker_log_failed_cb(void *broker, const char *path, const kp_error *why)
{
	kp_broker_log_failed(broker, path, why);
}
