/*
 * record_format.h - kcat's output format strings (kcat -f) and its
 * backslash escapes (kcat -f, -D, -K), for printing records as text.
 *
 * A format is literal text with conversions:
 *
 *   %t  topic                  %p  partition            %o  offset
 *   %k  key (nothing if null)  %K  key length (-1: null)
 *   %s  value (nothing if null)  %S  value length (-1: null)
 *   %R  value length as a 4-byte big-endian integer (-1: null)
 *   %T  timestamp (milliseconds since the epoch)
 *   %h  headers as NAME=VALUE,NAME=VALUE (a null value prints NULL)
 *   %%  a percent sign
 *
 * and, in the literal text, kcat's escapes (kp_unescape).
 */
#ifndef KP_CLIENT_RECORD_FORMAT_H
#define KP_CLIENT_RECORD_FORMAT_H

#include <stdint.h>

#include "record/records.h"
#include "util/buf.h"
#include "util/error.h"

/*
 * kp_unescape - append `s` (NUL-terminated) to `out` with kcat's escapes
 * replaced: \n \r \t, \xHH (one or two hex digits), \0 followed by up to
 * three octal digits, \N with up to three decimal digits (at most 255),
 * and \c for any other character c (so \\ is a backslash); a backslash at
 * the end stays. "\0" and "\x00" give a NUL byte. Out of memory shows as
 * out->oom.
 */
void kp_unescape(const char *s, kp_buf *out);

typedef struct kp_record_format kp_record_format;

/*
 * kp_record_format_new - compile format string `fmt` (copied). Returns the
 * format (free with kp_record_format_free), or NULL with KP_EINVAL for an
 * unknown conversion or a format ending in "%", or KP_ENOMEM.
 */
kp_record_format *kp_record_format_new(const char *fmt, kp_error *err);

/* kp_record_format_free - free `f` (NULL is fine). */
void kp_record_format_free(kp_record_format *f);

/*
 * kp_record_format_render - append record `rec` of `topic` partition
 * `partition` as `f` says to `out`. Out of memory shows as out->oom.
 */
void kp_record_format_render(const kp_record_format *f, const char *topic, int32_t partition,
			     const struct kp_record *rec, kp_buf *out);

#endif
