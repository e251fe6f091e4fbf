/*
 * buf.c - growable buffers and bounds-checked readers; see buf.h.
 */
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

void kp_buf_init(kp_buf *b)
{
	memset(b, 0, sizeof *b);
}

void kp_buf_free(kp_buf *b)
{
	free(b->data);
	kp_buf_init(b);
}

void kp_buf_reset(kp_buf *b)
{
	b->len = 0;
	b->oom = false;
}

bool kp_buf_reserve(kp_buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (b->oom)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (n > SIZE_MAX / 2 - b->len)
		goto fail;
	want = b->len + n;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return true;
fail:
	b->oom = true;
	return false;
}

uint8_t *kp_buf_steal(kp_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	*len = b->len;
	if (b->oom || !p) {
		kp_buf_free(b);
		*len = 0;
		return NULL;
	}
	kp_buf_init(b);
	return p;
}

void kp_buf_append(kp_buf *b, const void *p, size_t n)
{
	if (!n || !kp_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void kp_buf_put_i8(kp_buf *b, int8_t v)
{
	uint8_t c = (uint8_t)v;
	kp_buf_append(b, &c, 1);
}

void kp_buf_put_u16(kp_buf *b, uint16_t v)
{
	uint8_t t[2];
	kp_store_u16(t, v);
	kp_buf_append(b, t, 2);
}

void kp_buf_put_i16(kp_buf *b, int16_t v) { kp_buf_put_u16(b, (uint16_t)v); }

void kp_buf_put_u32(kp_buf *b, uint32_t v)
{
	uint8_t t[4];
	kp_store_u32(t, v);
	kp_buf_append(b, t, 4);
}

void kp_buf_put_i32(kp_buf *b, int32_t v) { kp_buf_put_u32(b, (uint32_t)v); }

void kp_buf_put_i64(kp_buf *b, int64_t v)
{
	uint8_t t[8];
	kp_store_u64(t, (uint64_t)v);
	kp_buf_append(b, t, 8);
}

void kp_buf_put_f64(kp_buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	kp_buf_put_i64(b, (int64_t)u);
}

static void put_uvarint64(kp_buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	kp_buf_append(b, t, n);
}

void kp_buf_put_uvarint(kp_buf *b, uint32_t v) { put_uvarint64(b, v); }

void kp_buf_put_varint(kp_buf *b, int32_t v)
{
	put_uvarint64(b, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void kp_buf_put_varlong(kp_buf *b, int64_t v)
{
	put_uvarint64(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void kp_buf_set_i32(kp_buf *b, size_t pos, int32_t v)
{
	if (!b->oom && pos + 4 <= b->len)
		kp_store_u32(b->data + pos, (uint32_t)v);
}

static size_t uvarint64_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t kp_uvarint_size(uint32_t v) { return uvarint64_size(v); }

size_t kp_varint_size(int32_t v)
{
	return uvarint64_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

size_t kp_varlong_size(int64_t v)
{
	return uvarint64_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void kp_reader_init(kp_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->failed = false;
}

bool kp_reader_fail(kp_reader *r)
{
	r->failed = true;
	return false;
}

const uint8_t *kp_read_bytes(kp_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || n > r->len - r->pos) {
		r->failed = true;
		return NULL;
	}
	p = r->data + r->pos;
	r->pos += n;
	return p;
}

bool kp_read_skip(kp_reader *r, size_t n)
{
	return kp_read_bytes(r, n) != NULL || n == 0;
}

int8_t kp_read_i8(kp_reader *r)
{
	const uint8_t *p = kp_read_bytes(r, 1);
	return p ? (int8_t)p[0] : 0;
}

uint16_t kp_read_u16(kp_reader *r)
{
	const uint8_t *p = kp_read_bytes(r, 2);
	return p ? kp_load_u16(p) : 0;
}

int16_t kp_read_i16(kp_reader *r) { return (int16_t)kp_read_u16(r); }

uint32_t kp_read_u32(kp_reader *r)
{
	const uint8_t *p = kp_read_bytes(r, 4);
	return p ? kp_load_u32(p) : 0;
}

int32_t kp_read_i32(kp_reader *r) { return (int32_t)kp_read_u32(r); }

int64_t kp_read_i64(kp_reader *r)
{
	const uint8_t *p = kp_read_bytes(r, 8);
	return p ? (int64_t)kp_load_u64(p) : 0;
}

double kp_read_f64(kp_reader *r)
{
	uint64_t u = (uint64_t)kp_read_i64(r);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* At most `maxbytes` bytes; a longer or truncated varint fails the reader. */
static uint64_t read_uvarint64(kp_reader *r, unsigned maxbytes)
{
	uint64_t v = 0;
	unsigned shift = 0, i;
	const uint8_t *p;

	for (i = 0; i < maxbytes; i++) {
		p = kp_read_bytes(r, 1);
		if (!p)
			return 0;
		v |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p & 0x80))
			return v;
		shift += 7;
	}
	r->failed = true;
	return 0;
}

uint32_t kp_read_uvarint(kp_reader *r)
{
	uint64_t v = read_uvarint64(r, 5);
	if (v > UINT32_MAX) {
		r->failed = true;
		return 0;
	}
	return (uint32_t)v;
}

int32_t kp_read_varint(kp_reader *r)
{
	uint32_t u = kp_read_uvarint(r);
	return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

int64_t kp_read_varlong(kp_reader *r)
{
	uint64_t u = read_uvarint64(r, 10);
	return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}
