/*
 * compress.h - the record batch compression codecs (internal to
 * lib/record, used by the batch builder, the record iterator and the
 * legacy converters; also usable by the broker to re-check batches).
 *
 * Codec ids are enum kp_compression (batch.h), the values of attribute
 * bits 0-2 of a v2 batch or of a legacy message (protocol guide,
 * "Record Batch", "Message Sets"). Wire formats are those of the Java
 * client and librdkafka:
 *
 *   gzip    RFC 1952 gzip member(s) (zlib); decoding also accepts zlib
 *           streams and concatenated gzip members
 *   snappy  xerial "snappy-java" framing:
 *             +--------------------+---------+--------+
 *             | 82 'SNAPPY' 00 (8) | ver (4) | compat |   header, ints big-endian
 *             +--------------------+---------+--------+
 *             [ length (4, BE) | raw snappy block ] ...  one per 32 KiB of input
 *           decoding also accepts a single raw snappy block
 *   lz4     LZ4 frame format, independent 64 KiB blocks (KIP-57); in magic 0
 *           messages the header checksum is not checked (kp_decompress_v0)
 *   zstd    zstd frame(s), content size optional (KIP-110)
 */
#ifndef KP_RECORD_COMPRESS_H
#define KP_RECORD_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/batch.h"
#include "util/buf.h"
#include "util/error.h"

/* Default output limit for decompressing one batch: a guard against bombs. */
#define KP_DECOMPRESS_LIMIT ((size_t)256 << 20)

/*
 * kp_compress - compress `len` bytes at `in` with `codec` (enum
 * kp_compression; KP_COMPRESSION_NONE copies) and append the result to
 * `out` (caller-owned; on failure its length is restored), at the
 * libraries' usual levels (zlib's default, liblz4's fast mode, zstd 3: what
 * the producer side uses). Returns 0, or
 * -1 with KP_EINVAL (unknown codec), KP_ENOMEM or KP_ERANGE (input over
 * 4 GiB) in `err`.
 */
int kp_compress(int codec, const uint8_t *in, size_t len, kp_buf *out, kp_error *err);

/*
 * Compression levels (KIP-390: Kafka's GzipCompression, Lz4Compression and
 * ZstdCompression, the compression.{gzip,lz4,zstd}.level configs): gzip
 * 1-9 or -1 (zlib's default, 6), lz4 1-17 (levels from 3 on are LZ4 HC),
 * zstd -131072 (zstd's ZSTD_minCLevel) to 22. none and snappy have none.
 */
#define KP_GZIP_LEVEL_MIN 1
#define KP_GZIP_LEVEL_MAX 9
#define KP_GZIP_LEVEL_DEFAULT (-1)
#define KP_LZ4_LEVEL_MIN 1
#define KP_LZ4_LEVEL_MAX 17
#define KP_LZ4_LEVEL_DEFAULT 9
#define KP_ZSTD_LEVEL_MIN (-131072)
#define KP_ZSTD_LEVEL_MAX 22
#define KP_ZSTD_LEVEL_DEFAULT 3

/*
 * kp_compression_level_valid - whether `level` is one Kafka accepts for
 * `codec` (always true for none and snappy, which ignore it).
 */
bool kp_compression_level_valid(int codec, int level);

/* kp_compression_level_default - Kafka's default level for `codec` (0 for none and snappy). */
int kp_compression_level_default(int codec);

/*
 * kp_compress_level - kp_compress at compression level `level` (see
 * above; ignored for none and snappy), as a Kafka 4 broker re-compresses
 * with its topic's compression.*.level. Returns 0, or -1 with KP_EINVAL
 * (unknown codec, or a level kp_compression_level_valid refuses), KP_ENOMEM
 * or KP_ERANGE in `err`; `out` as kp_compress.
 */
int kp_compress_level(int codec, int level, const uint8_t *in, size_t len, kp_buf *out,
		      kp_error *err);

/*
 * kp_decompress - decompress `len` bytes at `in` compressed with `codec`
 * and append the result to `out` (caller-owned; on failure its length is
 * restored). At most `limit` bytes are produced (KP_DECOMPRESS_LIMIT is a
 * sensible value). Returns 0, or -1 with KP_EINVAL (unknown codec),
 * KP_ECORRUPT (malformed or truncated input), KP_ERANGE (the output would
 * exceed `limit`) or KP_ENOMEM in `err`.
 */
int kp_decompress(int codec, const uint8_t *in, size_t len, size_t limit, kp_buf *out,
		  kp_error *err);

/*
 * kp_decompress_v0 - kp_decompress for the value of a compressed magic 0
 * legacy message, whose lz4 frame header checksum may be the pre-KIP-57
 * one computed over the frame magic too (librdkafka and kafka-python still
 * write it so): the checksum is not checked, as in the Java broker.
 */
int kp_decompress_v0(int codec, const uint8_t *in, size_t len, size_t limit, kp_buf *out,
		     kp_error *err);

/* kp_compression_name - "none", "gzip", "snappy", "lz4", "zstd" or "unknown". */
const char *kp_compression_name(int codec);

#endif
