/*
 * test_metadata_image.c - KRaft metadata records (lib/metadata/record.c)
 * and the metadata image (lib/metadata/image*.c).
 *
 * 1. Framing: every version of every metadata record type, filled with
 *    pseudo-random values by walking its descriptor, is framed, decoded and
 *    framed again to the same bytes; every strict prefix fails to decode;
 *    known bytes for NoOpRecord and FeatureLevelRecord; malformed frames.
 * 2. Semantics, record by record, against Kafka's MetadataDelta: the
 *    PartitionChangeRecord merge (PartitionRegistration.merge), removing
 *    a topic (with its configs), registering, fencing and unfencing brokers
 *    (ClusterDelta), configs, features, producer ids, rejected records
 *    leaving the image unchanged.
 * 3. Randomized replay: for each of several hundred seeds a random valid
 *    sequence of records is applied to image A; the same records framed,
 *    decoded and applied to C; A's snapshot records (kp_image_write_records)
 *    applied to an empty B. dump(A) == dump(B) == dump(C), B's snapshot is
 *    byte for byte A's; invalid records mixed in are refused and leave the
 *    image's dump unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/uuid.h"
#include "metadata/image.h"
#include "metadata/image_internal.h"
#include "metadata/record.h"
#include "protocol/codec_internal.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng;

/* splitmix64 */
static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(rnd64() % n);
}

static kp_uuid uuid_of(uint8_t seed)
{
	kp_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 17 + i);
	return u;
}

static kp_uuid rnd_uuid(void)
{
	kp_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)rnd64();
	return u;
}

/* dump - the image's dump as a malloc'd string. */
static char *dump(const kp_image *img)
{
	kp_error err;
	kp_buf b;
	char *s;

	kp_buf_init(&b);
	if (kp_image_dump(img, &b, &err) != 0)
		fail_msg("dump: %s", err.msg);
	s = malloc(b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	kp_buf_free(&b);
	return s;
}

/* apply_ok - apply `msg` of `type` at its highest version at `offset`; must succeed. */
static void apply_ok(kp_image *img, int16_t type, const void *msg, int64_t offset)
{
	struct kp_metadata_record rec = { type, kp_metadata_gen_types[type].max_version, msg };
	kp_error err;

	if (kp_image_apply(img, &rec, offset, 1, &err) != 0)
		fail_msg("%s at %lld: %s", kp_metadata_record_name(type), (long long)offset, err.msg);
}

/* apply_fails - applying must fail with `code`, leaving the dump unchanged. */
static void apply_fails(kp_image *img, int16_t type, const void *msg, int code)
{
	struct kp_metadata_record rec = { type, kp_metadata_gen_types[type].max_version, msg };
	char *before = dump(img), *after;
	kp_error err;

	assert_int_equal(kp_image_apply(img, &rec, kp_image_last_offset(img) + 1, 1, &err), -1);
	assert_int_equal(err.code, code);
	assert_true(err.msg[0] != '\0');
	after = dump(img);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void ids_equal(const struct kp_image_ids *ids, const int32_t *want, int32_t n)
{
	assert_int_equal(ids->count, n);
	for (int32_t i = 0; i < n; i++)
		assert_int_equal(ids->ids[i], want[i]);
}

/* ---- 1. framing ---------------------------------------------------------- */

static void fill_struct(const struct kp_msg_desc *d, int16_t v, void *msg, kp_arena *a, int depth);

static void fill_value(const struct kp_field_desc *f, uint8_t kind, void *p, int16_t v,
		       bool nullable, kp_arena *a, int depth)
{
	static const uint8_t pool[6] = { 0xde, 0xad, 0x00, 0x01, 0x7f, 0x80 };
	size_t n;
	char *s;

	switch (kind) {
	case KP_F_BOOL: *(bool *)p = rnd(2); break;
	case KP_F_INT8: *(int8_t *)p = (int8_t)rnd64(); break;
	case KP_F_INT16: *(int16_t *)p = (int16_t)rnd64(); break;
	case KP_F_UINT16: *(uint16_t *)p = (uint16_t)rnd64(); break;
	case KP_F_INT32: *(int32_t *)p = (int32_t)rnd64(); break;
	case KP_F_INT64: *(int64_t *)p = (int64_t)rnd64(); break;
	case KP_F_FLOAT64: *(double *)p = (double)(int32_t)rnd64() / 8.0; break;
	case KP_F_UUID: *(kp_uuid *)p = rnd_uuid(); break;
	case KP_F_STRING:
		if (nullable && rnd(4) == 0) {
			*(char **)p = NULL;
			break;
		}
		n = rnd(6);
		s = kp_arena_alloc(a, n + 1);
		assert_non_null(s);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)('a' + rnd(26));
		*(char **)p = s;
		break;
	case KP_F_BYTES:
		((kp_bytes *)p)->data = pool;
		((kp_bytes *)p)->len = nullable && rnd(4) == 0 ? -1 : (int32_t)rnd(6);
		break;
	case KP_F_STRUCT: fill_struct(f->sub, v, p, a, depth + 1); break;
	default: fail_msg("field %s: kind %d not expected in metadata records", f->name, kind);
	}
}

static void fill_field(const struct kp_field_desc *f, void *msg, int16_t v, kp_arena *a, int depth)
{
	bool nullable = kp_field_in(v, f->null_min, f->null_max);
	void *p = (char *)msg + f->offset;
	int32_t *count, n;
	char *data = NULL;
	size_t esz;

	if (f->kind != KP_F_ARRAY) {
		fill_value(f, f->kind, p, v, nullable, a, depth);
		return;
	}
	count = (int32_t *)((char *)msg + f->aux_offset);
	if (nullable && rnd(4) == 0) {
		*count = -1;
		*(char **)p = NULL;
		return;
	}
	esz = kp_elem_size(f);
	n = (int32_t)rnd(depth < 2 ? 4 : 2);
	if (n > 0)
		assert_non_null(data = kp_arena_alloc(a, (size_t)n * esz));
	for (int32_t i = 0; i < n; i++)
		fill_value(f, f->elem_kind, data + (size_t)i * esz, v, false, a, depth);
	*(char **)p = data;
	*count = n;
}

static void fill_struct(const struct kp_msg_desc *d, int16_t v, void *msg, kp_arena *a, int depth)
{
	kp_msg_init(d, msg);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct kp_field_desc *f = &d->fields[i];

		if (!kp_field_in(v, f->ver_min, f->ver_max))
			continue;
		if (f->tag >= 0 && kp_field_in(v, f->tag_min, f->tag_max) && rnd(2))
			continue; /* tagged field left at its default */
		fill_field(f, msg, v, a, depth);
	}
}

static size_t n_framed, n_prefixes;

