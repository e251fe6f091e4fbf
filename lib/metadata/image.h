/*
 * image.h - the metadata image: what the cluster's metadata log says
 * exists (brokers, controllers, topics and their partitions, configs,
 * feature levels, the next producer id block), built by applying KRaft
 * metadata records (metadata/record.h) in log order. Kafka's MetadataImage,
 * changed in place record by record as MetadataDelta.replay and
 * MetadataDelta.apply would change it.
 *
 * Applying a record either changes the image as Kafka's image would
 * change, or fails, leaving the image exactly as it was. Everything the
 * image holds is its own copy: nothing points into applied records.
 *
 * Reading: the structs below are the image's and read-only to callers;
 * pointers stay valid until the next kp_image_apply or kp_image_free.
 * Records the image does not model (ACLs, SCRAM credentials, client
 * quotas, delegation tokens, transactions, ZK migration state, NoOp) are
 * accepted and only advance the last applied offset.
 *
 * Not thread-safe: one writer, and readers on the same thread.
 */
#ifndef KP_METADATA_IMAGE_H
#define KP_METADATA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metadata/record.h"
#include "protocol/codec.h"
#include "util/buf.h"
#include "util/error.h"

/* Leader values of partitions (Kafka's LeaderConstants). */
#define KP_IMAGE_NO_LEADER (-1)        /* no leader */
#define KP_IMAGE_NO_LEADER_CHANGE (-2) /* PartitionChangeRecord: leader unchanged */

/* LeaderRecoveryState: RECOVERED 0, RECOVERING 1 (after an unclean election); -1 = no change. */
#define KP_IMAGE_LEADER_RECOVERED 0
#define KP_IMAGE_LEADER_RECOVERING 1
#define KP_IMAGE_LEADER_RECOVERY_NO_CHANGE (-1)

/* ConfigResource.Type ids of ConfigRecord.ResourceType. */
#define KP_CONFIG_RESOURCE_TOPIC 2
#define KP_CONFIG_RESOURCE_BROKER 4
#define KP_CONFIG_RESOURCE_BROKER_LOGGER 8
#define KP_CONFIG_RESOURCE_CLIENT_METRICS 16
#define KP_CONFIG_RESOURCE_GROUP 32

/* The feature whose level is the metadata version (MetadataVersion.FEATURE_NAME). */
#define KP_METADATA_VERSION_FEATURE "metadata.version"

/* Highest partition index the image accepts (a sanity bound on PartitionRecord). */
#define KP_IMAGE_MAX_PARTITION 1000000

typedef struct kp_image kp_image;

/* A list of broker ids (replicas, ISR, ...); count 0 = empty, ids NULL then. */
struct kp_image_ids {
	int32_t *ids;
	int32_t count;
};

/* A partition: Kafka's PartitionRegistration (log directories are not kept). */
struct kp_image_partition {
	int32_t partition_id;
	struct kp_image_ids replicas;          /* assigned replicas, preferred leader first */
	struct kp_image_ids isr;               /* in-sync replicas */
	struct kp_image_ids removing_replicas; /* being reassigned away */
	struct kp_image_ids adding_replicas;   /* being reassigned to */
	struct kp_image_ids elr;               /* eligible leader replicas (KIP-966) */
	struct kp_image_ids last_known_elr;    /* KIP-966 */
	int32_t leader;                        /* broker id, or KP_IMAGE_NO_LEADER */
	int8_t leader_recovery_state;          /* KP_IMAGE_LEADER_RECOVERED / _RECOVERING */
	int32_t leader_epoch;                  /* bumped by every leader change */
	int32_t partition_epoch;               /* bumped by every PartitionChangeRecord */
};

/* A topic: Kafka's TopicImage. */
struct kp_image_topic {
	char *name;
	kp_uuid id;
	/* partitions[i] is partition i, NULL when no PartitionRecord made it (yet) */
	struct kp_image_partition **partitions;
	int32_t partition_slots;  /* entries of partitions[]: highest partition id + 1 */
	int32_t partition_count;  /* non-NULL entries */
};

/* A listener of a broker or controller: Kafka's Endpoint. */
struct kp_image_endpoint {
	char *name;                /* listener name, "PLAINTEXT" */
	char *host;
	uint16_t port;
	int16_t security_protocol; /* SecurityProtocol id: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL */
};

/* A supported feature range of a broker or controller: VersionRange. */
struct kp_image_feature_range {
	char *name;
	int16_t min_version, max_version;
};

/* A registered broker: Kafka's BrokerRegistration (log directories are not kept). */
struct kp_image_broker {
	int32_t id;                             /* node.id */
	int64_t epoch;                          /* broker epoch: the registration's log offset */
	kp_uuid incarnation_id;                 /* new at every process start */
	struct kp_image_endpoint *endpoints;    /* sorted by listener name, names unique */
	int32_t endpoint_count;
	struct kp_image_feature_range *features; /* sorted by name, names unique */
	int32_t feature_count;
	char *rack;                             /* broker.rack, NULL when none */
	bool fenced;
	bool in_controlled_shutdown;
};

