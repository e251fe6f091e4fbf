/*
 * image_features.c - finalized feature levels of the metadata image:
 * Kafka's FeaturesImage, changed by FeatureLevelRecord as FeaturesDelta
 * replays it. The metadata.version level is kept like any other feature.
 */
#include <stdlib.h>
#include <string.h>

#include "metadata/image_internal.h"

static void feature_free(struct kp_image_feature *f)
{
	free(f->name);
	free(f);
}

void kp_image_free_features(kp_image *img)
{
	struct kp_image_feature *f, *tmp;

	HASH_ITER(hh, img->features, f, tmp) {
		HASH_DEL(img->features, f);
		feature_free(f);
	}
}

int16_t kp_image_feature_level(const kp_image *img, const char *name)
{
	struct kp_image_feature *f;

	HASH_FIND_STR(img->features, name, f);
	return f ? f->level : 0;
}

static int feature_cmp(const struct kp_image_feature *x, const struct kp_image_feature *y)
{
	return strcmp(x->name, y->name);
}

int kp_image_apply_feature_level(kp_image *img, const struct kp_feature_level_record *r,
				 kp_error *err)
{
	struct kp_image_feature *f;

	if (r->name == NULL || r->name[0] == '\0')
		return kp_error_set(err, KP_EINVAL, "FeatureLevelRecord without a feature name");
	HASH_FIND_STR(img->features, r->name, f);
	if (r->feature_level == 0) {
		/* FeaturesDelta.replay: level 0 removes the feature */
		if (f != NULL) {
			HASH_DEL(img->features, f);
			feature_free(f);
		}
		return 0;
	}
	if (f != NULL) {
		f->level = r->feature_level;
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->name = strdup(r->name)) == NULL)
		goto oom;
	f->level = r->feature_level;
	HASH_ADD_KEYPTR(hh, img->features, f->name, strlen(f->name), f);
	if (f->hash_oom)
		goto oom;
	HASH_SRT(hh, img->features, feature_cmp);
	return 0;
oom:
	if (f != NULL)
		feature_free(f);
	return kp_error_set(err, KP_ENOMEM, "out of memory setting feature %s", r->name);
}
