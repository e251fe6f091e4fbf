/*
 * produce_validate.h - the rewrite of a partition's produced records that
 * compression.type asks for (produce_validate.c, Kafka's LogValidator).
 * Its companion kp_produce_validate, the checks and in-place rewrites, is
 * declared in broker/internal.h.
 */
#ifndef KP_BROKER_PRODUCE_VALIDATE_H
#define KP_BROKER_PRODUCE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

struct kp_topic;

/*
 * kp_produce_recompress - topic `t`'s compression.type (t->recompress,
 * t->compression, t->compression_level, refreshed by log_config.c) on the
 * v2 batches at *data (*len bytes) a leader is about to append: when some
 * batch has another codec (kp_batch_needs_recompress), every batch is
 * rebuilt with the topic's codec or copied into `buf` (caller-owned,
 * empty; the caller frees it after the append) and *data, *len are made to
 * point at it. Nothing changes for compression.type=producer or when every
 * batch has the topic's codec already. Each rebuilt batch must still fit
 * in `max` bytes (the topic's max.message.bytes: Kafka re-checks sizes
 * after re-compression, UnifiedLog.append). Returns 0, or -1 with in
 * `err`: KP_ECORRUPT (CRC mismatch, undecodable compressed records),
 * KP_EPROTO (malformed batch or records), KP_ERANGE (a rebuilt batch over
 * `max`), KP_EINVAL, KP_ENOMEM; the produce handler turns these into the
 * partition's error code as it does for kp_log_append's.
 */
int kp_produce_recompress(const struct kp_topic *t, uint8_t **data, size_t *len, int32_t max,
			  kp_buf *buf, kp_error *err);

#endif
