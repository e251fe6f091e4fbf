/*
 * producer_ids.h - the producer ids a broker hands out in InitProducerId
 * answers (Kafka's RPCProducerIdManager, KIP-730): blocks of ids the
 * active controller allocates (AllocateProducerIds, which commits a
 * ProducerIdsRecord), used in order, the next block asked for once 90% of
 * the current one is used so that handing out ids rarely waits. Not
 * installed; runs on the broker's loop.
 */
#ifndef KP_BROKER_PRODUCER_IDS_H
#define KP_BROKER_PRODUCER_IDS_H

#include <stdint.h>

struct kp_broker;

typedef struct kp_producer_ids kp_producer_ids;

/* kp_producer_ids_new - an empty manager for `b` (borrowed; b->cluster set); NULL when out of memory. */
kp_producer_ids *kp_producer_ids_new(struct kp_broker *b);

/* kp_producer_ids_free - free `m` (NULL is fine); call after the controller channel is freed. */
void kp_producer_ids_free(kp_producer_ids *m);

/* kp_producer_ids_prefetch - ask for a block now unless one is at hand or on its way (NULL is fine). */
void kp_producer_ids_prefetch(kp_producer_ids *m);

/*
 * kp_producer_ids_generate - the next unused producer id into *id, and 0
 * (KP_ERR_NONE); when no block is at hand yet, asks the controller for one
 * and returns COORDINATOR_LOAD_IN_PROGRESS, which a client retries, as
 * Kafka's generateProducerId does.
 */
int16_t kp_producer_ids_generate(kp_producer_ids *m, int64_t *id);

#endif
