/*
 * image_topics.c - topics and partitions of the metadata image: Kafka's
 * TopicsImage / TopicImage / PartitionRegistration, changed by TopicRecord,
 * PartitionRecord, PartitionChangeRecord and RemoveTopicRecord as
 * TopicsDelta and TopicDelta replay them.
 */
#include <stdlib.h>
#include <string.h>

#include "metadata/image_internal.h"

int kp_image_ids_copy(struct kp_image_ids *dst, const int32_t *ids, int32_t count)
{
	dst->ids = NULL;
	dst->count = 0;
	if (count <= 0)
		return 0;
	dst->ids = malloc((size_t)count * sizeof(*ids));
	if (dst->ids == NULL)
		return -1;
	memcpy(dst->ids, ids, (size_t)count * sizeof(*ids));
	dst->count = count;
	return 0;
}

bool kp_image_ids_contain(const struct kp_image_ids *ids, int32_t id)
{
	for (int32_t i = 0; i < ids->count; i++)
		if (ids->ids[i] == id)
			return true;
	return false;
}

void kp_image_partition_free(struct kp_image_partition *p)
{
	if (p == NULL)
		return;
	free(p->replicas.ids);
	free(p->isr.ids);
	free(p->removing_replicas.ids);
	free(p->adding_replicas.ids);
	free(p->elr.ids);
	free(p->last_known_elr.ids);
	free(p);
}

/* free_partitions - drop every partition of `t`. */
static void free_partitions(struct kp_image_topic *t)
{
	for (int32_t i = 0; i < t->partition_slots; i++)
		kp_image_partition_free(t->partitions[i]);
	free(t->partitions);
	t->partitions = NULL;
	t->partition_slots = 0;
	t->partition_count = 0;
}

static void topic_free(struct kp_image_topic_node *n)
{
	free_partitions(&n->t);
	free(n->t.name);
	free(n);
}

void kp_image_free_topics(kp_image *img)
{
	struct kp_image_topic_node *n, *tmp;

	HASH_CLEAR(hh_name, img->topics_by_name);
	HASH_ITER(hh_id, img->topics_by_id, n, tmp) {
		HASH_DELETE(hh_id, img->topics_by_id, n);
		topic_free(n);
	}
}

static struct kp_image_topic_node *find_id(const kp_image *img, const kp_uuid *id)
{
	struct kp_image_topic_node *n;

	HASH_FIND(hh_id, img->topics_by_id, id, sizeof(*id), n);
	return n;
}

static struct kp_image_topic_node *find_name(const kp_image *img, const char *name)
{
	struct kp_image_topic_node *n;

	HASH_FIND(hh_name, img->topics_by_name, name, strlen(name), n);
	return n;
}

const struct kp_image_topic *kp_image_topic_by_name(const kp_image *img, const char *name)
{
	struct kp_image_topic_node *n = find_name(img, name);

	return n ? &n->t : NULL;
}

const struct kp_image_topic *kp_image_topic_by_id(const kp_image *img, const kp_uuid *id)
{
	struct kp_image_topic_node *n = find_id(img, id);

	return n ? &n->t : NULL;
}

size_t kp_image_topic_count(const kp_image *img)
{
	return HASH_CNT(hh_id, img->topics_by_id);
}

const struct kp_image_topic *kp_image_topic_first(const kp_image *img)
{
	return img->topics_by_id ? &img->topics_by_id->t : NULL;
}

const struct kp_image_topic *kp_image_topic_next(const kp_image *img,
						 const struct kp_image_topic *t)
{
	const struct kp_image_topic_node *n = (const struct kp_image_topic_node *)t;
	struct kp_image_topic_node *next = n->hh_id.next;

	return next ? &next->t : NULL;
}

const struct kp_image_partition *kp_image_topic_partition(const struct kp_image_topic *t,
							   int32_t index)
{
	if (index < 0 || index >= t->partition_slots)
		return NULL;
	return t->partitions[index];
}

