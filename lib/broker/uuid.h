/*
 * uuid.h - random (version 4) UUIDs and their text form as Kafka writes
 * them: 22 characters of unpadded base64url (Kafka's Uuid.toString, used
 * for topic ids in partition.metadata and for cluster.id in
 * meta.properties).
 */
#ifndef KP_BROKER_UUID_H
#define KP_BROKER_UUID_H

#include <stdbool.h>

#include "protocol/codec.h"
#include "util/error.h"

#define KP_UUID_STR_LEN 22

/*
 * kp_uuid_random - fill `u` with a random version 4 UUID from the kernel's
 * CSPRNG, avoiding Kafka's reserved ids (all zero, and ...01 for metadata)
 * and ids whose text starts with '-'. Returns 0 or -1 (KP_EIO).
 */
int kp_uuid_random(kp_uuid *u, kp_error *err);

/* kp_uuid_format - write the 22-char base64url text of `u` and a NUL to `out` (>= 23 bytes). */
void kp_uuid_format(const kp_uuid *u, char *out);

/* kp_uuid_parse - parse 22-char base64url text `s` into `u`; false if malformed. */
bool kp_uuid_parse(const char *s, kp_uuid *u);

/* kp_uuid_is_zero - whether `u` is all zero (Kafka's Uuid.ZERO_UUID: "no id"). */
bool kp_uuid_is_zero(const kp_uuid *u);

#endif
