/*
 * murmur2.c - the Java client's murmur2 hash and default key partitioner
 * (org.apache.kafka.common.utils.Utils.murmur2, DefaultPartitioner /
 * BuiltInPartitioner), so that keyed records land in the same partitions
 * whichever client produced them.
 *
 * The input is consumed as little-endian 32-bit words; the 1-3 trailing
 * bytes are mixed in as in the Java switch (cases fall through), then a
 * final avalanche. All arithmetic is on uint32_t so overflow is defined.
 */
#include "record/records.h"

#define MURMUR2_SEED 0x9747b28cu
#define MURMUR2_M 0x5bd1e995u
#define MURMUR2_R 24

int32_t kp_murmur2(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = MURMUR2_SEED ^ (uint32_t)len, k;
	size_t i, words = len / 4;

	for (i = 0; i < words; i++, p += 4) {
		k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		k *= MURMUR2_M;
		k ^= k >> MURMUR2_R;
		k *= MURMUR2_M;
		h *= MURMUR2_M;
		h ^= k;
	}
	switch (len & 3) {
	case 3:
		h ^= (uint32_t)p[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)p[1] << 8;
		/* fall through */
	case 1:
		h ^= p[0];
		h *= MURMUR2_M;
	}
	h ^= h >> 13;
	h *= MURMUR2_M;
	h ^= h >> 15;
	return (int32_t)h;
}

int32_t kp_partition_for_key(const void *key, size_t len, int32_t partition_count)
{
	if (partition_count <= 0)
		return 0;
	return (int32_t)(((uint32_t)kp_murmur2(key, len) & 0x7fffffffu) % (uint32_t)partition_count);
}
