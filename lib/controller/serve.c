/*
 * serve.c - kcontroller's listener: each frame goes to the Raft node
 * (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch of __cluster_metadata,
 * DescribeQuorum), then to the quorum controller (broker registration
 * and heartbeats, topic and config changes), and ApiVersions and
 * DescribeCluster (KIP-919, for kafka-metadata-quorum
 * --bootstrap-controller) are answered here. Kafka's ControllerApis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/internal.h"
#include "protocol/errors.h"
#include "util/diag.h"

typedef int (*ctl_handler)(struct kp_controller *c, struct kp_ctl_request *rq, kp_error *err);

static int handle_api_versions(struct kp_controller *c, struct kp_ctl_request *rq, kp_error *err);
static int handle_describe_cluster(struct kp_controller *c, struct kp_ctl_request *rq,
				   kp_error *err);

/* The APIs served here; versions clamped to the schemas'. */
static const struct ctl_api {
	int16_t api_key, min, max;
	ctl_handler handler;
} apis[] = {
	{ KP_API_API_VERSIONS, 0, 4, handle_api_versions },
	{ KP_API_DESCRIBE_CLUSTER, 1, 1, handle_describe_cluster },
};
#define N_APIS ((int)(sizeof(apis) / sizeof(apis[0])))

/* api_range - the versions of `key` served by this process (node, controller, here). */
static bool api_range(int16_t key, int16_t *min, int16_t *max)
{
	const struct kp_api_info *info = kp_api_lookup(key);

	if (!info)
		return false;
	if (kp_raft_node_api_range(key, min, max) || kp_qc_api_range(key, min, max))
		return true;
	for (int i = 0; i < N_APIS; i++) {
		if (apis[i].api_key == key) {
			*min = apis[i].min;
			*max = apis[i].max < info->max_version ? apis[i].max : info->max_version;
			return true;
		}
	}
	return false;
}

static int handle_api_versions(struct kp_controller *c, struct kp_ctl_request *rq, kp_error *err)
{
	struct kp_api_versions_response *resp = kp_api_versions_response_new(&rq->arena, 1);
	struct kp_api_versions_response_api_version *keys =
		kp_api_versions_response_api_version_new(&rq->arena, kp_api_count);
	int n = 0;

	if (!resp || !keys)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	for (size_t i = 0; i < kp_api_count; i++) {
		int16_t key = kp_api_table[i].api_key, min, max;

		if (!api_range(key, &min, &max))
			continue;
		keys[n].api_key = key;
		keys[n].min_version = min;
		keys[n++].max_version = max;
	}
	resp->api_keys = keys;
	resp->api_keys_count = n;
	kp_ctl_respond(rq, resp);
	return 0;
}

/*
 * handle_describe_cluster - KIP-919: asked for controller endpoints (type
 * 2), the voters and the active controller, which is what an admin client
 * bootstrapped with --bootstrap-controller routes to; asked a controller
 * for brokers (type 1): MISMATCHED_ENDPOINT_TYPE with Kafka's message, no
 * cluster id and controller -1 (ControllerApis.handleDescribeCluster;
 * checked by tests/differential/describe_cluster_controller.json);
 * another type: UNSUPPORTED_ENDPOINT_TYPE.
 */
