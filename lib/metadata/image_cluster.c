/*
 * image_cluster.c - brokers and controllers of the metadata image: Kafka's
 * ClusterImage (BrokerRegistration, ControllerRegistration), changed by
 * RegisterBrokerRecord, UnregisterBrokerRecord, FenceBrokerRecord,
 * UnfenceBrokerRecord, BrokerRegistrationChangeRecord and
 * RegisterControllerRecord as ClusterDelta replays them.
 */
#include <stdlib.h>
#include <string.h>

#include "metadata/image_internal.h"

/* BrokerRegistrationFencingChange and BrokerRegistrationInControlledShutdownChange values. */
#define FENCING_FENCE 1
#define FENCING_NONE 0
#define FENCING_UNFENCE (-1)
#define SHUTDOWN_NONE 0
#define SHUTDOWN_IN_CONTROLLED_SHUTDOWN 1

static const char *str(const char *s)
{
	return s ? s : "";
}

/* ---- endpoints and feature ranges -------------------------------------- */

/* An element being sorted: its name and its position in the record. */
struct named {
	const char *name;
	int32_t pos;
};

static int by_name_then_pos(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * unique_order - the positions of names[0..n) sorted by name, keeping of
 * equal names only the last one (a Java HashMap filled in record order):
 * a malloc'd array in *out, its length in *kept. -1 when out of memory.
 */
static int unique_order(const char *const *names, int32_t n, int32_t **out, int32_t *kept)
{
	struct named *v = n > 0 ? malloc((size_t)n * sizeof(*v)) : NULL;
	int32_t *pos = n > 0 ? malloc((size_t)n * sizeof(*pos)) : NULL;

	*out = NULL;
	*kept = 0;
	if (n > 0 && (v == NULL || pos == NULL)) {
		free(v);
		free(pos);
		return -1;
	}
	for (int32_t i = 0; i < n; i++)
		v[i] = (struct named){ str(names[i]), i };
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), by_name_then_pos);
	for (int32_t i = 0; i < n; i++)
		if (i + 1 == n || strcmp(v[i].name, v[i + 1].name) != 0)
			pos[(*kept)++] = v[i].pos;
	free(v);
	*out = pos;
	return 0;
}

static void endpoints_free(struct kp_image_endpoint *e, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].host);
	}
	free(e);
}

static void features_free(struct kp_image_feature_range *f, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		free(f[i].name);
	free(f);
}

/*
 * endpoints_copy - *out gets copies of src[0..n) (whose strings are
 * borrowed) sorted by name, names unique (the last wins); *out_n their
 * number. -1 when out of memory, nothing allocated then.
 */
static int endpoints_copy(const struct kp_image_endpoint *src, int32_t n,
			  struct kp_image_endpoint **out, int32_t *out_n)
{
	const char **names = n > 0 ? malloc((size_t)n * sizeof(*names)) : NULL;
	struct kp_image_endpoint *e = NULL;
	int32_t *pos = NULL, kept = 0, i;

	*out = NULL;
	*out_n = 0;
	if (n > 0 && names == NULL)
		return -1;
	for (i = 0; i < n; i++)
		names[i] = src[i].name;
	if (unique_order(names, n, &pos, &kept) < 0 ||
	    (kept > 0 && (e = calloc((size_t)kept, sizeof(*e))) == NULL))
		goto oom;
	for (i = 0; i < kept; i++) {
		e[i].port = src[pos[i]].port;
		e[i].security_protocol = src[pos[i]].security_protocol;
		e[i].name = strdup(str(src[pos[i]].name));
		e[i].host = strdup(str(src[pos[i]].host));
		if (e[i].name == NULL || e[i].host == NULL)
			goto oom;
	}
	*out = e;
	*out_n = kept;
	free(names);
	free(pos);
	return 0;
oom:
	if (e != NULL)
		endpoints_free(e, i < kept ? i + 1 : kept);
	free(names);
	free(pos);
	return -1;
}

/* features_copy - as endpoints_copy, for feature ranges. */
static int features_copy(const struct kp_image_feature_range *src, int32_t n,
			 struct kp_image_feature_range **out, int32_t *out_n)
{
	const char **names = n > 0 ? malloc((size_t)n * sizeof(*names)) : NULL;
	struct kp_image_feature_range *f = NULL;
	int32_t *pos = NULL, kept = 0, i;

