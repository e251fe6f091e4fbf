/*
 * produce_validate.c - what a topic's configs ask of the batches a leader
 * appends (Kafka's LogValidator, run by UnifiedLog.appendAsLeader):
 *
 *   cleanup.policy has "compact"   every record needs a key, else the
 *                                  partition's answer is INVALID_RECORD
 *                                  ("Compacted topic cannot accept message
 *                                  without key")
 *   message.timestamp.type         each batch's maxTimestamp becomes the
 *     = LogAppendTime              broker's clock and its timestamp-type
 *                                  attribute is set (CRC recomputed); the
 *                                  answer's LogAppendTimeMs is that clock
 *
 *   compression.type not producer  a batch with another codec is rebuilt
 *                                  with the topic's (and its level,
 *                                  KIP-390), before the checks above:
 *                                  kp_produce_recompress, record/recompress.h
 *
 * The batches are checked whole (CRC) before any rewrite, so a corrupt
 * batch is never given a fresh CRC: it goes on to kp_log_append, which
 * refuses it with CORRUPT_MESSAGE (kp_produce_recompress refuses it so
 * itself, with the same error).
 */
#include "broker/produce_validate.h"

#include "broker/internal.h"
#include "protocol/errors.h"
#include "record/batch.h"
#include "record/records.h"
#include "record/recompress.h"
#include "util/buf.h"

/* keys_present - false when some record of the (CRC-valid) batches has a null key. */
static bool keys_present(const uint8_t *data, size_t len)
{
	kp_record_iter *it = kp_record_iter_new(data, len, 0);
	struct kp_record rec;
	kp_error err;
	bool ok = true;
	int rc;

	if (!it)
		return true; /* out of memory: the append goes on unchecked */
	while ((rc = kp_record_iter_next(it, &rec, &err)) == 1)
		if (!rec.key) {
			ok = false;
			break;
		}
	kp_record_iter_free(it);
	return ok;
}

/* all_valid - whether every batch in data[0..len) passes kp_batch_validate. */
static bool all_valid(const uint8_t *data, size_t len)
{
	size_t pos = 0;
	kp_error err;

	while (pos < len) {
		long n = kp_batch_validate(data + pos, len - pos, NULL, &err);

		if (n < 0)
			return false;
		pos += (size_t)n;
	}
	return len > 0;
}

/* set_append_time - every batch's maxTimestamp `now` with the LogAppendTime attribute. */
static void set_append_time(uint8_t *data, size_t len, int64_t now)
{
	size_t pos = 0;

	while (pos + KP_BATCH_HEADER_SIZE <= len) {
		size_t n = KP_BATCH_LOG_OVERHEAD + kp_load_u32(data + pos + 8);

		kp_batch_set_log_append_time(data + pos, n, now);
		pos += n;
	}
}

int16_t kp_produce_validate(const struct kp_topic *t, uint8_t *data, size_t len, int64_t now_ms,
			    int64_t *log_append_time_ms)
{
	*log_append_time_ms = -1;
	if (!all_valid(data, len))
		return KP_ERR_NONE; /* kp_log_append refuses it with the right error */
	if (t->compacted && !keys_present(data, len))
		return KP_ERR_INVALID_RECORD;
	if (t->log_append_time) {
		set_append_time(data, len, now_ms);
		*log_append_time_ms = now_ms;
	}
	return KP_ERR_NONE;
}

int kp_produce_recompress(const struct kp_topic *t, uint8_t **data, size_t *len, int32_t max,
			  kp_buf *buf, kp_error *err)
{
	size_t pos = 0;
	int rc;

	if (!t->recompress)
		return 0;
	rc = kp_records_recompress(*data, *len, t->compression, t->compression_level, buf, err);
	if (rc <= 0)
		return rc;
	while (pos + KP_BATCH_LOG_OVERHEAD <= buf->len) { /* UnifiedLog.append's re-check */
		size_t n = KP_BATCH_LOG_OVERHEAD + kp_load_u32(buf->data + pos + 8);

		if (n > (size_t)max)
			return kp_error_set(err, KP_ERANGE, "message batch size is %zu bytes in append "
					    "to %s, which exceeds the maximum configured size of %d",
					    n, t->name, (int)max);
		pos += n;
	}
	*data = buf->data;
	*len = buf->len;
	return 0;
}
