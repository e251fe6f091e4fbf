/*
 * record_json.h - records as JSON lines, one JSON object per record: what
 * `kconsume -J` writes and `kproduce -J` reads, so that a topic copied
 * through a pipe keeps keys, values, headers, timestamps and partitions
 * byte for byte.
 *
 *   {"topic":"T","partition":0,"offset":42,"timestamp":1714566600000,
 *    "key":"k","value":"hello","headers":[{"key":"h","value":"v"}]}
 *
 * Byte strings (key, value, a header's key and value) are JSON strings
 * when they are valid UTF-8, null when null, and otherwise their base64
 * text (base64.h) with an encoding field beside them saying so:
 * "value":"AP8=","value_encoding":"base64" (and "key_encoding"; inside a
 * header object the same two names). "timestamp" is milliseconds since
 * the epoch (-1: the record has none).
 *
 * Reading is lenient where that is unambiguous: every field is optional
 * (an absent key or value is null; an absent topic or partition is left
 * to the reader's caller; unknown fields are ignored), an encoding of
 * "utf8" means the string as it is, a key or value that is a JSON number,
 * object, array or boolean stands for its compact JSON text, "timestamp"
 * may also be an ISO 8601 string (timestamp.h), and "headers" may be an
 * array of header objects, an array of ["key", "value"] pairs, or an
 * object {"key": "value", ...}.
 */
#ifndef KP_CLIENT_RECORD_JSON_H
#define KP_CLIENT_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/records.h"
#include "util/buf.h"
#include "util/error.h"

/*
 * A decoded line. Everything it points to (the strings, rec's key, value
 * and headers) is owned by it and valid until the next decode into it or
 * kp_json_record_clear.
 */
struct kp_json_record {
	const char *topic;     /* "topic", or NULL when the line has none */
	int32_t partition;     /* "partition" (>= 0), or -1 when the line has none */
	int64_t offset;        /* "offset", or -1 (for information; producers ignore it) */
	bool has_timestamp;    /* the line gave a timestamp: rec.timestamp (-1: none) */
	struct kp_record rec;  /* key, value, headers; timestamp 0 unless has_timestamp */

	/* private: storage behind the pointers above */
	void *root;            /* the parsed document (jansson json_t *) */
	kp_buf bytes;          /* decoded base64 and serialized JSON values */
	struct kp_record_header *hdrs;
	size_t hdr_cap;
	void *spans;           /* where each byte string is, until the pointers are set */
	size_t span_cap;
};

/* kp_json_record_init - make `r` empty, ready for kp_record_json_decode. */
void kp_json_record_init(struct kp_json_record *r);

/* kp_json_record_clear - free what `r` holds and make it empty again. */
void kp_json_record_clear(struct kp_json_record *r);

/*
 * kp_record_json_decode - parse one line of `len` bytes at `line` (one
 * JSON object; surrounding whitespace is fine, the newline need not be
 * there) into `out`, which must have been initialised; what it held
 * before is released. Returns 0, or -1 with KP_EINVAL ("bad JSON at
 * column N: ...", or which field is malformed: a partition that is not a
 * non-negative integer, a byte string that is not a string, bad base64,
 * an unknown encoding, a header without a key) or KP_ENOMEM; `out` is
 * then empty.
 */
int kp_record_json_decode(const char *line, size_t len, struct kp_json_record *out,
			  kp_error *err);

/*
 * kp_record_json_encode - append record `rec` of `topic` (may be NULL:
 * no "topic") partition `partition` (-1: no "partition") as one compact
 * JSON object, without a newline, to `out`. "offset" is rec->offset
 * (left out when negative). Returns 0, or -1 with KP_ENOMEM (out may then
 * hold part of the object).
 */
int kp_record_json_encode(const char *topic, int32_t partition, const struct kp_record *rec,
			  kp_buf *out, kp_error *err);

/*
 * kp_utf8_valid - whether the `n` bytes at `p` are well-formed UTF-8 (RFC
 * 3629: no overlong forms, no surrogates, nothing above U+10FFFF); NUL
 * bytes are allowed.
 */
bool kp_utf8_valid(const uint8_t *p, size_t n);

#endif
