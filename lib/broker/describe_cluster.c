/*
 * describe_cluster.c - DescribeCluster (key 60), versions 0-1 (KIP-700,
 * KIP-919), on a KRaft cluster member, from the metadata image: the live
 * brokers with their endpoint for the client's listener and rack, a live
 * broker as controller (as Metadata: Kafka's brokers name a random alive
 * broker), the cluster id. v1's endpoint type 2 (controllers) is for
 * controllers only: brokers answer UNSUPPORTED_ENDPOINT_TYPE, as Kafka's.
 */
#include "broker/cluster.h"
#include "broker/internal.h"

typedef struct kp_describe_cluster_response_describe_cluster_broker dc_broker;

/* put_broker - a DescribeCluster broker from `ib` (kp_broker_cluster_put_fn). */
static void put_broker(void *elem, const struct kp_image_broker *ib,
		       const struct kp_image_endpoint *ep)
{
	dc_broker *out = elem;

	out->broker_id = ib->id;
	out->host = ep->host;
	out->port = ep->port;
	out->rack = ib->rack;
}

int kp_handle_describe_cluster(struct kp_request *rq, kp_error *err)
{
	const struct kp_describe_cluster_request *req = rq->body;
	struct kp_describe_cluster_response *resp = kp_describe_cluster_response_new(&rq->arena, 1);
	void *brokers;

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->endpoint_type = 1; /* brokers */
	resp->cluster_id = rq->broker->cluster_id;
	resp->controller_id = -1;
	resp->cluster_authorized_operations = req->include_cluster_authorized_operations
						      ? KP_CLUSTER_OPERATIONS
						      : KP_OPERATIONS_NOT_ASKED;
	if (rq->version >= 1 && req->endpoint_type != 1) {
		resp->error_code = KP_ERR_UNSUPPORTED_ENDPOINT_TYPE;
		resp->error_message = "Unsupported endpoint type";
		resp->endpoint_type = req->endpoint_type;
		KP_RESPOND(rq, DESCRIBE_CLUSTER, resp);
		return 0;
	}
	if (kp_broker_cluster_list_brokers(rq, sizeof(dc_broker), put_broker, &brokers,
					   &resp->brokers_count) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->brokers = brokers;
	resp->controller_id = kp_broker_cluster_controller_id(rq->broker);
	KP_RESPOND(rq, DESCRIBE_CLUSTER, resp);
	return 0;
}
