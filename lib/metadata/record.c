/*
 * record.c - framing of KRaft metadata records (Kafka's
 * AbstractApiMessageSerde, MetadataRecordSerde); see record.h.
 */
#include "metadata/record.h"

#include <stdbool.h>
#include <stdio.h>

const struct kp_record_type_info *kp_metadata_record_type_info(int16_t type)
{
	if (type < 0 || type >= KP_METADATA_RECORD_TYPE_COUNT)
		return NULL;
	if (kp_metadata_gen_types[type].desc == NULL)
		return NULL;
	return &kp_metadata_gen_types[type];
}

const char *kp_metadata_record_name(int16_t type)
{
	const struct kp_record_type_info *t = kp_metadata_record_type_info(type);

	return t ? t->name : "unknown";
}

int kp_metadata_record_encode(const struct kp_metadata_record *rec, kp_buf *out, kp_error *err)
{
	const struct kp_record_type_info *t = kp_metadata_record_type_info(rec->type);
	size_t start = out->len;

	if (t == NULL)
		return kp_error_set(err, KP_EINVAL, "unknown metadata record type %d", rec->type);
	if (rec->version < t->min_version || rec->version > t->max_version)
		return kp_error_set(err, KP_EINVAL, "%s has no version %d (%d-%d)", t->name,
				    rec->version, t->min_version, t->max_version);
	if (rec->msg == NULL)
		return kp_error_set(err, KP_EINVAL, "%s without a body", t->name);
	kp_buf_put_uvarint(out, KP_METADATA_FRAME_VERSION);
	kp_buf_put_uvarint(out, (uint32_t)rec->type);
	kp_buf_put_uvarint(out, (uint32_t)rec->version);
	if (out->oom)
		goto oom;
	if (kp_msg_encode(t->desc, rec->version, rec->msg, out, err) < 0)
		goto fail;
	if (out->oom)
		goto oom;
	return 0;
oom:
	kp_error_set(err, KP_ENOMEM, "out of memory encoding %s", t->name);
fail:
	out->len = out->len > start ? start : out->len;
	return -1;
}

/* read_short - one of the frame's unsigned varints, which must fit an int16 (unsignedIntToShort). */
static int read_short(kp_reader *r, const char *what, int16_t *v, kp_error *err)
{
	uint32_t u = kp_read_uvarint(r);

	if (r->failed)
		return kp_error_set(err, KP_EPROTO, "metadata record: truncated or malformed %s", what);
	if (u > INT16_MAX)
		return kp_error_set(err, KP_EPROTO, "metadata record: %s %u too large", what, u);
	*v = (int16_t)u;
	return 0;
}

/* read_header - frame version, type and version; the type's info in *info. */
static int read_header(kp_reader *r, struct kp_metadata_record *rec,
		       const struct kp_record_type_info **info, kp_error *err)
{
	int16_t frame;

	if (read_short(r, "frame version", &frame, err) < 0)
		return -1;
	if (frame == 0)
		return kp_error_set(err, KP_EPROTO, "metadata record with frame version 0 (the KRaft "
				    "preview of Kafka 2.8) is not supported");
	if (frame != KP_METADATA_FRAME_VERSION)
		return kp_error_set(err, KP_EPROTO, "metadata record with unknown frame version %d "
				    "(only %d is supported)", frame, KP_METADATA_FRAME_VERSION);
	if (read_short(r, "type", &rec->type, err) < 0 ||
	    read_short(r, "version", &rec->version, err) < 0)
		return -1;
	*info = kp_metadata_record_type_info(rec->type);
	if (*info == NULL)
		return kp_error_set(err, KP_EPROTO, "unknown metadata record type %d", rec->type);
	return 0;
}

int kp_metadata_record_decode(const uint8_t *data, size_t len, kp_arena *arena,
			      struct kp_metadata_record *rec, kp_error *err)
{
	const struct kp_record_type_info *t;
	kp_reader r;
	void *msg;

	kp_reader_init(&r, data, len);
	rec->msg = NULL;
	if (read_header(&r, rec, &t, err) < 0)
		return -1;
	msg = kp_msg_new(t->desc, arena, 1);
	if (msg == NULL)
		return kp_error_set(err, KP_ENOMEM, "out of memory decoding %s", t->name);
	if (kp_msg_decode(t->desc, rec->version, &r, arena, msg, err) < 0) {
		if (err != NULL && err->code == KP_EPROTO) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			kp_error_set(err, KP_EPROTO, "metadata record %s v%d: %s", t->name,
				     rec->version, why);
		}
		return -1;
	}
	if (kp_reader_left(&r) > 0)
		return kp_error_set(err, KP_EPROTO, "%zu byte(s) of garbage after %s",
				    kp_reader_left(&r), t->name);
	rec->msg = msg;
	return 0;
}
