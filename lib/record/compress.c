/*
 * compress.c - gzip (zlib), snappy (libsnappy, xerial framing), lz4
 * (liblz4 frame format) and zstd (libzstd) for record batches; see
 * compress.h for the wire formats.
 *
 * Every decoder writes straight into the caller's kp_buf, growing it in
 * steps, and allows itself at most limit + 1 bytes of output: producing
 * that extra byte is how a decompression bomb is detected without
 * inflating it further. On any failure the buffer's length is put back.
 */
#include "record/compress.h"

#define ZLIB_CONST
#include <limits.h>
#include <stdbool.h>
#include <lz4frame.h>
#include <xxhash.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define STEP ((size_t)64 << 10)              /* output growth per decoder call */
#define SNAPPY_BLOCK ((size_t)32 << 10)      /* snappy-java's default block size */
#define XERIAL_HEADER_SIZE 16

static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

const char *kp_compression_name(int codec)
{
	switch (codec) {
	case KP_COMPRESSION_NONE: return "none";
	case KP_COMPRESSION_GZIP: return "gzip";
	case KP_COMPRESSION_SNAPPY: return "snappy";
	case KP_COMPRESSION_LZ4: return "lz4";
	case KP_COMPRESSION_ZSTD: return "zstd";
	default: return "unknown";
	}
}

/*
 * room - make space for the next decoder step in `out`: up to STEP bytes,
 * but no more than limit + 1 - produced. Sets *n and returns where to
 * write, or NULL when memory runs out.
 */
static uint8_t *room(kp_buf *out, size_t produced, size_t limit, size_t *n)
{
	size_t want = limit + 1 - produced;

	if (want > STEP)
		want = STEP;
	if (!kp_buf_reserve(out, want))
		return NULL;
	*n = want;
	return out->data + out->len;
}

static int nomem(kp_error *err, int codec)
{
	return kp_error_set(err, KP_ENOMEM, "out of memory in %s codec", kp_compression_name(codec));
}

static int corrupt(kp_error *err, int codec, const char *what)
{
	return kp_error_set(err, KP_ECORRUPT, "%s decompression failed: %s",
			    kp_compression_name(codec), what);
}

static int too_big(kp_error *err, size_t limit)
{
	return kp_error_set(err, KP_ERANGE, "decompressed data exceeds %zu bytes", limit);
}

/* ---- gzip ---- */

static int gzip_compress(const uint8_t *in, size_t len, int level, kp_buf *out, kp_error *err)
{
	z_stream zs;
	uLong bound;
	int rc = -1;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return nomem(err, KP_COMPRESSION_GZIP);
	bound = deflateBound(&zs, (uLong)len);
	if (!kp_buf_reserve(out, bound)) {
		nomem(err, KP_COMPRESSION_GZIP);
		goto out;
	}
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		kp_error_set(err, KP_ENOMEM, "gzip compression failed");
		goto out;
	}
	out->len += zs.total_out;
	rc = 0;
out:
	deflateEnd(&zs);
	return rc;
}

/* gzip_next_member - another gzip member follows the one just ended. */
static bool gzip_next_member(const z_stream *zs)
{
	return zs->avail_in >= 2 && zs->next_in[0] == 0x1f && zs->next_in[1] == 0x8b;
}

static int gzip_decompress(const uint8_t *in, size_t len, size_t limit, kp_buf *out, kp_error *err)
{
	z_stream zs;
	size_t produced = 0, n;
	uint8_t *dst;
	int zrc, rc = -1;

	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return nomem(err, KP_COMPRESSION_GZIP);
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	for (;;) {
		if (!(dst = room(out, produced, limit, &n))) {
			nomem(err, KP_COMPRESSION_GZIP);
			goto out;
		}
		zs.next_out = dst;
		zs.avail_out = (uInt)n;
		zrc = inflate(&zs, Z_NO_FLUSH);
		out->len += n - zs.avail_out;
		produced += n - zs.avail_out;
		if (produced > limit) {
			too_big(err, limit);
			goto out;
		}
		if (zrc == Z_STREAM_END) {
			if (!gzip_next_member(&zs))
				break;
			inflateReset(&zs);
		} else if (zrc == Z_BUF_ERROR && zs.avail_out > 0) {
			corrupt(err, KP_COMPRESSION_GZIP, "truncated input");
			goto out;
		} else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			corrupt(err, KP_COMPRESSION_GZIP, zs.msg ? zs.msg : "bad data");
			goto out;
		}
	}
	rc = 0;
