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

static int fill_brokers(struct kp_request *rq, struct kp_describe_cluster_response *resp)
{
	const kp_image *img = rq->broker->cluster->image;
	const char *listener = rq->session ? rq->session->listener : "PLAINTEXT";
	size_t n = kp_image_broker_count(img);
	dc_broker *out = kp_request_alloc(rq, sizeof(*out) * (n ? n : 1));
	int32_t k = 0;

	if (!out)
		return -1;
	for (const struct kp_image_broker *ib = kp_image_broker_first(img); ib;
	     ib = kp_image_broker_next(img, ib)) {
		const struct kp_image_endpoint *ep = kp_image_broker_endpoint(ib, listener);

		if (ib->fenced || !ep)
			continue;
		out[k].broker_id = ib->id;
		out[k].host = ep->host;
		out[k].port = ep->port;
		out[k].rack = ib->rack;
		k++;
	}
	resp->brokers = out;
	resp->brokers_count = k;
	return 0;
}

int kp_handle_describe_cluster(struct kp_request *rq, kp_error *err)
{
	const struct kp_describe_cluster_request *req = rq->body;
	struct kp_describe_cluster_response *resp = kp_describe_cluster_response_new(&rq->arena, 1);

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
	if (fill_brokers(rq, resp) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->controller_id = kp_broker_cluster_controller_id(rq->broker);
	KP_RESPOND(rq, DESCRIBE_CLUSTER, resp);
	return 0;
}
