/*
 * image_configs.c - configs of the metadata image: Kafka's
 * ConfigurationsImage, one ConfigurationImage per ConfigResource (type,
 * name), changed by ConfigRecord as ConfigurationsDelta replays it, and by
 * RemoveTopicRecord, which deletes the topic's configs.
 */
#include <stdlib.h>
#include <string.h>

#include "metadata/image_internal.h"

static void config_free(struct kp_image_config_node *c)
{
	free(c->c.name);
	free(c->c.value);
	free(c);
}

static void resource_free(struct kp_image_resource *r)
{
	struct kp_image_config_node *c, *tmp;

	HASH_ITER(hh, r->configs, c, tmp) {
		HASH_DEL(r->configs, c);
		config_free(c);
	}
	free(r->name);
	free(r->key);
	free(r);
}

void kp_image_free_configs(kp_image *img)
{
	struct kp_image_resource *r, *tmp;

	HASH_ITER(hh, img->resources, r, tmp) {
		HASH_DEL(img->resources, r);
		resource_free(r);
	}
}

/* resource_key - the hash key of (type, name) in a malloc'd buffer: type byte, name bytes. */
static uint8_t *resource_key(int8_t type, const char *name, size_t *len)
{
	size_t n = strlen(name);
	uint8_t *k = malloc(n + 1);

	if (k == NULL)
		return NULL;
	k[0] = (uint8_t)type;
	memcpy(k + 1, name, n);
	*len = n + 1;
	return k;
}

/*
 * lookup - *out gets resource (type, name) or NULL. The key is built on the
 * stack unless the name is long. Returns 0, or -1 when out of memory.
 */
static int lookup(const kp_image *img, int8_t type, const char *name,
		  struct kp_image_resource **out)
{
	uint8_t stack[256], *key = stack;
	size_t n = strlen(name);

	*out = NULL;
	if (n + 1 > sizeof(stack) && (key = malloc(n + 1)) == NULL)
		return -1;
	key[0] = (uint8_t)type;
	memcpy(key + 1, name, n);
	HASH_FIND(hh, img->resources, key, n + 1, *out);
	if (key != stack)
		free(key);
	return 0;
}

/* find_resource - resource (type, name), or NULL (also when out of memory: for readers). */
static struct kp_image_resource *find_resource(const kp_image *img, int8_t type, const char *name)
{
	struct kp_image_resource *r;

	return lookup(img, type, name, &r) == 0 ? r : NULL;
}

static struct kp_image_config_node *find_config(const struct kp_image_resource *r,
						const char *name)
{
	struct kp_image_config_node *c;

	HASH_FIND_STR(r->configs, name, c);
	return c;
}

const char *kp_image_config_value(const kp_image *img, int8_t resource_type,
				  const char *resource_name, const char *name)
{
	struct kp_image_resource *r = find_resource(img, resource_type, resource_name);
	struct kp_image_config_node *c = r ? find_config(r, name) : NULL;

	return c ? c->c.value : NULL;
}

const struct kp_image_config *kp_image_config_first(const kp_image *img, int8_t resource_type,
						     const char *resource_name)
{
	struct kp_image_resource *r = find_resource(img, resource_type, resource_name);

	return r && r->configs ? &r->configs->c : NULL;
}

const struct kp_image_config *kp_image_config_next(const kp_image *img,
						    const struct kp_image_config *c)
{
	struct kp_image_config_node *next = ((const struct kp_image_config_node *)c)->hh.next;

	return next ? &next->c : NULL;
}

int kp_image_delete_resource(kp_image *img, int8_t type, const char *name)
{
	struct kp_image_resource *r;

	if (lookup(img, type, name, &r) < 0)
		return -1;
	if (r != NULL) {
		HASH_DEL(img->resources, r);
		resource_free(r);
	}
	return 0;
}

static int resource_cmp(const void *a, const void *b)
{
	const struct kp_image_resource *x = *(const struct kp_image_resource *const *)a;
	const struct kp_image_resource *y = *(const struct kp_image_resource *const *)b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return strcmp(x->name, y->name);
}