	*out = NULL;
	*out_n = 0;
	if (n > 0 && names == NULL)
		return -1;
	for (i = 0; i < n; i++)
		names[i] = src[i].name;
	if (unique_order(names, n, &pos, &kept) < 0 ||
	    (kept > 0 && (f = calloc((size_t)kept, sizeof(*f))) == NULL))
		goto oom;
	for (i = 0; i < kept; i++) {
		f[i].min_version = src[pos[i]].min_version;
		f[i].max_version = src[pos[i]].max_version;
		if ((f[i].name = strdup(str(src[pos[i]].name))) == NULL)
			goto oom;
	}
	*out = f;
	*out_n = kept;
	free(names);
	free(pos);
	return 0;
oom:
	if (f != NULL)
		features_free(f, i < kept ? i + 1 : kept);
	free(names);
	free(pos);
	return -1;
}

/*
 * listeners_copy - endpoints and feature ranges of a registration from
 * borrowed views ev[0..ne) and fv[0..nf) into (*e, *en) and (*f, *fn). -1 when
 * out of memory, nothing allocated then.
 */
static int listeners_copy(const struct kp_image_endpoint *ev, int32_t ne,
			  const struct kp_image_feature_range *fv, int32_t nf,
			  struct kp_image_endpoint **e, int32_t *en,
			  struct kp_image_feature_range **f, int32_t *fn)
{
	if (endpoints_copy(ev, ne, e, en) < 0)
		return -1;
	if (features_copy(fv, nf, f, fn) < 0) {
		endpoints_free(*e, *en);
		*e = NULL;
		*en = 0;
		return -1;
	}
	return 0;
}

/*
 * RECORD_LISTENERS - define `static int fn(const struct kp_register_KIND_record
 * *r, struct kp_image_KIND *d)`: d's endpoints and feature ranges, copied
 * (listeners_copy) from the registration record `r` of a broker or
 * controller (KIND). The two records' endpoint and feature types differ
 * but have the same fields. Returns 0, or -1 when out of memory, nothing
 * allocated then.
 */