/* frame_roundtrip - frame, decode, frame again: same bytes; every strict prefix fails. */
static void frame_roundtrip(int16_t type, int16_t v, const void *msg)
{
	struct kp_metadata_record rec = { type, v, msg }, back;
	kp_buf b1, b2;
	kp_arena a;
	kp_error err;

	kp_buf_init(&b1);
	kp_buf_init(&b2);
	kp_arena_init(&a);
	if (kp_metadata_record_encode(&rec, &b1, &err) != 0)
		fail_msg("%s v%d: encode: %s", kp_metadata_record_name(type), v, err.msg);
	assert_true(b1.len >= 4);
	assert_int_equal(b1.data[0], KP_METADATA_FRAME_VERSION);
	assert_int_equal(b1.data[1], type); /* every type < 128: one byte */
	assert_int_equal(b1.data[2], v);
	if (kp_metadata_record_decode(b1.data, b1.len, &a, &back, &err) != 0)
		fail_msg("%s v%d: decode: %s", kp_metadata_record_name(type), v, err.msg);
	assert_int_equal(back.type, type);
	assert_int_equal(back.version, v);
	assert_int_equal(kp_metadata_record_encode(&back, &b2, &err), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);
	for (size_t len = 0; len < b1.len; len++) {
		uint8_t *copy = malloc(len + 1); /* exactly sized: ASan sees over-reads */

		assert_non_null(copy);
		memcpy(copy, b1.data, len);
		assert_int_equal(kp_metadata_record_decode(copy, len, &a, &back, &err), -1);
		assert_int_equal(err.code, KP_EPROTO);
		free(copy);
		n_prefixes++;
	}
	n_framed++;
	kp_arena_free(&a);
	kp_buf_free(&b1);
	kp_buf_free(&b2);
}

static void test_framing_every_type(void **state)
{
	int types = 0;

	rng = 7;
	for (int16_t t = 0; t < KP_METADATA_RECORD_TYPE_COUNT; t++) {
		const struct kp_record_type_info *info = kp_metadata_record_type_info(t);

		if (info == NULL) {
			assert_string_equal(kp_metadata_record_name(t), "unknown");
			continue;
		}
		types++;
		assert_int_equal(info->api_key, t);
		for (int16_t v = info->min_version; v <= info->max_version; v++) {
			for (int i = 0; i < 12; i++) {
				void *msg = calloc(1, kp_msg_size(info->desc));
				kp_arena a;

				assert_non_null(msg);
				kp_arena_init(&a);
				fill_struct(info->desc, v, msg, &a, 0);
				frame_roundtrip(t, v, msg);
				kp_arena_free(&a);
				free(msg);
			}
		}
	}
	assert_int_equal(types, 25); /* every schema with an apiKey in ../shared/kafka-protocol/metadata */
	assert_null(kp_metadata_record_type_info(-1));
	assert_null(kp_metadata_record_type_info(KP_METADATA_RECORD_TYPE_COUNT));
	assert_true(n_framed > 300);
	assert_true(n_prefixes > 3000);
}

