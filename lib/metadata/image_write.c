/*
 * image_write.c - the records that rebuild the metadata image: Kafka's
 * MetadataImage.write (FeaturesImage, ClusterImage, TopicsImage,
 * ConfigurationsImage, ProducerIdsImage .write), as in a KIP-630 snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "metadata/image_internal.h"
#include "util/arena.h"

struct writer {
	kp_image_record_fn fn;
	void *arg;
	kp_error *err;
};

/* emit - hand record `msg` of `type` to the receiver, at the schema's highest version. */
static int emit(struct writer *w, int16_t type, const void *msg)
{
	struct kp_metadata_record rec = {
		.type = type, .version = kp_metadata_gen_types[type].max_version, .msg = msg,
	};

	return w->fn(w->arg, &rec, w->err);
}

static int oom(struct writer *w)
{
	return kp_error_set(w->err, KP_ENOMEM, "out of memory writing the metadata image");
}

/* write_features - FeaturesImage.write: metadata.version first, then the others by name. */
static int write_features(const kp_image *img, struct writer *w)
{
	struct kp_feature_level_record r;
	struct kp_image_feature *f, *tmp;
	int16_t mv = kp_image_feature_level(img, KP_METADATA_VERSION_FEATURE);

	if (mv != 0) {
		kp_feature_level_record_init(&r);
		r.name = KP_METADATA_VERSION_FEATURE;
		r.feature_level = mv;
		if (emit(w, KP_METADATA_FEATURE_LEVEL_RECORD, &r) < 0)
			return -1;
	}
	HASH_ITER(hh, img->features, f, tmp) {
		if (strcmp(f->name, KP_METADATA_VERSION_FEATURE) == 0)
			continue;
		kp_feature_level_record_init(&r);
		r.name = f->name;
		r.feature_level = f->level;
		if (emit(w, KP_METADATA_FEATURE_LEVEL_RECORD, &r) < 0)
			return -1;
	}
	return 0;
}

/*
 * TO_RECORD_LISTENERS - define `static int fn(struct kp_register_KIND_record
 * *r, const struct kp_image_KIND *s, kp_arena *a)`: r's endpoints and
 * features, in `a`, from the registration `s` of a broker or controller
 * (KIND); the strings stay s's. The two records' endpoint and feature
 * types differ but have the same fields. Returns 0, or -1 when out of
 * memory.
 */
#define TO_RECORD_LISTENERS(fn, KIND)                                                       \
	static int fn(struct kp_register_##KIND##_record *r, const struct kp_image_##KIND *s, \
		      kp_arena *a)                                                          \
	{                                                                                   \
		r->end_points = kp_register_##KIND##_record_##KIND##_endpoint_new(          \
			a, (size_t)s->endpoint_count);                                      \
		r->features = kp_register_##KIND##_record_##KIND##_feature_new(             \
			a, (size_t)s->feature_count);                                       \
		if (r->end_points == NULL || r->features == NULL)                           \
			return -1;                                                          \
		for (int32_t i = 0; i < s->endpoint_count; i++) {                           \
			r->end_points[i].name = s->endpoints[i].name;                       \
			r->end_points[i].host = s->endpoints[i].host;                       \
			r->end_points[i].port = s->endpoints[i].port;                       \
			r->end_points[i].security_protocol = s->endpoints[i].security_protocol; \
		}                                                                           \
		for (int32_t i = 0; i < s->feature_count; i++) {                            \
			r->features[i].name = s->features[i].name;                          \
			r->features[i].min_supported_version = s->features[i].min_version;  \
			r->features[i].max_supported_version = s->features[i].max_version;  \
		}                                                                           \
		r->end_points_count = s->endpoint_count;                                    \
		r->features_count = s->feature_count;                                       \
		return 0;                                                                   \
	}

TO_RECORD_LISTENERS(broker_listeners, broker)
TO_RECORD_LISTENERS(controller_listeners, controller)

/* write_broker - BrokerRegistration.toRecord. */
static int write_broker(const struct kp_image_broker *b, struct writer *w)
{
	struct kp_register_broker_record r;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	kp_register_broker_record_init(&r);
	r.broker_id = b->id;
	r.incarnation_id = b->incarnation_id;
	r.broker_epoch = b->epoch;
	r.rack = b->rack;
	r.fenced = b->fenced;
	r.in_controlled_shutdown = b->in_controlled_shutdown;
	if (broker_listeners(&r, b, &a) < 0) {
		oom(w);
		goto out;
	}
	rc = emit(w, KP_METADATA_REGISTER_BROKER_RECORD, &r);
out:
	kp_arena_free(&a);
	return rc;
}

/* write_controller - ControllerRegistration.toRecord. */
static int write_controller(const struct kp_image_controller *c, struct writer *w)
{
	struct kp_register_controller_record r;
	kp_arena a;
	int rc = -1;

	kp_arena_init(&a);
	kp_register_controller_record_init(&r);
	r.controller_id = c->id;
	r.incarnation_id = c->incarnation_id;
	if (controller_listeners(&r, c, &a) < 0) {
		oom(w);
		goto out;
	}
	rc = emit(w, KP_METADATA_REGISTER_CONTROLLER_RECORD, &r);
out:
	kp_arena_free(&a);
	return rc;
}

