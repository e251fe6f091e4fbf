/*
 * produce.c - Produce (key 0), versions 0-11.
 *
 * v0-2 carry legacy message sets (magic 0/1), converted to one v2 batch
 * with kp_legacy_to_batch so the log holds a single format;
 * message.max.bytes applies to each legacy message (or compressed
 * wrapper), not to the converted batch, as in Kafka; v3+ carry v2
 * record batches, appended exactly as received (offsets assigned by
 * rewriting the base offset, CLIENT-NOTES rule 10) unless the topic's
 * compression.type asks for another codec (kp_produce_recompress). A
 * partition's append is all-or-nothing. acks=0 gets no response (CLIENT-NOTES rule 4), so
 * when any partition failed the connection is closed instead, as Kafka
 * does, for the producer to notice and refresh its metadata;
 * acks=-1 (all) waits until the ISR has the batches (produce_wait.c),
 * acks=1 answers once the leader has them. v5+ report the log start
 * offset (KIP-107); v8+ accept per-batch errors, which we never set.
 * An idempotent producer's batches (KIP-98) are checked by the log's
 * producer state: a retried batch is answered with the offsets it was
 * first written at, without writing it again; an out-of-order sequence or
 * a fenced epoch gets OUT_OF_ORDER_SEQUENCE_NUMBER or
 * INVALID_PRODUCER_EPOCH.
 * Clients may not write the internal topics (__consumer_offsets, whose
 * records only the group coordinator writes): INVALID_TOPIC_EXCEPTION
 * per partition, as Kafka's ReplicaManager answers every client but its
 * own admin client ("__admin_client").
 */
#include <stdlib.h>
#include <string.h>

#include "broker/internal.h"
#include "broker/produce_validate.h"
#include "broker/replica.h"
#include "record/batch.h"
#include "record/legacy.h"
#include "util/clock.h"
#include "util/diag.h"

/* The offset and size fields before each legacy message (Kafka's LOG_OVERHEAD). */
#define LEGACY_LOG_OVERHEAD 12

typedef struct kp_produce_response_topic_produce_response pr_topic;
typedef struct kp_produce_response_partition_produce_response pr_partition;

/*
 * batches_check - the Kafka error for batches a broker must refuse before
 * appending, or KP_ERR_NONE: a batch over `max` bytes (message.max.bytes)
 * is MESSAGE_TOO_LARGE; a compression codec other than none, gzip, snappy,
 * lz4 or zstd is UNSUPPORTED_COMPRESSION_TYPE; a control batch is
 * INVALID_RECORD (clients may not write control records: only the
 * transaction coordinator does, KIP-98); from v3 on, a second batch for
 * the partition is INVALID_RECORD (Kafka's ProduceRequest.validateRecords:
 * exactly one batch per partition). Malformed framing is left to
 * kp_log_append's validation, which reports it with the CRC check.
 */
static int16_t batches_check(const uint8_t *data, size_t len, int32_t max, int16_t version)
{
	size_t pos = 0;

	while (pos + KP_BATCH_HEADER_SIZE <= len) {
		if (pos > 0 && version >= 3) /* ProduceRequest.validateRecords */
			return KP_ERR_INVALID_RECORD;
		int32_t blen = (int32_t)kp_load_u32(data + pos + 8);
		uint16_t attr = kp_load_u16(data + pos + KP_BATCH_ATTRIBUTES_OFFSET);

		if (blen < 0)
			return KP_ERR_NONE;
		if ((int64_t)blen + KP_BATCH_LOG_OVERHEAD > max)
			return KP_ERR_MESSAGE_TOO_LARGE;
		if ((attr & KP_BATCH_COMPRESSION_MASK) > KP_COMPRESSION_ZSTD)
			return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
		if (attr & KP_BATCH_CONTROL)
			return version >= 8 ? KP_ERR_INVALID_RECORD : KP_ERR_CORRUPT_MESSAGE;
		pos += KP_BATCH_LOG_OVERHEAD + (size_t)blen;
	}
	return KP_ERR_NONE;
}

/*
 * legacy_check - MESSAGE_TOO_LARGE when one entry of the legacy message
 * set (a message, or the wrapper of a compressed set) is over `max` bytes
 * with its offset and size fields, as Kafka checks each shallow entry;
 * else KP_ERR_NONE. The converted batch is not checked: 50 small messages
 * may add up to more than message.max.bytes. Malformed framing is left to
 * kp_legacy_to_batch.
 */
static int16_t legacy_check(const uint8_t *data, size_t len, int32_t max)
{
	size_t pos = 0;

	while (pos + LEGACY_LOG_OVERHEAD <= len) {
		int32_t size = (int32_t)kp_load_u32(data + pos + 8);

		if (size < 0)
			return KP_ERR_NONE;
		if ((int64_t)size + LEGACY_LOG_OVERHEAD > max)
			return KP_ERR_MESSAGE_TOO_LARGE;
		pos += LEGACY_LOG_OVERHEAD + (size_t)size;
	}
	return KP_ERR_NONE;
}

