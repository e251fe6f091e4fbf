/*
 * image_dump.c - the canonical text of a metadata image (kp_image_dump),
 * and Kafka's text form of a Uuid.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "metadata/image_internal.h"

void kp_image_uuid_format(const kp_uuid *u, char out[23])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0, o = 0;

	for (int i = 0; i < 16; i++) {
		acc = acc << 8 | u->b[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64[(acc >> bits) & 63];
		}
	}
	out[o++] = b64[(acc << (6 - bits)) & 63]; /* 128 = 21 * 6 + 2 bits */
	out[o] = '\0';
}

/* appendf - printf to the end of `out` (sets out->oom on failure). */
__attribute__((format(printf, 2, 3)))
static void appendf(kp_buf *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !kp_buf_reserve(out, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf((char *)out->data + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
}

/* put_str - `s` in double quotes with C escapes; `none` for NULL. */
static void put_str(kp_buf *out, const char *s)
{
	if (s == NULL) {
		appendf(out, "none");
		return;
	}
	kp_buf_append(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			appendf(out, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			appendf(out, "\\x%02x", *p);
		else
			kp_buf_append(out, p, 1);
	}
	kp_buf_append(out, "\"", 1);
}

static void put_uuid(kp_buf *out, const kp_uuid *u)
{
	char text[23];

	kp_image_uuid_format(u, text);
	appendf(out, "%s", text);
}

static void put_ids(kp_buf *out, const char *name, const struct kp_image_ids *ids)
{
	appendf(out, " %s=[", name);
	for (int32_t i = 0; i < ids->count; i++)
		appendf(out, i ? ",%d" : "%d", ids->ids[i]);
	appendf(out, "]");
}

static void dump_listeners(kp_buf *out, const struct kp_image_endpoint *e, int32_t ne,
			   const struct kp_image_feature_range *f, int32_t nf)
{
	for (int32_t i = 0; i < ne; i++) {
		appendf(out, "  endpoint ");
		put_str(out, e[i].name);
		appendf(out, " host=");
		put_str(out, e[i].host);
		appendf(out, " port=%u security_protocol=%d\n", e[i].port, e[i].security_protocol);
	}
	for (int32_t i = 0; i < nf; i++) {
		appendf(out, "  supported_feature ");
		put_str(out, f[i].name);
		appendf(out, " %d-%d\n", f[i].min_version, f[i].max_version);
	}
}

static void dump_cluster(const kp_image *img, kp_buf *out)
{
	for (const struct kp_image_broker *b = kp_image_broker_first(img); b != NULL;
	     b = kp_image_broker_next(img, b)) {
		appendf(out, "broker %d epoch=%lld incarnation_id=", b->id, (long long)b->epoch);
		put_uuid(out, &b->incarnation_id);
		appendf(out, " fenced=%d in_controlled_shutdown=%d rack=", b->fenced,
			b->in_controlled_shutdown);
		put_str(out, b->rack);
		appendf(out, "\n");
		dump_listeners(out, b->endpoints, b->endpoint_count, b->features, b->feature_count);
	}
	for (const struct kp_image_controller *c = kp_image_controller_first(img); c != NULL;
	     c = kp_image_controller_next(img, c)) {
		appendf(out, "controller %d incarnation_id=", c->id);
		put_uuid(out, &c->incarnation_id);
		appendf(out, "\n");
		dump_listeners(out, c->endpoints, c->endpoint_count, c->features, c->feature_count);
	}
}

static void dump_partition(kp_buf *out, const struct kp_image_partition *p)
{
	appendf(out, "  partition %d leader=%d leader_epoch=%d partition_epoch=%d "
		"leader_recovery_state=%d", p->partition_id, p->leader, p->leader_epoch,
		p->partition_epoch, p->leader_recovery_state);
	put_ids(out, "replicas", &p->replicas);
	put_ids(out, "isr", &p->isr);
	put_ids(out, "removing_replicas", &p->removing_replicas);
	put_ids(out, "adding_replicas", &p->adding_replicas);
	put_ids(out, "elr", &p->elr);
	put_ids(out, "last_known_elr", &p->last_known_elr);
	appendf(out, "\n");
}

static int dump_topics(const kp_image *img, kp_buf *out)
{
	const struct kp_image_topic_node **v;
	size_t n;

	if (kp_image_sorted_topics(img, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct kp_image_topic *t = &v[i]->t;

		appendf(out, "topic ");
		put_str(out, t->name);
		appendf(out, " id=");
		put_uuid(out, &t->id);
		appendf(out, " partitions=%d\n", t->partition_count);
		for (int32_t j = 0; j < t->partition_slots; j++)
			if (t->partitions[j] != NULL)
				dump_partition(out, t->partitions[j]);
	}
	free(v);
	return 0;
}

static int dump_configs(const kp_image *img, kp_buf *out)
{
	const struct kp_image_resource **v;
	struct kp_image_config_node *c, *tmp;
	size_t n;

	if (kp_image_sorted_resources(img, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		appendf(out, "config_resource %d ", v[i]->type);
		put_str(out, v[i]->name);
		appendf(out, "\n");
		HASH_ITER(hh, v[i]->configs, c, tmp) {
			appendf(out, "  ");
			put_str(out, c->c.name);
			appendf(out, "=");
			put_str(out, c->c.value);
			appendf(out, "\n");
		}
	}
	free(v);
	return 0;
}

int kp_image_dump(const kp_image *img, kp_buf *out, kp_error *err)
{
	struct kp_image_feature *f, *tmp;
	size_t start = out->len;

	appendf(out, "image last_offset=%lld last_epoch=%d\n", (long long)img->last_offset,
		img->last_epoch);
	HASH_ITER(hh, img->features, f, tmp) {
		appendf(out, "feature ");
		put_str(out, f->name);
		appendf(out, " level=%d\n", f->level);
	}
	dump_cluster(img, out);
	if (dump_topics(img, out) < 0 || dump_configs(img, out) < 0)
		goto oom;
	appendf(out, "next_producer_id %lld\n", (long long)img->next_producer_id);
	if (out->oom)
		goto oom;
	return 0;
oom:
	if (out->len > start)
		out->len = start;
	return kp_error_set(err, KP_ENOMEM, "out of memory dumping the metadata image");
}
