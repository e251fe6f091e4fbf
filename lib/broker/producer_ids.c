/*
 * producer_ids.c - the broker's blocks of producer ids (producer_ids.h).
 *
 *   current block  [start ... next ..... end)   ids handed out from `next` on
 *   prefetched     [pre_start, pre_start + pre_len)   taken when current runs out
 *
 * A request for the next block goes out when the current one is 90% used
 * or empty (at most one in flight); its answer becomes the prefetched
 * block. The ids are the controller's to allocate: every block is
 * recorded in the metadata log before it is answered, so ids are never
 * handed out twice, across brokers and restarts.
 */
#include "broker/producer_ids.h"

#include <stdbool.h>
#include <stdlib.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "util/diag.h"

#define ALLOCATE_TIMEOUT_MS 30000

struct kp_producer_ids {
	struct kp_broker *b;
	int64_t start, next, end;   /* the current block [start, end), used up when next == end */
	int64_t pre_start, pre_len; /* the prefetched block, pre_len 0: none */
	bool requesting;            /* an AllocateProducerIds is in flight */
	int32_t target;             /* the controller it went to */
};

kp_producer_ids *kp_producer_ids_new(struct kp_broker *b)
{
	kp_producer_ids *m = calloc(1, sizeof(*m));

	if (m)
		m->b = b;
	return m;
}

void kp_producer_ids_free(kp_producer_ids *m)
{
	free(m);
}

static void allocate_done(void *arg, const void *resp_, const kp_error *err)
{
	kp_producer_ids *m = arg;
	const struct kp_allocate_producer_ids_response *resp = resp_;

	m->requesting = false;
	if (err) {
		kp_diag_warn("AllocateProducerIds failed: %s", err->msg);
		if (m->b->cluster && m->b->cluster->channel)
			kp_controller_channel_failed(m->b->cluster->channel, m->target);
		return;
	}
	if (resp->error_code != KP_ERR_NONE || resp->producer_id_start < 0 ||
	    resp->producer_id_len <= 0) {
		kp_diag_warn("AllocateProducerIds refused: %s",
			     kp_kafka_error_name(resp->error_code ? resp->error_code
								  : KP_ERR_UNKNOWN_SERVER_ERROR));
		if (resp->error_code == KP_ERR_NOT_CONTROLLER && m->b->cluster &&
		    m->b->cluster->channel)
			kp_controller_channel_failed(m->b->cluster->channel, m->target);
		return;
	}
	kp_diag_debug("producer ids %lld..%lld allocated to this broker",
		      (long long)resp->producer_id_start,
		      (long long)(resp->producer_id_start + resp->producer_id_len - 1));
	m->pre_start = resp->producer_id_start;
	m->pre_len = resp->producer_id_len;
}

/* request_block - ask the active controller for the next block, unless one is on its way. */
static void request_block(kp_producer_ids *m)
{
	struct kp_broker *b = m->b;
	struct kp_allocate_producer_ids_request req;
	kp_error err;

	if (m->requesting || m->pre_len > 0 || !b->cluster || !b->cluster->channel || b->stopping)
		return;
	kp_allocate_producer_ids_request_init(&req);
	req.broker_id = b->cfg.node_id;
	req.broker_epoch = kp_lifecycle_broker_epoch(b->cluster->lifecycle);
	if (kp_controller_channel_send(b->cluster->channel, KP_API_ALLOCATE_PRODUCER_IDS, 0, &req,
				       ALLOCATE_TIMEOUT_MS, allocate_done, m, &m->target,
				       &err) < 0) {
		kp_diag_debug("AllocateProducerIds not sent: %s", err.msg);
		return;
	}
	m->requesting = true;
}

void kp_producer_ids_prefetch(kp_producer_ids *m)
{
	if (m && m->next == m->end)
		request_block(m);
}

int16_t kp_producer_ids_generate(kp_producer_ids *m, int64_t *id)
{
	if (m->next == m->end) {
		if (m->pre_len == 0) {
			request_block(m);
			return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
		}
		m->start = m->next = m->pre_start;
		m->end = m->pre_start + m->pre_len;
		m->pre_len = 0;
	}
	*id = m->next++;
	if ((m->next - m->start) * 10 >= (m->end - m->start) * 9)
		request_block(m); /* 90% used: prefetch (Kafka's iteration threshold) */
	return KP_ERR_NONE;
}
