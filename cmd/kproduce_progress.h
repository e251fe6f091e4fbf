/*
 * kproduce_progress.h - the progress line kproduce keeps on standard
 * error while it is a terminal (and standard input is not: the line would
 * get in the way of typing): records and bytes read so far and their
 * rates, redrawn a few times a second and left in place at the end.
 */
#ifndef KP_CMD_KPRODUCE_PROGRESS_H
#define KP_CMD_KPRODUCE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kp_progress {
	bool on;            /* standard error is a terminal, standard input is not */
	int64_t start_ms, next_ms;
	uint64_t records, bytes;
	bool drawn;
};

/* kp_progress_init - start counting; draws only when standard error is a terminal. */
void kp_progress_init(struct kp_progress *pr);

/* kp_progress_add - one more record of `bytes` bytes; redraws at most every 250 ms. */
void kp_progress_add(struct kp_progress *pr, size_t bytes);

/* kp_progress_done - draw the final figures and end the line (if anything was drawn). */
void kp_progress_done(struct kp_progress *pr);

#endif
