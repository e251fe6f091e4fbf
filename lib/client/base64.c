/*
 * base64.c - RFC 4648 base64 with the standard alphabet; see base64.h.
 */
#include "client/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t kp_base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void kp_base64_encode(const uint8_t *p, size_t n, kp_buf *out)
{
	size_t i = 0;
	char q[4];

	if (!kp_buf_reserve(out, kp_base64_encoded_len(n)))
		return;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = alphabet[v & 63];
		kp_buf_append(out, q, 4);
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		q[3] = '=';
		kp_buf_append(out, q, 4);
	}
}

/* The 6-bit value of base64 character `c`, or -1. */
static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int kp_base64_decode(const char *s, size_t n, kp_buf *out, kp_error *err)
{
	size_t start = out->len, pad = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	if (pad && (n % 4) != 0)
		return kp_error_set(err, KP_EINVAL, "bad base64 padding");
	n -= pad;
	if (n % 4 == 1)
		return kp_error_set(err, KP_EINVAL, "base64 text of a bad length (%zu characters)", n);
	for (size_t i = 0; i < n; i++) {
		int v = sextet(s[i]);
		if (v < 0) {
			out->len = start;
			return kp_error_set(err, KP_EINVAL, "bad base64 character at position %zu", i + 1);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kp_buf_put_i8(out, (int8_t)(acc >> bits));
		}
	}
	if (out->oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return 0;
}
