/*
 * image.c - the metadata image's life cycle, applying records (Kafka's
 * MetadataDelta.replay), and its provenance. Topics are in image_topics.c,
 * brokers and controllers in image_cluster.c, configs in image_configs.c,
 * features in image_features.c, snapshots in image_write.c, the dump in
 * image_dump.c.
 */
#include <stdlib.h>

#include "metadata/image_internal.h"
#include "util/arena.h"

kp_image *kp_image_new(void)
{
	kp_image *img = calloc(1, sizeof(*img));

	if (img == NULL)
		return NULL;
	img->last_offset = -1;
	img->last_epoch = -1;
	img->next_producer_id = -1;
	return img;
}

void kp_image_free(kp_image *img)
{
	if (img == NULL)
		return;
	kp_image_free_topics(img);
	kp_image_free_cluster(img);
	kp_image_free_configs(img);
	kp_image_free_features(img);
	free(img);
}

int64_t kp_image_last_offset(const kp_image *img)
{
	return img->last_offset;
}

int32_t kp_image_last_epoch(const kp_image *img)
{
	return img->last_epoch;
}

int64_t kp_image_next_producer_id(const kp_image *img)
{
	return img->next_producer_id;
}

/* apply_cluster - the records ClusterDelta replays; 1 when `rec` is not one of them. */
static int apply_cluster(kp_image *img, const struct kp_metadata_record *rec, kp_error *err)
{
	const struct kp_fence_broker_record *f = rec->msg;
	const struct kp_unfence_broker_record *u = rec->msg;

	switch (rec->type) {
	case KP_METADATA_REGISTER_BROKER_RECORD:
		return kp_image_apply_register_broker(img, rec->msg, err);
	case KP_METADATA_UNREGISTER_BROKER_RECORD:
		return kp_image_apply_unregister_broker(img, rec->msg, err);
	case KP_METADATA_FENCE_BROKER_RECORD:
		return kp_image_apply_fence(img, f->id, f->epoch, true, err);
	case KP_METADATA_UNFENCE_BROKER_RECORD:
		return kp_image_apply_fence(img, u->id, u->epoch, false, err);
	case KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD:
		return kp_image_apply_broker_change(img, rec->msg, err);
	case KP_METADATA_REGISTER_CONTROLLER_RECORD:
		return kp_image_apply_register_controller(img, rec->msg, err);
	default:
		return 1;
	}
}

/* apply_record - MetadataDelta.replay for one record; records not modelled change nothing. */
static int apply_record(kp_image *img, const struct kp_metadata_record *rec, kp_error *err)
{
	const struct kp_producer_ids_record *pid = rec->msg;
	int rc = apply_cluster(img, rec, err);

	if (rc <= 0)
		return rc;
	switch (rec->type) {
	case KP_METADATA_TOPIC_RECORD:
		return kp_image_apply_topic(img, rec->msg, err);
	case KP_METADATA_PARTITION_RECORD:
		return kp_image_apply_partition(img, rec->msg, err);
	case KP_METADATA_PARTITION_CHANGE_RECORD:
		return kp_image_apply_partition_change(img, rec->msg, err);
	case KP_METADATA_REMOVE_TOPIC_RECORD:
		return kp_image_apply_remove_topic(img, rec->msg, err);
	case KP_METADATA_CONFIG_RECORD:
		return kp_image_apply_config(img, rec->msg, err);
	case KP_METADATA_FEATURE_LEVEL_RECORD:
		return kp_image_apply_feature_level(img, rec->msg, err);
	case KP_METADATA_PRODUCER_IDS_RECORD:
		img->next_producer_id = pid->next_producer_id; /* ProducerIdsDelta.replay */
		return 0;
	default:
		return 0;
	}
}

int kp_image_apply(kp_image *img, const struct kp_metadata_record *rec, int64_t offset,
		   int32_t epoch, kp_error *err)
{
	if (kp_metadata_record_type_info(rec->type) == NULL)
		return kp_error_set(err, KP_EINVAL, "unknown metadata record type %d", rec->type);
	if (rec->msg == NULL)
		return kp_error_set(err, KP_EINVAL, "%s without a body",
				    kp_metadata_record_name(rec->type));
	if (offset < img->last_offset)
		return kp_error_set(err, KP_EINVAL, "%s at offset %lld before the last applied "
				    "offset %lld", kp_metadata_record_name(rec->type),
				    (long long)offset, (long long)img->last_offset);
	if (apply_record(img, rec, err) < 0)
		return -1;
	img->last_offset = offset;
	img->last_epoch = epoch;
	return 0;
}

int kp_image_apply_bytes(kp_image *img, const uint8_t *data, size_t len, int64_t offset,
			 int32_t epoch, kp_error *err)
{
	struct kp_metadata_record rec;
	kp_arena arena;
	int rc = -1;

	kp_arena_init(&arena);
	if (kp_metadata_record_decode(data, len, &arena, &rec, err) < 0)
		goto out;
	rc = kp_image_apply(img, &rec, offset, epoch, err);
out:
	kp_arena_free(&arena);
	return rc;
}
