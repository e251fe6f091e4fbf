/*
 * codec.h - encoding and decoding of every Kafka protocol message.
 *
 * The messages are defined by the official JSON schemas (Kafka's
 * clients/src/main/resources/common/message/NAME.json). tools/gen (see
 * lib/protocol/gen/kpgen.py) turns them into:
 *
 *   messages_gen.h   one C struct per message and per nested struct,
 *   messages_gen.c   one field-descriptor table per struct, and the API table,
 *
 * and this file's generic encoder/decoder walks those tables. Adding a
 * handler for a new API therefore needs no parsing code.
 *
 * Naming, mechanically derived from the schema:
 *   message "ProduceRequest"            -> struct kp_produce_request,
 *                                          descriptor kp_produce_request_desc
 *   its "[]TopicProduceData" field type -> struct kp_produce_request_topic_produce_data
 *   field "TopicData"                   -> member topic_data (snake_case)
 *   commonStructs are named like nested structs of their message.
 *
 * C shapes of schema types:
 *   int8/int16/int32/int64/uint16    int8_t/int16_t/int32_t/int64_t/uint16_t
 *   float64                          double
 *   bool                             bool
 *   uuid                             kp_uuid (16 bytes)
 *   string                           char * (NUL-terminated; NULL = null)
 *   bytes, records                   kp_bytes (len -1 = null)
 *   []T                              T *name; int32_t name_count; (count -1 = null)
 *   struct field (type Foo)          struct kp_msg_foo name; embedded by value,
 *                                    plus bool name_is_null if nullable in some version
 *
 * A field absent from the version being decoded holds its schema default
 * (kp_msg_init sets defaults). Encoding a version writes only the fields
 * that version has; tagged fields are written only when they differ from
 * their default (so responses carry empty tagged sections unless a handler
 * sets a tagged field; see CLIENT-NOTES rule 3). Unknown tags are skipped.
 */
#ifndef KP_PROTOCOL_CODEC_H
#define KP_PROTOCOL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/error.h"

typedef struct kp_uuid {
	uint8_t b[16];
} kp_uuid;

typedef struct kp_bytes {
	const uint8_t *data; /* borrowed from the decoded frame or the encoder's caller */
	int32_t len;         /* -1 = null */
} kp_bytes;

struct kp_msg_desc; /* generated; opaque to users */

/* One API: a request/response pair under one API key. */
struct kp_api_info {
	int16_t api_key;
	const char *name;                    /* "Produce" */
	int16_t min_version, max_version;    /* validVersions of the schema */
	int16_t flexible_min;                /* first flexible version; -1 if none */
	const struct kp_msg_desc *request;
	const struct kp_msg_desc *response;
};

/* kp_api_lookup - the schema's API `api_key`, or NULL if there is none. */
const struct kp_api_info *kp_api_lookup(int16_t api_key);

/* Number of entries in kp_api_table (sorted by api_key). */
extern const size_t kp_api_count;
extern const struct kp_api_info kp_api_table[];

/*
 * kp_request_header_version - request header version (0, 1 or 2) for
 * `api_key` at `api_version`: 2 for flexible versions (except
 * ControlledShutdown v0, which uses 0), else 1. Returns -1 for an unknown
 * API key. Protocol guide, "Headers"; KIP-482.
 */
int kp_request_header_version(int16_t api_key, int16_t api_version);

/*
 * kp_response_header_version - response header version: 1 for flexible
 * versions, else 0; ApiVersions always 0 (KIP-511). -1 for unknown keys.
 */
int kp_response_header_version(int16_t api_key, int16_t api_version);

/* kp_msg_size - sizeof the C struct described by `d`. */
size_t kp_msg_size(const struct kp_msg_desc *d);
/* kp_msg_name - the schema name of `d`, e.g. "ProduceRequest". */
const char *kp_msg_name(const struct kp_msg_desc *d);

/*
 * kp_msg_init - zero `msg` (of kp_msg_size(d) bytes) and set every field to
 * its schema default (nullable strings/bytes/arrays defaulting to null get
 * NULL / len -1 / count -1 where the schema's default is "null"; plain
 * strings default to "" only when decoding, as NULL encodes as empty).
 */
void kp_msg_init(const struct kp_msg_desc *d, void *msg);

/*
 * kp_msg_new - `n` structs described by `d` (kp_msg_size(d) bytes each) in
 * `arena`, each initialised by kp_msg_init; the arena owns them. Returns
 * NULL when memory runs out (or n is so large the size overflows); n == 0
 * returns a valid, unusable non-NULL pointer. The generated kp_S_new(a, n)
 * are typed wrappers.
 */
void *kp_msg_new(const struct kp_msg_desc *d, kp_arena *arena, size_t n);

/*
 * kp_msg_decode - decode a message body of `d` at `version` from `r` into
 * `msg` (kp_msg_size(d) bytes, initialised by this call). Strings, arrays
 * and structs are allocated in `arena`; kp_bytes point into r's data, so
 * that data must outlive `msg`. Reads exactly the message's bytes and
 * leaves `r` after them. Returns 0, or -1 with KP_EPROTO (truncated or
 * malformed data, negative length where not nullable, version out of
 * range) or KP_ENOMEM in `err`.
 */