out:
	inflateEnd(&zs);
	return rc;
}

/* ---- snappy ---- */

static int snappy_compress_xerial(const uint8_t *in, size_t len, kp_buf *out, kp_error *err)
{
	size_t off, n, clen;
	uint8_t *dst;

	kp_buf_append(out, xerial_magic, sizeof xerial_magic);
	kp_buf_put_i32(out, 1); /* version */
	kp_buf_put_i32(out, 1); /* minimum compatible version */
	for (off = 0; off < len; off += n) {
		n = len - off < SNAPPY_BLOCK ? len - off : SNAPPY_BLOCK;
		clen = snappy_max_compressed_length(n);
		if (!kp_buf_reserve(out, 4 + clen))
			break;
		dst = out->data + out->len;
		if (snappy_compress((const char *)in + off, n, (char *)dst + 4, &clen) != SNAPPY_OK)
			return kp_error_set(err, KP_ENOMEM, "snappy compression failed");
		kp_store_u32(dst, (uint32_t)clen);
		out->len += 4 + clen;
	}
	return out->oom ? nomem(err, KP_COMPRESSION_SNAPPY) : 0;
}

/* snappy_block - decode one raw snappy block, appending to `out`. */
static int snappy_block(const uint8_t *in, size_t len, size_t *produced, size_t limit,
			kp_buf *out, kp_error *err)
{
	size_t ulen;

	if (snappy_uncompressed_length((const char *)in, len, &ulen) != SNAPPY_OK)
		return corrupt(err, KP_COMPRESSION_SNAPPY, "bad block header");
	if (ulen > limit - *produced)
		return too_big(err, limit);
	if (!kp_buf_reserve(out, ulen ? ulen : 1))
		return nomem(err, KP_COMPRESSION_SNAPPY);
	if (snappy_uncompress((const char *)in, len, (char *)out->data + out->len, &ulen) != SNAPPY_OK)
		return corrupt(err, KP_COMPRESSION_SNAPPY, "bad block");
	out->len += ulen;
	*produced += ulen;
	return 0;
}