static void test_framing_known_bytes(void **state)
{
	struct kp_no_op_record noop;
	struct kp_feature_level_record fl;
	struct kp_metadata_record rec = { KP_METADATA_NO_OP_RECORD, 0, &noop };
	/* frame 1, type 20, version 0, no tagged fields */
	static const uint8_t noop_bytes[] = { 0x01, 0x14, 0x00, 0x00 };
	/* frame 1, type 12, version 0, compact string "mv" (len + 1), int16 7, no tags */
	static const uint8_t fl_bytes[] = { 0x01, 0x0c, 0x00, 0x03, 'm', 'v', 0x00, 0x07, 0x00 };
	kp_error err;
	kp_buf b;

	kp_no_op_record_init(&noop);
	kp_buf_init(&b);
	assert_int_equal(kp_metadata_record_encode(&rec, &b, &err), 0);
	assert_int_equal(b.len, sizeof(noop_bytes));
	assert_memory_equal(b.data, noop_bytes, sizeof(noop_bytes));
	kp_buf_reset(&b);
	kp_feature_level_record_init(&fl);
	fl.name = "mv";
	fl.feature_level = 7;
	rec = (struct kp_metadata_record){ KP_METADATA_FEATURE_LEVEL_RECORD, 0, &fl };
	assert_int_equal(kp_metadata_record_encode(&rec, &b, &err), 0);
	assert_int_equal(b.len, sizeof(fl_bytes));
	assert_memory_equal(b.data, fl_bytes, sizeof(fl_bytes));
	/* a version the schema lacks, an unknown type, no body: refused, nothing written */
	kp_buf_reset(&b);
	rec.version = 1;
	assert_int_equal(kp_metadata_record_encode(&rec, &b, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	rec = (struct kp_metadata_record){ 6, 0, &fl };
	assert_int_equal(kp_metadata_record_encode(&rec, &b, &err), -1);
	rec = (struct kp_metadata_record){ KP_METADATA_NO_OP_RECORD, 0, NULL };
	assert_int_equal(kp_metadata_record_encode(&rec, &b, &err), -1);
	assert_int_equal(b.len, 0);
	kp_buf_free(&b);
}

/* decode_fails - decoding `data` fails with KP_EPROTO and a message containing `why`. */
static void decode_fails(const uint8_t *data, size_t len, const char *why)
{
	struct kp_metadata_record rec;
	kp_error err;
	kp_arena a;

	kp_arena_init(&a);
	assert_int_equal(kp_metadata_record_decode(data, len, &a, &rec, &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	if (strstr(err.msg, why) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err.msg, why);
	assert_null(rec.msg);
	kp_arena_free(&a);
}

static void test_framing_errors(void **state)
{
	static const uint8_t frame0[] = { 0x00, 0x14, 0x00, 0x00 };
	static const uint8_t frame2[] = { 0x02, 0x14, 0x00, 0x00 };
	static const uint8_t type6[] = { 0x01, 0x06, 0x00, 0x00 };
	static const uint8_t type99[] = { 0x01, 0x63, 0x00, 0x00 };
	static const uint8_t big_type[] = { 0x01, 0xff, 0xff, 0x03, 0x00, 0x00 };
	static const uint8_t bad_version[] = { 0x01, 0x14, 0x01, 0x00 };
	static const uint8_t garbage[] = { 0x01, 0x14, 0x00, 0x00, 0x00 };
	static const uint8_t long_varint[] = { 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
	static const uint8_t ok[] = { 0x01, 0x14, 0x00, 0x00 };
	struct kp_metadata_record rec;
	kp_error err;
	kp_arena a;

	decode_fails(frame0, sizeof(frame0), "frame version 0");
	decode_fails(frame2, sizeof(frame2), "unknown frame version 2");
	decode_fails(type6, sizeof(type6), "unknown metadata record type 6");
	decode_fails(type99, sizeof(type99), "unknown metadata record type 99");
	decode_fails(big_type, sizeof(big_type), "too large");
	decode_fails(bad_version, sizeof(bad_version), "NoOpRecord");
	decode_fails(garbage, sizeof(garbage), "1 byte(s) of garbage after NoOpRecord");
	decode_fails(long_varint, sizeof(long_varint), "type");
	decode_fails(ok, 0, "frame version");
	kp_arena_init(&a);
	assert_int_equal(kp_metadata_record_decode(ok, sizeof(ok), &a, &rec, &err), 0);
	assert_int_equal(rec.type, KP_METADATA_NO_OP_RECORD);
	assert_non_null(rec.msg);
	kp_arena_free(&a);
}

/* ---- 2. semantics ---------------------------------------------------------- */

static void add_topic(kp_image *img, const char *name, kp_uuid id, int64_t offset)
{
	struct kp_topic_record r;

	kp_topic_record_init(&r);
	r.name = (char *)name;
	r.topic_id = id;
	apply_ok(img, KP_METADATA_TOPIC_RECORD, &r, offset);
}

static void add_partition(kp_image *img, kp_uuid id, int32_t index, int32_t *replicas, int32_t n,
			  int64_t offset)
{
	struct kp_partition_record r;

	kp_partition_record_init(&r);
	r.topic_id = id;
	r.partition_id = index;
	r.replicas = replicas;
	r.replicas_count = n;
	r.isr = replicas;
	r.isr_count = n;
	r.leader = n > 0 ? replicas[0] : KP_IMAGE_NO_LEADER;
	r.leader_epoch = 0;
	r.partition_epoch = 0;
	apply_ok(img, KP_METADATA_PARTITION_RECORD, &r, offset);
}

static void set_config(kp_image *img, int8_t type, const char *res, const char *name,
		       const char *value, int64_t offset)
{
	struct kp_config_record r;

	kp_config_record_init(&r);
	r.resource_type = type;
	r.resource_name = (char *)res;
	r.name = (char *)name;
	r.value = (char *)value;
	apply_ok(img, KP_METADATA_CONFIG_RECORD, &r, offset);
}

static void test_partition_change(void **state)
{
	kp_image *img = kp_image_new();
	kp_uuid id = uuid_of(1), other = uuid_of(2);
	int32_t rs[] = { 1, 2, 3 }, isr12[] = { 1, 2 }, rs4[] = { 1, 2, 3, 4 }, add4[] = { 4 };
	int32_t elr[] = { 3 };
	const struct kp_image_partition *p;
	struct kp_partition_change_record c;

	assert_non_null(img);
	add_topic(img, "orders", id, 0);
	add_partition(img, id, 0, rs, 3, 1);
	p = kp_image_partition(img, &id, 0);
	assert_non_null(p);
	assert_int_equal(p->leader, 1);
	ids_equal(&p->isr, rs, 3);

	/* only the ISR: leader and leader epoch stay, the partition epoch goes up */
	kp_partition_change_record_init(&c);
	assert_int_equal(c.leader, KP_IMAGE_NO_LEADER_CHANGE);
	assert_int_equal(c.replicas_count, -1);
	c.topic_id = id;
	c.partition_id = 0;
	c.isr = isr12;
	c.isr_count = 2;
	apply_ok(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, 2);
	p = kp_image_partition(img, &id, 0);
	ids_equal(&p->isr, isr12, 2);
	ids_equal(&p->replicas, rs, 3);
	assert_int_equal(p->leader, 1);
	assert_int_equal(p->leader_epoch, 0);
	assert_int_equal(p->partition_epoch, 1);

	/* a new leader: leader epoch + 1; ISR untouched (null) */
	kp_partition_change_record_init(&c);
	c.topic_id = id;
	c.partition_id = 0;
	c.leader = 2;
	apply_ok(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, 3);
	p = kp_image_partition(img, &id, 0);
	assert_int_equal(p->leader, 2);
	assert_int_equal(p->leader_epoch, 1);
	assert_int_equal(p->partition_epoch, 2);
	ids_equal(&p->isr, isr12, 2);

	/* the same leader named again still bumps the leader epoch (as merge does) */
	c.leader = 2;
	apply_ok(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, 4);
	p = kp_image_partition(img, &id, 0);
	assert_int_equal(p->leader_epoch, 2);
	assert_int_equal(p->partition_epoch, 3);

	/* no leader (-1), unclean recovery state, a reassignment, ELR */
	kp_partition_change_record_init(&c);
	c.topic_id = id;
	c.partition_id = 0;
	c.leader = KP_IMAGE_NO_LEADER;
	c.leader_recovery_state = KP_IMAGE_LEADER_RECOVERING;
	c.replicas = rs4;
	c.replicas_count = 4;
	c.adding_replicas = add4;
	c.adding_replicas_count = 1;
	c.eligible_leader_replicas = elr;
	c.eligible_leader_replicas_count = 1;
	apply_ok(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, 5);
	p = kp_image_partition(img, &id, 0);
	assert_int_equal(p->leader, KP_IMAGE_NO_LEADER);
	assert_int_equal(p->leader_epoch, 3);
	assert_int_equal(p->partition_epoch, 4);
	assert_int_equal(p->leader_recovery_state, KP_IMAGE_LEADER_RECOVERING);
	ids_equal(&p->replicas, rs4, 4);
	ids_equal(&p->adding_replicas, add4, 1);
	ids_equal(&p->removing_replicas, NULL, 0);
	ids_equal(&p->elr, elr, 1);
	ids_equal(&p->isr, isr12, 2);
	assert_true(kp_image_ids_contain(&p->replicas, 4));
	assert_false(kp_image_ids_contain(&p->isr, 3));

	/* recovery state -1 keeps RECOVERING; an empty (not null) adding list clears it */
	kp_partition_change_record_init(&c);
	c.topic_id = id;
	c.partition_id = 0;
	c.adding_replicas_count = 0;
	apply_ok(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, 6);
	p = kp_image_partition(img, &id, 0);
	assert_int_equal(p->leader_recovery_state, KP_IMAGE_LEADER_RECOVERING);
	ids_equal(&p->adding_replicas, NULL, 0);
	ids_equal(&p->replicas, rs4, 4);
	assert_int_equal(p->partition_epoch, 5);

	/* refused: bad recovery state, unknown partition, unknown topic */
	c.leader_recovery_state = 7;
	apply_fails(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, KP_EINVAL);
	c.leader_recovery_state = -1;
	c.partition_id = 1;
	apply_fails(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, KP_EINVAL);
	c.partition_id = 0;
	c.topic_id = other;
	apply_fails(img, KP_METADATA_PARTITION_CHANGE_RECORD, &c, KP_EINVAL);
	assert_int_equal(kp_image_partition(img, &id, 0)->partition_epoch, 5);
	kp_image_free(img);
}

static void test_partitions_and_topics(void **state)
{
	kp_image *img = kp_image_new();
	kp_uuid a = uuid_of(1), b = uuid_of(2), c = uuid_of(3);
	int32_t rs[] = { 5 };
	const struct kp_image_topic *t;
	struct kp_partition_record pr;
	struct kp_topic_record tr;
	int seen = 0;

	add_topic(img, "a", a, 0);
	add_topic(img, "b", b, 1);
	add_partition(img, a, 2, rs, 1, 2); /* a hole at 0 and 1 */
	t = kp_image_topic_by_name(img, "a");
	assert_non_null(t);
	assert_ptr_equal(t, kp_image_topic_by_id(img, &a));
	assert_int_equal(t->partition_slots, 3);
	assert_int_equal(t->partition_count, 1);
	assert_null(kp_image_topic_partition(t, 0));
	assert_null(kp_image_topic_partition(t, 3));
	assert_null(kp_image_topic_partition(t, -1));
	assert_int_equal(kp_image_topic_partition(t, 2)->leader, 5);
	add_partition(img, a, 0, rs, 1, 3);
	add_partition(img, a, 0, rs, 1, 4); /* replaced, not counted twice */
	assert_int_equal(kp_image_topic_by_name(img, "a")->partition_count, 2);
	assert_int_equal(kp_image_topic_count(img), 2);
	for (t = kp_image_topic_first(img); t != NULL; t = kp_image_topic_next(img, t))
		seen += strcmp(t->name, "a") == 0 ? 1 : strcmp(t->name, "b") == 0 ? 10 : 100;
	assert_int_equal(seen, 11);

	/* name taken by another id; id taken by another name; no name: refused */
	kp_topic_record_init(&tr);
	tr.name = "a";
	tr.topic_id = c;
	apply_fails(img, KP_METADATA_TOPIC_RECORD, &tr, KP_EINVAL);
	tr.name = "z";
	tr.topic_id = a;
	apply_fails(img, KP_METADATA_TOPIC_RECORD, &tr, KP_EINVAL);
	tr.name = NULL;
	apply_fails(img, KP_METADATA_TOPIC_RECORD, &tr, KP_EINVAL);
	/* the same TopicRecord again: a new TopicImage without partitions (TopicsDelta) */
	add_topic(img, "a", a, 5);
	assert_int_equal(kp_image_topic_by_id(img, &a)->partition_count, 0);
	/* partition of an unknown topic, bad id, bad recovery state: refused */
	kp_partition_record_init(&pr);
	pr.topic_id = c;
	pr.partition_id = 0;
	apply_fails(img, KP_METADATA_PARTITION_RECORD, &pr, KP_EINVAL);
	pr.topic_id = a;
	pr.partition_id = -1;
	apply_fails(img, KP_METADATA_PARTITION_RECORD, &pr, KP_EINVAL);
	pr.partition_id = KP_IMAGE_MAX_PARTITION + 1;
	apply_fails(img, KP_METADATA_PARTITION_RECORD, &pr, KP_EINVAL);
	pr.partition_id = 0;
	pr.leader_recovery_state = 2;
	apply_fails(img, KP_METADATA_PARTITION_RECORD, &pr, KP_EINVAL);
	assert_int_equal(kp_image_last_offset(img), 5);
	kp_image_free(img);
}

static void test_remove_topic(void **state)
{
	kp_image *img = kp_image_new();
	kp_uuid a = uuid_of(1), b = uuid_of(2), a2 = uuid_of(3);
	int32_t rs[] = { 1, 2 };
	struct kp_remove_topic_record r;

	add_topic(img, "a", a, 0);
	add_topic(img, "b", b, 1);
	add_partition(img, a, 0, rs, 2, 2);
	add_partition(img, a, 1, rs, 2, 3);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "a", "retention.ms", "1000", 4);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "b", "retention.ms", "2000", 5);
	set_config(img, KP_CONFIG_RESOURCE_BROKER, "a", "x", "y", 6); /* not the topic's */
	kp_remove_topic_record_init(&r);
	r.topic_id = a;
	apply_ok(img, KP_METADATA_REMOVE_TOPIC_RECORD, &r, 7);
	assert_null(kp_image_topic_by_name(img, "a"));
	assert_null(kp_image_topic_by_id(img, &a));
	assert_null(kp_image_partition(img, &a, 0));
	assert_null(kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, "a", "retention.ms"));
	assert_null(kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC, "a"));
	assert_string_equal(kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, "b", "retention.ms"),
			    "2000");
	assert_string_equal(kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "a", "x"), "y");
	assert_int_equal(kp_image_topic_count(img), 1);
	/* removing it again is refused */
	apply_fails(img, KP_METADATA_REMOVE_TOPIC_RECORD, &r, KP_EINVAL);
	/* the name can be used again with a new id, starting empty */
	add_topic(img, "a", a2, 8);
	assert_non_null(kp_image_topic_by_id(img, &a2));
	assert_int_equal(kp_image_topic_by_name(img, "a")->partition_count, 0);
	assert_null(kp_image_topic_by_id(img, &a));
	kp_image_free(img);
}