int kp_msg_decode(const struct kp_msg_desc *d, int16_t version, kp_reader *r,
		  kp_arena *arena, void *msg, kp_error *err);

/*
 * kp_msg_encode - append the encoding of `msg` (a struct described by `d`)
 * at `version` to `out`. NULL non-nullable strings encode as empty, NULL
 * non-nullable arrays as empty. Returns 0, or -1 with KP_EINVAL (a version
 * outside the schema's range, a null where the version does not allow
 * one) or KP_ENOMEM in `err`.
 */
int kp_msg_encode(const struct kp_msg_desc *d, int16_t version, const void *msg,
		  kp_buf *out, kp_error *err);

/*
 * External bytes: a `bytes` or `records` kp_bytes with data == NULL and
 * len > 0 stands for len bytes that are not in memory (a Fetch response's
 * records served from segment files with sendfile). kp_msg_encode rejects
 * it (KP_EINVAL); kp_msg_encode_ext and kp_response_encode_ext write its
 * length prefix only and note where its bytes belong, so the caller can
 * splice them into the output stream. Not allowed in tagged fields.
 */
struct kp_ext_ref {
	size_t pos;  /* position in the output kp_buf where the bytes belong */
	int32_t len; /* the kp_bytes' len */
};

/* Where kp_msg_encode_ext notes external bytes: refs[0..n) of max, in encoding order. */
struct kp_ext_sink {
	struct kp_ext_ref *refs; /* caller's array */
	size_t max;              /* its capacity */
	size_t n;                /* used; the caller sets it to 0 first */
};

/*
 * kp_msg_encode_ext - kp_msg_encode, also accepting external bytes: each
 * one's length prefix is written and a kp_ext_ref appended to `ext`, in
 * encoding order (fields in schema order, arrays element by element,
 * depth first). The bytes appended to `out` plus every ref's len, each
 * inserted at its pos, make the encoding. Errors as kp_msg_encode, plus
 * KP_EINVAL when `ext` is full or an external value is in a tagged field;
 * on error `out` and ext->n are as they were.
 */
int kp_msg_encode_ext(const struct kp_msg_desc *d, int16_t version, const void *msg,
		      kp_buf *out, struct kp_ext_sink *ext, kp_error *err);

#include "protocol/messages_gen.h"

/*
 * Request header as decoded by kp_request_header_decode (all versions):
 * RequestHeader.json, fields RequestApiKey, RequestApiVersion,
 * CorrelationId, ClientId (v1+, nullable; NULL when absent or null).
 */
/*
 * kp_request_header_decode - read a request header from the start of a
 * frame body, choosing its version from the api key and version it
 * contains. The header struct is the generated struct kp_request_header.
 * Returns the header version used (0-2), or -1 with KP_EPROTO when the
 * bytes are too short. An unknown API key or version is not an error here:
 * header version 1 is assumed so the caller can answer UNSUPPORTED_VERSION
 * (for ApiVersions the v0 header layout makes that exact).
 */
int kp_request_header_decode(kp_reader *r, kp_arena *arena,
			     struct kp_request_header *hdr, kp_error *err);

/*
 * kp_request_encode - append a whole request frame: 4-byte size, request
 * header (version from kp_request_header_version) with `correlation_id`
 * and `client_id` (may be NULL), and the body `msg` of the API's request
 * descriptor at `version`. Returns 0 or -1 (see kp_msg_encode).
 */
int kp_request_encode(int16_t api_key, int16_t version, int32_t correlation_id,
		      const char *client_id, const void *msg, kp_buf *out, kp_error *err);

/*
 * kp_response_encode - append a whole response frame: 4-byte size, response
 * header (version from kp_response_header_version) with `correlation_id`,
 * and the body `msg` of the API's response descriptor at `version`.
 */
int kp_response_encode(int16_t api_key, int16_t version, int32_t correlation_id,
		       const void *msg, kp_buf *out, kp_error *err);

/*
 * kp_response_encode_ext - kp_response_encode for a body with external
 * bytes (see kp_msg_encode_ext): the size prefix counts them. Refs are
 * appended to `ext` with positions in `out`.
 */
int kp_response_encode_ext(int16_t api_key, int16_t version, int32_t correlation_id,
			   const void *msg, kp_buf *out, struct kp_ext_sink *ext, kp_error *err);

/*
 * kp_response_decode - read a response header (version from
 * kp_response_header_version) and the body for `api_key`/`version` from a
 * frame body (size prefix removed) into `msg`; *correlation_id gets the
 * header's id. Memory as in kp_msg_decode.
 */
int kp_response_decode(int16_t api_key, int16_t version, const uint8_t *body, size_t len,
		       kp_arena *arena, int32_t *correlation_id, void *msg, kp_error *err);

#endif
