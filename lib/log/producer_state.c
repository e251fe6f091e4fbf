/*
 * producer_state.c - the idempotent producers of one partition log: the
 * sequence and epoch checks of a client's append and the map they keep
 * (Kafka's ProducerAppendInfo, ProducerStateEntry and the in-memory half
 * of ProducerStateManager; KIP-98, KIP-360). See producer_state.h.
 *
 * A producer's batches carry its id, epoch and the sequence number of
 * their first record; a batch of n records uses n sequence numbers,
 * wrapping from INT32_MAX to 0:
 *
 *   epoch 3:  [seq 0..4 @ off 10..14] [seq 5..9 @ off 20..24] ... (last 5 kept)
 *             next batch of epoch 3 must start at seq 10; epoch 4 at seq 0
 */
#include "log/producer_state.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/errors.h"

void kp_producer_state_init(struct kp_producer_state *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->snap_end = -1;
}

/* free_map - delete and free every entry of *map. */
static void free_map(struct kp_producer_entry **map)
{
	struct kp_producer_entry *e, *tmp;

	HASH_ITER(hh, *map, e, tmp) {
		HASH_DEL(*map, e);
		free(e);
	}
}

void kp_producer_state_clear(struct kp_producer_state *ps)
{
	free_map(&ps->map);
}

void kp_producer_state_free(struct kp_producer_state *ps)
{
	free_map(&ps->map);
}

void kp_producer_append_free(struct kp_producer_append *pa)
{
	free_map(&pa->staged);
}

/* last_seq - the sequence of a batch's last record (DefaultRecordBatch.incrementSequence). */
static int32_t last_seq(int32_t base_seq, int32_t delta)
{
	if (base_seq > INT32_MAX - delta)
		return delta - (INT32_MAX - base_seq) - 1;
	return base_seq + delta;
}