static int snappy_decompress(const uint8_t *in, size_t len, size_t limit, kp_buf *out, kp_error *err)
{
	size_t pos = XERIAL_HEADER_SIZE, produced = 0, clen;

	if (len < XERIAL_HEADER_SIZE || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
		return snappy_block(in, len, &produced, limit, out, err);
	while (pos < len) {
		if (len - pos < 4)
			return corrupt(err, KP_COMPRESSION_SNAPPY, "truncated xerial chunk length");
		clen = kp_load_u32(in + pos);
		pos += 4;
		if (clen > len - pos)
			return corrupt(err, KP_COMPRESSION_SNAPPY, "truncated xerial chunk");
		if (snappy_block(in + pos, clen, &produced, limit, out, err) < 0)
			return -1;
		pos += clen;
	}
	return 0;
}

/* ---- lz4 ---- */

static int lz4_compress(const uint8_t *in, size_t len, int level, kp_buf *out, kp_error *err)
{
	LZ4F_preferences_t prefs;
	size_t bound, n;

	memset(&prefs, 0, sizeof prefs);
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.compressionLevel = level;
	bound = LZ4F_compressFrameBound(len, &prefs);
	if (!kp_buf_reserve(out, bound))
		return nomem(err, KP_COMPRESSION_LZ4);
	n = LZ4F_compressFrame(out->data + out->len, bound, in, len, &prefs);
	if (LZ4F_isError(n))
		return kp_error_set(err, KP_ENOMEM, "lz4 compression failed: %s", LZ4F_getErrorName(n));
	out->len += n;
	return 0;
}

/*
 * KIP-57: Kafka before 0.10 computed the lz4 frame header checksum over the
 * frame magic number as well, and clients still write it that way in magic
 * 0 messages (librdkafka, kafka-python). Like the Java broker, which does
 * not check it for magic 0, such frames are read by recomputing the
 * checksum: xxh32 (seed 0) of the frame descriptor, second byte.
 */
#define LZ4_HEADER_MAX 19 /* magic 4, FLG, BD, content size 8, dict id 4, HC */

/* lz4_fixed_header - copy the frame header of `in` to `hdr` with a correct checksum; its size or 0. */
static size_t lz4_fixed_header(const uint8_t *in, size_t len, uint8_t hdr[LZ4_HEADER_MAX])
{
	static const uint8_t magic[4] = { 0x04, 0x22, 0x4d, 0x18 };
	size_t dlen;

	if (len < 7 || memcmp(in, magic, 4) != 0)
		return 0;
	dlen = 2 + ((in[4] & 0x08) ? 8 : 0) + ((in[4] & 0x01) ? 4 : 0);
	if (len < 4 + dlen + 1)
		return 0;
	memcpy(hdr, in, 4 + dlen);
	hdr[4 + dlen] = (uint8_t)(XXH32(in + 4, dlen, 0) >> 8);
	return 4 + dlen + 1;
}

static int lz4_decompress(const uint8_t *in, size_t len, size_t limit, bool legacy_hc, kp_buf *out,
			  kp_error *err)
{
	LZ4F_dctx *dctx = NULL;
	size_t pos = 0, produced = 0, n, src, hint = 1;
	uint8_t *dst, hdr[LZ4_HEADER_MAX];
	size_t hlen = legacy_hc ? lz4_fixed_header(in, len, hdr) : 0;
	int rc = -1;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return nomem(err, KP_COMPRESSION_LZ4);
	if (hlen) {
		/* the fixed header alone: decoded whole, no output (dst size 0) */
		src = hlen;
		n = 0;
		hint = LZ4F_decompress(dctx, hdr, &n, hdr, &src, NULL);
		if (LZ4F_isError(hint) || src != hlen) {
			corrupt(err, KP_COMPRESSION_LZ4, LZ4F_isError(hint) ? LZ4F_getErrorName(hint)
									   : "bad frame header");
			goto out;
		}
		pos = hlen;
	}
	while (pos < len || hint != 0) {
		if (!(dst = room(out, produced, limit, &n))) {
			nomem(err, KP_COMPRESSION_LZ4);
			goto out;
		}
		src = len - pos;
		hint = LZ4F_decompress(dctx, dst, &n, in + pos, &src, NULL);
		if (LZ4F_isError(hint)) {
			corrupt(err, KP_COMPRESSION_LZ4, LZ4F_getErrorName(hint));
			goto out;
		}
		pos += src;
		out->len += n;
		produced += n;
		if (produced > limit) {
			too_big(err, limit);
			goto out;
		}
		if (src == 0 && n == 0) {
			corrupt(err, KP_COMPRESSION_LZ4, "truncated input");
			goto out;
		}
	}
	rc = 0;
out:
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

/* ---- zstd ---- */

static int zstd_compress(const uint8_t *in, size_t len, int level, kp_buf *out, kp_error *err)
{
	size_t bound = ZSTD_compressBound(len), n;

	if (!kp_buf_reserve(out, bound))
		return nomem(err, KP_COMPRESSION_ZSTD);
	n = ZSTD_compress(out->data + out->len, bound, in, len, level);
	if (ZSTD_isError(n))
		return kp_error_set(err, KP_ENOMEM, "zstd compression failed: %s", ZSTD_getErrorName(n));
	out->len += n;
	return 0;
}

static int zstd_decompress(const uint8_t *in, size_t len, size_t limit, kp_buf *out, kp_error *err)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob;
	size_t produced = 0, n, ret;
	uint8_t *dst;
	int rc = -1;

	if (!dctx)
		return nomem(err, KP_COMPRESSION_ZSTD);
	for (;;) {
		if (!(dst = room(out, produced, limit, &n))) {
			nomem(err, KP_COMPRESSION_ZSTD);
			goto out;
		}
		ob.dst = dst;
		ob.size = n;
		ob.pos = 0;
		ret = ZSTD_decompressStream(dctx, &ob, &ib);
		if (ZSTD_isError(ret)) {
			corrupt(err, KP_COMPRESSION_ZSTD, ZSTD_getErrorName(ret));
			goto out;
		}
		out->len += ob.pos;
		produced += ob.pos;
		if (produced > limit) {
			too_big(err, limit);
			goto out;
		}
		if (ret == 0 && ib.pos == ib.size)
			break;
		if (ret != 0 && ib.pos == ib.size && ob.pos < ob.size) {
			corrupt(err, KP_COMPRESSION_ZSTD, "truncated input");
			goto out;
		}
	}
	rc = 0;
out:
	ZSTD_freeDCtx(dctx);
	return rc;
}

/* ---- dispatch ---- */

bool kp_compression_level_valid(int codec, int level)
{
	switch (codec) {
	case KP_COMPRESSION_GZIP: /* GzipCompression.LevelValidator: Deflater's default or 1..9 */
		return level == KP_GZIP_LEVEL_DEFAULT ||
		       (level >= KP_GZIP_LEVEL_MIN && level <= KP_GZIP_LEVEL_MAX);
	case KP_COMPRESSION_LZ4:
		return level >= KP_LZ4_LEVEL_MIN && level <= KP_LZ4_LEVEL_MAX;
	case KP_COMPRESSION_ZSTD:
		return level >= KP_ZSTD_LEVEL_MIN && level <= KP_ZSTD_LEVEL_MAX;
	default:
		return true; /* none and snappy have no levels */
	}
}

int kp_compression_level_default(int codec)
{
	switch (codec) {
	case KP_COMPRESSION_GZIP: return KP_GZIP_LEVEL_DEFAULT;
	case KP_COMPRESSION_LZ4: return KP_LZ4_LEVEL_DEFAULT;
	case KP_COMPRESSION_ZSTD: return KP_ZSTD_LEVEL_DEFAULT;
	default: return 0;
	}
}

/* compress_any - kp_compress_level, `level` already checked (lz4 0: liblz4's fast default). */
static int compress_any(int codec, int level, const uint8_t *in, size_t len, kp_buf *out,
			kp_error *err)
{
	size_t start = out->len;
	int rc;

	if (len > UINT_MAX)
		return kp_error_set(err, KP_ERANGE, "%zu bytes too large to compress", len);
	switch (codec) {
	case KP_COMPRESSION_NONE:
		kp_buf_append(out, in, len);
		rc = out->oom ? nomem(err, codec) : 0;
		break;
	case KP_COMPRESSION_GZIP: rc = gzip_compress(in, len, level, out, err); break;
	case KP_COMPRESSION_SNAPPY: rc = snappy_compress_xerial(in, len, out, err); break;
	case KP_COMPRESSION_LZ4: rc = lz4_compress(in, len, level, out, err); break;
	case KP_COMPRESSION_ZSTD: rc = zstd_compress(in, len, level, out, err); break;
	default: return kp_error_set(err, KP_EINVAL, "unknown compression codec %d", codec);
	}
	if (rc < 0 && out->len > start)
		out->len = start;
	return rc;
}

int kp_compress(int codec, const uint8_t *in, size_t len, kp_buf *out, kp_error *err)
{
	/* what the producer side always used: zlib's default, liblz4's fast mode, zstd 3 */
	int level = codec == KP_COMPRESSION_LZ4 ? 0 : kp_compression_level_default(codec);

	return compress_any(codec, level, in, len, out, err);
}

int kp_compress_level(int codec, int level, const uint8_t *in, size_t len, kp_buf *out,
		      kp_error *err)
{
	if (!kp_compression_level_valid(codec, level))
		return kp_error_set(err, KP_EINVAL, "%s compression level %d out of range",
				    kp_compression_name(codec), level);
	return compress_any(codec, level, in, len, out, err);
}

static int decompress(int codec, bool legacy_hc, const uint8_t *in, size_t len, size_t limit,
		      kp_buf *out, kp_error *err)
{
	size_t start = out->len;
	int rc;

	if (len > UINT_MAX)
		return kp_error_set(err, KP_ERANGE, "%zu bytes too large to decompress", len);
	if (limit >= SIZE_MAX - STEP)
		limit = SIZE_MAX - STEP;
	switch (codec) {
	case KP_COMPRESSION_NONE:
		if (len > limit)
			return too_big(err, limit);
		kp_buf_append(out, in, len);
		rc = out->oom ? nomem(err, codec) : 0;
		break;
	case KP_COMPRESSION_GZIP: rc = gzip_decompress(in, len, limit, out, err); break;
	case KP_COMPRESSION_SNAPPY: rc = snappy_decompress(in, len, limit, out, err); break;
	case KP_COMPRESSION_LZ4: rc = lz4_decompress(in, len, limit, legacy_hc, out, err); break;
	case KP_COMPRESSION_ZSTD: rc = zstd_decompress(in, len, limit, out, err); break;
	default: return kp_error_set(err, KP_EINVAL, "unsupported compression codec %d", codec);
	}
	if (rc < 0 && out->len > start)
		out->len = start;
	return rc;
}

int kp_decompress(int codec, const uint8_t *in, size_t len, size_t limit, kp_buf *out,
		  kp_error *err)
{
	return decompress(codec, false, in, len, limit, out, err);
}

int kp_decompress_v0(int codec, const uint8_t *in, size_t len, size_t limit, kp_buf *out,
		     kp_error *err)
{
	return decompress(codec, true, in, len, limit, out, err);
}
