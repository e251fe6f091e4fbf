/*
 * base64.c - RFC 4648 base64 with the standard alphabet, by OpenSSL's
 * EVP_EncodeBlock / EVP_DecodeBlock; see base64.h. What OpenSSL leaves to
 * its caller is done here: optional padding on input, whitespace refused
 * (EVP_DecodeBlock skips it at either end), and the decoded length less
 * the padding.
 */
#include "client/base64.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

size_t kp_base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void kp_base64_encode(const uint8_t *p, size_t n, kp_buf *out)
{
	size_t len = kp_base64_encoded_len(n);

	if (n > INT_MAX / 2 || !kp_buf_reserve(out, len + 1)) { /* EVP_EncodeBlock adds a NUL */
		out->oom = true;
		return;
	}
	out->len += (size_t)EVP_EncodeBlock(out->data + out->len, p, (int)n);
}

/* refused - whether base64 text holds a character EVP_DecodeBlock would skip or we refuse. */
static bool refused(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == '=')
			return true;
	return false;
}

int kp_base64_decode(const char *s, size_t n, kp_buf *out, kp_error *err)
{
	size_t pad = 0, whole;
	char tail[4];
	int got;

	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	if (pad && (n % 4) != 0)
		return kp_error_set(err, KP_EINVAL, "bad base64 padding");
	n -= pad;
	if (n % 4 == 1 || n > INT_MAX / 2)
		return kp_error_set(err, KP_EINVAL, "base64 text of a bad length (%zu characters)", n);
	if (refused(s, n))
		return kp_error_set(err, KP_EINVAL, "bad base64 text: a space or '=' inside it");
	whole = n / 4 * 4;
	if (!kp_buf_reserve(out, whole / 4 * 3 + 3))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	got = whole ? EVP_DecodeBlock(out->data + out->len, (const unsigned char *)s, (int)whole) : 0;
	if (got < 0)
		return kp_error_set(err, KP_EINVAL, "bad base64 text: a character outside the alphabet");
	if (n > whole) { /* 2 or 3 characters left: pad them to a group */
		memcpy(tail, s + whole, n - whole);
		memset(tail + (n - whole), '=', 4 - (n - whole));
		if (EVP_DecodeBlock(out->data + out->len + got, (const unsigned char *)tail, 4) < 0)
			return kp_error_set(err, KP_EINVAL, "bad base64 text: a character outside "
					    "the alphabet");
		got += (int)(n - whole) - 1;
	}
	out->len += (size_t)got;
	return 0;
}
