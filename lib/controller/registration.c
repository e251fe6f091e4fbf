/*
 * registration.c - BrokerRegistration on the active controller (Kafka's
 * ClusterControlManager.registerBroker): the broker epoch is the offset
 * of its RegisterBrokerRecord; the same incarnation id amends the
 * registration and keeps the epoch; a new incarnation id replaces the old
 * registration (fenced, new epoch) once the old one's session has expired
 * or it was fenced, DUPLICATE_BROKER_REGISTRATION while it is alive; in
 * combined mode the process's own broker replaces its old registration at
 * once (the old incarnation was this process's before it restarted).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/qc_internal.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

/* What a registration's run decided. */
struct reg_state {
	int16_t error;
	int64_t epoch;  /* the broker epoch answered (-1: the batch's base offset) */
};

/* session_alive - BrokerHeartbeatManager.hasValidSession. */
static bool session_alive(struct kp_quorum_controller *qc, int32_t id)
{
	const struct kp_image_broker *b = kp_image_broker(qc->img, id);

	if (b && b->fenced) /* fenced (after a controlled shutdown, say): no session to defend */
		return false;
	for (size_t i = 0; i < qc->n_sessions; i++)
		if (qc->sessions[i].id == id)
			return kp_mono_ms() - qc->sessions[i].last_contact_ms <=
			       qc->cfg.broker_session_timeout_ms;
	return false;
}

/* features_ok - every finalized feature in the broker's range (processRegistrationFeature). */
static bool features_ok(const kp_image *img, const struct kp_broker_registration_request *req)
{
	int16_t mv = kp_image_feature_level(img, KP_METADATA_VERSION_FEATURE);

	for (int32_t i = 0; i < req->features_count; i++) {
		const struct kp_broker_registration_request_feature *f = &req->features[i];
		int16_t level = kp_image_feature_level(img, f->name);

		if (level > 0 && (level < f->min_supported_version || level > f->max_supported_version))
			return false;
		if (strcmp(f->name, KP_METADATA_VERSION_FEATURE) == 0)
			mv = 0; /* checked */
	}
	return mv <= 1; /* no range sent: only MINIMUM_KRAFT_VERSION (1) is assumed */
}

/* fill_record - the RegisterBrokerRecord of `req` (strings borrowed from the request). */
static int fill_record(struct kp_qc_op *op, const struct kp_broker_registration_request *req,
		       struct kp_register_broker_record *r)
{
	r->broker_id = req->broker_id;
	r->incarnation_id = req->incarnation_id;
	r->rack = req->rack;
	r->end_points = kp_register_broker_record_broker_endpoint_new(&op->arena,
								      (size_t)req->listeners_count);
	r->features = kp_register_broker_record_broker_feature_new(&op->arena,
								   (size_t)req->features_count);
	if (!r->end_points || !r->features)
		return -1;
	for (int32_t i = 0; i < req->listeners_count; i++) {
		r->end_points[i].name = req->listeners[i].name;
		r->end_points[i].host = req->listeners[i].host;
		r->end_points[i].port = req->listeners[i].port;
		r->end_points[i].security_protocol = req->listeners[i].security_protocol;
	}
	r->end_points_count = req->listeners_count;
	for (int32_t i = 0; i < req->features_count; i++) {
		r->features[i].name = req->features[i].name;
		r->features[i].min_supported_version = req->features[i].min_supported_version;
		r->features[i].max_supported_version = req->features[i].max_supported_version;
	}
	r->features_count = req->features_count;
	if (req->log_dirs_count > 0) {
		r->log_dirs = req->log_dirs;
		r->log_dirs_count = req->log_dirs_count;
	}
	return 0;
}

static int registration_run(struct kp_qc_op *op, kp_error *err)
{
	const struct kp_broker_registration_request *req = op->rq->body;
	struct kp_quorum_controller *qc = op->qc;
	const char *cluster_id = kp_raft_node_config(qc->node)->cluster_id;
	const struct kp_image_broker *old = kp_image_broker(qc->img, req->broker_id);
	struct reg_state *st = op->state;
	struct kp_register_broker_record *r;
	bool same;

	if (cluster_id[0] && (!req->cluster_id || strcmp(req->cluster_id, cluster_id) != 0))
		return st->error = KP_ERR_INCONSISTENT_CLUSTER_ID, 0;
	same = old && memcmp(&old->incarnation_id, &req->incarnation_id, sizeof(kp_uuid)) == 0;
	/* combined mode: a new incarnation of this process's own broker means it restarted */
	if (old && !same && req->broker_id != qc->local_broker_id && session_alive(qc, req->broker_id))
		return st->error = KP_ERR_DUPLICATE_BROKER_REGISTRATION, 0;
	if (req->is_migrating_zk_broker)
		return st->error = KP_ERR_BROKER_ID_NOT_REGISTERED, 0;
	if (!features_ok(qc->img, req))
		return st->error = KP_ERR_UNSUPPORTED_VERSION, 0;
	if (!(r = kp_qc_recs_add(&op->recs, KP_METADATA_REGISTER_BROKER_RECORD)) ||
	    fill_record(op, req, r) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	/* the next offset the leader writes: only this controller appends, one batch at a time */
	r->broker_epoch = same ? old->epoch : kp_raft_node_log_end_offset(qc->node);
	r->fenced = same ? old->fenced : true;
	r->in_controlled_shutdown = same ? old->in_controlled_shutdown : false;
	st->epoch = r->broker_epoch;
	kp_diag_info("controller: %s broker %d, broker epoch %lld",
		     same ? "amending the registration of" : "registering", req->broker_id,
		     (long long)r->broker_epoch);
	return 0;
}

static void registration_finish(struct kp_qc_op *op, int64_t base, int16_t error)
{
	const struct reg_state *st = op->state;
	struct kp_broker_registration_response *resp;
	struct kp_qc_session *s;

	if (!op->rq || !(resp = kp_broker_registration_response_new(&op->rq->arena, 1)))
		return;
	resp->error_code = error ? error : st->error;
	resp->broker_epoch = -1;
	if (!resp->error_code) {
		resp->broker_epoch = st->epoch;
		if ((s = kp_qc_session(op->qc, ((struct kp_broker_registration_request *)
						 op->rq->body)->broker_id)))
			s->last_contact_ms = kp_mono_ms();
	}
	kp_qc_respond(op, resp);
}

int kp_qc_broker_registration(struct kp_quorum_controller *qc, struct kp_ctl_request *rq,
			      kp_error *err)
{
	return kp_qc_submit_new(qc, rq, sizeof(struct reg_state), registration_run,
				registration_finish, err);
}