static void register_broker(kp_image *img, int32_t id, int64_t epoch, bool fenced, int64_t offset)
{
	struct kp_register_broker_record_broker_endpoint eps[3] = {
		{ "SSL", "h1", 9093, 1 }, { "PLAINTEXT", "old", 1, 0 }, { "PLAINTEXT", "h1", 9092, 0 },
	};
	struct kp_register_broker_record_broker_feature fs[1] = { { "metadata.version", 1, 20 } };
	struct kp_register_broker_record r;

	kp_register_broker_record_init(&r);
	assert_true(r.fenced); /* the schema's default */
	r.broker_id = id;
	r.broker_epoch = epoch;
	r.incarnation_id = uuid_of((uint8_t)id);
	r.end_points = eps;
	r.end_points_count = 3;
	r.features = fs;
	r.features_count = 1;
	r.rack = id % 2 ? "rack-odd" : NULL;
	r.fenced = fenced;
	apply_ok(img, KP_METADATA_REGISTER_BROKER_RECORD, &r, offset);
}

static void test_brokers(void **state)
{
	kp_image *img = kp_image_new();
	const struct kp_image_broker *b;
	const struct kp_image_endpoint *e;
	struct kp_fence_broker_record f;
	struct kp_unfence_broker_record u;
	struct kp_broker_registration_change_record c;
	struct kp_unregister_broker_record un;
	int32_t order[3], n = 0;
	kp_uuid inc;

	register_broker(img, 5, 10, true, 10);
	register_broker(img, 2, 11, true, 11);
	register_broker(img, 9, 12, false, 12);
	for (b = kp_image_broker_first(img); b != NULL; b = kp_image_broker_next(img, b))
		order[n++] = b->id;
	assert_int_equal(n, 3);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 5);
	assert_int_equal(order[2], 9);
	assert_int_equal(kp_image_broker_count(img), 3);
	b = kp_image_broker(img, 5);
	assert_non_null(b);
	assert_int_equal(b->epoch, 10);
	assert_true(b->fenced);
	assert_string_equal(b->rack, "rack-odd");
	assert_null(kp_image_broker(img, 2)->rack);
	inc = uuid_of(5);
	assert_memory_equal(&b->incarnation_id, &inc, sizeof(inc));
	/* endpoints by name, the later PLAINTEXT wins (a map in Kafka) */
	assert_int_equal(b->endpoint_count, 2);
	assert_string_equal(b->endpoints[0].name, "PLAINTEXT");
	assert_string_equal(b->endpoints[1].name, "SSL");
	e = kp_image_broker_endpoint(b, "PLAINTEXT");
	assert_non_null(e);
	assert_string_equal(e->host, "h1");
	assert_int_equal(e->port, 9092);
	assert_int_equal(kp_image_broker_endpoint(b, "SSL")->security_protocol, 1);
	assert_null(kp_image_broker_endpoint(b, "SASL"));
	assert_int_equal(b->feature_count, 1);
	assert_int_equal(b->features[0].max_version, 20);

	/* unfence at a stale epoch, or an unknown broker: refused */
	kp_unfence_broker_record_init(&u);
	u.id = 5;
	u.epoch = 9;
	apply_fails(img, KP_METADATA_UNFENCE_BROKER_RECORD, &u, KP_EINVAL);
	u.id = 6;
	u.epoch = 10;
	apply_fails(img, KP_METADATA_UNFENCE_BROKER_RECORD, &u, KP_EINVAL);
	u.id = 5;
	apply_ok(img, KP_METADATA_UNFENCE_BROKER_RECORD, &u, 13);
	assert_false(kp_image_broker(img, 5)->fenced);
	kp_fence_broker_record_init(&f);
	f.id = 5;
	f.epoch = 10;
	apply_ok(img, KP_METADATA_FENCE_BROKER_RECORD, &f, 14);
	assert_true(kp_image_broker(img, 5)->fenced);

	/* BrokerRegistrationChangeRecord: -1 unfences, 0 keeps, 1 fences; controlled shutdown */
	kp_broker_registration_change_record_init(&c);
	c.broker_id = 5;
	c.broker_epoch = 10;
	c.fenced = -1;
	apply_ok(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &c, 15);
	assert_false(kp_image_broker(img, 5)->fenced);
	c.fenced = 0;
	c.in_controlled_shutdown = 1;
	apply_ok(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &c, 16);
	assert_false(kp_image_broker(img, 5)->fenced);
	assert_true(kp_image_broker(img, 5)->in_controlled_shutdown);
	c.fenced = 2;
	apply_fails(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &c, KP_EINVAL);
	c.fenced = 1;
	c.in_controlled_shutdown = 2;
	apply_fails(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &c, KP_EINVAL);
	c.in_controlled_shutdown = 0;
	c.broker_epoch = 11;
	apply_fails(img, KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD, &c, KP_EINVAL);

	/* a new registration replaces the old one: new epoch, shutdown state gone */
	register_broker(img, 5, 20, true, 17);
	b = kp_image_broker(img, 5);
	assert_int_equal(b->epoch, 20);
	assert_false(b->in_controlled_shutdown);
	f.epoch = 10;
	apply_fails(img, KP_METADATA_FENCE_BROKER_RECORD, &f, KP_EINVAL);

	/* unregister: gone; unregistering an unknown broker changes nothing */
	kp_unregister_broker_record_init(&un);
	un.broker_id = 5;
	un.broker_epoch = 20;
	apply_ok(img, KP_METADATA_UNREGISTER_BROKER_RECORD, &un, 18);
	assert_null(kp_image_broker(img, 5));
	assert_int_equal(kp_image_broker_count(img), 2);
	apply_ok(img, KP_METADATA_UNREGISTER_BROKER_RECORD, &un, 19);
	f.epoch = 20;
	apply_fails(img, KP_METADATA_FENCE_BROKER_RECORD, &f, KP_EINVAL);
	kp_image_free(img);
}

