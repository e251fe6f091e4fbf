/*
 * producer.h - a batching producer on top of kp_cluster.
 *
 * Records are accumulated per partition into v2 record batches
 * (kp_batch_builder); a batch is sealed when it reaches batch.size and sent
 * in a Produce request that may carry one batch for each of several
 * partitions led by the same broker.
 *
 * Idempotence (the Java producer's enable.idempotence, on by default with
 * acks=all): the producer asks for a producer id (InitProducerId) before
 * its first batch and numbers the records of each partition; up to
 * max.in.flight.requests.per.connection (5) requests go to a broker
 * before the oldest response is read, and a retried batch is recognised
 * by the broker instead of being written twice, so records of a partition
 * are written once and in order even with retries. A broker that no
 * longer knows the producer (UNKNOWN_PRODUCER_ID, or OUT_OF_ORDER_SEQUENCE_NUMBER
 * for a partition's oldest unacknowledged batch) has written none of the
 * unacknowledged batches: the producer takes a new id and numbers them
 * again (as the Java producer does, KIP-360). Without idempotence
 * (acks 0 or 1, or enable.idempotence=false) one request is in flight per
 * broker, which keeps the order too. A broker that does not serve
 * InitProducerId gets the non-idempotent producer, unless
 * enable.idempotence=true was set explicitly.
 *
 * A new request to a broker that already has its limit of requests in
 * flight first waits for the oldest response, which keeps the queue of
 * sealed batches short when records come faster than the broker takes
 * them. Retriable errors (leader moved, topic being created, connection
 * lost) are retried after a metadata refresh until delivery.timeout.ms,
 * counted from the sealing of the batch; a batch of several records
 * rejected with MESSAGE_TOO_LARGE is resent as one batch per record, so
 * only a record that is too large by itself fails; other errors are fatal
 * and reported by the next call.
 *
 * Configuration (Java producer names): acks (all, -1, 0, 1; default all),
 * compression.type (none, gzip, snappy, lz4, zstd), batch.size (bytes,
 * default and cap 1000000, below the broker's message.max.bytes),
 * linger.ms (0; read by the caller, see kp_producer_linger_ms),
 * delivery.timeout.ms (120000), max.request.size (4194304), buffer.memory
 * (33554432: while more bytes of sealed batches wait, kp_producer_send
 * blocks delivering them), enable.idempotence (true; explicit true needs
 * acks=all and at most 5 in flight), max.in.flight.requests.per.connection
 * (5), plus the cluster's keys (cluster.h).
 */
#ifndef KP_CLIENT_PRODUCER_H
#define KP_CLIENT_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/cluster.h"
#include "record/records.h"
#include "util/config.h"
#include "util/error.h"

typedef struct kp_producer kp_producer;

/*
 * kp_producer_new - a producer sending through `cluster` (borrowed; must
 * outlive the producer). `cfg` (may be NULL) is read, not kept. Returns NULL
 * with KP_EINVAL naming a bad setting, or KP_ENOMEM.
 */
kp_producer *kp_producer_new(kp_cluster *cluster, const kp_config *cfg, kp_error *err);

/*
 * kp_producer_config_check - whether kp_producer_new would accept `cfg`'s
 * producer settings, without a cluster: 0, or -1 with KP_EINVAL naming
 * the bad setting (so that a tool can report bad usage before it
 * connects).
 */
int kp_producer_config_check(const kp_config *cfg, kp_error *err);

/* kp_producer_free - free `p` and any unsent records (NULL is fine). */
void kp_producer_free(kp_producer *p);

/*
 * kp_producer_send - queue a copy of `rec` for `topic`. `partition` >= 0
 * chooses the partition; -1 lets the producer choose: a non-null key goes
 * where the Java client puts it (murmur2, KIP-480 keeps keyed placement),
 * a null key to the current sticky partition, which moves round robin each
 * time its batch fills. `tag` is the caller's label for the record (a line
 * number), reported by kp_producer_failed_tag if its batch fails. When
 * the record fills a batch, blocks until the batch is sent (and, when
 * the broker has its limit of requests in flight, the oldest answered),
 * longer while buffer.memory is exceeded. A timestamp <= 0 is "now". The
 * first record may wait up to max.block.ms for a producer id. A record larger than max.request.size fails the producer
 * (KP_ERANGE, its tag reported) after the records before it are delivered.
 * Returns 0, or -1 with a delivery failure (see kp_producer_flush),
 * KP_ERANGE, KP_EINVAL (partition out of range), a metadata/connection
 * error, or an InitProducerId failure (KP_EKAFKA).
 */
int kp_producer_send(kp_producer *p, const char *topic, int32_t partition,
		     const struct kp_record *rec, int64_t tag, kp_error *err);

/* Flags for kp_producer_send_flags. */
#define KP_SEND_TIMESTAMP 0x1 /* rec->timestamp is the record's, whatever its value (-1: none) */

/*
 * kp_producer_send_flags - kp_producer_send with `flags`: without
 * KP_SEND_TIMESTAMP a timestamp <= 0 means "now" (what kp_producer_send
 * does); with it, rec->timestamp is written as given.
 */
int kp_producer_send_flags(kp_producer *p, const char *topic, int32_t partition,
			   const struct kp_record *rec, unsigned flags, int64_t tag, kp_error *err);

/* kp_producer_idempotent - whether `p` numbers its batches (after a fallback: false). */
bool kp_producer_idempotent(const kp_producer *p);

/*
 * kp_producer_flush - send every queued record and wait until each is
 * acknowledged (acks=0: written to the socket). Returns 0, or -1 with the
 * first failure: KP_EKAFKA "rejected by HOST:PORT: NAME (topic T, partition
 * P)", KP_ETIMEDOUT "not delivered to topic T partition P within
 * delivery.timeout.ms (N ms): LAST RETRY REASON", KP_EPROTO (the broker
 * serves no Produce version from 3 to 9) or KP_ENOMEM.
 */
int kp_producer_flush(kp_producer *p, kp_error *err);

/* kp_producer_failed_tag - tag of the first record of the failed batch, or -1 (a record
 * rejected with MESSAGE_TOO_LARGE is alone in its batch). */
int64_t kp_producer_failed_tag(const kp_producer *p);

/* kp_producer_linger_ms - the configured linger.ms. */
int kp_producer_linger_ms(const kp_producer *p);

/*
 * kp_compression_parse - "none", "gzip", "snappy", "lz4", "zstd" to enum
 * kp_compression; -1 for anything else.
 */
int kp_compression_parse(const char *name);

/*
 * kp_split_key - split `len` bytes at `line` at the first occurrence of
 * `delim` (`dlen` > 0 bytes): *key and *klen get the bytes before it, *value
 * and *vlen those after. Without `delim` in the line, *key is NULL, *klen -1
 * and the value is the whole line (kcat -K). Pointers borrow `line`.
 */
void kp_split_key(const uint8_t *line, size_t len, const char *delim, size_t dlen,
		  const uint8_t **key, int32_t *klen, const uint8_t **value, int32_t *vlen);

#endif
