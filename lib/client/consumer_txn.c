/*
 * consumer_txn.c - read_committed: leaving out the batches of aborted
 * transactions, as the Java consumer's CompletedFetch does; see
 * consumer_internal.h.
 */
#include "client/consumer_internal.h"

#include <stdlib.h>
#include <string.h>

#include "record/records.h"
#include "util/buf.h"

#define CONTROL_ABORT 0 /* control record key: version int16, type int16 (0 abort, 1 commit) */

static int by_first_offset(const void *a, const void *b)
{
	const struct kp_fetch_response_aborted_transaction *x = a, *y = b;

	return x->first_offset < y->first_offset ? -1 : x->first_offset > y->first_offset;
}

int kp_txn_filter_init(struct kp_txn_filter *f, const struct kp_fetch_response_partition_data *d,
		       kp_error *err)
{
	int32_t n = d->aborted_transactions_count > 0 ? d->aborted_transactions_count : 0;

	memset(f, 0, sizeof *f);
	if (n == 0)
		return 0;
	if (!(f->aborted = malloc((size_t)n * sizeof *f->aborted)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	memcpy(f->aborted, d->aborted_transactions, (size_t)n * sizeof *f->aborted);
	qsort(f->aborted, (size_t)n, sizeof *f->aborted, by_first_offset);
	f->naborted = n;
	return 0;
}

void kp_txn_filter_free(struct kp_txn_filter *f)
{
	free(f->aborted);
	free(f->pids);
	memset(f, 0, sizeof *f);
}

static size_t pid_index(const struct kp_txn_filter *f, int64_t pid)
{
	size_t i;

	for (i = 0; i < f->npids && f->pids[i] != pid; i++)
		;
	return i;
}

/* Note `pid` as aborted (a full table keeps the older entries: over-reading beats losing). */
static void pid_add(struct kp_txn_filter *f, int64_t pid)
{
	if (pid_index(f, pid) < f->npids)
		return;
	if (f->npids == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;
		int64_t *np = realloc(f->pids, ncap * sizeof *np);
		if (!np)
			return;
		f->pids = np;
		f->cap = ncap;
	}
	f->pids[f->npids++] = pid;
}

/* Whether control batch `batch` holds an abort marker. */
static bool abort_marker(const uint8_t *batch, size_t len)
{
	const uint8_t *p = batch + KP_BATCH_HEADER_SIZE;
	struct kp_record r;

	if (len <= KP_BATCH_HEADER_SIZE || !kp_batch_control_record_next(&p, batch + len, &r) ||
	    r.key_len < 4)
		return false;
	return (int16_t)kp_load_u16(r.key + 2) == CONTROL_ABORT;
}

bool kp_txn_filter_skip(struct kp_txn_filter *f, const struct kp_batch_header *h,
			const uint8_t *batch, size_t len)
{
	int64_t last = h->base_offset + h->last_offset_delta;
	bool control = h->attributes & KP_BATCH_CONTROL;
	size_t i;

	if (h->producer_id < 0)
		return control;
	while (f->next < f->naborted && f->aborted[f->next].first_offset <= last)
		pid_add(f, f->aborted[f->next++].producer_id);
	i = pid_index(f, h->producer_id);
	if (control) {
		if (i < f->npids && abort_marker(batch, len))
			f->pids[i] = f->pids[--f->npids];
		return true;
	}
	return (h->attributes & KP_BATCH_TRANSACTIONAL) && i < f->npids;
}