/* A registered controller: Kafka's ControllerRegistration. */
struct kp_image_controller {
	int32_t id;
	kp_uuid incarnation_id;
	struct kp_image_endpoint *endpoints;     /* sorted by listener name */
	int32_t endpoint_count;
	struct kp_image_feature_range *features; /* sorted by name */
	int32_t feature_count;
};

/* One config of a resource: a ConfigurationImage entry. */
struct kp_image_config {
	char *name;
	char *value;
};

/* ---- life cycle and applying records ----------------------------------- */

/* kp_image_new - an empty image (MetadataImage.EMPTY), offset and epoch -1; NULL when out of memory. */
kp_image *kp_image_new(void);

/* kp_image_free - free `img` and everything it holds; NULL is allowed. */
void kp_image_free(kp_image *img);

/*
 * kp_image_apply - apply the decoded metadata record `rec`, found at log
 * offset `offset` in leader epoch `epoch` (for a snapshot: the snapshot's
 * end offset - 1 and its epoch), as MetadataDelta.replay then apply would:
 * TopicRecord adds a topic (again with the same id: empties it, as Kafka);
 * PartitionRecord adds or replaces a partition; PartitionChangeRecord
 * merges the fields it sets (PartitionRegistration.merge: leader -2 and
 * null lists = unchanged, any leader given bumps the leader epoch, the
 * partition epoch always goes up by one); RemoveTopicRecord removes the
 * topic, its partitions and its topic configs; RegisterBrokerRecord
 * replaces the broker's registration, UnregisterBrokerRecord removes it;
 * Fence/Unfence/BrokerRegistrationChangeRecord change fencing and
 * controlled shutdown of the broker at that epoch (ClusterDelta);
 * ConfigRecord sets a config, a null value deletes it (a resource with no
 * config left is gone); FeatureLevelRecord sets a level, level 0 removes
 * the feature; ProducerIdsRecord sets the next producer id block start.
 * Returns 0, or -1 with the image unchanged and in `err`: KP_EINVAL for a
 * record that does not fit the image (offset below the last applied one;
 * a partition of an unknown topic, an unknown partition or topic; a topic
 * name taken by another id; an unregistered broker or a broker epoch that
 * does not match; a leader recovery state or fencing value Kafka does not
 * know; a missing name; a partition id outside 0..KP_IMAGE_MAX_PARTITION),
 * KP_ENOMEM.
 */
int kp_image_apply(kp_image *img, const struct kp_metadata_record *rec, int64_t offset,
		   int32_t epoch, kp_error *err);

/*
 * kp_image_apply_bytes - decode the framed record data[0..len) (a metadata
 * log record's value, see kp_metadata_record_decode) and apply it as
 * kp_image_apply does. Returns 0, or -1 with KP_EPROTO (undecodable) or an
 * error of kp_image_apply in `err`, the image unchanged.
 */
int kp_image_apply_bytes(kp_image *img, const uint8_t *data, size_t len, int64_t offset,
			 int32_t epoch, kp_error *err);

/* kp_image_last_offset - offset of the last applied record; -1 for none (MetadataProvenance). */
int64_t kp_image_last_offset(const kp_image *img);

/* kp_image_last_epoch - leader epoch of the last applied record; -1 for none. */
int32_t kp_image_last_epoch(const kp_image *img);

/* ---- topics and partitions (TopicsImage) ------------------------------- */

/* kp_image_topic_by_name - the topic named `name`, or NULL (TopicsImage.getTopic(String)). */
const struct kp_image_topic *kp_image_topic_by_name(const kp_image *img, const char *name);

/* kp_image_topic_by_id - the topic with id `id`, or NULL (TopicsImage.getTopic(Uuid)). */
const struct kp_image_topic *kp_image_topic_by_id(const kp_image *img, const kp_uuid *id);

/* kp_image_topic_count - the number of topics. */
size_t kp_image_topic_count(const kp_image *img);

/*
 * kp_image_topic_first, kp_image_topic_next - every topic, each once, in
 * no particular order: first, then next(img, previous) until NULL.
 */
const struct kp_image_topic *kp_image_topic_first(const kp_image *img);
const struct kp_image_topic *kp_image_topic_next(const kp_image *img,
						 const struct kp_image_topic *t);

/* kp_image_topic_partition - partition `index` of `t`, or NULL when it has none such. */
const struct kp_image_partition *kp_image_topic_partition(const struct kp_image_topic *t,
							   int32_t index);

