/*
 * record.h - KRaft metadata records as the values of records in the
 * metadata log (__cluster_metadata-0) and in snapshots.
 *
 * A metadata record is one of the schemas of Kafka's
 * metadata/src/main/resources/common/metadata (TopicRecord,
 * PartitionRecord, RegisterBrokerRecord, ...), generated into
 * protocol/metadata_gen.h with its record type (the schema's apiKey) in
 * enum kp_metadata_record_type. In a record batch its value is framed as
 * Kafka's MetadataRecordSerde (AbstractApiMessageSerde) frames it:
 *
 *   frame version  unsigned varint, 1 (0 was KRaft's 2.8 preview: refused)
 *   record type    unsigned varint, the apiKey
 *   version        unsigned varint, the schema version of the body
 *   body           the record in that version (always flexible)
 *
 * and nothing after the body.
 */
#ifndef KP_METADATA_RECORD_H
#define KP_METADATA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/codec.h"
#include "protocol/metadata_gen.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/error.h"

/* The only frame version written and read (AbstractApiMessageSerde.DEFAULT_FRAME_VERSION). */
#define KP_METADATA_FRAME_VERSION 1

/*
 * A metadata record and the version of its body: Kafka's
 * ApiMessageAndVersion. `msg` points to the generated struct of `type`
 * (struct kp_topic_record for KP_METADATA_TOPIC_RECORD, ...).
 */
struct kp_metadata_record {
	int16_t type;     /* enum kp_metadata_record_type */
	int16_t version;  /* schema version of the body */
	const void *msg;  /* borrowed; see who fills it in */
};

/*
 * kp_metadata_record_type_info - the record type `type` (its name,
 * versions and descriptor), or NULL when there is no such type
 * (MetadataRecordType.fromId).
 */
const struct kp_record_type_info *kp_metadata_record_type_info(int16_t type);

/*
 * kp_metadata_record_name - the schema name of `type` ("TopicRecord"), or
 * "unknown" for a type that does not exist.
 */
const char *kp_metadata_record_name(int16_t type);

/*
 * kp_metadata_record_encode - append the framed form of `rec` (frame
 * version, type, version, body) to `out`: AbstractApiMessageSerde.write.
 * Returns 0, or -1 with KP_EINVAL (unknown type, version outside the
 * schema's range, a value the version cannot carry) or KP_ENOMEM in `err`;
 * on error `out` holds what it held before.
 */
int kp_metadata_record_encode(const struct kp_metadata_record *rec, kp_buf *out, kp_error *err);

/*
 * kp_metadata_record_decode - decode the framed record in data[0..len)
 * (one record's value, nothing more) into `rec`: AbstractApiMessageSerde.read.
 * rec->msg is allocated in `arena` (strings and arrays too); its bytes
 * fields (salts, keys) point into `data`, which must outlive it. Returns 0,
 * or -1 with KP_EPROTO in `err`: truncated or malformed data, frame version
 * 0 or other than 1, a type, version or frame version above 32767, an
 * unknown record type, a version the type does not have, a malformed body,
 * or bytes left after the body; KP_ENOMEM when the arena cannot grow.
 */
int kp_metadata_record_decode(const uint8_t *data, size_t len, kp_arena *arena,
			      struct kp_metadata_record *rec, kp_error *err);

#endif
