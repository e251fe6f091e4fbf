/*
 * init_producer_id.c - InitProducerId (key 22), versions 0-5 (KIP-98;
 * KIP-360 added the current producer id and epoch in v3).
 *
 * An idempotent producer (no transactional id) gets a new producer id
 * from this broker's block (producer_ids.h) and epoch 0, whatever id and
 * epoch it sends, as Kafka's TransactionCoordinator.handleInitProducerId
 * does for a null transactional id; while no block is at hand the answer
 * is COORDINATOR_LOAD_IN_PROGRESS, which clients retry. A producer id
 * given without an epoch, or the reverse, is INVALID_REQUEST, and so is
 * an empty transactional id. A transactional producer gets
 * NOT_COORDINATOR: there is no transaction coordinator yet (FindCoordinator
 * for transactions answers COORDINATOR_NOT_AVAILABLE).
 */
#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/producer_ids.h"

int kp_handle_init_producer_id(struct kp_request *rq, kp_error *err)
{
	const struct kp_init_producer_id_request *req = rq->body;
	struct kp_init_producer_id_response *resp = kp_init_producer_id_response_new(&rq->arena, 1);
	bool no_id = req->producer_id == -1, no_epoch = req->producer_epoch == -1;

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->producer_id = -1;
	resp->producer_epoch = -1;
	if (no_id != no_epoch || (req->transactional_id && !req->transactional_id[0]))
		resp->error_code = KP_ERR_INVALID_REQUEST;
	else if (req->transactional_id)
		resp->error_code = KP_ERR_NOT_COORDINATOR;
	else if (!rq->broker->cluster || !rq->broker->cluster->producer_ids)
		resp->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	else if ((resp->error_code = kp_producer_ids_generate(rq->broker->cluster->producer_ids,
							      &resp->producer_id)) == KP_ERR_NONE)
		resp->producer_epoch = 0;
	KP_RESPOND(rq, INIT_PRODUCER_ID, resp);
	return 0;
}
