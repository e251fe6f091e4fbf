/*
 * produce_result.c - what the producer does with a partition's answer to
 * a Produce request: acknowledge the batch, queue it again, split it into
 * one batch per record (MESSAGE_TOO_LARGE, as the Java producer's
 * splitAndReenqueue), or fail; see producer_internal.h.
 *
 * With idempotence, DUPLICATE_SEQUENCE_NUMBER is an acknowledgement (the
 * broker has the batch) and OUT_OF_ORDER_SEQUENCE_NUMBER for a batch
 * behind one that is not acknowledged yet only means that one failed
 * first: it is queued again. For the oldest unacknowledged batch it means
 * the broker lost what it had acknowledged, which is fatal.
 */
#include "client/producer_internal.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"
#include "util/clock.h"

void kp_producer_retry_because(kp_producer *p, const kp_error *why)
{
	p->need_refresh = true;
	if (why)
		p->retry_why = *why;
}

/* Free the acknowledged batches at the head of `pt`. */
static void pop_acked(kp_producer *p, struct part *pt)
{
	while (pt->head && pt->head->state == BATCH_ACKED) {
		struct batch *b = pt->head;
		pt->head = b->next;
		if (!pt->head)
			pt->tail = NULL;
		kp_producer_batch_free(p, b);
	}
}

/* One batch holding only `rec`, tagged `tag`, with sequence `seq`; NULL on failure. */
static struct batch *single_batch(kp_producer *p, kp_batch_builder *bld, const struct kp_record *rec,
				  int64_t tag, int32_t seq, int64_t created_ms)
{
	struct batch *nb = calloc(1, sizeof *nb);
	kp_error e;

	if (!nb)
		return NULL;
	kp_buf_init(&nb->data);
	if (!(nb->tags = malloc(sizeof *nb->tags)) || kp_batch_builder_add(bld, rec, &e) < 0 ||
	    kp_batch_builder_finish(bld, seq, &nb->data, &e) < 0) {
		kp_buf_free(&nb->data);
		free(nb->tags);
		free(nb);
		return NULL;
	}
	nb->tags[0] = nb->first_tag = tag;
	nb->ntags = 1;
	nb->seq = seq;
	nb->state = BATCH_QUEUED;
	nb->created_ms = created_ms;
	p->queued += nb->data.len;
	return nb;
}

/* The batch before `b` in `pt`'s queue, or NULL when `b` is the head. */
static struct batch *before(const struct part *pt, const struct batch *b)
{
	struct batch *x = pt->head;

	if (x == b)
		return NULL;
	while (x && x->next != b)
		x = x->next;
	return x;
}

/* Put first..last in the place of `b` in `pt`'s queue and free `b`. */
static void replace(kp_producer *p, struct part *pt, struct batch *b, struct batch *first,
		    struct batch *last)
{
	struct batch *prev = before(pt, b);

	last->next = b->next;
	if (prev)
		prev->next = first;
	else
		pt->head = first;
	if (pt->tail == b)
		pt->tail = last;
	kp_producer_batch_free(p, b);
}

/*
 * Replace `b` (queued) in `pt` by one batch per record, each with the
 * sequence its record had. Returns 0, or -1 with `b` left in place (out
 * of memory, undecodable batch).
 */
static int split(kp_producer *p, struct part *pt, struct batch *b)
{
	kp_record_iter *it = kp_record_iter_new(b->data.data, b->data.len, 0);
	kp_batch_builder *bld = kp_batch_builder_new(p->compression, b->seq >= 0 ? p->producer_id : -1,
						     b->seq >= 0 ? p->producer_epoch : -1, NULL);
	struct batch *first = NULL, *last = NULL, *nb;
	struct kp_record rec;
	kp_error e;
	int32_t n = 0;
	int rc = -1;

	while (it && bld && (rc = kp_record_iter_next(it, &rec, &e)) == 1) {
		int32_t seq = b->seq >= 0 ? (int32_t)(((int64_t)b->seq + n) % ((int64_t)INT32_MAX + 1)) : -1;
		rc = -1;
		if (n == b->ntags || !(nb = single_batch(p, bld, &rec, b->tags[n], seq, b->created_ms)))
			break;
		n++;
		if (last)
			last->next = nb;
		else
			first = nb;
		last = nb;
	}
	if (rc == 0 && n == b->ntags) {
		replace(p, pt, b, first, last);
		first = NULL;
	} else {
		rc = -1;
	}
	for (; first; first = nb) {
		nb = first->next;
		kp_producer_batch_free(p, first);
	}
	kp_batch_builder_free(bld);
	kp_record_iter_free(it);
	return rc;
}

/*
 * Whether `code` for batch `b` of `pt` says the broker does not know this
 * producer (as the one that wrote the partition's earlier batches), so
 * that none of the unacknowledged batches was written: get a new id.
 */
static bool needs_new_id(const kp_producer *p, const struct part *pt, const struct batch *b,
			 int16_t code)
{
	if (!p->idempotent || p->resets >= 2)
		return false;
	return code == KP_ERR_UNKNOWN_PRODUCER_ID ||
	       (code == KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER && pt->head == b);
}

/* Whether `code` for batch `b` of `pt` means: send it again. */
static bool resend(const kp_producer *p, const struct part *pt, const struct batch *b, int16_t code)
{
	if (kp_mono_ms() - b->created_ms >= p->delivery_timeout_ms)
		return false;
	if (kp_retriable(code))
		return true;
	return p->idempotent && code == KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER && pt->head != b;
}

int kp_producer_result(kp_producer *p, struct request *r, struct entry *e, int16_t code,
		       kp_error *err)
{
	struct part *pt = &e->topic->parts[e->partition];
	struct batch *b = e->batch;
	kp_error ke;

	e->batch = NULL;
	pt->in_flight--;
	if (code == KP_ERR_NONE || (p->idempotent && code == KP_ERR_DUPLICATE_SEQUENCE_NUMBER)) {
		b->state = BATCH_ACKED;
		p->resets = 0;
		pop_acked(p, pt);
		return 0;
	}
	b->state = BATCH_QUEUED;
	kp_error_set(&ke, KP_EKAFKA, "rejected by %s: %s (topic %s, partition %d)", r->broker,
		     kp_kafka_error_name(code), e->topic->name, (int)e->partition);
	ke.kafka_code = code;
	if (resend(p, pt, b, code) || needs_new_id(p, pt, b, code)) {
		pt->stalled = true;
		p->need_reset |= needs_new_id(p, pt, b, code);
		kp_producer_retry_because(p, &ke);
		return 0;
	}
	if (code == KP_ERR_MESSAGE_TOO_LARGE && b->ntags > 1 && split(p, pt, b) == 0) {
		pt->stalled = true;
		return 0;
	}
	return kp_producer_fail(p, &ke, b->first_tag, err);
}