static void test_configs(void **state)
{
	kp_image *img = kp_image_new();
	const struct kp_image_config *c;
	const char *want[] = { "a", "m", "z" };
	int n = 0;

	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "z", "1", 0);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "a", "2", 1);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "m", "3", 2);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "a", "4", 3); /* overwrite */
	set_config(img, KP_CONFIG_RESOURCE_BROKER, "", "log.retention.ms", "5", 4); /* default */
	for (c = kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC, "t"); c != NULL;
	     c = kp_image_config_next(img, c))
		assert_string_equal(c->name, want[n++]);
	assert_int_equal(n, 3);
	assert_string_equal(kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, "t", "a"), "4");
	assert_string_equal(kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "",
						  "log.retention.ms"), "5");
	assert_null(kp_image_config_value(img, KP_CONFIG_RESOURCE_BROKER, "t", "a"));
	/* a null value deletes; deleting what is not there is no error */
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "a", NULL, 5);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "nope", NULL, 6);
	set_config(img, KP_CONFIG_RESOURCE_GROUP, "g", "nope", NULL, 7);
	assert_null(kp_image_config_value(img, KP_CONFIG_RESOURCE_TOPIC, "t", "a"));
	assert_string_equal(kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC, "t")->name, "m");
	/* the last config deleted takes the resource with it */
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "m", NULL, 8);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "z", NULL, 9);
	assert_null(kp_image_config_first(img, KP_CONFIG_RESOURCE_TOPIC, "t"));
	{
		char *d = dump(img);

		assert_null(strstr(d, "config_resource 2"));
		assert_non_null(strstr(d, "config_resource 4 \"\"\n  \"log.retention.ms\"=\"5\"\n"));
		free(d);
	}
	kp_image_free(img);
}

