/*
 * broker.h - a Kafka-protocol broker of a KRaft cluster (a cluster of
 * one, its own controller inside, when no quorum is configured):
 * listeners, a topic registry over partition logs in log.dirs that follows
 * the metadata image, and the API handlers, all on one libevent loop.
 *
 *   kp_broker_new(config)  parse settings, open log dirs, join the quorum
 *   kp_broker_start(b)     register; listen once caught up
 *   kp_broker_run(b)       serve until SIGINT/SIGTERM or kp_broker_stop
 *   kp_broker_free(b)      close every log
 */
#ifndef KP_BROKER_BROKER_H
#define KP_BROKER_BROKER_H

#include "util/config.h"
#include "util/error.h"

typedef struct kp_broker kp_broker;

/*
 * kp_broker_new - a broker configured from `cfg` (borrowed; see
 * broker/config.h for keys). Creates the first log dir if needed, writes
 * or reads meta.properties (node.id, cluster.id) and opens every
 * partition found in log.dirs, recovering its log. Returns NULL with
 * KP_EINVAL (bad setting, node.id mismatch), KP_EIO or KP_ECORRUPT.
 */
kp_broker *kp_broker_new(const kp_config *cfg, kp_error *err);

/*
 * kp_broker_start - bind every listener. Returns 0, or -1 with KP_EIO
 * ("cannot listen on 127.0.0.1:9092: Address already in use").
 */
int kp_broker_start(kp_broker *b, kp_error *err);

/*
 * kp_broker_run - run the event loop until stopped. SIGINT and SIGTERM
 * stop the broker cleanly: stop accepting, answer parked fetches, flush
 * responses, flush every log, log "stopped". Returns 0, or -1 (KP_EIO)
 * when the loop fails.
 */
int kp_broker_run(kp_broker *b, kp_error *err);

/* kp_broker_stop - begin the clean stop described above (from within the loop). */
void kp_broker_stop(kp_broker *b);

/* kp_broker_free - close every log and connection, free `b` (NULL is fine). */
void kp_broker_free(kp_broker *b);

#endif
