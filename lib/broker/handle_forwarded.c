/*
 * handle_forwarded.c - the admin APIs a KRaft cluster member forwards to
 * the active controller (KIP-590, forward.h): CreateTopics (19, v0-1
 * forwarded at v2, whose body is the same; the controller answers
 * duplicate names, assignments, replication factors and topic configs),
 * DeleteTopics (20),
 * AlterConfigs (33), CreatePartitions (37), IncrementalAlterConfigs (44),
 * DescribeQuorum (55, as Kafka's KafkaApis.handleDescribeQuorumRequest). Served
 * at every version Kafka's brokers serve; the controller must serve the
 * same (the request goes on at the client's version).
 */
#include "broker/forward.h"
#include "broker/internal.h"

int kp_handle_forwarded(struct kp_request *rq, kp_error *err)
{
	return kp_forward_request(rq, err);
}