const struct kp_image_partition *kp_image_partition(const kp_image *img, const kp_uuid *topic_id,
						    int32_t index)
{
	const struct kp_image_topic *t = kp_image_topic_by_id(img, topic_id);

	return t ? kp_image_topic_partition(t, index) : NULL;
}

static int by_name(const void *a, const void *b)
{
	const struct kp_image_topic_node *x = *(const struct kp_image_topic_node *const *)a;
	const struct kp_image_topic_node *y = *(const struct kp_image_topic_node *const *)b;

	return strcmp(x->t.name, y->t.name);
}

int kp_image_sorted_topics(const kp_image *img, const struct kp_image_topic_node ***out, size_t *n)
{
	size_t count = HASH_CNT(hh_id, img->topics_by_id), i = 0;
	const struct kp_image_topic_node **v;
	struct kp_image_topic_node *t, *tmp;

	*out = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	v = malloc(count * sizeof(*v));
	if (v == NULL)
		return -1;
	HASH_ITER(hh_id, img->topics_by_id, t, tmp)
		v[i++] = t;
	qsort(v, count, sizeof(*v), by_name);
	*out = v;
	*n = count;
	return 0;
}

/* ---- TopicRecord, RemoveTopicRecord ------------------------------------ */

/* new_topic - add topic `name` with id `id` and no partitions. */
static int new_topic(kp_image *img, const char *name, const kp_uuid *id, kp_error *err)
{
	struct kp_image_topic_node *n = calloc(1, sizeof(*n));

	if (n == NULL || (n->t.name = strdup(name)) == NULL)
		goto oom;
	n->t.id = *id;
	HASH_ADD(hh_id, img->topics_by_id, t.id, sizeof(n->t.id), n);
	if (n->hash_oom)
		goto oom;
	HASH_ADD_KEYPTR(hh_name, img->topics_by_name, n->t.name, strlen(n->t.name), n);
	if (n->hash_oom) {
		HASH_DELETE(hh_id, img->topics_by_id, n);
		goto oom;
	}
	return 0;
oom:
	if (n != NULL)
		topic_free(n);
	return kp_error_set(err, KP_ENOMEM, "out of memory adding topic %s", name);
}

int kp_image_apply_topic(kp_image *img, const struct kp_topic_record *r, kp_error *err)
{
	struct kp_image_topic_node *same_id, *same_name;
	char id[23];

	if (r->name == NULL || r->name[0] == '\0')
		return kp_error_set(err, KP_EINVAL, "TopicRecord without a topic name");
	kp_image_uuid_format(&r->topic_id, id);
	same_id = find_id(img, &r->topic_id);
	same_name = find_name(img, r->name);
	if (same_name != NULL && same_name != same_id)
		return kp_error_set(err, KP_EINVAL, "TopicRecord: topic %s already exists with "
				    "another id than %s", r->name, id);
	if (same_id != NULL && same_name == NULL)
		return kp_error_set(err, KP_EINVAL, "TopicRecord: topic id %s is topic %s, not %s",
				    id, same_id->t.name, r->name);
	if (same_id != NULL) {
		/* TopicsDelta.replay(TopicRecord): a new TopicImage, no partitions */
		free_partitions(&same_id->t);
		return 0;
	}
	return new_topic(img, r->name, &r->topic_id, err);
}