static int handle_describe_cluster(struct kp_controller *c, struct kp_ctl_request *rq,
				   kp_error *err)
{
	const struct kp_describe_cluster_request *req = rq->body;
	const struct kp_raft_node_config *cfg = &c->cfg.raft;
	struct kp_describe_cluster_response *resp = kp_describe_cluster_response_new(&rq->arena, 1);
	struct kp_describe_cluster_response_describe_cluster_broker *b =
		kp_describe_cluster_response_describe_cluster_broker_new(&rq->arena,
									 (size_t)cfg->n_voters);

	if (!resp || !b)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->endpoint_type = req->endpoint_type;
	if (req->endpoint_type != 2) {
		resp->error_code = req->endpoint_type == 1 ? KP_ERR_MISMATCHED_ENDPOINT_TYPE
							   : KP_ERR_UNSUPPORTED_ENDPOINT_TYPE;
		resp->error_message = req->endpoint_type == 1 ?
			"The request was sent to an endpoint of type CONTROLLER, but we wanted an "
			"endpoint of type BROKER" : "Unsupported endpoint type";
		resp->cluster_id = "";
		resp->controller_id = -1;
		kp_ctl_respond(rq, resp);
		return 0;
	}
	resp->cluster_id = (char *)cfg->cluster_id;
	resp->controller_id = kp_raft_node_leader(c->node);
	for (int i = 0; i < cfg->n_voters; i++) {
		b[i].broker_id = cfg->voters[i].id;
		b[i].host = (char *)cfg->voters[i].host;
		b[i].port = cfg->voters[i].port;
	}
	resp->brokers = b;
	resp->brokers_count = cfg->n_voters;
	kp_ctl_respond(rq, resp);
	return 0;
}

/* api_versions_unsupported - ApiVersions at a version we lack: error 35, a v0 body (KIP-511). */
static void api_versions_unsupported(struct kp_ctl_request *rq)
{
	struct kp_api_versions_response *resp = kp_api_versions_response_new(&rq->arena, 1);
	struct kp_api_versions_response_api_version *key =
		kp_api_versions_response_api_version_new(&rq->arena, 1);
	kp_net_conn *conn = rq->conn;

	if (!resp || !key) {
		kp_ctl_request_free(rq);
		kp_net_conn_done(conn);
		return;
	}
	resp->error_code = KP_ERR_UNSUPPORTED_VERSION;
	key->api_key = KP_API_API_VERSIONS;
	key->min_version = 0;
	key->max_version = 4;
	resp->api_keys = key;
	resp->api_keys_count = 1;
	rq->version = 0;
	kp_ctl_respond(rq, resp);
}

/* find_api - the entry served here for `rq`'s key and version, or NULL. */
static const struct ctl_api *find_api(const struct kp_ctl_request *rq)
{
	int16_t min, max;

	for (int i = 0; i < N_APIS; i++)
		if (apis[i].api_key == rq->api_key)
			return api_range(rq->api_key, &min, &max) && rq->version >= min &&
			       rq->version <= max ? &apis[i] : NULL;
	return NULL;
}

/* serve_here - ApiVersions and DescribeCluster; -1 closes the connection. */
static int serve_here(struct kp_controller *c, kp_net_conn *conn, uint8_t *frame, size_t len,
		      kp_error *err)
{
	struct kp_ctl_request *rq = kp_ctl_request_new(c, conn, frame, len, err);

	if (!rq)
		return -1;
	const struct ctl_api *a = find_api(rq);

	if (!a && rq->api_key == KP_API_API_VERSIONS) {
		api_versions_unsupported(rq);
		return 0;
	}
	if (!a) {
		kp_error_set(err, KP_EPROTO, "api key %d version %d is not served by a controller",
			     rq->api_key, rq->version);
		goto fail;
	}
	if (kp_ctl_request_decode_body(rq, err) < 0)
		goto fail;
	kp_diag_debug("%s: api %d v%d correlation id %d", kp_net_conn_peer(conn), rq->api_key,
		      rq->version, rq->hdr.correlation_id);
	if (a->handler(c, rq, err) < 0)
		goto fail;
	return 0;
fail:
	kp_ctl_request_free(rq);
	return -1;
}

int kp_ctl_on_frame(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err)
{
	struct kp_controller *c = opaque;
	int rc = kp_raft_node_handle(c->node, conn, frame, len, err);

	if (rc == 0)
		rc = kp_qc_handle(c->qc, conn, frame, len, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return serve_here(c, conn, frame, len, err);
}

void kp_ctl_on_close(kp_net_conn *conn, void *opaque)
{
	struct kp_controller *c = opaque;

	kp_raft_node_conn_closed(c->node, conn);
	kp_qc_conn_closed(c->qc, conn);
}