#define RECORD_LISTENERS(fn, KIND)                                                          \
	static int fn(const struct kp_register_##KIND##_record *r, struct kp_image_##KIND *d) \
	{                                                                                   \
		int32_t ne = r->end_points_count > 0 ? r->end_points_count : 0;             \
		int32_t nf = r->features_count > 0 ? r->features_count : 0;                 \
		struct kp_image_endpoint *ev = calloc((size_t)ne + 1, sizeof(*ev));         \
		struct kp_image_feature_range *fv = calloc((size_t)nf + 1, sizeof(*fv));    \
		int rc = -1;                                                                \
                                                                                            \
		if (ev == NULL || fv == NULL)                                               \
			goto out;                                                           \
		for (int32_t i = 0; i < ne; i++)                                            \
			ev[i] = (struct kp_image_endpoint){ r->end_points[i].name,          \
				r->end_points[i].host, r->end_points[i].port,               \
				r->end_points[i].security_protocol };                       \
		for (int32_t i = 0; i < nf; i++)                                            \
			fv[i] = (struct kp_image_feature_range){ r->features[i].name,       \
				r->features[i].min_supported_version,                       \
				r->features[i].max_supported_version };                     \
		rc = listeners_copy(ev, ne, fv, nf, &d->endpoints, &d->endpoint_count,      \
				    &d->features, &d->feature_count);                       \
	out:                                                                                \
		free(ev);                                                                   \
		free(fv);                                                                   \
		return rc;                                                                  \
	}

RECORD_LISTENERS(broker_listeners, broker)
RECORD_LISTENERS(controller_listeners, controller)

/* ---- brokers ------------------------------------------------------------ */

/* broker_clear - free what `b` holds (not `b`). */
static void broker_clear(struct kp_image_broker *b)
{
	endpoints_free(b->endpoints, b->endpoint_count);
	features_free(b->features, b->feature_count);
	free(b->rack);
}

static void controller_clear(struct kp_image_controller *c)
{
	endpoints_free(c->endpoints, c->endpoint_count);
	features_free(c->features, c->feature_count);
}

void kp_image_free_cluster(kp_image *img)
{
	struct kp_image_broker_node *b, *btmp;
	struct kp_image_controller_node *c, *ctmp;

	HASH_ITER(hh, img->brokers, b, btmp) {
		HASH_DEL(img->brokers, b);
		broker_clear(&b->b);
		free(b);
	}
	HASH_ITER(hh, img->controllers, c, ctmp) {
		HASH_DEL(img->controllers, c);
		controller_clear(&c->c);
		free(c);
	}
}

static struct kp_image_broker_node *find_broker(const kp_image *img, int32_t id)
{
	struct kp_image_broker_node *n;

	HASH_FIND(hh, img->brokers, &id, sizeof(id), n);
	return n;
}

const struct kp_image_broker *kp_image_broker(const kp_image *img, int32_t id)
{
	struct kp_image_broker_node *n = find_broker(img, id);

	return n ? &n->b : NULL;
}

const struct kp_image_broker *kp_image_broker_first(const kp_image *img)
{
	return img->brokers ? &img->brokers->b : NULL;
}

const struct kp_image_broker *kp_image_broker_next(const kp_image *img,
						   const struct kp_image_broker *b)
{
	struct kp_image_broker_node *next = ((const struct kp_image_broker_node *)b)->hh.next;

	return next ? &next->b : NULL;
}

size_t kp_image_broker_count(const kp_image *img)
{
	return HASH_COUNT(img->brokers);
}

const struct kp_image_endpoint *kp_image_broker_endpoint(const struct kp_image_broker *b,
							 const char *listener)
{
	for (int32_t i = 0; i < b->endpoint_count; i++)
		if (strcmp(b->endpoints[i].name, listener) == 0)
			return &b->endpoints[i];
	return NULL;
}

static int broker_cmp(const struct kp_image_broker_node *x, const struct kp_image_broker_node *y)
{
	return (x->b.id > y->b.id) - (x->b.id < y->b.id);
}

/* broker_from_record - a registration as BrokerRegistration.fromRecord makes it. */
static int broker_from_record(const struct kp_register_broker_record *r, struct kp_image_broker *b)
{
	memset(b, 0, sizeof(*b));
	b->id = r->broker_id;
	b->epoch = r->broker_epoch;
	b->incarnation_id = r->incarnation_id;
	b->fenced = r->fenced;
	b->in_controlled_shutdown = r->in_controlled_shutdown;
	if (r->rack != NULL && (b->rack = strdup(r->rack)) == NULL)
		return -1;
	if (broker_listeners(r, b) < 0) {
		free(b->rack);
		return -1;
	}
	return 0;
}

int kp_image_apply_register_broker(kp_image *img, const struct kp_register_broker_record *r,
				   kp_error *err)
{
	struct kp_image_broker_node *n = find_broker(img, r->broker_id);
	struct kp_image_broker b;

	if (broker_from_record(r, &b) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory registering broker %d",
				    r->broker_id);
	if (n != NULL) {
		broker_clear(&n->b);
		n->b = b;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		goto oom;
	n->b = b;
	HASH_ADD(hh, img->brokers, b.id, sizeof(n->b.id), n);
	if (n->hash_oom)
		goto oom;
	HASH_SRT(hh, img->brokers, broker_cmp);
	return 0;
oom:
	free(n);
	broker_clear(&b);
	return kp_error_set(err, KP_ENOMEM, "out of memory registering broker %d", r->broker_id);
}

int kp_image_apply_unregister_broker(kp_image *img, const struct kp_unregister_broker_record *r,
				     kp_error *err)
{
	struct kp_image_broker_node *n = find_broker(img, r->broker_id);

	/* ClusterDelta.replay(UnregisterBrokerRecord): no check of the epoch, nor of existence */
	if (n == NULL)
		return 0;
	HASH_DEL(img->brokers, n);
	broker_clear(&n->b);
	free(n);
	return 0;
}

/* broker_at_epoch - ClusterDelta.getBrokerOrThrow: the broker `id` if registered at `epoch`. */
static struct kp_image_broker_node *broker_at_epoch(kp_image *img, int32_t id, int64_t epoch,
						    const char *action, kp_error *err)
{
	struct kp_image_broker_node *n = find_broker(img, id);

	if (n == NULL) {
		kp_error_set(err, KP_EINVAL, "tried to %s broker %d, but that broker was not "
			     "registered", action, id);
		return NULL;
	}
	if (n->b.epoch != epoch) {
		kp_error_set(err, KP_EINVAL, "tried to %s broker %d, but the given epoch, %lld, did "
			     "not match the current broker epoch, %lld", action, id,
			     (long long)epoch, (long long)n->b.epoch);
		return NULL;
	}
	return n;
}

int kp_image_apply_fence(kp_image *img, int32_t id, int64_t epoch, bool fence, kp_error *err)
{
	struct kp_image_broker_node *n = broker_at_epoch(img, id, epoch,
							 fence ? "fence" : "unfence", err);

	if (n == NULL)
		return -1;
	n->b.fenced = fence;
	return 0;
}

int kp_image_apply_broker_change(kp_image *img,
				 const struct kp_broker_registration_change_record *r, kp_error *err)
{
	struct kp_image_broker_node *n = broker_at_epoch(img, r->broker_id, r->broker_epoch,
							 "change", err);

	if (n == NULL)
		return -1;
	if (r->fenced != FENCING_FENCE && r->fenced != FENCING_NONE && r->fenced != FENCING_UNFENCE)
		return kp_error_set(err, KP_EINVAL, "BrokerRegistrationChangeRecord for broker %d: "
				    "unknown value for fenced field: %d", r->broker_id, r->fenced);
	if (r->in_controlled_shutdown != SHUTDOWN_NONE &&
	    r->in_controlled_shutdown != SHUTDOWN_IN_CONTROLLED_SHUTDOWN)
		return kp_error_set(err, KP_EINVAL, "BrokerRegistrationChangeRecord for broker %d: "
				    "unknown value for inControlledShutdown field: %d",
				    r->broker_id, r->in_controlled_shutdown);
	if (r->fenced != FENCING_NONE)
		n->b.fenced = r->fenced == FENCING_FENCE;
	if (r->in_controlled_shutdown == SHUTDOWN_IN_CONTROLLED_SHUTDOWN)
		n->b.in_controlled_shutdown = true;
	return 0;
}

/* ---- controllers -------------------------------------------------------- */

static struct kp_image_controller_node *find_controller(const kp_image *img, int32_t id)
{
	struct kp_image_controller_node *n;

	HASH_FIND(hh, img->controllers, &id, sizeof(id), n);
	return n;
}

const struct kp_image_controller *kp_image_controller(const kp_image *img, int32_t id)
{
	struct kp_image_controller_node *n = find_controller(img, id);

	return n ? &n->c : NULL;
}

const struct kp_image_controller *kp_image_controller_first(const kp_image *img)
{
	return img->controllers ? &img->controllers->c : NULL;
}

const struct kp_image_controller *kp_image_controller_next(const kp_image *img,
							   const struct kp_image_controller *c)
{
	struct kp_image_controller_node *next = ((const struct kp_image_controller_node *)c)->hh.next;

	return next ? &next->c : NULL;
}

static int controller_cmp(const struct kp_image_controller_node *x,
			  const struct kp_image_controller_node *y)
{
	return (x->c.id > y->c.id) - (x->c.id < y->c.id);
}

int kp_image_apply_register_controller(kp_image *img,
				       const struct kp_register_controller_record *r, kp_error *err)
{
	struct kp_image_controller_node *n = find_controller(img, r->controller_id);
	struct kp_image_controller c = { .id = r->controller_id, .incarnation_id = r->incarnation_id };

	if (controller_listeners(r, &c) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory registering controller %d",
				    r->controller_id);
	if (n != NULL) {
		controller_clear(&n->c);
		n->c = c;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		goto oom;
	n->c = c;
	HASH_ADD(hh, img->controllers, c.id, sizeof(n->c.id), n);
	if (n->hash_oom)
		goto oom;
	HASH_SRT(hh, img->controllers, controller_cmp);
	return 0;
oom:
	free(n);
	controller_clear(&c);
	return kp_error_set(err, KP_ENOMEM, "out of memory registering controller %d",
			    r->controller_id);
}
