/*
 * kproduce_input.h - kproduce's standard input, read in large blocks and
 * cut into records at a delimiter ("\n" unless -D or -0 says otherwise).
 * While input pauses for linger.ms, what was read so far is flushed to
 * the broker, so that interactive input is delivered as it is typed.
 */
#ifndef KP_CMD_KPRODUCE_INPUT_H
#define KP_CMD_KPRODUCE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/producer.h"

struct kp_input {
	int fd;
	const uint8_t *delim; /* borrowed, dlen > 0 bytes */
	size_t dlen;
	uint8_t *buf;
	size_t cap, start, end;
	size_t scanned;       /* buf[start..scanned) holds no delimiter */
	bool eof;
};

/* kp_input_init - read `fd`, records ending in the `dlen` bytes at `delim` (borrowed). */
void kp_input_init(struct kp_input *in, int fd, const uint8_t *delim, size_t dlen);

/* kp_input_free - release the buffer. */
void kp_input_free(struct kp_input *in);

/*
 * kp_input_next - the next record into *rec and *len (without its
 * delimiter; it points into the buffer until the next call): 1, 0 at the
 * end (a last record without a delimiter still counts; empty input has
 * none), -1 on a read error (errno), -2 when the idle flush of `p` failed
 * (`err`). Exits 1 when a record does not fit in memory.
 */
int kp_input_next(struct kp_input *in, kp_producer *p, uint8_t **rec, size_t *len, kp_error *err);

#endif
