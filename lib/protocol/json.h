/*
 * json.h - any generated protocol message as JSON and back, by walking
 * the descriptor tables (codec_internal.h), with jansson.
 *
 * A message at a version becomes a JSON object whose keys are the
 * schema's field names ("ThrottleTimeMs", "Topics", ...), holding exactly
 * the fields that version has (tagged ones included), in schema order:
 *
 *   bool                         true / false
 *   int8 .. int64, uint16        integer
 *   float64                      real
 *   uuid                         string, Kafka's Uuid.toString: 22 chars of
 *                                unpadded base64url ("AAAAAAAAAAAAAAAAAAAAAA" = zero)
 *   string                       string, or null
 *   bytes                        string of standard base64 (padded), or null
 *   records                      as bytes, unless a hook says otherwise
 *   struct                       object (null for a null nullable struct)
 *   []T                          array, or null
 *
 * The converters share no state and are safe to call from several threads.
 */
#ifndef KP_PROTOCOL_JSON_H
#define KP_PROTOCOL_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "protocol/codec.h"
#include "util/arena.h"
#include "util/error.h"

/*
 * Optional hooks for `records` fields, which hold record batches that a
 * caller may want to show decoded (or build from a description) instead
 * of as base64. Either function pointer may be NULL (base64 is used).
 *
 * records_out(b, opaque, err): a new JSON value (owned by the caller of
 *   the hook, which takes it) for the records `b` (len -1 = null); NULL
 *   with `err` filled on failure.
 * records_in(j, arena, out, opaque, err): fill `out` from the JSON value
 *   `j`, with the bytes in `arena`. Called only for values other than a
 *   string or null (those are base64 / null as for bytes). Returns 0, or
 *   -1 with `err` filled.
 */
struct kp_json_hooks {
	json_t *(*records_out)(const kp_bytes *b, void *opaque, kp_error *err);
	int (*records_in)(const json_t *j, kp_arena *arena, kp_bytes *out, void *opaque,
			  kp_error *err);
	void *opaque;
};

/*
 * kp_msg_to_json - the JSON object for `msg`, a struct described by `d`
 * (for example kp_fetch_response_desc), as it is at `version` (fields the
 * version lacks are left out). `hooks` may be NULL. Returns a new
 * reference the caller must json_decref, or NULL with `err` filled:
 * KP_EINVAL for a string that is not valid UTF-8 (jansson refuses it),
 * an error from a hook, or KP_ENOMEM.
 */
json_t *kp_msg_to_json(const struct kp_msg_desc *d, int16_t version, const void *msg,
		       const struct kp_json_hooks *hooks, kp_error *err);

/*
 * kp_msg_from_json - fill `msg` (kp_msg_size(d) bytes) from the JSON
 * object `j`. `msg` is first set to the schema defaults (kp_msg_init);
 * each key of `j` then sets the field of that name, in any version (the
 * encoder writes only those the version has), so one object can describe
 * a request at several versions. Strings, arrays, decoded bytes and
 * nested structs are allocated in `arena` and live as long as it does;
 * `j` is not referenced after the call. `hooks` may be NULL. Returns 0,
 * or -1 with `err` filled: KP_EINVAL for a key that is no field of the
 * struct, a value of the wrong JSON type, an integer out of the field's
 * range, bad base64 or uuid text (the message names the JSON path, e.g.
 * "Topics[0].Partitions[1].FetchOffset: expected an integer"); an error
 * from a hook; KP_ENOMEM.
 */
int kp_msg_from_json(const struct kp_msg_desc *d, int16_t version, const json_t *j,
		     kp_arena *arena, void *msg, const struct kp_json_hooks *hooks,
		     kp_error *err);

/*
 * kp_json_base64 - a new JSON string holding the standard (padded) base64
 * of `n` bytes at `p`; NULL when memory runs out. For hooks that show
 * binary data the way this module shows bytes fields.
 */
json_t *kp_json_base64(const uint8_t *p, size_t n);

/*
 * kp_json_uuid - a new JSON string holding the 22-char base64url form of
 * `u`; NULL when memory runs out.
 */
json_t *kp_json_uuid(const kp_uuid *u);

#endif