int kp_image_sorted_resources(const kp_image *img, const struct kp_image_resource ***out, size_t *n)
{
	size_t count = HASH_COUNT(img->resources), i = 0;
	const struct kp_image_resource **v;
	struct kp_image_resource *r, *tmp;

	*out = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	v = malloc(count * sizeof(*v));
	if (v == NULL)
		return -1;
	HASH_ITER(hh, img->resources, r, tmp)
		v[i++] = r;
	qsort(v, count, sizeof(*v), resource_cmp);
	*out = v;
	*n = count;
	return 0;
}

/* ---- ConfigRecord ------------------------------------------------------- */

/* delete_config - ConfigRecord with a null value: drop the config, and the resource if now empty. */
static int delete_config(kp_image *img, const struct kp_config_record *rec, const char *rname)
{
	struct kp_image_config_node *c = NULL;
	struct kp_image_resource *r;

	if (lookup(img, rec->resource_type, rname, &r) < 0)
		return -1;
	if (r != NULL)
		c = find_config(r, rec->name);
	if (c == NULL)
		return 0;
	HASH_DEL(r->configs, c);
	config_free(c);
	if (r->configs == NULL) {
		HASH_DEL(img->resources, r);
		resource_free(r);
	}
	return 0;
}

static struct kp_image_resource *new_resource(int8_t type, const char *name)
{
	struct kp_image_resource *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->type = type;
	r->name = strdup(name);
	r->key = resource_key(type, name, &r->key_len);
	if (r->name == NULL || r->key == NULL) {
		resource_free(r);
		return NULL;
	}
	return r;
}

static int config_cmp(const struct kp_image_config_node *x, const struct kp_image_config_node *y)
{
	return strcmp(x->c.name, y->c.name);
}

/* add_config - a new config `name`=`value` in `r`, kept sorted by name; -1 when out of memory. */
static int add_config(struct kp_image_resource *r, const char *name, const char *value)
{
	struct kp_image_config_node *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->c.name = strdup(name);
	c->c.value = strdup(value);
	if (c->c.name == NULL || c->c.value == NULL)
		goto oom;
	HASH_ADD_KEYPTR(hh, r->configs, c->c.name, strlen(c->c.name), c);
	if (c->hash_oom)
		goto oom;
	HASH_SRT(hh, r->configs, config_cmp);
	return 0;
oom:
	config_free(c);
	return -1;
}

/* set_config - ConfigRecord with a value: set it, making the resource when it has none yet. */
static int set_config(kp_image *img, const struct kp_config_record *rec, const char *rname)
{
	struct kp_image_resource *r, *made = NULL;
	struct kp_image_config_node *c = NULL;
	char *value;

	if (lookup(img, rec->resource_type, rname, &r) < 0)
		return -1;
	if (r != NULL)
		c = find_config(r, rec->name);
	if (c != NULL) {
		if ((value = strdup(rec->value)) == NULL)
			return -1;
		free(c->c.value);
		c->c.value = value;
		return 0;
	}
	if (r == NULL && (r = made = new_resource(rec->resource_type, rname)) == NULL)
		return -1;
	if (add_config(r, rec->name, rec->value) < 0)
		goto oom;
	if (made == NULL)
		return 0;
	HASH_ADD_KEYPTR(hh, img->resources, made->key, made->key_len, made);
	if (!made->hash_oom)
		return 0;
oom:
	if (made != NULL)
		resource_free(made);
	return -1;
}

int kp_image_apply_config(kp_image *img, const struct kp_config_record *rec, kp_error *err)
{
	const char *rname = rec->resource_name ? rec->resource_name : "";

	if (rec->name == NULL || rec->name[0] == '\0')
		return kp_error_set(err, KP_EINVAL, "ConfigRecord for resource %d/%s without a "
				    "config name", rec->resource_type, rname);
	if (rec->value == NULL ? delete_config(img, rec, rname) < 0 : set_config(img, rec, rname) < 0)
		return kp_error_set(err, KP_ENOMEM, "out of memory setting config %s of %d/%s",
				    rec->name, rec->resource_type, rname);
	return 0;
}
