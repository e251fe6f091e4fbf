/*
 * group_replicated.c - a group coordinator request answered once its
 * write to __consumer_offsets is replicated: the partition's high
 * watermark (the least log end offset over the ISR, replica.h) reaches
 * the end of the write.
 *
 * Kafka's coordinator writes with acks=-1 and completes a request when
 * the high watermark passes its records (CoordinatorRuntime in Kafka 4,
 * GroupMetadataManager.storeOffsets with requiredAcks -1 before), within
 * offsets.commit.timeout.ms; a failed write is answered with the error
 * GroupCoordinatorService.normalizeException makes of it:
 *
 *   REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS(_AFTER_APPEND) -> COORDINATOR_NOT_AVAILABLE
 *   NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR            -> NOT_COORDINATOR
 *
 * The request is parked in the purgatory under the partition's key, which
 * the leader wakes whenever its high watermark, ISR or leadership
 * changes. With one replica the high watermark has passed the write when
 * the append returns, and the answer goes at once, without parking.
 *
 * Writes made inside lib/group's store hooks (SyncGroup's group metadata,
 * KIP-848 group state, a LeaveGroup that empties a group) are not seen by
 * the handler: it marks the partition's log end before the lib/group call
 * (kp_group_log_mark) and, after it, waits for the partition up to its
 * end when that moved (kp_group_respond_written), as Kafka 4's runtime
 * completes an operation once the high watermark passes its records.
 */
#include "broker/internal.h"
#include "broker/replica.h"

struct replicated_wait {
	struct kp_request *rq;
	struct kp_group_write w;
	kp_replicated_done done;
	void *arg;
};

/*
 * write_check - whether w is settled, *error set when it is: NONE once the
 * high watermark reached the write (COORDINATOR_NOT_AVAILABLE when the
 * maximal ISR is below min.insync.replicas by then), NOT_COORDINATOR when
 * this broker no longer leads the partition in the write's leader epoch.
 */
static bool write_check(struct kp_broker *b, const struct kp_group_write *w, int16_t *error)
{
	struct kp_topic *t = kp_topics_find_id(b->topics, &w->topic_id);
	struct kp_partition *p = kp_topic_partition(t, w->partition);

	if (!p || !p->hosted || p->follower || !p->log || p->leader_epoch != w->leader_epoch) {
		*error = KP_ERR_NOT_COORDINATOR; /* NOT_LEADER_OR_FOLLOWER, normalized */
		return true;
	}
	if (kp_partition_high_watermark(p) < w->required_offset)
		return false;
	/* NOT_ENOUGH_REPLICAS_AFTER_APPEND, normalized */
	*error = kp_replica_maximal_isr_count(p) < kp_replica_min_isr(b, t)
			 ? KP_ERR_COORDINATOR_NOT_AVAILABLE
			 : KP_ERR_NONE;
	return true;
}

static bool replicated_waiting(void *arg, enum kp_op_reason why)
{
	struct replicated_wait *rw = arg; /* in rq's arena: gone once rq is answered or freed */
	int16_t error;

	if (why == KP_OP_CLOSED) {
		kp_request_free(rw->rq);
		return true;
	}
	if (!write_check(rw->rq->broker, &rw->w, &error)) {
		if (why == KP_OP_WAKE || why == KP_OP_HANGUP)
			return false;
		/* REQUEST_TIMED_OUT, normalized; a stopping broker hands the group on */
		error = why == KP_OP_SHUTDOWN ? KP_ERR_NOT_COORDINATOR
					      : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	rw->done(rw->rq, rw->arg, error);
	return true;
}

int kp_request_respond_replicated(struct kp_request *rq, const struct kp_group_write *w,
				  int64_t timeout_ms, kp_replicated_done done, void *arg,
				  kp_error *err)
{
	struct replicated_wait *rw;
	struct kp_watch_key key;
	int16_t error;

	if (write_check(rq->broker, w, &error)) {
		done(rq, arg, error);
		return 0;
	}
	if (rq->broker->stopping) {
		done(rq, arg, KP_ERR_NOT_COORDINATOR);
		return 0;
	}
	if (!(rw = kp_request_alloc(rq, sizeof(*rw))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	*rw = (struct replicated_wait){ rq, *w, done, arg };
	kp_watch_key_partition(&key, &w->topic_id, w->partition);
	return kp_purgatory_park(rq->broker->purgatory, rq->conn, timeout_ms > 0 ? timeout_ms : 0,
				 &key, 1, replicated_waiting, rw, err);
}

int64_t kp_group_log_mark(struct kp_broker *b, const char *group_id)
{
	struct kp_group_write w;

	return group_id && kp_group_log_tail(b, group_id, &w) == KP_ERR_NONE ? w.required_offset
									      : INT64_MAX;
}

int kp_group_respond_written(struct kp_request *rq, const char *group_id, int64_t since,
			     kp_replicated_done done, void *arg, kp_error *err)
{
	struct kp_group_write w;

	if (!group_id || kp_group_log_tail(rq->broker, group_id, &w) != KP_ERR_NONE ||
	    w.required_offset <= since) {
		done(rq, arg, KP_ERR_NONE);
		return 0;
	}
	return kp_request_respond_replicated(rq, &w, rq->broker->cfg.offsets_commit_timeout_ms,
					     done, arg, err);
}
