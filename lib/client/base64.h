/*
 * base64.h - standard base64 (RFC 4648 section 4: A-Z a-z 0-9 + /, with
 * "=" padding), for byte strings that are not text, such as the record
 * keys, values and header values of the JSON record lines (record_json.h).
 */
#ifndef KP_CLIENT_BASE64_H
#define KP_CLIENT_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/* kp_base64_encoded_len - characters kp_base64_encode writes for `n` bytes (padding included). */
size_t kp_base64_encoded_len(size_t n);

/*
 * kp_base64_encode - append the base64 text of `n` bytes at `p` to `out`
 * (no NUL, no line breaks). Out of memory shows as out->oom.
 */
void kp_base64_encode(const uint8_t *p, size_t n, kp_buf *out);

/*
 * kp_base64_decode - append the bytes that the `n` characters of base64
 * text at `s` stand for to `out`. Padding is optional ("QQ" and "QQ=="
 * both decode to "A"); whitespace and any character outside the alphabet
 * are refused. Returns 0, or -1 with KP_EINVAL (nothing of it is
 * appended then), or KP_ENOMEM.
 */
int kp_base64_decode(const char *s, size_t n, kp_buf *out, kp_error *err);

#endif