/*
 * kp_image_partition - partition `index` of the topic with id `topic_id`,
 * or NULL when there is no such topic or partition (TopicsImage.getPartition).
 */
const struct kp_image_partition *kp_image_partition(const kp_image *img, const kp_uuid *topic_id,
						    int32_t index);

/* kp_image_ids_contain - whether broker id `id` is in `ids` (Replicas.contains). */
bool kp_image_ids_contain(const struct kp_image_ids *ids, int32_t id);

/* ---- brokers and controllers (ClusterImage) ---------------------------- */

/* kp_image_broker - the broker registered as `id`, or NULL (ClusterImage.broker). */
const struct kp_image_broker *kp_image_broker(const kp_image *img, int32_t id);

/*
 * kp_image_broker_first, kp_image_broker_next - every registered broker in
 * increasing id order, fenced or not: first, then next(img, previous)
 * until NULL.
 */
const struct kp_image_broker *kp_image_broker_first(const kp_image *img);
const struct kp_image_broker *kp_image_broker_next(const kp_image *img,
						   const struct kp_image_broker *b);

/* kp_image_broker_count - the number of registered brokers. */
size_t kp_image_broker_count(const kp_image *img);

/* kp_image_broker_endpoint - the listener of `b` named `listener`, or NULL (BrokerRegistration.node). */
const struct kp_image_endpoint *kp_image_broker_endpoint(const struct kp_image_broker *b,
							 const char *listener);

/* kp_image_controller - the controller registered as `id`, or NULL (ClusterImage.controllers). */
const struct kp_image_controller *kp_image_controller(const kp_image *img, int32_t id);

/* kp_image_controller_first, _next - every registered controller in increasing id order. */
const struct kp_image_controller *kp_image_controller_first(const kp_image *img);
const struct kp_image_controller *kp_image_controller_next(const kp_image *img,
							   const struct kp_image_controller *c);

/* ---- configs (ConfigurationsImage) ------------------------------------- */

/*
 * kp_image_config_value - the value of config `name` of resource
 * (`resource_type`, a KP_CONFIG_RESOURCE_*; `resource_name`, "" for the
 * cluster-wide broker default), or NULL when not set.
 */
const char *kp_image_config_value(const kp_image *img, int8_t resource_type,
				  const char *resource_name, const char *name);

/*
 * kp_image_config_first, kp_image_config_next - the configs set on a
 * resource in increasing name order (ConfigurationImage.data): first, then
 * next(img, previous) until NULL.
 */
const struct kp_image_config *kp_image_config_first(const kp_image *img, int8_t resource_type,
						     const char *resource_name);
const struct kp_image_config *kp_image_config_next(const kp_image *img,
						    const struct kp_image_config *c);

/* ---- features and producer ids (FeaturesImage, ProducerIdsImage) -------- */

/*
 * kp_image_feature_level - the finalized level of feature `name`
 * ("metadata.version", "kraft.version", ...); 0 when not set.
 */
int16_t kp_image_feature_level(const kp_image *img, const char *name);

/* kp_image_next_producer_id - first producer id not yet handed out in a block; -1 for none. */
int64_t kp_image_next_producer_id(const kp_image *img);

/* ---- snapshot and dump ------------------------------------------------- */

/*
 * A receiver of records: called with each record in turn; `rec` and what
 * it points to live only during the call. Return 0 to go on, -1 (with
 * `err` filled) to stop.
 */
typedef int (*kp_image_record_fn)(void *arg, const struct kp_metadata_record *rec, kp_error *err);

/*
 * kp_image_write_records - hand `fn` the records that rebuild `img` from
 * an empty image (MetadataImage.write, the body of a KIP-630 snapshot), in
 * a deterministic order: FeatureLevelRecords (metadata.version first),
 * RegisterBrokerRecords and RegisterControllerRecords by id, per topic by
 * name a TopicRecord then its PartitionRecords by index, ConfigRecords by
 * resource type, resource name and config name, then the ProducerIdsRecord
 * (when a block was handed out). Each at the highest version of its
 * schema. Applying them in order to an empty image gives an image whose
 * kp_image_dump equals `img`'s (given the same offset and epoch). Returns
 * 0, or -1 with `fn`'s error or KP_ENOMEM in `err`.
 */
int kp_image_write_records(const kp_image *img, kp_image_record_fn fn, void *arg, kp_error *err);

/*
 * kp_image_dump - append a canonical text form of `img` to `out`: one
 * line per fact, everything sorted, so that two images dump the same text
 * exactly when they hold the same metadata and last offset and epoch.
 * Strings are written with C escapes for '\\', '"' and bytes outside
 * printable ASCII. Returns 0, or -1 with KP_ENOMEM in `err`.
 */
int kp_image_dump(const kp_image *img, kp_buf *out, kp_error *err);

#endif