/* in_sequence - whether `next` follows `last` (wrapping at INT32_MAX). */
static bool in_sequence(int32_t last, int32_t next)
{
	return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

/* entry_new - a copy of `from`, or an entry for `pid` with no epoch; NULL when out of memory. */
static struct kp_producer_entry *entry_new(const struct kp_producer_entry *from, int64_t pid)
{
	struct kp_producer_entry *e = malloc(sizeof(*e));

	if (!e)
		return NULL;
	if (from) {
		*e = *from;
	} else {
		memset(e, 0, sizeof(*e));
		e->producer_id = pid;
		e->epoch = -1;
		e->coordinator_epoch = -1;
		e->last_timestamp = -1;
		e->txn_first_offset = -1;
	}
	memset(&e->hh, 0, sizeof(e->hh));
	return e;
}

/* add_batch - ProducerStateEntry.addBatch: a new epoch forgets the old one's batches. */
static void add_batch(struct kp_producer_entry *e, const struct kp_batch_header *h)
{
	struct kp_producer_batch *b;

	if (e->epoch != h->producer_epoch) {
		e->epoch = h->producer_epoch;
		e->nbatches = 0;
	}
	if (e->nbatches == KP_PRODUCER_BATCHES) {
		memmove(&e->batches[0], &e->batches[1], sizeof(e->batches[0]) * (KP_PRODUCER_BATCHES - 1));
		e->nbatches--;
	}
	b = &e->batches[e->nbatches++];
	b->first_seq = h->base_sequence;
	b->last_seq = last_seq(h->base_sequence, h->last_offset_delta);
	b->first_offset = h->base_offset;
	b->last_offset = h->base_offset + h->last_offset_delta;
	b->timestamp = h->max_timestamp;
	e->last_timestamp = h->max_timestamp;
}

/* find_duplicate - the batch of `e` with h's epoch and sequence range, or NULL (findDuplicateBatch). */
static const struct kp_producer_batch *find_duplicate(const struct kp_producer_entry *e,
							const struct kp_batch_header *h)
{
	int32_t last = last_seq(h->base_sequence, h->last_offset_delta);

	if (!e || e->epoch != h->producer_epoch)
		return NULL;
	for (int i = 0; i < e->nbatches; i++)
		if (e->batches[i].first_seq == h->base_sequence && e->batches[i].last_seq == last)
			return &e->batches[i];
	return NULL;
}

/*
 * check_batch - ProducerAppendInfo's checkProducerEpoch and checkSequence
 * for client batch `h` against `staged` (the producer as the batches
 * before it in this append leave it) and `current_epoch` (its epoch in
 * the log, -1 unknown).
 */
static int check_batch(const struct kp_producer_entry *staged, int16_t current_epoch,
		       const struct kp_batch_header *h, kp_error *err)
{
	int32_t last = staged->nbatches ? staged->batches[staged->nbatches - 1].last_seq : -1;

	if (h->producer_epoch < staged->epoch)
		return kp_error_kafka(err, KP_ERR_INVALID_PRODUCER_EPOCH, "epoch %d of producer %"
				      PRId64 " is older than its epoch %d", h->producer_epoch,
				      h->producer_id, staged->epoch);
	if (h->producer_epoch != staged->epoch) {
		if (h->base_sequence != 0 && staged->epoch != -1)
			return kp_error_kafka(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
					      "new epoch %d of producer %" PRId64 " starts at sequence %d, "
					      "not 0", h->producer_epoch, h->producer_id, h->base_sequence);
		return 0;
	}
	if (current_epoch != -1 && !in_sequence(last, h->base_sequence))
		return kp_error_kafka(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "producer %" PRId64
				      " sent sequence %d after %d", h->producer_id, h->base_sequence, last);
	return 0;
}

/* stage - the staged entry of producer `pid` in pa, a copy of `current` (may be NULL) on first use; NULL: no memory. */
static struct kp_producer_entry *stage(struct kp_producer_append *pa, int64_t pid,
				       const struct kp_producer_entry *current)
{
	struct kp_producer_entry *e;

	HASH_FIND(hh, pa->staged, &pid, sizeof(pid), e);
	if (e)
		return e;
	if (!(e = entry_new(current, pid)))
		return NULL;
	HASH_ADD(hh, pa->staged, producer_id, sizeof(e->producer_id), e);
	return e;
}

int kp_producer_check(const struct kp_producer_state *ps, const uint8_t *p, size_t len,
		      int64_t base, struct kp_producer_append *pa, kp_error *err)
{
	struct kp_batch_header h;
	size_t off = 0;

	for (; off < len; off += KP_BATCH_LOG_OVERHEAD + (size_t)h.batch_length) {
		const struct kp_producer_entry *cur;
		const struct kp_producer_batch *dup;
		struct kp_producer_entry *e;

		if (kp_batch_header_parse(p + off, len - off, &h, err) < 0)
			return -1;
		h.base_offset = base;
		base += (int64_t)h.last_offset_delta + 1;
		if (h.producer_id < 0)
			continue;
		HASH_FIND(hh, ps->map, &h.producer_id, sizeof(h.producer_id), cur);
		if ((dup = find_duplicate(cur, &h))) {
			pa->duplicate = true;
			pa->dup_first = dup->first_offset;
			pa->dup_last = dup->last_offset;
			pa->dup_timestamp = dup->timestamp;
			return 0;
		}
		if (!(e = stage(pa, h.producer_id, cur)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		if (check_batch(e, cur ? cur->epoch : -1, &h, err) < 0)
			return -1;
		add_batch(e, &h);
	}
	return 0;
}

void kp_producer_commit(struct kp_producer_state *ps, struct kp_producer_append *pa, int64_t end)
{
	struct kp_producer_entry *e, *tmp, *old;

	HASH_ITER(hh, pa->staged, e, tmp) {
		HASH_DEL(pa->staged, e);
		HASH_FIND(hh, ps->map, &e->producer_id, sizeof(e->producer_id), old);
		if (old) {
			HASH_DEL(ps->map, old);
			free(old);
		}
		HASH_ADD(hh, ps->map, producer_id, sizeof(e->producer_id), e);
	}
	if (end > ps->map_end)
		ps->map_end = end;
}

int kp_producer_replay(struct kp_producer_state *ps, const struct kp_batch_header *h,
		       kp_error *err)
{
	struct kp_producer_entry *e;
	int64_t end = h->base_offset + h->last_offset_delta + 1;

	if (h->last_offset_delta < 0) /* a header no append would take: nothing to learn */
		return 0;
	if (end > ps->map_end)
		ps->map_end = end;
	if (h->producer_id < 0)
		return 0;
	HASH_FIND(hh, ps->map, &h->producer_id, sizeof(h->producer_id), e);
	if (!e) {
		if (!(e = entry_new(NULL, h->producer_id)))
			return kp_error_set(err, KP_ENOMEM, "out of memory");
		HASH_ADD(hh, ps->map, producer_id, sizeof(e->producer_id), e);
	}
	if (h->attributes & KP_BATCH_CONTROL) { /* a transaction marker: appendEndTxnMarker */
		if (e->epoch != h->producer_epoch) {
			e->epoch = h->producer_epoch;
			e->nbatches = 0;
		}
		e->txn_first_offset = -1;
		e->last_timestamp = h->max_timestamp;
		return 0;
	}
	add_batch(e, h);
	if ((h->attributes & KP_BATCH_TRANSACTIONAL) && e->txn_first_offset < 0)
		e->txn_first_offset = h->base_offset;
	return 0;
}

size_t kp_producer_expire(struct kp_producer_state *ps, int64_t now_ms, int64_t expiration_ms)
{
	struct kp_producer_entry *e, *tmp;
	size_t n = 0;

	HASH_ITER(hh, ps->map, e, tmp) {
		if (e->txn_first_offset >= 0 || now_ms - e->last_timestamp < expiration_ms)
			continue;
		HASH_DEL(ps->map, e);
		free(e);
		n++;
	}
	return n;
}