int kp_image_apply_remove_topic(kp_image *img, const struct kp_remove_topic_record *r,
				kp_error *err)
{
	struct kp_image_topic_node *n = find_id(img, &r->topic_id);
	char id[23];

	if (n == NULL) {
		kp_image_uuid_format(&r->topic_id, id);
		return kp_error_set(err, KP_EINVAL, "unable to delete topic with id %s: no such "
				    "topic found", id);
	}
	/* MetadataDelta.replay(RemoveTopicRecord): the topic's configs go too */
	if (kp_image_delete_resource(img, KP_CONFIG_RESOURCE_TOPIC, n->t.name) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory deleting topic %s", n->t.name);
	HASH_DELETE(hh_id, img->topics_by_id, n);
	HASH_DELETE(hh_name, img->topics_by_name, n);
	topic_free(n);
	return 0;
}

/* ---- PartitionRecord, PartitionChangeRecord ---------------------------- */

/* partition_from_record - a new partition as PartitionRegistration(PartitionRecord) makes it. */
static struct kp_image_partition *partition_from_record(const struct kp_partition_record *r)
{
	struct kp_image_partition *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->partition_id = r->partition_id;
	p->leader = r->leader;
	p->leader_recovery_state = r->leader_recovery_state;
	p->leader_epoch = r->leader_epoch;
	p->partition_epoch = r->partition_epoch;
	if (kp_image_ids_copy(&p->replicas, r->replicas, r->replicas_count) < 0 ||
	    kp_image_ids_copy(&p->isr, r->isr, r->isr_count) < 0 ||
	    kp_image_ids_copy(&p->removing_replicas, r->removing_replicas,
			      r->removing_replicas_count) < 0 ||
	    kp_image_ids_copy(&p->adding_replicas, r->adding_replicas, r->adding_replicas_count) < 0 ||
	    kp_image_ids_copy(&p->elr, r->eligible_leader_replicas,
			      r->eligible_leader_replicas_count) < 0 ||
	    kp_image_ids_copy(&p->last_known_elr, r->last_known_elr, r->last_known_elr_count) < 0) {
		kp_image_partition_free(p);
		return NULL;
	}
	return p;
}

/* grow_slots - make t->partitions hold index `index`. */
static int grow_slots(struct kp_image_topic *t, int32_t index)
{
	struct kp_image_partition **v;

	if (index < t->partition_slots)
		return 0;
	v = realloc(t->partitions, ((size_t)index + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	memset(v + t->partition_slots, 0, ((size_t)index + 1 - (size_t)t->partition_slots) * sizeof(*v));
	t->partitions = v;
	t->partition_slots = index + 1;
	return 0;
}

/* topic_for - the topic a partition record names, or NULL with KP_EINVAL. */
static struct kp_image_topic_node *topic_for(kp_image *img, const char *what, const kp_uuid *id,
					     int32_t partition_id, kp_error *err)
{
	struct kp_image_topic_node *n = find_id(img, id);
	char text[23];

	if (n == NULL) {
		kp_image_uuid_format(id, text);
		kp_error_set(err, KP_EINVAL, "%s for partition %d of unknown topic id %s", what,
			     partition_id, text);
	}
	return n;
}

int kp_image_apply_partition(kp_image *img, const struct kp_partition_record *r, kp_error *err)
{
	struct kp_image_topic_node *n = topic_for(img, "PartitionRecord", &r->topic_id,
						   r->partition_id, err);
	struct kp_image_partition *p;

	if (n == NULL)
		return -1;
	if (r->partition_id < 0 || r->partition_id > KP_IMAGE_MAX_PARTITION)
		return kp_error_set(err, KP_EINVAL, "PartitionRecord for %s: partition id %d out of "
				    "range", n->t.name, r->partition_id);
	if (r->leader_recovery_state != KP_IMAGE_LEADER_RECOVERED &&
	    r->leader_recovery_state != KP_IMAGE_LEADER_RECOVERING)
		return kp_error_set(err, KP_EINVAL, "PartitionRecord for %s-%d: invalid leader "
				    "recovery state %d", n->t.name, r->partition_id,
				    r->leader_recovery_state);
	p = partition_from_record(r);
	if (p == NULL || grow_slots(&n->t, r->partition_id) < 0) {
		kp_image_partition_free(p);
		return kp_error_set(err, KP_ENOMEM, "out of memory adding partition %s-%d",
				    n->t.name, r->partition_id);
	}
	if (n->t.partitions[r->partition_id] == NULL)
		n->t.partition_count++;
	kp_image_partition_free(n->t.partitions[r->partition_id]);
	n->t.partitions[r->partition_id] = p;
	return 0;
}

/* merge_ids - `dst` gets the record's list when it sets one (count >= 0), else a copy of `old`. */
static int merge_ids(struct kp_image_ids *dst, const struct kp_image_ids *old,
		     const int32_t *ids, int32_t count)
{
	if (count >= 0)
		return kp_image_ids_copy(dst, ids, count);
	return kp_image_ids_copy(dst, old->ids, old->count);
}

/* partition_merge - PartitionRegistration.merge(PartitionChangeRecord) into a new partition. */
static struct kp_image_partition *partition_merge(const struct kp_image_partition *old,
						  const struct kp_partition_change_record *r)
{
	struct kp_image_partition *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->partition_id = old->partition_id;
	p->leader = old->leader;
	p->leader_recovery_state = old->leader_recovery_state;
	p->leader_epoch = old->leader_epoch;
	if (merge_ids(&p->replicas, &old->replicas, r->replicas, r->replicas_count) < 0 ||
	    merge_ids(&p->isr, &old->isr, r->isr, r->isr_count) < 0 ||
	    merge_ids(&p->removing_replicas, &old->removing_replicas, r->removing_replicas,
		      r->removing_replicas_count) < 0 ||
	    merge_ids(&p->adding_replicas, &old->adding_replicas, r->adding_replicas,
		      r->adding_replicas_count) < 0 ||
	    merge_ids(&p->elr, &old->elr, r->eligible_leader_replicas,
		      r->eligible_leader_replicas_count) < 0 ||
	    merge_ids(&p->last_known_elr, &old->last_known_elr, r->last_known_elr,
		      r->last_known_elr_count) < 0) {
		kp_image_partition_free(p);
		return NULL;
	}
	if (r->leader != KP_IMAGE_NO_LEADER_CHANGE) {
		p->leader = r->leader;
		p->leader_epoch = old->leader_epoch + 1;
	}
	if (r->leader_recovery_state != KP_IMAGE_LEADER_RECOVERY_NO_CHANGE)
		p->leader_recovery_state = r->leader_recovery_state;
	p->partition_epoch = old->partition_epoch + 1;
	return p;
}

int kp_image_apply_partition_change(kp_image *img, const struct kp_partition_change_record *r,
				    kp_error *err)
{
	struct kp_image_topic_node *n = topic_for(img, "PartitionChangeRecord", &r->topic_id,
						   r->partition_id, err);
	const struct kp_image_partition *old;
	struct kp_image_partition *p;

	if (n == NULL)
		return -1;
	old = kp_image_topic_partition(&n->t, r->partition_id);
	if (old == NULL)
		return kp_error_set(err, KP_EINVAL, "PartitionChangeRecord: unable to find "
				    "partition %s-%d", n->t.name, r->partition_id);
	if (r->leader_recovery_state != KP_IMAGE_LEADER_RECOVERY_NO_CHANGE &&
	    r->leader_recovery_state != KP_IMAGE_LEADER_RECOVERED &&
	    r->leader_recovery_state != KP_IMAGE_LEADER_RECOVERING)
		return kp_error_set(err, KP_EINVAL, "PartitionChangeRecord for %s-%d: invalid "
				    "leader recovery state %d", n->t.name, r->partition_id,
				    r->leader_recovery_state);
	p = partition_merge(old, r);
	if (p == NULL)
		return kp_error_set(err, KP_ENOMEM, "out of memory changing partition %s-%d",
				    n->t.name, r->partition_id);
	kp_image_partition_free(n->t.partitions[r->partition_id]);
	n->t.partitions[r->partition_id] = p;
	return 0;
}