/* append_error - the Kafka error code for a failed append or conversion. */
static int16_t append_error(const kp_error *err, int16_t version)
{
	switch (err->code) {
	case KP_EKAFKA: /* the producer state's: INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER */
		return (int16_t)err->kafka_code;
	case KP_ECORRUPT:
		return KP_ERR_CORRUPT_MESSAGE;
	case KP_EPROTO:
		return version >= 8 ? KP_ERR_INVALID_RECORD : KP_ERR_CORRUPT_MESSAGE;
	case KP_EINVAL:
		return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	case KP_ERANGE:
		return KP_ERR_MESSAGE_TOO_LARGE;
	default:
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
}

/* What a produce request collects: the partitions acks=all waits for. */
struct produce_ctx {
	int16_t acks;
	int16_t acks_error;
	struct kp_produce_wait_item *waits; /* in rq's arena, cap of them */
	size_t n, cap;
};

/*
 * append_records - validate and append one partition's records; fills
 * out's error and offsets, and *last with the last offset appended.
 */
static void append_records(struct kp_request *rq, struct kp_topic *t, struct kp_partition *p,
			   const kp_bytes *records, pr_partition *out, int64_t *last)
{
	int32_t max = t->max_message_bytes > 0 ? t->max_message_bytes : rq->broker->cfg.message_max_bytes;
	uint8_t *data = (uint8_t *)records->data; /* points into rq->frame, which we own */
	size_t len = records->len > 0 ? (size_t)records->len : 0;
	kp_buf legacy, recompressed;
	kp_error err;
	int64_t duplicate_ts, append_time = -1;
	int rc;

	kp_buf_init(&legacy);
	kp_buf_init(&recompressed);
	if (len == 0) {
		out->error_code = KP_ERR_CORRUPT_MESSAGE;
		return;
	}
	if (rq->version <= 2) {
		out->error_code = legacy_check(data, len, max);
		if (out->error_code != KP_ERR_NONE)
			goto done;
		if (kp_legacy_to_batch(data, len, &legacy, &err) < 0) {
			out->error_code = append_error(&err, rq->version);
			goto done;
		}
		data = legacy.data;
		len = legacy.len;
		max = INT32_MAX; /* checked per message above */
	}
	out->error_code = batches_check(data, len, max, rq->version);
	if (out->error_code == KP_ERR_NONE &&
	    kp_produce_recompress(t, &data, &len, max, &recompressed, &err) < 0) {
		kp_diag_debug("produce to %s-%d from %s rejected: %s", t->name, p->index,
			      kp_net_conn_peer(rq->conn), err.msg);
		out->error_code = append_error(&err, rq->version);
	}
	if (out->error_code == KP_ERR_NONE)
		out->error_code = kp_produce_validate(t, data, len, kp_wall_ms(), &append_time);
	if (out->error_code != KP_ERR_NONE)
		goto done;
	rc = kp_log_append(p->log, data, len, p->leader_epoch, &out->base_offset, last,
			   &duplicate_ts, &err);
	if (rc < 0) {
		kp_diag_debug("produce to %s-%d from %s rejected: %s", t->name, p->index,
			      kp_net_conn_peer(rq->conn), err.msg);
		out->error_code = append_error(&err, rq->version);
		if (err.code == KP_EKAFKA) /* Kafka reports the start with the producer state's errors */
			out->log_start_offset = kp_log_start_offset(p->log);
		kp_broker_log_failed(rq->broker, kp_log_dir(p->log), &err); /* KP_EIO: its dir goes offline */
		goto done;
	}
	out->log_start_offset = kp_log_start_offset(p->log);
	out->log_append_time_ms = append_time;
	if (rc == 1) {
		kp_diag_debug("produce to %s-%d from %s: a retried batch, at offset %lld already",
			      t->name, p->index, kp_net_conn_peer(rq->conn),
			      (long long)out->base_offset);
		out->log_append_time_ms = duplicate_ts; /* Kafka: the batch's timestamp */
		goto done;
	}
	kp_broker_wake_partition(rq->broker, t, p->index); /* followers' parked fetches */
	kp_replica_maybe_advance_hw(rq->broker, t, p);   /* at once when the ISR is this broker */
done:
	kp_buf_free(&legacy);
	kp_buf_free(&recompressed);
}

/* internal_refused - whether rq may not append to topic `name` (Kafka's Topic.isInternal). */
static bool internal_refused(const struct kp_request *rq, const char *name)
{
	const char *client = rq->hdr.client_id ? rq->hdr.client_id : "";

	return strcmp(client, "__admin_client") != 0 && kp_topic_is_internal(name);
}

/*
 * produce_partition - one partition: the checks before the append
 * (acks=all with an ISR below min.insync.replicas is NOT_ENOUGH_REPLICAS,
 * as Kafka's appendRecordsToLeader), the append, and for acks=all the
 * offset its high watermark must pass, noted in ctx.
 */
static void produce_partition(struct kp_request *rq, struct kp_topic *t, struct kp_partition *p,
			      const struct kp_produce_request_partition_produce_data *pd,
			      struct produce_ctx *ctx, pr_partition *pr)
{
	int64_t last = -1;

	if (ctx->acks == -1 && p->isr_count < kp_replica_min_isr(rq->broker, t)) {
		pr->error_code = KP_ERR_NOT_ENOUGH_REPLICAS;
		kp_diag_debug("produce to %s-%d: ISR of %d below min.insync.replicas %d", t->name,
			      p->index, p->isr_count, kp_replica_min_isr(rq->broker, t));
		return;
	}
	append_records(rq, t, p, &pd->records, pr, &last);
	if (ctx->acks != -1 || pr->error_code != KP_ERR_NONE || ctx->n == ctx->cap)
		return;
	ctx->waits[ctx->n++] = (struct kp_produce_wait_item){ t->id, p->index, last + 1, pr };
}

static int produce_topic(struct kp_request *rq, const struct kp_produce_request_topic_produce_data *td,
			 struct produce_ctx *ctx, pr_topic *out)
{
	struct kp_topic *t = kp_topics_find(rq->broker->topics, td->name);
	int32_t n = td->partition_data_count > 0 ? td->partition_data_count : 0;

	out->name = td->name;
	out->partition_responses = kp_request_alloc(rq, sizeof(pr_partition) * (size_t)(n ? n : 1));
	if (!out->partition_responses)
		return -1;
	out->partition_responses_count = n;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_produce_request_partition_produce_data *pd = &td->partition_data[i];
		pr_partition *pr = &out->partition_responses[i];
		struct kp_partition *p = kp_topic_partition(t, pd->index);

		pr->index = pd->index;
		pr->base_offset = -1;
		pr->log_append_time_ms = -1;
		pr->log_start_offset = -1;
		pr->current_leader.leader_id = -1;
		pr->current_leader.leader_epoch = -1;
		if (ctx->acks_error) {
			pr->error_code = ctx->acks_error;
		} else if (!p) {
			pr->error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		} else if (p->follower) {
			pr->error_code = KP_ERR_NOT_LEADER_OR_FOLLOWER; /* a cluster: led elsewhere */
		} else if (!kp_partition_online(p)) {
			pr->error_code = KP_ERR_KAFKA_STORAGE_ERROR;
		} else if (internal_refused(rq, td->name)) {
			pr->error_code = KP_ERR_INVALID_TOPIC_EXCEPTION; /* no message, as Kafka */
		} else {
			produce_partition(rq, t, p, pd, ctx, pr);
		}
	}
	return 0;
}

