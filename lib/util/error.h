/*
 * error.h - how the library reports failure.
 *
 * The library never prints and never exits. A function that can fail takes
 * a `kp_error *` (which may be NULL when the caller does not want the text),
 * returns 0 on success and -1 on failure, and on failure fills the error
 * with a code and a one-line lowercase message without a full stop, ready
 * for a program in cmd/ to print after its own name.
 *
 * Codes are the KP_E* values below; where a failure is a Kafka protocol
 * error the code is KP_EKAFKA and `kafka_code` holds the Kafka error code
 * (see protocol/errors.h).
 */
#ifndef KP_UTIL_ERROR_H
#define KP_UTIL_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum kp_errcode {
	KP_EOK = 0,
	KP_EINVAL,    /* bad argument or configuration */
	KP_ENOMEM,    /* allocation failed */
	KP_EIO,       /* system call failed (errno text in message) */
	KP_EPROTO,    /* malformed or unexpected protocol data */
	KP_ECORRUPT,  /* stored data failed a CRC or structure check */
	KP_ENOTFOUND, /* no such topic, partition, offset, file */
	KP_ETIMEDOUT, /* a deadline passed */
	KP_ECONN,     /* could not connect, or connection lost */
	KP_EKAFKA,    /* a Kafka error code, in kafka_code */
	KP_ERANGE,    /* value or size out of range */
};

typedef struct kp_error {
	int code;         /* enum kp_errcode */
	int kafka_code;   /* Kafka error code when code == KP_EKAFKA, else 0 */
	char msg[256];    /* lowercase, no trailing full stop */
} kp_error;

/*
 * kp_error_set - fill `err` (may be NULL) with `code` and a printf-style
 * message. Returns -1 so callers can write `return kp_error_set(...)`.
 */
int kp_error_set(kp_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * kp_error_errno - like kp_error_set with KP_EIO, appending ": " and
 * strerror(errno) (errno read on entry). Returns -1.
 */
int kp_error_errno(kp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * kp_error_kafka - fill `err` with KP_EKAFKA, the Kafka error code
 * `kafka_code` and the printf-style message followed by ": " and Kafka's
 * name for the code ("NOT_LEADER_OR_FOLLOWER"; "kafka error N" for a code
 * newer than protocol/errors.h knows). Returns -1.
 */
int kp_error_kafka(kp_error *err, int kafka_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* kp_error_clear - reset `err` (may be NULL) to KP_EOK with an empty message. */
void kp_error_clear(kp_error *err);

#endif
