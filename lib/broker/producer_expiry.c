/*
 * producer_expiry.c - idle idempotent producers are forgotten: every
 * producer.id.expiration.check.interval.ms each hosted log drops the
 * producers whose last batch is older than producer.id.expiration.ms
 * (Kafka's LogManager task "PeriodicProducerExpirationCheck" and
 * ProducerStateManager.removeExpiredProducers; KIP-98). A forgotten
 * producer that writes again is accepted at any sequence, as new.
 */
#include <event2/event.h>

#include "broker/internal.h"
#include "util/clock.h"
#include "util/diag.h"

static void expiry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;
	int64_t now = kp_wall_ms(); /* batch timestamps are wall clock */
	size_t n = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; b->topics && i < kp_topics_count(b->topics); i++) {
		struct kp_topic *t = kp_topics_at(b->topics, i);

		for (int32_t j = 0; j < t->partition_count; j++)
			if (t->partitions[j].log)
				n += kp_log_expire_producers(t->partitions[j].log, now,
							     b->cfg.producer_id_expiration_ms);
	}
	if (n > 0)
		kp_diag_debug("%zu idle producer id(s) expired", n);
}

int kp_broker_producer_expiry_start(struct kp_broker *b, kp_error *err)
{
	int64_t ms = b->cfg.producer_id_expiration_check_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	b->producer_expiry = event_new(b->base, -1, EV_PERSIST, expiry_cb, b);
	if (!b->producer_expiry || event_add(b->producer_expiry, &tv) < 0)
		return kp_error_set(err, KP_EIO, "cannot start the producer expiration timer");
	return 0;
}
