/*
 * record_format.c - kcat's format strings and escapes; see record_format.h.
 *
 * A compiled format is a list of pieces: literal bytes (escapes already
 * replaced) or one conversion each.
 */
#include "client/record_format.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct piece {
	char conv;      /* 0: literal bytes text[0..len) */
	size_t off;     /* literal: offset into the format's text buffer */
	size_t len;
};

struct kp_record_format {
	struct piece *pieces;
	size_t n;
	kp_buf text;    /* every literal piece, unescaped */
};

/* The value of up to `max` digits of `base` at *s (moving past them). */
static unsigned number(const char **s, int base, int max)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < max && **s; i++) {
		int c = (unsigned char)**s, d;
		if (base == 16 && isxdigit(c))
			d = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		else if (base != 16 && c >= '0' && c < '0' + base)
			d = c - '0';
		else
			break;
		if (v * (unsigned)base + (unsigned)d > 255)
			break;
		v = v * (unsigned)base + (unsigned)d;
		(*s)++;
	}
	return v;
}

/* One escape after the backslash at *s (moving past it) into `out`. */
static void escape(const char **s, kp_buf *out)
{
	const char *p = *s;
	char c = *p++;
	uint8_t b;

	switch (c) {
	case 'n': b = '\n'; break;
	case 'r': b = '\r'; break;
	case 't': b = '\t'; break;
	case 'x':
		if (!isxdigit((unsigned char)*p)) {
			b = 'x';
			break;
		}
		b = (uint8_t)number(&p, 16, 2);
		break;
	case '0':
		b = (uint8_t)number(&p, 8, 3);
		break;
	default:
		if (c >= '1' && c <= '9') {
			p--;
			b = (uint8_t)number(&p, 10, 3);
		} else {
			b = (uint8_t)c;
		}
		break;
	}
	kp_buf_append(out, &b, 1);
	*s = p;
}

/* Unescape the `n` bytes at `s` into `out`. */
static void unescape_n(const char *s, size_t n, kp_buf *out)
{
	const char *end = s + n;

	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		if (!bs || bs + 1 == end) {
			kp_buf_append(out, s, (size_t)(end - s));
			return;
		}
		kp_buf_append(out, s, (size_t)(bs - s));
		s = bs + 1;
		escape(&s, out);
	}
}

void kp_unescape(const char *s, kp_buf *out)
{
	unescape_n(s, strlen(s), out);
}

static int add_piece(kp_record_format *f, char conv, size_t off, size_t len, kp_error *err)
{
	struct piece *p = realloc(f->pieces, (f->n + 1) * sizeof *p);

	if (!p)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	f->pieces = p;
	f->pieces[f->n++] = (struct piece){ conv, off, len };
	return 0;
}

/* Add the literal `n` bytes at `s` (escapes replaced) as one piece. */
static int add_literal(kp_record_format *f, const char *s, size_t n, kp_error *err)
{
	size_t off = f->text.len;

	if (n == 0)
		return 0;
	unescape_n(s, n, &f->text);
	if (f->text.oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	return add_piece(f, 0, off, f->text.len - off, err);
}

kp_record_format *kp_record_format_new(const char *fmt, kp_error *err)
{
	kp_record_format *f = calloc(1, sizeof *f);
	const char *s = fmt, *pct;

	if (!f) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	kp_buf_init(&f->text);
	while ((pct = strchr(s, '%'))) {
		if (add_literal(f, s, (size_t)(pct - s), err) < 0)
			goto fail;
		if (!pct[1]) {
			kp_error_set(err, KP_EINVAL, "the format ends in '%%'");
			goto fail;
		}
		if (pct[1] == '%') {
			if (add_literal(f, "%", 1, err) < 0)
				goto fail;
		} else if (!strchr("tpokKsSRTh", pct[1])) {
			kp_error_set(err, KP_EINVAL, "unknown conversion '%%%c' in the format", pct[1]);
			goto fail;
		} else if (add_piece(f, pct[1], 0, 0, err) < 0) {
			goto fail;
		}
		s = pct + 2;
	}
	if (add_literal(f, s, strlen(s), err) < 0)
		goto fail;
	return f;
fail:
	kp_record_format_free(f);
	return NULL;
}

void kp_record_format_free(kp_record_format *f)
{
	if (!f)
		return;
	free(f->pieces);
	kp_buf_free(&f->text);
	free(f);
}

static void put_int(kp_buf *out, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRId64, v);

	kp_buf_append(out, num, (size_t)n);
}

static void put_headers(kp_buf *out, const struct kp_record *rec)
{
	for (int32_t i = 0; i < rec->header_count; i++) {
		const struct kp_record_header *h = &rec->headers[i];
		if (i)
			kp_buf_append(out, ",", 1);
		kp_buf_append(out, h->key, (size_t)h->key_len);
		kp_buf_append(out, "=", 1);
		if (h->value_len < 0)
			kp_buf_append(out, "NULL", 4);
		else
			kp_buf_append(out, h->value, (size_t)h->value_len);
	}
}

/* One conversion of `rec` into `out`. */
static void convert(char conv, const char *topic, int32_t partition, const struct kp_record *rec,
		    kp_buf *out)
{
	switch (conv) {
	case 't': kp_buf_append(out, topic, strlen(topic)); break;
	case 'p': put_int(out, partition); break;
	case 'o': put_int(out, rec->offset); break;
	case 'T': put_int(out, rec->timestamp); break;
	case 'k':
		if (rec->key && rec->key_len > 0)
			kp_buf_append(out, rec->key, (size_t)rec->key_len);
		break;
	case 's':
		if (rec->value && rec->value_len > 0)
			kp_buf_append(out, rec->value, (size_t)rec->value_len);
		break;
	case 'K': put_int(out, rec->key_len < 0 ? -1 : rec->key_len); break;
	case 'S': put_int(out, rec->value_len < 0 ? -1 : rec->value_len); break;
	case 'R': kp_buf_put_i32(out, rec->value_len < 0 ? -1 : rec->value_len); break;
	case 'h': put_headers(out, rec); break;
	default: break;
	}
}

void kp_record_format_render(const kp_record_format *f, const char *topic, int32_t partition,
			     const struct kp_record *rec, kp_buf *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct piece *p = &f->pieces[i];
		if (p->conv)
			convert(p->conv, topic, partition, rec, out);
		else
			kp_buf_append(out, f->text.data + p->off, p->len);
	}
}
