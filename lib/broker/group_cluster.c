/*
 * group_cluster.c - the group coordinator of a KRaft cluster member:
 * which broker coordinates a group (the leader of the group's
 * __consumer_offsets partition, Kafka's GroupCoordinator.partitionFor
 * with the metadata cache's leader), and this broker becoming and
 * ceasing to be coordinator of a partition's groups as leadership moves
 * in the image (GroupCoordinator.onElection / onResignation).
 */
#include <string.h>

#include "broker/cluster.h"
#include "broker/internal.h"
#include "util/diag.h"

int16_t kp_broker_cluster_coordinator(struct kp_request *rq, const char *group_id,
				      int32_t *node, const char **host, int32_t *port)
{
	struct kp_broker *b = rq->broker;
	const char *listener = rq->session ? rq->session->listener : "PLAINTEXT";
	int16_t error;
	struct kp_topic *t = kp_group_log_topic(b, &error);
	const struct kp_partition *p;
	const struct kp_image_broker *ib;
	const struct kp_image_endpoint *ep;

	if (!t)
		return error; /* being created by the controller */
	p = kp_topic_partition(t, kp_group_log_partition_for(group_id, t->partition_count));
	if (!p || p->leader < 0 || !kp_broker_cluster_broker_alive(b, p->leader))
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	ib = kp_image_broker(b->cluster->image, p->leader);
	ep = ib ? kp_image_broker_endpoint(ib, listener) : NULL;
	if (!ep)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	*node = p->leader;
	*host = ep->host;
	*port = ep->port;
	return KP_ERR_NONE;
}

void kp_broker_cluster_group_leadership(struct kp_broker *b, const struct kp_topic *t,
					int32_t partition, bool was_leader, bool is_leader)
{
	kp_error err;

	if (was_leader == is_leader || strcmp(t->name, "__consumer_offsets") != 0)
		return;
	if (!is_leader) {
		kp_diag_info("no longer coordinating the groups of __consumer_offsets-%d", partition);
		kp_group_log_unload_partition(b, partition);
	} else if (kp_group_log_load_partition(b, partition, &err) < 0) {
		kp_diag_error("cannot load the groups of __consumer_offsets-%d: %s", partition,
			      err.msg);
	} else {
		kp_diag_info("coordinating the groups of __consumer_offsets-%d", partition);
	}
}
