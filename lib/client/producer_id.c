/*
 * producer_id.c - the idempotent producer's id and epoch: InitProducerId
 * (key 22) without a transactional id, as the Java producer sends it
 * before its first batch; see producer_internal.h.
 */
#include "client/producer_internal.h"

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/diag.h"

#define INIT_PRODUCER_ID_MAX 4 /* v5 adds nothing an idempotent producer uses */

/* A leader of one of `t`'s partitions, or -1. */
static int32_t any_leader(const kp_producer *p, const struct ptopic *t)
{
	for (int32_t j = 0; j < t->count; j++) {
		int32_t l = kp_cluster_leader(p->cluster, t->name, j);
		if (l >= 0)
			return l;
	}
	return -1;
}

/* Go on without idempotence (the broker cannot give a producer id): 0, or -1 if it was asked for. */
static int without(kp_producer *p, const kp_error *why, kp_error *err)
{
	if (p->idem_explicit)
		return kp_producer_fail(p, why, -1, err);
	kp_diag_debug("producer: no idempotence: %s", why->msg);
	p->idempotent = false;
	p->max_in_flight = 1;
	return 0;
}

/*
 * One InitProducerId through `node`. Returns 0 (done, or idempotence
 * turned off), 1 to try again (*why says why), or -1 (the producer failed).
 */
static int ask(kp_producer *p, int32_t node, kp_error *why, kp_error *err)
{
	struct kp_init_producer_id_request req;
	struct kp_init_producer_id_response resp;
	kp_conn *conn = kp_cluster_conn(p->cluster, node, why);
	kp_arena arena;
	int v, rc = 1;

	if (!conn)
		return 1;
	if ((v = kp_conn_pick_version(conn, KP_API_INIT_PRODUCER_ID, 0, INIT_PRODUCER_ID_MAX, why)) < 0)
		return without(p, why, err);
	kp_init_producer_id_request_init(&req);
	req.transactional_id = NULL;
	req.transaction_timeout_ms = 60000;
	req.producer_id = -1;
	req.producer_epoch = -1;
	kp_arena_init(&arena);
	if (kp_conn_call(conn, KP_API_INIT_PRODUCER_ID, (int16_t)v, &req, &arena, &resp,
			 kp_cluster_config(p->cluster)->request_timeout_ms, why) < 0) {
		kp_cluster_drop_conn(p->cluster, node);
	} else if (resp.error_code == KP_ERR_NONE) {
		p->producer_id = resp.producer_id;
		p->producer_epoch = resp.producer_epoch;
		rc = 0;
	} else {
		kp_error_kafka(why, resp.error_code, "InitProducerId at %s", kp_conn_name(conn));
		if (resp.error_code == KP_ERR_CLUSTER_AUTHORIZATION_FAILED)
			rc = without(p, why, err);
		else if (!kp_retriable(resp.error_code) &&
			 resp.error_code != KP_ERR_COORDINATOR_LOAD_IN_PROGRESS &&
			 resp.error_code != KP_ERR_COORDINATOR_NOT_AVAILABLE &&
			 resp.error_code != KP_ERR_NOT_COORDINATOR)
			rc = kp_producer_fail(p, why, -1, err);
	}
	kp_arena_free(&arena);
	return rc;
}

int kp_producer_init_id(kp_producer *p, const struct ptopic *t, kp_error *err)
{
	const struct kp_client_config *cc = kp_cluster_config(p->cluster);
	int64_t deadline = kp_mono_ms() + cc->max_block_ms;
	kp_error why;
	int32_t node;
	int rc;

	/* the request may share a connection with Produce requests in flight */
	if (kp_producer_complete_all(p, err) < 0)
		return -1;
	kp_error_set(&why, KP_ETIMEDOUT, "no leader for topic %s", t->name);
	for (;;) {
		if ((node = any_leader(p, t)) >= 0 && (rc = ask(p, node, &why, err)) <= 0)
			return rc;
		if (kp_mono_ms() + cc->retry_backoff_ms >= deadline) {
			kp_error e;
			kp_error_set(&e, KP_ETIMEDOUT, "no producer id within max.block.ms (%d ms): %s",
				     cc->max_block_ms, why.msg);
			return kp_producer_fail(p, &e, -1, err);
		}
		kp_sleep_ms(cc->retry_backoff_ms);
		kp_cluster_refresh(p->cluster, NULL);
	}
}

/* Write producer id, epoch and base sequence into `b`'s header and set its CRC again. */
static void restamp(struct batch *b, int64_t pid, int16_t epoch, int32_t seq)
{
	uint8_t *d = b->data.data;

	kp_store_u64(d + 43, (uint64_t)pid);
	kp_store_u16(d + 51, (uint16_t)epoch);
	kp_store_u32(d + 53, (uint32_t)seq);
	kp_store_u32(d + KP_BATCH_CRC_OFFSET, kp_crc32c(0, d + KP_BATCH_ATTRIBUTES_OFFSET,
						      b->data.len - KP_BATCH_ATTRIBUTES_OFFSET));
	b->seq = seq;
}

/* Seal every open batch and drop the builders (they carry the old id). */
static int seal_all(kp_producer *p, kp_error *err)
{
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++) {
			struct part *pt = &p->topics[i].parts[j];
			if (kp_producer_seal(p, pt, err) < 0)
				return -1;
			kp_batch_builder_free(pt->builder);
			pt->builder = NULL;
		}
	return 0;
}

int kp_producer_reset_id(kp_producer *p, kp_error *err)
{
	if (kp_producer_complete_all(p, err) < 0 || seal_all(p, err) < 0)
		return -1;
	p->need_reset = false;
	p->resets++;
	p->producer_id = -1;
	if (p->ntopics == 0 || kp_producer_init_id(p, &p->topics[0], err) < 0)
		return -1;
	kp_diag_debug("producer: new producer id %lld, unacknowledged batches numbered again",
		      (long long)p->producer_id);
	for (size_t i = 0; i < p->ntopics; i++)
		for (int32_t j = 0; j < p->topics[i].count; j++) {
			struct part *pt = &p->topics[i].parts[j];
			pt->next_seq = 0;
			pt->stalled = false;
			for (struct batch *b = pt->head; b; b = b->next) {
				if (b->state == BATCH_ACKED)
					continue;
				if (!p->idempotent) { /* the broker no longer gives ids: plain batches */
					restamp(b, -1, -1, -1);
					continue;
				}
				restamp(b, p->producer_id, p->producer_epoch, pt->next_seq);
				pt->next_seq = (int32_t)(((int64_t)pt->next_seq + b->ntags) %
							 ((int64_t)INT32_MAX + 1));
			}
		}
	return 0;
}
