/*
 * error.c - filling kp_error values; see error.h.
 */
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol/errors.h"

static void error_vfill(kp_error *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	err->kafka_code = 0;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int kp_error_set(kp_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	error_vfill(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int kp_error_errno(kp_error *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	error_vfill(err, KP_EIO, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int kp_error_kafka(kp_error *err, int kafka_code, const char *fmt, ...)
{
	const char *name;
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	error_vfill(err, KP_EKAFKA, fmt, ap);
	va_end(ap);
	err->kafka_code = kafka_code;
	n = strlen(err->msg);
	name = kp_kafka_error_name(kafka_code);
	if (strcmp(name, "UNKNOWN_ERROR_CODE") == 0) /* newer than our table: keep the number */
		snprintf(err->msg + n, sizeof err->msg - n, "%skafka error %d", n ? ": " : "",
			 kafka_code);
	else
		snprintf(err->msg + n, sizeof err->msg - n, "%s%s", n ? ": " : "", name);
	return -1;
}

void kp_error_clear(kp_error *err)
{
	if (!err)
		return;
	err->code = KP_EOK;
	err->kafka_code = 0;
	err->msg[0] = '\0';
}
