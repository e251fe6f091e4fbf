/*
 * buf.h - growable byte buffers for writing, bounds-checked readers for
 * reading. Both speak the Kafka protocol's primitive encodings: big-endian
 * fixed-width integers, zigzag varint/varlong (signed) and unsigned varint
 * (protocol guide, "Protocol Primitive Types").
 *
 * Errors are sticky so that a long run of writes or reads needs one check
 * at its end: a kp_buf whose allocation failed sets `oom` and ignores later
 * writes; a kp_reader that runs out of bytes or meets a malformed varint
 * sets `failed`, returns zeroes from then on and never reads past `len`.
 */
#ifndef KP_UTIL_BUF_H
#define KP_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kp_buf {
	uint8_t *data; /* owned; NULL until the first write */
	size_t len;    /* bytes written */
	size_t cap;    /* bytes allocated */
	bool oom;      /* an allocation failed; contents are incomplete */
} kp_buf;

/* kp_buf_init - make `b` an empty buffer (no allocation). */
void kp_buf_init(kp_buf *b);
/* kp_buf_free - release `b`'s memory and make it empty again. */
void kp_buf_free(kp_buf *b);
/* kp_buf_reset - set len to 0, keeping the allocation. */
void kp_buf_reset(kp_buf *b);
/* kp_buf_reserve - make room for `n` more bytes; false (and oom) on failure. */
bool kp_buf_reserve(kp_buf *b, size_t n);
/*
 * kp_buf_steal - hand the bytes to the caller (free() them) and leave `b`
 * empty; *len gets the length. Returns NULL for an empty or failed buffer.
 */
uint8_t *kp_buf_steal(kp_buf *b, size_t *len);

/*
 * Writers: append `n` bytes at `p` (kp_buf_append) or one value in the
 * protocol's encoding (big-endian fixed width; f64 as IEEE 754 bits). On
 * allocation failure they set b->oom and write nothing more; check oom
 * once after a run of writes.
 */
void kp_buf_append(kp_buf *b, const void *p, size_t n);
void kp_buf_put_i8(kp_buf *b, int8_t v);
void kp_buf_put_i16(kp_buf *b, int16_t v);
void kp_buf_put_u16(kp_buf *b, uint16_t v);
void kp_buf_put_i32(kp_buf *b, int32_t v);
void kp_buf_put_u32(kp_buf *b, uint32_t v);
void kp_buf_put_i64(kp_buf *b, int64_t v);
void kp_buf_put_f64(kp_buf *b, double v);
/* unsigned LEB128 varint, as for compact lengths and tagged-field headers */
void kp_buf_put_uvarint(kp_buf *b, uint32_t v);
/* zigzag-encoded signed varint (32-bit) and varlong (64-bit), as in records */
void kp_buf_put_varint(kp_buf *b, int32_t v);
void kp_buf_put_varlong(kp_buf *b, int64_t v);

/* kp_buf_set_i32 - overwrite 4 bytes at `pos` (< len) big-endian, e.g. a size prefix. */
void kp_buf_set_i32(kp_buf *b, size_t pos, int32_t v);

/* size in bytes that kp_buf_put_uvarint / put_varint / put_varlong would write */
size_t kp_uvarint_size(uint32_t v);
size_t kp_varint_size(int32_t v);
size_t kp_varlong_size(int64_t v);

/* Big-endian loads and stores on raw memory (no bounds checks). */
static inline uint16_t kp_load_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t kp_load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t kp_load_u64(const uint8_t *p)
{
	return (uint64_t)kp_load_u32(p) << 32 | kp_load_u32(p + 4);
}
static inline void kp_store_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void kp_store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void kp_store_u64(uint8_t *p, uint64_t v)
{
	kp_store_u32(p, (uint32_t)(v >> 32)); kp_store_u32(p + 4, (uint32_t)v);
}

typedef struct kp_reader {
	const uint8_t *data; /* borrowed; must outlive the reader */
	size_t len;
	size_t pos;
	bool failed;         /* ran out of bytes or met a malformed value */
} kp_reader;

/* kp_reader_init - read `len` bytes at `data` (borrowed). */
void kp_reader_init(kp_reader *r, const void *data, size_t len);
static inline size_t kp_reader_left(const kp_reader *r) { return r->failed ? 0 : r->len - r->pos; }
/* kp_reader_fail - mark `r` failed; returns false for convenience. */
bool kp_reader_fail(kp_reader *r);

/*
 * Readers: the next value in the protocol's encoding (big-endian fixed
 * width; uvarint = unsigned LEB128 of at most 5 bytes; varint/varlong =
 * zigzag LEB128 of at most 5/10 bytes). On a short read or an over-long
 * varint they return 0 and set r->failed, which stays set.
 */
int8_t kp_read_i8(kp_reader *r);
int16_t kp_read_i16(kp_reader *r);
uint16_t kp_read_u16(kp_reader *r);
int32_t kp_read_i32(kp_reader *r);
uint32_t kp_read_u32(kp_reader *r);
int64_t kp_read_i64(kp_reader *r);
double kp_read_f64(kp_reader *r);
uint32_t kp_read_uvarint(kp_reader *r);
int32_t kp_read_varint(kp_reader *r);
int64_t kp_read_varlong(kp_reader *r);
/*
 * kp_read_bytes - borrow the next `n` bytes (pointer into the reader's
 * data) and advance; NULL and failed if fewer than `n` are left.
 */
const uint8_t *kp_read_bytes(kp_reader *r, size_t n);
/* kp_read_skip - advance `n` bytes; false and failed if fewer are left. */
bool kp_read_skip(kp_reader *r, size_t n);

#endif
