/*
 * producer_ids.c - AllocateProducerIds (key 67, v0) on the active
 * controller (Kafka's ProducerIdControlManager, KIP-730): a broker asks
 * for a block of producer ids to hand out in InitProducerId answers; the
 * controller writes a ProducerIdsRecord moving the next free id past the
 * block and answers once it is committed, so no two brokers, and no
 * controller after a failover, ever hand out the same id.
 *
 *   image next_producer_id:  N          ->  N + 1000 (ProducerIdsRecord)
 *   answer:                  ProducerIdStart N, ProducerIdLen 1000
 */
#include "controller/qc_internal.h"

#include "metadata/image.h"
#include "protocol/errors.h"

#define BLOCK_SIZE 1000 /* Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE */

struct pid_state {
	int16_t error;
	int64_t start; /* the block's first id */
};

static int allocate_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_allocate_producer_ids_request *req = op->rq ? op->rq->body : NULL;
	const struct kp_image_broker *b;
	struct kp_producer_ids_record *r;
	struct pid_state *st = op->state;
	int64_t next;

	if (!req)
		return 0;
	b = kp_image_broker(op->qc->img, req->broker_id);
	if (!b || b->epoch != req->broker_epoch) {
		st->error = KP_ERR_STALE_BROKER_EPOCH; /* ClusterControlManager.checkBrokerEpoch */
		return 0;
	}
	next = kp_image_next_producer_id(op->qc->img);
	if (next < 0)
		next = 0;
	if (next > INT64_MAX - BLOCK_SIZE) {
		st->error = KP_ERR_UNKNOWN_SERVER_ERROR; /* every producer id handed out */
		return 0;
	}
	if (!(r = kp_qc_recs_add(&op->recs, KP_METADATA_PRODUCER_IDS_RECORD)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	r->broker_id = req->broker_id;
	r->broker_epoch = req->broker_epoch;
	r->next_producer_id = next + BLOCK_SIZE;
	st->start = next;
	return 0;
}

/* allocate_finish - the block once its record is committed, or the error. */
static void allocate_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	struct kp_allocate_producer_ids_response *resp;
	const struct pid_state *st = op->state;

	(void)base;
	if (!op->rq || !(resp = kp_allocate_producer_ids_response_new(&op->rq->arena, 1)))
		return;
	resp->error_code = error ? error : st->error;
	resp->producer_id_start = resp->error_code ? -1 : st->start;
	resp->producer_id_len = resp->error_code ? -1 : BLOCK_SIZE;
	kp_qc_respond(op, resp);
}

int kp_qc_allocate_producer_ids(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
				kp_error *err)
{
	return kp_qc_submit_new(qc, rq, sizeof(struct pid_state), allocate_run, allocate_finish,
				err);
}
