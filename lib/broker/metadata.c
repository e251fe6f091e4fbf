/*
 * metadata.c - Metadata (key 3), versions 0-12.
 *
 * Per version (MetadataRequest.json, KIP-4, KIP-204, KIP-516):
 *   v0      an empty topic list means all topics; topics are auto-created
 *           whenever auto.create.topics.enable is set
 *   v1-3    a null list means all topics, an empty one none; auto-create
 *           as v0 (kafka-python relies on this, CLIENT-NOTES rule 5)
 *   v4+     auto-create only with allow_auto_topic_creation
 *   v10+    topics carry topic ids; requests may name topics by id; a
 *           null name with an unknown or zero id is UNKNOWN_TOPIC_ID, the
 *           name null (v12+; "" before, where names are not nullable)
 *   v8+     authorized operations: INT32_MIN unless asked for (KIP-430);
 *           asked for, every operation Kafka supports on the resource,
 *           as Kafka answers without an authorizer
 * The answer comes from the metadata image (metadata_image.c): every
 * live broker, the controller, and each partition's leader, replicas, ISR
 * and offline replicas.
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"

bool kp_topic_name_internal(const char *name)
{
	return strcmp(name, "__consumer_offsets") == 0 || strcmp(name, "__transaction_state") == 0;
}

int kp_handle_metadata(struct kp_request *rq, kp_error *err)
{
	return kp_metadata_from_image(rq, err);
}