/* write_cluster - ClusterImage.write: brokers, then controllers, by id. */
static int write_cluster(const kp_image *img, struct writer *w)
{
	for (const struct kp_image_broker *b = kp_image_broker_first(img); b != NULL;
	     b = kp_image_broker_next(img, b))
		if (write_broker(b, w) < 0)
			return -1;
	for (const struct kp_image_controller *c = kp_image_controller_first(img); c != NULL;
	     c = kp_image_controller_next(img, c))
		if (write_controller(c, w) < 0)
			return -1;
	return 0;
}

/* write_partition - PartitionRegistration.toRecord; empty ELR lists are left out (null). */
static int write_partition(const struct kp_image_topic *t, const struct kp_image_partition *p,
			   struct writer *w)
{
	struct kp_partition_record r;

	kp_partition_record_init(&r);
	r.partition_id = p->partition_id;
	r.topic_id = t->id;
	r.replicas = p->replicas.ids;
	r.replicas_count = p->replicas.count;
	r.isr = p->isr.ids;
	r.isr_count = p->isr.count;
	r.removing_replicas = p->removing_replicas.ids;
	r.removing_replicas_count = p->removing_replicas.count;
	r.adding_replicas = p->adding_replicas.ids;
	r.adding_replicas_count = p->adding_replicas.count;
	r.leader = p->leader;
	r.leader_recovery_state = p->leader_recovery_state;
	r.leader_epoch = p->leader_epoch;
	r.partition_epoch = p->partition_epoch;
	r.directories_count = 0;
	r.eligible_leader_replicas = p->elr.ids;
	r.eligible_leader_replicas_count = p->elr.count > 0 ? p->elr.count : -1;
	r.last_known_elr = p->last_known_elr.ids;
	r.last_known_elr_count = p->last_known_elr.count > 0 ? p->last_known_elr.count : -1;
	return emit(w, KP_METADATA_PARTITION_RECORD, &r);
}

/* write_topic - TopicImage.write: the TopicRecord, then the partitions by index. */
static int write_topic(const struct kp_image_topic *t, struct writer *w)
{
	struct kp_topic_record r;

	kp_topic_record_init(&r);
	r.name = t->name;
	r.topic_id = t->id;
	if (emit(w, KP_METADATA_TOPIC_RECORD, &r) < 0)
		return -1;
	for (int32_t i = 0; i < t->partition_slots; i++)
		if (t->partitions[i] != NULL && write_partition(t, t->partitions[i], w) < 0)
			return -1;
	return 0;
}

/* write_topics - TopicsImage.write, topics by name. */
static int write_topics(const kp_image *img, struct writer *w)
{
	const struct kp_image_topic_node **v;
	size_t n;
	int rc = 0;

	if (kp_image_sorted_topics(img, &v, &n) < 0)
		return oom(w);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = write_topic(&v[i]->t, w);
	free(v);
	return rc;
}

/* write_configs - ConfigurationsImage.write: by resource type, resource name, config name. */
static int write_configs(const kp_image *img, struct writer *w)
{
	const struct kp_image_resource **v;
	struct kp_image_config_node *c, *tmp;
	struct kp_config_record r;
	size_t n;
	int rc = 0;

	if (kp_image_sorted_resources(img, &v, &n) < 0)
		return oom(w);
	for (size_t i = 0; i < n && rc == 0; i++) {
		HASH_ITER(hh, v[i]->configs, c, tmp) {
			kp_config_record_init(&r);
			r.resource_type = v[i]->type;
			r.resource_name = v[i]->name;
			r.name = c->c.name;
			r.value = c->c.value;
			if ((rc = emit(w, KP_METADATA_CONFIG_RECORD, &r)) < 0)
				break;
		}
	}
	free(v);
	return rc;
}

/* write_producer_ids - ProducerIdsImage.write: only once a block was handed out. */
static int write_producer_ids(const kp_image *img, struct writer *w)
{
	struct kp_producer_ids_record r;

	if (img->next_producer_id < 0)
		return 0;
	kp_producer_ids_record_init(&r);
	r.broker_id = -1;
	r.broker_epoch = -1;
	r.next_producer_id = img->next_producer_id;
	return emit(w, KP_METADATA_PRODUCER_IDS_RECORD, &r);
}

int kp_image_write_records(const kp_image *img, kp_image_record_fn fn, void *arg, kp_error *err)
{
	struct writer w = { fn, arg, err };

	if (write_features(img, &w) < 0 || write_cluster(img, &w) < 0 ||
	    write_topics(img, &w) < 0 || write_configs(img, &w) < 0 ||
	    write_producer_ids(img, &w) < 0)
		return -1;
	return 0;
}
