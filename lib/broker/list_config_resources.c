/*
 * list_config_resources.c - ListConfigResources (key 74), version 0: the
 * API Kafka 4.1 renamed from ListClientMetricsResources (KIP-1142) and
 * whose v0 lists the client metrics resources (KIP-714). The schemas the
 * codec is generated from (../shared/kafka-protocol) have only v0, under
 * the old name, so v1 (ResourceTypes: topics, brokers, groups ...) is not
 * served. kbroker's controller accepts configs for topics and brokers
 * only (lib/controller/configs_ctl.c), so no client metrics resource can
 * exist: the answer is an empty list, as Kafka's with none defined.
 */
#include "broker/internal.h"

int kp_handle_list_config_resources(struct kp_request *rq, kp_error *err)
{
	struct kp_list_client_metrics_resources_response *resp =
		kp_list_client_metrics_resources_response_new(&rq->arena, 1);

	if (!resp)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	resp->error_code = KP_ERR_NONE;
	resp->client_metrics_resources_count = 0;
	KP_RESPOND(rq, LIST_CLIENT_METRICS_RESOURCES, resp);
	return 0;
}
