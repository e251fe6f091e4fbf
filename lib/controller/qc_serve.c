/*
 * qc_serve.c - the controller APIs a quorum controller serves (Kafka's
 * ControllerApis for them): which keys and versions, decoding, dispatch
 * to the handlers in registration.c, fencing.c, topics_ctl.c,
 * configs_ctl.c, alter_partition.c, elect_leaders.c, reassign.c and
 * producer_ids.c.
 */
#include <stdlib.h>

#include "controller/qc_internal.h"
#include "controller/reassign.h"
#include "util/buf.h"
#include "util/diag.h"

typedef int (*qc_handler)(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			  kp_error *err);

static const struct qc_api {
	int16_t api_key, min, max;
	qc_handler handler;
} apis[] = {
	{ KP_API_CREATE_TOPICS, 2, 7, kp_qc_create_topics },
	{ KP_API_DELETE_TOPICS, 1, 6, kp_qc_delete_topics },
	{ KP_API_ALTER_CONFIGS, 0, 2, kp_qc_alter_configs },
	{ KP_API_CREATE_PARTITIONS, 0, 3, kp_qc_create_partitions },
	{ KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, kp_qc_incremental_alter_configs },
	{ KP_API_BROKER_REGISTRATION, 0, 4, kp_qc_broker_registration },
	{ KP_API_BROKER_HEARTBEAT, 0, 1, kp_qc_broker_heartbeat },
	{ KP_API_ALTER_PARTITION, 0, 3, kp_qc_alter_partition },
	{ KP_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0, kp_qc_alter_partition_reassignments },
	{ KP_API_LIST_PARTITION_REASSIGNMENTS, 0, 0, kp_qc_list_partition_reassignments },
	{ KP_API_ELECT_LEADERS, 0, 2, kp_qc_elect_leaders },
	{ KP_API_ALLOCATE_PRODUCER_IDS, 0, 0, kp_qc_allocate_producer_ids },
};
#define N_APIS ((int)(sizeof(apis) / sizeof(apis[0])))

/* find_api - the entry of `key`, NULL if not a controller API here. */
static const struct qc_api *find_api(int16_t key)
{
	for (int i = 0; i < N_APIS; i++)
		if (apis[i].api_key == key)
			return &apis[i];
	return NULL;
}

bool kp_qc_api_range(int16_t api_key, int16_t *min, int16_t *max)
{
	const struct qc_api *a = find_api(api_key);
	const struct kp_api_info *info = kp_api_lookup(api_key);

	if (!a || !info)
		return false;
	*min = a->min;
	*max = a->max < info->max_version ? a->max : info->max_version;
	return true;
}

int kp_qc_handle(kp_quorum_controller *qc, kp_net_conn *conn, uint8_t *frame, size_t len,
		 kp_error *err)
{
	const struct qc_api *a;
	struct kp_ctl_request *rq;
	int16_t min, max;

	if (len < 4 || !(a = find_api((int16_t)kp_load_u16(frame))))
		return 0;
	if (!(rq = kp_ctl_request_new(qc, conn, frame, len, err)))
		return -1;
	if (!kp_qc_api_range(rq->api_key, &min, &max) || rq->version < min || rq->version > max) {
		kp_error_set(err, KP_EPROTO, "api key %d version %d is not served by a controller",
			     rq->api_key, rq->version);
		goto fail;
	}
	if (kp_ctl_request_decode_body(rq, err) < 0)
		goto fail;
	kp_diag_debug("%s: controller api %d v%d correlation id %d", kp_net_conn_peer(conn),
		      rq->api_key, rq->version, rq->hdr.correlation_id);
	if (a->handler(qc, rq, err) < 0)
		goto fail;
	return 1;
fail:
	kp_ctl_request_free(rq);
	return -1;
}

void kp_qc_conn_closed(kp_quorum_controller *qc, kp_net_conn *conn)
{
	struct kp_qc_op *ops[2] = { qc->inflight, qc->head };

	for (int k = 0; k < 2; k++) {
		for (struct kp_qc_op *op = ops[k]; op; op = k ? op->next : NULL) {
			if (op->rq && op->rq->conn == conn)
				op->rq->conn = NULL; /* the write still happens; nobody to answer */
		}
	}
}

void kp_qc_respond(struct kp_qc_op *op, const void *resp)
{
	struct kp_ctl_request *rq = op->rq;

	op->rq = NULL;
	op->answered = true;
	if (!rq)
		return;
	if (rq->conn)
		kp_ctl_respond(rq, resp);
	else
		kp_ctl_request_free(rq);
}
