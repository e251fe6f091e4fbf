/*
 * image_internal.h - what the metadata image's files share: the image and
 * its uthash tables. Not installed.
 *
 * Every hashed node carries `hash_oom`, set by uthash when adding it ran
 * out of memory (HASH_NONFATAL_OOM), so that no allocation failure exits.
 */
#ifndef KP_METADATA_IMAGE_INTERNAL_H
#define KP_METADATA_IMAGE_INTERNAL_H

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(node) ((node)->hash_oom = true)
#include <uthash.h>

#include "metadata/image.h"

struct kp_image_topic_node {
	struct kp_image_topic t;  /* first: the public view */
	bool hash_oom;
	UT_hash_handle hh_id;     /* in img->topics_by_id, key t.id */
	UT_hash_handle hh_name;   /* in img->topics_by_name, key t.name */
};

struct kp_image_broker_node {
	struct kp_image_broker b; /* first */
	bool hash_oom;
	UT_hash_handle hh;        /* in img->brokers, key b.id, kept sorted by id */
};

struct kp_image_controller_node {
	struct kp_image_controller c; /* first */
	bool hash_oom;
	UT_hash_handle hh;            /* in img->controllers, key c.id, kept sorted by id */
};

struct kp_image_config_node {
	struct kp_image_config c; /* first */
	bool hash_oom;
	UT_hash_handle hh;        /* in its resource's configs, key c.name, kept sorted */
};

/* A config resource: ConfigResource (type, name) and its configs. */
struct kp_image_resource {
	int8_t type;
	char *name;
	uint8_t *key;             /* type byte then the name's bytes */
	size_t key_len;
	struct kp_image_config_node *configs;
	bool hash_oom;
	UT_hash_handle hh;        /* in img->resources, key `key` */
};

struct kp_image_feature {
	char *name;
	int16_t level;
	bool hash_oom;
	UT_hash_handle hh;        /* in img->features, key name, kept sorted */
};

struct kp_image {
	int64_t last_offset;
	int32_t last_epoch;
	struct kp_image_topic_node *topics_by_id;
	struct kp_image_topic_node *topics_by_name;
	struct kp_image_broker_node *brokers;
	struct kp_image_controller_node *controllers;
	struct kp_image_resource *resources;
	struct kp_image_feature *features;
	int64_t next_producer_id;
};

/* The appliers of each part; same contract as kp_image_apply (image unchanged on error). */
int kp_image_apply_topic(kp_image *img, const struct kp_topic_record *r, kp_error *err);
int kp_image_apply_partition(kp_image *img, const struct kp_partition_record *r, kp_error *err);
int kp_image_apply_partition_change(kp_image *img, const struct kp_partition_change_record *r,
				    kp_error *err);
int kp_image_apply_remove_topic(kp_image *img, const struct kp_remove_topic_record *r,
				kp_error *err);
int kp_image_apply_register_broker(kp_image *img, const struct kp_register_broker_record *r,
				   kp_error *err);
int kp_image_apply_unregister_broker(kp_image *img, const struct kp_unregister_broker_record *r,
				     kp_error *err);
int kp_image_apply_fence(kp_image *img, int32_t id, int64_t epoch, bool fence, kp_error *err);
int kp_image_apply_broker_change(kp_image *img,
				 const struct kp_broker_registration_change_record *r, kp_error *err);
int kp_image_apply_register_controller(kp_image *img,
				       const struct kp_register_controller_record *r, kp_error *err);
int kp_image_apply_config(kp_image *img, const struct kp_config_record *r, kp_error *err);
int kp_image_apply_feature_level(kp_image *img, const struct kp_feature_level_record *r,
				 kp_error *err);

/* kp_image_delete_resource - drop config resource (type, name) and its configs, if any; -1 on OOM. */
int kp_image_delete_resource(kp_image *img, int8_t type, const char *name);

/* Freeing the parts (kp_image_free). */
void kp_image_free_topics(kp_image *img);
void kp_image_free_cluster(kp_image *img);
void kp_image_free_configs(kp_image *img);
void kp_image_free_features(kp_image *img);

/* kp_image_uuid_format - Kafka's text of `u` (22 chars of unpadded base64url, Uuid.toString) and a NUL. */
void kp_image_uuid_format(const kp_uuid *u, char out[23]);

/* kp_image_partition_free - free `p` and its lists; NULL is allowed. */
void kp_image_partition_free(struct kp_image_partition *p);

/* kp_image_ids_copy - `dst` gets a malloc'd copy of ids[0..count) (count <= 0: empty). 0 or -1 (OOM). */
int kp_image_ids_copy(struct kp_image_ids *dst, const int32_t *ids, int32_t count);

/*
 * kp_image_sorted_topics / _resources - the topics sorted by name, the
 * config resources by type then name, in a malloc'd array (*n entries;
 * NULL with *n 0 when there are none). -1 when out of memory.
 */
int kp_image_sorted_topics(const kp_image *img, const struct kp_image_topic_node ***out, size_t *n);
int kp_image_sorted_resources(const kp_image *img, const struct kp_image_resource ***out, size_t *n);

#endif