/* acks0_failure - for acks=0: fill err and return -1 (close) when some partition failed. */
static int acks0_failure(const pr_topic *topics, int32_t n, kp_error *err)
{
	for (int32_t i = 0; i < n; i++)
		for (int32_t j = 0; j < topics[i].partition_responses_count; j++) {
			const pr_partition *p = &topics[i].partition_responses[j];

			if (p->error_code != KP_ERR_NONE)
				return kp_error_kafka(err, p->error_code, "produce with acks=0 to "
						      "%s-%d failed", topics[i].name, p->index);
		}
	return 0;
}

/* ctx_init - ctx for rq: its acks, and room for a wait per partition it names. */
static int ctx_init(struct kp_request *rq, struct produce_ctx *ctx)
{
	const struct kp_produce_request *req = rq->body;

	memset(ctx, 0, sizeof(*ctx));
	ctx->acks = req->acks;
	if (req->acks != 0 && req->acks != 1 && req->acks != -1)
		ctx->acks_error = KP_ERR_INVALID_REQUIRED_ACKS;
	for (int32_t i = 0; i < req->topic_data_count; i++)
		ctx->cap += (size_t)(req->topic_data[i].partition_data_count > 0
					     ? req->topic_data[i].partition_data_count : 0);
	if (req->acks == -1 && ctx->cap > 0 &&
	    !(ctx->waits = kp_request_alloc(rq, sizeof(*ctx->waits) * ctx->cap)))
		return -1;
	return 0;
}

/*
 * kp_handle_produce - append each partition's batches; acks=0 answers
 * nothing, acks=1 answers now, acks=all once every appended partition's
 * high watermark has passed its batches (kp_produce_wait).
 */
int kp_handle_produce(struct kp_request *rq, kp_error *err)
{
	const struct kp_produce_request *req = rq->body;
	int32_t n = req->topic_data_count > 0 ? req->topic_data_count : 0;
	struct produce_ctx ctx;
	struct kp_produce_response *resp = kp_produce_response_new(&rq->arena, 1);
	pr_topic *topics = kp_request_alloc(rq, sizeof(*topics) * (size_t)(n ? n : 1));

	if (!resp || !topics || ctx_init(rq, &ctx) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (int32_t i = 0; i < n; i++)
		if (produce_topic(rq, &req->topic_data[i], &ctx, &topics[i]) < 0)
			return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (req->acks == 0) {
		if (acks0_failure(topics, n, err) < 0)
			return -1;
		kp_request_finish(rq);
		return 0;
	}
	resp->responses = topics;
	resp->responses_count = n;
	if (ctx.n > 0)
		return kp_produce_wait(rq, resp, ctx.waits, ctx.n, err);
	KP_RESPOND(rq, PRODUCE, resp);
	return 0;
}
