/*
 * fuzz_decompress.c - libFuzzer target: the compressed records of a batch
 * or legacy wrapper, through kp_decompress / kp_decompress_v0 with a small
 * output limit.
 *
 * Input: byte 0 = codec (bits 0-2; 5-7 are unknown codecs) and bit 3 for
 * kp_decompress_v0; byte 1 = limit / 256; the rest is compressed data.
 * Checked: the output is appended after what `out` held and on failure
 * `out` is as before; the output never exceeds the limit, and with a
 * limit one byte smaller the same input fails with KP_ERANGE; the output
 * compresses (kp_compress) and decompresses back to itself.
 */
#include <string.h>

#include "fuzz.h"
#include "record/compress.h"

static const uint8_t prefix[3] = { 'k', 'p', '!' };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int (*dec)(int, const uint8_t *, size_t, size_t, kp_buf *, kp_error *);
	size_t limit, n;
	kp_buf out, c, back;
	kp_error err;
	int codec, rc;

	if (size < 2)
		return 0;
	codec = data[0] & 7;
	dec = (data[0] & 8) ? kp_decompress_v0 : kp_decompress;
	limit = (size_t)data[1] << 8;
	kp_buf_init(&out);
	kp_buf_init(&c);
	kp_buf_init(&back);
	kp_buf_append(&out, prefix, sizeof prefix);
	rc = dec(codec, data + 2, size - 2, limit, &out, &err);
	FUZZ_CHECK(out.len >= sizeof prefix && memcmp(out.data, prefix, sizeof prefix) == 0);
	if (rc < 0) {
		FUZZ_CHECK(out.len == sizeof prefix);
		FUZZ_CHECK(err.code == KP_ECORRUPT || err.code == KP_ERANGE ||
			   (err.code == KP_EINVAL && codec > KP_COMPRESSION_ZSTD));
		goto done;
	}
	FUZZ_CHECK(codec <= KP_COMPRESSION_ZSTD);
	n = out.len - sizeof prefix;
	FUZZ_CHECK(n <= limit);
	if (n > 0) {
		kp_buf_reset(&c);
		FUZZ_CHECK(dec(codec, data + 2, size - 2, n - 1, &c, &err) < 0 && err.code == KP_ERANGE);
		FUZZ_CHECK(c.len == 0);
	}
	kp_buf_reset(&c);
	FUZZ_CHECK(kp_compress(codec, out.data + sizeof prefix, n, &c, &err) == 0);
	FUZZ_CHECK(kp_decompress(codec, c.data, c.len, n, &back, &err) == 0);
	FUZZ_CHECK(back.len == n && (n == 0 || memcmp(back.data, out.data + sizeof prefix, n) == 0));
done:
	kp_buf_free(&out);
	kp_buf_free(&c);
	kp_buf_free(&back);
	return 0;
}
