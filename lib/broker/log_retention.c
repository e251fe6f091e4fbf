/*
 * log_retention.c - every log.retention.check.interval.ms each hosted log
 * whose cleanup.policy has "delete" drops the closed segments its
 * retention.ms or retention.bytes no longer keeps (kp_log_retention;
 * Kafka's LogManager task "kafka-log-retention" and
 * UnifiedLog.deleteOldSegments). Leaders and followers apply it each on
 * their own log, as in Kafka; a follower's log start offset also follows
 * the leader's through its fetches.
 */
#include <event2/event.h>

#include "broker/internal.h"
#include "broker/replica.h"
#include "util/clock.h"
#include "util/diag.h"

/* retain_partition - one retention pass over partition `p` of `t`. */
static void retain_partition(struct kp_topic *t, struct kp_partition *p, int64_t now)
{
	struct kp_log_retention_result res;
	kp_error err;

	if (kp_log_retention(p->log, now, kp_partition_high_watermark(p), &res, &err) < 0) {
		kp_diag_error("retention of %s-%d: %s", t->name, p->index, err.msg);
		return;
	}
	if (res.segments > 0)
		kp_diag_info("%s-%d: deleted %zu segment(s), %lld bytes, for breaching %s; log start "
			     "offset now %lld", t->name, p->index, res.segments, (long long)res.bytes,
			     res.by_time ? "retention.ms" : "retention.bytes",
			     (long long)kp_log_start_offset(p->log));
}

void kp_broker_retention_run(struct kp_broker *b)
{
	int64_t now = kp_wall_ms(); /* record timestamps are wall clock */

	for (size_t i = 0; b->topics && i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		for (int32_t j = 0; j < t->partition_count; j++)
			if (t->partitions[j].log)
				retain_partition(t, &t->partitions[j], now);
	}
}

static void retention_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kp_broker_retention_run(arg);
}

int kp_broker_retention_start(struct kp_broker *b, kp_error *err)
{
	int64_t ms = b->cfg.log_retention_check_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	b->retention = event_new(b->base, -1, EV_PERSIST, retention_cb, b);
	if (!b->retention || event_add(b->retention, &tv) < 0)
		return kp_error_set(err, KP_EIO, "cannot start the log retention timer");
	return 0;
}
