/*
 * placement.c - where new partitions' replicas go: the brokers that can
 * take them and Kafka's AdminUtils.assignReplicasToBrokers (rack-unaware
 * round-robin with a shifting follower stride, and the rack-aware variant
 * over a rack-alternated broker list), the placement KRaft's
 * StripedReplicaPlacer descends from.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/qc_internal.h"
#include "protocol/errors.h"

size_t kp_qc_usable_brokers(const kp_image *img, struct kp_qc_usable_broker **out)
{
	size_t n = 0, cap = kp_image_broker_count(img);

	*out = calloc(cap ? cap : 1, sizeof(**out));
	if (!*out)
		return 0;
	for (const struct kp_image_broker *b = kp_image_broker_first(img); b;
	     b = kp_image_broker_next(img, b))
		if (!b->fenced && !b->in_controlled_shutdown && n < cap)
			(*out)[n++] = (struct kp_qc_usable_broker){ b->id, b->rack };
	return n;
}

/* replica_index - AdminUtils.replicaIndex: the j-th follower's index after `first`. */
static size_t replica_index(size_t first, size_t shift, size_t j, size_t n)
{
	return (first + 1 + (shift + j) % (n - 1)) % n;
}

/* cmp_rack_id - by rack, then id (qsort). */
static int cmp_rack_id(const void *a, const void *b)
{
	const struct kp_qc_usable_broker *x = a, *y = b;
	int c = strcmp(x->rack, y->rack);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/*
 * rack_alternated - AdminUtils.getRackAlternatedBrokerList: the first
 * broker (by id) of each rack (racks sorted), then the second of each...
 * into out (n entries). Returns the number of racks, or 0 when out of memory.
 */
static size_t rack_alternated(const struct kp_qc_usable_broker *brokers, size_t n,
			      struct kp_qc_usable_broker *out)
{
	struct kp_qc_usable_broker *s = malloc(n * sizeof(*s));
	size_t *start = calloc(n + 1, sizeof(*start)), racks = 0, k = 0;

	if (!s || !start) {
		free(s);
		free(start);
		return 0;
	}
	memcpy(s, brokers, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_rack_id);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(s[i].rack, s[i - 1].rack) != 0)
			start[racks++] = i;
	start[racks] = n;
	for (size_t round = 0; k < n; round++)
		for (size_t r = 0; r < racks; r++)
			if (start[r] + round < start[r + 1])
				out[k++] = s[start[r] + round];
	free(s);
	free(start);
	return racks;
}

/* has_id - whether v[0..n) holds broker `id`. */
static bool has_id(const struct kp_qc_usable_broker *const *v, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->id == id)
			return true;
	return false;
}

/* distinct_racks - how many racks v[0..n) spans. */
static size_t distinct_racks(const struct kp_qc_usable_broker *const *v, size_t n)
{
	size_t d = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(v[i]->rack, v[j]->rack) == 0;
		d += !seen;
	}
	return d;
}

/* has_rack - whether v[0..n) holds a broker of `rack`. */
static bool has_rack(const struct kp_qc_usable_broker *const *v, size_t n, const char *rack)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->rack, rack) == 0)
			return true;
	return false;
}

/* place_partition_racks - one partition's followers, rack-aware (AdminUtils' inner loop). */
static void place_partition_racks(const struct kp_qc_usable_broker *list, size_t n, size_t racks,
				  size_t first, size_t shift, int16_t rf, int32_t *out,
				  const struct kp_qc_usable_broker **chosen)
{
	size_t k = 0, got = 1;

	chosen[0] = &list[first];
	out[0] = list[first].id;
	while (got < (size_t)rf) {
		const struct kp_qc_usable_broker *b = &list[replica_index(first, shift * racks, k, n)];

		k++;
		if ((!has_rack(chosen, got, b->rack) || distinct_racks(chosen, got) == racks) &&
		    (!has_id(chosen, got, b->id) || got == n)) {
			chosen[got] = b;
			out[got++] = b->id;
		}
	}
}

int kp_qc_place(const struct kp_qc_usable_broker *brokers, size_t n, int32_t partitions,
		int16_t rf, uint32_t start, int32_t first_partition, int32_t *out, kp_error *err)
{
	struct kp_qc_usable_broker *list;
	const struct kp_qc_usable_broker **chosen;
	size_t with_rack = 0, racks = 0, shift = n ? start % n : 0, first_index = shift;

	if (rf < 1 || (size_t)rf > n)
		return kp_error_kafka(err, KP_ERR_INVALID_REPLICATION_FACTOR,
				      "Unable to replicate the partition %d time(s): The target "
				      "replication factor of %d cannot be reached because only "
				      "%zu broker(s) are registered", rf, rf, n);
	for (size_t i = 0; i < n; i++)
		with_rack += brokers[i].rack != NULL;
	if (with_rack != 0 && with_rack != n)
		return kp_error_set(err, KP_EINVAL, "not all brokers have rack information");
	list = malloc(n * sizeof(*list));
	chosen = malloc((size_t)rf * sizeof(*chosen));
	if (!list || !chosen || (with_rack && !(racks = rack_alternated(brokers, n, list)))) {
		free(list);
		free(chosen);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	if (!with_rack)
		memcpy(list, brokers, n * sizeof(*list));
	for (int32_t p = 0, cur = first_partition > 0 ? first_partition : 0; p < partitions;
	     p++, cur++) {
		int32_t *row = out + (size_t)p * (size_t)rf;
		size_t first = ((size_t)cur + first_index) % n;

		if (cur > 0 && (size_t)cur % n == 0)
			shift++;
		if (racks) {
			place_partition_racks(list, n, racks, first, shift, rf, row, chosen);
			continue;
		}
		row[0] = list[first].id;
		for (int16_t j = 0; j < rf - 1; j++)
			row[j + 1] = list[replica_index(first, shift, (size_t)j, n)].id;
	}
	free(list);
	free(chosen);
	return 0;
}