static void test_features_producer_ids_offsets(void **state)
{
	kp_image *img = kp_image_new();
	struct kp_feature_level_record f;
	struct kp_producer_ids_record p;
	struct kp_no_op_record noop;
	struct kp_metadata_record rec = { KP_METADATA_NO_OP_RECORD, 0, &noop };
	kp_error err;

	assert_int_equal(kp_image_last_offset(img), -1);
	assert_int_equal(kp_image_last_epoch(img), -1);
	assert_int_equal(kp_image_next_producer_id(img), -1);
	kp_feature_level_record_init(&f);
	f.name = "kraft.version";
	f.feature_level = 1;
	apply_ok(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f, 0);
	f.name = KP_METADATA_VERSION_FEATURE;
	f.feature_level = 21;
	apply_ok(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f, 1);
	assert_int_equal(kp_image_feature_level(img, "metadata.version"), 21);
	assert_int_equal(kp_image_feature_level(img, "kraft.version"), 1);
	assert_int_equal(kp_image_feature_level(img, "group.version"), 0);
	f.name = "kraft.version";
	f.feature_level = 0;
	apply_ok(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f, 2);
	assert_int_equal(kp_image_feature_level(img, "kraft.version"), 0);
	kp_producer_ids_record_init(&p);
	p.broker_id = 1;
	p.broker_epoch = 5;
	p.next_producer_id = 1000;
	apply_ok(img, KP_METADATA_PRODUCER_IDS_RECORD, &p, 3);
	assert_int_equal(kp_image_next_producer_id(img), 1000);
	/* offsets: equal is fine (snapshot records), going back is refused */
	kp_no_op_record_init(&noop);
	assert_int_equal(kp_image_apply(img, &rec, 3, 4, &err), 0);
	assert_int_equal(kp_image_last_epoch(img), 4);
	assert_int_equal(kp_image_apply(img, &rec, 2, 4, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	assert_int_equal(kp_image_last_offset(img), 3);
	rec.type = 13;
	assert_int_equal(kp_image_apply(img, &rec, 9, 4, &err), -1);
	/* framed bytes: garbage is refused, the image unchanged */
	assert_int_equal(kp_image_apply_bytes(img, (const uint8_t *)"\x01\x14\x00\x00\x00", 5, 9, 4,
					      &err), -1);
	assert_int_equal(err.code, KP_EPROTO);
	assert_int_equal(kp_image_apply_bytes(img, (const uint8_t *)"\x01\x14\x00\x00", 4, 9, 5,
					      &err), 0);
	assert_int_equal(kp_image_last_offset(img), 9);
	assert_int_equal(kp_image_last_epoch(img), 5);
	kp_image_free(img);
}

static void test_uuid_text(void **state)
{
	kp_uuid u;
	char mine[23], theirs[KP_UUID_STR_LEN + 1];

	rng = 3;
	for (int i = 0; i < 100; i++) {
		u = rnd_uuid();
		kp_image_uuid_format(&u, mine);
		kp_uuid_format(&u, theirs);
		assert_string_equal(mine, theirs);
	}
}

/* ---- 3. randomized replay -------------------------------------------------- */

/* What the generator has made, for picking valid targets. */
struct gen {
	kp_image *img;   /* image A */
	kp_arena *a;     /* the records' memory */
	int topics_made;
	int64_t offset;
};

static size_t n_applied[KP_METADATA_RECORD_TYPE_COUNT], n_refused;

static int32_t *rnd_ids(kp_arena *a, int32_t *count)
{
	int32_t n = (int32_t)rnd(5), *v = kp_arena_alloc(a, sizeof(int32_t) * 5);

	assert_non_null(v);
	for (int32_t i = 0; i < n; i++)
		v[i] = (int32_t)rnd(8);
	*count = n;
	return v;
}

/* maybe_ids - null (count -1) half of the time, else a random list. */
static int32_t *maybe_ids(kp_arena *a, int32_t *count)
{
	if (rnd(2)) {
		*count = -1;
		return NULL;
	}
	return rnd_ids(a, count);
}

static char *rnd_str(kp_arena *a, const char *const *pool, size_t n)
{
	const char *s = pool[rnd((uint32_t)n)];

	return kp_arena_strndup(a, s, strlen(s));
}

static const struct kp_image_topic *pick_topic(const kp_image *img)
{
	size_t n = kp_image_topic_count(img), k;
	const struct kp_image_topic *t;

	if (n == 0)
		return NULL;
	k = rnd((uint32_t)n);
	for (t = kp_image_topic_first(img); k-- > 0; t = kp_image_topic_next(img, t))
		;
	return t;
}

static const struct kp_image_broker *pick_broker(const kp_image *img)
{
	size_t n = kp_image_broker_count(img), k;
	const struct kp_image_broker *b;

	if (n == 0)
		return NULL;
	k = rnd((uint32_t)n);
	for (b = kp_image_broker_first(img); k-- > 0; b = kp_image_broker_next(img, b))
		;
	return b;
}

static void *gen_register_broker(struct gen *g)
{
	static const char *const names[] = { "PLAINTEXT", "SSL", "INTERNAL", "CONTROLLER" };
	static const char *const feats[] = { "metadata.version", "kraft.version", "group.version" };
	static const char *const racks[] = { "r1", "r2", "r\"3\n" };
	struct kp_register_broker_record *r = kp_register_broker_record_new(g->a, 1);

	r->broker_id = (int32_t)rnd(8);
	r->broker_epoch = g->offset;
	r->incarnation_id = rnd_uuid();
	r->end_points_count = (int32_t)rnd(4);
	r->end_points = kp_register_broker_record_broker_endpoint_new(g->a, 4);
	for (int32_t i = 0; i < r->end_points_count; i++) {
		r->end_points[i].name = rnd_str(g->a, names, 4);
		r->end_points[i].host = rnd(2) ? "localhost" : "10.0.0.1";
		r->end_points[i].port = (uint16_t)rnd(65536);
		r->end_points[i].security_protocol = (int16_t)rnd(4);
	}
	r->features_count = (int32_t)rnd(3);
	r->features = kp_register_broker_record_broker_feature_new(g->a, 3);
	for (int32_t i = 0; i < r->features_count; i++)
		r->features[i] = (struct kp_register_broker_record_broker_feature){
			rnd_str(g->a, feats, 3), (int16_t)rnd(2), (int16_t)(2 + rnd(20)) };
	r->rack = rnd(3) ? rnd_str(g->a, racks, 3) : NULL;
	r->fenced = rnd(2);
	r->in_controlled_shutdown = rnd(4) == 0;
	return r;
}

static void *gen_register_controller(struct gen *g)
{
	struct kp_register_controller_record *r = kp_register_controller_record_new(g->a, 1);

	r->controller_id = 3000 + (int32_t)rnd(3);
	r->incarnation_id = rnd_uuid();
	r->end_points_count = 1;
	r->end_points = kp_register_controller_record_controller_endpoint_new(g->a, 1);
	r->end_points[0] = (struct kp_register_controller_record_controller_endpoint){
		"CONTROLLER", "localhost", (uint16_t)(9093 + rnd(3)), 0 };
	r->features_count = (int32_t)rnd(2);
	r->features = kp_register_controller_record_controller_feature_new(g->a, 1);
	r->features[0] = (struct kp_register_controller_record_controller_feature){
		"kraft.version", 0, 1 };
	return r;
}

/* gen_broker_state - fence, unfence, change or unregister an existing broker; NULL if none. */
static void *gen_broker_state(struct gen *g, int16_t *type)
{
	const struct kp_image_broker *b = pick_broker(g->img);
	struct kp_broker_registration_change_record *c;
	struct kp_fence_broker_record *f;
	struct kp_unfence_broker_record *uf;
	struct kp_unregister_broker_record *u;

	if (b == NULL)
		return NULL;
	switch (rnd(5)) {
	case 0:
		*type = KP_METADATA_FENCE_BROKER_RECORD;
		f = kp_fence_broker_record_new(g->a, 1);
		f->id = b->id;
		f->epoch = b->epoch;
		return f;
	case 1:
		*type = KP_METADATA_UNFENCE_BROKER_RECORD;
		uf = kp_unfence_broker_record_new(g->a, 1);
		uf->id = b->id;
		uf->epoch = b->epoch;
		return uf;
	case 2:
	case 3:
		*type = KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD;
		c = kp_broker_registration_change_record_new(g->a, 1);
		c->broker_id = b->id;
		c->broker_epoch = b->epoch;
		c->fenced = (int8_t)((int)rnd(3) - 1);
		c->in_controlled_shutdown = (int8_t)(rnd(3) == 0);
		return c;
	default:
		*type = KP_METADATA_UNREGISTER_BROKER_RECORD;
		u = kp_unregister_broker_record_new(g->a, 1);
		u->broker_id = rnd(5) ? b->id : 100; /* sometimes nobody: allowed */
		u->broker_epoch = b->epoch;
		return u;
	}
}

static void *gen_topic(struct gen *g)
{
	struct kp_topic_record *r = kp_topic_record_new(g->a, 1);
	const struct kp_image_topic *t = rnd(10) == 0 ? pick_topic(g->img) : NULL;
	char name[32];

	if (t != NULL) { /* the same TopicRecord again: empties the topic */
		r->name = kp_arena_strndup(g->a, t->name, strlen(t->name));
		r->topic_id = t->id;
		return r;
	}
	snprintf(name, sizeof(name), "topic-%d", g->topics_made++);
	r->name = kp_arena_strndup(g->a, name, strlen(name));
	r->topic_id = rnd_uuid();
	return r;
}

static void *gen_partition(struct gen *g)
{
	const struct kp_image_topic *t = pick_topic(g->img);
	struct kp_partition_record *r;

	if (t == NULL)
		return NULL;
	r = kp_partition_record_new(g->a, 1);
	r->topic_id = t->id;
	r->partition_id = (int32_t)rnd((uint32_t)t->partition_slots + 2);
	r->replicas = rnd_ids(g->a, &r->replicas_count);
	r->isr = rnd_ids(g->a, &r->isr_count);
	if (rnd(3) == 0)
		r->removing_replicas = rnd_ids(g->a, &r->removing_replicas_count);
	if (rnd(3) == 0)
		r->adding_replicas = rnd_ids(g->a, &r->adding_replicas_count);
	if (rnd(3) == 0)
		r->eligible_leader_replicas = maybe_ids(g->a, &r->eligible_leader_replicas_count);
	if (rnd(3) == 0)
		r->last_known_elr = maybe_ids(g->a, &r->last_known_elr_count);
	r->leader = (int32_t)rnd(9) - 1;
	r->leader_recovery_state = (int8_t)(rnd(5) == 0);
	r->leader_epoch = (int32_t)rnd(100);
	r->partition_epoch = (int32_t)rnd(100);
	return r;
}

static void *gen_partition_change(struct gen *g)
{
	const struct kp_image_topic *t = pick_topic(g->img);
	struct kp_partition_change_record *c;
	int32_t i;

	if (t == NULL || t->partition_count == 0)
		return NULL;
	for (i = (int32_t)rnd((uint32_t)t->partition_slots); t->partitions[i] == NULL;)
		i = (i + 1) % t->partition_slots;
	c = kp_partition_change_record_new(g->a, 1);
	c->topic_id = t->id;
	c->partition_id = i;
	c->isr = maybe_ids(g->a, &c->isr_count);
	c->replicas = rnd(3) ? NULL : maybe_ids(g->a, &c->replicas_count);
	c->removing_replicas = rnd(3) ? NULL : maybe_ids(g->a, &c->removing_replicas_count);
	c->adding_replicas = rnd(3) ? NULL : maybe_ids(g->a, &c->adding_replicas_count);
	c->eligible_leader_replicas = rnd(3) ? NULL : maybe_ids(g->a,
								&c->eligible_leader_replicas_count);
	c->last_known_elr = rnd(3) ? NULL : maybe_ids(g->a, &c->last_known_elr_count);
	c->leader = rnd(2) ? KP_IMAGE_NO_LEADER_CHANGE : (int32_t)rnd(9) - 1;
	c->leader_recovery_state = (int8_t)((int)rnd(3) - 1);
	return c;
}

static void *gen_remove_topic(struct gen *g)
{
	const struct kp_image_topic *t = pick_topic(g->img);
	struct kp_remove_topic_record *r;

	if (t == NULL)
		return NULL;
	r = kp_remove_topic_record_new(g->a, 1);
	r->topic_id = t->id;
	return r;
}

static void *gen_config(struct gen *g)
{
	static const int8_t types[] = { KP_CONFIG_RESOURCE_TOPIC, KP_CONFIG_RESOURCE_BROKER,
					KP_CONFIG_RESOURCE_CLIENT_METRICS };
	static const char *const keys[] = { "retention.ms", "cleanup.policy", "a", "b" };
	static const char *const values[] = { "1000", "compact,delete", "", "x\ny\"\\\xc3\xa9" };
	static const char *const names[] = { "", "1", "2", "topic-0", "topic-1" };
	struct kp_config_record *r = kp_config_record_new(g->a, 1);
	const struct kp_image_topic *t = rnd(2) ? pick_topic(g->img) : NULL;

	r->resource_type = types[rnd(3)];
	r->resource_name = r->resource_type == KP_CONFIG_RESOURCE_TOPIC && t != NULL
		? kp_arena_strndup(g->a, t->name, strlen(t->name)) : rnd_str(g->a, names, 5);
	r->name = rnd_str(g->a, keys, 4);
	r->value = rnd(3) == 0 ? NULL : rnd_str(g->a, values, 4);
	return r;
}

static void *gen_other(struct gen *g, int16_t *type)
{
	static const char *const feats[] = { "metadata.version", "kraft.version", "group.version" };
	struct kp_feature_level_record *f;
	struct kp_producer_ids_record *p;
	struct kp_access_control_entry_record *acl;

	switch (rnd(4)) {
	case 0:
		*type = KP_METADATA_FEATURE_LEVEL_RECORD;
		f = kp_feature_level_record_new(g->a, 1);
		f->name = rnd_str(g->a, feats, 3);
		f->feature_level = (int16_t)rnd(4);
		return f;
	case 1:
		*type = KP_METADATA_PRODUCER_IDS_RECORD;
		p = kp_producer_ids_record_new(g->a, 1);
		p->broker_id = (int32_t)rnd(8);
		p->next_producer_id = (int64_t)(g->offset * 1000);
		return p;
	case 2:
		*type = KP_METADATA_NO_OP_RECORD;
		return kp_no_op_record_new(g->a, 1);
	default: /* a record the image does not model */
		*type = KP_METADATA_ACCESS_CONTROL_ENTRY_RECORD;
		acl = kp_access_control_entry_record_new(g->a, 1);
		acl->id = rnd_uuid();
		acl->principal = "User:alice";
		return acl;
	}
}

/* gen_record - one random record that the image must accept; NULL to try again. */
static void *gen_record(struct gen *g, int16_t *type)
{
	switch (rnd(20)) {
	case 0: case 1:
		*type = KP_METADATA_REGISTER_BROKER_RECORD;
		return gen_register_broker(g);
	case 2: case 3: case 4:
		return gen_broker_state(g, type);
	case 5:
		*type = KP_METADATA_REGISTER_CONTROLLER_RECORD;
		return gen_register_controller(g);
	case 6: case 7:
		*type = KP_METADATA_TOPIC_RECORD;
		return gen_topic(g);
	case 8: case 9: case 10:
		*type = KP_METADATA_PARTITION_RECORD;
		return gen_partition(g);
	case 11: case 12: case 13: case 14:
		*type = KP_METADATA_PARTITION_CHANGE_RECORD;
		return gen_partition_change(g);
	case 15:
		*type = KP_METADATA_REMOVE_TOPIC_RECORD;
		return gen_remove_topic(g);
	case 16: case 17:
		*type = KP_METADATA_CONFIG_RECORD;
		return gen_config(g);
	default:
		return gen_other(g, type);
	}
}

/* gen_invalid - a record the image must refuse (unknown targets, stale epochs, bad values). */
static void *gen_invalid(struct gen *g, int16_t *type)
{
	const struct kp_image_broker *b = pick_broker(g->img);
	struct kp_partition_change_record *c;
	struct kp_remove_topic_record *rt;
	struct kp_fence_broker_record *f;

	switch (rnd(3)) {
	case 0:
		*type = KP_METADATA_FENCE_BROKER_RECORD;
		f = kp_fence_broker_record_new(g->a, 1);
		f->id = b ? b->id : 42;
		f->epoch = b ? b->epoch + 1 : 0;
		return f;
	case 1:
		*type = KP_METADATA_REMOVE_TOPIC_RECORD;
		rt = kp_remove_topic_record_new(g->a, 1);
		rt->topic_id = rnd_uuid();
		return rt;
	default:
		*type = KP_METADATA_PARTITION_CHANGE_RECORD;
		c = gen_partition_change(g);
		if (c == NULL)
			return NULL;
		c->leader_recovery_state = 5;
		return c;
	}
}

/* A replayed log: each record's framed bytes. */
struct log {
	kp_buf *recs;
	size_t n, cap;
};

static void log_add(struct log *l, int16_t type, const void *msg)
{
	struct kp_metadata_record rec = { type, kp_metadata_gen_types[type].max_version, msg };
	kp_error err;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->recs = realloc(l->recs, l->cap * sizeof(*l->recs));
		assert_non_null(l->recs);
	}
	kp_buf_init(&l->recs[l->n]);
	if (kp_metadata_record_encode(&rec, &l->recs[l->n], &err) != 0)
		fail_msg("encode %s: %s", kp_metadata_record_name(type), err.msg);
	l->n++;
}

static void log_free(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		kp_buf_free(&l->recs[i]);
	free(l->recs);
}

/* Snapshot receivers: apply to an image directly, and collect framed bytes. */
struct sink {
	kp_image *img;
	int64_t offset;
	int32_t epoch;
	kp_buf bytes;
	size_t count;
	int16_t types[8]; /* of the first 8 records */
};

static int to_image(void *arg, const struct kp_metadata_record *rec, kp_error *err)
{
	struct sink *s = arg;

	if (s->count < 8)
		s->types[s->count] = rec->type;
	s->count++;
	if (kp_metadata_record_encode(rec, &s->bytes, err) != 0)
		return -1;
	return kp_image_apply(s->img, rec, s->offset, s->epoch, err);
}

/* run_seed - one random log; returns how many records it applied. */
static size_t run_seed(uint64_t seed, size_t *topics, size_t *partitions)
{
	kp_image *a = kp_image_new(), *b = kp_image_new(), *c = kp_image_new(), *b2 = kp_image_new();
	struct sink sa = { .img = b }, sb = { .img = b2 };
	struct log log = { 0 };
	kp_arena arena;
	struct gen g = { a, &arena, 0, 0 };
	size_t len = 20 + seed % 200;
	char *da, *db, *dc;
	kp_error err;

	rng = seed;
	kp_arena_init(&arena);
	while (log.n < len) {
		int16_t type = -1;
		void *msg;

		if (rnd(20) == 0 && (msg = gen_invalid(&g, &type)) != NULL) {
			apply_fails(a, type, msg, KP_EINVAL);
			n_refused++;
			continue;
		}
		if ((msg = gen_record(&g, &type)) == NULL)
			continue;
		apply_ok(a, type, msg, g.offset);
		log_add(&log, type, msg);
		n_applied[type]++;
		g.offset += 1 + rnd(3);
	}
	/* the same log, framed and decoded */
	for (size_t i = 0; i < log.n; i++)
		if (kp_image_apply_bytes(c, log.recs[i].data, log.recs[i].len, kp_image_last_offset(c) + 1,
					 1, &err) != 0)
			fail_msg("seed %llu record %zu: %s", (unsigned long long)seed, i, err.msg);
	/* the snapshot */
	sa.offset = sb.offset = kp_image_last_offset(a);
	sa.epoch = sb.epoch = kp_image_last_epoch(a);
	if (kp_image_write_records(a, to_image, &sa, &err) != 0)
		fail_msg("seed %llu: snapshot of A: %s", (unsigned long long)seed, err.msg);
	if (kp_image_write_records(b, to_image, &sb, &err) != 0)
		fail_msg("seed %llu: snapshot of B: %s", (unsigned long long)seed, err.msg);
	da = dump(a);
	db = dump(b);
	dc = dump(c);
	if (strcmp(da, db) != 0)
		fail_msg("seed %llu: snapshot differs\n--- A\n%s--- B\n%s", (unsigned long long)seed, da, db);
	/* C's offsets differ (one per record): compare past the first line */
	assert_string_equal(strchr(da, '\n'), strchr(dc, '\n'));
	assert_int_equal(sa.bytes.len, sb.bytes.len);
	assert_memory_equal(sa.bytes.data, sb.bytes.data, sa.bytes.len);
	assert_int_equal(sa.count, sb.count);
	*topics += kp_image_topic_count(a);
	for (const struct kp_image_topic *t = kp_image_topic_first(a); t; t = kp_image_topic_next(a, t))
		*partitions += (size_t)t->partition_count;
	free(da);
	free(db);
	free(dc);
	kp_buf_free(&sa.bytes);
	kp_buf_free(&sb.bytes);
	log_free(&log);
	kp_arena_free(&arena);
	kp_image_free(a);
	kp_image_free(b);
	kp_image_free(c);
	kp_image_free(b2);
	return len;
}

static void test_random_replay(void **state)
{
	size_t records = 0, topics = 0, partitions = 0;

	for (uint64_t seed = 1; seed <= 400; seed++)
		records += run_seed(seed, &topics, &partitions);
	print_message("400 seeds: %zu records applied, %zu refused; %zu topics, %zu partitions left\n",
		      records, n_refused, topics, partitions);
	/* the generator did exercise every kind of record, and left images with content */
	assert_true(records > 40000);
	assert_true(topics > 1000);
	assert_true(partitions > 1500);
	assert_true(n_refused > 1000);
	for (int16_t t = 0; t < KP_METADATA_RECORD_TYPE_COUNT; t++) {
		bool generated = t == KP_METADATA_REGISTER_BROKER_RECORD ||
			t == KP_METADATA_UNREGISTER_BROKER_RECORD || t == KP_METADATA_TOPIC_RECORD ||
			t == KP_METADATA_PARTITION_RECORD || t == KP_METADATA_CONFIG_RECORD ||
			t == KP_METADATA_PARTITION_CHANGE_RECORD || t == KP_METADATA_FENCE_BROKER_RECORD ||
			t == KP_METADATA_UNFENCE_BROKER_RECORD || t == KP_METADATA_REMOVE_TOPIC_RECORD ||
			t == KP_METADATA_FEATURE_LEVEL_RECORD || t == KP_METADATA_PRODUCER_IDS_RECORD ||
			t == KP_METADATA_BROKER_REGISTRATION_CHANGE_RECORD ||
			t == KP_METADATA_NO_OP_RECORD || t == KP_METADATA_REGISTER_CONTROLLER_RECORD ||
			t == KP_METADATA_ACCESS_CONTROL_ENTRY_RECORD;

		if (generated && n_applied[t] < 50)
			fail_msg("only %zu %s applied", n_applied[t], kp_metadata_record_name(t));
	}
}

/* A snapshot's record order, and what a known image dumps to. */
static void test_snapshot_order_and_dump(void **state)
{
	kp_image *img = kp_image_new();
	struct kp_feature_level_record f;
	struct sink s = { .img = NULL };
	int32_t rs[] = { 2, 1 };
	kp_uuid id = uuid_of(9);
	char *d, idtext[23], *want;
	kp_uuid inc = uuid_of(2);
	char inctext[23];
	kp_error err;

	kp_feature_level_record_init(&f);
	f.name = "a.feature";
	f.feature_level = 3;
	apply_ok(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f, 0);
	f.name = KP_METADATA_VERSION_FEATURE;
	f.feature_level = 20;
	apply_ok(img, KP_METADATA_FEATURE_LEVEL_RECORD, &f, 1);
	register_broker(img, 2, 7, false, 2);
	add_topic(img, "t", id, 3);
	add_partition(img, id, 0, rs, 2, 4);
	set_config(img, KP_CONFIG_RESOURCE_TOPIC, "t", "k", "v", 5);
	kp_image_uuid_format(&id, idtext);
	kp_image_uuid_format(&inc, inctext);
	d = dump(img);
	assert_non_null(want = malloc(2048));
	snprintf(want, 2048,
		 "image last_offset=5 last_epoch=1\n"
		 "feature \"a.feature\" level=3\n"
		 "feature \"metadata.version\" level=20\n"
		 "broker 2 epoch=7 incarnation_id=%s fenced=0 in_controlled_shutdown=0 rack=none\n"
		 "  endpoint \"PLAINTEXT\" host=\"h1\" port=9092 security_protocol=0\n"
		 "  endpoint \"SSL\" host=\"h1\" port=9093 security_protocol=1\n"
		 "  supported_feature \"metadata.version\" 1-20\n"
		 "topic \"t\" id=%s partitions=1\n"
		 "  partition 0 leader=2 leader_epoch=0 partition_epoch=0 leader_recovery_state=0"
		 " replicas=[2,1] isr=[2,1] removing_replicas=[] adding_replicas=[] elr=[]"
		 " last_known_elr=[]\n"
		 "config_resource 2 \"t\"\n"
		 "  \"k\"=\"v\"\n"
		 "next_producer_id -1\n", inctext, idtext);
	assert_string_equal(d, want);
	/* snapshot order: metadata.version first, broker, topic, partition, config */
	s.img = kp_image_new();
	assert_int_equal(kp_image_write_records(img, to_image, &s, &err), 0);
	assert_int_equal(s.count, 6);
	assert_int_equal(s.types[0], KP_METADATA_FEATURE_LEVEL_RECORD);
	assert_int_equal(s.types[1], KP_METADATA_FEATURE_LEVEL_RECORD);
	assert_int_equal(s.types[2], KP_METADATA_REGISTER_BROKER_RECORD);
	assert_int_equal(s.types[3], KP_METADATA_TOPIC_RECORD);
	assert_int_equal(s.types[4], KP_METADATA_PARTITION_RECORD);
	assert_int_equal(s.types[5], KP_METADATA_CONFIG_RECORD);
	assert_memory_equal(s.bytes.data + 3, "\x11metadata.version", 17); /* first, before "a.feature" */
	free(want);
	free(d);
	kp_buf_free(&s.bytes);
	kp_image_free(s.img);
	kp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_every_type),
		cmocka_unit_test(test_framing_known_bytes),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_partition_change),
		cmocka_unit_test(test_partitions_and_topics),
		cmocka_unit_test(test_remove_topic),
		cmocka_unit_test(test_brokers),
		cmocka_unit_test(test_configs),
		cmocka_unit_test(test_features_producer_ids_offsets),
		cmocka_unit_test(test_uuid_text),
		cmocka_unit_test(test_snapshot_order_and_dump),
		cmocka_unit_test(test_random_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
