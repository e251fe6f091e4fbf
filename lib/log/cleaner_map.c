/*
 * cleaner_map.c - the offset map of the log cleaner: for each key of the
 * dirty section, the offset of its last record (Kafka's SkimpyOffsetMap).
 * Keys are not stored, only a 128-bit hash (XXH3-128; Kafka uses MD5),
 * so a slot takes 24 bytes and the map's size is fixed by
 * log.cleaner.dedupe.buffer.size; two keys with the same hash would
 * collide, with a chance of about n^2 / 2^129.
 *
 *   slot: | hash, 16 bytes | offset + 1, int64 (0: empty) |
 *
 * Open addressing with linear probing. The map counts as full at 90% of
 * its slots (Kafka's log.cleaner.io.buffer.load.factor default); the
 * cleaner stops mapping there and cleans only up to the last offset put.
 */
#include "log/cleaner_internal.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define SLOT_SIZE 24
#define LOAD_FACTOR 0.9

/*
 * kp_offset_map_init - a map of `bytes` / 24 slots (at least 2). Returns
 * 0, or -1 with KP_ENOMEM. The memory is calloc'd: untouched pages cost
 * nothing until a key hashes there.
 */
int kp_offset_map_init(struct kp_offset_map *m, int64_t bytes, kp_error *err)
{
	size_t n = bytes / SLOT_SIZE > 2 ? (size_t)(bytes / SLOT_SIZE) : 2;

	memset(m, 0, sizeof *m);
	m->latest = -1;
	m->slots = calloc(n, SLOT_SIZE);
	if (!m->slots)
		return kp_error_set(err, KP_ENOMEM, "cannot allocate an offset map of %zu slots", n);
	m->nslots = n;
	m->max_used = (size_t)((double)n * LOAD_FACTOR);
	if (m->max_used < 1)
		m->max_used = 1;
	return 0;
}

/* kp_offset_map_free - release the slots of `m`. */
void kp_offset_map_free(struct kp_offset_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* kp_offset_map_full - whether no new key may be put (the load factor is reached). */
bool kp_offset_map_full(const struct kp_offset_map *m)
{
	return m->used >= m->max_used;
}

/* find - the slot of `key`'s hash, or the empty slot where it would go. */
static uint8_t *find(const struct kp_offset_map *m, const uint8_t *key, size_t len, uint8_t hash[16])
{
	XXH128_hash_t h = XXH3_128bits(key, len);
	size_t i = (size_t)(h.low64 % m->nslots);
	uint8_t *s;

	kp_store_u64(hash, h.high64);
	kp_store_u64(hash + 8, h.low64);
	for (;;) {
		s = m->slots + i * SLOT_SIZE;
		if (kp_load_u64(s + 16) == 0 || memcmp(s, hash, 16) == 0)
			return s;
		i = i + 1 == m->nslots ? 0 : i + 1;
	}
}

/*
 * kp_offset_map_put - `key` (`len` bytes) was last seen at `offset`
 * (offsets are put in increasing order). A new key needs room: the
 * caller checks kp_offset_map_full first.
 */
void kp_offset_map_put(struct kp_offset_map *m, const uint8_t *key, size_t len, int64_t offset)
{
	uint8_t hash[16];
	uint8_t *s = find(m, key, len, hash);

	if (kp_load_u64(s + 16) == 0) {
		memcpy(s, hash, 16);
		m->used++;
	}
	kp_store_u64(s + 16, (uint64_t)offset + 1);
	if (offset > m->latest)
		m->latest = offset;
}

/* kp_offset_map_get - the last offset put for `key`, -1 when none. */
int64_t kp_offset_map_get(const struct kp_offset_map *m, const uint8_t *key, size_t len)
{
	uint8_t hash[16];
	const uint8_t *s = find(m, key, len, hash);

	return (int64_t)kp_load_u64(s + 16) - 1;
}
